//! The binary run the way the container image runs it (Dockerfile), without a container engine:
//! the image's exact CMD (`watch --config /config --approve auto --console off --log-format
//! json`), its environment (`STACKWATCH_STATE_DIR`, `STACKWATCH_LISTEN` on all interfaces) and nothing else
//! (no HOME, no PATH), a read-only config directory it does not own, a fixed non-root UID
//! (10001, as the image's USER; dropped to with setuid when the tests run as root) and a
//! writable state directory as its working directory. It converges the example app against the
//! emulator, serves /healthz and /readyz, logs JSON lines, and exits 0 on SIGTERM.
//!
//! `STACKWATCH_CONTAINER_BIN` names the binary to run (deploy/local/test sets it to the static
//! release build that goes into the image); without it, the test build's binary.

mod common;

use std::fs::File;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Emulator, example_config};

/// The image's USER.
const UID: u32 = 10001;
const WAIT: Duration = Duration::from_secs(60);

fn binary() -> PathBuf {
    std::env::var_os("STACKWATCH_CONTAINER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_stackwatch")))
}

/// The image's CMD, read from the Dockerfile so the two cannot differ.
fn image_cmd() -> Vec<String> {
    let dockerfile = std::fs::read_to_string(common::repo_root().join("Dockerfile")).unwrap();
    let line = dockerfile
        .lines()
        .find_map(|l| l.strip_prefix("CMD "))
        .expect("Dockerfile has a CMD");
    serde_json::from_str(line).expect("CMD in exec (JSON) form")
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn chmod_tree(path: &Path, dirs: u32, files: u32) {
    let mode = if path.is_dir() { dirs } else { files };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    if path.is_dir() {
        for e in std::fs::read_dir(path).unwrap() {
            chmod_tree(&e.unwrap().path(), dirs, files);
        }
    }
}

fn get(port: u16, path: &str) -> Option<(u16, String)> {
    common::http_get(port, path, Duration::from_secs(5))
}

/// Peak resident memory of a process, in KiB (VmHWM), read while it runs.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

#[tokio::test]
async fn runs_as_the_image_does_non_root_read_only_config_no_home_and_converges() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let bin = binary();
    eprintln!("running {} as the image does", bin.display());

    if !is_root() {
        eprintln!(
            "skipping the non-root checks: these tests do not run as root, so the binary cannot \
             be dropped to the image's UID {UID} (it runs as this user, and the state files' \
             owner is not checked)"
        );
    }
    // /config: the example app, read-only and not owned by the daemon's user.
    let config = example_config();
    chmod_tree(config.path(), 0o555, 0o444);
    let before: Vec<_> = walk(config.path());
    // /state: empty, owned by the daemon's user, its working directory.
    let state = tempfile::tempdir().unwrap();
    if is_root() {
        std::os::unix::fs::chown(state.path(), Some(UID), Some(UID)).unwrap();
    }
    let logs = tempfile::tempdir().unwrap();
    let port = common::free_port();

    let mut args = image_cmd();
    assert_eq!(
        args,
        [
            "watch",
            "--config",
            "/config",
            "--approve",
            "auto",
            "--console",
            "off",
            "--log-format",
            "json"
        ]
    );
    // The one difference from the image: where the config directory is mounted.
    let config_arg = args.iter().position(|a| a == "/config").unwrap();
    args[config_arg] = config.path().display().to_string();

    let mut cmd = Command::new(&bin);
    cmd.args(&args)
        .env_clear()
        // The image's ENV (PATH only matters for the exec-form ENTRYPOINT).
        .env("STACKWATCH_STATE_DIR", state.path())
        .env("STACKWATCH_LISTEN", format!("0.0.0.0:{port}"))
        .env("STACKWATCH_TEST_PASSWORD", "Container-pw-1!")
        .envs(emu.env())
        .current_dir(state.path())
        .stdin(Stdio::null())
        .stdout(File::create(logs.path().join("stdout")).unwrap())
        .stderr(File::create(logs.path().join("stderr")).unwrap());
    if is_root() {
        cmd.uid(UID).gid(UID);
    }
    let mut child = cmd.spawn().expect("starting the binary");
    let logs_text = || {
        let read = |f: &str| std::fs::read_to_string(logs.path().join(f)).unwrap_or_default();
        format!(
            "--- stdout\n{}\n--- stderr\n{}",
            read("stdout"),
            read("stderr")
        )
    };

    common::wait_until("/readyz to answer 200", WAIT, logs_text, || {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("exited early with {status}\n{}", logs_text());
        }
        (get(port, "/readyz").map(|r| r.0) == Some(200)).then_some(())
    });
    assert_eq!(get(port, "/healthz").map(|r| r.0), Some(200));
    let metrics = get(port, "/metrics").unwrap().1;
    assert!(metrics.contains("stackwatch_leader 1"), "{metrics}");

    // It converged the example app: the user pool exists, and outputs.json is in the state dir,
    // written by the non-root user.
    assert_eq!(common::census::user_pools(&aws).await.len(), 1);
    let outputs = state.path().join("outputs.json");
    common::wait_until("outputs.json", WAIT, logs_text, || {
        outputs.exists().then_some(())
    });
    if is_root() {
        assert_eq!(std::fs::metadata(&outputs).unwrap().uid(), UID);
    }
    let status: serde_json::Value = serde_json::from_str(&get(port, "/status").unwrap().1).unwrap();
    assert_eq!(status["ready"], true, "{status:#}");
    assert!(status["last_error"].is_null(), "{status:#}");

    let peak = peak_rss_kib(child.id());
    eprintln!(
        "measured: peak RSS after deploying the example app: {} KiB",
        peak.map_or("?".into(), |k| k.to_string())
    );

    // SIGTERM, as the kubelet sends: exit 0.
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let exit = common::wait_until(
        "the exit after SIGTERM",
        Duration::from_secs(10),
        logs_text,
        || child.try_wait().unwrap(),
    );
    assert_eq!(exit.code(), Some(0), "{}", logs_text());

    // JSON logs: every stderr line is one JSON object.
    let stderr = std::fs::read_to_string(logs.path().join("stderr")).unwrap();
    assert!(stderr.lines().count() > 3, "{stderr}");
    for line in stderr.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        assert!(v["level"].is_string(), "{line}");
    }
    assert!(stderr.contains("lease: released"), "{stderr}");
    // Nothing was written into the config directory.
    assert_eq!(walk(config.path()), before);
    chmod_tree(config.path(), 0o755, 0o644);
}

/// Every path under `dir`, sorted.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out.sort();
    out
}
