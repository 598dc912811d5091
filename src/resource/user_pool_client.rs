//! Cognito user pool client: a public client (no secret) with SRP, USER_PASSWORD and
//! refresh-token flows. Clients carry no tags; one is ours when its pool is ours and its name
//! is our deterministic name. A client whose pool is not created yet does not exist.

use super::naming::{COGNITO_CHARS, NameRule};
use super::{Hint, Resolve, ResourceKind};
use crate::source::template::{Resolved, Template};
use aws_sdk_cognitoidentityprovider::types::{ExplicitAuthFlowsType, UserPoolClientType};
use serde_json::json;

use super::user_pool::NOT_FOUND;
use super::{Attrs, Detail, Observed, Owner, State, set};
use aws_sdk_cognitoidentityprovider::Config;

use crate::aws::{self, Aws, AwsError, OrNotFound, OrRefused, RetryWhen, retry};

pub const KIND: &str = "Cognito user pool client";
/// CreateUserPoolClient's `ClientName`: 1-128 characters of `[\w\s+=,.@-]`.
pub const NAME: NameRule = NameRule::new("a Cognito user pool client name", 1, 128, COGNITO_CHARS);

const FLOWS: [&str; 3] = [
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
];

/// What the config asks for: a client named `name` in the pool `user_pool_id` refers to.
#[derive(Debug, Clone)]
pub struct Def {
    pub name: String,
    pub user_pool_id: Template,
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub name: String,
    pub user_pool_id: Resolved,
}

/// Right after CreateUserPool the pool may not be visible yet:
/// "ResourceNotFoundException: User pool <id> does not exist."
pub const POOL_NOT_YET_VISIBLE: RetryWhen = RetryWhen {
    name: "user pool not yet visible",
    matches: |e| e.is("ResourceNotFoundException"),
};

fn observed(c: &UserPoolClientType) -> Observed {
    let id = c.client_id().unwrap_or_default().to_string();
    Observed {
        id: id.clone(),
        owner: Owner::Ours,
        state: State::from([
            ("userPoolId", json!(c.user_pool_id().unwrap_or_default())),
            ("generateSecret", json!(c.client_secret().is_some())),
            (
                "explicitAuthFlows",
                set(c
                    .explicit_auth_flows()
                    .iter()
                    .map(|f| f.as_str().to_string())),
            ),
        ]),
        attrs: Attrs::from([("id", id)]),
        detail: Detail::None,
        notes: Vec::new(),
    }
}

/// The client `id` of the spec's pool, or None when the pool or the client is gone.
async fn describe(
    aws: &Aws,
    spec: &Spec,
    id: &str,
) -> Result<Option<UserPoolClientType>, AwsError> {
    match aws
        .idp
        .describe_user_pool_client()
        .user_pool_id(&spec.user_pool_id)
        .client_id(id)
        .send()
        .await
    {
        Ok(out) => Ok(out.user_pool_client),
        Err(e) => Err(AwsError::new("reading", KIND, id, e)),
    }
    .or_not_found(NOT_FOUND)
    .map(Option::flatten)
}

/// The client of our name in the spec's pool, listing the pool's clients.
async fn find_by_name(aws: &Aws, spec: &Spec) -> Result<Option<Observed>, AwsError> {
    let Some(clients) = aws
        .idp
        .list_user_pool_clients()
        .user_pool_id(&spec.user_pool_id)
        .max_results(60)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::new("listing", KIND, &spec.name, e))
        .or_not_found(NOT_FOUND)?
    else {
        return Ok(None);
    };
    let mut ids: Vec<String> = clients
        .iter()
        .filter(|c| c.client_name() == Some(spec.name.as_str()))
        .filter_map(|c| c.client_id().map(str::to_string))
        .collect();
    if ids.len() > 1 {
        return Err(AwsError::refused(
            "finding",
            KIND,
            &spec.name,
            format!(
                "{} clients named {} in pool {} ({}); delete the extra one",
                ids.len(),
                spec.name,
                spec.user_pool_id,
                ids.join(", ")
            ),
        ));
    }
    let Some(id) = ids.pop() else { return Ok(None) };
    Ok(describe(aws, spec, &id).await?.as_ref().map(observed))
}

fn flows() -> Vec<ExplicitAuthFlowsType> {
    FLOWS
        .iter()
        .map(|f| ExplicitAuthFlowsType::from(*f))
        .collect()
}

/// What a create came to: the answer, or the client a lost attempt had made.
enum Made<T> {
    Sent(T),
    Found(Observed),
}

/// The user pool client kind: found inside its pool, so its read waits for the pool's.
pub struct UserPoolClient;

impl ResourceKind for UserPoolClient {
    crate::kind_basics!();
    /// A client cannot move to another pool, and whether it has a secret is fixed at creation.
    const FORCE_NEW: &'static [&'static str] = &["userPoolId", "generateSecret"];
    const FOUND_THROUGH_DEPS: bool = true;
    const FOUND_BY_LISTING: bool = true;

    /// Its page in the AWS web console.
    const CONSOLE_URL: Option<&'static str> = Some(
        "{home}/cognito/v2/idp/user-pools/{UserPool}/applications/app-clients/{id}/details?region={region}",
    );
    fn templates(def: &Def) -> Vec<&Template> {
        vec![&def.user_pool_id]
    }
    fn resolve(def: &Def, cx: &mut Resolve<'_>) -> Spec {
        Spec {
            name: def.name.clone(),
            user_pool_id: cx.render(&def.user_pool_id),
        }
    }
    fn name(spec: &Spec) -> String {
        spec.name.clone()
    }
    fn state(spec: &Spec) -> State {
        State::from([
            ("userPoolId", json!(spec.user_pool_id.as_str())),
            ("generateSecret", json!(false)),
            ("explicitAuthFlows", set(FLOWS)),
        ])
    }
    /// The id an earlier read found (one DescribeUserPoolClient instead of listing the pool's
    /// clients) while it still names a client of that name in the pool; else by name, where two
    /// clients of our name are an error.
    async fn find(aws: &Aws, spec: &Spec, hint: Hint<'_>) -> Result<Option<Observed>, AwsError> {
        if !spec.user_pool_id.is_known() {
            return Ok(None);
        }
        if let Some(id) = hint.known
            && let Some(c) = describe(aws, spec, id).await?
            && c.client_name() == Some(spec.name.as_str())
        {
            return Ok(Some(observed(&c)));
        }
        find_by_name(aws, spec).await
    }
    async fn create(aws: &Aws, spec: &Spec) -> Result<Observed, AwsError> {
        let send = || async {
            aws.idp
                .create_user_pool_client()
                .user_pool_id(&spec.user_pool_id)
                .client_name(&spec.name)
                .generate_secret(false)
                .set_explicit_auth_flows(Some(flows()))
                .customize()
                .config_override(Config::builder().retry_config(aws::no_retry()))
                .send()
                .await
                .map_err(|e| AwsError::new("creating", KIND, &spec.name, e))
        };
        let recover = || async {
            Self::find(aws, spec, Hint::default())
                .await
                .map(|o| o.map(Made::Found))
        };
        let made = retry(POOL_NOT_YET_VISIBLE, || {
            aws::create_once(|| async { send().await.map(Made::Sent) }, recover)
        })
        .await?;
        let out = match made {
            Made::Found(o) => return Ok(o),
            Made::Sent(out) => out,
        };
        let client = out.user_pool_client.or_refused(
            "creating",
            KIND,
            &spec.name,
            "CreateUserPoolClient returned no client",
        )?;
        Ok(observed(&client))
    }
    /// UpdateUserPoolClient resets what it is not given, so the name and flows are always sent.
    async fn update(
        aws: &Aws,
        spec: &Spec,
        obs: &Observed,
        _: &[&'static str],
    ) -> Result<Observed, AwsError> {
        let out = aws
            .idp
            .update_user_pool_client()
            .user_pool_id(&spec.user_pool_id)
            .client_id(&obs.id)
            .client_name(&spec.name)
            .set_explicit_auth_flows(Some(flows()))
            .send()
            .await
            .map_err(|e| AwsError::new("updating", KIND, &obs.id, e))?;
        let client = out.user_pool_client.or_refused(
            "updating",
            KIND,
            &obs.id,
            "UpdateUserPoolClient returned no client",
        )?;
        Ok(observed(&client))
    }
    async fn delete(aws: &Aws, spec: &Spec, obs: &Observed) -> Result<(), AwsError> {
        aws.idp
            .delete_user_pool_client()
            .user_pool_id(&spec.user_pool_id)
            .client_id(&obs.id)
            .send()
            .await
            .map_err(|e| AwsError::new("deleting", KIND, &obs.id, e))
            .or_gone(NOT_FOUND)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_ours_as_specified, drift};
    use super::*;
    use aws_sdk_cognitoidentityprovider::types::OAuthFlowType;

    fn spec() -> Spec {
        Spec {
            name: "dev-notes-AuthStack-Auth-client".into(),
            user_pool_id: "us-east-1_AbC123".into(),
        }
    }

    /// DescribeUserPoolClient's answer for the client as CreateUserPoolClient made it: the
    /// flows in AWS's order, with settings we do not manage.
    fn described() -> aws_sdk_cognitoidentityprovider::types::builders::UserPoolClientTypeBuilder {
        UserPoolClientType::builder()
            .user_pool_id("us-east-1_AbC123")
            .client_name("dev-notes-AuthStack-Auth-client")
            .client_id("4tq1example")
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserSrpAuth)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
            .refresh_token_validity(30)
            .allowed_o_auth_flows(OAuthFlowType::Code)
    }

    #[test]
    fn a_client_as_created_matches_its_spec() {
        let obs = observed(&described().build());
        let attrs = [("id", "4tq1example")];
        assert_ours_as_specified(&obs, UserPoolClient::state(&spec()), "4tq1example", &attrs);
    }

    #[test]
    fn drift_in_flows_secret_and_pool() {
        let cases = [
            (
                described().set_explicit_auth_flows(Some(vec![
                    ExplicitAuthFlowsType::AllowUserSrpAuth,
                    ExplicitAuthFlowsType::AllowRefreshTokenAuth,
                ])),
                "explicitAuthFlows",
            ),
            (described().client_secret("s3cr3t"), "generateSecret"),
            (described().user_pool_id("us-east-1_Other"), "userPoolId"),
        ];
        for (client, field) in cases {
            let obs = observed(&client.build());
            assert_eq!(drift(&UserPoolClient::state(&spec()), &obs.state), [field]);
        }
    }
}
