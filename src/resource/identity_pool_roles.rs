//! Identity pool role attachment: which IAM role authenticated (and, optionally, guest)
//! identities get. SetIdentityPoolRoles replaces the whole `Roles` map, so create and update
//! are the same call and delete sets an empty map.
//!
//! It has no tags of its own: it is ours when its identity pool is (the plan only reaches it
//! through our pool's id). Role mappings (`RoleMappings`) are not managed and never sent.

use super::{Hint, Resolve, ResourceKind};
use crate::source::template::{Resolved, Template};
use std::collections::{BTreeMap, HashMap};

use aws_sdk_cognitoidentity::operation::get_identity_pool_roles::GetIdentityPoolRolesOutput;
use serde_json::Value;

use super::{Attrs, Observed, Owner, State};
use crate::aws::{Aws, AwsError, RetryWhen, retry};

pub const KIND: &str = "Cognito identity pool roles";

pub const AUTHENTICATED: &str = "authenticated";
pub const UNAUTHENTICATED: &str = "unauthenticated";

/// What the config asks for: the pool, its authenticated role and, with guests, its guest role.
#[derive(Debug, Clone)]
pub struct Def {
    pub identity_pool_id: Template,
    pub authenticated: Template,
    pub unauthenticated: Option<Template>,
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub identity_pool_id: Resolved,
    pub authenticated_role_arn: Resolved,
    pub unauthenticated_role_arn: Option<Resolved>,
}

impl Spec {
    fn roles(&self) -> BTreeMap<String, String> {
        let mut roles = BTreeMap::from([(
            AUTHENTICATED.to_string(),
            self.authenticated_role_arn.to_string(),
        )]);
        if let Some(arn) = &self.unauthenticated_role_arn {
            roles.insert(UNAUTHENTICATED.to_string(), arn.to_string());
        }
        roles
    }
}

fn roles_state(roles: &BTreeMap<String, String>) -> State {
    State::from([("roles", serde_json::to_value(roles).unwrap_or(Value::Null))])
}

/// Right after CreateRole, Cognito identity may not see the role yet. The API reference lists
/// only "InvalidParameterException: Thrown for missing or bad input parameter(s)" for
/// SetIdentityPoolRoles; the answer reported in practice for a role Cognito cannot use is
/// "NotAuthorizedException: Access to Role '<arn>' is forbidden." Both are retried, capped by
/// `aws::retry`, only when the message is about a role, so other bad input fails at once.
pub const ROLE_NOT_YET_VISIBLE: RetryWhen = RetryWhen {
    name: "iam role not yet visible to cognito identity",
    matches: |e| {
        let about_role = e.message().to_ascii_lowercase().contains("role");
        about_role && (e.is("InvalidParameterException") || e.is("NotAuthorizedException"))
    },
};

fn observed(pool_id: &str, roles: &BTreeMap<String, String>) -> Observed {
    Observed::new(
        pool_id.to_string(),
        Owner::Ours,
        roles_state(roles),
        Attrs::from([("id", pool_id.to_string())]),
    )
}

/// The attachment as GetIdentityPoolRoles reads it: the roles set (an empty ARN is no role);
/// `None` when no role is set.
fn observed_roles(pool_id: &str, out: GetIdentityPoolRolesOutput) -> Option<Observed> {
    let roles: BTreeMap<String, String> = out
        .roles
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, arn)| !arn.is_empty())
        .collect();
    (!roles.is_empty()).then(|| observed(pool_id, &roles))
}

async fn set_roles(
    aws: &Aws,
    verb: &'static str,
    pool_id: &str,
    roles: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let map: HashMap<String, String> = roles.clone().into_iter().collect();
    aws.identity
        .set_identity_pool_roles()
        .identity_pool_id(pool_id)
        .set_roles(Some(map))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::new(verb, KIND, pool_id, e))
}

async fn put(aws: &Aws, spec: &Spec, verb: &'static str) -> Result<Observed, AwsError> {
    let unknown = !spec.identity_pool_id.is_known()
        || !spec.authenticated_role_arn.is_known()
        || spec
            .unauthenticated_role_arn
            .as_ref()
            .is_some_and(|a| !a.is_known());
    if unknown {
        return Err(AwsError::refused(
            verb,
            KIND,
            &spec.identity_pool_id,
            "the identity pool or a role is not created yet",
        ));
    }
    let roles = spec.roles();
    retry(ROLE_NOT_YET_VISIBLE, || {
        set_roles(aws, verb, &spec.identity_pool_id, &roles)
    })
    .await?;
    Ok(observed(&spec.identity_pool_id, &roles))
}

/// The role attachment kind: found through its identity pool's id. Its guest role is optional:
/// when that role failed, the attachment is set with the authenticated role alone. The pool id
/// is `name()`: another pool is another attachment, never a change of this one.
pub struct IdentityPoolRoles;

impl ResourceKind for IdentityPoolRoles {
    crate::kind_basics!();
    const FOUND_THROUGH_DEPS: bool = true;

    /// Its page in the AWS web console.
    const CONSOLE_URL: Option<&'static str> = Some(
        "{home}/cognito/v2/identity/identity-pools/{IdentityPool}/user-access?region={region}",
    );
    fn templates(def: &Def) -> Vec<&Template> {
        std::iter::once(&def.identity_pool_id)
            .chain(std::iter::once(&def.authenticated))
            .chain(def.unauthenticated.iter())
            .collect()
    }
    fn optional_templates(def: &Def) -> Vec<&Template> {
        def.unauthenticated.iter().collect()
    }
    fn resolve(def: &Def, cx: &mut Resolve<'_>) -> Spec {
        Spec {
            identity_pool_id: cx.render(&def.identity_pool_id),
            authenticated_role_arn: cx.render(&def.authenticated),
            unauthenticated_role_arn: def.unauthenticated.as_ref().map(|t| cx.render(t)),
        }
    }
    fn name(spec: &Spec) -> String {
        spec.identity_pool_id.to_string()
    }
    fn state(spec: &Spec) -> State {
        roles_state(&spec.roles())
    }
    /// The attachment exists when its pool exists and has at least one role set.
    async fn find(aws: &Aws, spec: &Spec, _: Hint<'_>) -> Result<Option<Observed>, AwsError> {
        if !spec.identity_pool_id.is_known() {
            return Ok(None);
        }
        let out = match aws
            .identity
            .get_identity_pool_roles()
            .identity_pool_id(&spec.identity_pool_id)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let e = AwsError::new("reading", KIND, &spec.identity_pool_id, e);
                return if e.is("ResourceNotFoundException") {
                    Ok(None)
                } else {
                    Err(e)
                };
            }
        };
        Ok(observed_roles(&spec.identity_pool_id, out))
    }
    async fn create(aws: &Aws, spec: &Spec) -> Result<Observed, AwsError> {
        put(aws, spec, "creating").await
    }
    /// The whole map is sent: a guest role no longer wanted is removed by leaving it out.
    async fn update(
        aws: &Aws,
        spec: &Spec,
        _: &Observed,
        _: &[&'static str],
    ) -> Result<Observed, AwsError> {
        put(aws, spec, "updating").await
    }
    /// Sets an empty map; a pool that is already gone has no roles to remove.
    async fn delete(aws: &Aws, _: &Spec, obs: &Observed) -> Result<(), AwsError> {
        match set_roles(aws, "deleting", &obs.id, &BTreeMap::new()).await {
            Err(e) if !e.is("ResourceNotFoundException") => Err(e),
            _ => Ok(()),
        }
    }
    fn without_unknown_optionals(mut spec: Spec) -> Spec {
        spec.unauthenticated_role_arn = spec.unauthenticated_role_arn.filter(Resolved::is_known);
        spec
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_ours_as_specified, drift};
    use super::*;
    use serde_json::json;

    #[test]
    fn state_has_optional_guest_role() {
        let mut spec = Spec {
            identity_pool_id: "us-east-1:abc".into(),
            authenticated_role_arn: "arn:aws:iam::123456789012:role/a".into(),
            unauthenticated_role_arn: None,
        };
        assert_eq!(
            IdentityPoolRoles::state(&spec)["roles"],
            json!({"authenticated": "arn:aws:iam::123456789012:role/a"})
        );
        spec.unauthenticated_role_arn = Some("arn:aws:iam::123456789012:role/u".into());
        assert_eq!(
            IdentityPoolRoles::state(&spec)["roles"],
            json!({
                "authenticated": "arn:aws:iam::123456789012:role/a",
                "unauthenticated": "arn:aws:iam::123456789012:role/u"
            })
        );
    }

    #[test]
    fn retry_predicate_only_for_role_errors() {
        let err = |code: &str, msg: &str| {
            AwsError::from_api(
                "creating",
                KIND,
                "x",
                crate::aws::ApiError::coded(code, format!("{code}: {msg}")),
            )
        };
        let m = ROLE_NOT_YET_VISIBLE.matches;
        assert!(m(&err(
            "NotAuthorizedException",
            "Access to Role 'arn:aws:iam::1:role/x' is forbidden."
        )));
        assert!(m(&err("InvalidParameterException", "Invalid role ARN")));
        assert!(!m(&err(
            "InvalidParameterException",
            "IdentityPoolId is invalid"
        )));
        assert!(!m(&err(
            "ResourceNotFoundException",
            "IdentityPool not found"
        )));
    }

    fn spec(guest: bool) -> Spec {
        Spec {
            identity_pool_id: "us-east-1:abc".into(),
            authenticated_role_arn: "arn:aws:iam::123456789012:role/a".into(),
            unauthenticated_role_arn: guest.then(|| "arn:aws:iam::123456789012:role/u".into()),
        }
    }

    fn read(roles: &[(&str, &str)]) -> Option<Observed> {
        let mut out = GetIdentityPoolRolesOutput::builder().identity_pool_id("us-east-1:abc");
        for (k, v) in roles {
            out = out.roles(*k, *v);
        }
        observed_roles("us-east-1:abc", out.build())
    }

    #[test]
    fn roles_as_set_match_the_spec() {
        let auth = (AUTHENTICATED, "arn:aws:iam::123456789012:role/a");
        let guest = (UNAUTHENTICATED, "arn:aws:iam::123456789012:role/u");
        let obs = read(&[auth]).unwrap();
        let attrs = [("id", "us-east-1:abc")];
        let state = IdentityPoolRoles::state(&spec(false));
        assert_ours_as_specified(&obs, state, "us-east-1:abc", &attrs);
        let obs = read(&[guest, auth]).unwrap();
        assert_eq!(obs.state, IdentityPoolRoles::state(&spec(true)));
        // A guest role no longer declared is drift in `roles`.
        assert_eq!(
            drift(&IdentityPoolRoles::state(&spec(false)), &obs.state),
            ["roles"]
        );
    }

    #[test]
    fn an_empty_arn_is_no_role_and_no_roles_is_no_attachment() {
        let auth = (AUTHENTICATED, "arn:aws:iam::123456789012:role/a");
        let obs = read(&[auth, (UNAUTHENTICATED, "")]).unwrap();
        assert_eq!(obs.state, IdentityPoolRoles::state(&spec(false)));
        assert!(read(&[]).is_none());
        assert!(read(&[(AUTHENTICATED, "")]).is_none());
    }

    #[test]
    fn another_role_is_drift() {
        let obs = read(&[(AUTHENTICATED, "arn:aws:iam::123456789012:role/other")]).unwrap();
        assert_eq!(
            drift(&IdentityPoolRoles::state(&spec(false)), &obs.state),
            ["roles"]
        );
    }
}
