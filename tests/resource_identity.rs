//! Identity pool and its role attachment against the local emulator, through the real SDK:
//! create → find equals the spec (no-op) → drift → update → equal → delete → gone.

mod common;

use std::collections::BTreeSet;

use common::Emulator;
use serde_json::json;
use stackwatch::aws::Aws;
use stackwatch::config::template::UNKNOWN;
use stackwatch::policy::PolicyDocument;
use stackwatch::resource::{
    Owner, State, TAG_APP, TAG_ID, TAG_STACK, TAG_STAGE, Tags, identity_pool, identity_pool_roles,
    role, user_pool, user_pool_client,
};

fn tags(id: &str) -> Tags {
    Tags::from([
        (TAG_APP.to_string(), "notes".to_string()),
        (TAG_STAGE.to_string(), "dev".to_string()),
        (TAG_STACK.to_string(), "auth".to_string()),
        (TAG_ID.to_string(), id.to_string()),
    ])
}

/// The names of the fields whose values differ.
fn diff(a: &State, b: &State) -> BTreeSet<&'static str> {
    a.keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .copied()
        .collect()
}

/// A user pool and a client, made with the finished modules: (pool id, client id).
async fn user_pool_and_client(aws: &Aws) -> (String, String) {
    let pool = user_pool::create(
        aws,
        &user_pool::Spec {
            name: "notes-dev-users".into(),
            username_attributes: vec!["email".into()],
            tags: tags("users"),
        },
    )
    .await
    .expect("create user pool");
    let client = user_pool_client::create(
        aws,
        &user_pool_client::Spec {
            name: "notes-dev-web".into(),
            user_pool_id: pool.id.clone(),
        },
    )
    .await
    .expect("create user pool client");
    (pool.id, client.id)
}

fn pool_spec(user_pool_id: &str, client_id: &str) -> identity_pool::Spec {
    identity_pool::Spec {
        name: "notes dev identity".into(),
        allow_unauthenticated: false,
        region: common::REGION.into(),
        user_pool_id: user_pool_id.into(),
        client_id: client_id.into(),
        tags: tags("identity"),
    }
}

#[tokio::test]
async fn identity_pool_lifecycle() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let (up, client) = user_pool_and_client(&aws).await;
    let spec = pool_spec(&up, &client);

    assert!(
        identity_pool::find(&aws, &spec, None)
            .await
            .expect("find before create")
            .is_none()
    );
    let created = identity_pool::create(&aws, &spec).await.expect("create");
    assert_eq!(created.state, spec.state());
    assert_eq!(created.attrs.get("id"), Some(&created.id));

    // The no-op property: what find reads back is exactly what the spec wants.
    let found = identity_pool::find(&aws, &spec, None)
        .await
        .expect("find")
        .expect("found after create");
    assert_eq!(found.id, created.id);
    assert_eq!(found.owner, Owner::Ours);
    assert_eq!(found.state, spec.state());
    assert_eq!(
        found.state["providers"],
        json!([{
            "providerName": format!("cognito-idp.{}.amazonaws.com/{up}", common::REGION),
            "clientId": client,
            "serverSideTokenCheck": false,
        }])
    );

    // Adopting by id reads the same pool as Adopted.
    let adopted = identity_pool::find(&aws, &spec, Some(&created.id))
        .await
        .expect("find adopt")
        .expect("adopted pool found");
    assert_eq!(adopted.owner, Owner::Adopted);
    assert_eq!(adopted.state, spec.state());

    // Rename and allow guests: the old state differs in exactly those two fields.
    let mut changed = spec.clone();
    changed.name = "notes dev identity v2".into();
    changed.allow_unauthenticated = true;
    assert_eq!(
        diff(&found.state, &changed.state()),
        BTreeSet::from(["allowUnauthenticated", "name"])
    );
    assert!(
        identity_pool::find(&aws, &changed, None)
            .await
            .expect("find by new name")
            .is_none(),
        "nothing has the new name yet"
    );
    let updated = identity_pool::update(&aws, &changed, &found, &["allowUnauthenticated", "name"])
        .await
        .expect("update");
    assert_eq!(updated.state, changed.state());
    let after = identity_pool::find(&aws, &changed, None)
        .await
        .expect("find after update")
        .expect("found under the new name");
    assert_eq!(after.id, created.id, "a rename is in place");
    assert_eq!(after.owner, Owner::Ours);
    assert_eq!(after.state, changed.state());
    assert!(
        identity_pool::find(&aws, &spec, None)
            .await
            .expect("find by old name")
            .is_none(),
        "the old name is gone"
    );

    identity_pool::delete(&aws, &after).await.expect("delete");
    assert!(
        identity_pool::find(&aws, &changed, None)
            .await
            .expect("find after delete")
            .is_none()
    );
    // Deleting again is not an error: NotFound is success.
    identity_pool::delete(&aws, &after)
        .await
        .expect("delete twice");
}

#[tokio::test]
async fn identity_pool_update_keeps_foreign_tags_and_tags_adopted_pool() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let (up, client) = user_pool_and_client(&aws).await;
    let spec = pool_spec(&up, &client);

    // Someone else's pool with our name and their own tag.
    let out = aws
        .identity
        .create_identity_pool()
        .identity_pool_name(&spec.name)
        .allow_unauthenticated_identities(false)
        .identity_pool_tags("team", "web")
        .send()
        .await
        .expect("create untagged pool");
    let id = out.identity_pool_id().to_string();
    let adopted = identity_pool::find(&aws, &spec, Some(&id))
        .await
        .expect("find adopt")
        .expect("found");
    assert_eq!(adopted.owner, Owner::Adopted);
    assert_eq!(
        diff(&adopted.state, &spec.state()),
        BTreeSet::from(["providers", "tags"])
    );
    identity_pool::update(&aws, &spec, &adopted, &["providers", "tags"])
        .await
        .expect("update adopted");
    let found = identity_pool::find(&aws, &spec, None)
        .await
        .expect("find")
        .expect("found by name");
    assert_eq!(found.owner, Owner::Ours, "adoption added our tags");
    assert_eq!(found.state, spec.state());
    let described = aws
        .identity
        .describe_identity_pool()
        .identity_pool_id(&id)
        .send()
        .await
        .expect("describe");
    assert_eq!(
        described
            .identity_pool_tags()
            .and_then(|t| t.get("team"))
            .map(String::as_str),
        Some("web"),
        "other people's tags survive the whole-pool update"
    );
}

#[tokio::test]
async fn same_named_pool_without_our_tags_is_foreign() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let (up, client) = user_pool_and_client(&aws).await;
    let spec = pool_spec(&up, &client);
    aws.identity
        .create_identity_pool()
        .identity_pool_name(&spec.name)
        .allow_unauthenticated_identities(true)
        .send()
        .await
        .expect("create foreign pool");
    let found = identity_pool::find(&aws, &spec, None)
        .await
        .expect("find")
        .expect("the same-named pool is reported");
    assert_eq!(found.owner, Owner::Foreign);

    // Once ours exists too, ours wins; a second owned one would be an error.
    let ours = identity_pool::create(&aws, &spec)
        .await
        .expect("create ours");
    let found = identity_pool::find(&aws, &spec, None)
        .await
        .expect("find")
        .expect("found");
    assert_eq!(found.owner, Owner::Ours);
    assert_eq!(found.id, ours.id);
    identity_pool::create(&aws, &spec)
        .await
        .expect("create a duplicate");
    let err = identity_pool::find(&aws, &spec, None)
        .await
        .expect_err("two owned pools is an error, not a guess");
    assert!(err.to_string().contains("2 resources"), "{err}");
}

#[tokio::test]
async fn unknown_provider_finds_by_name_and_refuses_to_write() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let (up, client) = user_pool_and_client(&aws).await;
    let spec = pool_spec(&up, &client);
    identity_pool::create(&aws, &spec).await.expect("create");

    let unknown = UNKNOWN;
    let mut pending = spec.clone();
    pending.user_pool_id = unknown.into();
    let found = identity_pool::find(&aws, &pending, None)
        .await
        .expect("find")
        .expect("found by name while the user pool id is unknown");
    assert_eq!(found.owner, Owner::Ours);
    assert_eq!(
        diff(&found.state, &pending.state()),
        BTreeSet::from(["providers"])
    );
    assert!(
        pending.state()["providers"][0]["providerName"]
            .as_str()
            .is_some_and(|p| p.ends_with(unknown))
    );
    let before = aws.calls.writes();
    assert!(identity_pool::create(&aws, &pending).await.is_err());
    assert!(
        identity_pool::update(&aws, &pending, &found, &["providers"])
            .await
            .is_err()
    );
    assert_eq!(aws.calls.writes(), before, "no write with a placeholder");
}

#[tokio::test]
async fn invalid_name_is_refused_before_aws() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let mut spec = pool_spec("us-east-1_x", "client");
    spec.name = "notes/dev:identity".into();
    let err = identity_pool::create(&aws, &spec)
        .await
        .expect_err("invalid name");
    assert!(err.to_string().contains("`/`"), "{err}");
    assert_eq!(aws.calls.writes(), 0);
}

fn role_spec(name: &str) -> role::Spec {
    let trust = PolicyDocument::from_json(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
            "Principal":{"Federated":"cognito-identity.amazonaws.com"},
            "Action":"sts:AssumeRoleWithWebIdentity",
            "Condition":{"ForAnyValue:StringLike":{"cognito-identity.amazonaws.com:amr":"authenticated"}}}]}"#,
    )
    .expect("trust policy");
    let policy = PolicyDocument::from_json(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
            "Action":"s3:GetObject","Resource":"arn:aws:s3:::notes/*"}]}"#,
    )
    .expect("policy");
    role::Spec {
        name: name.into(),
        trust,
        policy: Some(policy),
        tags: tags(name),
    }
}

#[tokio::test]
async fn roles_attachment_lifecycle() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let (up, client) = user_pool_and_client(&aws).await;
    let pool = identity_pool::create(&aws, &pool_spec(&up, &client))
        .await
        .expect("create identity pool");
    let auth = role::create(&aws, &role_spec("notes-dev-auth"))
        .await
        .expect("create auth role");
    let other = role::create(&aws, &role_spec("notes-dev-auth2"))
        .await
        .expect("create second role");
    let auth_arn = auth.attrs["arn"].clone();
    let other_arn = other.attrs["arn"].clone();
    assert!(auth_arn.starts_with("arn:aws:iam::"), "{auth_arn}");

    let spec = identity_pool_roles::Spec {
        identity_pool_id: pool.id.clone(),
        authenticated_role_arn: auth_arn.clone(),
        unauthenticated_role_arn: None,
    };
    assert_eq!(spec.name(), pool.id);
    assert!(
        identity_pool_roles::find(&aws, &spec)
            .await
            .expect("find before create")
            .is_none(),
        "a pool without roles has no attachment yet"
    );
    let created = identity_pool_roles::create(&aws, &spec)
        .await
        .expect("attach");
    assert_eq!(created.attrs.get("id"), Some(&pool.id));
    let found = identity_pool_roles::find(&aws, &spec)
        .await
        .expect("find")
        .expect("found after attach");
    assert_eq!(found.owner, Owner::Ours);
    assert_eq!(found.id, pool.id);
    assert_eq!(found.state, spec.state());
    assert_eq!(found.state["roles"], json!({"authenticated": auth_arn}));

    // Swap the authenticated role and add a guest role.
    let swapped = identity_pool_roles::Spec {
        authenticated_role_arn: other_arn.clone(),
        unauthenticated_role_arn: Some(auth_arn.clone()),
        ..spec.clone()
    };
    assert_ne!(found.state, swapped.state());
    assert_eq!(
        diff(&found.state, &swapped.state()),
        BTreeSet::from(["roles"])
    );
    identity_pool_roles::update(&aws, &swapped, &found, &["roles"])
        .await
        .expect("update");
    let found = identity_pool_roles::find(&aws, &swapped)
        .await
        .expect("find after update")
        .expect("found");
    assert_eq!(found.state, swapped.state());

    // Dropping the guest role removes it: the whole map is replaced.
    let back = identity_pool_roles::Spec {
        unauthenticated_role_arn: None,
        ..swapped.clone()
    };
    identity_pool_roles::update(&aws, &back, &found, &["roles"])
        .await
        .expect("update back");
    let found = identity_pool_roles::find(&aws, &back)
        .await
        .expect("find")
        .expect("found");
    assert_eq!(found.state, back.state());

    identity_pool_roles::delete(&aws, &found)
        .await
        .expect("detach");
    assert!(
        identity_pool_roles::find(&aws, &back)
            .await
            .expect("find after delete")
            .is_none()
    );

    // Pool gone: find is None and delete is still success.
    identity_pool::delete(&aws, &pool)
        .await
        .expect("delete pool");
    assert!(
        identity_pool_roles::find(&aws, &back)
            .await
            .expect("find without pool")
            .is_none()
    );
    identity_pool_roles::delete(&aws, &found)
        .await
        .expect("detach from a deleted pool");

    // An unknown pool id is simply not there yet, without asking AWS.
    let reads = aws.calls.reads();
    let pending = identity_pool_roles::Spec {
        identity_pool_id: UNKNOWN.into(),
        ..back
    };
    assert!(
        identity_pool_roles::find(&aws, &pending)
            .await
            .expect("find pending")
            .is_none()
    );
    assert_eq!(aws.calls.reads(), reads);
}
