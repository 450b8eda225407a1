//! A real SMTP server for tests (aiosmtpd, see `smtp_sink.py`), shared by the
//! runtime and API test binaries.
#![allow(clippy::unwrap_used, dead_code)]

use std::time::Duration;

/// A real SMTP server (aiosmtpd) that appends each message to a file.
pub struct SmtpServer {
    child: std::process::Child,
    pub port: u16,
    mailbox: tempfile::TempDir,
}

impl SmtpServer {
    pub fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mailbox = tempfile::tempdir().unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/support/smtp_sink.py");
        let python = std::env::var("AUTOMA_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let mut child = std::process::Command::new(python)
            .arg(script)
            .arg(port.to_string())
            .arg(mailbox.path())
            .spawn()
            .expect("start the SMTP test server (needs aiosmtpd: see scripts/test)");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Self {
                    child,
                    port,
                    mailbox,
                };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("the SMTP test server did not start");
    }

    pub fn messages(&self) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(self.mailbox.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }

    /// Wait until at least `n` messages arrived (or a few seconds passed).
    pub async fn wait_for(&self, n: usize) -> Vec<String> {
        for _ in 0..100 {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.messages()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
