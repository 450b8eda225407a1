//! `main()`'s return value is size-checked before the host parses it.
#![allow(clippy::unwrap_used)]

mod common;

use automa_runtime::RunStatus;
use common::run;

#[tokio::test]
async fn an_oversized_result_fails_the_run_with_the_reason() {
    let outcome = run("def main():\n    return 'x' * (9 * 1024 * 1024)\n").await;
    assert_eq!(outcome.status, RunStatus::Failed, "{:?}", outcome.error);
    let error = outcome.error.unwrap();
    assert_eq!(error.kind, "ResultTooLarge");
    assert!(error.message.contains("at most 8 MiB"), "{}", error.message);
    assert!(outcome.result.is_none());
}

#[tokio::test]
async fn a_large_result_within_the_cap_is_kept() {
    let outcome = run("def main():\n    return 'x' * (7 * 1024 * 1024)\n").await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{:?}", outcome.error);
    assert_eq!(
        outcome.result.unwrap().as_str().unwrap().len(),
        7 * 1024 * 1024
    );
}
