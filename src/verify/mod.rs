//! `stackwatch verify`: prove what each identity can reach, from the documents actually
//! deployed.
//!
//! For every `auth` resource: sign in as each declared test user through the real flow
//! (InitiateAuth USER_PASSWORD_AUTH on the client, then GetId and GetCredentialsForIdentity on
//! the identity pool), read back the roles the identity pool really hands out
//! (GetIdentityPoolRoles, GetRole, inline and attached policies, URL-decoded by `policy.rs`),
//! and evaluate them with the built-in evaluator ([`evaluate`]), with each identity's
//! variables substituted. Credentials returned by the sign-in are never used to probe access:
//! an emulator hands out fixed keys and evaluates nothing, and even on AWS a probe would
//! only prove one object. The answers come from the policies.
//!
//! Then the trust policies are linted ([`lint`]). Everything becomes one [`Report`] of rows
//! `check / expected / actual`.
//!
//! Here: which `auth` resources to check and the order of the checks; `signin` signs in,
//! `checks` reads the roles back and decides each access, `report` holds the rows.

mod checks;
pub mod evaluate;
pub mod lint;
mod report;
mod signin;

pub use checks::{DeployedRole, read_role};
use checks::{access_checks, lint_role};
pub use report::{Report, Row, Status};
pub use signin::ROLE_NOT_YET_ASSUMABLE;
use signin::sign_in;

use crate::aws::{Aws, AwsError};
use crate::config::template::Ref;
use crate::error::Error;
use crate::policy::PolicyDocument;
use crate::resource::ConfigKind;
use crate::resource::Def;
use crate::resource::Spec;
use crate::resource::auth::{Auth, AuthKind};
use crate::resource::bucket::Bucket;
use crate::resource::http_api::HttpApi;
use crate::resource::test_user::Password;
use crate::session::Session;
use evaluate::NamedPolicy;

const SUB: &str = "cognito-identity.amazonaws.com:sub";
/// The object key every probe uses; nothing is ever read or written.
const PROBE: &str = "stackwatch-verify.txt";

/// One deployed `auth` resource and what its identities should reach.
#[derive(Debug, Clone)]
pub struct Target {
    /// `AuthStack.Auth`.
    pub id: String,
    pub region: String,
    pub account: String,
    pub user_pool_id: String,
    pub client_id: String,
    pub identity_pool_id: String,
    pub allow_unauthenticated: bool,
    /// Buckets the permissions refer to: (logical id, bucket name).
    pub buckets: Vec<(String, String)>,
    /// APIs the permissions refer to.
    pub apis: Vec<Api>,
    /// Declared test users of this stage: (email, password).
    pub users: Vec<(String, Password)>,
    /// The declared guest permissions, resolved (None without guest access).
    pub declared_unauthenticated: Option<PolicyDocument>,
}

#[derive(Debug, Clone)]
pub struct Api {
    pub id: String,
    pub api_id: String,
    pub url: String,
    /// Route keys such as `GET /notes/{id}`.
    pub routes: Vec<String>,
}

/// The deployed `auth` resources (of `stack`, or of every stack), with what they refer to.
/// An auth resource that is not deployed yet is an error that says to apply first.
pub fn targets(session: &Session, stack: Option<&str>) -> Result<Vec<Target>, Error> {
    let config = &session.desired.config;
    if let Some(s) = stack
        && config.stack(s).is_none()
    {
        return Err(Error::Refused(format!(
            "stack `{s}` is not defined in {}",
            config.dir.display()
        )));
    }
    let mut out = Vec::new();
    for st in config
        .stacks
        .iter()
        .filter(|st| stack.is_none_or(|s| s == st.name))
    {
        for res in &st.resources {
            if let Some(t) = target(session, &st.name, res)? {
                out.push(t);
            }
        }
    }
    if out.is_empty() {
        return Err(Error::Refused(match stack {
            Some(s) => format!("stack `{s}` has no `auth` resource to verify"),
            None => "no stack has an `auth` resource to verify".into(),
        }));
    }
    Ok(out)
}

/// One deployed `auth` resource as a target; `None` for another kind.
fn target(
    session: &Session,
    stack: &str,
    res: &crate::config::Resource,
) -> Result<Option<Target>, Error> {
    let Some(Auth {
        allow_unauthenticated,
        authenticated,
        unauthenticated,
        ..
    }) = res.spec.get::<AuthKind>()
    else {
        return Ok(None);
    };
    let id = format!("{stack}.{}", res.name);
    let get = |a: &str| {
        session.attr(stack, &res.name, a).ok_or_else(|| {
            Error::Refused(format!(
                "{id} is not deployed (no {a} found); run `stackwatch apply` first"
            ))
        })
    };
    let templates = authenticated
        .iter()
        .chain(unauthenticated)
        .flat_map(|s| &s.resources);
    let (buckets, apis) = referenced(session, templates);
    let (users, declared_unauthenticated) = declared(session, &id);
    Ok(Some(Target {
        region: session.desired.config.region.clone(),
        account: session.snapshot.app.account.clone(),
        user_pool_id: get("userPoolId")?,
        client_id: get("userPoolClientId")?,
        identity_pool_id: get("identityPoolId")?,
        allow_unauthenticated: *allow_unauthenticated,
        buckets,
        apis,
        users,
        declared_unauthenticated,
        id,
    }))
}

/// The deployed buckets (logical id, name) and APIs the permissions' resources refer to.
fn referenced<'a>(
    session: &Session,
    templates: impl Iterator<Item = &'a crate::config::template::Template>,
) -> (Vec<(String, String)>, Vec<Api>) {
    let (mut buckets, mut apis) = (Vec::new(), Vec::<Api>::new());
    for r in templates.flat_map(|t| t.refs()) {
        let Ref::Attr {
            stack, resource, ..
        } = r
        else {
            continue;
        };
        let rid = format!("{stack}.{resource}");
        match session.desired.kind_of(stack, resource) {
            Some(k)
                if k == <Bucket as ConfigKind>::NAME && !buckets.iter().any(|(b, _)| *b == rid) =>
            {
                if let Some(name) = session.attr(stack, resource, "name") {
                    buckets.push((rid, name));
                }
            }
            Some(k) if k == <HttpApi as ConfigKind>::NAME && !apis.iter().any(|a| a.id == rid) => {
                if let Some(api_id) = session.attr(stack, resource, "id") {
                    apis.push(Api {
                        id: rid,
                        api_id,
                        url: session.attr(stack, resource, "url").unwrap_or_default(),
                        routes: route_keys(session, stack, resource),
                    });
                }
            }
            _ => {}
        }
    }
    (buckets, apis)
}

/// The route keys an `api` declares.
fn route_keys(session: &Session, stack: &str, resource: &str) -> Vec<String> {
    let config = &session.desired.config;
    config
        .stack(stack)
        .and_then(|s| s.resources.iter().find(|r| r.name == *resource))
        .and_then(|r| r.spec.get::<HttpApi>())
        .map(|api| api.routes.iter().map(|r| r.key.clone()).collect())
        .unwrap_or_default()
}

/// An `auth` resource's test users (email, password) in this stage, and its guest role's
/// declared policy.
fn declared(session: &Session, id: &str) -> (Vec<(String, Password)>, Option<PolicyDocument>) {
    let prefix = format!("{id}.");
    let mut users = Vec::new();
    let mut declared_unauthenticated = None;
    let attrs = session.snapshot.attrs();
    for (i, node) in session.desired.nodes.iter().enumerate() {
        if !node.id.starts_with(&prefix) {
            continue;
        }
        match &node.def {
            Def::TestUser(u) => users.push((u.email.clone(), u.password.clone())),
            Def::Role(r) if r.amr == "unauthenticated" => {
                if let (Spec::Role(r), _) =
                    session.desired.resolve(i, &session.snapshot.app, &attrs)
                {
                    declared_unauthenticated = r.policy;
                }
            }
            _ => {}
        }
    }
    (users, declared_unauthenticated)
}

/// The roles the identity pool really hands out, by kind (`authenticated`, `unauthenticated`).
async fn attached_roles(
    aws: &crate::aws::Aws,
    t: &Target,
) -> Result<std::collections::HashMap<String, String>, AwsError> {
    let roles = aws
        .identity
        .get_identity_pool_roles()
        .identity_pool_id(&t.identity_pool_id)
        .send()
        .await
        .map_err(|e| {
            AwsError::new(
                "reading roles of",
                "Cognito identity pool",
                &t.identity_pool_id,
                e,
            )
        })?;
    Ok(roles.roles().cloned().unwrap_or_default())
}

/// The `amr` values of a signed-in identity of `t` whose user has `sub`.
fn auth_amr(t: &Target, sub: &str) -> Vec<String> {
    vec![
        "authenticated".to_string(),
        format!("cognito-idp.{}.amazonaws.com/{}", t.region, t.user_pool_id),
        format!(
            "cognito-idp.{}.amazonaws.com/{}:CognitoSignIn:{sub}",
            t.region, t.user_pool_id
        ),
    ]
}

/// What the signed-in `identity` of `email` can reach under `policies`, into `report`.
fn signed_in_checks(
    report: &mut Report,
    t: &Target,
    email: &str,
    identity: &signin::Identity,
    perms: evaluate::Permissions<'_>,
) {
    let amr = auth_amr(t, &identity.user_sub);
    let amr: Vec<&str> = amr.iter().map(String::as_str).collect();
    access_checks(report, t, email, &identity.identity_id, &amr, perms, None);
}

/// One user's sign-in and what its identity can reach: the console's "Sign in as".
#[derive(Debug, Clone)]
pub struct Access {
    /// The `auth` resource, such as `AuthStack.Auth`.
    pub auth: String,
    pub email: String,
    /// Signed in, or why not (Cognito's answer).
    pub outcome: Result<SignedIn, String>,
}

/// A signed-in identity: never its keys.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub identity_id: String,
    /// When its credentials expire (RFC 3339).
    pub expires: Option<String>,
    /// What it can reach in each bucket and API route its permissions name, decided from the
    /// deployed policies by the same evaluator as `verify`.
    pub report: Report,
}

/// Signs in as `email` to the `auth` resource of `stack` (the only one, without a stack) by the
/// same flow as [`run`], and decides what its identity can reach.
pub async fn sign_in_as(
    session: &Session,
    stack: Option<&str>,
    email: &str,
    password: &Password,
) -> Result<Access, Error> {
    let mut all = targets(session, stack)?;
    if all.len() != 1 {
        return Err(Error::Refused(format!(
            "{} auth resources{}: name the stack",
            all.len(),
            stack.map_or_else(String::new, |s| format!(" in {s}"))
        )));
    }
    let t = all.remove(0);
    let aws = &session.aws;
    let roles = attached_roles(aws, &t).await?;
    let Some(auth_arn) = roles.get("authenticated") else {
        return Ok(Access {
            auth: t.id.clone(),
            email: email.to_string(),
            outcome: Err(format!("{}: no authenticated role is attached", t.id)),
        });
    };
    let role = read_role(aws, auth_arn).await?;
    let outcome = match sign_in(aws, &t, email, password).await {
        Err(why) => Err(why),
        Ok(identity) => {
            let mut report = Report::default();
            signed_in_checks(&mut report, &t, email, &identity, role.permissions());
            Ok(SignedIn {
                identity_id: identity.identity_id,
                expires: identity.expires,
                report,
            })
        }
    };
    Ok(Access {
        auth: t.id.clone(),
        email: email.to_string(),
        outcome,
    })
}

/// Runs every check for the selected `auth` resources.
pub async fn run(session: &Session, stack: Option<&str>) -> Result<Report, Error> {
    let aws = &session.aws;
    let mut report = Report::default();
    for t in targets(session, stack)? {
        let roles = attached_roles(aws, &t).await?;
        let Some(auth_arn) = roles.get("authenticated") else {
            report.push(
                false,
                format!("{}: authenticated role attached", t.id),
                "a role",
                "none",
            );
            continue;
        };
        let auth = read_role(aws, auth_arn).await?;
        // 1. Sign in, and 2. effective access of each signed-in identity.
        signed_in_rows(&mut report, aws, &t, &auth).await;
        // Guests: nothing beyond what is declared.
        guest_rows(&mut report, aws, &t, roles.get("unauthenticated")).await?;
        // 3. Lints.
        lint_role(&mut report, &t, &auth, "authenticated");
    }
    Ok(report)
}

/// Each test user signs in, and what its identity reaches; without test users, a made-up
/// identity's reach (with a warning).
async fn signed_in_rows(report: &mut Report, aws: &Aws, t: &Target, auth: &DeployedRole) {
    if t.users.is_empty() {
        report.rows.push(Row {
            status: Status::Warn,
            check: format!("{}: test users", t.id),
            expected: "at least one".into(),
            actual: "none declared for this stage; checking a made-up identity".into(),
        });
        let id = format!("{}:00000000-0000-4000-8000-00000000000a", t.region);
        let amr = auth_amr(t, "unknown");
        let amr: Vec<&str> = amr.iter().map(String::as_str).collect();
        let who = "signed-in identity";
        access_checks(report, t, who, &id, &amr, auth.permissions(), None);
    }
    for (email, password) in &t.users {
        match sign_in(aws, t, email, password).await {
            Ok(identity) => {
                report.push(
                    true,
                    format!("{email}: sign in (InitiateAuth, GetId, GetCredentialsForIdentity)"),
                    "credentials",
                    format!("identity {}", identity.identity_id),
                );
                signed_in_checks(report, t, email, &identity, auth.permissions());
            }
            Err(why) => report.push(false, format!("{email}: sign in"), "credentials", why),
        }
    }
}

/// The guest role: none unless allowed, and then nothing beyond what is declared.
async fn guest_rows(
    report: &mut Report,
    aws: &Aws,
    t: &Target,
    guest_arn: Option<&String>,
) -> Result<(), Error> {
    let check = format!("{}: guest role", t.id);
    let Some(arn) = guest_arn else {
        match t.allow_unauthenticated {
            false => report.push(true, check, "none (allowUnauthenticated: false)", "none"),
            true => report.push(false, check, "a role", "none attached"),
        }
        return Ok(());
    };
    let guest = read_role(aws, arn).await?;
    if !t.allow_unauthenticated {
        let found = format!("{} attached", guest.name);
        report.push(false, check, "none (allowUnauthenticated: false)", found);
    }
    let declared: Vec<NamedPolicy> = t
        .declared_unauthenticated
        .iter()
        .map(|d| NamedPolicy {
            name: "declared".into(),
            document: d.0.clone(),
        })
        .collect();
    let id = format!("{}:00000000-0000-4000-8000-00000000000b", t.region);
    let amr = ["unauthenticated"];
    access_checks(
        report,
        t,
        "guest",
        &id,
        &amr,
        guest.permissions(),
        Some(&declared),
    );
    lint_role(report, t, &guest, "unauthenticated");
    Ok(())
}
