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
