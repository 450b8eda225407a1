//! Disk quotas of `/data`, `/artifacts` and `/tmp`: a write past one fails in the
//! guest with `OSError` ENOSPC "No space left on device" (`errno.ENOSPC`: 51 in the
//! WASI numbering the guest's libc uses, 28 on Linux), which the script can catch.
#![allow(clippy::unwrap_used)]

mod common;

use automa_runtime::host::Capabilities;
use automa_runtime::{DiskQuotas, RunOutcome, RunStatus};
use common::Recorder;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

/// Run `source` with `/data` at `data` and `/artifacts` at `artifacts`, under `disk`.
async fn run_with(source: &str, data: &Path, artifacts: &Path, disk: DiskQuotas) -> RunOutcome {
    let recorder = Arc::new(Recorder::default());
    let mut request = common::request(source, Capabilities::default(), &recorder);
    request.mounts.data = Some(data.to_path_buf());
    request.mounts.artifacts = Some(artifacts.to_path_buf());
    request.limits.disk = disk;
    request.limits.timeout = Duration::from_secs(60);
    common::runtime().run(request).await
}

fn result(outcome: &RunOutcome) -> &Value {
    assert_eq!(outcome.status, RunStatus::Succeeded, "{:?}", outcome.error);
    outcome.result.as_ref().unwrap()
}

/// Writes `n` KiB to `path` in 64 KiB writes; the KiB written before an OSError, and
/// its errno as 28 when it is ENOSPC (the Linux number; `None` when all fit).
const WRITER: &str = r#"
import errno
import os

def fill(path, kib, mode="wb"):
    done = 0
    try:
        with open(path, mode) as f:
            for _ in range(kib // 64):
                f.write(b"x" * 65536)
                f.flush()
                done += 64
        return done, None
    except OSError as e:
        assert e.strerror == "No space left on device", e
        return done, 28 if e.errno == errno.ENOSPC else e.errno
"#;

#[tokio::test]
async fn a_write_past_the_data_quota_fails_with_enospc_and_the_script_goes_on() {
    let data = tempfile::tempdir().unwrap();
    let artifacts = tempfile::tempdir().unwrap();
    // Already there and under the cap: still readable.
    std::fs::write(data.path().join("old.txt"), "kept").unwrap();
    let source = format!(
        "{WRITER}
def main():
    done, err = fill('/data/big.bin', 4096)
    old = open('/data/old.txt').read()
    try:
        open('/data/more.bin', 'wb').write(b'y' * 200_000)
        more = None
    except OSError as e:
        more = (28 if e.errno == errno.ENOSPC else e.errno, e.strerror)
    return {{'done': done, 'errno': err, 'is_enospc': err == errno.ENOSPC,
             'old': old, 'more': more}}
"
    );
    let disk = DiskQuotas {
        data: Some(MIB),
        ..DiskQuotas::default()
    };
    let outcome = run_with(&source, data.path(), artifacts.path(), disk).await;
    let r = result(&outcome);
    assert_eq!(r["errno"], 28, "{r}");
    assert_eq!(r["old"], "kept");
    assert_eq!(r["more"][0], 28, "{r}");
    assert_eq!(r["more"][1], "No space left on device");
    // 1 MiB less what the two files' entries and old.txt hold.
    let done = r["done"].as_u64().unwrap();
    assert!((832..1024).contains(&done), "{done} KiB written");
    let on_disk = std::fs::metadata(data.path().join("big.bin"))
        .unwrap()
        .len();
    assert!(on_disk <= MIB, "{on_disk}");
}

#[tokio::test]
async fn the_quota_counts_every_file_and_truncation_or_removal_frees_space() {
    let data = tempfile::tempdir().unwrap();
    let artifacts = tempfile::tempdir().unwrap();
    let source = format!(
        "{WRITER}
def main():
    steps = {{}}
    steps['a'] = fill('/data/a.bin', 384)
    steps['b'] = fill('/data/b.bin', 384)
    steps['c'] = fill('/data/c.bin', 384)
    # Truncating a frees its bytes: c now fits.
    open('/data/a.bin', 'wb').close()
    steps['c_after_truncate'] = fill('/data/c.bin', 384)
    # Removing b frees its bytes too; shrinking with truncate() as well.
    os.remove('/data/b.bin')
    steps['d'] = fill('/data/d.bin', 320)
    with open('/data/d.bin', 'r+b') as f:
        f.truncate(0)
    steps['e'] = fill('/data/e.bin', 320)
    # Appending counts as growth.
    steps['append'] = fill('/data/e.bin', 320, 'ab')
    return steps
"
    );
    let disk = DiskQuotas {
        data: Some(MIB),
        ..DiskQuotas::default()
    };
    let outcome = run_with(&source, data.path(), artifacts.path(), disk).await;
    let r = result(&outcome);
    assert_eq!(r["a"], json!([384, null]), "{r}");
    assert_eq!(r["b"], json!([384, null]), "{r}");
    assert_eq!(r["c"][1], 28, "{r}");
    assert_eq!(r["c_after_truncate"], json!([384, null]), "{r}");
    assert_eq!(r["d"], json!([320, null]), "{r}");
    assert_eq!(r["e"], json!([320, null]), "{r}");
    assert_eq!(r["append"][1], 28, "{r}");
}

#[tokio::test]
async fn tmp_and_artifacts_have_their_own_quotas_and_tmp_starts_empty_each_run() {
    let data = tempfile::tempdir().unwrap();
    let artifacts = tempfile::tempdir().unwrap();
    let source = format!(
        "{WRITER}
def main():
    return {{'tmp': fill('/tmp/t.bin', 1024), 'artifacts': fill('/artifacts/a.bin', 1024),
             'data': fill('/data/d.bin', 1024)}}
"
    );
    let disk = DiskQuotas {
        data: Some(4 * MIB),
        artifacts: Some(512 * KIB),
        tmp: Some(256 * KIB),
    };
    for _ in 0..2 {
        let outcome = run_with(&source, data.path(), artifacts.path(), disk).await;
        let r = result(&outcome);
        assert_eq!(r["tmp"][1], 28, "{r}");
        assert!(r["tmp"][0].as_u64().unwrap() >= 128, "{r}");
        assert_eq!(r["data"], json!([1024, null]), "{r}");
        assert_eq!(r["artifacts"][1], 28, "{r}");
        let a = r["artifacts"][0].as_u64().unwrap();
        assert!((384..512).contains(&a), "{r}");
    }
}

#[tokio::test]
async fn concurrent_runs_of_a_script_share_its_data_quota() {
    let data = tempfile::tempdir().unwrap();
    let source = format!(
        "{WRITER}
import time, uuid
def main():
    done, err = fill('/data/' + uuid.uuid4().hex, 1024)
    time.sleep(0.5)
    return [done, err]
"
    );
    let disk = DiskQuotas {
        data: Some(MIB + 256 * KIB),
        ..DiskQuotas::default()
    };
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let (x, y) = tokio::join!(
        run_with(&source, data.path(), a.path(), disk),
        run_with(&source, data.path(), b.path(), disk)
    );
    let (x, y) = (result(&x).clone(), result(&y).clone());
    let total = x[0].as_u64().unwrap() + y[0].as_u64().unwrap();
    assert!(total <= 1280, "{x} {y}");
    assert!(x[1] == 28 || y[1] == 28, "{x} {y}");
}

#[tokio::test]
async fn a_hostile_loop_filling_the_disk_stops_at_the_quota() {
    let data = tempfile::tempdir().unwrap();
    let artifacts = tempfile::tempdir().unwrap();
    // Files, directories and appends in a loop until told no; a flood of empty files
    // runs out as well (each entry counts).
    let source = r#"
import errno, os
def main():
    refusals = 0
    n = 0
    while refusals < 200:
        try:
            n += 1
            if n % 3 == 0:
                os.mkdir(f"/tmp/d{n}")
            elif n % 3 == 1:
                open(f"/tmp/f{n}", "wb").close()
            else:
                with open("/tmp/big", "ab") as f:
                    f.write(b"z" * 100_000)
        except OSError as e:
            assert e.errno == errno.ENOSPC, e
            refusals += 1
    return n
"#;
    let disk = DiskQuotas {
        tmp: Some(8 * MIB),
        ..DiskQuotas::default()
    };
    let started = Instant::now();
    let recorder = Arc::new(Recorder::default());
    let mut request = common::request(source, Capabilities::default(), &recorder);
    request.mounts.data = Some(data.path().to_path_buf());
    request.mounts.artifacts = Some(artifacts.path().to_path_buf());
    let scratch = tempfile::tempdir().unwrap();
    request.mounts.scratch = Some(scratch.path().to_path_buf());
    request.limits.disk = disk;
    let outcome = common::runtime().run(request).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{:?}", outcome.error);
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(60),
        "{took:?} for {} steps",
        outcome.result.unwrap()
    );
    let mut total = 0;
    for entry in walk(scratch.path()) {
        total +=
            4096 + std::fs::symlink_metadata(&entry).unwrap().len() * u64::from(entry.is_file());
    }
    assert!(total <= 8 * MIB, "{total} bytes counted on disk");
    assert!(
        total > 7 * MIB,
        "{total}: it was allowed to fill most of it"
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}

#[tokio::test]
async fn without_a_quota_writes_are_not_limited() {
    let data = tempfile::tempdir().unwrap();
    let artifacts = tempfile::tempdir().unwrap();
    let source = format!("{WRITER}\ndef main():\n    return fill('/data/x.bin', 2048)\n");
    let outcome = run_with(
        &source,
        data.path(),
        artifacts.path(),
        DiskQuotas::default(),
    )
    .await;
    assert_eq!(result(&outcome), &json!([2048, null]));
}
