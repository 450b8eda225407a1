//! Real servers for the protocol clients (`compat/protocols/`): Debian's dovecot
//! (IMAP and POP3 over a Maildir), mariadbd, redis-server and mosquitto, and
//! pyftpdlib from the test-tools venv, each on its own ports of 127.0.0.1 with its
//! files in a temporary directory. scripts/test installs them.

use super::daemon::{Daemon, free_port, is_root, program};
use super::harness::Setup;
use automa_runtime::host::{Capabilities, NetRule};
use std::path::Path;
use std::process::Command;

pub const MAIL_USER: &str = "automa";
pub const MAIL_PASSWORD: &str = "s3cret-mail";
pub const MYSQL_USER: &str = "automa";
pub const MYSQL_PASSWORD: &str = "s3cret-sql";
pub const FTP_USER: &str = "automa";
pub const FTP_PASSWORD: &str = "s3cret-ftp";
/// The passive data ports pyftpdlib picks from (each needs a rule of its own).
const FTP_PASSIVE_PORTS: usize = 4;

/// The messages in the mailbox dovecot serves, by file name in `Maildir/cur`.
const MESSAGES: &[(&str, &str)] = &[
    (
        "1700000000.M1P1.compat:2,",
        "From: Build Robot <robot@automa.example>\r\nTo: ops@automa.example\r\nSubject: nightly build passed\r\nDate: Mon, 06 Jan 2025 08:00:00 +0000\r\nMessage-ID: <build-1@automa.example>\r\n\r\nAll 42 jobs succeeded.\r\n",
    ),
    (
        "1700000060.M2P1.compat:2,",
        "From: Billing <billing@vendor.example>\r\nTo: ops@automa.example\r\nSubject: invoice 2025-001\r\nDate: Tue, 07 Jan 2025 09:30:00 +0000\r\nMessage-ID: <invoice-1@vendor.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAmount due: 12.50 EUR\r\nThank you.\r\n",
    ),
];

pub struct Servers {
    pub imap: u16,
    pub pop3: u16,
    pub imaps: u16,
    pub pop3s: u16,
    /// The PEM of the CA that signed dovecot's certificate for `localhost`.
    pub ca_pem: String,
    pub mysql: u16,
    pub redis: u16,
    pub mqtt: u16,
    pub ftp: u16,
    ftp_passive: Vec<u16>,
    ftp_daemon: Daemon,
    _daemons: Vec<Daemon>,
}

impl Servers {
    /// Starts them all at once, then waits for each.
    pub fn start() -> Self {
        let (mail, mut dovecot) = dovecot();
        let (imap, pop3, imaps, pop3s) = (mail.imap, mail.pop3, mail.imaps, mail.pop3s);
        let (mysql, mut mariadb) = mariadb();
        let (redis, mut redis_server) = redis();
        let (mqtt, mut mosquitto) = mosquitto();
        let (ftp, ftp_passive, mut ftp_daemon) = ftp();
        dovecot.wait_ready(&[imap, pop3, imaps, pop3s], |_| true);
        // The account exists once the init file ran, which it does before this line.
        mariadb.wait_ready(&[mysql], |dir| {
            std::fs::read_to_string(dir.join("mariadb.log"))
                .is_ok_and(|log| log.contains("ready for connections"))
        });
        redis_server.wait_ready(&[redis], |_| true);
        mosquitto.wait_ready(&[mqtt], |_| true);
        ftp_daemon.wait_ready(&[ftp], |_| true);
        Self {
            imap,
            pop3,
            imaps,
            pop3s,
            ca_pem: mail.ca_pem,
            mysql,
            redis,
            mqtt,
            ftp,
            ftp_passive,
            ftp_daemon,
            _daemons: vec![dovecot, mariadb, redis_server, mosquitto],
        }
    }

    /// What the FTP server's root holds at `path` (the cases' uploads land there).
    pub fn ftp_file(&self, path: &str) -> Option<Vec<u8>> {
        std::fs::read(self.ftp_daemon.dir.path().join("root").join(path)).ok()
    }

    /// A rule for each server port (FTP's passive data ports too) and a prelude
    /// naming ports and accounts.
    pub fn setup(&self) -> Setup {
        let mut caps = Capabilities::default();
        let ports = [
            self.imap, self.pop3, self.imaps, self.pop3s, self.mysql, self.redis, self.mqtt,
            self.ftp,
        ];
        caps.net.rules = ports
            .iter()
            .chain(&self.ftp_passive)
            .map(|port| format!("127.0.0.1:{port}"))
            // TLS verifies a name: the mail cases connect to localhost for it.
            .chain([self.imap, self.pop3, self.imaps, self.pop3s].map(|p| format!("localhost:{p}")))
            .map(|rule| NetRule::parse(&rule).unwrap())
            .collect();
        // Both interpreters read the CA from a file: natively it is what verifies; in
        // the sandbox the host verifies with the same CA (`ca_pem`).
        let prelude = format!(
            "import tempfile as _t\nwith _t.NamedTemporaryFile('w', suffix='.pem', delete=False) as _f:\n    _f.write({:?})\nCA_FILE = _f.name\n\
             IMAP_PORT = {}\nPOP3_PORT = {}\nIMAPS_PORT = {}\nPOP3S_PORT = {}\nMAIL_USER = {MAIL_USER:?}\nMAIL_PASSWORD = {MAIL_PASSWORD:?}\n\
             MYSQL_PORT = {}\nMYSQL_USER = {MYSQL_USER:?}\nMYSQL_PASSWORD = {MYSQL_PASSWORD:?}\n\
             REDIS_PORT = {}\nMQTT_PORT = {}\n\
             FTP_PORT = {}\nFTP_USER = {FTP_USER:?}\nFTP_PASSWORD = {FTP_PASSWORD:?}\n",
            self.ca_pem,
            self.imap,
            self.pop3,
            self.imaps,
            self.pop3s,
            self.mysql,
            self.redis,
            self.mqtt,
            self.ftp
        );
        Setup {
            prelude,
            caps,
            ca_pem: Some(self.ca_pem.clone()),
        }
    }
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// dovecot's ports and the CA of its certificate.
struct Mail {
    imap: u16,
    pop3: u16,
    imaps: u16,
    pop3s: u16,
    ca_pem: String,
}

/// A CA and a certificate for `localhost` it signed: (CA PEM, certificate PEM, key PEM).
fn localhost_certificate() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "automa compat mail CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let leaf = params.signed_by(&key, &ca).unwrap();
    (ca.pem(), leaf.pem(), key.serialize_pem())
}

/// dovecot with a passwd-file account whose Maildir holds `MESSAGES`: IMAP and
/// POP3 with STARTTLS, IMAPS and POP3S; plain-text login is allowed without TLS
/// too (on loopback only).
fn dovecot() -> (Mail, Daemon) {
    let binary = program(&["/usr/sbin/dovecot"], "dovecot-imapd and dovecot-pop3d");
    let dir = Daemon::prepare();
    let root = dir.path();
    let (imap, pop3, imaps, pop3s) = (free_port(), free_port(), free_port(), free_port());
    let (ca_pem, cert_pem, key_pem) = localhost_certificate();
    write(&root.join("cert.pem"), &cert_pem);
    write(&root.join("key.pem"), &key_pem);
    let home = root.join("home");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(home.join("Maildir").join(sub)).unwrap();
    }
    for (name, text) in MESSAGES {
        write(&home.join("Maildir/cur").join(name), text);
    }
    write(
        &root.join("users"),
        &format!("{MAIL_USER}:{{PLAIN}}{MAIL_PASSWORD}\n"),
    );
    // Mail is never read as root: as root the mail processes run as nobody, who
    // must own the Maildir; otherwise as the test's own user.
    let (uid, gid, users) = if is_root() {
        Command::new("chown")
            .args(["-R", "65534:65534", &home.to_string_lossy()])
            .status()
            .unwrap();
        (65534, 65534, String::new())
    } else {
        use std::os::unix::fs::MetadataExt;
        let me = std::fs::metadata(root).unwrap();
        let name = std::env::var("USER").unwrap_or_else(|_| "nobody".into());
        (
            me.uid(),
            me.gid(),
            format!("default_internal_user = {name}\ndefault_login_user = {name}\n"),
        )
    };
    let root_text = root.to_string_lossy();
    write(
        &root.join("dovecot.conf"),
        &format!(
            "protocols = imap pop3\nlisten = 127.0.0.1\n{users}\
             base_dir = {root_text}/run\nstate_dir = {root_text}/state\n\
             log_path = /dev/stderr\ndisable_plaintext_auth = no\n\
             ssl = yes\nssl_cert = <{root_text}/cert.pem\nssl_key = <{root_text}/key.pem\n\
             auth_mechanisms = plain login\nmail_location = maildir:~/Maildir\n\
             first_valid_uid = 1\nfirst_valid_gid = 1\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN {root_text}/users\n}}\n\
             userdb {{\n  driver = static\n  args = uid={uid} gid={gid} home={}\n}}\n\
             service imap-login {{\n  inet_listener imap {{\n    port = {imap}\n  }}\n  inet_listener imaps {{\n    port = {imaps}\n    ssl = yes\n  }}\n}}\n\
             service pop3-login {{\n  inet_listener pop3 {{\n    port = {pop3}\n  }}\n  inet_listener pop3s {{\n    port = {pop3s}\n    ssl = yes\n  }}\n}}\n",
            home.display()
        ),
    );
    let mut command = Command::new(binary);
    command.arg("-F").arg("-c").arg(root.join("dovecot.conf"));
    let mail = Mail {
        imap,
        pop3,
        imaps,
        pop3s,
        ca_pem,
    };
    (mail, Daemon::spawn("dovecot", command, dir))
}

/// mariadbd on a data directory made by mariadb-install-db, with a database
/// `compat` and an account that logs in with a password (mysql_native_password).
fn mariadb() -> (u16, Daemon) {
    let server = program(&["/usr/sbin/mariadbd"], "mariadb-server");
    let install = program(&["/usr/bin/mariadb-install-db"], "mariadb-server");
    let dir = Daemon::prepare();
    let root = dir.path();
    let port = free_port();
    let data = root.join("data");
    let as_user: &[&str] = if is_root() { &["--user=root"] } else { &[] };
    let made = Command::new(install)
        .arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
        .args(as_user)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "mariadb-install-db: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    write(
        &root.join("init.sql"),
        &format!(
            "CREATE DATABASE IF NOT EXISTS compat;\n\
             CREATE USER IF NOT EXISTS '{MYSQL_USER}'@'127.0.0.1' IDENTIFIED BY '{MYSQL_PASSWORD}';\n\
             GRANT ALL ON compat.* TO '{MYSQL_USER}'@'127.0.0.1';\n"
        ),
    );
    let mut command = Command::new(server);
    command
        .arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .arg(format!("--socket={}", root.join("mysqld.sock").display()))
        .arg(format!("--pid-file={}", root.join("mysqld.pid").display()))
        .arg(format!("--init-file={}", root.join("init.sql").display()))
        .arg(format!("--port={port}"))
        .args([
            "--bind-address=127.0.0.1",
            "--skip-name-resolve",
            "--innodb-buffer-pool-size=16M",
            "--max-connections=50",
            "--character-set-server=utf8mb4",
        ])
        .args(as_user);
    (port, Daemon::spawn("mariadb", command, dir))
}

/// redis-server without persistence.
fn redis() -> (u16, Daemon) {
    let binary = program(&["/usr/bin/redis-server"], "redis-server");
    let dir = Daemon::prepare();
    let port = free_port();
    let mut command = Command::new(binary);
    command
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .arg("--dir")
        .arg(dir.path());
    (port, Daemon::spawn("redis", command, dir))
}

/// mosquitto (MQTT 3.1.1 and 5) for anonymous clients, without persistence.
fn mosquitto() -> (u16, Daemon) {
    let binary = program(&["/usr/sbin/mosquitto"], "mosquitto");
    let dir = Daemon::prepare();
    let port = free_port();
    let config = dir.path().join("mosquitto.conf");
    write(
        &config,
        &format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n"
        ),
    );
    let mut command = Command::new(binary);
    command.arg("-c").arg(&config);
    (port, Daemon::spawn("mosquitto", command, dir))
}

/// pyftpdlib (tests/support/ftp_server.py) serving `root/` to one account, with
/// `reports/summary.csv` in it and passive data connections on known ports.
fn ftp() -> (u16, Vec<u16>, Daemon) {
    let dir = Daemon::prepare();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("reports")).unwrap();
    std::fs::create_dir_all(root.join("uploads")).unwrap();
    write(
        &root.join("reports/summary.csv"),
        "job,runs,failures\nbackup,31,0\nreport,31,2\nsync,744,5\n",
    );
    let port = free_port();
    let passive: Vec<u16> = (0..FTP_PASSIVE_PORTS).map(|_| free_port()).collect();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/support/ftp_server.py"
    );
    let python = std::env::var("AUTOMA_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let passive_text: Vec<String> = passive.iter().map(u16::to_string).collect();
    let mut command = Command::new(python);
    command
        .arg(script)
        .arg(port.to_string())
        .arg(passive_text.join(","))
        .arg(&root)
        .args([FTP_USER, FTP_PASSWORD]);
    (port, passive, Daemon::spawn("ftp", command, dir))
}
