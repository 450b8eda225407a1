//! Audit retention with the fake clock: `retention::sweep` prunes the audit log behind a
//! signed checkpoint, `automa audit verify` (and `GET /api/v1/audit/verify`) start from
//! it, and each way of tampering with the pruned log is reported, naming the row or
//! checkpoint. A backup carries the signing key.

use crate::retention::{deleted_total, get, open_db};
use crate::server::{self, Server, show, stdout};
use automa::audit::AuditRow;
use automa::retention::{Retention, sweep};
use serde_json::{Value, json};
use std::path::Path;

const DAY_MS: i64 = 86_400_000;
/// RFC 8032's first test key: a valid Ed25519 public key that is not the server's.
const OTHER_KEY: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

async fn verify(server: &Server, data: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["audit", "verify", "--data-dir", data.to_str().unwrap()];
    args.extend_from_slice(extra);
    server.cli(&args, "").await
}

/// Verify fails (exit 1); its output.
async fn broken(server: &Server) -> String {
    let out = verify(server, &server.data_dir(), &[]).await;
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    stdout(&out)
}

async fn ok(server: &Server) -> String {
    let out = verify(server, &server.data_dir(), &[]).await;
    assert!(out.status.success(), "{}", show(&out));
    stdout(&out)
}

/// A few audited actions (script.create each), then a moment of the clock between them
/// and what comes next.
async fn actions(server: &Server, names: &[&str]) -> i64 {
    for name in names {
        server
            .api_post(
                "/api/v1/scripts",
                json!({"name": name, "source": "print(1)\n"}),
            )
            .await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let mid = automa::db::now_ms();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    mid
}

async fn scalar(db: &automa::db::Db, sql: &'static str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(db).await.unwrap();
    n
}

async fn exec(db: &automa::db::Db, sql: &'static str) {
    sqlx::query(sql).execute(db).await.unwrap();
}

async fn api_verify(server: &Server) -> Value {
    let (status, report) = get(server, "/api/v1/audit/verify").await;
    assert_eq!(status, 200, "{report}");
    report
}

#[tokio::test(flavor = "multi_thread")]
async fn pruned_audit_log_verifies_from_its_signed_checkpoint_and_tampering_fails() {
    let server = server::start().await;
    let data = server.data_dir();
    let db = open_db(&server).await;
    let first_cut = actions(&server, &["a1", "a2"]).await;
    let second_cut = actions(&server, &["b1", "b2"]).await;
    actions(&server, &["c1", "c2", "c3"]).await;
    let total = scalar(&db, "SELECT COUNT(*) FROM audit_log").await;

    // Kept forever by default: nothing pruned, however late.
    let now = automa::db::now_ms();
    let swept = sweep(&db, &data, &Retention::default(), now + 10_000 * DAY_MS)
        .await
        .unwrap();
    assert_eq!(swept.audit, 0);
    assert!(!data.join("keys/audit.key").exists());

    // audit_days = 1, one day after the first cut: the rows before it go.
    let retention = Retention {
        audit_days: 1,
        ..Retention::default()
    };
    let old = {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE at < $1")
            .bind(first_cut)
            .fetch_one(&db)
            .await
            .unwrap();
        n
    };
    assert!(old >= 3, "setup, login and two creates: {old}");
    let swept = sweep(&db, &data, &retention, first_cut + DAY_MS)
        .await
        .unwrap();
    assert_eq!(swept.audit, old as u64);
    assert_eq!(
        sweep(&db, &data, &retention, first_cut + DAY_MS)
            .await
            .unwrap()
            .audit,
        0
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("keys/audit.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let text = ok(&server).await;
    assert!(text.contains("audit log ok"), "{text}");
    assert!(
        text.contains(&format!(
            "from checkpoint #1 (the newest of 1): seq {old} hash "
        )),
        "{text}"
    );
    let key_line = text
        .lines()
        .find_map(|l| l.strip_prefix("checkpoint signing key (Ed25519, public): "))
        .unwrap_or_else(|| panic!("{text}"))
        .to_owned();
    assert_eq!(key_line.len(), 64, "{text}");

    // A second prune, at the second cut.
    let swept = sweep(&db, &data, &retention, second_cut + DAY_MS)
        .await
        .unwrap();
    assert!(swept.audit >= 2, "{swept:?}");
    let pruned = scalar(&db, "SELECT MAX(last_seq) FROM audit_checkpoints").await;
    assert_eq!(pruned, old + swept.audit as i64);
    assert!(scalar(&db, "SELECT COUNT(*) FROM audit_log").await <= total - pruned + 1);
    let text = ok(&server).await;
    assert!(
        text.contains(&format!(
            "from checkpoint #2 (the newest of 2): seq {pruned} "
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("({pruned} rows pruned in all)")),
        "{text}"
    );
    let report = api_verify(&server).await;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["checkpoint"]["id"], 2, "{report}");
    assert_eq!(report["checkpoint"]["last_seq"], pruned, "{report}");
    assert_eq!(report["checkpoints"], 2, "{report}");
    assert_eq!(report["public_key"], key_line.as_str(), "{report}");
    assert!(report["checked"].as_u64().unwrap() >= 3, "{report}");

    // Tampering with the newest checkpoint: its hash, its count, its signature.
    let kept = checkpoints(&db).await;
    for edit in [
        "UPDATE audit_checkpoints SET last_hash = 'ff' || substr(last_hash, 3) WHERE id = 2",
        "UPDATE audit_checkpoints SET pruned_rows = pruned_rows + 1 WHERE id = 2",
        "UPDATE audit_checkpoints SET first_seq = first_seq + 1, pruned_rows = pruned_rows - 1 \
         WHERE id = 2",
        "UPDATE audit_checkpoints SET signature = CASE WHEN substr(signature, 1, 2) = '00' \
         THEN '11' ELSE '00' END || substr(signature, 3) WHERE id = 2",
    ] {
        exec(&db, edit).await;
        let text = broken(&server).await;
        assert!(
            text.contains("audit log BROKEN at checkpoint #2: "),
            "{edit}: {text}"
        );
        restore_checkpoints(&db, &kept).await;
    }
    ok(&server).await;
    exec(
        &db,
        "UPDATE audit_checkpoints SET last_hash = 'ff' || substr(last_hash, 3) WHERE id = 2",
    )
    .await;
    let report = api_verify(&server).await;
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["broken"]["at"], "checkpoint", "{report}");
    assert_eq!(report["broken"]["id"], 2, "{report}");
    assert!(
        report["broken"]["reason"]
            .as_str()
            .unwrap()
            .contains("signature does not match"),
        "{report}"
    );
    restore_checkpoints(&db, &kept).await;
    ok(&server).await;

    // A checkpoint deleted, or all of them.
    exec(&db, "DELETE FROM audit_checkpoints WHERE id = 1").await;
    let text = broken(&server).await;
    assert!(
        text.contains("BROKEN at checkpoint #1: missing (deleted?): the next one is #2"),
        "{text}"
    );
    exec(&db, "DELETE FROM audit_checkpoints").await;
    let text = broken(&server).await;
    assert!(
        text.contains("BROKEN at seq 1: expected seq 1, found"),
        "{text}"
    );
    restore_checkpoints(&db, &kept).await;
    ok(&server).await;

    // Another key than the server's.
    let out = verify(&server, &data, &["--public-key", OTHER_KEY]).await;
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        stdout(&out).contains("BROKEN at checkpoint #1: signed by key"),
        "{}",
        show(&out)
    );
    let out = verify(&server, &data, &["--public-key", &key_line]).await;
    assert!(out.status.success(), "{}", show(&out));

    // Rows deleted past the checkpoint: the first one, then all of them.
    let rest: Vec<AuditRow> = sqlx::query_as(
        "SELECT seq, id, at, actor, action, target, source_ip, outcome, details, prev_hash, hash \
         FROM audit_log ORDER BY seq",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    let first = rest[0].seq;
    assert_eq!(first, pruned + 1);
    sqlx::query("DELETE FROM audit_log WHERE seq = $1")
        .bind(first)
        .execute(&db)
        .await
        .unwrap();
    let text = broken(&server).await;
    assert!(
        text.contains(&format!(
            "BROKEN at seq {first}: expected seq {first}, the row after checkpoint #2, found {}",
            first + 1
        )),
        "{text}"
    );
    exec(&db, "DELETE FROM audit_log").await;
    let text = broken(&server).await;
    assert!(text.contains("no row after checkpoint #2"), "{text}");
    for row in &rest {
        insert_row(&db, row).await;
    }
    ok(&server).await;

    // A remaining row edited.
    let edited = rest[1].seq;
    sqlx::query("UPDATE audit_log SET actor = 'someone else' WHERE seq = $1")
        .bind(edited)
        .execute(&db)
        .await
        .unwrap();
    let text = broken(&server).await;
    assert!(
        text.contains(&format!("BROKEN at seq {edited}: hash does not match")),
        "{text}"
    );
    sqlx::query("UPDATE audit_log SET actor = $1 WHERE seq = $2")
        .bind(&rest[1].actor)
        .bind(edited)
        .execute(&db)
        .await
        .unwrap();
    ok(&server).await;

    // Counted in /metrics.
    assert!(deleted_total(&server, "audit").await >= pruned as f64);

    // A backup carries the signing key: the restored log verifies against it.
    let work = tempfile::tempdir().unwrap();
    let archive = work.path().join("a.tar.gz");
    let out = server
        .cli(
            &[
                "backup",
                archive.to_str().unwrap(),
                "--data-dir",
                data.to_str().unwrap(),
            ],
            "",
        )
        .await;
    assert!(out.status.success(), "{}", show(&out));
    let restored = work.path().join("restored");
    let out = server
        .cli(
            &[
                "restore",
                archive.to_str().unwrap(),
                "--data-dir",
                restored.to_str().unwrap(),
            ],
            "",
        )
        .await;
    assert!(out.status.success(), "{}", show(&out));
    let out = verify(&server, &restored, &[]).await;
    assert!(out.status.success(), "{}", show(&out));
    assert!(stdout(&out).contains(&key_line), "{}", show(&out));
    db.close().await;
    server.stop().await;
}

async fn checkpoints(db: &automa::db::Db) -> Vec<automa::db::audit_checkpoints::CheckpointRow> {
    automa::db::audit_checkpoints::all(db).await.unwrap()
}

async fn restore_checkpoints(
    db: &automa::db::Db,
    rows: &[automa::db::audit_checkpoints::CheckpointRow],
) {
    exec(db, "DELETE FROM audit_checkpoints").await;
    let mut conn = db.acquire().await.unwrap();
    for row in rows {
        automa::db::audit_checkpoints::insert(&mut conn, row)
            .await
            .unwrap();
    }
}

async fn insert_row(db: &automa::db::Db, r: &AuditRow) {
    sqlx::query(
        "INSERT INTO audit_log (seq, id, at, actor, action, target, source_ip, outcome, details, \
         prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(r.seq)
    .bind(&r.id)
    .bind(r.at)
    .bind(&r.actor)
    .bind(&r.action)
    .bind(&r.target)
    .bind(&r.source_ip)
    .bind(&r.outcome)
    .bind(&r.details)
    .bind(&r.prev_hash)
    .bind(&r.hash)
    .execute(db)
    .await
    .unwrap();
}
