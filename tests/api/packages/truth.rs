//! Requirements that tell the truth: the package that blocks a resolution is named with
//! the reason, and a resolution that fell back to an older major version (because the
//! newest needs native code) or to a 0.0.x placeholder is refused unless pinned.

use super::{Wheelhouse, app_with, create, refusal};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// fancy 2.0 needs fastcore, which ships only a platform wheel; fancy 1.0 needs nothing.
fn house() -> Wheelhouse {
    let house = Wheelhouse::new();
    house
        .add("fancy", "1.0", "VERSION = 1\n", &[])
        .add(
            "fancy",
            "2.0",
            "VERSION = 2\n",
            &["--requires", "fastcore>=1.0"],
        )
        .add(
            "fastcore",
            "1.0",
            "X = 1\n",
            &["--tag", "py3-none-manylinux_2_28_x86_64"],
        )
        .add("ghost", "0.0.1", "X = 0\n", &[])
        .add("srconly", "1.0", "X = 1\n", &[]);
    // A source archive only: listed by the index, never built.
    let wheel = house.dir.path().join("srconly-1.0-py3-none-any.whl");
    std::fs::rename(&wheel, house.dir.path().join("srconly-1.0.tar.gz")).unwrap();
    house
}

#[tokio::test]
async fn the_package_that_blocks_is_named_with_the_reason() {
    let house = house();
    let app = app_with(&house, |_| {}).await;
    let admin = app.setup_admin().await;
    let message = refusal(create(&app, &admin, "f", "print(1)\n", &["fancy==2.0"]).await).await;
    assert!(
        message.contains(
            "fastcore 1.0 has no pure-Python wheel (only platform wheels), which fancy needs"
        ),
        "{message}"
    );
    let message = refusal(create(&app, &admin, "s", "print(1)\n", &["srconly"]).await).await;
    assert!(
        message.contains("srconly 1.0 has no wheel, only a source archive"),
        "{message}"
    );
    let message = refusal(create(&app, &admin, "n", "print(1)\n", &["fancy>=3"]).await).await;
    assert!(
        message.contains("no pure-Python wheel of fancy matches `fancy>=3`")
            && message.contains("the newest with one is 2.0"),
        "{message}"
    );
}

#[tokio::test]
async fn an_older_major_or_a_placeholder_is_refused_unless_pinned() {
    let house = house();
    let app = app_with(&house, |_| {}).await;
    let admin = app.setup_admin().await;
    let message = refusal(create(&app, &admin, "f", "print(1)\n", &["fancy"]).await).await;
    for needle in [
        "fancy resolved to 1.0, an older major version than the newest release 2.0",
        "because fastcore 1.0 has no pure-Python wheel (only platform wheels), which fancy needs",
        "`fancy==1.*` or `fancy<2`",
    ] {
        assert!(message.contains(needle), "{needle}: {message}");
    }
    // A lower bound is not a pin.
    let message = refusal(create(&app, &admin, "f", "print(1)\n", &["fancy>=1"]).await).await;
    assert!(message.contains("older major version"), "{message}");
    for (i, pinned) in ["fancy<2", "fancy==1.*", "fancy==1.0"].iter().enumerate() {
        let source = "import fancy\ndef main():\n    return fancy.VERSION\n";
        let resp = create(&app, &admin, &format!("p{i}"), source, &[pinned]).await;
        assert_eq!(resp.status(), StatusCode::CREATED, "{pinned}");
        let script: Value = resp.json().await.unwrap();
        assert_eq!(
            script["resolved"],
            json!([{"name": "fancy", "version": "1.0", "wheel": "fancy-1.0-py3-none-any.whl"}])
        );
        let job = app
            .run_wait(&admin, script["id"].as_str().unwrap(), json!({}))
            .await;
        assert_eq!(job["result"], 1, "{job}");
    }

    let message = refusal(create(&app, &admin, "g", "print(1)\n", &["ghost"]).await).await;
    assert!(
        message.contains("ghost resolved to 0.0.1, a 0.0.x placeholder release")
            && message.contains("`ghost==0.0.1`"),
        "{message}"
    );
    let resp = create(&app, &admin, "g", "print(1)\n", &["ghost==0.0.1"]).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
}
