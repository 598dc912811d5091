//! The daemon reconciles per stack: a save costs its own stack, and a change of attributes
//! re-plans the stacks that use them, and only those. Calls are counted by the daemon's own
//! `/metrics` (every request that reached the emulator). In prompt mode, the plan waiting for
//! ENTER is the union of the stacks' parts, and a save replaces only its stack's part.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use common::census::policy_text;
use common::daemon::{Daemon, Options, eventually};
use common::pty::Pty;
use common::{Emulator, edit, example_config, with_s3_actions};

const WAIT: Duration = Duration::from_secs(30);

/// AWS calls so far by service, from `/metrics`, without the S3 object calls of the leader
/// lease (the app's buckets are never read by object).
fn calls_by_service(d: &Daemon) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for line in d.metrics().lines() {
        let Some(rest) = line.strip_prefix("stackwatch_aws_calls_total{") else {
            continue;
        };
        if rest.contains("operation=\"GetObject\"")
            || rest.contains("operation=\"PutObject\"")
            || rest.contains("operation=\"DeleteObject\"")
        {
            continue;
        }
        let service = rest
            .split("service=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or_default()
            .to_string();
        let value: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
        *out.entry(service).or_default() += value;
    }
    out
}

fn delta(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>) -> BTreeMap<String, f64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0.0)))
        .filter(|(_, v)| *v > 0.0)
        .collect()
}

/// Waits until no reconcile has finished for a second: the daemon is idle.
async fn idle(d: &Daemon) {
    let mut last = d.reconciles();
    let mut quiet = 0;
    eventually("an idle daemon", WAIT, &[d], || {
        let now = d.reconciles();
        if now == last {
            quiet += 1;
        } else {
            quiet = 0;
            last = now;
        }
        let done = quiet >= 10;
        async move { done.then_some(()) }
    })
    .await;
}

fn start(emu: &Emulator, dir: &Path) -> Daemon {
    Daemon::start(&emu.env(), dir, &["--approve", "auto", "--resync", "10m"])
}

#[tokio::test]
async fn a_save_to_one_stack_reads_and_writes_only_that_stack() {
    let emu = Emulator::start();
    let dir = example_config();
    let aws = emu.aws().await;
    let d = start(&emu, dir.path());
    d.wait_deployed(WAIT).await;
    idle(&d).await;
    // Winning the lease in the first whole-app reconcile asks for no second one.
    assert_eq!(d.status()["stacks"]["*"]["reconciles"], 1, "{}", d.logs());
    let before = calls_by_service(&d);

    let auth = dir.path().join("stacks/auth.yaml");
    let text = std::fs::read_to_string(&auth).unwrap();
    std::fs::write(&auth, with_s3_actions(&text, r#"["s3:GetObject"]"#)).unwrap();
    d.wait_files_reconciled(WAIT).await;
    eventually("the policy update", WAIT, &[&d], || async {
        policy_text(&aws)
            .await
            .contains("s3:GetObject")
            .then_some(())
    })
    .await;
    idle(&d).await;
    let spent = delta(&before, &calls_by_service(&d));
    // AuthStack is Cognito and IAM; the bucket's ARN and the API's id it references come
    // from the daemon's read cache, and the table nobody references is not read.
    for other in ["S3", "DynamoDB", "ApiGatewayV2"] {
        assert!(
            !spent.contains_key(other),
            "{other} was called: {spent:?}\n{}",
            d.logs()
        );
    }
    assert!(spent.contains_key("IAM"), "{spent:?}");
    // AuthStack's deploy rewrote outputs.json with its own outputs and kept the others'.
    let outputs: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join(".stackwatch/outputs.json")).unwrap(),
    )
    .unwrap();
    assert!(
        outputs["dev-notes-ApiStack"]["ApiEndpoint"].is_string()
            && outputs["dev-notes-AuthStack"]["UserPoolId"].is_string(),
        "{outputs:#}"
    );
    // The save was AuthStack's own reconcile, in /status and in the metrics.
    let status = d.status();
    let auth = &status["stacks"]["AuthStack"];
    assert!(auth["reconciles"].as_u64() >= Some(1), "{status}");
    assert!(auth["last_error"].is_null(), "{status}");
    assert!(
        status["stacks"]["*"]["reconciles"].as_u64() >= Some(1),
        "{status}"
    );
    assert!(
        d.metric("stackwatch_stack_reconciles_total{stack=\"AuthStack\",result=\"success\"}")
            >= 1.0,
        "{}",
        d.metrics()
    );
}

#[tokio::test]
async fn a_changed_attribute_re_plans_the_stacks_that_use_it_and_nothing_else() {
    let emu = Emulator::start();
    let dir = example_config();
    // AuthStack's policy names the table's stream, whose ARN changes with its view type.
    edit(
        dir.path(),
        "stacks/storage.yaml",
        "    sortKey: { name: noteId, type: string }\n",
        "    sortKey: { name: noteId, type: string }\n    stream: newImage\n",
    );
    edit(
        dir.path(),
        "stacks/auth.yaml",
        "      authenticated:\n",
        "      authenticated:\n        - actions: [\"dynamodb:GetRecords\"]\n          resources: [\"${StorageStack.Notes.streamArn}\"]\n",
    );
    let aws = emu.aws().await;
    let d = start(&emu, dir.path());
    d.wait_deployed(WAIT).await;
    idle(&d).await;
    let stream_in_policy = |p: &str| -> Option<String> {
        let at = p.find(":table/")?;
        let arn_end = p[at..].find('"')? + at;
        let arn_start = p[..at].rfind('"')? + 1;
        Some(p[arn_start..arn_end].to_string()).filter(|a| a.contains("/stream/"))
    };
    let first = stream_in_policy(&policy_text(&aws).await).expect("the stream ARN in the policy");

    // A CORS change leaves every attribute as it was: AuthStack is not reconciled.
    let iam_before = calls_by_service(&d).get("IAM").copied().unwrap_or(0.0);
    edit(
        dir.path(),
        "stacks/storage.yaml",
        "maxAge: 3000",
        "maxAge: 600",
    );
    d.wait_files_reconciled(WAIT).await;
    idle(&d).await;
    let iam_after = calls_by_service(&d).get("IAM").copied().unwrap_or(0.0);
    assert_eq!(iam_after, iam_before, "AuthStack was re-read\n{}", d.logs());

    // A new stream view type makes a new stream: AuthStack is enqueued and its policy follows,
    // with no edit of auth.yaml.
    edit(
        dir.path(),
        "stacks/storage.yaml",
        "stream: newImage",
        "stream: newAndOldImages",
    );
    let second = eventually("the policy naming the new stream", WAIT, &[&d], || async {
        stream_in_policy(&policy_text(&aws).await).filter(|s| *s != first)
    })
    .await;
    assert_ne!(first, second);
    assert!(
        d.stderr()
            .contains("attributes it references changed; enqueued"),
        "{}",
        d.logs()
    );
    emu.assert_no_validation_refusals();
}

#[tokio::test]
async fn in_prompt_mode_a_save_replaces_only_its_stacks_part_and_enter_applies_the_union() {
    use std::io::Write;
    let emu = Emulator::start();
    let dir = example_config();
    let aws = emu.aws().await;
    let mut pty = Pty::open();
    let stdin = Options {
        stdin: pty.slave.take().unwrap().into(),
        ..Options::default()
    };
    let d = Daemon::start_with(&emu.env(), dir.path(), &["--resync", "10m"], stdin);
    eventually("the first prompt", WAIT, &[&d], || async {
        d.stdout().contains("Press ENTER to deploy").then_some(())
    })
    .await;
    pty.master.write_all(b"\n").unwrap();
    d.wait_deployed(WAIT).await;
    idle(&d).await;

    // Two saves, each to its own stack: the bucket's CORS (the first change after a deploy
    // reads the whole app), and a permission.
    let shown = d.stdout().len();
    edit(
        dir.path(),
        "stacks/storage.yaml",
        "maxAge: 3000",
        "maxAge: 3600",
    );
    eventually("StorageStack's prompt", WAIT, &[&d], || async {
        d.stdout()[shown..]
            .contains("Press ENTER to deploy")
            .then_some(())
    })
    .await;
    idle(&d).await;
    let shown = d.stdout().len();
    let before = calls_by_service(&d);
    let auth = dir.path().join("stacks/auth.yaml");
    let text = std::fs::read_to_string(&auth).unwrap();
    std::fs::write(&auth, with_s3_actions(&text, r#"["s3:GetObject"]"#)).unwrap();
    eventually("the union's prompt", WAIT, &[&d], || async {
        let out = d.stdout();
        out[shown..].contains("Press ENTER to deploy").then_some(())
    })
    .await;
    idle(&d).await;
    let union = d.stdout()[shown..].to_string();
    // The AuthStack save replaced AuthStack's part and kept StorageStack's pending change,
    // with every other resource counted as unchanged.
    assert!(
        union.contains("~ AuthStack.Auth.AuthenticatedRole"),
        "{union}"
    );
    assert!(union.contains("~ StorageStack.Uploads"), "{union}");
    assert!(union.contains("Plan: 0 to create, 2 to update"), "{union}");
    // The AuthStack save read AuthStack only.
    let spent = delta(&before, &calls_by_service(&d));
    for other in ["S3", "DynamoDB", "ApiGatewayV2"] {
        assert!(!spent.contains_key(other), "{spent:?}\n{}", d.logs());
    }
    // Nothing applied yet.
    assert!(!policy_text(&aws).await.contains("s3:GetObject"));

    // ENTER applies what is shown: both stacks' changes.
    pty.master.write_all(b"\n").unwrap();
    eventually("the union applied", WAIT, &[&d], || async {
        let policy = policy_text(&aws).await.contains("s3:GetObject");
        let cors = aws
            .s3
            .get_bucket_cors()
            .bucket("dev-notes-storagestack-uploads-123456789012")
            .send()
            .await
            .ok()?;
        let table = cors.cors_rules().first().and_then(|r| r.max_age_seconds) == Some(3600);
        (policy && table).then_some(())
    })
    .await;
    assert!(d.status()["pending_plan"].is_null(), "{}", d.status());
}
