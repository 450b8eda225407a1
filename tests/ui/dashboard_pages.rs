//! The dashboard read like a service's console, over plain HTTP: date parameters get
//! date inputs and the date typed reaches the job's arguments; the stored log shows
//! levels and fields; the chart has axes and hour labels; script and job pages show
//! the equivalent CLI and curl commands, with no token in them.

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, spawn_app};
use crate::jobs::create_script;
use crate::web::{Browser, csrf_in};
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Value, json};
use std::time::Duration;

/// A script with a required `date`, an optional `datetime` and a structured log.
pub(crate) const DATED: &str = r#"from datetime import date, datetime
import automa

def main(day: date, at: datetime = None, who: str = "ada lovelace"):
    automa.log.info("step", i=3, who=who)
    automa.log.warning("careful", left=2)
    automa.log.debug("detail")
    print("plain output")
    moment = datetime.fromisoformat(at) if at else None
    return {"weekday": date.fromisoformat(day).isoweekday(), "hour": moment and moment.hour}
"#;

async fn finished(app: &TestApp, token: &str, job: &str) -> Value {
    for _ in 0..300 {
        let j: Value = app
            .get(&format!("/api/v1/jobs/{job}"), token)
            .await
            .json()
            .await
            .unwrap();
        if !["queued", "running"].contains(&j["status"].as_str().unwrap_or("queued")) {
            return j;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("job {job} did not finish");
}

/// Waits until the job's last log entry (the print) is stored: it may land just after
/// the status.
async fn wait_log(app: &TestApp, token: &str, job: &str, entries: usize) {
    for _ in 0..100 {
        let log: Value = app
            .get(&format!("/api/v1/jobs/{job}/logs"), token)
            .await
            .json()
            .await
            .unwrap();
        if log.as_array().is_some_and(|l| l.len() >= entries) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("job {job} never had {entries} log entries");
}

#[tokio::test]
async fn date_inputs_send_iso_dates_that_reach_the_job_and_bad_ones_are_refused() {
    let app = spawn_app().await;
    let token = app.setup_admin().await;
    let mut b = Browser::new(&app.base);
    b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let script = create_script(&app, &token, "dated", DATED).await;

    let (_, html) = b.get_html(&format!("/scripts/{script}")).await;
    assert!(
        html.contains(r#"type="date" id="arg-day" name="day" value="" required"#),
        "{html}"
    );
    assert!(
        html.contains(r#"type="datetime-local" step="1" id="arg-at" name="at" value="""#),
        "an empty input for a None default: {html}"
    );

    // What a browser's date inputs submit.
    let csrf = csrf_in(&html);
    let resp = b
        .post(
            &format!("/scripts/{script}/run"),
            &[
                ("csrf", &csrf),
                ("day", "2026-12-01"),
                ("at", "2026-12-01T17:05"),
                ("who", "ada lovelace"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let job = resp.headers()[LOCATION]
        .to_str()
        .unwrap()
        .trim_start_matches("/jobs/")
        .to_owned();
    let j = finished(&app, &token, &job).await;
    assert_eq!(j["status"], "succeeded", "{j}");
    assert_eq!(
        j["args"],
        json!({"day": "2026-12-01", "at": "2026-12-01T17:05", "who": "ada lovelace"})
    );
    // The script read them with date.fromisoformat / datetime.fromisoformat.
    assert_eq!(j["result"], json!({"weekday": 2, "hour": 17}));

    // A date that does not exist is refused with the field named, the input kept.
    let resp = b
        .post(
            &format!("/scripts/{script}/run"),
            &[("csrf", &csrf), ("day", "2026-02-30"), ("at", "")],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(html.contains("enter a date as YYYY-MM-DD"), "{html}");
    assert!(html.contains(r#"name="day" value="2026-02-30""#), "{html}");
}

#[tokio::test]
async fn job_and_script_pages_show_levels_fields_and_the_equivalent_commands() {
    let app = spawn_app().await;
    let token = app.setup_admin().await;
    let mut b = Browser::new(&app.base);
    b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let script = create_script(&app, &token, "dated", DATED).await;
    let job = app
        .run_wait(
            &token,
            &script,
            json!({"args": {"day": "2026-12-01", "who": "Grace Hopper"}}),
        )
        .await;
    let job_id = job["id"].as_str().unwrap().to_owned();
    wait_log(&app, &token, &job_id, 4).await;

    let (status, html) = b.get_html(&format!("/jobs/{job_id}")).await;
    assert_eq!(status, StatusCode::OK);
    // Each line: time, stream, level, message and its fields.
    assert!(
        html.contains(r#"data-stream="log" data-level="info""#),
        "{html}"
    );
    assert!(html.contains(r#"<span class="msg">step</span> <span class="field"><span class="k">i</span>=<span class="v">3</span></span>"#), "{html}");
    assert!(
        html.contains(
            r#"<span class="k">who</span>=<span class="v">&quot;Grace Hopper&quot;</span>"#
        ),
        "{html}"
    );
    assert!(
        html.contains(r#"data-stream="log" data-level="warning""#),
        "{html}"
    );
    assert!(
        html.contains(r#"data-stream="stdout" data-level="""#),
        "{html}"
    );
    assert!(html.contains(r#"<time class="at" datetime="20"#), "{html}");
    assert!(html.contains(r#"id="log-level""#) && html.contains(r#"id="log-search""#));
    assert!(html.contains(r#"id="log-copy""#));
    assert!(
        !html.contains(r#"id="log-follow""#),
        "nothing to follow on a finished job"
    );

    // The commands: against this server, the token a placeholder.
    let base = &app.base;
    assert!(
        html.contains(&format!("automa jobs show {job_id}")),
        "{html}"
    );
    assert!(
        html.contains(&format!("automa jobs logs {job_id} -f")),
        "{html}"
    );
    assert!(
        html.contains(&format!("automa jobs retry {job_id} --wait")),
        "{html}"
    );
    assert!(
        html.contains(
            "automa run dated --arg day=2026-12-01 --arg &#39;who=Grace Hopper&#39; --wait"
        ) || html.contains("automa run dated --arg day=2026-12-01 --arg 'who=Grace Hopper' --wait"),
        "{html}"
    );
    assert!(html.contains(&format!("curl -sS {base}/api/v1/jobs/{job_id} -H &quot;Authorization: Bearer $AUTOMA_TOKEN&quot;")), "{html}");
    assert!(!html.contains(&token), "no real token on the page");

    let (_, html) = b.get_html(&format!("/scripts/{script}")).await;
    assert!(html.contains(&format!("automa login {base}")), "{html}");
    assert!(
        html.contains("automa run dated --arg day=YYYY-MM-DD --wait"),
        "{html}"
    );
    assert!(
        html.contains(&format!("{base}/api/v1/scripts/{script}/run?wait=true")),
        "{html}"
    );
    assert!(
        html.contains(r#"{&quot;args&quot;:{&quot;day&quot;:&quot;YYYY-MM-DD&quot;}}"#),
        "{html}"
    );
    assert!(html.contains("$AUTOMA_TOKEN") && !html.contains(&token));
    // The editor's bundle is served from the binary and loaded by the page.
    assert!(html.contains(r#"<script src="/static/editor.min.js" defer>"#));
    let resp = b.get("/static/editor.min.js").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await.unwrap().len() > 100_000);
}

#[tokio::test]
async fn the_jobs_chart_has_axes_hour_labels_and_hover_values() {
    let app = spawn_app().await;
    let token = app.setup_admin().await;
    let mut b = Browser::new(&app.base);
    b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let script = create_script(&app, &token, "ok", "def main():\n    return 1\n").await;
    for _ in 0..3 {
        app.run_wait(&token, &script, json!({})).await;
    }
    let (_, html) = b.get_html("/").await;
    let svg = &html[html.find("<svg class=\"chart\"").expect("a chart")..];
    let svg = &svg[..svg.find("</svg>").unwrap()];
    assert_eq!(
        svg.matches(r#"class="axis""#).count(),
        2,
        "x and y axes: {svg}"
    );
    // y labels 0..=3 (three jobs in the last hour), six hour labels.
    for n in 0..=3 {
        assert!(
            svg.contains(&format!(r#"text-anchor="end">{n}</text>"#)),
            "{svg}"
        );
    }
    assert_eq!(svg.matches(r#"class="x-label""#).count(), 6, "{svg}");
    // The hour labels fall on whole hours (HH:00); the last hour's bar tells its counts on hover.
    let label = &svg[svg.find(r#"class="x-label""#).unwrap()..];
    let label = &label[label.find('>').unwrap() + 1..][..5];
    assert!(
        label.ends_with(":00") && label[..2].parse::<u8>().is_ok_and(|h| h < 24),
        "an hour label: {label}"
    );
    assert!(
        svg.contains(" UTC: 3 succeeded, 0 failed, 0 other</title>"),
        "{svg}"
    );
}

/// The text of `<pre ... id="ID">` in a page, unescaped.
fn pre_text(html: &str, id: &str) -> String {
    let start = html.find(&format!(r#"id="{id}">"#)).expect(id) + id.len() + 6;
    let text = &html[start..];
    let text = &text[..text.find("</pre>").unwrap()];
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Runs a command line as a user would paste it: `sh -c`, the `automa` binary on the
/// PATH, the token only in the environment.
fn shell(line: &str, base: &str, token: &str, home: &std::path::Path) -> std::process::Output {
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_automa"))
        .parent()
        .unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    std::process::Command::new("sh")
        .arg("-c")
        .arg(line)
        .env("PATH", path)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home)
        .env("AUTOMA_URL", base)
        .env("AUTOMA_TOKEN", token)
        .output()
        .expect("sh runs")
}

#[tokio::test]
async fn the_commands_a_script_page_shows_run_as_pasted() {
    let app = spawn_app().await;
    let token = app.setup_admin().await;
    let mut b = Browser::new(&app.base);
    b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let script = create_script(&app, &token, "dated", DATED).await;
    let (_, html) = b.get_html(&format!("/scripts/{script}")).await;
    let home = tempfile::tempdir().unwrap();
    let base = app.base.clone();

    // The CLI's run line, with the placeholder filled in.
    let cli = pre_text(&html, "cli-command");
    let run = cli
        .lines()
        .find(|l| l.starts_with("automa run "))
        .expect("a run line");
    let run = run.replace("YYYY-MM-DD", "2026-12-01");
    let (t, h) = (token.clone(), home.path().to_owned());
    let out = tokio::task::spawn_blocking({
        let base = base.clone();
        let run = run.clone();
        move || shell(&run, &base, &t, &h)
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{run}: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("weekday"),
        "the result is printed: {stdout}"
    );

    // The curl command, the same way.
    let curl = pre_text(&html, "curl-command").replace("YYYY-MM-DD", "2026-12-01");
    let (t, h) = (token.clone(), home.path().to_owned());
    let out = tokio::task::spawn_blocking(move || shell(&curl, &base, &t, &h))
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let job: Value = serde_json::from_slice(&out.stdout).expect("the API's JSON");
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["args"], json!({"day": "2026-12-01"}));
    assert_eq!(job["result"]["weekday"], 2);
}
