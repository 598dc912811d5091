//! `stackwatch watch` as a child process, for the tests and the benches: [`Daemon`], one daemon
//! with its own HTTP port and log files, what it answers over HTTP (`/status`, `/metrics`,
//! `/readyz`), the waits on it and its signals; and [`eventually`], the one bounded poll, which
//! dumps the daemons' logs when it times out.
//!
//! Every wait here is bounded by a limit the caller gives and polls; none asserts a duration.

use std::fs::File;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::time::Duration;

/// The example app's test user's password, for every daemon (the emulator takes any valid one).
const PASSWORD: &str = "Daemon-test-pw-1!";

/// How a [`Daemon`] starts, beyond its environment, directory and arguments.
pub struct Options {
    /// `--config`, relative to the daemon's directory.
    pub config: &'static str,
    pub stdin: Stdio,
    /// The binary: this build's ([`super::bin`]), unless a bench compares another.
    pub bin: PathBuf,
}

impl Default for Options {
    /// `--config .`, stdin closed, this build's binary.
    fn default() -> Options {
        Options {
            config: ".",
            stdin: Stdio::null(),
            bin: super::bin(),
        }
    }
}

/// The daemon, running in a directory with its own HTTP port and log files; killed on drop.
pub struct Daemon {
    child: Child,
    pub port: u16,
    dir: PathBuf,
    config_dir: PathBuf,
    logs: tempfile::TempDir,
    /// A copy of the app the daemon runs on that it owns (removed after the daemon is killed).
    app: Option<tempfile::TempDir>,
}

impl Daemon {
    /// `stackwatch --config . watch --listen 127.0.0.1:<free port> <args>` in `dir`, with `env`
    /// (an emulator's or a fault proxy's) and stdin closed.
    pub fn start(env: &[(&'static str, String)], dir: &Path, args: &[&str]) -> Daemon {
        Daemon::start_with(env, dir, args, Options::default())
    }

    /// [`Daemon::start`] in `cwd` with `--config <options.config>`, the given stdin and binary.
    pub fn start_with(
        env: &[(&'static str, String)],
        cwd: &Path,
        args: &[&str],
        options: Options,
    ) -> Daemon {
        let port = super::free_port();
        let logs = tempfile::tempdir().unwrap();
        let listen = format!("127.0.0.1:{port}");
        let child = super::binary_in(&options.bin, env, cwd)
            .args(["--config", options.config, "watch", "--listen", &listen])
            .args(args)
            .env(super::PASSWORD_ENV, PASSWORD)
            .stdin(options.stdin)
            .stdout(File::create(logs.path().join("stdout")).unwrap())
            .stderr(File::create(logs.path().join("stderr")).unwrap())
            .spawn()
            .expect("starting stackwatch watch");
        Daemon {
            child,
            port,
            dir: cwd.to_path_buf(),
            config_dir: cwd.join(options.config),
            logs,
            app: None,
        }
    }

    /// The daemon keeps `app` (the copy it runs on) until it has been killed.
    pub fn owning(mut self, app: tempfile::TempDir) -> Daemon {
        self.app = Some(app);
        self
    }

    /// The directory it runs in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stdout(&self) -> String {
        std::fs::read_to_string(self.logs.path().join("stdout")).unwrap_or_default()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.logs.path().join("stderr")).unwrap_or_default()
    }

    pub fn logs(&self) -> String {
        format!(
            "--- stdout\n{}\n--- stderr\n{}",
            self.stdout(),
            self.stderr()
        )
    }

    /// GET on the daemon's HTTP endpoint: (status, body), or None if it does not answer.
    pub fn get(&self, path: &str) -> Option<(u16, String)> {
        super::http_get(self.port, path, Duration::from_secs(5))
    }

    /// `/readyz` answers 200.
    pub fn ready(&self) -> bool {
        self.get("/readyz").map(|r| r.0) == Some(200)
    }

    /// The /metrics text; empty while the endpoint does not answer yet.
    pub fn metrics(&self) -> String {
        match self.get("/metrics") {
            Some((200, body)) => body,
            _ => String::new(),
        }
    }

    /// The value of one sample, such as `stackwatch_errors_total`.
    pub fn metric(&self, sample: &str) -> f64 {
        metric(&self.metrics(), sample)
    }

    /// Reconciles finished so far, whatever their result.
    pub fn reconciles(&self) -> f64 {
        self.metrics()
            .lines()
            .filter(|l| l.starts_with("stackwatch_reconciles_total{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    pub fn is_leader(&self) -> bool {
        self.metric("stackwatch_leader") == 1.0
    }

    /// Write calls sent, other than to S3 (the lease lives there): what "applying" means.
    pub fn app_writes(&self) -> Vec<String> {
        self.metrics()
            .lines()
            .filter(|l| {
                l.starts_with("stackwatch_aws_calls_total{") && l.contains("kind=\"write\"")
            })
            .filter(|l| !l.contains("service=\"S3\"") || l.contains("BucketCors"))
            .map(str::to_string)
            .collect()
    }

    /// `/status` as JSON; panics, with the logs, if it does not answer 200.
    pub fn status(&self) -> serde_json::Value {
        match self.get("/status") {
            Some((200, body)) => serde_json::from_str(&body).unwrap(),
            other => panic!("/status: {other:?}\n{}", self.logs()),
        }
    }

    /// Waits, at most `limit`, for the first successful deploy: ready, and outputs.json written.
    pub async fn wait_deployed(&self, limit: Duration) {
        let outputs = self.dir.join(".stackwatch/outputs.json");
        eventually("the first deploy", limit, &[self], || async {
            (self.ready() && outputs.exists()).then_some(())
        })
        .await;
    }

    /// Waits, at most `limit`, until a reconcile has read the files as they are now
    /// (`config_digest` in `/status`): a reconcile already under way when they changed does
    /// not count.
    pub async fn wait_files_reconciled(&self, limit: Duration) {
        let want = stackwatch::config::digest(&self.config_dir);
        eventually(
            "a reconcile of the files as they are now",
            limit,
            &[self],
            || async { (self.status()["config_digest"] == want.as_str()).then_some(()) },
        )
        .await;
    }

    /// Waits, at most `limit`, until at least `n` more reconciles than `before` have finished.
    pub async fn wait_reconciles(&self, before: f64, n: f64, limit: Duration) {
        eventually("more reconciles", limit, &[self], || async {
            (self.reconciles() >= before + n).then_some(())
        })
        .await;
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid.
        let rc = unsafe { libc::kill(self.child.id() as i32, sig) };
        assert_eq!(rc, 0, "kill failed");
    }

    /// Its exit status, if it has exited.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().unwrap()
    }

    /// Its exit status, once it exits within `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        super::poll(limit, || self.try_wait())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value of `sample` in a /metrics text; 0 when it is absent.
pub fn metric(text: &str, sample: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(sample)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

/// Polls `check` until it returns Some, for at most `limit`; on timeout, panics with the logs
/// of `daemons`.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, daemons: &[&Daemon], check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let logs = || {
        let logs: Vec<String> = daemons.iter().map(|d| d.logs()).collect();
        logs.join("\n=====\n")
    };
    super::eventually(what, limit, logs, check).await
}
