//! Fault injection: stackwatch through a seeded proxy (tests/common/fault_proxy.rs) that fails
//! calls with 5xx answers, throttling in each service's wire shape and connection resets, and an
//! emulator that is restarted (all state lost) under a running daemon.
//!
//! `STACKWATCH_FAULT_SEED` replays a run with another seed (the default is fixed).

mod common;
#[path = "common/fault_proxy.rs"]
mod fault_proxy;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Emulator, example_config};
use fault_proxy::{FaultProxy, Faults};
use stackwatch::aws::Aws;

fn seed() -> u64 {
    std::env::var("STACKWATCH_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_240_611)
}

/// Runs the binary through the proxy: (exit code, stdout, stderr).
fn run(proxy: &FaultProxy, dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_stackwatch"))
        .args(["--config", "."])
        .args(args)
        .current_dir(dir)
        .envs(proxy.env())
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// How many of each resource the example app's dev stage has, read directly (no proxy).
async fn census(aws: &Aws) -> [(&'static str, usize); 5] {
    let pools = aws
        .idp
        .list_user_pools()
        .max_results(60)
        .send()
        .await
        .unwrap();
    let user_pools = pools
        .user_pools()
        .iter()
        .filter(|p| p.name() == Some("dev-notes-Auth"))
        .count();
    let ids = aws
        .identity
        .list_identity_pools()
        .max_results(60)
        .send()
        .await
        .unwrap();
    let identity_pools = ids
        .identity_pools()
        .iter()
        .filter(|p| p.identity_pool_name() == Some("dev_notes_Auth"))
        .count();
    let roles = aws
        .iam
        .list_roles()
        .path_prefix("/stackwatch/")
        .send()
        .await
        .unwrap()
        .roles()
        .iter()
        .filter(|r| r.role_name().starts_with("dev-notes-"))
        .count();
    let apis = aws
        .apigw
        .get_apis()
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .filter(|a| a.name() == Some("dev-notes-Api"))
        .count();
    let clients = match pools
        .user_pools()
        .iter()
        .find(|p| p.name() == Some("dev-notes-Auth"))
        .and_then(|p| p.id())
    {
        Some(id) => aws
            .idp
            .list_user_pool_clients()
            .user_pool_id(id)
            .send()
            .await
            .unwrap()
            .user_pool_clients()
            .len(),
        None => 0,
    };
    [
        ("user pools", user_pools),
        ("user pool clients", clients),
        ("identity pools", identity_pools),
        ("roles", roles),
        ("APIs", apis),
    ]
}

#[tokio::test]
async fn apply_converges_with_a_fifth_of_calls_failing_and_makes_no_duplicates() {
    let emu = Emulator::start();
    let proxy = FaultProxy::start(&emu.endpoint, Faults::failing(0.2), seed());
    let dir = example_config();

    // Retry apply until it exits 0, as a person (or CI) would; bounded.
    let mut attempts = 0;
    loop {
        attempts += 1;
        let (code, out, err) = run(&proxy, dir.path(), &["apply", "--yes"]);
        if code == 0 {
            break;
        }
        assert!(
            attempts < 8,
            "apply did not converge in {attempts} attempts ({}):\n{out}\n{err}",
            proxy.stats().summary()
        );
    }
    let injected = proxy.stats().injected();
    assert!(
        injected > 0,
        "no fault was injected: {}",
        proxy.stats().summary()
    );
    eprintln!(
        "converged after {attempts} apply run(s); proxy: {}",
        proxy.stats().summary()
    );

    let aws = emu.aws().await;
    for (what, n) in census(&aws).await {
        assert_eq!(n, 1, "{what}: expected exactly one, found {n}");
    }

    // A following plan is clean (it may itself meet faults: retried, bounded).
    let mut clean = false;
    for _ in 0..8 {
        let (code, out, err) = run(&proxy, dir.path(), &["plan", "--detailed-exitcode"]);
        match code {
            0 => {
                clean = true;
                break;
            }
            2 => panic!("the plan after apply is not clean:\n{out}\n{err}"),
            _ => {}
        }
    }
    assert!(clean, "plan kept failing: {}", proxy.stats().summary());
}

/// GET on the daemon's HTTP port: the status code.
fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    text.split(' ').nth(1)?.parse().ok()
}

#[tokio::test]
async fn emulator_restarted_mid_watch_is_rebuilt_and_the_daemon_keeps_running() {
    let emu = Emulator::start();
    // The daemon talks to the proxy; the proxy is repointed at the new emulator.
    let proxy = FaultProxy::start(&emu.endpoint, Faults::NONE, seed());
    let dir = example_config();
    let logs = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_stackwatch"))
        .args([
            "--config",
            ".",
            "watch",
            "--approve",
            "auto",
            "--resync",
            "1s",
        ])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .current_dir(dir.path())
        .envs(proxy.env())
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(logs.path().join("stdout")).unwrap())
        .stderr(std::fs::File::create(logs.path().join("stderr")).unwrap())
        .spawn()
        .unwrap();
    let log = || {
        std::fs::read_to_string(logs.path().join("stderr")).unwrap_or_default()
            + &std::fs::read_to_string(logs.path().join("stdout")).unwrap_or_default()
    };

    let converged = |aws: Aws| async move {
        census(&aws).await.iter().all(|(_, n)| *n == 1)
            && aws
                .iam
                .get_role_policy()
                .role_name("dev-notes-AuthStack-Auth-AuthRole")
                .policy_name("stackwatch")
                .send()
                .await
                .is_ok()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(http_status(port, "/readyz") == Some(200) && converged(emu.aws().await).await) {
        assert!(
            Instant::now() < deadline,
            "first deploy timed out\n{}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The emulator dies and comes back empty, on another port.
    drop(emu);
    let emu2 = Emulator::start();
    proxy.set_upstream(&emu2.endpoint);
    let deadline = Instant::now() + Duration::from_secs(90);
    while !converged(emu2.aws().await).await {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the daemon exited\n{}",
            log()
        );
        assert!(
            Instant::now() < deadline,
            "the daemon did not rebuild the lost resources\n{}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Still running and healthy, and it settles: a later plan is clean.
    assert!(child.try_wait().unwrap().is_none(), "{}", log());
    assert_eq!(http_status(port, "/healthz"), Some(200));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (code, out, err) = run(&proxy, dir.path(), &["plan", "--detailed-exitcode"]);
        if code == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "plan not clean after the rebuild:\n{out}\n{err}\n{}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Lost answers: the call reaches the emulator and its answer never comes back. A plain SDK
/// retry would send CreateUserPool, CreateUserPoolClient, CreateIdentityPool or CreateApi (no
/// idempotency token) again and make a second copy; `aws::create_once` sends them once and
/// looks before sending again. Before that fix, seeds 1 to 5 all left duplicates.
#[tokio::test]
async fn lost_answers_to_creates_make_no_duplicates() {
    let emu = Emulator::start();
    let proxy = FaultProxy::start(
        &emu.endpoint,
        Faults {
            drop_response: 0.3,
            ..Faults::NONE
        },
        std::env::var("STACKWATCH_FAULT_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3),
    );
    let dir = example_config();
    // A lost answer may fail an apply (the call's outcome is unknown); the next one converges.
    let mut last = (1, String::new(), String::new());
    for _ in 0..8 {
        last = run(&proxy, dir.path(), &["apply", "--yes"]);
        if last.0 == 0 {
            break;
        }
    }
    assert_eq!(last.0, 0, "apply never converged:\n{}\n{}", last.1, last.2);
    let dropped = proxy
        .stats()
        .dropped_responses
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        dropped > 0,
        "no answer was lost, so nothing was tested: {}",
        proxy.stats().summary()
    );
    let aws = emu.aws().await;
    let found = census(&aws).await;
    eprintln!("{found:?}; proxy: {}", proxy.stats().summary());
    for (what, n) in found {
        assert_eq!(n, 1, "{what}: expected exactly one, found {n}");
    }
}

/// A create whose first attempt never reached AWS, while a same-named pool of someone else's
/// exists: the look before sending again finds only that pool, which must not be taken for the
/// one the lost attempt made. The create is sent again and the pool returned is ours.
#[tokio::test]
async fn recovery_after_a_lost_create_never_returns_a_foreign_pool() {
    use stackwatch::resource::{Owner, Tags, user_pool};
    let emu = Emulator::start();
    let direct = emu.aws().await;
    let foreign = direct
        .idp
        .create_user_pool()
        .pool_name("dev-notes-Auth")
        .send()
        .await
        .unwrap();
    let foreign_id = foreign.user_pool().unwrap().id().unwrap().to_string();

    let proxy = FaultProxy::start(
        &emu.endpoint,
        Faults {
            reset_first: Some("CreateUserPool"),
            ..Faults::NONE
        },
        seed(),
    );
    let aws = Aws::connect_emulator(common::REGION, &proxy.endpoint).await;
    let spec = user_pool::Spec {
        name: "dev-notes-Auth".into(),
        username_attributes: vec!["email".into()],
        tags: Tags::from([
            ("stackwatch:app".to_string(), "notes".to_string()),
            ("stackwatch:stage".to_string(), "dev".to_string()),
            ("stackwatch:stack".to_string(), "AuthStack".to_string()),
            ("stackwatch:id".to_string(), "Auth.UserPool".to_string()),
        ]),
    };
    let made = user_pool::create(&aws, &spec).await.unwrap();
    assert_eq!(
        proxy
            .stats()
            .resets
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    assert_eq!(made.owner, Owner::Ours);
    assert_ne!(made.id, foreign_id, "the foreign pool was taken for ours");
    let pools = direct
        .idp
        .list_user_pools()
        .max_results(60)
        .send()
        .await
        .unwrap();
    let named = pools
        .user_pools()
        .iter()
        .filter(|p| p.name() == Some("dev-notes-Auth"))
        .count();
    assert_eq!(named, 2, "the foreign pool and ours");
    emu.assert_no_validation_refusals();
}
