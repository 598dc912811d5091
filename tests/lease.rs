//! One leader at a time, against the emulator: the lease's conditional writes (`If-None-Match: *`
//! to create, `If-Match: <etag>` to renew, take over and release), its state bucket, and two real
//! `stackwatch watch` processes on one app: exactly one applies, a SIGKILLed leader is replaced
//! after its lease expires, SIGTERM releases the lease, and no resource is ever duplicated.
//!
//! Every wait is bounded and polls; the only time bounds are generous (TTL + poll + slack).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::census::{inventory, policy_text};
use common::daemon::{Daemon, eventually};
use common::{Emulator, edit, example_config};
use stackwatch::aws::Aws;
use stackwatch::daemon::lease::{KEY, Lease, LeaseError, Record, Target};
use stackwatch::daemon::state::Shared;
use tokio::sync::Notify;

const WAIT: Duration = Duration::from_secs(60);

fn lease(ttl: Duration) -> (Arc<Lease>, Arc<Shared>) {
    let shared = Arc::new(Shared::new("auto"));
    let lease = Lease::new(ttl, shared.clone(), Arc::new(Notify::new()));
    (lease, shared)
}

async fn account(aws: &Aws) -> String {
    aws.account().await.unwrap()
}

async fn read_record(aws: &Aws, bucket: &str) -> Record {
    let out = aws
        .s3
        .get_object()
        .bucket(bucket)
        .key(KEY)
        .send()
        .await
        .unwrap();
    let body = out.body.collect().await.unwrap().into_bytes();
    serde_json::from_slice(&body).unwrap()
}

#[tokio::test]
async fn conditional_writes_give_one_holder_renewal_release_and_takeover_after_expiry() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let acct = account(&aws).await;
    let target = Target::new("notes", "dev", &acct, common::REGION).unwrap();
    let ttl = Duration::from_secs(3);
    let (a, a_shared) = lease(ttl);
    let (b, b_shared) = lease(ttl);

    // The first creates the bucket and the lease (If-None-Match: *); the second is refused.
    assert!(a.ensure(target.clone(), aws.clone(), true).await.unwrap());
    assert!(!b.ensure(target.clone(), aws.clone(), true).await.unwrap());
    assert!(a.is_leader() && !b.is_leader());
    let seen = b_shared.status().lease.unwrap();
    assert_eq!(seen.holder.as_deref(), Some(a.id()), "{seen:?}");
    assert_eq!(
        a_shared.status().lease.unwrap().holder.as_deref(),
        Some(a.id())
    );
    assert!(a_shared.metrics.encode().contains("stackwatch_leader 1"));
    assert!(b_shared.metrics.encode().contains("stackwatch_leader 0"));
    let record = read_record(&aws, &target.bucket).await;
    assert_eq!(record.holder, a.id());
    assert!(!record.is_free());

    // The state bucket is tagged like every resource stackwatch owns.
    let tags = aws
        .s3
        .get_bucket_tagging()
        .bucket(&target.bucket)
        .send()
        .await
        .unwrap();
    let tag = |k: &str| {
        tags.tag_set()
            .iter()
            .find(|t| t.key() == k)
            .map(|t| t.value().to_string())
    };
    assert_eq!(tag("stackwatch:app").as_deref(), Some("notes"));
    assert_eq!(tag("stackwatch:stage").as_deref(), Some("dev"));
    assert_eq!(tag("stackwatch:stack").as_deref(), Some("_stackwatch"));

    // Renewal (If-Match) moves the expiry forward; the other still cannot take it.
    let before = read_record(&aws, &target.bucket).await.expires_at_ms;
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(a.ensure(target.clone(), aws.clone(), true).await.unwrap());
    assert!(read_record(&aws, &target.bucket).await.expires_at_ms > before);
    assert!(!b.ensure(target.clone(), aws.clone(), true).await.unwrap());

    // Release: the other takes it at once, long before the expiry.
    a.release().await;
    assert!(!a.is_leader());
    let released = read_record(&aws, &target.bucket).await;
    assert!(
        released.released && released.holder == a.id(),
        "{released:?}"
    );
    assert!(b.ensure(target.clone(), aws.clone(), true).await.unwrap());
    assert!(!a.ensure(target.clone(), aws.clone(), true).await.unwrap());

    // b stops renewing (as if killed): after the TTL, a takes over with If-Match on b's record,
    // and b's next renewal fails its If-Match: b is no longer the leader.
    let took = || async {
        a.ensure(target.clone(), aws.clone(), true)
            .await
            .unwrap()
            .then_some(())
    };
    common::eventually("a to take the expired lease", ttl * 3, String::new, took).await;
    assert!(!b.ensure(target.clone(), aws.clone(), true).await.unwrap());
    assert!(!b.is_leader());
    assert_eq!(read_record(&aws, &target.bucket).await.holder, a.id());

    // A same-named bucket without our tags is never used.
    let foreign = Target::new("other", "dev", &acct, common::REGION).unwrap();
    aws.s3
        .create_bucket()
        .bucket(&foreign.bucket)
        .send()
        .await
        .unwrap();
    let (c, c_shared) = lease(ttl);
    match c.ensure(foreign.clone(), aws.clone(), true).await {
        Err(LeaseError::Foreign { bucket, .. }) => assert_eq!(bucket, foreign.bucket),
        other => panic!("expected Foreign, got {other:?}"),
    }
    assert!(!c.is_leader());
    assert!(c_shared.status().lease.unwrap().error.is_some());
    let objects = aws
        .s3
        .list_objects_v2()
        .bucket(&foreign.bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(objects.key_count(), Some(0), "wrote into a foreign bucket");
}

/// The S3 object calls (the lease's) sent through `aws` so far.
fn object_calls(aws: &Aws) -> u64 {
    let calls = aws.calls.snapshot();
    calls
        .iter()
        .filter(|c| c.operation.ends_with("Object"))
        .map(|c| c.count)
        .sum()
}

/// A reconcile asks `current`: within a third of the TTL of the last step it answers from
/// that step and sends nothing; after that it renews (holder) or reads (others) again.
#[tokio::test]
async fn a_reconcile_looks_at_the_lease_at_most_once_a_third_of_the_ttl() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let target = Target::new("notes", "dev", &account(&aws).await, common::REGION).unwrap();
    // Long enough that the first steps and the looks after them fit in a third of it on a
    // loaded machine.
    let ttl = Duration::from_secs(12);
    let (a, _) = lease(ttl);
    let (b, _) = lease(ttl);
    assert!(a.current(target.clone(), aws.clone(), true).await.unwrap());
    assert!(!b.current(target.clone(), aws.clone(), true).await.unwrap());
    let expiry = read_record(&aws, &target.bucket).await.expires_at_ms;

    let before = object_calls(&aws);
    for _ in 0..20 {
        assert!(a.current(target.clone(), aws.clone(), true).await.unwrap());
        assert!(!b.current(target.clone(), aws.clone(), true).await.unwrap());
    }
    assert_eq!(object_calls(&aws), before, "a fresh look sent S3 calls");

    // A third of the TTL later: the holder renews (the expiry moves), the other reads again.
    tokio::time::sleep(ttl / 3).await;
    assert!(a.current(target.clone(), aws.clone(), true).await.unwrap());
    assert!(read_record(&aws, &target.bucket).await.expires_at_ms > expiry);
    let renewed = object_calls(&aws);
    assert!(!b.current(target.clone(), aws.clone(), true).await.unwrap());
    assert!(object_calls(&aws) > renewed, "the other did not look again");

    // Another app's lease is never answered from this one's step.
    let other = Target::new("other", "dev", &account(&aws).await, common::REGION).unwrap();
    assert!(a.current(other.clone(), aws.clone(), true).await.unwrap());
    assert_eq!(read_record(&aws, &other.bucket).await.holder, a.id());

    // Gated (the Kubernetes Lease): closing the gate gives the lease up at the next look, and
    // reopening it takes the lease at the next look, not from what was seen before.
    let (gate, rx) = tokio::sync::watch::channel(true);
    let (g, _) = lease(ttl);
    g.gate_on(rx);
    let gated = Target::new("gated", "dev", &account(&aws).await, common::REGION).unwrap();
    assert!(g.current(gated.clone(), aws.clone(), true).await.unwrap());
    gate.send_replace(false);
    assert!(!g.current(gated.clone(), aws.clone(), true).await.unwrap());
    assert!(read_record(&aws, &gated.bucket).await.released);
    gate.send_replace(true);
    assert!(g.current(gated.clone(), aws.clone(), true).await.unwrap());
    assert!(!read_record(&aws, &gated.bucket).await.released);
}

// ------------------------------------------------------------- two daemons

/// `stackwatch watch --approve auto --lease-ttl <ttl>` on its own copy of the example app.
fn daemon(emu: &Emulator, ttl: &str) -> Daemon {
    let app = example_config();
    let args = ["--approve", "auto", "--lease-ttl", ttl];
    Daemon::start(&emu.env(), app.path(), &args).owning(app)
}

/// One user pool, identity pool, role and API; the uploads bucket and the state bucket.
const ONE_OF_EACH: [usize; 5] = [1, 1, 1, 1, 2];

#[tokio::test]
async fn two_daemons_exactly_one_applies_and_a_killed_leader_is_replaced_without_duplicates() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let ttl = Duration::from_secs(4);
    // Started together: both read AWS, plan the same creates and race for the lease.
    let a = daemon(&emu, "4s");
    let b = daemon(&emu, "4s");
    eventually("both daemons ready", WAIT, &[&a, &b], || async {
        (a.ready() && b.ready() && (a.is_leader() ^ b.is_leader())).then_some(())
    })
    .await;
    let (leader, follower) = if a.is_leader() { (&a, &b) } else { (&b, &a) };
    eventually("the leader's deploy", WAIT, &[leader], || async {
        leader
            .dir()
            .join(".stackwatch/outputs.json")
            .exists()
            .then_some(())
    })
    .await;

    // Exactly one applied: the follower sent no write outside its lease.
    assert_eq!(
        leader.metric("stackwatch_aws_calls_total{service=\"Cognito Identity Provider\",operation=\"CreateUserPool\",kind=\"write\"}"),
        1.0,
        "{}",
        leader.metrics()
    );
    assert!(
        follower.app_writes().is_empty(),
        "the follower applied: {:?}\n{}",
        follower.app_writes(),
        follower.logs()
    );
    let fs = follower.status();
    let ls = leader.status();
    assert_eq!(fs["lease"]["leader"], false, "{fs:#}");
    assert_eq!(fs["lease"]["holder"], ls["lease"]["id"], "{fs:#}\n{ls:#}");
    assert_eq!(ls["lease"]["holder"], ls["lease"]["id"], "{ls:#}");
    assert_eq!(inventory(&aws).await, ONE_OF_EACH);

    // SIGKILL the leader: no release; its lease expires and the follower takes over.
    let killed_leader_is_a = std::ptr::eq(leader, &a);
    let follower_is_b = killed_leader_is_a;
    let killed = Instant::now();
    if killed_leader_is_a {
        a.signal(libc::SIGKILL);
    } else {
        b.signal(libc::SIGKILL);
    }
    let survivor = if follower_is_b { &b } else { &a };
    // Within the expiry plus one poll (a third of the TTL), with slack for a loaded machine.
    eventually(
        "the handover",
        ttl + ttl / 3 + Duration::from_secs(10),
        &[survivor],
        || async { survivor.is_leader().then_some(()) },
    )
    .await;
    eprintln!(
        "measured: SIGKILL of the leader -> handover in {:?} (lease TTL {ttl:?})",
        killed.elapsed()
    );
    let s = survivor.status();
    assert_eq!(s["lease"]["holder"], s["lease"]["id"], "{s:#}");

    // The new leader applies: an edit to its files reaches AWS.
    edit(
        survivor.dir(),
        "stacks/auth.yaml",
        r#"actions: ["s3:*"]"#,
        r#"actions: ["s3:GetObject"]"#,
    );
    eventually("the new leader's apply", WAIT, &[survivor], || async {
        let p = policy_text(&aws).await;
        (p.contains("s3:GetObject") && !p.contains("\"s3:*\"")).then_some(())
    })
    .await;
    // It found everything the old leader made: no duplicate anywhere.
    assert_eq!(
        survivor.metric("stackwatch_aws_calls_total{service=\"Cognito Identity Provider\",operation=\"CreateUserPool\",kind=\"write\"}"),
        0.0,
        "{}",
        survivor.logs()
    );
    assert_eq!(inventory(&aws).await, ONE_OF_EACH);
}

#[tokio::test]
async fn sigterm_releases_the_lease_and_the_other_daemon_takes_over() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let mut a = daemon(&emu, "9s");
    eventually("the first deploy", WAIT, &[&a], || async {
        (a.ready() && a.is_leader()).then_some(())
    })
    .await;
    let b = daemon(&emu, "9s");
    eventually("the second daemon ready", WAIT, &[&b], || async {
        b.ready().then_some(())
    })
    .await;
    assert!(!b.is_leader());
    let a_id = a.status()["lease"]["id"].as_str().unwrap().to_string();
    assert_eq!(b.status()["lease"]["holder"], a_id.as_str());

    // b is paused (SIGSTOP) while a stops, so what a wrote on its way out can be read before b
    // could take the lease: the record must say released, by a.
    b.signal(libc::SIGSTOP);
    a.signal(libc::SIGTERM);
    let status = a
        .wait_exit(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("still running after SIGTERM\n{}", a.logs()));
    assert_eq!(status.code(), Some(0), "{}", a.logs());
    // The lease object says released, by a: no successor has to wait for the expiry.
    let acct = account(&aws).await;
    let bucket = Target::new("notes", "dev", &acct, common::REGION)
        .unwrap()
        .bucket;
    let record = read_record(&aws, &bucket).await;
    assert!(record.released, "{record:?}");
    assert_eq!(record.holder, a_id, "{record:?}");
    assert!(a.logs().contains("lease: released"), "{}", a.logs());
    b.signal(libc::SIGCONT);
    eventually("b to take over", WAIT, &[&b], || async {
        b.is_leader().then_some(())
    })
    .await;
    assert_eq!(inventory(&aws).await, ONE_OF_EACH);
    assert!(b.app_writes().is_empty(), "{:?}", b.app_writes());
}

/// A laptop's one-shot `apply` or `destroy` next to a daemon that leads: refused, naming the
/// holder, and nothing written; once the daemon stops (releasing the lease), `apply` runs.
#[tokio::test]
async fn one_shot_writes_refuse_while_a_daemon_leads() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let mut a = daemon(&emu, "9s");
    eventually("the deploy", WAIT, &[&a], || async {
        (a.ready() && a.is_leader()).then_some(())
    })
    .await;
    let holder = a.status()["lease"]["id"].as_str().unwrap().to_string();
    let before = inventory(&aws).await;

    // The laptop's copy of the app wants a change: a second statement in the policy.
    let laptop = example_config();
    edit(
        laptop.path(),
        "stacks/auth.yaml",
        "actions: [\"s3:*\"]",
        "actions: [\"s3:GetObject\"]",
    );
    for args in [&["apply", "--yes"][..], &["destroy", "--yes"]] {
        let (code, out, err) = common::run(&emu.env(), laptop.path(), args, &[]);
        assert_eq!(
            code, 1,
            "{args:?} ran next to a leading daemon:\n{out}\n{err}"
        );
        assert!(
            err.contains(&holder),
            "{args:?} does not name the holder:\n{err}"
        );
    }
    assert_eq!(inventory(&aws).await, before);
    assert!(!policy_text(&aws).await.contains("\"s3:GetObject\""));

    // The daemon stops and releases the lease: now the one-shot apply goes ahead.
    a.signal(libc::SIGTERM);
    a.wait_exit(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("still running after SIGTERM\n{}", a.logs()));
    let (code, out, err) = common::run(&emu.env(), laptop.path(), &["apply", "--yes"], &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(policy_text(&aws).await.contains("s3:GetObject"));
}
