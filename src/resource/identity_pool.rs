//! Cognito identity pool: federates the user pool client into AWS credentials, with or without
//! guest (unauthenticated) identities.
//!
//! Found by its deterministic name (ListIdentityPools, then DescribeIdentityPool for the tags),
//! and owned by the `IdentityPoolTags` that CreateIdentityPool sets atomically, so a crash after
//! create leaves a pool the next run finds and owns, never a duplicate. The name is part of the
//! state: a rename is an in-place UpdateIdentityPool.
//!
//! UpdateIdentityPool replaces the whole pool, so an update re-reads the pool and sends every
//! field back: ours from the spec, the ones we do not manage (login providers, OpenID/SAML
//! providers, developer provider name, other people's tags) as they are.

use super::naming::{COGNITO_CHARS, NameRule};
use super::{Hint, Owned, Resolve, ResourceKind, Scope};
use crate::source::template::{Resolved, Template};
use std::collections::HashMap;

use aws_sdk_cognitoidentity::types::CognitoIdentityProvider;
use serde_json::{Value, json};

use super::pick;
use super::{Attrs, Observed, Owner, State, Tags, owner_from_tags, tags_state};
use aws_sdk_cognitoidentity::Config;

use crate::aws::{self, Aws, AwsError, OrNotFound, OrRefused, RetryWhen, retry};

pub const KIND: &str = "Cognito identity pool";
/// CreateIdentityPool's `IdentityPoolName`: 1-128 characters of `[\w\s+=,.@-]`.
pub const NAME: NameRule = NameRule::new("a Cognito identity pool name", 1, 128, COGNITO_CHARS);
/// "ResourceNotFoundException: IdentityPool '<id>' not found."
pub const NOT_FOUND: &[&str] = &["ResourceNotFoundException"];

/// What the config asks for: the pool, guest access, and the user pool and client it
/// federates.
#[derive(Debug, Clone)]
pub struct Def {
    pub name: String,
    pub allow_unauthenticated: bool,
    pub user_pool_id: Template,
    pub client_id: Template,
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub name: String,
    pub allow_unauthenticated: bool,
    pub region: String,
    pub user_pool_id: Resolved,
    pub client_id: Resolved,
    pub tags: Tags,
}

impl Spec {
    /// `cognito-idp.{region}.amazonaws.com/{user_pool_id}`: how an identity pool names a user pool.
    pub fn provider_name(&self) -> String {
        format!(
            "cognito-idp.{}.amazonaws.com/{}",
            self.region, self.user_pool_id
        )
    }

    fn provider(&self) -> CognitoIdentityProvider {
        CognitoIdentityProvider::builder()
            .provider_name(self.provider_name())
            .client_id(&self.client_id)
            .server_side_token_check(false)
            .build()
    }

    /// Writes need the user pool and client to exist: a placeholder is never sent to AWS.
    fn check_writable(&self, verb: &'static str) -> Result<(), AwsError> {
        NAME.check(&self.name)
            .map_err(|m| AwsError::refused(verb, KIND, &self.name, m))?;
        if !self.user_pool_id.is_known() || !self.client_id.is_known() {
            return Err(AwsError::refused(
                verb,
                KIND,
                &self.name,
                "the user pool or its client is not created yet",
            ));
        }
        Ok(())
    }
}

/// The canonical set of providers: sorted, deduplicated objects.
fn providers_state<I>(providers: I) -> Value
where
    I: IntoIterator<Item = (String, String, bool)>,
{
    let mut v: Vec<(String, String, bool)> = providers.into_iter().collect();
    v.sort();
    v.dedup();
    Value::from(
        v.into_iter()
            .map(|(name, client, check)| {
                json!({"providerName": name, "clientId": client, "serverSideTokenCheck": check})
            })
            .collect::<Vec<_>>(),
    )
}

/// Right after CreateUserPool/CreateUserPoolClient, Cognito identity may not see them yet and
/// answers CreateIdentityPool with "InvalidParameterException: Invalid Cognito Identity
/// Provider" (the same answer as for a provider that really is wrong, so the retry is capped).
pub const PROVIDER_NOT_YET_VISIBLE: RetryWhen = RetryWhen {
    name: "user pool or client not yet visible to cognito identity",
    matches: |e| {
        e.is("InvalidParameterException")
            && e.message().contains("Invalid Cognito Identity Provider")
    },
};

/// One identity pool as any of Describe/Create/UpdateIdentityPool return it.
#[derive(Debug, Clone)]
struct Pool {
    id: String,
    name: String,
    allow_unauthenticated: bool,
    allow_classic_flow: Option<bool>,
    providers: Vec<CognitoIdentityProvider>,
    tags: Tags,
    // Not managed by stackwatch, but sent back whole on update.
    login_providers: Option<HashMap<String, String>>,
    developer_provider_name: Option<String>,
    open_id_connect_provider_arns: Vec<String>,
    saml_provider_arns: Vec<String>,
}

/// The three output types have the same accessors but no common trait.
macro_rules! pool_from {
    ($o:expr) => {{
        let o = $o;
        Pool {
            id: o.identity_pool_id().to_string(),
            name: o.identity_pool_name().to_string(),
            allow_unauthenticated: o.allow_unauthenticated_identities(),
            allow_classic_flow: o.allow_classic_flow(),
            providers: o.cognito_identity_providers().to_vec(),
            tags: o
                .identity_pool_tags()
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            login_providers: o.supported_login_providers().cloned(),
            // moto returns "" for "none"; AWS rejects "" on update (minimum length 1).
            developer_provider_name: o
                .developer_provider_name()
                .filter(|n| !n.is_empty())
                .map(str::to_string),
            open_id_connect_provider_arns: o.open_id_connect_provider_arns().to_vec(),
            saml_provider_arns: o.saml_provider_arns().to_vec(),
        }
    }};
}

fn observed(pool: Pool, spec: &Spec, owner: Option<Owner>) -> Observed {
    let owner = owner.unwrap_or_else(|| owner_from_tags(&pool.tags, &spec.tags));
    let providers = providers_state(pool.providers.iter().map(|p| {
        (
            p.provider_name().unwrap_or_default().to_string(),
            p.client_id().unwrap_or_default().to_string(),
            // AWS always returns it; an absent value means the default, false.
            p.server_side_token_check().unwrap_or(false),
        )
    }));
    let state = State::from([
        ("name", json!(pool.name)),
        ("allowUnauthenticated", json!(pool.allow_unauthenticated)),
        ("providers", providers),
        // moto 5.2.5 does not implement AllowClassicFlow and omits it: absent is the default, false.
        (
            "allowClassicFlow",
            json!(pool.allow_classic_flow.unwrap_or(false)),
        ),
        ("tags", tags_state(&pool.tags, &spec.tags)),
    ]);
    Observed::new(
        pool.id.clone(),
        owner,
        state,
        Attrs::from([("id", pool.id)]),
    )
}

async fn describe(aws: &Aws, id: &str) -> Result<Option<Pool>, AwsError> {
    match aws
        .identity
        .describe_identity_pool()
        .identity_pool_id(id)
        .send()
        .await
    {
        Ok(out) => Ok(pool_from!(&out)),
        Err(e) => Err(AwsError::new("reading", KIND, id, e)),
    }
    .or_not_found(NOT_FOUND)
}

/// Reads the pool by the id an earlier read found (one DescribeIdentityPool instead of
/// listing every pool): only an owned pool that still has our name counts.
async fn read_known(aws: &Aws, spec: &Spec, id: &str) -> Result<Option<Observed>, AwsError> {
    if let Some(p) = describe(aws, id).await?
        && p.name == spec.name
    {
        let o = observed(p, spec, None);
        if o.owner == Owner::Ours {
            return Ok(Some(o));
        }
    }
    Ok(None)
}

/// Every identity pool's (id, name): all pages of ListIdentityPools. `label` names the
/// listing in errors.
async fn list_names(aws: &Aws, label: &str) -> Result<Vec<(String, String)>, AwsError> {
    let pools = aws
        .identity
        .list_identity_pools()
        .max_results(60)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::new("listing", KIND, label, e))?;
    Ok(pools
        .iter()
        .filter_map(|p| {
            Some((
                p.identity_pool_id()?.to_string(),
                p.identity_pool_name()?.to_string(),
            ))
        })
        .collect())
}

/// TagResource on `arn:{partition}:cognito-identity:{region}:{account}:identitypool/{id}`.
async fn tag(aws: &Aws, id: &str, tags: &Tags) -> Result<(), AwsError> {
    let partition = super::partition(&aws.region);
    let account = aws.account().await?;
    let arn = format!(
        "arn:{partition}:cognito-identity:{}:{account}:identitypool/{id}",
        aws.region
    );
    aws.identity
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(tags.clone().into_iter().collect()))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::new("tagging", KIND, id, e))
}

/// The identity pool kind; a leftover one (no file declares it) is deleted. Every managed field,
/// the name included, changes in place with UpdateIdentityPool: nothing forces a new one.
pub struct IdentityPool;

impl ResourceKind for IdentityPool {
    crate::kind_basics!();
    const FOUND_BY_LISTING: bool = true;
    const FINDS_LEFTOVERS: bool = true;

    /// Its page in the AWS web console.
    const CONSOLE_URL: Option<&'static str> =
        Some("{home}/cognito/v2/identity/identity-pools/{id}/?region={region}");
    fn templates(def: &Def) -> Vec<&Template> {
        vec![&def.user_pool_id, &def.client_id]
    }
    fn resolve(def: &Def, cx: &mut Resolve<'_>) -> Spec {
        Spec {
            name: def.name.clone(),
            allow_unauthenticated: def.allow_unauthenticated,
            region: cx.region.to_string(),
            user_pool_id: cx.render(&def.user_pool_id),
            client_id: cx.render(&def.client_id),
            tags: cx.tags.clone(),
        }
    }
    fn name(spec: &Spec) -> String {
        spec.name.clone()
    }
    fn state(spec: &Spec) -> State {
        State::from([
            ("name", json!(spec.name)),
            ("allowUnauthenticated", json!(spec.allow_unauthenticated)),
            (
                "providers",
                providers_state([(spec.provider_name(), spec.client_id.to_string(), false)]),
            ),
            ("allowClassicFlow", json!(false)),
            ("tags", serde_json::to_value(&spec.tags).unwrap_or_default()),
        ])
    }
    /// The `adopt` id, taken over tags or not; else the id an earlier read found, while it
    /// still names our own; else by exact name: two owned matches are an error (see
    /// `resource::pick`), a same-named one without our tags is Foreign.
    async fn find(aws: &Aws, spec: &Spec, hint: Hint<'_>) -> Result<Option<Observed>, AwsError> {
        if let Some(id) = hint.adopt {
            return Ok(describe(aws, id)
                .await?
                .map(|p| observed(p, spec, Some(Owner::Adopted))));
        }
        if let Some(id) = hint.known
            && let Some(o) = read_known(aws, spec, id).await?
        {
            return Ok(Some(o));
        }
        let ids: Vec<String> = list_names(aws, &spec.name)
            .await?
            .into_iter()
            .filter(|(_, name)| *name == spec.name)
            .map(|(id, _)| id)
            .collect();
        let mut found = Vec::new();
        for id in ids {
            // Deleted between the list and the describe: not there.
            if let Some(p) = describe(aws, &id).await? {
                found.push(observed(p, spec, None));
            }
        }
        pick(found, KIND, &spec.name)
    }
    async fn create(aws: &Aws, spec: &Spec) -> Result<Observed, AwsError> {
        spec.check_writable("creating")?;
        let send = || async {
            let out = aws
                .identity
                .create_identity_pool()
                .identity_pool_name(&spec.name)
                .allow_unauthenticated_identities(spec.allow_unauthenticated)
                .allow_classic_flow(false)
                .cognito_identity_providers(spec.provider())
                // The tags go in the create call itself: no window where the pool exists untagged.
                .set_identity_pool_tags(Some(spec.tags.clone().into_iter().collect()))
                .customize()
                .config_override(Config::builder().retry_config(aws::no_retry()))
                .send()
                .await
                .map_err(|e| AwsError::new("creating", KIND, &spec.name, e))?;
            Ok(observed(pool_from!(&out), spec, Some(Owner::Ours)))
        };
        let recover = || async {
            Ok(Self::find(aws, spec, Hint::default())
                .await?
                .filter(|o| o.owner == Owner::Ours))
        };
        retry(PROVIDER_NOT_YET_VISIBLE, || aws::create_once(send, recover)).await
    }
    /// UpdateIdentityPool replaces the pool whole: every field is sent, the managed ones from the
    /// spec, the others as they are now (read first), and the tags as now plus ours.
    async fn update(
        aws: &Aws,
        spec: &Spec,
        obs: &Observed,
        _: &[&'static str],
    ) -> Result<Observed, AwsError> {
        spec.check_writable("updating")?;
        let current = describe(aws, &obs.id).await?.or_refused(
            "updating",
            KIND,
            &obs.id,
            "the identity pool disappeared before the update",
        )?;
        let mut tags = current.tags.clone();
        tags.extend(spec.tags.clone());
        let out = aws
            .identity
            .update_identity_pool()
            .identity_pool_id(&obs.id)
            .identity_pool_name(&spec.name)
            .allow_unauthenticated_identities(spec.allow_unauthenticated)
            .allow_classic_flow(false)
            .cognito_identity_providers(spec.provider())
            .set_supported_login_providers(current.login_providers.clone())
            .set_developer_provider_name(current.developer_provider_name.clone())
            .set_open_id_connect_provider_arns(Some(current.open_id_connect_provider_arns.clone()))
            .set_saml_provider_arns(Some(current.saml_provider_arns.clone()))
            .set_identity_pool_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|e| AwsError::new("updating", KIND, &obs.id, e))?;
        let mut pool = pool_from!(&out);
        // Terraform tags identity pools with TagResource rather than through UpdateIdentityPool; if
        // the update did not take our tags (an adopted pool), add them that way.
        if owner_from_tags(&pool.tags, &spec.tags) != Owner::Ours {
            tag(aws, &obs.id, &spec.tags).await?;
            pool.tags.extend(spec.tags.clone());
        }
        Ok(observed(pool, spec, Some(Owner::Ours)))
    }
    async fn delete(aws: &Aws, _: &Spec, obs: &Observed) -> Result<(), AwsError> {
        Self::delete_owned(aws, obs).await
    }
    /// Every name this app and stage derives starts with `{stage}_{app}_` (or, shortened, with
    /// what [`NameRule::listing_prefix`] keeps of it).
    /// Identity pools whose name starts with `prefix` and whose tags mark this app and stage.
    /// Pools with a name in `declared` are not described: the node of that name reads them (and
    /// two owned pools of one name are reported there), so they are never leftovers.
    async fn list_owned(aws: &Aws, scope: Scope<'_>) -> Result<Vec<Owned>, AwsError> {
        let prefix = &NAME.listing_prefix(&format!("{}_{}_", scope.stage, scope.app));
        let (app, stage, declared) = (scope.app, scope.stage, scope.declared_names);
        let ids: Vec<String> = list_names(aws, prefix)
            .await?
            .into_iter()
            .filter(|(_, name)| name.starts_with(prefix) && !declared.contains(name.as_str()))
            .map(|(id, _)| id)
            .collect();
        let mut owned = Vec::new();
        for id in ids {
            if let Some(pool) = describe(aws, &id).await?
                && super::is_app_stage(&pool.tags, app, stage)
            {
                owned.push(super::Owned {
                    id,
                    tags: pool.tags,
                });
            }
        }
        Ok(owned)
    }
    async fn delete_owned(aws: &Aws, obs: &Observed) -> Result<(), AwsError> {
        aws.identity
            .delete_identity_pool()
            .identity_pool_id(&obs.id)
            .send()
            .await
            .map_err(|e| AwsError::new("deleting", KIND, &obs.id, e))
            .or_gone(NOT_FOUND)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{drift, ours, ours_and_others};
    use super::*;
    use aws_sdk_cognitoidentity::operation::create_identity_pool::CreateIdentityPoolOutput;
    use aws_sdk_cognitoidentity::operation::describe_identity_pool::DescribeIdentityPoolOutput;
    use aws_sdk_cognitoidentity::operation::describe_identity_pool::builders::DescribeIdentityPoolOutputBuilder;

    fn spec() -> Spec {
        Spec {
            name: "app dev identity".into(),
            allow_unauthenticated: false,
            region: "us-east-1".into(),
            user_pool_id: "us-east-1_abc".into(),
            client_id: "client123".into(),
            tags: Tags::from([("stackwatch:app".to_string(), "app".to_string())]),
        }
    }

    #[test]
    fn names() {
        assert!(NAME.check("my_app-dev.identity@x+y=z,1 2").is_ok());
        assert!(NAME.check("").is_err());
        assert!(NAME.check("a/b").is_err());
        assert!(NAME.check("a:b").is_err());
        assert!(NAME.check("é").is_err());
        assert!(NAME.check(&"a".repeat(128)).is_ok());
        assert!(NAME.check(&"a".repeat(129)).is_err());
    }

    #[test]
    fn state_shape() {
        let s = IdentityPool::state(&spec());
        assert_eq!(
            s["providers"],
            json!([{
                "providerName": "cognito-idp.us-east-1.amazonaws.com/us-east-1_abc",
                "clientId": "client123",
                "serverSideTokenCheck": false
            }])
        );
        assert_eq!(s["name"], json!("app dev identity"));
        assert_eq!(s["allowClassicFlow"], json!(false));
    }

    #[test]
    fn observed_matches_spec_state() {
        let sp = spec();
        let mut tags = sp.tags.clone();
        tags.insert("someone".into(), "else".into());
        let pool = Pool {
            id: "us-east-1:1234".into(),
            name: sp.name.clone(),
            allow_unauthenticated: false,
            allow_classic_flow: None,
            providers: vec![sp.provider()],
            tags,
            login_providers: None,
            developer_provider_name: None,
            open_id_connect_provider_arns: vec![],
            saml_provider_arns: vec![],
        };
        let obs = observed(pool, &sp, None);
        assert_eq!(obs.owner, Owner::Ours);
        assert_eq!(obs.state, IdentityPool::state(&sp));
    }

    #[test]
    fn unknown_is_refused_for_writes() {
        let mut sp = spec();
        sp.client_id = Resolved::after_apply();
        assert!(sp.check_writable("creating").is_err());
        // Only the type says unknown: a known value with the placeholder's text is a value.
        sp.client_id = crate::source::template::UNKNOWN.into();
        assert!(sp.check_writable("creating").is_ok());
        sp.client_id = Resolved::after_apply();
        assert_eq!(
            IdentityPool::state(&sp)["providers"][0]["clientId"],
            json!(crate::source::template::UNKNOWN)
        );
    }

    fn tagged_spec() -> Spec {
        Spec {
            tags: ours(),
            ..spec()
        }
    }

    fn provider(client: &str, check: Option<bool>) -> CognitoIdentityProvider {
        CognitoIdentityProvider::builder()
            .provider_name("cognito-idp.us-east-1.amazonaws.com/us-east-1_abc")
            .client_id(client)
            .set_server_side_token_check(check)
            .build()
    }

    /// DescribeIdentityPool's answer for the pool as CreateIdentityPool made it, with what we
    /// do not manage: a login provider, moto's empty developer provider, another team's tag.
    fn described() -> DescribeIdentityPoolOutputBuilder {
        let mut out = DescribeIdentityPoolOutput::builder()
            .identity_pool_id("us-east-1:1234")
            .identity_pool_name("app dev identity")
            .allow_unauthenticated_identities(false)
            .allow_classic_flow(false)
            .cognito_identity_providers(provider("client123", Some(false)))
            .supported_login_providers("accounts.google.com", "google-client")
            .developer_provider_name("");
        for (k, v) in ours_and_others() {
            out = out.identity_pool_tags(k, v);
        }
        out
    }

    fn observe(out: DescribeIdentityPoolOutputBuilder, owner: Option<Owner>) -> Observed {
        observed(pool_from!(&out.build().unwrap()), &tagged_spec(), owner)
    }

    #[test]
    fn a_described_pool_as_created_matches_its_spec() {
        let obs = observe(described(), None);
        assert_eq!(obs.state, IdentityPool::state(&tagged_spec()));
        assert_eq!(obs.owner, Owner::Ours);
        assert_eq!(obs.id, "us-east-1:1234");
        assert_eq!(
            obs.attrs,
            Attrs::from([("id", "us-east-1:1234".to_string())])
        );
        // What is sent back whole on update: moto's "" is no developer provider.
        let pool = pool_from!(&described().build().unwrap());
        assert_eq!(pool.developer_provider_name, None);
        assert_eq!(
            pool.login_providers,
            Some(HashMap::from([(
                "accounts.google.com".to_string(),
                "google-client".to_string()
            )]))
        );
    }

    #[test]
    fn absent_flags_read_as_their_defaults() {
        // moto omits AllowClassicFlow; an absent ServerSideTokenCheck is false.
        let out = described()
            .set_allow_classic_flow(None)
            .set_cognito_identity_providers(Some(vec![provider("client123", None)]));
        assert_eq!(
            observe(out, None).state,
            IdentityPool::state(&tagged_spec())
        );
    }

    #[test]
    fn create_answer_reads_like_describe() {
        let mut out = CreateIdentityPoolOutput::builder()
            .identity_pool_id("us-east-1:1234")
            .identity_pool_name("app dev identity")
            .allow_unauthenticated_identities(false)
            .cognito_identity_providers(provider("client123", Some(false)));
        for (k, v) in ours() {
            out = out.identity_pool_tags(k, v);
        }
        let sp = tagged_spec();
        let obs = observed(pool_from!(&out.build().unwrap()), &sp, Some(Owner::Ours));
        assert_eq!(obs.state, IdentityPool::state(&sp));
    }

    #[test]
    fn each_drifted_setting_is_its_own_field() {
        let cases = [
            (
                described().allow_unauthenticated_identities(true),
                "allowUnauthenticated",
            ),
            (described().allow_classic_flow(true), "allowClassicFlow"),
            (described().identity_pool_name("renamed"), "name"),
            (
                described().set_cognito_identity_providers(Some(vec![provider(
                    "old-client",
                    Some(false),
                )])),
                "providers",
            ),
            (
                described().cognito_identity_providers(provider("extra", Some(false))),
                "providers",
            ),
            (
                described()
                    .set_cognito_identity_providers(Some(vec![provider("client123", Some(true))])),
                "providers",
            ),
        ];
        for (out, field) in cases {
            let obs = observe(out, None);
            assert_eq!(
                drift(&IdentityPool::state(&tagged_spec()), &obs.state),
                [field]
            );
            assert_eq!(obs.owner, Owner::Ours);
        }
    }

    #[test]
    fn a_pool_without_our_tags_is_foreign_unless_adopted() {
        let untagged =
            || described().set_identity_pool_tags(Some([("team".into(), "web".into())].into()));
        let obs = observe(untagged(), None);
        assert_eq!(obs.owner, Owner::Foreign);
        assert_eq!(
            drift(&IdentityPool::state(&tagged_spec()), &obs.state),
            ["tags"]
        );
        assert_eq!(
            observe(untagged(), Some(Owner::Adopted)).owner,
            Owner::Adopted
        );
    }
}
