//! `automa run` as a user runs it: the real binary, real files, exit codes and JSON.
#![allow(clippy::unwrap_used)]

mod audit_retention;
mod backup;
mod remote;
mod retention;
mod server;
mod sync;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("automa-cache")
}

fn automa_run(script: &str, extra: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("job.py");
    std::fs::write(&path, script).unwrap();
    Command::new(env!("CARGO_BIN_EXE_automa"))
        .arg("run")
        .arg(&path)
        .args(extra)
        .env("AUTOMA_CACHE_DIR", cache_dir())
        .env("AUTOMA_TEST_LEAK", "host-only")
        .output()
        .unwrap()
}

fn outcome(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

#[test]
fn prints_output_and_result_and_exits_zero() {
    let output = automa_run(
        "def main(name, count=1, flags=None):\n    print('hello', name)\n    return {'count': count, 'flags': flags}\n",
        &[
            "--arg",
            "name=world",
            "--arg",
            "count=3",
            "--arg",
            "flags=[1,2]",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "hello world\n{\"count\":3,\"flags\":[1,2]}\n"
    );
}

#[test]
fn json_outcome_has_every_field() {
    let output = automa_run(
        "import os\nprint(os.environ.get('AUTOMA_TEST_LEAK'))\n",
        &["--json"],
    );
    assert!(output.status.success(), "{output:?}");
    let outcome = outcome(&output);
    assert_eq!(outcome["status"], "succeeded");
    assert_eq!(outcome["stdout"], "None\n");
    assert_eq!(outcome["result"], Value::Null);
    assert_eq!(outcome["error"], Value::Null);
    assert!(outcome["duration_ms"].as_u64().is_some());
    assert!(outcome["peak_memory_bytes"].as_u64().unwrap() > 0);
}

#[test]
fn failures_have_distinct_exit_codes() {
    let failed = automa_run("raise RuntimeError('boom')\n", &[]);
    assert_eq!(failed.status.code(), Some(1));
    let stderr = String::from_utf8(failed.stderr).unwrap();
    assert!(stderr.contains("RuntimeError: boom"), "{stderr}");
    assert!(stderr.contains("job.py\", line 1"), "{stderr}");

    let timed_out = automa_run("while True:\n    pass\n", &["--timeout", "300ms", "--json"]);
    assert_eq!(timed_out.status.code(), Some(3));
    assert_eq!(outcome(&timed_out)["status"], "timed_out");

    let memory = automa_run(
        "x = []\nwhile True:\n    x.append(bytearray(8 * 1024 * 1024))\n",
        &["--memory", "64MiB", "--json"],
    );
    assert_eq!(memory.status.code(), Some(4));
    assert_eq!(outcome(&memory)["status"], "memory_exceeded");

    let cpu = automa_run(
        "while True:\n    pass\n",
        &["--cpu-seconds", "0.5", "--timeout", "60s", "--json"],
    );
    assert_eq!(cpu.status.code(), Some(5));
    let cpu = outcome(&cpu);
    assert_eq!(cpu["status"], "cpu_exceeded");
    assert!(cpu["fuel_consumed"].is_null(), "{cpu}");
    let ms = cpu["cpu_time_ms"].as_u64().unwrap();
    assert!((500..3_000).contains(&ms), "thread CPU time: {cpu}");

    let fuel = automa_run(
        "while True:\n    pass\n",
        &["--cpu-seconds", "0.5", "--deterministic-cpu", "--json"],
    );
    assert_eq!(fuel.status.code(), Some(5));
    let fuel = outcome(&fuel);
    assert_eq!(fuel["status"], "cpu_exceeded");
    assert_eq!(fuel["fuel_consumed"], 2_500_000_000u64, "{fuel}");
    assert!(fuel["cpu_time_ms"].as_u64().unwrap() > 0);
}

#[test]
fn bad_usage_is_explained() {
    let output = automa_run("print(1)\n", &["--arg", "no-equals-sign"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .contains("KEY=VALUE")
    );
    let output = automa_run("print(1)\n", &["--allow-http", "ftp://example.com"]);
    assert_eq!(output.status.code(), Some(2));
    let output = automa_run("print(1)\n", &["--cpu-seconds", "0"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("not a number of CPU seconds"), "{stderr}");
    let missing = Command::new(env!("CARGO_BIN_EXE_automa"))
        .args(["run", "/nonexistent/script.py"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        String::from_utf8(missing.stderr)
            .unwrap()
            .contains("cannot read")
    );
}

#[test]
fn granted_secrets_are_redacted_from_what_is_printed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("job.py");
    std::fs::write(
        &path,
        "import automa, sys\nv = automa.secrets.get('API_TOKEN')\nprint('token', v)\nautoma.log.info('log ' + v)\nsys.stdout.write('tail ' + v)\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_automa"))
        .arg("run")
        .arg(&path)
        .args(["--secret", "API_TOKEN"])
        .env("AUTOMA_CACHE_DIR", cache_dir())
        .env("API_TOKEN", "cli-s3cr3t-55")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    // Whole lines, and the unterminated last one once the run is over.
    assert_eq!(stdout, "token [REDACTED]\ntail [REDACTED]");
    assert!(
        stderr.contains("log [REDACTED]") && !stderr.contains("cli-s3cr3t-55"),
        "{stderr}"
    );
}

/// A loopback echo server for one connection at a time, on a thread.
fn echo_server() -> std::net::SocketAddr {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut buf = [0u8; 1024];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 || stream.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    });
    addr
}

#[test]
fn allow_net_admits_one_host_and_port_and_refuses_the_rest() {
    let addr = echo_server();
    let other = echo_server();
    let script = format!(
        "import socket\n\
         s = socket.create_connection(('127.0.0.1', {port}), timeout=5)\n\
         s.sendall(b'ping')\n\
         print('echo', s.recv(16).decode())\n\
         s.close()\n\
         try:\n    socket.create_connection(('127.0.0.1', {other}), timeout=5)\n\
         except PermissionError as e:\n    print('denied:', e)\n",
        port = addr.port(),
        other = other.port()
    );
    let output = automa_run(&script, &["--allow-net", &addr.to_string()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("echo ping"), "{stdout}");
    let grant = format!("--allow-net {other}");
    assert!(
        stdout.contains("denied:") && stdout.contains(&grant),
        "{stdout}"
    );
}

#[test]
fn bad_net_flags_are_explained() {
    let output = automa_run("print(1)\n", &["--allow-net", "db.example.com"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("HOST:PORT"));
    let output = automa_run("print(1)\n", &["--ca-cert", "/nonexistent/ca.pem"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/ca.pem"));
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("ca.pem");
    std::fs::write(&not_pem, "not a certificate\n").unwrap();
    let output = automa_run("print(1)\n", &["--ca-cert", not_pem.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no PEM certificate"));
}
