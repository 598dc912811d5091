//! Identity pool and its role attachment against the local emulator, through the real SDK:
//! create → find equals the spec (no-op) → drift → update → equal → delete → gone.

mod common;

use std::collections::BTreeSet;

use common::Emulator;
use serde_json::json;
use stackwatch::aws::Aws;
use stackwatch::config::template::{Resolved, UNKNOWN};
use stackwatch::policy::PolicyDocument;
use stackwatch::resource::identity_pool::{self, IdentityPool};
use stackwatch::resource::identity_pool_roles::{self, IdentityPoolRoles};
use stackwatch::resource::role::{self, Role};
use stackwatch::resource::user_pool::{self, UserPool};
use stackwatch::resource::user_pool_client::{self, UserPoolClient};
use stackwatch::resource::{Hint, Owner, ResourceKind, Tags};

fn tags(id: &str) -> Tags {
    common::tags("dev", "auth", id)
}

use common::changed_fields as diff;

/// A user pool and a client, made with the finished modules: (pool id, client id).
async fn user_pool_and_client(aws: &Aws) -> (String, String) {
    let pool = UserPool::create(
        aws,
        &user_pool::Spec {
            name: "notes-dev-users".into(),
            username_attributes: vec!["email".into()],
            tags: tags("users"),
        },
    )
    .await
    .expect("create user pool");
    let client = UserPoolClient::create(
        aws,
        &user_pool_client::Spec {
            name: "notes-dev-web".into(),
            user_pool_id: pool.id.clone().into(),
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
        IdentityPool::find(&aws, &spec, Hint::default())
            .await
            .expect("find before create")
            .is_none()
    );
    let created = IdentityPool::create(&aws, &spec).await.expect("create");
    assert_eq!(created.state, IdentityPool::state(&spec));
    assert_eq!(created.attrs.get("id"), Some(&created.id));

    // The no-op property: what find reads back is exactly what the spec wants.
    let found = IdentityPool::find(&aws, &spec, Hint::default())
        .await
        .expect("find")
        .expect("found after create");
    assert_eq!(found.id, created.id);
    assert_eq!(found.owner, Owner::Ours);
    assert_eq!(found.state, IdentityPool::state(&spec));
    assert_eq!(
        found.state["providers"],
        json!([{
            "providerName": format!("cognito-idp.{}.amazonaws.com/{up}", common::REGION),
            "clientId": client,
            "serverSideTokenCheck": false,
        }])
    );

    // Adopting by id reads the same pool as Adopted.
    let adopted = IdentityPool::find(&aws, &spec, Hint::adopt(&created.id))
        .await
        .expect("find adopt")
        .expect("adopted pool found");
    assert_eq!(adopted.owner, Owner::Adopted);
    assert_eq!(adopted.state, IdentityPool::state(&spec));

    // Rename and allow guests: the old state differs in exactly those two fields.
    let mut changed = spec.clone();
    changed.name = "notes dev identity v2".into();
    changed.allow_unauthenticated = true;
    assert_eq!(
        diff(&found.state, &IdentityPool::state(&changed)),
        BTreeSet::from(["allowUnauthenticated", "name"])
    );
    assert!(
        IdentityPool::find(&aws, &changed, Hint::default())
            .await
            .expect("find by new name")
            .is_none(),
        "nothing has the new name yet"
    );
    let updated = IdentityPool::update(&aws, &changed, &found, &["allowUnauthenticated", "name"])
        .await
        .expect("update");
    assert_eq!(updated.state, IdentityPool::state(&changed));
    let after = IdentityPool::find(&aws, &changed, Hint::default())
        .await
        .expect("find after update")
        .expect("found under the new name");
    assert_eq!(after.id, created.id, "a rename is in place");
    assert_eq!(after.owner, Owner::Ours);
    assert_eq!(after.state, IdentityPool::state(&changed));
    assert!(
        IdentityPool::find(&aws, &spec, Hint::default())
            .await
            .expect("find by old name")
            .is_none(),
        "the old name is gone"
    );

    IdentityPool::delete(&aws, &changed, &after)
        .await
        .expect("delete");
    assert!(
        IdentityPool::find(&aws, &changed, Hint::default())
            .await
            .expect("find after delete")
            .is_none()
    );
    // Deleting again is not an error: NotFound is success.
    IdentityPool::delete(&aws, &changed, &after)
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
    let adopted = IdentityPool::find(&aws, &spec, Hint::adopt(&id))
        .await
        .expect("find adopt")
        .expect("found");
    assert_eq!(adopted.owner, Owner::Adopted);
    assert_eq!(
        diff(&adopted.state, &IdentityPool::state(&spec)),
        BTreeSet::from(["providers", "tags"])
    );
    IdentityPool::update(&aws, &spec, &adopted, &["providers", "tags"])
        .await
        .expect("update adopted");
    let found = IdentityPool::find(&aws, &spec, Hint::default())
        .await
        .expect("find")
        .expect("found by name");
    assert_eq!(found.owner, Owner::Ours, "adoption added our tags");
    assert_eq!(found.state, IdentityPool::state(&spec));
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
    let found = IdentityPool::find(&aws, &spec, Hint::default())
        .await
        .expect("find")
        .expect("the same-named pool is reported");
    assert_eq!(found.owner, Owner::Foreign);

    // Once ours exists too, ours wins; a second owned one would be an error.
    let ours = IdentityPool::create(&aws, &spec)
        .await
        .expect("create ours");
    let found = IdentityPool::find(&aws, &spec, Hint::default())
        .await
        .expect("find")
        .expect("found");
    assert_eq!(found.owner, Owner::Ours);
    assert_eq!(found.id, ours.id);
    IdentityPool::create(&aws, &spec)
        .await
        .expect("create a duplicate");
    let err = IdentityPool::find(&aws, &spec, Hint::default())
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
    IdentityPool::create(&aws, &spec).await.expect("create");

    let unknown = UNKNOWN;
    let mut pending = spec.clone();
    pending.user_pool_id = Resolved::after_apply();
    let found = IdentityPool::find(&aws, &pending, Hint::default())
        .await
        .expect("find")
        .expect("found by name while the user pool id is unknown");
    assert_eq!(found.owner, Owner::Ours);
    assert_eq!(
        diff(&found.state, &IdentityPool::state(&pending)),
        BTreeSet::from(["providers"])
    );
    assert!(
        IdentityPool::state(&pending)["providers"][0]["providerName"]
            .as_str()
            .is_some_and(|p| p.ends_with(unknown))
    );
    let before = aws.calls.writes();
    assert!(IdentityPool::create(&aws, &pending).await.is_err());
    assert!(
        IdentityPool::update(&aws, &pending, &found, &["providers"])
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
    let err = IdentityPool::create(&aws, &spec)
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
        path: "/stackwatch/".into(),
        permissions_boundary: None,
        tags: tags(name),
    }
}

#[tokio::test]
async fn roles_attachment_lifecycle() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let (up, client) = user_pool_and_client(&aws).await;
    let pool = IdentityPool::create(&aws, &pool_spec(&up, &client))
        .await
        .expect("create identity pool");
    let auth = Role::create(&aws, &role_spec("notes-dev-auth"))
        .await
        .expect("create auth role");
    let other = Role::create(&aws, &role_spec("notes-dev-auth2"))
        .await
        .expect("create second role");
    let auth_arn = auth.attrs["arn"].clone();
    let other_arn = other.attrs["arn"].clone();
    assert!(auth_arn.starts_with("arn:aws:iam::"), "{auth_arn}");

    let spec = identity_pool_roles::Spec {
        identity_pool_id: pool.id.clone().into(),
        authenticated_role_arn: auth_arn.clone().into(),
        unauthenticated_role_arn: None,
    };
    assert_eq!(IdentityPoolRoles::name(&spec), pool.id);
    assert!(
        IdentityPoolRoles::find(&aws, &spec, Hint::default())
            .await
            .expect("find before create")
            .is_none(),
        "a pool without roles has no attachment yet"
    );
    let created = IdentityPoolRoles::create(&aws, &spec)
        .await
        .expect("attach");
    assert_eq!(created.attrs.get("id"), Some(&pool.id));
    let found = IdentityPoolRoles::find(&aws, &spec, Hint::default())
        .await
        .expect("find")
        .expect("found after attach");
    assert_eq!(found.owner, Owner::Ours);
    assert_eq!(found.id, pool.id);
    assert_eq!(found.state, IdentityPoolRoles::state(&spec));
    assert_eq!(found.state["roles"], json!({"authenticated": auth_arn}));

    // Swap the authenticated role and add a guest role.
    let swapped = identity_pool_roles::Spec {
        authenticated_role_arn: other_arn.clone().into(),
        unauthenticated_role_arn: Some(auth_arn.clone().into()),
        ..spec.clone()
    };
    assert_ne!(found.state, IdentityPoolRoles::state(&swapped));
    assert_eq!(
        diff(&found.state, &IdentityPoolRoles::state(&swapped)),
        BTreeSet::from(["roles"])
    );
    IdentityPoolRoles::update(&aws, &swapped, &found, &["roles"])
        .await
        .expect("update");
    let found = IdentityPoolRoles::find(&aws, &swapped, Hint::default())
        .await
        .expect("find after update")
        .expect("found");
    assert_eq!(found.state, IdentityPoolRoles::state(&swapped));

    // Dropping the guest role removes it: the whole map is replaced.
    let back = identity_pool_roles::Spec {
        unauthenticated_role_arn: None,
        ..swapped.clone()
    };
    IdentityPoolRoles::update(&aws, &back, &found, &["roles"])
        .await
        .expect("update back");
    let found = IdentityPoolRoles::find(&aws, &back, Hint::default())
        .await
        .expect("find")
        .expect("found");
    assert_eq!(found.state, IdentityPoolRoles::state(&back));

    IdentityPoolRoles::delete(&aws, &back, &found)
        .await
        .expect("detach");
    assert!(
        IdentityPoolRoles::find(&aws, &back, Hint::default())
            .await
            .expect("find after delete")
            .is_none()
    );

    // Pool gone: find is None and delete is still success.
    IdentityPool::delete(&aws, &pool_spec(&up, &client), &pool)
        .await
        .expect("delete pool");
    assert!(
        IdentityPoolRoles::find(&aws, &back, Hint::default())
            .await
            .expect("find without pool")
            .is_none()
    );
    IdentityPoolRoles::delete(&aws, &back, &found)
        .await
        .expect("detach from a deleted pool");

    // An unknown pool id is simply not there yet, without asking AWS.
    let reads = aws.calls.reads();
    let pending = identity_pool_roles::Spec {
        identity_pool_id: Resolved::after_apply(),
        ..back
    };
    assert!(
        IdentityPoolRoles::find(&aws, &pending, Hint::default())
            .await
            .expect("find pending")
            .is_none()
    );
    assert_eq!(aws.calls.reads(), reads);
}
