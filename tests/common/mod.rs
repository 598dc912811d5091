//! Test harness: one local emulator (deploy/local/emulator, moto plus our extensions) per test,
//! on a free loopback port, killed when the test ends; the stackwatch binary run once against
//! it ([`run`], [`stackwatch`]); copies of the example app to edit; a plain HTTP GET.
//!
//! Its submodules: [`daemon`], `stackwatch watch` as a child process and the bounded
//! [`daemon::eventually`]; [`census`], what the emulator holds, counted through the SDK; [`pty`],
//! a pseudo-terminal for prompt mode.
//! (`fault_proxy.rs` beside it is its own module, included with `#[path]` where needed.)
#![allow(dead_code)]

pub mod census;
pub mod daemon;
pub mod pty;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use stackwatch::aws::Aws;
use stackwatch::session::{self, Session};

pub const REGION: &str = "us-east-1";

/// The example app's authenticated role.
pub const AUTH_ROLE: &str = "dev-notes-AuthStack-Auth-AuthRole";

/// The variable the example app's test user reads its password from (`passwordEnv`).
pub const PASSWORD_ENV: &str = "STACKWATCH_TEST_PASSWORD";

pub struct Emulator {
    child: Child,
    pub port: u16,
    pub endpoint: String,
}

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A plain HTTP/1.1 GET to `127.0.0.1:port`: (status, body), or None when no answer could be read
/// within `timeout`.
pub fn http_get(port: u16, path: &str, timeout: Duration) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(timeout)).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let status = text.split(' ').nth(1)?.parse().ok()?;
    Some((status, text.split_once("\r\n\r\n")?.1.to_string()))
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// How long a new IAM role stays invisible to Cognito identity in the tests' emulator
/// (`STACKWATCH_EMULATOR_IAM_DELAY`): long enough that every deploy really goes through the
/// retry predicates for IAM propagation, as it does on AWS. A value in the environment wins.
pub const IAM_DELAY_SECS: &str = "1.5";

impl Emulator {
    /// Starts the emulator (strict, with the IAM propagation delay) and waits until it answers.
    pub fn start() -> Emulator {
        Self::start_with(&[])
    }

    /// [`Emulator::start`] with extra environment for the emulator.
    pub fn start_with(env: &[(&str, &str)]) -> Emulator {
        let port = free_port();
        let log = tempfile::NamedTempFile::new().unwrap();
        let (log_file, log_path) = log.keep().unwrap();
        let delay =
            std::env::var("STACKWATCH_EMULATOR_IAM_DELAY").unwrap_or(IAM_DELAY_SECS.to_string());
        let child = Command::new(repo_root().join("deploy/local/emulator"))
            .arg(port.to_string())
            .env("STACKWATCH_EMULATOR_IAM_DELAY", delay)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .spawn()
            .expect("starting deploy/local/emulator");
        let endpoint = format!("http://127.0.0.1:{port}");
        let started = || {
            std::net::TcpStream::connect(("127.0.0.1", port))
                .ok()
                .map(|_| ())
        };
        wait_until(
            "the emulator to start",
            Duration::from_secs(300),
            || std::fs::read_to_string(&log_path).unwrap_or_default(),
            started,
        );
        Emulator {
            child,
            port,
            endpoint,
        }
    }

    /// What the strict emulator refused (`GET /_stackwatch/refusals`): `validation` counts
    /// requests AWS would refuse as invalid, `propagation` the transient IAM refusals.
    pub fn refusals(&self) -> serde_json::Value {
        let (status, body) = http_get(self.port, "/_stackwatch/refusals", Duration::from_secs(10))
            .expect("the emulator answers /_stackwatch/refusals");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("refusals are JSON")
    }

    /// Asserts that the emulator refused no request as invalid: what stackwatch sent, AWS
    /// would have accepted.
    pub fn assert_no_validation_refusals(&self) {
        let r = self.refusals();
        assert_eq!(
            r["validation"], 0,
            "the strict emulator refused requests: {r:#}"
        );
    }

    pub async fn aws(&self) -> Aws {
        Aws::connect_emulator(REGION, &self.endpoint).await
    }

    /// Environment for running the stackwatch binary against this emulator.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", REGION.into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How often the waiting helpers poll.
const POLL: Duration = Duration::from_millis(50);

/// Polls `check` until it returns Some, for at most `limit`; `None` when time runs out.
pub fn poll<T>(limit: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(POLL);
    }
}

/// Polls `check` until it returns Some, for at most `limit`; on timeout, panics naming `what`
/// with `context()` (what the test can show then: logs, a screen).
pub fn wait_until<T>(
    what: &str,
    limit: Duration,
    context: impl Fn() -> String,
    check: impl FnMut() -> Option<T>,
) -> T {
    poll(limit, check).unwrap_or_else(|| {
        panic!(
            "timed out after {limit:?} waiting for {what}\n{}",
            context()
        )
    })
}

/// [`wait_until`] for an async check.
pub async fn eventually<T, F, Fut>(
    what: &str,
    limit: Duration,
    context: impl Fn() -> String,
    mut check: F,
) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if Instant::now() > deadline {
            panic!(
                "timed out after {limit:?} waiting for {what}\n{}",
                context()
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Our four tags on a resource of app `notes`, `stage` and `stack`, logical id `id`.
pub fn tags(stage: &str, stack: &str, id: &str) -> stackwatch::resource::Tags {
    use stackwatch::resource::{TAG_APP, TAG_ID, TAG_STACK, TAG_STAGE};
    [
        (TAG_APP, "notes"),
        (TAG_STAGE, stage),
        (TAG_STACK, stack),
        (TAG_ID, id),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// The fields whose values differ between two states, as a plan sees them.
pub fn changed_fields(
    a: &stackwatch::resource::State,
    b: &stackwatch::resource::State,
) -> std::collections::BTreeSet<&'static str> {
    a.keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .copied()
        .collect()
}

/// Replaces the first `from` with `to` in `dir/file`; the file must contain `from`.
pub fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} lacks {from}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// The example app's auth.yaml text `original` with its S3 statement's actions (`["s3:*"]`)
/// replaced by `actions`, such as `["s3:GetObject"]`.
pub fn with_s3_actions(original: &str, actions: &str) -> String {
    let out = original.replace(r#"actions: ["s3:*"]"#, &format!("actions: {actions}"));
    assert_ne!(out, original, "auth.yaml no longer has the s3:* statement");
    out
}

/// auth.yaml's login line (`    login: [email]\n`) with guest access turned on.
pub const GUEST: &str = "    login: [email]\n    allowUnauthenticated: true\n";

/// Makes a user pool named `name` as someone else would, without stackwatch's tags; its id.
pub async fn foreign_pool(aws: &Aws, name: &str) -> String {
    let out = aws
        .idp
        .create_user_pool()
        .pool_name(name)
        .send()
        .await
        .unwrap();
    out.user_pool().unwrap().id().unwrap().to_string()
}

/// A copy of the example app in a temp dir, so a test can edit it.
pub fn example_config() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo_root().join("config"), dir.path());
    dir
}

/// Copies the tree `from` to `to`, which it creates.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// The stackwatch binary built for these tests.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_stackwatch"))
}

/// `bin` as a command in `dir`, with `env` (an [`Emulator::env`], or a fault proxy's), RUST_LOG
/// unset (so its logs are the default ones; a later `.env` may set it) and stdin closed.
pub fn binary_in(bin: &Path, env: &[(&'static str, String)], dir: &Path) -> Command {
    let mut cmd = Command::new(bin);
    cmd.current_dir(dir)
        .env_remove("RUST_LOG")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null());
    cmd
}

/// `stackwatch --config . <args>` as a command in `dir`, with `env`: see [`binary_in`].
pub fn command(env: &[(&'static str, String)], dir: &Path, args: &[&str]) -> Command {
    let mut cmd = binary_in(&bin(), env, dir);
    cmd.args(["--config", "."]).args(args);
    cmd
}

/// Runs `stackwatch --config . <args>` in `dir` to the end, with `env` (an [`Emulator::env`],
/// or a fault proxy's) and then `extra` (which may override it, or set RUST_LOG); returns
/// (exit code, stdout, stderr).
pub fn run(
    env: &[(&'static str, String)],
    dir: &Path,
    args: &[&str],
    extra: &[(&str, &str)],
) -> (i32, String, String) {
    let out = command(env, dir, args)
        .envs(extra.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// [`run`] against the emulator, with no extra environment.
pub fn stackwatch(emu: &Emulator, dir: &Path, args: &[&str]) -> (i32, String, String) {
    run(&emu.env(), dir, args, &[])
}

/// `stackwatch --config . apply --yes <extra>` against the emulator, which must exit 0; its
/// stdout.
pub fn apply_yes(emu: &Emulator, dir: &Path, extra: &[&str]) -> String {
    let mut args = vec!["apply", "--yes"];
    args.extend_from_slice(extra);
    let (code, out, err) = stackwatch(emu, dir, &args);
    assert_eq!(code, 0, "apply failed:\n{out}\n{err}");
    out
}

/// A session on the app in `dir` (the stage of its stackwatch.yaml), read through `aws`.
pub async fn open(aws: &Aws, dir: &Path) -> Session {
    let desired = session::load(dir, None).unwrap();
    Session::open_with(aws.clone(), desired).await.unwrap()
}

/// The plan's non-trivial actions for the app in `dir`, by logical id, read fresh.
pub async fn planned_actions(
    emu: &Emulator,
    dir: &Path,
) -> Vec<(String, stackwatch::plan::Action)> {
    let s = open(&emu.aws().await, dir).await;
    s.plan()
        .changes
        .iter()
        .filter(|c| c.action != stackwatch::plan::Action::NoChange)
        .map(|c| (c.id.clone(), c.action))
        .collect()
}

/// A [`run`]'s stdout and stderr as one text (exit code, stdout, `\n`, stderr): what a person
/// at the terminal sees.
pub fn both((code, out, err): (i32, String, String)) -> (i32, String) {
    (code, format!("{out}\n{err}"))
}

impl Emulator {
    /// The emulator's process id (the server itself: the launcher execs it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Freezes (SIGSTOP) or thaws (SIGCONT) the emulator, so AWS calls hang as on a stalled
    /// network. The port stays open: connections are accepted and never answered.
    pub fn freeze(&self, frozen: bool) {
        let sig = if frozen { "-STOP" } else { "-CONT" };
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill {sig} on the emulator failed");
    }
}
