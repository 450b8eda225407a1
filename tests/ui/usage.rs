//! Usage against quotas on the dashboard: a user sees their own on the profile, an
//! admin every user's on the users page, with the numbers `GET /me/usage` answers.

use crate::account::between;
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, USER_PASSWORD, spawn_app};
use crate::jobs::create_script;
use crate::web::Browser;
use serde_json::{Value, json};

const FILL: &str = "import automa\n\ndef main():\n    with open('/data/blob', 'wb') as f:\n        f.write(b'x' * 8192)\n    automa.state.set('a', 1)\n    automa.state.set('b', 2)\n";

#[tokio::test]
async fn the_profile_shows_own_usage_and_the_users_page_everyones() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (alice_id, alice) = app.create_user(&admin, "alice@example.org").await;
    let resp = app
        .send_json(
            "PUT",
            &format!("/api/v1/users/{alice_id}/quotas"),
            &admin,
            json!({"running_jobs": 2, "agents": 3}),
        )
        .await;
    assert!(resp.status().is_success());
    let script = create_script(&app, &alice, "fill", FILL).await;
    let job: Value = app
        .send_json(
            "POST",
            &format!("/api/v1/scripts/{script}/run?wait=true"),
            &alice,
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(job["status"], "succeeded", "{job}");

    let mut b = Browser::new(&app.base);
    b.login("alice@example.org", USER_PASSWORD).await;
    let (_, html) = b.get_html("/profile").await;
    let card = between(&html, r#"id="usage""#, "</section>");
    assert!(card.contains("Usage against quotas"), "{card}");
    let cell = |id: &str| between(card, &format!(r#"id="{id}""#), "</dd>").to_owned();
    assert!(cell("usage-running-jobs").contains("0 / 2"), "{card}");
    assert!(cell("usage-agents").contains("0 / 3"), "{card}");
    assert!(cell("usage-state").contains("2 keys"), "{card}");
    // 8192 bytes and the file's 4 KiB entry.
    assert!(
        cell("usage-data").contains("12.0 KiB in 1 scripts"),
        "{card}"
    );
    assert!(cell("usage-job-cpu").contains(" s"), "{card}");

    let mut adm = Browser::new(&app.base);
    adm.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (_, html) = adm.get_html("/users").await;
    let table = between(&html, r#"id="usage-table""#, "</table>");
    let row = between(table, &format!(r#"data-user="{alice_id}""#), "</tr>");
    assert!(row.contains("alice@example.org"), "{row}");
    assert!(row.contains("0 / 2") && row.contains("12.0 KiB"), "{row}");
    assert!(table.contains(ADMIN_EMAIL), "every user has a row: {table}");
}
