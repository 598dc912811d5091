//! `stackwatch watch` as a real process against the emulator: edits converge without a
//! restart, broken saves change nothing, drift is reverted on resync, bursts are coalesced,
//! emptied stack files delete nothing, SIGTERM exits 0 promptly, prompt mode waits for ENTER
//! on a real pseudo-terminal, and the HTTP endpoint answers with real numbers.
//!
//! Every wait is bounded and polls; nothing asserts after a fixed sleep.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::census::{apis, bucket_names, inline_policy, policy_text, user_pools};
use common::daemon::{Daemon, Options, eventually, metric};
use common::pty::Pty;
use common::{AUTH_ROLE, Emulator, copy_dir, example_config, foreign_pool, with_s3_actions};

const WAIT: Duration = Duration::from_secs(30);

fn auth_yaml(dir: &Path) -> PathBuf {
    dir.join("stacks/auth.yaml")
}

#[tokio::test]
async fn editing_a_permission_converges_without_restart_and_after_directory_replacement() {
    let emu = Emulator::start();
    let dir = example_config();
    let aws = emu.aws().await;
    // No --approve: stdin is not a terminal, so the default is auto.
    let d = Daemon::start(&emu.env(), dir.path(), &[]);
    d.wait_deployed(WAIT).await;
    assert_eq!(d.status()["approval"], "auto");
    let original = std::fs::read_to_string(auth_yaml(dir.path())).unwrap();
    assert!(policy_text(&aws).await.contains("\"s3:*\""));

    // A plain save (truncate and write, as VS Code does).
    let saved = Instant::now();
    std::fs::write(
        auth_yaml(dir.path()),
        with_s3_actions(&original, r#"["s3:GetObject", "s3:PutObject"]"#),
    )
    .unwrap();
    eventually("the policy update", WAIT, &[&d], || async {
        let p = policy_text(&aws).await;
        (p.contains("s3:GetObject") && !p.contains("\"s3:*\"")).then_some(())
    })
    .await;
    eprintln!(
        "measured: file save -> policy updated in AWS: {:?}",
        saved.elapsed()
    );
    assert!(d.stdout().contains("~ AuthStack.Auth.AuthenticatedRole"));

    // The whole stacks/ directory is replaced by a rename; the new one is watched too.
    let stacks = dir.path().join("stacks");
    let fresh = dir.path().join("stacks.new");
    std::fs::create_dir(&fresh).unwrap();
    for f in ["api.yaml", "storage.yaml"] {
        std::fs::copy(stacks.join(f), fresh.join(f)).unwrap();
    }
    std::fs::write(
        fresh.join("auth.yaml"),
        with_s3_actions(&original, r#"["s3:GetObject"]"#),
    )
    .unwrap();
    std::fs::rename(&stacks, dir.path().join("stacks.old")).unwrap();
    std::fs::rename(&fresh, &stacks).unwrap();
    eventually(
        "the replaced directory to converge",
        WAIT,
        &[&d],
        || async {
            let p = policy_text(&aws).await;
            (p.contains("s3:GetObject") && !p.contains("s3:PutObject")).then_some(())
        },
    )
    .await;
    // An edit inside the new directory is seen as well.
    std::fs::write(
        auth_yaml(dir.path()),
        with_s3_actions(&original, r#"["s3:DeleteObject"]"#),
    )
    .unwrap();
    eventually("an edit in the new directory", WAIT, &[&d], || async {
        policy_text(&aws)
            .await
            .contains("s3:DeleteObject")
            .then_some(())
    })
    .await;
    assert_eq!(d.metric("stackwatch_errors_total"), 0.0, "{}", d.logs());
}

#[tokio::test]
async fn broken_save_is_reported_with_location_and_changes_nothing_until_fixed() {
    let emu = Emulator::start();
    let dir = example_config();
    let aws = emu.aws().await;
    let d = Daemon::start(&emu.env(), dir.path(), &["--approve", "auto"]);
    d.wait_deployed(WAIT).await;
    let before = inline_policy(&aws).await.unwrap();
    let original = std::fs::read_to_string(auth_yaml(dir.path())).unwrap();
    let changed = with_s3_actions(&original, r#"["s3:GetObject"]"#);
    let broken = changed.replace("    kind: auth\n", "    kind: auth\n    colour: red\n");

    // A vim-style save: swap file, backup by rename, new file, then the swap file goes.
    let stacks = dir.path().join("stacks");
    std::fs::write(stacks.join(".auth.yaml.swp"), "swap").unwrap();
    std::fs::write(stacks.join("4913"), "").unwrap();
    std::fs::remove_file(stacks.join("4913")).unwrap();
    std::fs::rename(auth_yaml(dir.path()), stacks.join("auth.yaml~")).unwrap();
    std::fs::write(auth_yaml(dir.path()), &broken).unwrap();
    std::fs::remove_file(stacks.join(".auth.yaml.swp")).unwrap();

    eventually("the error with file:line:col", WAIT, &[&d], || async {
        d.stderr()
            .contains("auth.yaml:7:5: unknown field `colour`")
            .then_some(())
    })
    .await;
    let status = d.status();
    let errors = status["config_errors"].as_array().unwrap();
    assert!(
        errors[0].as_str().unwrap().contains("auth.yaml:7:5"),
        "{status:#}"
    );
    // Still ready (the last good state is kept) and AWS unchanged.
    assert_eq!(d.get("/readyz").map(|r| r.0), Some(200));
    assert!(inline_policy(&aws).await.unwrap().equivalent(&before));
    let invalid = d.metric("stackwatch_reconciles_total{result=\"invalid\"}");
    assert!(invalid >= 1.0, "{}", d.metrics());

    // Fixing the file converges to it.
    let rename_save = stacks.join("auth.yaml.tmp~");
    std::fs::write(&rename_save, &changed).unwrap();
    std::fs::rename(&rename_save, auth_yaml(dir.path())).unwrap();
    eventually("the fixed file to converge", WAIT, &[&d], || async {
        let p = policy_text(&aws).await;
        (p.contains("s3:GetObject") && !p.contains("\"s3:*\"")).then_some(())
    })
    .await;
    eventually("config errors to clear", WAIT, &[&d], || async {
        d.status()["config_errors"]
            .as_array()
            .is_some_and(Vec::is_empty)
            .then_some(())
    })
    .await;
    assert!(d.stderr().contains("valid again"), "{}", d.logs());
}

#[tokio::test]
async fn out_of_band_policy_edit_is_reverted_within_one_resync() {
    let emu = Emulator::start();
    let dir = example_config();
    let aws = emu.aws().await;
    let d = Daemon::start(
        &emu.env(),
        dir.path(),
        &["--approve", "auto", "--resync", "1s"],
    );
    d.wait_deployed(WAIT).await;
    let before = inline_policy(&aws).await.unwrap();

    let widened = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
    aws.iam
        .put_role_policy()
        .role_name(AUTH_ROLE)
        .policy_name("stackwatch")
        .policy_document(widened)
        .send()
        .await
        .unwrap();
    let edited = Instant::now();
    eventually("drift to be reverted", WAIT, &[&d], || async {
        inline_policy(&aws)
            .await
            .is_some_and(|p| p.equivalent(&before))
            .then_some(())
    })
    .await;
    // A measurement for the log, not an assertion: how fast is the benchmarks' business.
    eprintln!(
        "measured: out-of-band edit -> reverted: {:?} (resync 1s)",
        edited.elapsed()
    );
    eventually("the drift metric", WAIT, &[&d], || async {
        (d.metric("stackwatch_drift_detected_total") >= 1.0).then_some(())
    })
    .await;
    // Found by AuthStack's own resync, which the whole app's first deploy settled.
    assert!(
        d.metric("stackwatch_stack_drift_detected_total{stack=\"AuthStack\"}") >= 1.0,
        "{}",
        d.metrics()
    );
    assert!(d.stderr().contains("drift"), "{}", d.logs());
}

#[tokio::test]
async fn a_burst_of_writes_is_coalesced_and_the_last_content_wins() {
    let emu = Emulator::start();
    let dir = example_config();
    let aws = emu.aws().await;
    let d = Daemon::start(&emu.env(), dir.path(), &["--approve", "auto"]);
    d.wait_deployed(WAIT).await;
    let original = std::fs::read_to_string(auth_yaml(dir.path())).unwrap();
    let start = d.reconciles();

    let actions = [
        "s3:GetObject",
        "s3:PutObject",
        "s3:ListBucket",
        "s3:DeleteObject",
    ];
    let began = Instant::now();
    for i in 0..100 {
        let a = actions[i % actions.len()];
        std::fs::write(
            auth_yaml(dir.path()),
            with_s3_actions(&original, &format!(r#"["{a}"]"#)),
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(9));
    }
    let last = actions[99 % actions.len()];
    eprintln!("burst: 100 writes in {:?}", began.elapsed());
    eventually("the last content to converge", WAIT, &[&d], || async {
        let p = policy_text(&aws).await;
        let others = actions.iter().filter(|a| **a != last);
        (p.contains(last) && others.clone().all(|o| !p.contains(o))).then_some(())
    })
    .await;
    // Let any trailing rerun finish: the count must be stable for a while (bounded).
    let mut count = d.reconciles();
    let settle = Instant::now() + Duration::from_secs(10);
    let mut stable_since = Instant::now();
    while Instant::now() < settle && stable_since.elapsed() < Duration::from_secs(1) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = d.reconciles();
        if now != count {
            count = now;
            stable_since = Instant::now();
        }
    }
    let runs = count - start;
    eprintln!("measured: 100 writes -> {runs} reconcile(s)");
    assert!(
        (1.0..=5.0).contains(&runs),
        "{runs} reconciles\n{}",
        d.logs()
    );
    // The final state is the last content, and stays so.
    let p = policy_text(&aws).await;
    assert!(p.contains(last), "{p}");
}

#[tokio::test]
async fn emptying_or_removing_a_stack_file_in_auto_deletes_nothing() {
    let emu = Emulator::start();
    let dir = example_config();
    let extra = dir.path().join("stacks/extra.yaml");
    std::fs::write(
        &extra,
        "stack: Extra\nresources:\n  Hooks:\n    kind: api\n    routes:\n      GET /hook: https://hooks.example.com/hook\n",
    )
    .unwrap();
    let aws = emu.aws().await;
    let d = Daemon::start(&emu.env(), dir.path(), &["--approve", "auto"]);
    d.wait_deployed(WAIT).await;
    assert_eq!(apis(&aws).await.len(), 2);

    // Emptied (valid, no resources): the orphan is planned for deletion but held.
    std::fs::write(&extra, "stack: Extra\n").unwrap();
    d.wait_files_reconciled(WAIT).await;
    eventually("the held delete in /status", WAIT, &[&d], || async {
        let s = d.status();
        let held = s["resources"]
            .as_array()?
            .iter()
            .any(|r| r["id"] == "Extra.Hooks" && r["state"] == "delete" && r["outcome"] == "held");
        held.then_some(())
    })
    .await;
    assert_eq!(apis(&aws).await.len(), 2, "{}", d.logs());
    assert!(d.stderr().contains("--allow-delete"), "{}", d.logs());

    // Removed altogether: still nothing deleted.
    std::fs::remove_file(&extra).unwrap();
    d.wait_files_reconciled(WAIT).await;
    assert_eq!(apis(&aws).await.len(), 2, "{}", d.logs());

    // Emptied to zero bytes (invalid): nothing changes either.
    std::fs::write(&extra, "").unwrap();
    d.wait_files_reconciled(WAIT).await;
    assert_eq!(apis(&aws).await.len(), 2, "{}", d.logs());
    assert_eq!(user_pools(&aws).await.len(), 1);
    let writes: f64 = d
        .metrics()
        .lines()
        .filter(|l| l.contains("operation=\"Delete"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(writes, 0.0, "{}", d.metrics());

    // A replacement is held the same way without --allow-replace.
    std::fs::remove_file(&extra).unwrap();
    let pool_before = d.status()["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "AuthStack.Auth.UserPool")
        .map(|r| r["physical"].clone())
        .unwrap();
    let auth = auth_yaml(dir.path());
    let text = std::fs::read_to_string(&auth).unwrap();
    std::fs::write(
        &auth,
        text.replace("login: [email]", "login: [email, phone]"),
    )
    .unwrap();
    eventually("the held replacement in /status", WAIT, &[&d], || async {
        let s = d.status();
        let held = s["resources"].as_array()?.iter().any(|r| {
            r["id"] == "AuthStack.Auth.UserPool"
                && r["state"] == "replace"
                && r["outcome"] == "held"
        });
        held.then_some(())
    })
    .await;
    assert_eq!(user_pools(&aws).await.len(), 1);
    let pool_now = d.status()["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "AuthStack.Auth.UserPool")
        .map(|r| r["physical"].clone())
        .unwrap();
    assert_eq!(pool_before, pool_now, "the user pool was replaced");
    assert!(d.stderr().contains("--allow-replace"), "{}", d.logs());
}

#[tokio::test]
async fn sigterm_exits_zero_promptly_even_mid_deploy_and_the_next_start_converges() {
    let emu = Emulator::start();
    let dir = example_config();
    let aws = emu.aws().await;

    // SIGTERM while the first deploy is in flight.
    let mut d = Daemon::start(&emu.env(), dir.path(), &["--approve", "auto"]);
    eventually("the deploy to start", WAIT, &[&d], || async {
        d.stderr().contains("deploying").then_some(())
    })
    .await;
    let sent = Instant::now();
    d.signal(libc::SIGTERM);
    let status = d
        .wait_exit(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("still running 10 s after SIGTERM\n{}", d.logs()));
    let took = sent.elapsed();
    eprintln!("measured: SIGTERM mid-deploy -> exit in {took:?}");
    assert_eq!(status.code(), Some(0), "{}", d.logs());
    drop(d);

    // The next start converges whatever was left, then stops as promptly when idle.
    let mut d = Daemon::start(&emu.env(), dir.path(), &["--approve", "auto"]);
    d.wait_deployed(WAIT).await;
    assert_eq!(user_pools(&aws).await.len(), 1);
    assert!(inline_policy(&aws).await.is_some());
    let sent = Instant::now();
    d.signal(libc::SIGTERM);
    let status = d
        .wait_exit(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("still running 10 s after SIGTERM\n{}", d.logs()));
    eprintln!("measured: SIGTERM idle -> exit in {:?}", sent.elapsed());
    assert_eq!(status.code(), Some(0), "{}", d.logs());
    assert!(d.get("/healthz").is_none(), "HTTP still answering");
}

#[tokio::test]
async fn prompt_mode_on_a_terminal_deploys_only_after_enter() {
    let emu = Emulator::start();
    let dir = example_config();
    let aws = emu.aws().await;
    let mut pty = Pty::open();
    let slave = pty.slave.take().unwrap();
    // No --approve: stdin is a terminal, so the default is prompt.
    let stdin = Options {
        stdin: slave.into(),
        ..Options::default()
    };
    let d = Daemon::start_with(&emu.env(), dir.path(), &["--resync", "1s"], stdin);

    eventually("the prompt", WAIT, &[&d], || async {
        d.stdout().contains("Press ENTER to deploy").then_some(())
    })
    .await;
    assert_eq!(d.status()["approval"], "prompt");
    assert!(d.stdout().contains("+ AuthStack.Auth.UserPool "));
    // Several resyncs pass; nothing is deployed and the prompt is not repeated.
    let n = d.reconciles();
    d.wait_reconciles(n, 3.0, WAIT).await;
    assert_eq!(user_pools(&aws).await.len(), 0, "{}", d.logs());
    assert_eq!(apis(&aws).await.len(), 0);
    assert!(!dir.path().join(".stackwatch/outputs.json").exists());
    assert_eq!(d.stdout().matches("Press ENTER to deploy").count(), 1);
    let status = d.status();
    assert!(status["pending_plan"].is_object(), "{status:#}");
    assert_eq!(d.get("/readyz").map(|r| r.0), Some(200));

    let pressed = Instant::now();
    pty.master.write_all(b"\n").unwrap();
    d.wait_deployed(WAIT).await;
    eventually("the user pool", WAIT, &[&d], || async {
        (user_pools(&aws).await.len() == 1).then_some(())
    })
    .await;
    eprintln!("measured: ENTER -> deployed: {:?}", pressed.elapsed());
    assert!(d.stdout().contains("Status: deployed"), "{}", d.logs());
    assert!(d.status()["pending_plan"].is_null());
}

#[tokio::test]
async fn health_readiness_and_metrics_count_real_calls() {
    let emu = Emulator::start();
    let dir = example_config();
    let d = Daemon::start(&emu.env(), dir.path(), &["--approve", "never"]);
    eventually("/healthz", WAIT, &[&d], || async {
        (d.get("/healthz")?.0 == 200).then_some(())
    })
    .await;
    eventually("/readyz", WAIT, &[&d], || async {
        (d.get("/readyz")?.0 == 200).then_some(())
    })
    .await;
    let m = d.metrics();
    let list_pools = metric(
        &m,
        "stackwatch_aws_calls_total{service=\"Cognito Identity Provider\",operation=\"ListUserPools\",kind=\"read\"}",
    );
    assert!(list_pools >= 1.0, "{m}");
    assert!(
        metric(
            &m,
            "stackwatch_aws_calls_total{service=\"STS\",operation=\"GetCallerIdentity\",kind=\"read\"}"
        ) >= 1.0,
        "{m}"
    );
    // never: the plan is reported, nothing is written.
    assert!(!m.contains("kind=\"write\""), "{m}");
    assert!(metric(&m, "stackwatch_reconciles_total{result=\"pending\"}") >= 1.0);
    assert!(m.contains("stackwatch_reconcile_duration_seconds_count"));
    assert!(m.contains("stackwatch_last_success_timestamp_seconds"));
    let status = d.status();
    assert_eq!(status["approval"], "never");
    let creates = status["pending_plan"]["summary"]["create"].as_u64();
    assert!(creates.is_some_and(|n| n >= 7), "{status:#}");
    assert!(d.stdout().contains("only reported"));
    assert_eq!(d.get("/nope").map(|r| r.0), Some(404));
}

#[tokio::test]
async fn a_hung_step_is_abandoned_on_sigterm_and_a_second_signal_forces_exit() {
    let emu = Emulator::start();
    let dir = example_config();
    emu.freeze(true);

    // The first reconcile hangs on AWS; SIGTERM abandons it after the grace period, exit 0.
    let mut d = Daemon::start(&emu.env(), dir.path(), &["--approve", "auto"]);
    eventually("/healthz", WAIT, &[&d], || async {
        (d.get("/healthz")?.0 == 200).then_some(())
    })
    .await;
    assert_eq!(d.get("/readyz").map(|r| r.0), Some(503));
    let sent = Instant::now();
    d.signal(libc::SIGTERM);
    let status = d
        .wait_exit(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("still running 10 s after SIGTERM\n{}", d.logs()));
    eprintln!(
        "measured: SIGTERM with a hung AWS call -> exit in {:?}",
        sent.elapsed()
    );
    assert_eq!(status.code(), Some(0), "{}", d.logs());
    assert!(d.stderr().contains("abandoned"), "{}", d.logs());
    drop(d);

    // A second signal does not wait for the grace period: exit 130 at once.
    let mut d = Daemon::start(&emu.env(), dir.path(), &["--approve", "auto"]);
    eventually("/healthz", WAIT, &[&d], || async {
        (d.get("/healthz")?.0 == 200).then_some(())
    })
    .await;
    d.signal(libc::SIGINT);
    eventually("the first signal to be handled", WAIT, &[&d], || async {
        d.stderr().contains("stopping").then_some(())
    })
    .await;
    let sent = Instant::now();
    d.signal(libc::SIGINT);
    let status = d
        .wait_exit(Duration::from_secs(3))
        .unwrap_or_else(|| panic!("still running after a second signal\n{}", d.logs()));
    eprintln!("measured: second signal -> exit in {:?}", sent.elapsed());
    assert_eq!(status.code(), Some(130), "{}", d.logs());
    drop(d);
    emu.freeze(false);
}

#[tokio::test]
async fn aws_errors_back_off_spare_the_other_resources_and_recover() {
    let emu = Emulator::start();
    let dir = example_config();
    let aws = emu.aws().await;
    // A same-named pool without our tags: the auth resources cannot proceed.
    let foreign_id = foreign_pool(&aws, "dev-notes-Auth").await;

    let d = Daemon::start(&emu.env(), dir.path(), &["--approve", "auto"]);
    eventually("failed reconciles, retried", WAIT, &[&d], || async {
        (d.metric("stackwatch_reconciles_total{result=\"error\"}") >= 2.0).then_some(())
    })
    .await;
    // The others were applied; the daemon runs on, not ready, and says why.
    assert_eq!(apis(&aws).await.len(), 1);
    // The app's bucket; the daemon's lease lives in its own state bucket beside it.
    assert_eq!(
        bucket_names(&aws).await,
        [
            "dev-notes-stackwatch-123456789012",
            "dev-notes-storagestack-uploads-123456789012"
        ]
    );
    assert!(d.metric("stackwatch_errors_total") >= 1.0);
    assert_eq!(d.get("/readyz").map(|r| r.0), Some(503));
    let status = d.status();
    assert!(
        status["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("without stackwatch's tags")),
        "{status:#}"
    );
    assert!(d.stderr().contains("retry_in"), "{}", d.logs());

    // Once the conflict is gone, a retry converges and the backoff resets.
    aws.idp
        .delete_user_pool()
        .user_pool_id(&foreign_id)
        .send()
        .await
        .unwrap();
    d.wait_deployed(WAIT).await;
    assert_eq!(user_pools(&aws).await.len(), 1);
    assert!(d.status()["last_error"].is_null());
    assert!(d.stderr().contains("backoff reset"), "{}", d.logs());
}

#[tokio::test]
async fn a_replaced_config_directory_is_watched_again() {
    let emu = Emulator::start();
    let example = example_config();
    let parent = tempfile::tempdir().unwrap();
    let config = parent.path().join("config");
    std::fs::rename(example.path(), &config).unwrap_or_else(|_| copy_dir(example.path(), &config));
    let aws = emu.aws().await;
    let config_dir = Options {
        config: "config",
        ..Options::default()
    };
    let d = Daemon::start_with(
        &emu.env(),
        parent.path(),
        &["--approve", "auto"],
        config_dir,
    );
    d.wait_deployed(WAIT).await;
    let original = std::fs::read_to_string(auth_yaml(&config)).unwrap();

    // The whole config directory is swapped for an edited copy (as a git checkout or a
    // sync tool may do).
    let fresh = parent.path().join("config.new");
    copy_dir(&config, &fresh);
    std::fs::write(
        auth_yaml(&fresh),
        with_s3_actions(&original, r#"["s3:GetObject"]"#),
    )
    .unwrap();
    std::fs::rename(&config, parent.path().join("config.old")).unwrap();
    std::fs::rename(&fresh, &config).unwrap();
    eventually("the swapped directory to converge", WAIT, &[&d], || async {
        policy_text(&aws)
            .await
            .contains("s3:GetObject")
            .then_some(())
    })
    .await;
    // Edits in the new directory are seen (it is watched again).
    eventually("the directory to be watched again", WAIT, &[&d], || async {
        d.stderr().contains("watching it again").then_some(())
    })
    .await;
    std::fs::write(
        auth_yaml(&config),
        with_s3_actions(&original, r#"["s3:PutObject"]"#),
    )
    .unwrap();
    eventually("an edit in the new directory", WAIT, &[&d], || async {
        policy_text(&aws)
            .await
            .contains("s3:PutObject")
            .then_some(())
    })
    .await;
}

/// Lays `files` out in `dir` the way the kubelet mounts a ConfigMap: in `..{stamp}/`, behind the
/// symlink `..data`, each file a symlink through it. The first call creates the volume; a later
/// one swaps it as the kubelet does (`..data_tmp` renamed over `..data`, the old directory gone).
fn kubelet_volume(dir: &Path, stamp: &str, files: &[(&str, String)]) {
    use std::os::unix::fs::symlink;
    let data = dir.join(format!("..{stamp}"));
    std::fs::create_dir_all(&data).unwrap();
    for (name, text) in files {
        std::fs::write(data.join(name), text).unwrap();
    }
    let old = std::fs::read_link(dir.join("..data")).ok();
    symlink(format!("..{stamp}"), dir.join("..data_tmp")).unwrap();
    std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();
    for (name, _) in files {
        let link = dir.join(name);
        if std::fs::symlink_metadata(&link).is_err() {
            symlink(format!("..data/{name}"), &link).unwrap();
        }
    }
    if let Some(old) = old {
        std::fs::remove_dir_all(dir.join(old)).unwrap();
    }
}

/// A ConfigMap update in a cluster: the kubelet swaps the `..data` symlink, no stack file is
/// written in place, and the daemon must still see the change (here `stacks/` is the volume).
#[tokio::test]
async fn a_configmap_symlink_swap_is_a_change() {
    let emu = Emulator::start();
    let example = example_config();
    let aws = emu.aws().await;
    let root = tempfile::tempdir().unwrap();
    std::fs::copy(
        example.path().join("stackwatch.yaml"),
        root.path().join("stackwatch.yaml"),
    )
    .unwrap();
    let stacks = root.path().join("stacks");
    std::fs::create_dir(&stacks).unwrap();
    let read = |f: &str| std::fs::read_to_string(example.path().join("stacks").join(f)).unwrap();
    let original = read("auth.yaml");
    let files = |auth: String| {
        vec![
            ("api.yaml", read("api.yaml")),
            ("storage.yaml", read("storage.yaml")),
            ("auth.yaml", auth),
        ]
    };
    kubelet_volume(&stacks, "2026_12_02_05_00_00.1", &files(original.clone()));
    // A resync far away, so only the watcher can pick the swap up in time.
    let d = Daemon::start(&emu.env(), root.path(), &["--resync", "1h"]);
    d.wait_deployed(WAIT).await;
    assert!(policy_text(&aws).await.contains("\"s3:*\""));

    kubelet_volume(
        &stacks,
        "2026_12_02_05_01_00.2",
        &files(with_s3_actions(&original, r#"["s3:GetObject"]"#)),
    );
    eventually("the swapped ConfigMap to converge", WAIT, &[&d], || async {
        let p = policy_text(&aws).await;
        (p.contains("s3:GetObject") && !p.contains("\"s3:*\"")).then_some(())
    })
    .await;
    d.wait_files_reconciled(WAIT).await;
}
