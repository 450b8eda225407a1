//! A job's log comes in bounded pages (issue 12): `?after=` and `?limit=`, at most the
//! server's `events_per_page` entries and about 8 MiB a page, the next page named by
//! the `Link` header; the live stream starts after `?after=` too.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const MANY_LINES: &str = "def main():\n    for i in range(2500):\n        print(i)\n";
const BIG_LINES: &str = "import automa\n\ndef main():\n    for i in range(200):\n        automa.log.info(str(i).rjust(64000, '.'))\n";

/// Runs `source` to its end and waits for its log's entry `last` (the last batch of a
/// log may be stored just after the job's final status).
async fn finished_job(app: &TestApp, token: &str, name: &str, source: &str, last: i64) -> String {
    let resp = app
        .send_json(
            "POST",
            "/api/v1/scripts",
            token,
            json!({"name": name, "source": source}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let script: Value = resp.json().await.unwrap();
    let job = app
        .run_wait(token, script["id"].as_str().unwrap(), json!({}))
        .await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let id = job["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/jobs/{id}/logs?after={}", last - 1);
    for _ in 0..100 {
        let (entries, _, _) = page(app, token, &path).await;
        if !entries.is_empty() {
            return id;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("entry {last} of job {id} was never stored");
}

/// One page: its entries, the `Link` header's next page, and the body's size.
async fn page(app: &TestApp, token: &str, path: &str) -> (Vec<Value>, Option<String>, usize) {
    let resp = app.get(path, token).await;
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    let next =
        automa::api::seq_page::next_link(resp.headers().get("link").map(|v| v.to_str().unwrap()));
    let body = resp.bytes().await.unwrap();
    (serde_json::from_slice(&body).unwrap(), next, body.len())
}

/// Every page from `path` on, following `Link`; the pages' entry counts and sizes.
async fn all_pages(app: &TestApp, token: &str, path: &str) -> (Vec<Value>, Vec<(usize, usize)>) {
    let mut entries = Vec::new();
    let mut pages = Vec::new();
    let mut next = Some(path.to_owned());
    while let Some(path) = next {
        let (items, following, bytes) = page(app, token, &path).await;
        pages.push((items.len(), bytes));
        entries.extend(items);
        next = following;
        assert!(pages.len() < 100, "pages without end");
    }
    (entries, pages)
}

fn seqs(entries: &[Value]) -> Vec<i64> {
    entries.iter().map(|e| e["seq"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn a_long_log_comes_in_bounded_pages_and_none_is_lost() {
    let app = spawn_app_with(|c| c.quotas.job_log_bytes = 20 * 1024 * 1024).await;
    let admin = app.setup_admin().await;
    let (_, alice) = app.create_user(&admin, "alice@example.org").await;
    let job = finished_job(&app, &alice, "many", MANY_LINES, 2500).await;
    let logs = format!("/api/v1/jobs/{job}/logs");

    // 2,500 lines: pages of the default 1000, then the rest; every line once, in order.
    let (entries, pages) = all_pages(&app, &alice, &logs).await;
    let counts: Vec<usize> = pages.iter().map(|p| p.0).collect();
    assert_eq!(counts, [1000, 1000, 500], "{pages:?}");
    assert_eq!(seqs(&entries), (1..=2500).collect::<Vec<_>>());
    let printed: Vec<String> = entries
        .iter()
        .map(|e| e["message"].as_str().unwrap().trim_end().to_owned())
        .collect();
    assert_eq!(
        printed,
        (0..2500).map(|i| i.to_string()).collect::<Vec<_>>()
    );

    // A page of ten from the middle names the next ten.
    let (items, next, _) = page(&app, &alice, &format!("{logs}?after=5&limit=10")).await;
    assert_eq!(seqs(&items), (6..=15).collect::<Vec<_>>());
    assert_eq!(next.unwrap(), format!("{logs}?after=15&limit=10"));
    // Asking for more than the server's page gets its page; past the end, nothing.
    let (items, next, _) = page(&app, &alice, &format!("{logs}?limit=10000")).await;
    assert_eq!((items.len(), next.is_some()), (1000, true));
    let (items, next, _) = page(&app, &alice, &format!("{logs}?after=2500")).await;
    assert_eq!((items.len(), next), (0, None));
    for bad in ["limit=0", "limit=10001", "after=-1", "limit=many"] {
        let resp = app.get(&format!("{logs}?{bad}"), &alice).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(error_code(resp).await, "bad_request", "{bad}");
    }

    // 200 entries of 64 kB: 12.8 MB of log, in pages that stay under 9 MiB.
    let job = finished_job(&app, &alice, "big", BIG_LINES, 200).await;
    let (entries, pages) = all_pages(&app, &alice, &format!("/api/v1/jobs/{job}/logs")).await;
    assert!(pages.len() >= 2, "{pages:?}");
    assert!(pages.iter().all(|p| p.1 < 9 << 20), "{pages:?}");
    let numbers: Vec<usize> = entries
        .iter()
        .filter(|e| e["stream"] == "log")
        .map(|e| {
            e["message"]
                .as_str()
                .unwrap()
                .trim_start_matches('.')
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(numbers, (0..200).collect::<Vec<_>>());
}

#[tokio::test]
async fn the_page_size_is_the_admins_and_the_live_log_starts_after_a_sequence() {
    let app = spawn_app_with(|c| c.quotas.events_per_page = 100).await;
    let admin = app.setup_admin().await;
    let (_, alice) = app.create_user(&admin, "alice@example.org").await;
    let job = finished_job(&app, &alice, "many", MANY_LINES, 2500).await;
    let logs = format!("/api/v1/jobs/{job}/logs");
    let (items, next, _) = page(&app, &alice, &format!("{logs}?limit=5000")).await;
    assert_eq!(seqs(&items), (1..=100).collect::<Vec<_>>());
    assert_eq!(next.unwrap(), format!("{logs}?after=100&limit=100"));

    // The live stream of a finished job, from entry 2490 on: ten entries, then `end`.
    let mut stream = app
        .client
        .get(app.url(&format!("{logs}?after=2490")))
        .bearer_auth(&alice)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut sent = String::new();
    while !sent.contains("event: end") {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.chunk()).await {
            Ok(Ok(Some(chunk))) => sent.push_str(&String::from_utf8_lossy(&chunk)),
            other => panic!("the stream ended early or hung ({other:?}): {sent}"),
        }
    }
    let ids: Vec<i64> = sent
        .lines()
        .filter_map(|l| l.strip_prefix("id: ")?.parse().ok())
        .collect();
    assert_eq!(ids, (2491..=2500).collect::<Vec<_>>(), "{sent}");
}
