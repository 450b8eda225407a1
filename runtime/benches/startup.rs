//! Instance start and CPU-bound speed of the runtime: prints numbers, asserts nothing.
//!
//! `cargo bench -p automa-runtime --bench startup` prints, for each engine set-up:
//! - a trivial run (`print(1)`) with a warm engine, median and p99, and where its time
//!   goes (WASI context, mounts, store, instantiation, the guest's call and, within it,
//!   the time until the script's first bytecode runs, output, teardown) and the minor
//!   page faults it took;
//! - how late an endless loop ends past its time limit;
//! - a pyperformance-style set of CPU-bound scripts, each as a ratio to native python3
//!   on this machine, and their geometric mean.
//!
//! `STARTUP_ONLY=1` skips the CPU set; `CPU_ONLY=1` the trivial runs; `DISK_ONLY=1`
//! times writes through the disk quotas instead. `STARTUP_SETUPS=1,4` and `CPU_SETUPS=2`
//! pick set-ups (1-based, in the order each part prints them).

use automa_runtime::host::ports::Nothing;
use automa_runtime::host::{Capabilities, HostContext, ReqwestClient};
use automa_runtime::{
    CancellationToken, Limits, Mounts, RunOutcome, RunPhases, RunRequest, RunStatus, Runtime,
    RuntimeConfig,
};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How many trivial runs are timed per set-up (after a warm-up).
const TRIVIAL_RUNS: usize = 300;

/// The script's first line reports the wall clock (the guest's clock is the host's), and
/// then when the call entered the runner's Python code (`automa_exec.entered_ns`).
const FIRST_LINE: &str = "import time; t = time.time_ns()\nprint(1)\nprint(t)\n\
     import automa_exec; print(automa_exec.entered_ns)\n";

// Each prints the milliseconds of its own work (interpreter start not included).
const RICHARDS: &str = r#"
import time
class Packet:
    __slots__ = ("dest", "kind", "data")
    def __init__(self, dest, kind):
        self.dest, self.kind, self.data = dest, kind, [0, 0, 0, 0]
class Task:
    def __init__(self, ident, prio):
        self.ident, self.prio, self.inbox, self.handled = ident, prio, [], 0
    def step(self, sched):
        packet = self.inbox.pop()
        self.handled += 1
        self.work(sched, packet)
class Worker(Task):
    def work(self, sched, p):
        for i in range(4):
            p.data[i] = (p.data[i] + self.handled + i) % 26
        p.dest = 2 if p.dest == 3 else 3
        sched.send(p)
class Handler(Task):
    def work(self, sched, p):
        p.kind ^= 1
        p.dest = 4 + (p.data[0] & 1)
        sched.send(p)
class Device(Task):
    def work(self, sched, p):
        sched.holds += 1
        p.dest = 1
        sched.send(p)
class Scheduler:
    def __init__(self):
        self.tasks = [Worker(1, 10), Handler(2, 20), Handler(3, 30), Device(4, 40), Device(5, 50)]
        self.by_id = {t.ident: t for t in self.tasks}
        self.tasks.sort(key=lambda t: -t.prio)
        self.holds = self.sent = 0
    def send(self, p):
        self.sent += 1
        self.by_id[p.dest].inbox.append(p)
    def run(self, steps):
        for _ in range(steps):
            for t in self.tasks:
                if t.inbox:
                    t.step(self)
                    break
        return self.sent, self.holds
start = time.perf_counter()
for _ in range(8):
    s = Scheduler()
    for i in range(4):
        s.send(Packet(1 + i % 3, i & 1))
    result = s.run(40000)
print(f"{(time.perf_counter() - start) * 1000:.3f}")
"#;
const NBODY: &str = r#"
import time
PI = 3.14159265358979323
DAYS = 365.24
SOLAR = 4 * PI * PI
def bodies():
    return [
        [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], SOLAR],
        [[4.84, -1.16, -0.10], [0.606 * DAYS / 365, 2.81 * DAYS / 365, -0.02], 9.5e-4 * SOLAR],
        [[8.34, 4.12, -0.40], [-1.01, 1.82, 0.008], 2.85e-4 * SOLAR],
        [[12.89, -15.11, -0.22], [1.08, 0.86, -0.01], 4.36e-5 * SOLAR],
        [[15.37, -25.91, 0.17], [0.97, 0.59, -0.03], 5.15e-5 * SOLAR],
    ]
def advance(system, dt, n):
    pairs = [(system[i], system[j]) for i in range(len(system)) for j in range(i + 1, len(system))]
    for _ in range(n):
        for ((p1, v1, m1), (p2, v2, m2)) in pairs:
            dx, dy, dz = p1[0] - p2[0], p1[1] - p2[1], p1[2] - p2[2]
            mag = dt * ((dx * dx + dy * dy + dz * dz) ** -1.5)
            b1, b2 = m1 * mag, m2 * mag
            v1[0] -= dx * b2; v1[1] -= dy * b2; v1[2] -= dz * b2
            v2[0] += dx * b1; v2[1] += dy * b1; v2[2] += dz * b1
        for (p, v, m) in system:
            p[0] += dt * v[0]; p[1] += dt * v[1]; p[2] += dt * v[2]
start = time.perf_counter()
system = bodies()
advance(system, 0.01, 60000)
print(f"{(time.perf_counter() - start) * 1000:.3f}")
"#;
const FLOAT: &str = r#"
import time
from math import sin, cos, sqrt
class Point:
    __slots__ = ("x", "y", "z")
    def __init__(self, i):
        self.x = x = sin(i)
        self.y = cos(i) * 3
        self.z = (x * x) / 2
    def normalize(self):
        norm = sqrt(self.x * self.x + self.y * self.y + self.z * self.z)
        self.x /= norm; self.y /= norm; self.z /= norm
    def maximize(self, other):
        self.x = max(self.x, other.x); self.y = max(self.y, other.y); self.z = max(self.z, other.z)
        return self
start = time.perf_counter()
for _ in range(3):
    points = [Point(i) for i in range(100000)]
    for p in points:
        p.normalize()
    best = points[0]
    for p in points[1:]:
        best = best.maximize(p)
print(f"{(time.perf_counter() - start) * 1000:.3f}")
"#;
const JSON: &str = r#"
import json, time
doc = {"users": [{"id": i, "name": f"user{i}", "email": f"u{i}@example.org", "active": i % 3 == 0,
                  "score": i * 1.5, "tags": ["a", "b", str(i % 10)], "meta": {"x": i, "y": None}}
                 for i in range(2000)]}
start = time.perf_counter()
for _ in range(24):
    text = json.dumps(doc)
    back = json.loads(text)
    assert back["users"][5]["id"] == 5
print(f"{(time.perf_counter() - start) * 1000:.3f}")
"#;
const REGEX: &str = r#"
import re, time
words = ["alpha", "beta", "gamma", "delta", "error", "warning", "2026-12-01", "10.0.0.1", "user@example.org"]
text = "\n".join(" ".join(words[(i * 7 + j) % len(words)] for j in range(12)) for i in range(4000))
patterns = [re.compile(p) for p in (r"\b\d{4}-\d{2}-\d{2}\b", r"(\d+)\.(\d+)\.(\d+)\.(\d+)",
            r"[\w.]+@[\w.]+", r"^(\w+) .*error", r"(?i)WARN\w*", r"\b(\w)(\w)?\w*\2\b")]
start = time.perf_counter()
total = 0
for _ in range(3):
    for p in patterns:
        total += len(p.findall(text))
    total += len(re.sub(r"\s+", " ", text))
print(f"{(time.perf_counter() - start) * 1000:.3f}")
"#;
const DELTABLUE: &str = r#"
import time
class Variable:
    def __init__(self, name, value):
        self.name, self.value, self.constraints, self.determined_by, self.stay = name, value, [], None, True
class Constraint:
    def __init__(self, strength):
        self.strength, self.satisfied = strength, False
class Equal(Constraint):
    def __init__(self, a, b, strength):
        super().__init__(strength)
        self.a, self.b = a, b
        a.constraints.append(self); b.constraints.append(self)
    def execute(self):
        self.b.value = self.a.value
class Scale(Constraint):
    def __init__(self, a, b, scale, offset, strength):
        super().__init__(strength)
        self.a, self.b, self.scale, self.offset = a, b, scale, offset
        a.constraints.append(self); b.constraints.append(self)
    def execute(self):
        self.b.value = self.a.value * self.scale + self.offset
class Planner:
    def plan(self, source):
        plan, todo, seen = [], [source], {id(source)}
        while todo:
            v = todo.pop()
            for c in sorted(v.constraints, key=lambda c: -c.strength):
                if c.a is v and id(c.b) not in seen:
                    seen.add(id(c.b)); c.b.determined_by = c; c.satisfied = True
                    plan.append(c); todo.append(c.b)
        return plan
def chain(n):
    vs = [Variable(f"v{i}", 0) for i in range(n)]
    for i in range(n - 1):
        Equal(vs[i], vs[i + 1], i % 3)
    return vs
def projection(n):
    src = [Variable(f"s{i}", i) for i in range(n)]
    dst = [Variable(f"d{i}", 0) for i in range(n)]
    scale, offset = 10, 1000
    for s, d in zip(src, dst):
        Scale(s, d, scale, offset, 2)
    return src, dst
start = time.perf_counter()
planner = Planner()
for _ in range(30):
    vs = chain(1000)
    for value in range(10):
        vs[0].value = value
        for c in planner.plan(vs[0]):
            c.execute()
        assert vs[-1].value == value
    src, dst = projection(1000)
    for s in src:
        for c in planner.plan(s):
            c.execute()
    assert dst[3].value == 1030
print(f"{(time.perf_counter() - start) * 1000:.3f}")
"#;
const CHAOS: &str = r#"
import random, time
from math import sqrt
class Spline:
    def __init__(self, points):
        self.points = points
    def at(self, t):
        (x0, y0), (x1, y1), (x2, y2) = self.points
        u = 1 - t
        return (u * u * x0 + 2 * u * t * x1 + t * t * x2, u * u * y0 + 2 * u * t * y1 + t * t * y2)
def transform(point, spline, rng):
    x, y = point
    t = rng.random()
    sx, sy = spline.at(t)
    nx, ny = (x + sx) / 2, (y + sy) / 2
    length = sqrt(nx * nx + ny * ny) or 1.0
    return (nx / length * min(length, 1.0), ny / length * min(length, 1.0))
start = time.perf_counter()
rng = random.Random(1234)
splines = [Spline([(rng.random(), rng.random()) for _ in range(3)]) for _ in range(3)]
grid = [[0] * 256 for _ in range(256)]
point = (0.5, 0.5)
for _ in range(150000):
    point = transform(point, splines[rng.randrange(3)], rng)
    gx, gy = int((point[0] + 1) * 127.5), int((point[1] + 1) * 127.5)
    grid[gy][gx] += 1
print(f"{(time.perf_counter() - start) * 1000:.3f}")
"#;
const GO: &str = r#"
import random, time
SIZE = 9
NEIGHBOURS = [[n for n in (i - SIZE, i + SIZE, i - 1 if i % SIZE else -1, i + 1 if (i + 1) % SIZE else -1)
               if 0 <= n < SIZE * SIZE] for i in range(SIZE * SIZE)]
def group(board, start):
    colour, stones, libs, todo = board[start], {start}, set(), [start]
    while todo:
        p = todo.pop()
        for n in NEIGHBOURS[p]:
            if board[n] == 0:
                libs.add(n)
            elif board[n] == colour and n not in stones:
                stones.add(n); todo.append(n)
    return stones, libs
def play(board, p, colour):
    board[p] = colour
    for n in NEIGHBOURS[p]:
        if board[n] == -colour:
            stones, libs = group(board, n)
            if not libs:
                for s in stones:
                    board[s] = 0
    stones, libs = group(board, p)
    if not libs:
        board[p] = 0
        return False
    return True
def playout(rng):
    board, colour, passes, moves = [0] * (SIZE * SIZE), 1, 0, 0
    while passes < 2 and moves < 200:
        empty = [i for i, v in enumerate(board) if v == 0]
        rng.shuffle(empty)
        for p in empty[:8]:
            if play(board, p, colour):
                passes = 0
                break
        else:
            passes += 1
        colour, moves = -colour, moves + 1
    return sum(board)
start = time.perf_counter()
rng = random.Random(42)
score = sum(playout(rng) for _ in range(60))
print(f"{(time.perf_counter() - start) * 1000:.3f}")
"#;
const CPU_SET: [(&str, &str); 8] = [
    ("richards", RICHARDS),
    ("nbody", NBODY),
    ("float", FLOAT),
    ("json dumps/loads", JSON),
    ("regex", REGEX),
    ("deltablue-lite", DELTABLUE),
    ("chaos-lite", CHAOS),
    ("go-like board", GO),
];

fn eager_tables(config: &mut wasmtime::Config) {
    config.table_lazy_init(false);
}

fn no_epoch(config: &mut wasmtime::Config) {
    config.epoch_interruption(false);
}

struct Setup {
    name: &'static str,
    pooled_instances: u32,
    tune: Option<fn(&mut wasmtime::Config)>,
    /// Timed on the trivial run.
    startup: bool,
    /// Timed on the CPU set.
    cpu: bool,
    /// Count fuel (the CPU budget of `cpu_seconds`).
    fuel: bool,
    /// Whether its runs can be stopped at a deadline at all.
    deadline: bool,
    /// The next run's instance made ahead (`spare_instance`).
    spare: bool,
}

fn main() -> anyhow::Result<()> {
    let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/automa-bench-cache");
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let disk_only = std::env::var_os("DISK_ONLY").is_some();
    let startup = std::env::var_os("CPU_ONLY").is_none() && !disk_only;
    let cpu = std::env::var_os("STARTUP_ONLY").is_none() && !disk_only;
    let defaults = RuntimeConfig::default();
    let setups = [
        Setup {
            name: "default engine: budgets in thread CPU time, epoch interruption (1 ms ticker)",
            pooled_instances: defaults.pooled_instances,
            tune: None,
            startup: true,
            cpu: true,
            fuel: defaults.fuel,
            deadline: true,
            spare: true,
        },
        Setup {
            name: "default engine without a spare instance (spare_instance = false)",
            pooled_instances: defaults.pooled_instances,
            tune: None,
            startup: true,
            cpu: false,
            fuel: defaults.fuel,
            deadline: true,
            spare: false,
        },
        Setup {
            name: "deterministic_cpu: fuel counted, guests yield by fuel, no epoch checks",
            pooled_instances: defaults.pooled_instances,
            tune: None,
            startup: true,
            cpu: true,
            fuel: true,
            deadline: true,
            spare: true,
        },
        Setup {
            name: "tables filled at instantiation (table_lazy_init = false), no spare",
            pooled_instances: defaults.pooled_instances,
            tune: Some(eager_tables),
            startup: true,
            cpu: false,
            fuel: defaults.fuel,
            deadline: true,
            spare: false,
        },
        Setup {
            name: "pooling, 8 slots, written pages reset in place (pooled_instances = 8)",
            pooled_instances: 8,
            tune: None,
            startup: true,
            cpu: false,
            fuel: defaults.fuel,
            deadline: true,
            spare: true,
        },
        Setup {
            name: "neither fuel nor epochs (no deadlines; comparison only)",
            pooled_instances: defaults.pooled_instances,
            tune: Some(no_epoch),
            startup: false,
            cpu: true,
            fuel: false,
            deadline: false,
            spare: true,
        },
    ];
    // The trivial runs of every set-up are interleaved, one run each in turn, so a
    // busy machine slows them alike.
    let mut runtimes = Vec::new();
    for setup in &setups {
        if !(startup && setup.startup || (cpu || disk_only) && setup.cpu) {
            continue;
        }
        let started = Instant::now();
        let runtime = Runtime::new(RuntimeConfig {
            cache_dir: Some(cache.clone()),
            pooled_instances: setup.pooled_instances,
            tune_engine: setup.tune,
            fuel: setup.fuel,
            spare_instance: setup.spare,
            ..RuntimeConfig::default()
        })?;
        println!(
            "{}: runtime start (engine + runner, compiled once per engine set-up) {:.1} ms",
            setup.name,
            ms(started.elapsed())
        );
        runtimes.push((setup, runtime));
    }
    tokio.block_on(async {
        if startup {
            let setups = chosen(&runtimes, "STARTUP_SETUPS", |setup| setup.startup);
            trivial(&setups).await;
        }
        if cpu {
            let setups = chosen(&runtimes, "CPU_SETUPS", |setup| setup.cpu);
            deadlines(&setups).await;
            cpu_set(&setups).await;
        }
        if disk_only && let Some((_, runtime)) = runtimes.iter().find(|(setup, _)| setup.cpu) {
            disk_writes(runtime).await;
        }
    });
    Ok(())
}

/// The set-ups `wanted` keeps, narrowed to those the environment variable `var` names
/// (1-based, comma-separated; all when it is unset).
fn chosen<'a>(
    runtimes: &'a [(&'a Setup, Runtime)],
    var: &str,
    wanted: fn(&Setup) -> bool,
) -> Vec<&'a (&'a Setup, Runtime)> {
    let names = std::env::var(var).unwrap_or_default();
    runtimes
        .iter()
        .filter(|(setup, _)| wanted(setup))
        .enumerate()
        .filter(|(i, _)| names.is_empty() || names.split(',').any(|n| n == (i + 1).to_string()))
        .map(|(_, runtime)| runtime)
        .collect()
}

/// How late `while True: pass` ends past its time limit, per set-up that can stop it.
async fn deadlines(setups: &[&(&Setup, Runtime)]) {
    const LIMIT: Duration = Duration::from_millis(200);
    for (setup, runtime) in setups {
        if !setup.deadline {
            continue;
        }
        let mut late = Vec::new();
        for _ in 0..10 {
            let mut req = request("while True:\n    pass\n");
            req.limits.timeout = LIMIT;
            let started = Instant::now();
            let outcome = runtime.run(req).await;
            let took = started.elapsed();
            assert_eq!(outcome.status, RunStatus::TimedOut, "{:?}", outcome.error);
            late.push(took.saturating_sub(LIMIT));
        }
        let (median, _) = stats(&mut late);
        println!(
            "deadline, {}: `while True: pass` with a 200 ms limit ends {median:.2} ms late \
             (median), {:.2} ms at most (n=10)",
            setup.name,
            ms(late[late.len() - 1])
        );
    }
}

async fn trivial(runtimes: &[&(&Setup, Runtime)]) {
    for (_, runtime) in runtimes {
        for _ in 0..20 {
            run(runtime, FIRST_LINE).await;
        }
    }
    let mut samples: Vec<Vec<Sample>> = runtimes.iter().map(|_| Vec::new()).collect();
    for _ in 0..TRIVIAL_RUNS {
        for ((_, runtime), samples) in runtimes.iter().zip(&mut samples) {
            samples.push(trivial_once(runtime).await);
        }
    }
    for ((setup, _), samples) in runtimes.iter().zip(samples) {
        println!("== trivial run: {} ==", setup.name);
        let part = |name: &str, pick: &dyn Fn(&Sample) -> Duration| {
            let mut v: Vec<Duration> = samples.iter().map(pick).collect();
            let (median, p99) = stats(&mut v);
            // The fastest run shows the floor when other work shares the machine.
            let min = ms(v[0]);
            println!("  {name:<46} median {median:.3} ms, p99 {p99:.3} ms, min {min:.3} ms");
        };
        part("whole run, warm engine (target median <= 1 ms)", &|s| {
            s.total
        });
        part("  WASI context + stdlib preopens (2 opens)", &|s| {
            s.phases.wasi_ctx
        });
        part("  mounts (scratch dir made, /tmp preopen)", &|s| {
            s.phases.mounts
        });
        part("  Store::new", &|s| s.phases.store);
        part("  instantiate_async", &|s| s.phases.instantiate);
        part("  call_run (the whole guest call)", &|s| s.phases.call);
        part("    of which until the script's first bytecode", &|s| {
            s.first_line
        });
        part("      of which until the runner's Python code", &|s| {
            s.entry
        });
        part("  outcome and captured output", &|s| s.phases.outcome);
        part("  teardown (store dropped, scratch removed)", &|s| {
            s.phases.teardown
        });
        let mut faults: Vec<u64> = samples.iter().map(|s| s.faults).collect();
        faults.sort_unstable();
        println!(
            "  minor page faults per run (whole process)      median {}, p99 {}",
            faults[faults.len() / 2],
            faults[faults.len() * 99 / 100]
        );
    }
    println!("(n={TRIVIAL_RUNS} each; first line from the guest's wall clock, ~10 us resolution)");
}

struct Sample {
    total: Duration,
    phases: RunPhases,
    first_line: Duration,
    /// From the call to the runner's `run_script` (the component's entry).
    entry: Duration,
    faults: u64,
}

/// The process's minor page faults so far (a fresh instance's copy-on-write and
/// first-touch faults of its memory image).
fn minor_faults() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Field 10; the command name before it is in parentheses and may hold spaces.
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(7))
        .and_then(|field| field.parse().ok())
        .unwrap_or_default()
}

async fn trivial_once(runtime: &Runtime) -> Sample {
    let request = request(FIRST_LINE);
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let faults = minor_faults();
    let t = Instant::now();
    let (outcome, phases) = runtime.run_timed(request).await;
    let total = t.elapsed();
    let faults = minor_faults() - faults;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{:?}", outcome.error);
    let guest_ns = |line: usize| -> u128 {
        outcome
            .stdout
            .lines()
            .nth(line)
            .and_then(|l| l.parse().ok())
            .unwrap_or_default()
    };
    let before_call = phases.wasi_ctx + phases.mounts + phases.store + phases.instantiate;
    let since_start = |ns: u128| {
        Duration::from_nanos(u64::try_from(ns.saturating_sub(wall.as_nanos())).unwrap_or_default())
    };
    Sample {
        total,
        phases,
        first_line: since_start(guest_ns(1)).saturating_sub(before_call),
        entry: since_start(guest_ns(2)).saturating_sub(before_call),
        faults,
    }
}

/// One CPU script's own time in native python3.
fn native_once(source: &str) -> f64 {
    Command::new("python3")
        .args(["-c", source])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(f64::NAN)
}

/// Each script 3 times (`CPU_ROUNDS`) natively and in every set-up (or those numbered
/// in `CPU_SETUPS`, e.g. `1,2`), interleaved; the best of each (the least disturbed by
/// other work on the machine) and their ratios.
async fn cpu_set(setups: &[&(&Setup, Runtime)]) {
    for (i, (setup, _)) in setups.iter().enumerate() {
        let fuel = if setup.fuel {
            "fuel counted"
        } else {
            "no fuel"
        };
        println!("CPU set, set-up {}: {} ({fuel})", i + 1, setup.name);
    }
    // Fuel per CPU second of the interpreter (what a cpu_seconds budget buys).
    let mut fuel_rates: Vec<Vec<f64>> = setups.iter().map(|_| Vec::new()).collect();
    let mut log_sums = vec![0.0; setups.len()];
    // The same ratios in CPU time, which other work on the machine disturbs far less
    // than wall time: native python3's `process_time` of the work against the
    // interpreter thread's CPU time of the whole run (its start included, a few ms).
    let mut cpu_log_sums = vec![0.0; setups.len()];
    let rounds: usize = std::env::var("CPU_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    for (name, source) in CPU_SET {
        let mut native = Vec::new();
        let mut native_cpu = Vec::new();
        let mut sandbox: Vec<Vec<f64>> = setups.iter().map(|_| Vec::new()).collect();
        let mut sandbox_cpu: Vec<Vec<f64>> = setups.iter().map(|_| Vec::new()).collect();
        for _ in 0..rounds {
            native.push(native_once(source));
            native_cpu.push(native_once(
                &source.replace("time.perf_counter()", "time.process_time()"),
            ));
            for ((((_, runtime), times), cpu_times), rates) in setups
                .iter()
                .zip(&mut sandbox)
                .zip(&mut sandbox_cpu)
                .zip(&mut fuel_rates)
            {
                let outcome = run(runtime, source).await;
                if let Some(fuel) = outcome.fuel_consumed
                    && outcome.cpu_time_ms > 0
                {
                    rates.push(fuel as f64 / (outcome.cpu_time_ms as f64 / 1000.0));
                }
                assert_eq!(
                    outcome.status,
                    RunStatus::Succeeded,
                    "{name}: {:?}",
                    outcome.error
                );
                times.push(outcome.stdout.trim().parse::<f64>().unwrap_or(f64::NAN));
                cpu_times.push(outcome.cpu_time_ms as f64);
            }
        }
        let (native, native_cpu) = (best(native), best(native_cpu));
        let mut line = format!("  {name:<18} native python3 {native:7.1} ms");
        for (i, (times, cpu_times)) in sandbox.into_iter().zip(sandbox_cpu).enumerate() {
            let time = best(times);
            let ratio = time / native;
            log_sums[i] += ratio.ln();
            let cpu_ratio = best(cpu_times) / native_cpu;
            cpu_log_sums[i] += cpu_ratio.ln();
            line.push_str(&format!(
                " | set-up {}: {time:7.1} ms, ratio {ratio:.2} (CPU {cpu_ratio:.2})",
                i + 1
            ));
        }
        println!("{line}");
    }
    for (i, rates) in fuel_rates.iter_mut().enumerate() {
        if rates.is_empty() {
            continue;
        }
        rates.sort_by(f64::total_cmp);
        println!(
            "  fuel per CPU second, set-up {}: median {:.3e} (min {:.3e}, max {:.3e}, n={})",
            i + 1,
            rates[rates.len() / 2],
            rates[0],
            rates[rates.len() - 1],
            rates.len()
        );
    }
    let mean = |sum: f64| (sum / CPU_SET.len() as f64).exp();
    for (i, (sum, cpu_sum)) in log_sums.into_iter().zip(cpu_log_sums).enumerate() {
        println!(
            "  geometric mean ratio, set-up {}: {:.2} wall, {:.2} CPU time (target <= 1.4)",
            i + 1,
            mean(sum),
            mean(cpu_sum)
        );
    }
}

/// Writes through the disk-quota layer against the same writes without a quota:
/// 64 MiB in 64 KiB writes, and 2,000 small files created, written and removed.
async fn disk_writes(runtime: &Runtime) {
    const SCRIPT: &str = r#"
import os, time
t = time.perf_counter()
with open("/tmp/big", "wb") as f:
    for _ in range(1024):
        f.write(b"x" * 65536)
big = time.perf_counter() - t
t = time.perf_counter()
for i in range(2000):
    with open(f"/tmp/f{i}", "w") as f:
        f.write("hello")
for i in range(2000):
    os.remove(f"/tmp/f{i}")
small = time.perf_counter() - t
print(f"{big * 1000:.1f} {small * 1000:.1f}")
"#;
    let mut samples = [Vec::new(), Vec::new()];
    for _ in 0..5 {
        for (quota, times) in [None, Some(1u64 << 30)].into_iter().zip(&mut samples) {
            let mut req = request(SCRIPT);
            req.limits.disk.tmp = quota;
            let outcome = runtime.run(req).await;
            assert_eq!(outcome.status, RunStatus::Succeeded, "{:?}", outcome.error);
            let parts: Vec<f64> = outcome
                .stdout
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect();
            times.push(parts);
        }
    }
    for (name, times) in ["no quota", "with a /tmp quota"].iter().zip(samples) {
        let big = best(times.iter().map(|t| t[0]).collect());
        let small = best(times.iter().map(|t| t[1]).collect());
        println!(
            "disk writes, {name}: 64 MiB in 64 KiB writes {big:.1} ms; 2,000 small files \
             made, written and removed {small:.1} ms (best of 5)"
        );
    }
}

fn request(source: &str) -> RunRequest {
    let host = HostContext::new(
        Arc::new(Capabilities::default()),
        Arc::new(ReqwestClient::new()),
        Arc::new(Nothing),
        Arc::new(Nothing),
    );
    RunRequest {
        source: source.to_owned(),
        filename: "bench.py".into(),
        args: Value::Null,
        limits: Limits {
            timeout: Duration::from_secs(120),
            ..Limits::default()
        },
        mounts: Mounts::default(),
        host,
        cancel: CancellationToken::new(),
        profile: Default::default(),
    }
}

async fn run(runtime: &Runtime, source: &str) -> RunOutcome {
    runtime.run(request(source)).await
}

fn stats(v: &mut [Duration]) -> (f64, f64) {
    v.sort();
    (ms(v[v.len() / 2]), ms(v[v.len() * 99 / 100]))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn best(v: Vec<f64>) -> f64 {
    v.into_iter().fold(f64::INFINITY, f64::min)
}
