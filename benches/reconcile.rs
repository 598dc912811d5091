//! Benchmarks against the local emulator on loopback: save-to-converged, the no-op reconcile
//! (wall time, reads, writes, critical path), scale (10/50/100 copies of the auth stack) and the
//! daemon's idle cost. Prints one stable table; exits non-zero only when it cannot run.
//!
//! Run with `deploy/local/bench` (or `cargo bench --bench reconcile`). Under `cargo test` it only
//! says it was skipped, so CI compiles it without running it.
//!
//! The daemon is measured as a black box (the `stackwatch` binary, its `/metrics`), so a binary
//! from another commit can be compared with `STACKWATCH_BENCH_BIN=path/to/stackwatch`.
//! Environment:
//! - `STACKWATCH_BENCH_IDLE_SECS` (default 15): the idle window; the resync equals it
//!   (docs/performance.md says which window its figures used).
//! - `STACKWATCH_BENCH_SCALE` (default `1,10,50,100`): the stack counts of the scale table,
//!   which also measures save-to-converged for one edited auth stack at each size.
//! - `STACKWATCH_BENCH_EDITS` (default 20): edits for save-to-converged.
//! - `STACKWATCH_BENCH_ONLY=scale`: the scale table alone.
//!
//! How the critical path is measured: the daemon's no-op reconcile runs once directly and once
//! through the fault proxy adding a fixed latency L to every call; the growth of its duration
//! divided by L is the number of calls that happen one after another.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/common/fault_proxy.rs"]
mod fault_proxy;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::census::policy_text;
use common::daemon::{Daemon, Options};
use common::{Emulator, example_config, with_s3_actions};
use fault_proxy::{FaultProxy, Faults};
use stackwatch::aws::Aws;
use stackwatch::daemon::metrics::ALL_STACKS;
use stackwatch::engine;
use stackwatch::session::{self, Session};

const LATENCY: Duration = Duration::from_millis(40);

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        // Under `cargo test`: check the offline parts, then say the measurements were skipped.
        self_test();
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let table = rt.block_on(run());
    println!("\n{table}");
}

/// What `cargo test` runs: the generated scale config loads, and the metrics parser and the
/// percentile read what they should. No emulator.
fn self_test() {
    let dir = scale_config(3);
    let desired = session::load(dir.path(), None).expect("the generated scale config loads");
    assert_eq!(
        desired.nodes.len(),
        3 * 7,
        "bucket + API + 5 auth nodes per copy"
    );
    let m = Metrics::parse(
        "stackwatch_aws_calls_total{service=\"IAM\",operation=\"GetRole\",kind=\"read\"} 4\n\
         stackwatch_aws_calls_total{service=\"IAM\",operation=\"PutRolePolicy\",kind=\"write\"} 1\n\
         stackwatch_aws_calls_total{service=\"S3\",operation=\"PutObject\",kind=\"write\"} 2\n\
         stackwatch_reconciles_total{result=\"success\"} 3\n",
    );
    assert_eq!(
        (m.reads, m.writes, m.lease, m.successes),
        (4.0, 1.0, 2.0, 3.0)
    );
    let stack = |count: f64, sum: f64, reads: f64| {
        Metrics::parse_for(
            &format!(
                "stackwatch_aws_calls_total{{service=\"IAM\",operation=\"GetRole\",kind=\"read\"}} {reads}\n\
                 stackwatch_reconcile_duration_seconds_sum {sum}\n\
                 stackwatch_reconcile_duration_seconds_count {count}\n\
                 stackwatch_stack_reconcile_duration_seconds_sum{{stack=\"AuthStack\"}} {sum}\n\
                 stackwatch_stack_reconcile_duration_seconds_count{{stack=\"AuthStack\"}} {count}\n"
            ),
            "AuthStack",
        )
    };
    let (a, b) = (stack(2.0, 0.2, 10.0), stack(10.0, 1.0, 50.0));
    assert_eq!(b.per_stack_reconcile(&a), 100.0);
    // 8 reconciles of 4 keys: 2 resyncs of 20 reads each, 400 ms busy each.
    assert_eq!(b.per_resync(&a, 4), (400.0, 20.0, 0.0, 0.0));
    assert_eq!(percentile(&mut [3.0, 1.0, 2.0], 0.5), 2.0);
    println!(
        "benches/reconcile: self-checks passed; measurements skipped (run deploy/local/bench or cargo bench)"
    );
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn bin() -> PathBuf {
    std::env::var_os("STACKWATCH_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(common::bin)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(v: &mut [f64]) -> f64 {
    percentile(v, 0.5)
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((v.len() - 1) as f64 * p).round() as usize;
    v[i]
}

/// The daemon under measure: `watch --approve auto --resync <resync>` in `dir` with `env` (an
/// emulator's or the fault proxy's), run from the binary of [`bin`].
fn daemon(env: &[(&'static str, String)], dir: &Path, resync: &str) -> Daemon {
    let options = Options {
        bin: bin(),
        ..Options::default()
    };
    Daemon::start_with(
        env,
        dir,
        &["--approve", "auto", "--resync", resync],
        options,
    )
}

/// The daemon's /metrics, read.
fn metrics(d: &Daemon) -> Metrics {
    Metrics::parse(&d.metrics())
}

/// The daemon's /metrics, read with `stack`'s own reconciles.
fn metrics_for(d: &Daemon, stack: &str) -> Metrics {
    Metrics::parse_for(&d.metrics(), stack)
}

/// Waits until `stack` reconciled on its own `n` more times than in `from`.
fn wait_stack_reconciles(
    d: &Daemon,
    stack: &str,
    from: &Metrics,
    n: f64,
    limit: Duration,
) -> Metrics {
    let start = Instant::now();
    loop {
        let m = metrics_for(d, stack);
        if m.stack_count >= from.stack_count + n {
            return m;
        }
        assert!(
            start.elapsed() < limit,
            "{stack} did not reconcile within {limit:?}\n{}",
            d.logs()
        );
        // Not more often: each scrape of /metrics costs the daemon CPU, counted per key.
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Waits until ready (the first reconcile succeeded), at most `limit`; how long that took.
fn wait_ready(d: &Daemon, limit: Duration) -> Duration {
    let start = Instant::now();
    while start.elapsed() < limit {
        if d.ready() {
            return start.elapsed();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the daemon was not ready within {limit:?}\n{}", d.logs());
}

/// Waits until `n` more successful reconciles than in `from` finished; returns the metrics.
fn wait_reconciles(d: &Daemon, from: &Metrics, n: f64, limit: Duration) -> Metrics {
    let start = Instant::now();
    loop {
        let m = metrics(d);
        if m.successes >= from.successes + n {
            return m;
        }
        assert!(
            start.elapsed() < limit,
            "reconciles did not happen within {limit:?}\n{}",
            d.logs()
        );
        // Seldom: each scrape of /metrics costs the daemon CPU (it names every stack), and
        // that CPU is counted per key.
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Waits until `d` holds the app's lease (a killed daemon's lease runs out first).
fn wait_leader(d: &Daemon, limit: Duration) {
    let start = Instant::now();
    while !d.is_leader() {
        assert!(start.elapsed() < limit, "never the leader\n{}", d.logs());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until no reconcile has run for a second (the start's reconciles, and the one winning
/// the lease asks for, are over), at most `limit`.
fn wait_idle(d: &Daemon, limit: Duration) {
    let start = Instant::now();
    let mut last = metrics(d).duration_count;
    let mut since = Instant::now();
    while since.elapsed() < Duration::from_secs(1) {
        assert!(
            start.elapsed() < limit,
            "the daemon never went idle\n{}",
            d.logs()
        );
        std::thread::sleep(Duration::from_millis(50));
        let now = metrics(d);
        if now.duration_count != last || now.in_flight > 0.0 {
            last = now.duration_count;
            since = Instant::now();
        }
    }
}

/// (peak RSS, current RSS) in MiB, and CPU seconds so far, of the daemon, from /proc.
fn proc_stats(d: &Daemon) -> (f64, f64, f64) {
    let pid = d.pid();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (
        kib("VmHWM:") / 1024.0,
        kib("VmRSS:") / 1024.0,
        cpu_seconds(pid),
    )
}

/// The few samples the bench reads from /metrics.
#[derive(Debug, Default, Clone)]
struct Metrics {
    successes: f64,
    /// S3 object calls: the leader lease (`src/daemon/lease.rs`), counted apart.
    lease: f64,
    reads: f64,
    writes: f64,
    duration_sum: f64,
    duration_count: f64,
    /// Reconciles running at the scrape.
    in_flight: f64,
    /// One stack's own reconciles (`stackwatch_stack_reconcile_duration_seconds{stack}`).
    stack_sum: f64,
    stack_count: f64,
}

impl Metrics {
    /// The samples, with `stack`'s own reconciles (see [`Metrics::per_stack_reconcile`]).
    fn parse_for(text: &str, stack: &str) -> Metrics {
        let mut m = Metrics::parse(text);
        let value = |l: &str| l.rsplit(' ').next()?.parse::<f64>().ok();
        let sum = format!("stackwatch_stack_reconcile_duration_seconds_sum{{stack=\"{stack}\"}}");
        let count =
            format!("stackwatch_stack_reconcile_duration_seconds_count{{stack=\"{stack}\"}}");
        for l in text.lines() {
            if l.starts_with(&sum) {
                m.stack_sum = value(l).unwrap_or(0.0);
            } else if l.starts_with(&count) {
                m.stack_count = value(l).unwrap_or(0.0);
            }
        }
        m
    }

    /// The mean wall time, in ms, of the stack's own reconciles between two scrapes.
    fn per_stack_reconcile(&self, before: &Metrics) -> f64 {
        let n = (self.stack_count - before.stack_count).max(1.0);
        (self.stack_sum - before.stack_sum) * 1000.0 / n
    }

    /// Per resync between two scrapes, a resync being one reconcile of each of `keys` keys
    /// (every stack, and the leftovers): (busy ms, reads, writes, lease object calls).
    fn per_resync(&self, before: &Metrics, keys: usize) -> (f64, f64, f64, f64) {
        let resyncs = ((self.duration_count - before.duration_count) / keys as f64).max(1e-9);
        (
            (self.duration_sum - before.duration_sum) * 1000.0 / resyncs,
            (self.reads - before.reads) / resyncs,
            (self.writes - before.writes) / resyncs,
            (self.lease - before.lease) / resyncs,
        )
    }

    fn parse(text: &str) -> Metrics {
        let value = |l: &str| l.rsplit(' ').next()?.parse::<f64>().ok();
        let mut m = Metrics::default();
        for l in text.lines() {
            if l.starts_with("stackwatch_aws_calls_total{") {
                if l.contains("Object\"") {
                    m.lease += value(l).unwrap_or(0.0);
                } else if l.contains("kind=\"write\"") {
                    m.writes += value(l).unwrap_or(0.0);
                } else {
                    m.reads += value(l).unwrap_or(0.0);
                }
            } else if l.starts_with("stackwatch_reconciles_total{result=\"success\"}") {
                m.successes = value(l).unwrap_or(0.0);
            } else if l.starts_with("stackwatch_reconcile_duration_seconds_sum") {
                m.duration_sum = value(l).unwrap_or(0.0);
            } else if l.starts_with("stackwatch_reconcile_duration_seconds_count") {
                m.duration_count = value(l).unwrap_or(0.0);
            } else if l.starts_with("stackwatch_reconciles_in_flight ") {
                m.in_flight = value(l).unwrap_or(0.0);
            }
        }
        m
    }
}

/// The inline policy of role `role` as JSON text, or empty.
async fn role_policy(aws: &Aws, role: &str) -> String {
    let Ok(out) = aws
        .iam
        .get_role_policy()
        .role_name(role)
        .policy_name("stackwatch")
        .send()
        .await
    else {
        return String::new();
    };
    // The document comes back URL-encoded.
    stackwatch::policy::PolicyDocument::parse_wire(out.policy_document())
        .map(|d| d.to_wire())
        .unwrap_or_default()
}

/// The median of `n` single reads (GetRolePolicy), one at a time.
async fn read_round_trip(aws: &Aws, n: usize) -> f64 {
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let _ = policy_text(aws).await;
        v.push(ms(t.elapsed()));
    }
    median(&mut v)
}

struct Row(String, String, String);

fn row(name: &str, value: String, note: &str) -> Row {
    Row(name.to_string(), value, note.to_string())
}

async fn run() -> String {
    if std::env::var("STACKWATCH_BENCH_ONLY").as_deref() == Ok("scale") {
        return table(scale_rows().await);
    }
    let mut rows: Vec<Row> = Vec::new();
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let dir = example_config();

    // 1. The example app, deployed by the daemon (direct), then save-to-converged.
    eprintln!("bench: example app, save-to-converged");
    let d = daemon(&emu.env(), dir.path(), "1h");
    let first = wait_ready(&d, Duration::from_secs(120));
    let auth = dir.path().join("stacks/auth.yaml");
    let original = std::fs::read_to_string(&auth).unwrap();
    let edits = env_num("STACKWATCH_BENCH_EDITS", 20) as usize;
    let mut rtt = read_round_trip(&aws, 30).await;
    let mut save = Vec::new();
    for i in 0..edits {
        let actions = if i % 2 == 0 {
            r#"["s3:GetObject", "s3:PutObject"]"#
        } else {
            r#"["s3:GetObject", "s3:DeleteObject"]"#
        };
        let marker = if i % 2 == 0 {
            "s3:PutObject"
        } else {
            "s3:DeleteObject"
        };
        let text = with_s3_actions(&original, actions);
        let saved = Instant::now();
        std::fs::write(&auth, text).unwrap();
        loop {
            if policy_text(&aws).await.contains(marker) {
                break;
            }
            assert!(
                saved.elapsed() < Duration::from_secs(30),
                "edit {i} did not converge"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        save.push(ms(saved.elapsed()));
        // Let that reconcile finish before the next edit.
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    rtt = (rtt + read_round_trip(&aws, 30).await) / 2.0;
    std::fs::write(&auth, &original).unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    drop(d);

    // 2. The no-op resync of the daemon (300 ms, spread over the example app's 3 stacks and
    //    the leftovers): AuthStack's own reconcile, directly and through a proxy adding LATENCY
    //    to every call, and the calls of a whole resync.
    eprintln!("bench: no-op reconcile");
    const AUTH: &str = "AuthStack";
    let keys = 4;
    let d = daemon(&emu.env(), dir.path(), "300ms");
    wait_ready(&d, Duration::from_secs(60));
    let m0 = wait_stack_reconciles(
        &d,
        AUTH,
        &metrics_for(&d, AUTH),
        2.0,
        Duration::from_secs(60),
    );
    let m1 = wait_stack_reconciles(&d, AUTH, &m0, 10.0, Duration::from_secs(120));
    let noop_ms = m1.per_stack_reconcile(&m0);
    let (resync_ms, noop_reads, noop_writes, noop_lease) = m1.per_resync(&m0, keys);
    drop(d);
    let proxy = FaultProxy::start(&emu.endpoint, Faults::NONE, 1);
    let d = daemon(&proxy.env(), dir.path(), "300ms");
    wait_ready(&d, Duration::from_secs(60));
    let p0 = wait_stack_reconciles(
        &d,
        AUTH,
        &metrics_for(&d, AUTH),
        2.0,
        Duration::from_secs(60),
    );
    let p1 = wait_stack_reconciles(&d, AUTH, &p0, 5.0, Duration::from_secs(120));
    let proxied_ms = p1.per_stack_reconcile(&p0);
    proxy.set_faults(Faults {
        latency: LATENCY,
        ..Faults::NONE
    });
    let l0 = wait_stack_reconciles(&d, AUTH, &p1, 2.0, Duration::from_secs(120));
    let l1 = wait_stack_reconciles(&d, AUTH, &l0, 5.0, Duration::from_secs(300));
    let slow_ms = l1.per_stack_reconcile(&l0);
    drop(d);
    drop(proxy);
    let critical_calls = (slow_ms - proxied_ms) / ms(LATENCY);
    // A permission edit: the reads, then PutRolePolicy, then the read that sees it.
    let save_critical_ms = (critical_calls + 2.0) * rtt;

    // The same read as `stackwatch plan` does it: fresh clients, nothing remembered.
    let mut cold = Vec::new();
    let (mut cold_reads, mut cold_writes) = (0, 0);
    for _ in 0..5 {
        let fresh = emu.aws().await;
        let desired = session::load(dir.path(), None).unwrap();
        let t = Instant::now();
        let s = Session::open_with(fresh.clone(), desired).await.unwrap();
        let _ = s.plan();
        cold.push(ms(t.elapsed()));
        (cold_reads, cold_writes) = (fresh.calls.reads(), fresh.calls.writes());
    }

    let mut save_sorted = save.clone();
    let save_median = median(&mut save_sorted);
    let save_p95 = percentile(&mut save_sorted, 0.95);
    rows.push(row(
        "example app: first deploy by the daemon",
        format!("{:.0} ms", ms(first)),
        "start to /readyz",
    ));
    rows.push(row(
        "read round trip (GetRolePolicy), median",
        format!("{rtt:.1} ms"),
        "one call, bench to emulator",
    ));
    rows.push(row(
        &format!("save-to-converged, median of {edits}"),
        format!("{save_median:.0} ms"),
        "target <= 500 ms",
    ));
    rows.push(row(
        &format!("save-to-converged, p95 of {edits}"),
        format!("{save_p95:.0} ms"),
        "",
    ));
    let debounce_ms = ms(stackwatch::daemon::watcher::QUIET);
    rows.push(row(
        "save-to-converged critical path",
        format!(
            "{:.1} calls = {save_critical_ms:.0} ms (+{debounce_ms:.0} ms debounce)",
            critical_calls + 2.0
        ),
        "reads + PutRolePolicy + read-back",
    ));
    rows.push(row(
        "save-to-converged / critical path",
        format!(
            "{:.1}x ({:.1}x without the debounce)",
            save_median / save_critical_ms,
            (save_median - debounce_ms) / save_critical_ms
        ),
        "target <= 3x",
    ));
    rows.push(row(
        "no-op reconcile of AuthStack (daemon), wall",
        format!("{noop_ms:.1} ms"),
        "mean of 10, load+read+plan",
    ));
    rows.push(row(
        "no-op resync (daemon), calls",
        format!("{noop_reads:.1} reads, {noop_writes:.1} writes"),
        &format!(
            "per resync of {keys} keys ({resync_ms:.0} ms busy); writes must be 0; lease object calls apart: {noop_lease:.1}"
        ),
    ));
    rows.push(row(
        "no-op reconcile of AuthStack, critical path",
        format!("{critical_calls:.1} calls"),
        &format!(
            "+{:.0} ms/call via proxy: {proxied_ms:.0} -> {slow_ms:.0} ms",
            ms(LATENCY)
        ),
    ));
    rows.push(row(
        "no-op reconcile of AuthStack / (critical path x RTT)",
        format!("{:.1}x", noop_ms / (critical_calls.max(1.0) * rtt)),
        "",
    ));
    rows.push(row(
        "plan command read (fresh clients), wall",
        format!("{:.1} ms", median(&mut cold)),
        &format!("{cold_reads} reads, {cold_writes} writes"),
    ));
    drop(emu);

    // 3. Scale.
    rows.extend(scale_rows().await);

    // 4. Idle cost.
    let idle = env_num("STACKWATCH_BENCH_IDLE_SECS", 15);
    eprintln!("bench: idle {idle} s");
    let emu = Emulator::start();
    let dir = example_config();
    let d = daemon(&emu.env(), dir.path(), &format!("{idle}s"));
    wait_ready(&d, Duration::from_secs(120));
    // Let the first deploy's trailing work settle.
    std::thread::sleep(Duration::from_millis(500));
    let m0 = metrics(&d);
    let (_, _, cpu0) = proc_stats(&d);
    std::thread::sleep(Duration::from_secs(idle));
    let (hwm, rss, cpu1) = proc_stats(&d);
    let m1 = metrics(&d);
    rows.push(row(
        &format!("idle {idle} s (resync {idle} s): daemon CPU"),
        format!(
            "{:.0} ms ({:.3}% of a core)",
            (cpu1 - cpu0) * 1000.0,
            (cpu1 - cpu0) * 100.0 / idle as f64
        ),
        &format!(
            "{:.0} reads, {:.0} writes, {:.0} lease object calls, {:.0} reconciles",
            m1.reads - m0.reads,
            m1.writes - m0.writes,
            m1.lease - m0.lease,
            m1.duration_count - m0.duration_count
        ),
    ));
    rows.push(row(
        &format!("idle {idle} s: daemon RSS"),
        format!("{rss:.1} MiB (peak {hwm:.1} MiB)"),
        "",
    ));
    drop(d);
    table(rows)
}

/// The scale table's rows, for each count of `STACKWATCH_BENCH_SCALE`.
async fn scale_rows() -> Vec<Row> {
    let counts: Vec<usize> = std::env::var("STACKWATCH_BENCH_SCALE")
        .unwrap_or_else(|_| "1,10,50,100".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let mut rows = Vec::new();
    for n in counts {
        eprintln!("bench: scale {n}");
        rows.extend(scale(n).await);
    }
    rows
}

/// The rows as a Markdown table.
fn table(rows: Vec<Row>) -> String {
    let mut out = String::new();
    let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    let _ = writeln!(out, "| {:w0$} | {:w1$} | note", "measure", "value");
    let _ = writeln!(out, "| {} | {} | ---", "-".repeat(w0), "-".repeat(w1));
    for Row(a, b, c) in rows {
        let _ = writeln!(out, "| {a:w0$} | {b:w1$} | {c}");
    }
    out
}

/// `n` copies of the auth stack, each with its own bucket and API, in a temp config.
fn scale_config(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let stacks = dir.path().join("stacks");
    std::fs::create_dir_all(&stacks).unwrap();
    std::fs::write(
        dir.path().join("stackwatch.yaml"),
        "app: scale\nstage: dev\nregion: us-east-1\n",
    )
    .unwrap();
    for i in 0..n {
        std::fs::write(
            stacks.join(format!("s{i:03}.yaml")),
            format!(
                r#"stack: Storage{i}
resources:
  Uploads{i}:
    kind: bucket
"#
            ),
        )
        .unwrap();
        std::fs::write(
            stacks.join(format!("a{i:03}.yaml")),
            format!(
                r#"stack: Api{i}
resources:
  Api{i}:
    kind: api
    routes:
      "GET /notes": https://example.com/notes
"#
            ),
        )
        .unwrap();
        std::fs::write(
            stacks.join(format!("u{i:03}.yaml")),
            format!(
                r#"stack: Auth{i}
uses: [Storage{i}, Api{i}]
resources:
  Auth{i}:
    kind: auth
    login: [email]
    permissions:
      authenticated:
        - actions: ["execute-api:Invoke"]
          resources: ["arn:aws:execute-api:${{app.region}}:${{app.account}}:${{Api{i}.Api{i}.id}}/*"]
        - actions: ["s3:*"]
          resources: ["${{Storage{i}.Uploads{i}.arn}}/private/${{cognito-identity.amazonaws.com:sub}}/*"]
"#
            ),
        )
        .unwrap();
    }
    dir
}

/// CPU seconds so far of process `pid` (user + system), from /proc; NaN when unreadable.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
    // utime and stime are fields 14 and 15 of stat (11 and 12 after the command name).
    match (ticks(11), ticks(12)) {
        (Some(u), Some(s)) => (u + s) / 100.0,
        _ => f64::NAN,
    }
}

/// One measured stretch of no-op resyncs: per resync (busy ms, reads, writes), per key's
/// reconcile the emulator's and the daemon's CPU (ms), whole-app reconciles in it, peak RSS.
struct Noop {
    busy_ms: f64,
    reads: f64,
    writes: f64,
    emulator_cpu_ms: f64,
    daemon_cpu_ms: f64,
    whole_app: f64,
    hwm: f64,
}

/// The daemon re-reading an app it deployed, `resync` apart, measured over `rounds` resyncs of
/// `keys` keys once it leads (a killed daemon's lease runs out first) and one resync went by
/// (with the whole-app reconcile winning the lease asks for).
fn noop(emu: &Emulator, dir: &Path, keys: usize, resync: Duration, rounds: f64) -> Noop {
    let d = daemon(&emu.env(), dir, &format!("{}ms", resync.as_millis()));
    wait_ready(&d, Duration::from_secs(600));
    wait_leader(&d, Duration::from_secs(120));
    let limit = Duration::from_secs(1200) + resync * (rounds as u32 + 1);
    let m0 = wait_reconciles(&d, &metrics(&d), keys as f64, limit);
    let (w0, (_, _, cpu0), emu0) = (
        metrics_for(&d, ALL_STACKS),
        proc_stats(&d),
        cpu_seconds(emu.pid()),
    );
    let m1 = wait_reconciles(&d, &m0, rounds * keys as f64, limit);
    let (w1, (hwm, _, cpu1), emu1) = (
        metrics_for(&d, ALL_STACKS),
        proc_stats(&d),
        cpu_seconds(emu.pid()),
    );
    let (busy_ms, reads, writes, _) = m1.per_resync(&m0, keys);
    let per_key = |s: f64| s * 1000.0 / (m1.duration_count - m0.duration_count).max(1.0);
    Noop {
        busy_ms,
        reads,
        writes,
        emulator_cpu_ms: per_key(emu1 - emu0),
        daemon_cpu_ms: per_key(cpu1 - cpu0),
        whole_app: w1.stack_count - w0.stack_count,
        hwm,
    }
}

/// The rows of one no-op measurement, `how` saying at what pace.
fn noop_rows(n: usize, keys: usize, how: &str, m: &Noop) -> Vec<Row> {
    vec![
        row(
            &format!("scale {n}: no-op resync, {how}"),
            format!(
                "{:.0} ms busy, {:.0} reads + {:.0} writes",
                m.busy_ms, m.reads, m.writes
            ),
            &format!(
                "per resync of {keys} keys; whole-app reconciles in the window: {}",
                m.whole_app
            ),
        ),
        row(
            &format!("scale {n}: no-op reconcile per key, {how}"),
            format!("{:.1} ms busy", m.busy_ms / keys as f64),
            &format!(
                "CPU per key: emulator {:.1} ms, daemon {:.2} ms",
                m.emulator_cpu_ms, m.daemon_cpu_ms
            ),
        ),
    ]
}

async fn scale(n: usize) -> Vec<Row> {
    let emu = Emulator::start();
    let dir = scale_config(n);
    let desired = session::load(dir.path(), None).expect("generated config loads");
    let nodes = desired.nodes.len();

    // Create: the daemon deploys it from nothing.
    let d = daemon(&emu.env(), dir.path(), "1h");
    let create = wait_ready(&d, Duration::from_secs(1800));
    let created = metrics(&d);
    drop(d);

    // No-op, flat out: a 300 ms resync keeps 4 keys running side by side all the time, so a
    // key's time includes its wait for the emulator (one process) behind the others' reads.
    let keys = 3 * n + 1;
    let flat_out = noop(&emu, dir.path(), keys, Duration::from_millis(300), 3.0);
    // No-op at the default pace: keys 200 ms apart, as a 60 s resync spreads 301 keys (100
    // stacks), so each key's time is its own.
    let paced = noop(
        &emu,
        dir.path(),
        keys,
        Duration::from_millis(200) * keys as u32,
        1.0,
    );

    let mut rows = noop_rows(n, keys, "flat out (300 ms resync)", &flat_out);
    rows.extend(noop_rows(n, keys, "keys 200 ms apart", &paced));
    rows.extend(plan_and_save(n, nodes, &emu, dir.path(), desired).await);
    rows.push(row(
        &format!("scale {n} stacks ({nodes} resources): create"),
        format!(
            "{:.1} s, {:.0} reads + {:.0} writes",
            create.as_secs_f64(),
            created.reads,
            created.writes
        ),
        "daemon, start to /readyz",
    ));
    rows.push(row(
        &format!("scale {n}: daemon peak RSS"),
        format!("{:.1} MiB", flat_out.hwm.max(paced.hwm)),
        "target < 64 MB at 100",
    ));
    rows
}

/// Plan CPU on a snapshot already read, and save-to-converged for one edited auth stack
/// (Auth0) among `n`: per-stack keys make it cost that stack, whatever `n`.
async fn plan_and_save(
    n: usize,
    nodes: usize,
    emu: &Emulator,
    dir: &Path,
    desired: stackwatch::desired::Desired,
) -> Vec<Row> {
    // Plan CPU: engine::plan alone on a snapshot already read.
    let aws = emu.aws().await;
    let s = Session::open_with(aws.clone(), desired).await.unwrap();
    let mut plan_ms = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let p = engine::plan(&s.desired, &s.snapshot);
        plan_ms.push(ms(t.elapsed()));
        assert!(!p.changes.is_empty());
    }
    let plan_median = median(&mut plan_ms);

    let role_node = s
        .desired
        .nodes
        .iter()
        .position(|node| node.id == "Auth0.Auth0.AuthenticatedRole")
        .expect("Auth0's role");
    let role = s.snapshot.observed[role_node]
        .as_ref()
        .expect("Auth0's role is deployed")
        .id
        .clone();
    let d = daemon(&emu.env(), dir, "1h");
    wait_ready(&d, Duration::from_secs(600));
    // The daemons before it were killed holding the lease: it applies once that runs out.
    wait_leader(&d, Duration::from_secs(120));
    wait_idle(&d, Duration::from_secs(600));
    let file = dir.join("stacks/u000.yaml");
    let original = std::fs::read_to_string(&file).unwrap();
    let edits = env_num("STACKWATCH_BENCH_EDITS", 20) as usize;
    let m0 = metrics(&d);
    let mut save = Vec::new();
    for i in 0..edits {
        let (actions, marker) = if i % 2 == 0 {
            (r#"["s3:GetObject", "s3:PutObject"]"#, "s3:PutObject")
        } else {
            (r#"["s3:GetObject", "s3:DeleteObject"]"#, "s3:DeleteObject")
        };
        let saved = Instant::now();
        std::fs::write(&file, with_s3_actions(&original, actions)).unwrap();
        while !role_policy(&aws, &role).await.contains(marker) {
            assert!(
                saved.elapsed() < Duration::from_secs(60),
                "edit {i} did not converge"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        save.push(ms(saved.elapsed()));
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    let m1 = metrics(&d);
    drop(d);
    let per_save = (m1.reads - m0.reads + m1.writes - m0.writes) / edits as f64;
    let (save_median, save_p95) = (median(&mut save.clone()), percentile(&mut save, 0.95));
    vec![
        row(
            &format!("scale {n}: save-to-converged, one auth stack"),
            format!("median {save_median:.0} ms, p95 {save_p95:.0} ms"),
            &format!("{per_save:.1} calls per save (reads + writes), {edits} edits"),
        ),
        row(
            &format!("scale {n}: plan CPU (no AWS)"),
            format!(
                "{plan_median:.2} ms ({:.1} us/resource)",
                plan_median * 1000.0 / nodes as f64
            ),
            "target < 1 ms/resource",
        ),
    ]
}
