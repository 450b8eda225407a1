//! The standard library inside the sandbox, and parity with native CPython.
#![allow(clippy::unwrap_used)]

mod common;

use automa_runtime::RunStatus;
use common::run;

/// The module names listed in `python-wasm/guest/automa_stdlib.py`.
fn listed_modules() -> Vec<String> {
    let source = automa_python_wasm::STDLIB_MODULES_SOURCE;
    let start = source.find("MODULES = [").unwrap();
    let end = start + source[start..].find(']').unwrap();
    source[start..end]
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn every_listed_module_imports_in_the_sandbox() {
    let modules = listed_modules();
    assert!(modules.len() > 100, "{}", modules.len());
    let script = format!(
        "import importlib\nfailed = []\nfor name in {modules:?}:\n    try:\n        importlib.import_module(name)\n    except Exception as e:\n        failed.append(f'{{name}}: {{e!r}}')\nprint(failed)\n"
    );
    let outcome = run(&script).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(outcome.stdout, "[]\n");
}

#[tokio::test]
async fn modules_work_not_just_import() {
    let script = r#"
import csv, io, json, re, sqlite3, hashlib, hmac, base64, statistics, decimal, html.parser
import xml.etree.ElementTree as ET
from email.message import EmailMessage
from urllib.parse import urlencode, urlparse
buf = io.StringIO()
csv.writer(buf).writerow(["a", "b,c"])
db = sqlite3.connect(":memory:")
db.execute("create table t (x)")
db.executemany("insert into t values (?)", [(1,), (2,), (3,)])
total = db.execute("select sum(x) from t").fetchone()[0]
class P(html.parser.HTMLParser):
    tags = []
    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
p = P(); p.feed("<p><a href='x'>y</a></p>")
msg = EmailMessage(); msg["Subject"] = "hi"; msg.set_content("body")
print(buf.getvalue().strip(), total, p.tags, ET.fromstring("<r><i>1</i></r>").find("i").text)
print(hashlib.sha256(b"x").hexdigest()[:8], hmac.new(b"k", b"m", "sha256").hexdigest()[:8])
print(base64.b64encode(b"automa").decode(), statistics.median([3, 1, 2]), decimal.Decimal("0.1") * 3)
print(urlparse("https://a.example/p?q=1").netloc, urlencode({"a": "b c"}), msg["Subject"])
"#;
    let outcome = run(script).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(
        outcome.stdout,
        "a,\"b,c\" 6 ['p', 'a'] 1\n2d711642 b60090e3\nYXV0b21h 2 0.3\na.example a=b+c hi\n"
    );
}

/// Ordinary scripts print the same in the sandbox as under the machine's python3.
#[tokio::test]
async fn ordinary_scripts_match_native_python() {
    let scripts = [
        "print('hello, world')",
        "import json\nprint(json.dumps({'b': [1, 2.5, None, True], 'a': 'é'}, sort_keys=True, indent=2))",
        "words = 'the quick brown fox jumps over the lazy dog the end'.split()\nfrom collections import Counter\nprint(Counter(words).most_common(3))",
        "from datetime import date, timedelta\nd = date(2024, 2, 28)\nprint([str(d + timedelta(days=i)) for i in range(3)])",
        "import re\nprint(re.findall(r'(\\w+)@(\\w+)\\.com', 'a@b.com, c@d.com'))",
        "def fib(n):\n    return n if n < 2 else fib(n-1) + fib(n-2)\nprint([fib(i) for i in range(15)])",
        "import math\nprint(f'{math.pi:.6f} {math.sqrt(2):.4f} {2**100}')",
        "import sys\nprint('to stdout')\nprint(sorted({3, 1, 2}), {'x': 1} | {'y': 2})",
    ];
    for script in scripts {
        let native = std::process::Command::new("python3")
            .args(["-I", "-c", script])
            .output()
            .unwrap();
        assert!(native.status.success(), "native python3 failed on {script}");
        let outcome = run(script).await;
        assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
        assert_eq!(
            outcome.stdout,
            String::from_utf8(native.stdout).unwrap(),
            "{script}"
        );
    }
}

/// Every public module of the standard library imports, submodules included, except
/// the ones the sandbox documents as impossible; those fail with their reason.
#[tokio::test]
async fn the_whole_standard_library_imports() {
    let script = r#"
import importlib, pkgutil, sys
import automa_sandbox
unavailable = set(automa_sandbox.UNAVAILABLE) | automa_sandbox.WINDOWS_ONLY
# Importing these has side effects (a browser, printing the Zen of Python).
side_effects = {"antigravity", "this"}
failed, imported = [], 0
def try_import(name):
    global imported
    try:
        importlib.import_module(name)
        imported += 1
        return True
    except BaseException as e:
        failed.append(f"{name}: {type(e).__name__}: {e}")
        return False
for top in sorted(sys.stdlib_module_names):
    if top.startswith("_") or top in unavailable or top in side_effects:
        continue
    if not try_import(top):
        continue
    module = sys.modules[top]
    if hasattr(module, "__path__"):
        for info in pkgutil.walk_packages(module.__path__, top + "."):
            parts = info.name.split(".")
            if "__main__" in parts or "tests" in parts or "test" in parts or info.name in unavailable:
                continue
            try_import(info.name)
print(imported)
print("\n".join(failed))
for name in sorted(automa_sandbox.UNAVAILABLE):
    try:
        importlib.import_module(name)
        print("imported", name)
    except ImportError as e:
        assert "not available in the Automa sandbox" in str(e), e
"#;
    let outcome = run(script).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    let mut lines = outcome.stdout.lines();
    let imported: usize = lines.next().unwrap().parse().unwrap();
    let failures: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(imported > 400, "only {imported} modules imported");
}

/// Every codec of `encodings` round-trips text (or bytes, for the bytes codecs).
#[tokio::test]
async fn every_codec_round_trips() {
    let script = r#"
import codecs, encodings, os, pkgutil
import automa_sandbox
# `undefined` refuses everything on purpose; bz2 is listed as unavailable.
names = sorted(m.name for m in pkgutil.iter_modules(encodings.__path__)
               if m.name not in ("aliases", "undefined") and f"encodings.{m.name}" not in automa_sandbox.UNAVAILABLE)
failed, checked = [], 0
for name in names:
    try:
        info = codecs.lookup(name)
    except LookupError as e:
        # Windows-only code pages exist only on Windows.
        if f"encodings.{name}" in automa_sandbox.WINDOWS_ONLY or name == "_win_cp_codecs":
            continue
        failed.append(f"{name}: {e}")
        continue
    try:
        if info._is_text_encoding:
            sample = "Automa 123" if name not in ("idna", "punycode") else "bücher"
            assert codecs.decode(codecs.encode(sample, name), name) == sample
        elif name == "rot_13":
            assert codecs.decode(codecs.encode("abc", name), name) == "abc"
        else:
            assert codecs.decode(codecs.encode(b"automa", name), name) == b"automa"
        checked += 1
    except Exception as e:
        failed.append(f"{name}: {type(e).__name__}: {e}")
print(checked, failed)
print("bücher.example".encode("idna"), "é".encode("latin-1"), "é".encode("cp1252"), "é".encode("utf-16-le"), "é".encode("cp437"))
"#;
    let outcome = run(script).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    let first = outcome.stdout.lines().next().unwrap();
    let (checked, failed) = first.split_once(' ').unwrap();
    assert_eq!(failed, "[]", "{}", outcome.stdout);
    assert!(checked.parse::<usize>().unwrap() > 100, "{first}");
    assert!(
        outcome
            .stdout
            .ends_with("b'xn--bcher-kva.example' b'\\xe9' b'\\xe9' b'\\xe9\\x00' b'\\x82'\n"),
        "{}",
        outcome.stdout
    );
}

/// The calls that needed a lazily imported submodule, and a few whole modules at work.
#[tokio::test]
async fn lazily_imported_parts_work() {
    let script = r#"
import configparser, datetime, time, unittest, io, xml.sax, email.message
print(datetime.datetime.strptime("2026-12-01 09:30", "%Y-%m-%d %H:%M").isoformat())
print(time.strptime("01/12/2026", "%d/%m/%Y").tm_yday)
msg = email.message.EmailMessage()
msg["To"] = "a@example.org"; msg["Subject"] = "Grüße"; msg.set_content("héllo")
raw = msg.as_bytes()
print(b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=" in raw, "h\xc3\xa9llo".encode("latin-1") in raw)
cp = configparser.ConfigParser()
cp.read_string("[db]\nhost = localhost\nport = 5432\n")
print(cp["db"]["host"], cp.getint("db", "port"))
class T(unittest.TestCase):
    def test_ok(self):
        self.assertEqual(1 + 1, 2)
    def test_bad(self):
        self.assertEqual(1, 2)
stream = io.StringIO()
result = unittest.TextTestRunner(stream=stream, verbosity=0).run(unittest.defaultTestLoader.loadTestsFromTestCase(T))
print(result.testsRun, len(result.failures))
class H(xml.sax.ContentHandler):
    names = []
    def startElement(self, name, attrs):
        self.names.append(name)
h = H(); xml.sax.parseString(b"<a><b/><c/></a>", h)
print(h.names)
"#;
    let outcome = run(script).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(
        outcome.stdout,
        "2026-12-01T09:30:00\n335\nTrue True\nlocalhost 5432\n2 1\n['a', 'b', 'c']\n"
    );
}

/// Tracebacks and `inspect.getsource` show the script's own lines and the stdlib's.
#[tokio::test]
async fn tracebacks_and_inspect_have_source_lines() {
    let script = r#"
import inspect, json, traceback

def helper(x):
    """Doubles x."""
    return x * 2

print(inspect.getsource(helper).splitlines()[0])
try:
    json.loads("{not json")
except ValueError:
    text = traceback.format_exc()
    print("obj, end = self.scan_once(s, idx)" in text or "raise JSONDecodeError" in text)
    print('json.loads("{not json")' in text)

def main():
    return 1 / 0
"#;
    let outcome = run(script).await;
    assert_eq!(
        outcome.status,
        automa_runtime::RunStatus::Failed,
        "{outcome:?}"
    );
    assert_eq!(outcome.stdout, "def helper(x):\nTrue\nTrue\n");
    let error = outcome.error.unwrap();
    assert_eq!(error.kind, "ZeroDivisionError");
    assert!(
        error.traceback.contains("return 1 / 0"),
        "{}",
        error.traceback
    );
}

/// Modules outside the snapshot load from byte code the runtime compiled once, and
/// the standard library cannot be written to by a script.
#[tokio::test]
async fn the_standard_library_is_compiled_and_read_only() {
    let script = r#"
import importlib.util, mailbox, os, unittest.mock
for module in (mailbox, unittest.mock):
    print(os.path.exists(importlib.util.cache_from_source(module.__file__)))
try:
    open("/python/os.py", "a").write("tampered")
except OSError as e:
    print("read-only")
"#;
    let outcome = run(script).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(
        outcome.stdout,
        "True
True
read-only
"
    );
}

/// Operations the sandbox cannot do fail with the rule, not deep inside a library.
#[tokio::test]
async fn process_operations_name_the_sandbox_rule() {
    let script = r#"
import subprocess, os, multiprocessing, threading, concurrent.futures
for call in (lambda: subprocess.run(["ls"]), lambda: os.system("ls"),
             lambda: multiprocessing.Process(target=print).start(),
             lambda: concurrent.futures.ProcessPoolExecutor()):
    try:
        call()
        print("ran")
    except PermissionError as e:
        print("refused:", "programs cannot be started" in str(e))
try:
    threading.Thread(target=print).start()
except RuntimeError as e:
    print("no threads:", "sandbox has no threads" in str(e))
with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
    print(list(pool.map(lambda x: x * x, range(5))), pool.submit(divmod, 7, 2).result())
"#;
    let outcome = run(script).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(
        outcome.stdout,
        format!(
            "{}no threads: True\n[0, 1, 4, 9, 16] (3, 1)\n",
            "refused: True\n".repeat(4)
        )
    );
}

/// `importlib.metadata` finds packages mounted at `/packages`, as pip installed them.
#[tokio::test]
async fn importlib_metadata_sees_mounted_packages() {
    let packages = tempfile::tempdir().unwrap();
    let dist = packages.path().join("greeter-1.4.2.dist-info");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("METADATA"),
        "Metadata-Version: 2.1\nName: greeter\nVersion: 1.4.2\n",
    )
    .unwrap();
    std::fs::create_dir_all(packages.path().join("greeter")).unwrap();
    std::fs::write(
        packages.path().join("greeter/__init__.py"),
        "import importlib.metadata\n__version__ = importlib.metadata.version('greeter')\n",
    )
    .unwrap();
    let recorder = std::sync::Arc::new(common::Recorder::default());
    let mut request = common::request(
        "import greeter, importlib.resources\nprint(greeter.__version__)\nprint(importlib.resources.files('greeter').joinpath('__init__.py').read_text().startswith('import'))\n",
        Default::default(),
        &recorder,
    );
    request.mounts.packages = Some(packages.path().to_path_buf());
    let outcome = common::runtime().run(request).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(outcome.stdout, "1.4.2\nTrue\n");
}

/// An environment compiled by the runtime imports from byte code made for the
/// sandbox's CPython, with tracebacks naming `/packages/...`.
#[tokio::test]
async fn compiled_packages_load_from_byte_code() {
    let packages = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(packages.path().join("tool")).unwrap();
    std::fs::write(
        packages.path().join("tool/__init__.py"),
        "def fail():\n    raise ValueError('from the package')\n",
    )
    .unwrap();
    common::runtime()
        .compile_packages(packages.path())
        .await
        .unwrap();
    assert!(
        packages
            .path()
            .join("tool/__pycache__/__init__.cpython-314.pyc")
            .is_file()
    );
    let recorder = std::sync::Arc::new(common::Recorder::default());
    let mut request = common::request(
        "import tool, os\nprint(os.path.exists(tool.__cached__))\ntool.fail()\n",
        Default::default(),
        &recorder,
    );
    request.mounts.packages = Some(packages.path().to_path_buf());
    let outcome = common::runtime().run(request).await;
    assert_eq!(outcome.stdout, "True\n", "{outcome:?}");
    let error = outcome.error.unwrap();
    assert!(
        error.traceback.contains("/packages/tool/__init__.py")
            && error
                .traceback
                .contains("raise ValueError('from the package')"),
        "{}",
        error.traceback
    );
}
