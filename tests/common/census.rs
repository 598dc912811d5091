//! What the emulator holds, read directly through the SDK (never through stackwatch), every
//! page of every listing: the user pools and their clients, identity pools, stackwatch's roles,
//! APIs, buckets and tables the tests count; the inventory, census and tag survey built on
//! them; and the auth role's inline policy.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_apigatewayv2::types::Api;
use aws_sdk_cognitoidentity::types::IdentityPoolShortDescription;
use aws_sdk_cognitoidentityprovider::types::{UserPoolClientDescription, UserPoolDescriptionType};
use aws_sdk_iam::types::Role;
use stackwatch::aws::Aws;
use stackwatch::policy::PolicyDocument;

/// Every item of an SDK listing (a request builder), through its paginator.
macro_rules! every {
    ($listing:expr) => {
        $listing
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .unwrap()
    };
}

/// Every user pool.
pub async fn user_pools(aws: &Aws) -> Vec<UserPoolDescriptionType> {
    every!(aws.idp.list_user_pools().max_results(60))
}

/// Every user pool as (id, name).
pub async fn user_pool_ids(aws: &Aws) -> Vec<(String, String)> {
    user_pools(aws)
        .await
        .iter()
        .map(|p| {
            (
                p.id().unwrap_or_default().to_string(),
                p.name().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The ids of the user pools named `name`.
pub async fn pools_named(aws: &Aws, name: &str) -> Vec<String> {
    user_pools(aws)
        .await
        .iter()
        .filter(|p| p.name() == Some(name))
        .filter_map(|p| p.id().map(str::to_string))
        .collect()
}

/// Every client of the user pool `pool_id`.
pub async fn user_pool_clients(aws: &Aws, pool_id: &str) -> Vec<UserPoolClientDescription> {
    every!(aws.idp.list_user_pool_clients().user_pool_id(pool_id))
}

/// Every identity pool.
pub async fn identity_pools(aws: &Aws) -> Vec<IdentityPoolShortDescription> {
    every!(aws.identity.list_identity_pools().max_results(60))
}

/// Every role under stackwatch's path, `/stackwatch/`.
pub async fn roles(aws: &Aws) -> Vec<Role> {
    every!(aws.iam.list_roles().path_prefix("/stackwatch/"))
}

/// Every HTTP API (GetApis has no SDK paginator: [`stackwatch::aws::all_pages`]).
pub async fn apis(aws: &Aws) -> Vec<Api> {
    stackwatch::aws::all_pages("API", "all", |token| async move {
        let out = aws
            .apigw
            .get_apis()
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        Ok((out.items.unwrap_or_default(), out.next_token))
    })
    .await
    .unwrap()
}

/// The names of every bucket, in the order S3 lists them.
pub async fn bucket_names(aws: &Aws) -> Vec<String> {
    let buckets: Vec<_> = every!(aws.s3.list_buckets());
    buckets
        .iter()
        .map(|b| b.name().unwrap_or_default().to_string())
        .collect()
}

/// The names of every DynamoDB table.
pub async fn table_names(aws: &Aws) -> Vec<String> {
    every!(aws.ddb.list_tables())
}

/// Everything of the example app, counted whatever its name: [user pools, identity pools,
/// roles under `/stackwatch/`, APIs, buckets]. A second copy of anything is a duplicate.
pub async fn inventory(aws: &Aws) -> [usize; 5] {
    [
        user_pools(aws).await.len(),
        identity_pools(aws).await.len(),
        roles(aws).await.len(),
        apis(aws).await.len(),
        bucket_names(aws).await.len(),
    ]
}

/// How many of each resource the example app's dev stage has, by name: its user pool, that
/// pool's clients, its identity pool, its roles and its API.
pub async fn census(aws: &Aws) -> [(&'static str, usize); 5] {
    let pools = pools_named(aws, "dev-notes-Auth").await;
    let clients = match pools.first() {
        Some(id) => user_pool_clients(aws, id).await.len(),
        None => 0,
    };
    let identity_pools = identity_pools(aws)
        .await
        .iter()
        .filter(|p| p.identity_pool_name() == Some("dev_notes_Auth"))
        .count();
    let roles = roles(aws)
        .await
        .iter()
        .filter(|r| r.role_name().starts_with("dev-notes-"))
        .count();
    let apis = apis(aws)
        .await
        .iter()
        .filter(|a| a.name() == Some("dev-notes-Api"))
        .count();
    [
        ("user pools", pools.len()),
        ("user pool clients", clients),
        ("identity pools", identity_pools),
        ("roles", roles),
        ("APIs", apis),
    ]
}

/// Tags as a map.
fn tag_map(tags: Option<&HashMap<String, String>>) -> BTreeMap<String, String> {
    tags.into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Every user pool, identity pool, role and API carrying `stackwatch:app = notes` and
/// `stackwatch:stage = stage`, by kind, as (name, id).
pub async fn tagged(aws: &Aws, stage: &str) -> BTreeMap<&'static str, Vec<(String, String)>> {
    // Every one of those kinds, as (kind, name, id, tags).
    let mut all = Vec::new();
    for p in user_pools(aws).await {
        let id = p.id().unwrap_or_default().to_string();
        let d = aws
            .idp
            .describe_user_pool()
            .user_pool_id(&id)
            .send()
            .await
            .unwrap();
        let tags = tag_map(d.user_pool().unwrap().user_pool_tags());
        all.push((
            "user pool",
            p.name().unwrap_or_default().to_string(),
            id,
            tags,
        ));
    }
    for p in identity_pools(aws).await {
        let d = aws
            .identity
            .describe_identity_pool()
            .identity_pool_id(p.identity_pool_id().unwrap_or_default())
            .send()
            .await
            .unwrap();
        let (name, id) = (d.identity_pool_name(), d.identity_pool_id());
        let tags = tag_map(d.identity_pool_tags());
        all.push(("identity pool", name.to_string(), id.to_string(), tags));
    }
    for r in roles(aws).await {
        let t = aws
            .iam
            .list_role_tags()
            .role_name(r.role_name())
            .send()
            .await
            .unwrap();
        let tags = t
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()));
        let name = r.role_name().to_string();
        all.push(("role", name.clone(), name, tags.collect()));
    }
    for a in apis(aws).await {
        let (name, id) = (a.name().unwrap_or_default(), a.api_id().unwrap_or_default());
        all.push(("API", name.to_string(), id.to_string(), tag_map(a.tags())));
    }
    let mut out: BTreeMap<&'static str, Vec<(String, String)>> = BTreeMap::new();
    for (kind, name, id, tags) in all {
        let tag = |k: &str| tags.get(k).map(String::as_str);
        if tag("stackwatch:stage") == Some(stage) && tag("stackwatch:app") == Some("notes") {
            out.entry(kind).or_default().push((name, id));
        }
    }
    out
}

/// The auth role's inline policy `stackwatch`, or None while it has none.
pub async fn inline_policy(aws: &Aws) -> Option<PolicyDocument> {
    let out = aws
        .iam
        .get_role_policy()
        .role_name(super::AUTH_ROLE)
        .policy_name("stackwatch")
        .send()
        .await
        .ok()?;
    // The document comes back URL-encoded.
    PolicyDocument::parse_wire(out.policy_document()).ok()
}

/// [`inline_policy`] as its wire JSON; empty while there is none.
pub async fn policy_text(aws: &Aws) -> String {
    inline_policy(aws)
        .await
        .map(|d| d.to_wire())
        .unwrap_or_default()
}
