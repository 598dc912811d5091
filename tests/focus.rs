//! A read, plan and apply focused on some stacks (`--stack`, and the daemon's per-stack keys):
//! only their resources are read and written, the others are read only for the attributes
//! the focused ones reference (and not at all when an earlier read through the same cache
//! knows them), and no leftover is looked for. Calls are counted by the SDK's own counter.

mod common;

use std::collections::BTreeSet;

use common::{Emulator, apply_yes, edit, example_config, stackwatch, with_s3_actions};
use stackwatch::aws::Aws;
use stackwatch::engine::{self, Focus, ReadCache};
use stackwatch::plan::Action;
use stackwatch::session;

/// The services a client's calls went to, and the operations, as `service:Operation`.
fn services(aws: &Aws) -> (BTreeSet<String>, Vec<String>) {
    let calls = aws.calls.snapshot();
    let services = calls.iter().map(|c| c.service.clone()).collect();
    let ops = calls
        .iter()
        .map(|c| format!("{}:{}", c.service, c.operation))
        .collect();
    (services, ops)
}

/// How many calls of `operation` went through `aws`.
fn count(aws: &Aws, operation: &str) -> u64 {
    aws.calls
        .snapshot()
        .iter()
        .filter(|c| c.operation == operation)
        .map(|c| c.count)
        .sum()
}

#[tokio::test]
async fn a_focused_read_reads_its_stack_and_only_what_it_references() {
    let emu = Emulator::start();
    let dir = example_config();
    apply_yes(&emu, dir.path(), &[]);
    let desired = session::load(dir.path(), None).unwrap();
    let auth = Focus::stacks(["AuthStack"]);

    // A cold cache: AuthStack's references (the bucket's ARN, the API's id) are read, the
    // table nobody references is not, and no listing looks for leftovers.
    let aws = emu.aws().await;
    let cache = ReadCache::new();
    let snap = engine::read_focused(&aws, &desired, &cache, &auth)
        .await
        .unwrap();
    let (svc, ops) = services(&aws);
    assert!(
        !svc.contains("DynamoDB"),
        "the table is not referenced: {ops:?}"
    );
    assert!(
        svc.contains("S3") && svc.contains("ApiGatewayV2"),
        "{ops:?}"
    );
    // Leftover discovery lists roles, identity pools and APIs; a focused read lists only to
    // find its own pool and API by name, once each.
    let full = emu.aws().await;
    engine::read(&full, &desired).await.unwrap();
    for op in ["ListIdentityPools", "GetApis"] {
        assert_eq!(count(&aws, op), 1, "{op}: {ops:?}");
        assert_eq!(
            count(&full, op),
            2,
            "{op}: a full read also looks for leftovers"
        );
    }
    assert_eq!(count(&aws, "ListRoles"), 0, "{ops:?}");
    assert_eq!(count(&full, "ListRoles"), 1);
    let plan = engine::plan(&desired, &snap);
    assert!(
        plan.changes.iter().all(|c| c.stack == "AuthStack"),
        "{plan:?}"
    );
    assert!(!plan.has_changes(), "{plan:?}");

    // A warm cache (one full read through it): the other stacks are not read at all.
    let cache = ReadCache::new();
    engine::read_cached(&emu.aws().await, &desired, &cache)
        .await
        .unwrap();
    let aws = emu.aws().await;
    let snap = engine::read_focused(&aws, &desired, &cache, &auth)
        .await
        .unwrap();
    let (svc, ops) = services(&aws);
    assert_eq!(
        svc,
        BTreeSet::from([
            "Cognito Identity".to_string(),
            "Cognito Identity Provider".to_string(),
            "IAM".to_string()
        ]),
        "{ops:?}"
    );
    assert!(!engine::plan(&desired, &snap).has_changes());
    // Each is found by the id the full read remembered, with no listing.
    for op in ["ListUserPools", "ListUserPoolClients", "ListIdentityPools"] {
        assert_eq!(count(&aws, op), 0, "{op}: {ops:?}");
    }

    // An id is only a hint: the client deleted behind stackwatch's back is looked for by name
    // again, not found, and planned for creation.
    let node = |id: &str| desired.nodes.iter().position(|n| n.id == id).unwrap();
    let pool = &snap.observed[node("AuthStack.Auth.UserPool")];
    let client = &snap.observed[node("AuthStack.Auth.UserPoolClient")];
    let (pool, client) = (&pool.as_ref().unwrap().id, &client.as_ref().unwrap().id);
    aws.idp
        .delete_user_pool_client()
        .user_pool_id(pool)
        .client_id(client)
        .send()
        .await
        .unwrap();
    let aws = emu.aws().await;
    let snap = engine::read_focused(&aws, &desired, &cache, &auth)
        .await
        .unwrap();
    assert_eq!(count(&aws, "ListUserPoolClients"), 1);
    let plan = engine::plan(&desired, &snap);
    let created: Vec<&str> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Create)
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(created, ["AuthStack.Auth.UserPoolClient"], "{plan:?}");
    emu.assert_no_validation_refusals();
}

#[tokio::test]
async fn apply_with_stack_changes_only_that_stack_and_keeps_the_others_outputs() {
    let emu = Emulator::start();
    let dir = example_config();
    apply_yes(&emu, dir.path(), &[]);
    let before: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join(".stackwatch/outputs.json")).unwrap(),
    )
    .unwrap();

    // Two edits, one per stack; only AuthStack's is applied.
    let auth_yaml = std::fs::read_to_string(dir.path().join("stacks/auth.yaml")).unwrap();
    std::fs::write(
        dir.path().join("stacks/auth.yaml"),
        with_s3_actions(&auth_yaml, r#"["s3:GetObject"]"#),
    )
    .unwrap();
    edit(
        dir.path(),
        "stacks/storage.yaml",
        "    sortKey: { name: noteId, type: string }\n",
        "    sortKey: { name: noteId, type: string }\n    pointInTimeRecovery: true\n",
    );
    let (code, out, err) = stackwatch(&emu, dir.path(), &["plan", "--stack", "AuthStack"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("AuthStack.Auth.AuthenticatedRole"), "{out}");
    assert!(!out.contains("StorageStack.Notes"), "{out}");

    let out = apply_yes(&emu, dir.path(), &["--stack", "AuthStack"]);
    assert!(
        out.contains("✓ AuthStack.Auth.AuthenticatedRole updated"),
        "{out}"
    );
    let after: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join(".stackwatch/outputs.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        after, before,
        "the outputs did not change, and no stack's were dropped"
    );

    // The storage edit is still pending; a whole plan shows it and only it.
    let aws = emu.aws().await;
    let s = common::open(&aws, dir.path()).await;
    let plan = s.plan();
    let pending: Vec<(&str, Action)> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoChange)
        .map(|c| (c.id.as_str(), c.action))
        .collect();
    assert_eq!(pending, [("StorageStack.Notes", Action::Update)]);

    let (code, _, err) = stackwatch(&emu, dir.path(), &["plan", "--stack", "Nope"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("--stack Nope: no stack file declares a stack of that name"),
        "{err}"
    );
}

#[tokio::test]
async fn a_focused_stack_whose_dependency_is_not_deployed_is_blocked_not_guessed() {
    let emu = Emulator::start();
    let dir = example_config();
    let desired = session::load(dir.path(), None).unwrap();
    let aws = emu.aws().await;
    let snap = engine::read_focused(
        &aws,
        &desired,
        &ReadCache::new(),
        &Focus::stacks(["AuthStack"]),
    )
    .await
    .unwrap();
    let plan = engine::plan(&desired, &snap);
    let role = plan
        .changes
        .iter()
        .find(|c| c.id == "AuthStack.Auth.AuthenticatedRole")
        .unwrap();
    assert_eq!(role.action, Action::Blocked, "{plan:?}");
    let why = role.error.as_ref().unwrap().to_string();
    assert!(why.contains("out of focus and not deployed"), "{why}");
    // What needs nothing from the other stacks is planned as usual.
    let pool = plan
        .changes
        .iter()
        .find(|c| c.id == "AuthStack.Auth.UserPool")
        .unwrap();
    assert_eq!(pool.action, Action::Create);
}
