//! The agent interface in the sandbox: messages in, events out, status, a polite stop.
#![allow(clippy::unwrap_used)]

mod common;

use automa_runtime::RunStatus;
use automa_runtime::host::Capabilities;
use common::{Recorder, TestAgent, request, run, runtime};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const ECHO_AGENT: &str = r#"import automa

def main(prefix='echo'):
    automa.agent.set_status('ready', handled=0)
    handled = 0
    while not automa.agent.stop_requested():
        message = automa.agent.receive(timeout=5)
        if message is None:
            continue
        handled += 1
        automa.agent.emit({'reply': f"{prefix}: {message['text']}", 'n': handled})
        automa.agent.set_status('busy', handled=handled)
    return {'handled': handled}
"#;

#[tokio::test]
async fn messages_round_trip_and_stop_is_polite() {
    let recorder = Arc::new(Recorder::default());
    let agent = Arc::new(TestAgent::default());
    let mut req = request(ECHO_AGENT, Capabilities::default(), &recorder);
    req.host.agent = Some(agent.clone());
    req.limits.timeout = Duration::from_secs(60);
    let task = tokio::spawn(async move { runtime().run(req).await });
    for text in ["one", "two"] {
        agent
            .inbox
            .lock()
            .unwrap()
            .push_back(format!("{{\"text\": \"{text}\"}}"));
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while agent.events.lock().unwrap().len() < 2 {
        assert!(Instant::now() < deadline, "no replies");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    agent.stopping.store(true, Ordering::SeqCst);
    let outcome = task.await.unwrap();
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(outcome.result, Some(serde_json::json!({"handled": 2})));
    let events: Vec<serde_json::Value> = agent
        .events
        .lock()
        .unwrap()
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    assert_eq!(events[0]["reply"], "echo: one");
    assert_eq!(events[1]["reply"], "echo: two");
    let statuses = agent.statuses.lock().unwrap().clone();
    assert_eq!(
        statuses[0],
        (
            "ready".to_owned(),
            Some(serde_json::json!({"handled": 0.0}))
        )
    );
    assert_eq!(statuses.last().unwrap().0, "busy");
    assert!(agent.beats.load(Ordering::SeqCst) > 3);
}

#[tokio::test]
async fn agent_sleep_ends_early_on_stop() {
    let recorder = Arc::new(Recorder::default());
    let agent = Arc::new(TestAgent::default());
    let source = "import automa\nslept = automa.agent.sleep(3600)\nprint('slept fully' if slept else 'woken by stop')\n";
    let mut req = request(source, Capabilities::default(), &recorder);
    req.host.agent = Some(agent.clone());
    let task = tokio::spawn(async move { runtime().run(req).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    agent.stopping.store(true, Ordering::SeqCst);
    let outcome = tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(outcome.stdout, "woken by stop\n", "{outcome:?}");
}

#[tokio::test]
async fn agent_calls_in_a_job_are_denied() {
    let outcome = run("import automa\ntry:\n    automa.agent.emit(1)\nexcept PermissionError as e:\n    print(e)\n").await;
    assert_eq!(
        outcome.stdout, "automa.agent works only in an agent, not in a job\n",
        "{outcome:?}"
    );
}
