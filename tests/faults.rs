//! Fault injection: stackwatch through a seeded proxy (tests/common/fault_proxy.rs) that fails
//! calls with 5xx answers, throttling in each service's wire shape and connection resets, and an
//! emulator that is restarted (all state lost) under a running daemon.
//!
//! `STACKWATCH_FAULT_SEED` replays a run with another seed (the default is fixed).

mod common;
#[path = "common/fault_proxy.rs"]
mod fault_proxy;

use std::time::Duration;

use common::census::{census, pools_named};
use common::daemon::Daemon;
use common::{AUTH_ROLE, Emulator, example_config, foreign_pool, run};
use fault_proxy::{FaultProxy, Faults};
use stackwatch::aws::Aws;

fn seed() -> u64 {
    std::env::var("STACKWATCH_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_240_611)
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
        let (code, out, err) = run(&proxy.env(), dir.path(), &["apply", "--yes"], &[]);
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
        let plan = ["plan", "--detailed-exitcode"];
        let (code, out, err) = run(&proxy.env(), dir.path(), &plan, &[]);
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

#[tokio::test]
async fn emulator_restarted_mid_watch_is_rebuilt_and_the_daemon_keeps_running() {
    let emu = Emulator::start();
    // The daemon talks to the proxy; the proxy is repointed at the new emulator.
    let proxy = FaultProxy::start(&emu.endpoint, Faults::NONE, seed());
    let dir = example_config();
    let args = ["--approve", "auto", "--resync", "1s"];
    let mut d = Daemon::start(&proxy.env(), dir.path(), &args);

    let converged = |aws: Aws| async move {
        census(&aws).await.iter().all(|(_, n)| *n == 1)
            && aws
                .iam
                .get_role_policy()
                .role_name(AUTH_ROLE)
                .policy_name("stackwatch")
                .send()
                .await
                .is_ok()
    };
    let logs = || d.logs();
    common::eventually(
        "the first deploy",
        Duration::from_secs(60),
        logs,
        || async { (d.ready() && converged(emu.aws().await).await).then_some(()) },
    )
    .await;

    // The emulator dies and comes back empty, on another port.
    drop(emu);
    let emu2 = Emulator::start();
    proxy.set_upstream(&emu2.endpoint);
    // (A daemon that exited would show in the logs; the next line checks it still runs.)
    let rebuilt = || async { converged(emu2.aws().await).await.then_some(()) };
    let what = "the daemon to rebuild the lost resources";
    common::eventually(what, Duration::from_secs(90), || d.logs(), rebuilt).await;
    // Still running and healthy, and it settles: a later plan is clean.
    assert!(d.try_wait().is_none(), "{}", d.logs());
    assert_eq!(d.get("/healthz").map(|r| r.0), Some(200));
    let clean = || async {
        let plan = ["plan", "--detailed-exitcode"];
        let (code, out, err) = run(&proxy.env(), dir.path(), &plan, &[]);
        (code == 0).then_some(()).or_else(|| {
            eprintln!("plan not clean yet:\n{out}\n{err}");
            None
        })
    };
    let what = "a clean plan after the rebuild";
    common::eventually(what, Duration::from_secs(30), || d.logs(), clean).await;
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
        last = run(&proxy.env(), dir.path(), &["apply", "--yes"], &[]);
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
    use stackwatch::resource::user_pool::{self, UserPool};
    use stackwatch::resource::{Owner, ResourceKind, Tags};
    let emu = Emulator::start();
    let direct = emu.aws().await;
    let foreign_id = foreign_pool(&direct, "dev-notes-Auth").await;

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
    let made = UserPool::create(&aws, &spec).await.unwrap();
    assert_eq!(
        proxy
            .stats()
            .resets
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    assert_eq!(made.owner, Owner::Ours);
    assert_ne!(made.id, foreign_id, "the foreign pool was taken for ours");
    let named = pools_named(&direct, "dev-notes-Auth").await.len();
    assert_eq!(named, 2, "the foreign pool and ours");
    emu.assert_no_validation_refusals();
}
