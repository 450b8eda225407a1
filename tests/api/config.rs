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

/// `automa <command> --print-config` with a clean environment plus `env`.
fn print_config(command: &str, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_automa"))
        .arg(command)
        .args(args)
        .arg("--print-config")
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// What a successful `--print-config` printed, as text and parsed.
fn printed(out: std::process::Output) -> (String, toml::Table) {
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = text.parse().unwrap();
    (text, table)
}

#[test]
fn print_config_shows_the_merged_settings_with_secrets_masked() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("automa.toml");
    std::fs::write(
        &file,
        "workers = 3\ncache_dir = \"/srv/cache\"\npip_no_index = true\nlogin_max_failures = 7\n\
         jwt_secret = \"file-jwt-secret-0123456789abcdef0123\"\n\
         database_url = \"postgres://automa:db-pass-42@db.internal/automa\"\n\
         [smtp]\nhost = \"smtp.file\"\nport = 25\nfrom = \"a@example.org\"\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let out = print_config(
        "serve",
        &[
            "--config",
            file,
            "--login-max-failures",
            "9",
            "--smtp-port",
            "2525",
        ],
        &[
            ("AUTOMA_LOGIN_MAX_FAILURES", "8"),
            ("AUTOMA_SMTP_PASSWORD", "smtp-pass-42"),
            ("AUTOMA_SECRETS_KEY", "env-secrets-key-0123456789abcdef"),
        ],
    );
    let (text, printed) = printed(out);
    assert_eq!(printed["workers"].as_integer(), Some(3));
    assert_eq!(printed["cache_dir"].as_str(), Some("/srv/cache"));
    assert_eq!(printed["pip_no_index"].as_bool(), Some(true));
    assert_eq!(
        printed["login_max_failures"].as_integer(),
        Some(9),
        "flag wins"
    );
    let smtp = printed["smtp"].as_table().unwrap();
    assert_eq!(smtp["host"].as_str(), Some("smtp.file"));
    assert_eq!(smtp["port"].as_integer(), Some(2525));
    assert_eq!(smtp["password"].as_str(), Some("[REDACTED]"));
    assert_eq!(printed["jwt_secret"].as_str(), Some("[REDACTED]"));
    assert_eq!(printed["secrets_key"].as_str(), Some("[REDACTED]"));
    assert_eq!(
        printed["database_url"].as_str(),
        Some("postgres://automa:***@db.internal/automa")
    );
    for secret in ["file-jwt", "db-pass-42", "smtp-pass-42", "env-secrets"] {
        assert!(!text.contains(secret), "{secret} printed:\n{text}");
    }

    // The worker prints its own role; a typo in the file stops it, naming the key.
    let out = print_config("worker", &["--config", file], &[]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("role = \"worker\""), "{text}");
    let typo = dir.path().join("typo.toml");
    std::fs::write(&typo, "wokers = 3\n").unwrap();
    let out = print_config("worker", &["--config", typo.to_str().unwrap()], &[]);
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        error.contains("unknown key `wokers` in config file"),
        "{error}"
    );
}

#[test]
fn audit_retention_is_read_from_the_file_the_environment_and_set() {
    let days = |args: &[&str], env: &[(&str, &str)]| {
        printed(print_config("serve", args, env)).1["retention"]["audit_days"].as_integer()
    };
    assert_eq!(days(&[], &[]), Some(0), "kept forever by default");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("automa.toml");
    std::fs::write(&file, "[retention]\naudit_days = 400\n").unwrap();
    let file = file.to_str().unwrap();
    assert_eq!(days(&["--config", file], &[]), Some(400));
    let env = [("AUTOMA_RETENTION__AUDIT_DAYS", "30")];
    assert_eq!(days(&["--config", file], &env), Some(30), "env over file");
    assert_eq!(
        days(&["--config", file, "--set", "retention.audit_days=7"], &env),
        Some(7),
        "--set over env"
    );
}
