//! Real PyPI packages in the sandbox (issue 11): each case in `compat/cases/` does a
//! typical task with pinned pure-Python packages (`compat/requirements.txt`) and must
//! print in the sandbox exactly what the machine's python3 prints with the same
//! packages. The network clients (`compat/net/`) talk to real peers on 127.0.0.1, and
//! so do the protocol clients (`compat/protocols/`: IMAP, POP3, FTP, MySQL, Redis,
//! MQTT), to real servers the test starts (`compat/servers.rs`).
#![allow(clippy::unwrap_used)]

mod common;
#[path = "compat/daemon.rs"]
mod daemon;
#[path = "compat/harness.rs"]
mod harness;
#[path = "compat/packages.rs"]
mod packages;
#[path = "compat/peers.rs"]
mod peers;
#[path = "compat/servers.rs"]
mod servers;

use futures::StreamExt;
use harness::{Setup, Verdict};
use std::path::Path;

/// Cases that are expected to fail in the sandbox: (case, text its failure must
/// contain, why). A listed case that passes, or fails otherwise, fails the test, so
/// the table stays true and only shrinks.
const KNOWN_GAPS: &[(&str, &str, &str)] = &[];

/// The cases of `folder`; `AUTOMA_COMPAT_CASE=part` keeps those whose name contains
/// `part` (to work on one).
fn cases(folder: &str) -> Vec<(String, String)> {
    let only = std::env::var("AUTOMA_COMPAT_CASE").unwrap_or_default();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/compat")
        .join(folder);
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .filter(|p| p.file_stem().unwrap().to_string_lossy().contains(&only))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    cases.sort();
    cases
}

/// Runs every case (two at a time: one per core), prints the pass/fail matrix and
/// fails on any difference not in `KNOWN_GAPS`, or on a listed gap that now passes.
async fn check_all(folder: &str, setup: &Setup) {
    let cases = cases(folder);
    if cases.is_empty() && std::env::var_os("AUTOMA_COMPAT_CASE").is_some() {
        return;
    }
    assert!(!cases.is_empty(), "no cases in {folder}");
    packages::site_dir();
    let mut verdicts: Vec<(String, u128, Verdict)> = futures::stream::iter(cases)
        .map(|(name, case)| async move {
            let started = std::time::Instant::now();
            let verdict = harness::compare(&case, setup).await;
            // Both interpreters' time, to keep the suite's run time in view.
            (name, started.elapsed().as_millis(), verdict)
        })
        .buffer_unordered(2)
        .collect()
        .await;
    verdicts.sort_by(|a, b| a.0.cmp(&b.0));
    let mut problems = Vec::new();
    let passed = verdicts
        .iter()
        .filter(|(_, _, v)| matches!(v, Verdict::Same))
        .count();
    for (name, ms, verdict) in &verdicts {
        let gap = KNOWN_GAPS.iter().find(|(n, _, _)| n == name);
        match (verdict, gap) {
            (Verdict::Same, None) => eprintln!("pass  {folder}/{name} ({ms} ms)"),
            (Verdict::Same, Some(_)) => {
                problems.push(format!("{name} passes now: remove it from KNOWN_GAPS"))
            }
            (Verdict::Differs(why), Some((_, expected, reason))) if why.contains(expected) => {
                eprintln!("gap   {folder}/{name}: {reason}")
            }
            (Verdict::Differs(why), Some((_, expected, _))) => problems.push(format!(
                "{name} is a known gap for \"{expected}\" but failed otherwise: {why}"
            )),
            (Verdict::Differs(why), None) => problems.push(format!("{name}: {why}")),
            (Verdict::Broken(why), _) => problems.push(format!("{name}: {why}")),
        }
    }
    eprintln!("{folder}: {passed} of {} cases pass", verdicts.len());
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pure_packages_match_native_python() {
    check_all("cases", &Setup::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_clients_match_native_python() {
    let peers = peers::Peers::start().await;
    check_all("net", &peers.setup()).await;
    // smtplib_send ran natively and in the sandbox: two deliveries.
    let messages = peers.smtp.wait_for(2).await;
    assert_eq!(messages.len(), 2, "{messages:?}");
    for message in &messages {
        assert!(message.contains("RCPT ops@automa.example"), "{message}");
        assert!(
            message.contains("Subject: compat: nightly report"),
            "{message}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_clients_match_native_python() {
    let servers = tokio::task::spawn_blocking(servers::Servers::start)
        .await
        .unwrap();
    check_all("protocols", &servers.setup()).await;
    if !cases("protocols")
        .iter()
        .any(|(name, _)| name == "ftplib_transfer")
    {
        return;
    }
    // ftplib_transfer stored its upload from each interpreter, whole.
    for who in ["native", "sandbox"] {
        let blob = servers.ftp_file(&format!("uploads/blob-{who}.bin"));
        let expected: Vec<u8> = (0..=255u8)
            .cycle()
            .take(256 * 4099)
            .chain(*b"end")
            .collect();
        assert!(
            blob == Some(expected),
            "the {who} FTP upload is missing or wrong"
        );
    }
}

/// A port without a rule: requests and httpx raise their own connection errors,
/// caused by the sandbox's PermissionError, whose message names host:port.
#[tokio::test]
async fn a_port_without_a_rule_is_refused_naming_it() {
    let peers = peers::Peers::start().await;
    let case = r#"
import requests, httpx
try:
    requests.get(DENIED + "/x", timeout=5)
except requests.ConnectionError as e:
    cause = e
    while cause is not None and not isinstance(cause, PermissionError):
        cause = cause.__cause__ or cause.__context__ or (cause.args[0] if cause.args and isinstance(cause.args[0], BaseException) else None)
    print("requests:", type(e).__name__, type(cause).__name__, "|", cause)
    print("in message:", str(e))
try:
    httpx.get(DENIED + "/x", timeout=5)
except httpx.ConnectError as e:
    print("httpx:", type(e).__name__, "|", e)
"#;
    let stdout = harness::sandbox(case, &peers.setup()).await.unwrap();
    let target = format!("127.0.0.1:{}", peers.denied);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("requests: ConnectionError PermissionError |"),
        "{stdout}"
    );
    assert!(lines[0].contains(&target), "{stdout}");
    assert!(lines[1].contains(&target), "{stdout}");
    assert!(lines[2].starts_with("httpx: ConnectError |"), "{stdout}");
    assert!(lines[2].contains(&target), "{stdout}");
}

/// pg8000 against the PostgreSQL named by `AUTOMA_TEST_POSTGRES_URL` (scripts/test
/// starts one); skipped (passes) when it is unset.
#[tokio::test]
async fn pg8000_matches_native_python() {
    let Ok(url) = std::env::var("AUTOMA_TEST_POSTGRES_URL") else {
        eprintln!("AUTOMA_TEST_POSTGRES_URL not set: skipping the pg8000 case");
        return;
    };
    let setup = peers::postgres_setup(&url);
    check_all("postgres", &setup).await;
}
