//! IAM role for a Cognito identity: trust policy, one inline policy named `stackwatch`, tags.
//!
//! Created with its tags in the same CreateRole call, under its path (`/stackwatch/` unless
//! `iam.path` says otherwise) and with its permissions boundary, if any, so a crash after
//! create leaves a role the next run finds and owns, and an account that allows CreateRole only
//! with a boundary accepts it. Documents are compared for equivalence (URL-decoded, canonical),
//! never as strings. A boundary that drifted is put back (PutRolePermissionsBoundary, or
//! DeleteRolePermissionsBoundary when none is declared); the path cannot change in place, so a
//! new path replaces the role.

use super::naming::{self, NameRule};
use super::{Hint, Owned, Resolve, ResourceKind, Scope};
use crate::source::template::Template;
use aws_sdk_iam::types::{Role as IamRole, Tag};
use serde_json::{Value, json};

use super::{Attrs, Detail, Observed, Owner, State, Tags, owner_from_tags, tags_state};
use crate::aws::{Aws, AwsError, OrNotFound, RetryWhen, retry};
use crate::policy::PolicyDocument;

pub const KIND: &str = "IAM role";
/// CreateRole's `RoleName`: 1-64 characters of `[\w+=,.@-]`.
pub const NAME: NameRule = NameRule::new("an IAM role name", 1, 64, naming::IAM_CHARS);
/// "NoSuchEntity: Role <name> not found" (and the same code for a missing inline policy).
pub const NOT_FOUND: &[&str] = &["NoSuchEntity"];
/// The one inline policy stackwatch manages on each role.
pub const INLINE_POLICY: &str = "stackwatch";

/// A statement's effect.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    /// Allow.
    #[default]
    Allow,
    /// Deny.
    Deny,
}

/// One statement of a role's inline policy, its resources still templates.
#[derive(Debug, Clone)]
pub struct Statement {
    pub effect: Effect,
    pub actions: Vec<String>,
    pub resources: Vec<Template>,
}

/// What every IAM role stackwatch creates carries, for accounts that allow `iam:CreateRole`
/// only with a permissions boundary (and often only under a path): `defaults.iam` of
/// `stackwatch.yaml`, and an `auth` resource's own `iam`.
#[derive(Debug, Clone, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IamSettings {
    /// The ARN of the managed policy set as each role's permissions boundary. Drift is reverted.
    #[schemars(with = "Option<String>")]
    pub permissions_boundary: Option<serde_saphyr::Spanned<String>>,
    /// Each role's path: `/`, or `/` + names + `/`. Default `/stackwatch/`. Cannot change in
    /// place: a change replaces the roles.
    #[schemars(with = "Option<String>")]
    pub path: Option<serde_saphyr::Spanned<String>>,
}

/// The permissions boundary and path of a role, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleIam {
    pub permissions_boundary: Option<String>,
    pub path: String,
}

/// The path of stackwatch's roles unless `iam.path` says otherwise.
pub const DEFAULT_ROLE_PATH: &str = "/stackwatch/";

impl Default for RoleIam {
    fn default() -> RoleIam {
        RoleIam {
            permissions_boundary: None,
            path: DEFAULT_ROLE_PATH.to_string(),
        }
    }
}

impl RoleIam {
    /// `iam:` settings over these: a boundary must be an IAM managed policy's ARN, a path
    /// keep IAM's rule for paths.
    pub fn with(&self, raw: IamSettings, cx: &mut dyn super::declare::Check) -> RoleIam {
        let mut out = self.clone();
        if let Some(b) = raw.permissions_boundary {
            match check_boundary_arn(&b.value) {
                Ok(()) => out.permissions_boundary = Some(b.value),
                Err(m) => cx.err_at(&b.referenced, m),
            }
        }
        if let Some(p) = raw.path {
            match check_role_path(&p.value) {
                Ok(()) => out.path = p.value,
                Err(m) => cx.err_at(&p.referenced, m),
            }
        }
        out
    }
}

/// A permissions boundary: the ARN of an IAM managed policy (`arn:aws:iam::123456789012:policy/Name`
/// or an AWS managed one, `arn:aws:iam::aws:policy/Name`).
fn check_boundary_arn(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = match parts.as_slice() {
        ["arn", partition, "iam", "", account, resource] => {
            partition.starts_with("aws")
                && (*account == "aws"
                    || (account.len() == 12 && account.chars().all(|c| c.is_ascii_digit())))
                && resource.len() > "policy/".len()
                && resource.starts_with("policy/")
                && arn.len() <= 2048
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "expected `permissionsBoundary` to be an IAM managed policy's ARN such as \
             `arn:aws:iam::123456789012:policy/Boundary`, found `{arn}`"
        ))
    }
}

/// An IAM path: `/`, or `/` + printable ASCII (no spaces) + `/`, at most 512 characters.
fn check_role_path(path: &str) -> Result<(), String> {
    let ok = path.len() <= 512
        && path.starts_with('/')
        && path.ends_with('/')
        && path.chars().all(|c| ('!'..='~').contains(&c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "expected an IAM `path` that begins and ends with `/` (such as `/stackwatch/`), of \
             at most 512 printable characters without spaces, found `{path}`"
        ))
    }
}

/// What the config asks for: a role for the identities of one identity pool with one `amr`
/// (`authenticated` or `unauthenticated`), and its permissions.
#[derive(Debug, Clone)]
pub struct Def {
    pub name: String,
    pub identity_pool_id: Template,
    pub amr: &'static str,
    pub statements: Vec<Statement>,
    pub path: String,
    pub permissions_boundary: Option<String>,
}

/// The trust policy of a Cognito identity role: only identities of this pool, and only with
/// the given `amr` (authenticated or unauthenticated), may assume it.
pub fn trust_policy(identity_pool_id: &str, amr: &str) -> PolicyDocument {
    PolicyDocument(json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": "cognito-identity.amazonaws.com"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {"cognito-identity.amazonaws.com:aud": identity_pool_id},
                "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": amr}
            }
        }]
    }))
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub name: String,
    pub trust: PolicyDocument,
    /// The inline policy; `None` when no permissions are declared: the role then has no inline
    /// policy at all (IAM refuses a policy with an empty `Statement` as MalformedPolicyDocument),
    /// and so grants nothing.
    pub policy: Option<PolicyDocument>,
    pub path: String,
    pub permissions_boundary: Option<String>,
    pub tags: Tags,
}

/// Right after CreateRole, IAM may not yet show the role to the next call:
/// "NoSuchEntity: The role with name X cannot be found."
pub const ROLE_NOT_YET_VISIBLE: RetryWhen = RetryWhen {
    name: "iam role not yet visible",
    matches: |e| e.is("NoSuchEntity"),
};

fn document(text: &str, what: &str, name: &str) -> Result<PolicyDocument, AwsError> {
    PolicyDocument::parse_wire(text).map_err(|e| {
        AwsError::refused(
            "reading",
            KIND,
            name,
            format!("the {what} AWS returned is not a policy document: {e}"),
        )
    })
}

/// The role as GetRole read it (by `name`, for errors), with the text of its inline policy as
/// GetRolePolicy read it (`None`: it has none). Both documents come URL-encoded and are compared
/// canonical. The owner is `owner`, else ours by the role's tags.
fn observed(
    spec: &Spec,
    name: &str,
    role: &IamRole,
    policy: Option<&str>,
    owner: Option<Owner>,
) -> Result<Observed, AwsError> {
    let tags: Tags = role
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();
    let owner = owner.unwrap_or_else(|| owner_from_tags(&tags, &spec.tags));
    let trust = match role.assume_role_policy_document() {
        Some(t) => document(t, "trust policy", name)?.canonical(),
        None => Value::Null,
    };
    let policy = match policy {
        Some(p) => document(p, "inline policy", name)?.canonical(),
        None => Value::Null,
    };
    Ok(Observed {
        id: role.role_name().to_string(),
        owner,
        state: State::from([
            ("trustPolicy", trust),
            ("policy", policy),
            ("path", Value::from(role.path())),
            (
                "permissionsBoundary",
                role.permissions_boundary()
                    .and_then(|b| b.permissions_boundary_arn())
                    .map_or(Value::Null, Value::from),
            ),
            ("tags", tags_state(&tags, &spec.tags)),
        ]),
        attrs: Attrs::from([
            ("name", role.role_name().to_string()),
            ("arn", role.arn().to_string()),
        ]),
        detail: Detail::None,
        notes: Vec::new(),
    })
}

/// Our tags as IAM's.
fn iam_tags(spec: &Spec) -> Result<Vec<Tag>, AwsError> {
    super::sdk_tags(&spec.tags, KIND, &spec.name, |k, v| {
        Tag::builder().key(k).value(v).build()
    })
}

/// Writes the inline policy, or deletes it when the spec declares no permissions.
async fn put_policy(aws: &Aws, spec: &Spec, name: &str) -> Result<(), AwsError> {
    let Some(policy) = &spec.policy else {
        let out = aws
            .iam
            .delete_role_policy()
            .role_name(name)
            .policy_name(INLINE_POLICY)
            .send()
            .await
            .map_err(|e| AwsError::new("deleting inline policy of", KIND, name, e));
        return out.or_gone(NOT_FOUND);
    };
    retry(ROLE_NOT_YET_VISIBLE, || async {
        aws.iam
            .put_role_policy()
            .role_name(name)
            .policy_name(INLINE_POLICY)
            .policy_document(policy.to_wire())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::new("updating inline policy of", KIND, name, e))
    })
    .await
}

/// Sets the declared permissions boundary, or removes the one found when none is declared.
async fn put_boundary(aws: &Aws, spec: &Spec, name: &str) -> Result<(), AwsError> {
    match &spec.permissions_boundary {
        Some(arn) => aws
            .iam
            .put_role_permissions_boundary()
            .role_name(name)
            .permissions_boundary(arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::new("setting the permissions boundary of", KIND, name, e)),
        None => {
            let out = aws
                .iam
                .delete_role_permissions_boundary()
                .role_name(name)
                .send()
                .await
                .map_err(|e| AwsError::new("removing the permissions boundary of", KIND, name, e));
            out.or_gone(NOT_FOUND)
        }
    }
}

/// Roles whose name starts with `prefix` and whose tags mark this app and stage.
/// Roles named in `declared` are skipped without reading their tags: a role's name is unique
/// and derived from its logical id, so a declared name is never a leftover.
pub async fn list_owned(
    aws: &Aws,
    prefix: &str,
    app: &str,
    stage: &str,
    declared: &std::collections::BTreeSet<String>,
) -> Result<Vec<super::Owned>, AwsError> {
    let roles = aws
        .iam
        .list_roles()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::new("listing", KIND, "/", e))?;
    let names: Vec<String> = roles
        .iter()
        .map(|r| r.role_name().to_string())
        .filter(|n| n.starts_with(prefix) && !declared.contains(n))
        .collect();
    let mut owned = Vec::new();
    for name in names {
        let tags: Tags = match aws.iam.list_role_tags().role_name(&name).send().await {
            Ok(out) => out
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
            Err(e) => {
                let e = AwsError::new("reading tags of", KIND, &name, e);
                if e.is("NoSuchEntity") {
                    continue;
                }
                return Err(e);
            }
        };
        if super::is_app_stage(&tags, app, stage) {
            owned.push(super::Owned { id: name, tags });
        }
    }
    Ok(owned)
}

/// The IAM role kind; a leftover one (no file declares it) is deleted.
pub struct Role;

impl ResourceKind for Role {
    crate::kind_basics!();
    const FORCE_NEW: &'static [&'static str] = &["path"];
    const FINDS_LEFTOVERS: bool = true;

    /// Its page in the AWS web console.
    const CONSOLE_URL: Option<&'static str> =
        Some("https://console.aws.amazon.com/iam/home#/roles/details/{id}");
    fn templates(def: &Def) -> Vec<&Template> {
        std::iter::once(&def.identity_pool_id)
            .chain(def.statements.iter().flat_map(|s| s.resources.iter()))
            .collect()
    }
    fn resolve(def: &Def, cx: &mut Resolve<'_>) -> Spec {
        let pool = cx.text(&def.identity_pool_id);
        let stmts: Vec<Value> = def
            .statements
            .iter()
            .map(|st| {
                let resources: Vec<String> = st.resources.iter().map(|t| cx.text(t)).collect();
                json!({
                    "Effect": if st.effect == Effect::Allow { "Allow" } else { "Deny" },
                    "Action": st.actions,
                    "Resource": resources,
                })
            })
            .collect();
        // No permissions: no inline policy (an empty `Statement` is malformed to IAM).
        let policy = (!stmts.is_empty())
            .then(|| PolicyDocument(json!({"Version": "2012-10-17", "Statement": stmts})));
        Spec {
            name: def.name.clone(),
            trust: trust_policy(&pool, def.amr),
            policy,
            path: def.path.clone(),
            permissions_boundary: def.permissions_boundary.clone(),
            tags: cx.tags.clone(),
        }
    }
    fn name(spec: &Spec) -> String {
        spec.name.clone()
    }
    fn state(spec: &Spec) -> State {
        State::from([
            ("trustPolicy", spec.trust.canonical()),
            (
                "policy",
                spec.policy
                    .as_ref()
                    .map_or(Value::Null, PolicyDocument::canonical),
            ),
            ("path", Value::from(spec.path.as_str())),
            (
                "permissionsBoundary",
                spec.permissions_boundary
                    .as_deref()
                    .map_or(Value::Null, Value::from),
            ),
            ("tags", serde_json::to_value(&spec.tags).unwrap_or_default()),
        ])
    }
    async fn find(aws: &Aws, spec: &Spec, hint: Hint<'_>) -> Result<Option<Observed>, AwsError> {
        let adopt = hint.adopt;
        let name = adopt.unwrap_or(&spec.name);
        // The role and its inline policy are read at once: both are found by name.
        let (role, policy) = futures::join!(
            aws.iam.get_role().role_name(name).send(),
            aws.iam
                .get_role_policy()
                .role_name(name)
                .policy_name(INLINE_POLICY)
                .send()
        );
        let role = match role {
            Ok(out) => out.role,
            Err(e) => {
                let e = AwsError::new("reading", KIND, name, e);
                return if e.is("NoSuchEntity") {
                    Ok(None)
                } else {
                    Err(e)
                };
            }
        };
        let Some(role) = role else { return Ok(None) };
        let policy = match policy {
            Ok(out) => Some(out.policy_document),
            Err(e) => {
                let e = AwsError::new("reading inline policy of", KIND, name, e);
                if e.is("NoSuchEntity") {
                    None
                } else {
                    return Err(e);
                }
            }
        };
        let owner = adopt.is_some().then_some(Owner::Adopted);
        observed(spec, name, &role, policy.as_deref(), owner).map(Some)
    }
    async fn create(aws: &Aws, spec: &Spec) -> Result<Observed, AwsError> {
        let out = aws
            .iam
            .create_role()
            .role_name(&spec.name)
            .path(&spec.path)
            .set_permissions_boundary(spec.permissions_boundary.clone())
            .assume_role_policy_document(spec.trust.to_wire())
            .description("Managed by stackwatch")
            .set_tags(Some(iam_tags(spec)?))
            .send()
            .await
            .map_err(|e| AwsError::new("creating", KIND, &spec.name, e))?;
        let arn = out.role().map(|r| r.arn().to_string()).unwrap_or_default();
        if spec.policy.is_some() {
            put_policy(aws, spec, &spec.name).await?;
        }
        Ok(Observed::new(
            spec.name.clone(),
            Owner::Ours,
            Self::state(spec),
            Attrs::from([("name", spec.name.clone()), ("arn", arn)]),
        ))
    }
    async fn update(
        aws: &Aws,
        spec: &Spec,
        obs: &Observed,
        changed: &[&'static str],
    ) -> Result<Observed, AwsError> {
        let name = obs.id.as_str();
        if changed.contains(&"trustPolicy") {
            aws.iam
                .update_assume_role_policy()
                .role_name(name)
                .policy_document(spec.trust.to_wire())
                .send()
                .await
                .map_err(|e| AwsError::new("updating trust policy of", KIND, name, e))?;
        }
        if changed.contains(&"policy") {
            put_policy(aws, spec, name).await?;
        }
        if changed.contains(&"permissionsBoundary") {
            put_boundary(aws, spec, name).await?;
        }
        if changed.contains(&"tags") {
            aws.iam
                .tag_role()
                .role_name(name)
                .set_tags(Some(iam_tags(spec)?))
                .send()
                .await
                .map_err(|e| AwsError::new("tagging", KIND, name, e))?;
        }
        Ok(Observed::new(
            obs.id.clone(),
            Owner::Ours,
            Self::state(spec),
            obs.attrs.clone(),
        ))
    }
    async fn delete(aws: &Aws, _: &Spec, obs: &Observed) -> Result<(), AwsError> {
        Self::delete_owned(aws, obs).await
    }
    /// Every name this app and stage derives starts with `{stage}-{app}-` (or, shortened, with
    /// what [`NameRule::listing_prefix`] keeps of it).
    async fn list_owned(aws: &Aws, scope: Scope<'_>) -> Result<Vec<Owned>, AwsError> {
        let prefix = NAME.listing_prefix(&format!("{}-{}-", scope.stage, scope.app));
        list_owned(aws, &prefix, scope.app, scope.stage, scope.declared_names).await
    }
    /// Deletes the inline policies first: IAM refuses to delete a role that still has them.
    async fn delete_owned(aws: &Aws, obs: &Observed) -> Result<(), AwsError> {
        let name = obs.id.as_str();
        let policies = match aws
            .iam
            .list_role_policies()
            .role_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
        {
            Ok(names) => names,
            Err(e) => {
                let e = AwsError::new("deleting", KIND, name, e);
                return if e.is("NoSuchEntity") { Ok(()) } else { Err(e) };
            }
        };
        for p in policies {
            aws.iam
                .delete_role_policy()
                .role_name(name)
                .policy_name(&p)
                .send()
                .await
                .map_err(|e| AwsError::new("deleting inline policy of", KIND, name, e))?;
        }
        let out = aws.iam.delete_role().role_name(name).send().await;
        let out = out.map_err(|e| AwsError::new("deleting", KIND, name, e));
        out.or_gone(NOT_FOUND)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_ours_as_specified, drift, ours, ours_and_others};
    use super::*;
    use aws_sdk_iam::types::AttachedPermissionsBoundary;
    use aws_sdk_iam::types::builders::RoleBuilder;
    use aws_smithy_types::DateTime;

    const POOL: &str = "us-east-1:1234";
    const BOUNDARY: &str = "arn:aws:iam::123456789012:policy/Boundary";

    fn spec(boundary: Option<&str>) -> Spec {
        Spec {
            name: "dev-notes-AuthStack-Auth-auth".into(),
            trust: trust_policy(POOL, "authenticated"),
            policy: Some(PolicyDocument(json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:PutObject"],
                    "Resource": ["arn:aws:s3:::uploads/*"],
                }]
            }))),
            path: "/stackwatch/".into(),
            permissions_boundary: boundary.map(str::to_string),
            tags: ours(),
        }
    }

    /// As IAM hands documents back: percent-encoded (RFC 3986).
    fn encoded(doc: &Value) -> String {
        crate::policy::testing::iam_encode(&doc.to_string())
    }

    /// GetRole's role as CreateRole made it: the trust policy encoded, with keys in IAM's
    /// order and single values as strings; another team's tag.
    fn got(trust: &Value) -> RoleBuilder {
        let mut role = IamRole::builder()
            .path("/stackwatch/")
            .role_name("dev-notes-AuthStack-Auth-auth")
            .role_id("AROAEXAMPLE")
            .arn("arn:aws:iam::123456789012:role/stackwatch/dev-notes-AuthStack-Auth-auth")
            .create_date(DateTime::from_secs(1_700_000_000))
            .assume_role_policy_document(encoded(trust))
            .max_session_duration(3600);
        for (k, v) in ours_and_others() {
            role = role.tags(Tag::builder().key(k).value(v).build().unwrap());
        }
        role
    }

    fn trust_as_iam_returns_it() -> Value {
        json!({
            "Statement": {
                "Condition": {
                    "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"},
                    "StringEquals": {"cognito-identity.amazonaws.com:aud": POOL}
                },
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Principal": {"Federated": "cognito-identity.amazonaws.com"},
                "Effect": "Allow"
            },
            "Version": "2012-10-17"
        })
    }

    /// The inline policy as GetRolePolicy returns it: encoded, actions in another order.
    fn inline_as_iam_returns_it() -> String {
        encoded(&json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Resource": "arn:aws:s3:::uploads/*",
                "Action": ["s3:PutObject", "s3:GetObject"],
                "Effect": "Allow"
            }]
        }))
    }

    fn observe(role: RoleBuilder, policy: Option<&str>, sp: &Spec) -> Observed {
        let role = role.build().unwrap();
        observed(sp, &sp.name, &role, policy, None).unwrap()
    }

    #[test]
    fn a_role_as_created_matches_its_spec() {
        let sp = spec(None);
        let inline = inline_as_iam_returns_it();
        let obs = observe(got(&trust_as_iam_returns_it()), Some(&inline), &sp);
        let name = "dev-notes-AuthStack-Auth-auth";
        let arn = "arn:aws:iam::123456789012:role/stackwatch/dev-notes-AuthStack-Auth-auth";
        let attrs = [("name", name), ("arn", arn)];
        assert_ours_as_specified(&obs, Role::state(&sp), name, &attrs);
        // Plain JSON (other tools, emulators) reads the same.
        let plain = observe(
            got(&trust_as_iam_returns_it()),
            Some(&spec(None).policy.unwrap().to_wire()),
            &sp,
        );
        assert_eq!(plain.state, Role::state(&sp));
    }

    #[test]
    fn no_inline_policy_is_none_declared() {
        let sp = Spec {
            policy: None,
            ..spec(None)
        };
        let obs = observe(got(&trust_as_iam_returns_it()), None, &sp);
        assert_eq!(obs.state, Role::state(&sp));
        // …and drift when permissions are declared.
        assert_eq!(drift(&Role::state(&spec(None)), &obs.state), ["policy"]);
    }

    #[test]
    fn a_boundary_as_set_matches() {
        let sp = spec(Some(BOUNDARY));
        let inline = inline_as_iam_returns_it();
        let role = got(&trust_as_iam_returns_it()).permissions_boundary(
            AttachedPermissionsBoundary::builder()
                .permissions_boundary_arn(BOUNDARY)
                .build(),
        );
        assert_eq!(observe(role, Some(&inline), &sp).state, Role::state(&sp));
    }

    #[test]
    fn each_drift_is_its_own_field() {
        let sp = spec(None);
        let inline = inline_as_iam_returns_it();
        let other_pool = trust_policy("us-east-1:other", "authenticated").0;
        let widened = encoded(&json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]
        }));
        let boundary = AttachedPermissionsBoundary::builder()
            .permissions_boundary_arn(BOUNDARY)
            .build();
        let cases = [
            (got(&other_pool), Some(inline.as_str()), "trustPolicy"),
            (got(&trust_as_iam_returns_it()), Some(&widened), "policy"),
            (
                got(&trust_as_iam_returns_it()).path("/"),
                Some(&inline),
                "path",
            ),
            (
                got(&trust_as_iam_returns_it()).permissions_boundary(boundary),
                Some(&inline),
                "permissionsBoundary",
            ),
        ];
        for (role, policy, field) in cases {
            let obs = observe(role, policy, &sp);
            assert_eq!(drift(&Role::state(&sp), &obs.state), [field]);
        }
    }

    #[test]
    fn ownership_by_tags_unless_adopted() {
        let sp = spec(None);
        let inline = inline_as_iam_returns_it();
        let untagged = || {
            got(&trust_as_iam_returns_it())
                .set_tags(None)
                .build()
                .unwrap()
        };
        let obs = observed(&sp, &sp.name, &untagged(), Some(&inline), None).unwrap();
        assert_eq!(obs.owner, Owner::Foreign);
        assert_eq!(drift(&Role::state(&sp), &obs.state), ["tags"]);
        let adopted = observed(&sp, "x", &untagged(), Some(&inline), Some(Owner::Adopted));
        assert_eq!(adopted.unwrap().owner, Owner::Adopted);
    }

    #[test]
    fn a_document_that_is_not_one_is_an_error_naming_the_role() {
        let sp = spec(None);
        let role = got(&trust_as_iam_returns_it()).build().unwrap();
        let e = observed(&sp, &sp.name, &role, Some("%7Bnot json"), None).unwrap_err();
        assert!(e.to_string().contains("inline policy"), "{e}");
        assert!(e.to_string().contains(&sp.name), "{e}");
        let role = got(&trust_as_iam_returns_it())
            .assume_role_policy_document("")
            .build()
            .unwrap();
        let e = observed(&sp, &sp.name, &role, None, None).unwrap_err();
        assert!(e.to_string().contains("trust policy"), "{e}");
    }
}
