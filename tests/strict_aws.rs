//! Right on real AWS (issue 9), against the strict emulator through the real SDK and binary:
//! no command ever uses a resource stackwatch does not own; a config that validates deploys
//! (long names are shortened, names AWS would refuse are validation errors); guests without
//! permissions still work; a failed guest role leaves signed-in users their credentials; SST's
//! user pool defaults; listings past the first page; and the example app's whole life (apply,
//! an edit of every kind, drift, destroy) with not one request the emulator refused as invalid.

mod common;

use std::path::Path;

use common::census::{apis, bucket_names, pools_named};
use common::{
    Emulator, GUEST, PASSWORD_ENV, apply_yes, both, edit, example_config, foreign_pool, open, run,
    stackwatch,
};
use stackwatch::aws::Aws;
use stackwatch::plan::Action;

const POOL: &str = "dev-notes-Auth";
const UNAUTH_ROLE: &str = "dev-notes-AuthStack-Auth-UnauthRole";

async fn user_count(aws: &Aws, pool: &str) -> usize {
    aws.idp
        .list_users()
        .user_pool_id(pool)
        .send()
        .await
        .unwrap()
        .users()
        .len()
}

#[tokio::test]
async fn no_command_uses_a_same_named_pool_it_does_not_own() {
    let emu = Emulator::start();
    let dir = example_config();
    let aws = emu.aws().await;
    let foreign_id = foreign_pool(&aws, POOL).await;
    let pw = [(PASSWORD_ENV, "Xq7!strict-Secret")];

    // The plan blocks it, as before.
    let (code, out) = both(run(&emu.env(), dir.path(), &["plan"], &pw));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("without stackwatch's tags"), "{out}");

    // `users create` refuses instead of writing into it.
    let create = [
        "users",
        "create",
        "--stack",
        "AuthStack",
        "--email",
        "someone@example.com",
        "--password-env",
        PASSWORD_ENV,
    ];
    let (code, out) = both(run(&emu.env(), dir.path(), &create, &pw));
    assert_ne!(code, 0, "users create wrote into a foreign pool:\n{out}");
    assert!(out.contains("not deployed"), "{out}");
    let list = ["users", "list", "--stack", "AuthStack"];
    let (code, out) = both(run(&emu.env(), dir.path(), &list, &pw));
    assert_ne!(code, 0, "{out}");
    assert!(!out.contains(&foreign_id), "{out}");
    assert_eq!(user_count(&aws, &foreign_id).await, 0);

    // No output format prints the foreign pool's id as ours.
    for args in [
        &["outputs"][..],
        &["outputs", "--json"],
        &["outputs", "--format", "env"],
        &["verify"],
    ] {
        let (code, out) = both(run(&emu.env(), dir.path(), args, &pw));
        assert_ne!(code, 0, "{args:?} succeeded:\n{out}");
        assert!(
            !out.contains(&foreign_id),
            "{args:?} printed the foreign pool's id:\n{out}"
        );
    }

    // And the pool is as it was: no users, no tags of ours.
    let pool = aws
        .idp
        .describe_user_pool()
        .user_pool_id(&foreign_id)
        .send()
        .await
        .unwrap();
    let tags = pool.user_pool().unwrap().user_pool_tags();
    assert!(tags.is_none_or(|t| t.is_empty()), "{tags:?}");
    emu.assert_no_validation_refusals();
}

#[tokio::test]
async fn a_long_resource_name_is_shortened_and_deploys() {
    let emu = Emulator::start();
    let dir = example_config();
    let long = "UploadsBucketForAllTheUsersFiles";
    edit(
        dir.path(),
        "stacks/storage.yaml",
        "  Uploads:",
        &format!("  {long}:"),
    );
    edit(
        dir.path(),
        "stacks/auth.yaml",
        "${StorageStack.Uploads.arn}",
        &format!("${{StorageStack.{long}.arn}}"),
    );
    let (code, out) = both(run(&emu.env(), dir.path(), &["validate"], &[]));
    assert_eq!(code, 0, "{out}");
    apply_yes(&emu, dir.path(), &[]);

    let aws = emu.aws().await;
    let names = bucket_names(&aws).await;
    assert_eq!(names.len(), 1, "{names:?}");
    let name = &names[0];
    assert!(name.len() <= 63, "{name}");
    assert!(
        name.starts_with("dev-notes-storagestack-uploadsbucket"),
        "{name}"
    );
    assert!(name.ends_with("-123456789012"), "{name}");

    // Deterministic: the next plan finds the same bucket and has nothing to do.
    let s = open(&emu.aws().await, dir.path()).await;
    assert!(!s.plan().has_changes(), "{:#?}", s.plan());
    emu.assert_no_validation_refusals();
}

#[tokio::test]
async fn a_name_aws_would_refuse_fails_validation_and_changes_nothing() {
    let emu = Emulator::start();
    let dir = example_config();
    // `sthree-` is a prefix S3 reserves: the bucket `sthree-notes-…` cannot exist.
    edit(dir.path(), "stackwatch.yaml", "stage: dev", "stage: sthree");
    let (code, out) = both(run(&emu.env(), dir.path(), &["validate"], &[]));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("stacks/storage.yaml:"),
        "no file:line:col:\n{out}"
    );
    assert!(out.contains("does not start with `sthree-`"), "{out}");
    let (code, out) = both(run(&emu.env(), dir.path(), &["apply", "--yes"], &[]));
    assert_eq!(code, 1, "{out}");

    let aws = emu.aws().await;
    assert!(bucket_names(&aws).await.is_empty());
    assert!(pools_named(&aws, "sthree-notes-Auth").await.is_empty());
    assert!(apis(&aws).await.is_empty());
}

async fn attached_roles(aws: &Aws, dir: &Path) -> std::collections::HashMap<String, String> {
    let s = open(aws, dir).await;
    let pool = s.attr("AuthStack", "Auth", "identityPoolId").unwrap();
    aws.identity
        .get_identity_pool_roles()
        .identity_pool_id(pool)
        .send()
        .await
        .unwrap()
        .roles
        .unwrap_or_default()
}

#[tokio::test]
async fn guests_without_permissions_get_a_role_without_policy_and_the_pool_its_roles() {
    let emu = Emulator::start();
    let dir = example_config();
    edit(
        dir.path(),
        "stacks/auth.yaml",
        "    login: [email]\n",
        GUEST,
    );
    apply_yes(&emu, dir.path(), &[]);

    let aws = emu.aws().await;
    let inline = aws
        .iam
        .list_role_policies()
        .role_name(UNAUTH_ROLE)
        .send()
        .await
        .unwrap();
    assert!(inline.policy_names().is_empty(), "{inline:?}");
    let roles = attached_roles(&aws, dir.path()).await;
    assert!(roles.contains_key("authenticated"), "{roles:?}");
    assert!(
        roles["unauthenticated"].ends_with(&format!("/{UNAUTH_ROLE}")),
        "{roles:?}"
    );
    let s = open(&emu.aws().await, dir.path()).await;
    assert!(!s.plan().has_changes(), "{:#?}", s.plan());
    emu.assert_no_validation_refusals();
}

#[tokio::test]
async fn a_guest_role_that_cannot_be_made_leaves_signed_in_users_their_role() {
    let emu = Emulator::start();
    let dir = example_config();
    edit(
        dir.path(),
        "stacks/auth.yaml",
        "    login: [email]\n",
        GUEST,
    );
    // Someone else's role holds the guest role's name: stackwatch must not touch it.
    let aws = emu.aws().await;
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    aws.iam
        .create_role()
        .role_name(UNAUTH_ROLE)
        .path("/stackwatch/")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();

    let (code, out, err) = stackwatch(&emu, dir.path(), &["apply", "--yes"]);
    assert_eq!(code, 1, "the foreign role must be reported:\n{out}\n{err}");
    let roles = attached_roles(&aws, dir.path()).await;
    assert!(
        roles
            .get("authenticated")
            .is_some_and(|a| a.ends_with("/dev-notes-AuthStack-Auth-AuthRole")),
        "the identity pool lost its authenticated role: {roles:?}\n{out}\n{err}"
    );
    assert!(!roles.contains_key("unauthenticated"), "{roles:?}");
    let foreign = aws
        .iam
        .get_role()
        .role_name(UNAUTH_ROLE)
        .send()
        .await
        .unwrap();
    assert!(foreign.role().unwrap().tags().is_empty());
    emu.assert_no_validation_refusals();
}

#[tokio::test]
async fn user_pools_get_sst_defaults_and_old_pools_a_note_and_a_way_to_them() {
    let emu = Emulator::start();
    let dir = example_config();
    apply_yes(&emu, dir.path(), &[]);
    let aws = emu.aws().await;
    let ids = pools_named(&aws, POOL).await;
    assert_eq!(ids.len(), 1);
    let pool = aws
        .idp
        .describe_user_pool()
        .user_pool_id(&ids[0])
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap();
    assert_eq!(
        pool.username_configuration().map(|c| c.case_sensitive),
        Some(false)
    );
    let recovery = pool
        .account_recovery_setting()
        .unwrap()
        .recovery_mechanisms();
    assert_eq!(recovery.len(), 1);
    assert_eq!(recovery[0].name().as_str(), "verified_email");

    // A pool made before stackwatch set UsernameConfiguration: same tags, no such setting.
    let tags = pool.user_pool_tags().unwrap().clone();
    aws.idp
        .delete_user_pool()
        .user_pool_id(&ids[0])
        .send()
        .await
        .unwrap();
    let old = aws
        .idp
        .create_user_pool()
        .pool_name(POOL)
        .set_username_attributes(Some(vec!["email".into()]))
        .set_user_pool_tags(Some(tags))
        .send()
        .await
        .unwrap();
    let old_id = old.user_pool().unwrap().id().unwrap().to_string();

    // The plan does not replace it on its own; it says how.
    let (code, out, err) = stackwatch(&emu, dir.path(), &["plan"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("note: sign-in is case-sensitive"), "{out}");
    assert!(
        out.contains("stackwatch apply --replace AuthStack.Auth.UserPool"),
        "{out}"
    );
    assert!(!out.contains("must be replaced"), "{out}");
    // Account recovery can change in place, and does.
    apply_yes(&emu, dir.path(), &[]);
    assert_eq!(pools_named(&aws, POOL).await, std::slice::from_ref(&old_id));

    // `--replace` replaces it (the old pool is retained, released from our tags).
    let out = apply_yes(&emu, dir.path(), &["--replace", "AuthStack.Auth.UserPool"]);
    assert!(out.contains("✓ AuthStack.Auth.UserPool replaced"), "{out}");
    let s = open(&emu.aws().await, dir.path()).await;
    let new_id = s.attr("AuthStack", "Auth", "userPoolId").unwrap();
    assert_ne!(new_id, old_id);
    let new = aws
        .idp
        .describe_user_pool()
        .user_pool_id(&new_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        new.user_pool()
            .unwrap()
            .username_configuration()
            .map(|c| c.case_sensitive),
        Some(false)
    );
    assert!(!s.plan().has_changes(), "{:#?}", s.plan());

    // An id that names nothing is refused before AWS is read.
    let (code, out, err) = stackwatch(&emu, dir.path(), &["plan", "--replace", "Nope.Nothing"]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("no such resource"), "{err}");
    emu.assert_no_validation_refusals();
}

#[tokio::test]
async fn its_pool_is_found_past_the_first_page_of_listings() {
    let emu = Emulator::start();
    let dir = example_config();
    let aws = emu.aws().await;
    // More pools than one page of ListUserPools (60) and ListIdentityPools (60) holds, made
    // before ours so that ours come last.
    for i in 0..65 {
        aws.idp
            .create_user_pool()
            .pool_name(format!("other-{i}"))
            .send()
            .await
            .unwrap();
        aws.identity
            .create_identity_pool()
            .identity_pool_name(format!("other_{i}"))
            .allow_unauthenticated_identities(false)
            .send()
            .await
            .unwrap();
    }
    apply_yes(&emu, dir.path(), &[]);
    let s = open(&emu.aws().await, dir.path()).await;
    assert!(!s.plan().has_changes(), "{:#?}", s.plan());
    assert_eq!(pools_named(&aws, POOL).await.len(), 1);
    emu.assert_no_validation_refusals();
}

/// The example app's whole life through the strict emulator: apply, an edit of every kind
/// (bucket CORS, the table's recovery and TTL, API routes, a permission, guest access on, a
/// second test user, a login change that replaces the pool), drift on the pool and the client,
/// and destroy. Every step converges, and the emulator refused not one request as invalid.
#[tokio::test]
async fn the_example_app_lives_and_dies_without_one_invalid_request() {
    let emu = Emulator::start();
    let dir = example_config();
    let d = dir.path();
    apply_yes(&emu, d, &[]);

    edit(d, "stacks/storage.yaml", "maxAge: 3000", "maxAge: 600");
    edit(
        d,
        "stacks/storage.yaml",
        "    sortKey: { name: noteId, type: string }\n",
        "    sortKey: { name: noteId, type: string }\n    pointInTimeRecovery: true\n    ttlAttribute: expiresAt\n",
    );
    edit(
        d,
        "stacks/api.yaml",
        "      DELETE /notes/{id}:",
        "      PATCH /notes/{id}: https://notes.example.com/notes/{id}\n      DELETE /notes/{id}:",
    );
    edit(
        d,
        "stacks/auth.yaml",
        "actions: [\"s3:*\"]",
        "actions: [\"s3:GetObject\", \"s3:PutObject\"]",
    );
    edit(d, "stacks/auth.yaml", "    login: [email]\n", GUEST);
    edit(
        d,
        "stacks/auth.yaml",
        "    users:\n",
        "    users:\n      - email: second@example.com\n        passwordEnv: STACKWATCH_TEST_PASSWORD\n",
    );
    apply_yes(&emu, d, &[]);
    let s = open(&emu.aws().await, d).await;
    assert!(!s.plan().has_changes(), "{:#?}", s.plan());

    // Drift by hand on the pool and the client: both are put back, each with one full update.
    let aws = emu.aws().await;
    let pool = s.attr("AuthStack", "Auth", "userPoolId").unwrap();
    let client = s.attr("AuthStack", "Auth", "userPoolClientId").unwrap();
    aws.idp
        .update_user_pool()
        .user_pool_id(&pool)
        .set_user_pool_tags(Some(
            aws.idp
                .describe_user_pool()
                .user_pool_id(&pool)
                .send()
                .await
                .unwrap()
                .user_pool()
                .unwrap()
                .user_pool_tags()
                .unwrap()
                .clone(),
        ))
        .send()
        .await
        .unwrap();
    aws.idp
        .update_user_pool_client()
        .user_pool_id(&pool)
        .client_id(&client)
        .client_name("dev-notes-Auth-client")
        .send()
        .await
        .unwrap();
    let s = open(&emu.aws().await, d).await;
    let plan = s.plan();
    let drifted: Vec<(&str, Action)> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoChange)
        .map(|c| (c.id.as_str(), c.action))
        .collect();
    assert!(
        drifted.contains(&("AuthStack.Auth.UserPool", Action::Update))
            && drifted.contains(&("AuthStack.Auth.UserPoolClient", Action::Update)),
        "{drifted:?}"
    );
    apply_yes(&emu, d, &[]);
    let s = open(&emu.aws().await, d).await;
    assert!(!s.plan().has_changes(), "{:#?}", s.plan());

    // A login change replaces the pool (and what hangs off it).
    let auth = d.join("stacks/auth.yaml");
    let text = std::fs::read_to_string(&auth).unwrap();
    let start = text.find("    users:\n").unwrap();
    let end = text.find("    permissions:\n").unwrap();
    std::fs::write(&auth, format!("{}{}", &text[..start], &text[end..])).unwrap();
    edit(
        d,
        "stacks/auth.yaml",
        "login: [email]",
        "login: [email, phone]",
    );
    apply_yes(&emu, d, &["--allow-replace"]);
    let s = open(&emu.aws().await, d).await;
    assert!(!s.plan().has_changes(), "{:#?}", s.plan());

    let (code, out, err) = stackwatch(&emu, d, &["destroy", "--yes"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let r = emu.refusals();
    assert_eq!(
        r["validation"], 0,
        "the strict emulator refused requests: {r:#}"
    );
    assert!(
        r["propagation"].as_u64().unwrap_or(0) > 0,
        "the IAM propagation delay was never met, so its retry went untested: {r:#}"
    );
}
