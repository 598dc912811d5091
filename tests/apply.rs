//! The core capability end to end, against the emulator through the real SDK: a fresh apply,
//! a clean second plan with zero writes, a permission edit, drift, destroy with retain, a
//! foreign same-named resource, literal policy variables, and bad input changing nothing.

mod common;

use std::path::Path;

use common::census::{
    apis, bucket_names, identity_pools, inline_policy, user_pool_clients, user_pool_ids,
};
use common::{AUTH_ROLE, Emulator, GUEST, edit, example_config, foreign_pool, open, stackwatch};
use stackwatch::engine;
use stackwatch::plan::Action;

/// A fresh Aws (fresh call counter) for the same emulator.
async fn apply_all(emu: &Emulator, dir: &Path) -> engine::ApplyReport {
    let aws = emu.aws().await;
    let s = open(&aws, dir).await;
    let report = engine::apply(&s.aws, &s.desired, &s.snapshot, engine::Guard::ALLOW_ALL).await;
    assert!(
        report.errors().is_empty(),
        "apply failed: {:?}",
        report.errors()
    );
    report
}

#[tokio::test]
async fn fresh_apply_creates_everything_and_second_plan_is_clean() {
    let emu = Emulator::start();
    let dir = example_config();
    let (code, stdout2, stderr) = stackwatch(&emu, dir.path(), &["apply", "--yes"]);
    assert_eq!(code, 0, "apply failed:\n{stdout2}\n{stderr}");

    // Every primitive exists, under its logical name in the plan output.
    for id in [
        "StorageStack.Uploads",
        "StorageStack.Notes",
        "ApiStack.Api",
        "AuthStack.Auth.UserPool",
        "AuthStack.Auth.UserPoolClient",
        "AuthStack.Auth.IdentityPool",
        "AuthStack.Auth.AuthenticatedRole",
        "AuthStack.Auth.IdentityPoolRoles",
        "AuthStack.Auth.TestUser(admin@example.com)",
    ] {
        assert!(
            stdout2.contains(&format!("+ {id} ")),
            "plan lacks {id}:\n{stdout2}"
        );
    }
    assert!(
        stdout2.contains("Stack dev-notes-AuthStack\n  Status: deployed"),
        "{stdout2}"
    );

    // Outputs name the real resources.
    let aws = emu.aws().await;
    let outputs: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join(".stackwatch/outputs.json")).unwrap(),
    )
    .unwrap();
    let auth = &outputs["dev-notes-AuthStack"];
    assert_eq!(auth["Region"], "us-east-1");
    let pools = user_pool_ids(&aws).await;
    assert_eq!(pools.len(), 1);
    assert_eq!(auth["UserPoolId"], pools[0].0.as_str());
    assert_eq!(pools[0].1, "dev-notes-Auth");
    let clients = user_pool_clients(&aws, &pools[0].0).await;
    assert_eq!(auth["UserPoolClientId"], clients[0].client_id().unwrap());
    let ip = aws
        .identity
        .describe_identity_pool()
        .identity_pool_id(auth["IdentityPoolId"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        ip.cognito_identity_providers()[0].provider_name(),
        Some(format!("cognito-idp.us-east-1.amazonaws.com/{}", pools[0].0).as_str())
    );

    // The policy variable reached AWS literally.
    let doc = inline_policy(&aws).await.unwrap();
    assert!(
        doc.to_wire()
            .contains("/private/${cognito-identity.amazonaws.com:sub}/*"),
        "{}",
        doc.to_wire()
    );

    // A second plan: no changes, zero write calls.
    let aws2 = emu.aws().await;
    let s = open(&aws2, dir.path()).await;
    let plan = s.plan();
    let changed: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoChange)
        .map(|c| (&c.id, c.action, &c.fields))
        .collect();
    assert!(changed.is_empty(), "second plan not clean: {changed:#?}");
    assert_eq!(
        aws2.calls.writes(),
        0,
        "writes: {:?}",
        aws2.calls.write_operations()
    );
    assert!(aws2.calls.reads() > 0);

    // The CLI agrees: exit 0 with --detailed-exitcode.
    let (code, out, err) = stackwatch(&emu, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("No changes."), "{out}");

    // JSON plan: nothing to do; `outputs --json` reads the same values back from AWS.
    let (code, out, err) = stackwatch(&emu, dir.path(), &["plan", "--json"]);
    assert_eq!(code, 0, "{err}");
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        plan["summary"],
        serde_json::json!({"create": 0, "update": 0, "replace": 0, "delete": 0, "blocked": 0})
    );
    assert_eq!(plan["changes"].as_array().unwrap().len(), 9);
    let (code, out, err) = stackwatch(&emu, dir.path(), &["outputs", "--json"]);
    assert_eq!(code, 0, "{err}");
    let read_back: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(read_back, outputs);
}

#[tokio::test]
async fn editing_a_permission_updates_only_the_inline_policy() {
    let emu = Emulator::start();
    let dir = example_config();
    apply_all(&emu, dir.path()).await;

    let auth = dir.path().join("stacks/auth.yaml");
    let text = std::fs::read_to_string(&auth).unwrap();
    std::fs::write(
        &auth,
        text.replace(
            r#"actions: ["s3:*"]"#,
            r#"actions: ["s3:GetObject", "s3:PutObject"]"#,
        ),
    )
    .unwrap();

    let aws = emu.aws().await;
    let s = open(&aws, dir.path()).await;
    let plan = s.plan();
    let changed: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoChange)
        .collect();
    assert_eq!(changed.len(), 1, "{changed:#?}");
    assert_eq!(changed[0].id, "AuthStack.Auth.AuthenticatedRole");
    assert_eq!(changed[0].action, Action::Update);
    let fields: Vec<&str> = changed[0].fields.iter().map(|f| f.field).collect();
    assert_eq!(fields, ["policy"]);

    let report = engine::apply(&s.aws, &s.desired, &s.snapshot, engine::Guard::ALLOW_ALL).await;
    assert!(report.errors().is_empty(), "{:?}", report.errors());
    assert_eq!(aws.calls.write_operations(), ["IAM:PutRolePolicy"]);
    let doc = inline_policy(&aws).await.unwrap().0.to_string();
    assert!(
        doc.contains("s3:GetObject") && !doc.contains("\"s3:*\""),
        "{doc}"
    );
}

#[tokio::test]
async fn out_of_band_policy_edit_is_planned_and_reverted() {
    let emu = Emulator::start();
    let dir = example_config();
    apply_all(&emu, dir.path()).await;
    let aws = emu.aws().await;
    let before = inline_policy(&aws).await.unwrap();

    // Someone widens the policy by hand in the console.
    let widened = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
    aws.iam
        .put_role_policy()
        .role_name(AUTH_ROLE)
        .policy_name("stackwatch")
        .policy_document(widened)
        .send()
        .await
        .unwrap();

    let s = open(&emu.aws().await, dir.path()).await;
    let plan = s.plan();
    let role = plan
        .changes
        .iter()
        .find(|c| c.id == "AuthStack.Auth.AuthenticatedRole")
        .unwrap();
    assert_eq!(role.action, Action::Update);
    assert_eq!(
        role.fields.iter().map(|f| f.field).collect::<Vec<_>>(),
        ["policy"]
    );

    let (code, out, err) = stackwatch(&emu, dir.path(), &["apply", "--yes"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        inline_policy(&aws).await.unwrap().equivalent(&before),
        "drift was not reverted"
    );
}

#[tokio::test]
async fn destroy_retains_user_pool_and_bucket_by_default() {
    let emu = Emulator::start();
    let dir = example_config();
    apply_all(&emu, dir.path()).await;
    let (code, out, err) = stackwatch(&emu, dir.path(), &["destroy", "--yes"]);
    assert_eq!(code, 0, "{out}\n{err}");

    let aws = emu.aws().await;
    assert_eq!(
        user_pool_ids(&aws).await.len(),
        1,
        "user pool must be retained"
    );
    assert_eq!(bucket_names(&aws).await.len(), 1, "bucket must be retained");
    assert!(
        identity_pools(&aws).await.is_empty(),
        "identity pool must be deleted"
    );
    assert!(
        aws.iam
            .get_role()
            .role_name(AUTH_ROLE)
            .send()
            .await
            .is_err(),
        "role must be deleted"
    );
    assert!(apis(&aws).await.is_empty(), "API must be deleted");

    // Applying again reuses the retained pool (found by name and tags), no duplicate.
    apply_all(&emu, dir.path()).await;
    assert_eq!(user_pool_ids(&aws).await.len(), 1);
}

#[tokio::test]
async fn same_named_pool_without_our_tags_is_left_untouched() {
    let emu = Emulator::start();
    let dir = example_config();
    let aws = emu.aws().await;
    let foreign_id = foreign_pool(&aws, "dev-notes-Auth").await;

    let (code, out, err) = stackwatch(&emu, dir.path(), &["apply", "--yes"]);
    assert_eq!(code, 1, "{out}\n{err}");
    let all = format!("{out}\n{err}");
    assert!(
        all.contains(&foreign_id) && all.contains("without stackwatch's tags"),
        "{all}"
    );
    assert!(
        all.contains(&format!("adopt: {{userPool: {foreign_id}}}")),
        "{all}"
    );

    // Untouched: still one pool with that name, still without our tags.
    let pools = user_pool_ids(&aws).await;
    assert_eq!(
        pools,
        vec![(foreign_id.clone(), "dev-notes-Auth".to_string())]
    );
    let d = aws
        .idp
        .describe_user_pool()
        .user_pool_id(&foreign_id)
        .send()
        .await
        .unwrap();
    let tags = d
        .user_pool()
        .unwrap()
        .user_pool_tags()
        .cloned()
        .unwrap_or_default();
    assert!(
        !tags.keys().any(|k| k.starts_with("stackwatch:")),
        "{tags:?}"
    );
    // Independent resources were still applied.
    assert_eq!(bucket_names(&aws).await.len(), 1);
}

#[tokio::test]
async fn invalid_config_never_reaches_aws() {
    let emu = Emulator::start();
    let cases: &[(&str, &str, &str)] = &[
        ("malformed", "stack: S\nresources: [\n", "a.yaml:2:"),
        (
            "unknown key",
            "stack: S\nresources:\n  B:\n    kind: bucket\n    colour: red\n",
            "a.yaml:5:5: unknown field `colour`",
        ),
        (
            "missing reference",
            "stack: S\nresources:\n  A:\n    kind: auth\noutputs:\n  X: ${S.Nope.arn}\n",
            "a.yaml:6:6: `${S.Nope.arn}`",
        ),
        (
            "bad action",
            "stack: S\nresources:\n  A:\n    kind: auth\n    permissions:\n      authenticated:\n        - actions: [\"s3GetObject\"]\n          resources: [\"*\"]\n",
            "a.yaml:7:21: expected `service:Action`",
        ),
        (
            "empty file",
            "",
            "a.yaml:1:1: expected a YAML mapping, found an empty file",
        ),
    ];
    for (name, yaml, expect) in cases {
        let dir = example_config();
        std::fs::write(dir.path().join("stacks/a.yaml"), yaml).unwrap();
        let (code, out, err) = stackwatch(&emu, dir.path(), &["apply", "--yes"]);
        assert_eq!(code, 1, "{name}: {out}\n{err}");
        assert!(
            err.contains(expect),
            "{name}: expected `{expect}` in:\n{err}"
        );
    }
    let dir = example_config();
    std::fs::write(dir.path().join("stacks/a.yaml"), "stack: S\nuses: [T]\n").unwrap();
    std::fs::write(dir.path().join("stacks/b.yaml"), "stack: T\nuses: [S]\n").unwrap();
    let (code, _, err) = stackwatch(&emu, dir.path(), &["apply", "--yes"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("a.yaml:2:8: expected `uses` without cycles"),
        "{err}"
    );
    assert!(
        err.contains("b.yaml:2:8: expected `uses` without cycles"),
        "{err}"
    );

    let dir = example_config();
    std::fs::write(dir.path().join("stacks/a.yaml"), b"stack: S\n\xff\n").unwrap();
    let (code, _, err) = stackwatch(&emu, dir.path(), &["apply", "--yes"]);
    assert_eq!(code, 1);
    assert!(err.contains("a.yaml:2:1: expected UTF-8 text"), "{err}");

    let aws = emu.aws().await;
    assert!(user_pool_ids(&aws).await.is_empty());
    assert!(bucket_names(&aws).await.is_empty());
}

const GUEST_PERMS: &str = "      unauthenticated:\n        - actions: [\"execute-api:Invoke\"]\n          resources: [\"arn:aws:execute-api:${app.region}:${app.account}:${ApiStack.Api.id}/*\"]\n";

#[tokio::test]
async fn guest_access_adds_then_removes_the_unauthenticated_role() {
    let emu = Emulator::start();
    let dir = example_config();
    edit(
        dir.path(),
        "stacks/auth.yaml",
        "    login: [email]\n",
        GUEST,
    );
    edit(
        dir.path(),
        "stacks/auth.yaml",
        "outputs:\n",
        &format!("{GUEST_PERMS}outputs:\n"),
    );
    apply_all(&emu, dir.path()).await;
    let aws = emu.aws().await;
    let unauth = "dev-notes-AuthStack-Auth-UnauthRole";
    assert!(aws.iam.get_role().role_name(unauth).send().await.is_ok());

    // Guest access off: the role is no longer declared, so the plan deletes it.
    edit(
        dir.path(),
        "stacks/auth.yaml",
        GUEST,
        "    login: [email]\n",
    );
    edit(dir.path(), "stacks/auth.yaml", GUEST_PERMS, "");
    let s = open(&aws, dir.path()).await;
    let plan = s.plan();
    let summary: Vec<(&str, Action)> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoChange)
        .map(|c| (c.id.as_str(), c.action))
        .collect();
    assert_eq!(
        summary,
        [
            ("AuthStack.Auth.IdentityPool", Action::Update),
            ("AuthStack.Auth.IdentityPoolRoles", Action::Update),
            ("AuthStack.Auth.UnauthenticatedRole", Action::Delete),
        ]
    );

    // Without allow_delete the deletion is held back and the role stays.
    let guard = engine::Guard {
        allow_replace: false,
        allow_delete: false,
    };
    let report = engine::apply(&s.aws, &s.desired, &s.snapshot, guard).await;
    assert!(report.errors().is_empty(), "{:?}", report.errors());
    assert_eq!(report.held().len(), 1, "{:?}", report.held());
    assert!(aws.iam.get_role().role_name(unauth).send().await.is_ok());

    // With it, the role goes; the next plan is clean.
    let s = open(&aws, dir.path()).await;
    let report = engine::apply(&s.aws, &s.desired, &s.snapshot, engine::Guard::ALLOW_ALL).await;
    assert!(report.errors().is_empty(), "{:?}", report.errors());
    assert!(aws.iam.get_role().role_name(unauth).send().await.is_err());
    let s = open(&emu.aws().await, dir.path()).await;
    assert!(!s.plan().has_changes());
}

#[tokio::test]
async fn changing_login_forces_replacement_and_needs_allow_replace() {
    let emu = Emulator::start();
    let dir = example_config();
    apply_all(&emu, dir.path()).await;
    let aws = emu.aws().await;
    let old = user_pool_ids(&aws).await;

    // Email test users cannot live in a phone-only pool: drop them with the switch.
    let auth = dir.path().join("stacks/auth.yaml");
    let text = std::fs::read_to_string(&auth).unwrap();
    let start = text.find("    users:\n").unwrap();
    let end = text.find("    permissions:\n").unwrap();
    std::fs::write(&auth, format!("{}{}", &text[..start], &text[end..])).unwrap();
    edit(
        dir.path(),
        "stacks/auth.yaml",
        "login: [email]",
        "login: [phone]",
    );
    let (code, out, err) = stackwatch(&emu, dir.path(), &["plan"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("-/+ AuthStack.Auth.UserPool") && out.contains("must be replaced"),
        "{out}"
    );
    assert!(
        out.contains("usernameAttributes: [\"email\"] => [\"phone_number\"]  # forces replacement"),
        "{out}"
    );

    let (code, out, err) = stackwatch(&emu, dir.path(), &["apply", "--yes"]);
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("--allow-replace"), "{err}");
    assert_eq!(
        user_pool_ids(&aws).await,
        old,
        "nothing may change without --allow-replace"
    );

    let (code, out, err) = stackwatch(&emu, dir.path(), &["apply", "--yes", "--allow-replace"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let pools = user_pool_ids(&aws).await;
    assert_eq!(
        pools.len(),
        2,
        "the old pool is retained (removal: retain), a new one created"
    );
    // The retained pool no longer carries our tags, so exactly one is ours and the plan is clean.
    let (code, out, err) = stackwatch(&emu, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let d = aws
        .idp
        .describe_user_pool()
        .user_pool_id(&old[0].0)
        .send()
        .await
        .unwrap();
    let tags = d
        .user_pool()
        .unwrap()
        .user_pool_tags()
        .cloned()
        .unwrap_or_default();
    assert!(!tags.contains_key("stackwatch:id"), "{tags:?}");
}
