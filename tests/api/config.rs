use automa::app::Application;
use automa::config::{Config, Environment};

fn prod_config(dir: &std::path::Path) -> Config {
    let mut c = Config::new(dir.join("data"));
    c.listen = "127.0.0.1:0".parse().unwrap();
    c.environment = Environment::Production;
    c
}

#[tokio::test]
async fn production_refuses_insecure_settings_and_says_which() {
    let dir = tempfile::tempdir().unwrap();

    let mut open = prod_config(dir.path());
    open.listen = "0.0.0.0:0".parse().unwrap();
    open.jwt_secret = Some("changeme".into());
    let err = format!(
        "{:#}",
        Application::build(open).await.err().expect("refused")
    );
    assert!(err.contains("non-loopback"), "{err}");
    assert!(err.contains("jwt_secret is weak"), "{err}");

    // Generated key files are 0600; loosen one and production refuses.
    let ok = Application::build(prod_config(dir.path())).await;
    assert!(ok.is_ok(), "{:?}", ok.err());
    drop(ok);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = dir.path().join("data/keys/jwt.key");
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = format!(
            "{:#}",
            Application::build(prod_config(dir.path()))
                .await
                .err()
                .expect("refused")
        );
        assert!(err.contains("chmod 600"), "{err}");
        // Development only warns.
        let mut dev = prod_config(dir.path());
        dev.environment = Environment::Development;
        assert!(Application::build(dev).await.is_ok());
    }
}

#[tokio::test]
async fn an_unusable_extra_ca_file_stops_the_start_and_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut missing = Config::new(dir.path().join("data"));
    missing.listen = "127.0.0.1:0".parse().unwrap();
    missing.tls_extra_ca_certs = vec![dir.path().join("absent-ca.pem")];
    let err = format!(
        "{:#}",
        Application::build(missing).await.err().expect("refused")
    );
    assert!(err.contains("absent-ca.pem"), "{err}");

    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").unwrap();
    let mut config = Config::new(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.tls_extra_ca_certs = vec![garbage];
    let err = format!(
        "{:#}",
        Application::build(config).await.err().expect("refused")
    );
    assert!(
        err.contains("garbage.pem") && err.contains("no PEM certificate"),
        "{err}"
    );
}
