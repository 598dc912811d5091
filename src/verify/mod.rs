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

pub mod evaluate;
pub mod lint;

use std::fmt::Write as _;

use aws_sdk_cognitoidentityprovider::types::AuthFlowType;
use serde_json::Value;

use crate::aws::{self, Aws, AwsError, RetryWhen};
use crate::config::template::Ref;
use crate::config::{Kind, ResourceSpec};
use crate::error::Error;
use crate::policy::PolicyDocument;
use crate::resource::Def;
use crate::resource::Spec;
use crate::resource::test_user::Password;
use crate::session::Session;
use evaluate::{Context, Decision, NamedPolicy, Request};
use lint::{AMR, AUD, Severity};

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
            let ResourceSpec::Auth {
                allow_unauthenticated,
                authenticated,
                unauthenticated,
                ..
            } = &res.spec
            else {
                continue;
            };
            let id = format!("{}.{}", st.name, res.name);
            let get = |a: &str| {
                session.attr(&st.name, &res.name, a).ok_or_else(|| {
                    Error::Refused(format!(
                        "{id} is not deployed (no {a} found); run `stackwatch apply` first"
                    ))
                })
            };
            let (mut buckets, mut apis) = (Vec::new(), Vec::<Api>::new());
            for t in authenticated
                .iter()
                .chain(unauthenticated)
                .flat_map(|s| &s.resources)
            {
                for r in t.refs() {
                    let Ref::Attr {
                        stack, resource, ..
                    } = r
                    else {
                        continue;
                    };
                    let rid = format!("{stack}.{resource}");
                    match session.desired.kind_of(stack, resource) {
                        Some(Kind::Bucket) if !buckets.iter().any(|(b, _)| *b == rid) => {
                            if let Some(name) = session.attr(stack, resource, "name") {
                                buckets.push((rid, name));
                            }
                        }
                        Some(Kind::Api) if !apis.iter().any(|a| a.id == rid) => {
                            let routes = config
                                .stack(stack)
                                .and_then(|s| s.resources.iter().find(|r| r.name == *resource))
                                .map(|r| match &r.spec {
                                    ResourceSpec::Api { routes, .. } => {
                                        routes.iter().map(|r| r.key.clone()).collect()
                                    }
                                    _ => Vec::new(),
                                })
                                .unwrap_or_default();
                            if let Some(api_id) = session.attr(stack, resource, "id") {
                                apis.push(Api {
                                    id: rid,
                                    api_id,
                                    url: session.attr(stack, resource, "url").unwrap_or_default(),
                                    routes,
                                });
                            }
                        }
                        _ => {}
                    }
                }
            }
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
            out.push(Target {
                region: config.region.clone(),
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
            });
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    Warn,
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Row {
    pub status: Status,
    pub check: String,
    pub expected: String,
    pub actual: String,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub rows: Vec<Row>,
}

impl Report {
    fn push(
        &mut self,
        ok: bool,
        check: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) {
        self.rows.push(Row {
            status: if ok { Status::Pass } else { Status::Fail },
            check: check.into(),
            expected: expected.into(),
            actual: actual.into(),
        });
    }

    pub fn failures(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.status == Status::Fail)
            .count()
    }

    pub fn warnings(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.status == Status::Warn)
            .count()
    }

    /// The table: one row per check, ✓ / ✗ / ! first, then a summary line.
    pub fn table(&self) -> String {
        let w_check = self
            .rows
            .iter()
            .map(|r| r.check.chars().count())
            .max()
            .unwrap_or(5)
            .max(5);
        let w_exp = self
            .rows
            .iter()
            .map(|r| r.expected.chars().count())
            .max()
            .unwrap_or(8)
            .max(8);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "  {:<w_check$}  {:<w_exp$}  ACTUAL",
            "CHECK", "EXPECTED"
        );
        for r in &self.rows {
            let mark = match r.status {
                Status::Pass => '✓',
                Status::Fail => '✗',
                Status::Warn => '!',
            };
            let _ = writeln!(
                out,
                "{mark} {:<w_check$}  {:<w_exp$}  {}",
                r.check, r.expected, r.actual
            );
        }
        let _ = writeln!(
            out,
            "\n{} checks: {} passed, {} failed, {} warnings",
            self.rows.len(),
            self.rows
                .iter()
                .filter(|r| r.status == Status::Pass)
                .count(),
            self.failures(),
            self.warnings()
        );
        out
    }
}

/// A role as deployed: its trust policy and every identity policy it carries.
#[derive(Debug, Clone)]
pub struct DeployedRole {
    pub name: String,
    pub trust: Value,
    pub policies: Vec<NamedPolicy>,
}

fn parse(text: &str, what: &str, role: &str) -> Result<Value, AwsError> {
    PolicyDocument::parse_wire(text).map(|d| d.0).map_err(|e| {
        AwsError::refused(
            "reading",
            "IAM role",
            role,
            format!("its {what} is not a policy document: {e}"),
        )
    })
}

/// Right after its roles are created or attached, Cognito identity may not yet be able to
/// assume them: "InvalidIdentityPoolConfigurationException: Invalid identity pool
/// configuration. Check assigned IAM roles for this pool." AWS gives the same answer for a role
/// whose trust policy will never let Cognito in, so the retry is capped by `aws::retry`.
pub const ROLE_NOT_YET_ASSUMABLE: RetryWhen = RetryWhen {
    name: "identity pool roles not yet assumable",
    matches: |e| e.is("InvalidIdentityPoolConfigurationException"),
};

/// Reads a role back: GetRole (trust), every inline policy, every attached managed policy's
/// default version.
pub async fn read_role(aws: &Aws, arn: &str) -> Result<DeployedRole, AwsError> {
    let name = arn.rsplit('/').next().unwrap_or(arn).to_string();
    let kind = "IAM role";
    let role = aws
        .iam
        .get_role()
        .role_name(&name)
        .send()
        .await
        .map_err(|e| AwsError::new("reading", kind, &name, e))?;
    let trust = role
        .role()
        .and_then(|r| r.assume_role_policy_document())
        .map(|t| parse(t, "trust policy", &name))
        .transpose()?
        .unwrap_or(Value::Null);
    let mut policies = Vec::new();
    let inline = aws
        .iam
        .list_role_policies()
        .role_name(&name)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::new("listing inline policies of", kind, &name, e))?;
    for p in &inline {
        let out = aws
            .iam
            .get_role_policy()
            .role_name(&name)
            .policy_name(p)
            .send()
            .await
            .map_err(|e| AwsError::new("reading inline policy of", kind, &name, e))?;
        policies.push(NamedPolicy {
            name: p.clone(),
            document: parse(out.policy_document(), "inline policy", &name)?,
        });
    }
    let attached = aws
        .iam
        .list_attached_role_policies()
        .role_name(&name)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::new("listing attached policies of", kind, &name, e))?;
    for p in &attached {
        let Some(parn) = p.policy_arn() else { continue };
        let pol = aws
            .iam
            .get_policy()
            .policy_arn(parn)
            .send()
            .await
            .map_err(|e| AwsError::new("reading", "IAM policy", parn, e))?;
        let Some(version) = pol.policy().and_then(|p| p.default_version_id()) else {
            continue;
        };
        let v = aws
            .iam
            .get_policy_version()
            .policy_arn(parn)
            .version_id(version)
            .send()
            .await
            .map_err(|e| AwsError::new("reading", "IAM policy version", parn, e))?;
        if let Some(doc) = v.policy_version().and_then(|v| v.document()) {
            policies.push(NamedPolicy {
                name: parn.to_string(),
                document: parse(doc, "managed policy", &name)?,
            });
        }
    }
    Ok(DeployedRole {
        name,
        trust,
        policies,
    })
}

/// A signed-in identity.
#[derive(Debug, Clone)]
struct Identity {
    identity_id: String,
    /// The user pool `sub` of the user.
    user_sub: String,
}

/// The real sign-in flow: InitiateAuth (USER_PASSWORD_AUTH) → GetId → GetCredentialsForIdentity.
async fn sign_in(
    aws: &Aws,
    t: &Target,
    email: &str,
    password: &Password,
) -> Result<Identity, String> {
    let auth = aws
        .idp
        .initiate_auth()
        .client_id(&t.client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", email)
        .auth_parameters("PASSWORD", password.expose())
        .send()
        .await
        .map_err(|e| {
            format!(
                "InitiateAuth: {}",
                AwsError::new("signing in", "Cognito test user", email, e).api
            )
        })?;
    if let Some(c) = auth.challenge_name() {
        return Err(format!(
            "InitiateAuth answered with the challenge {} instead of tokens",
            c.as_str()
        ));
    }
    let token = auth
        .authentication_result()
        .and_then(|r| r.id_token())
        .ok_or("InitiateAuth returned no ID token")?
        .to_string();
    let provider = format!("cognito-idp.{}.amazonaws.com/{}", t.region, t.user_pool_id);
    let id = aws
        .identity
        .get_id()
        .identity_pool_id(&t.identity_pool_id)
        .logins(&provider, &token)
        .send()
        .await
        .map_err(|e| {
            format!(
                "GetId: {}",
                AwsError::new(
                    "getting an identity for",
                    "Cognito identity pool",
                    &t.identity_pool_id,
                    e
                )
                .api
            )
        })?;
    let identity_id = id
        .identity_id()
        .ok_or("GetId returned no identity id")?
        .to_string();
    let creds = aws::retry(ROLE_NOT_YET_ASSUMABLE, || async {
        aws.identity
            .get_credentials_for_identity()
            .identity_id(&identity_id)
            .logins(&provider, &token)
            .send()
            .await
            .map_err(|e| {
                AwsError::new(
                    "getting credentials for",
                    "Cognito identity",
                    &identity_id,
                    e,
                )
            })
    })
    .await
    .map_err(|e| format!("GetCredentialsForIdentity: {}", e.api))?;
    if creds
        .credentials()
        .and_then(|c| c.access_key_id())
        .is_none()
    {
        return Err("GetCredentialsForIdentity returned no credentials".into());
    }
    Ok(Identity {
        identity_id,
        user_sub: jwt_sub(&token).unwrap_or_default(),
    })
}

/// The `sub` claim of a JWT, read without verification (only to fill in `amr`).
fn jwt_sub(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64url(payload)?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.get("sub")?.as_str().map(str::to_string)
}

fn base64url(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The request context of an identity, as Cognito sets it when the role is assumed.
fn context(t: &Target, identity_id: &str, amr: &[&str]) -> Context {
    Context::new()
        .with(SUB, identity_id)
        .with(AUD, &t.identity_pool_id)
        .with_many(AMR, amr)
}

/// An identity id of the pool's region that no one has, for "another identity's folder".
fn other_identity(t: &Target, not: &str) -> String {
    let a = format!("{}:00000000-0000-4000-8000-000000000001", t.region);
    if a == not {
        format!("{}:00000000-0000-4000-8000-000000000002", t.region)
    } else {
        a
    }
}

const OBJECT_ACTIONS: [&str; 3] = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"];

/// Evaluates `actions` on `resource`: the first allowed one (with why), else the first denial.
fn probe(
    policies: &[NamedPolicy],
    ctx: &Context,
    actions: &[&str],
    resource: &str,
) -> Result<(bool, String), String> {
    let mut denied = None;
    let mut allowed = None;
    for a in actions {
        let d = evaluate::evaluate(
            policies,
            &Request {
                action: a,
                resource,
                context: ctx,
            },
        )
        .map_err(|e| e.to_string())?;
        match d {
            Decision::Allow(_) => {
                allowed.get_or_insert(format!("{a} {d}"));
            }
            _ => {
                denied.get_or_insert(format!("{a} {d}"));
            }
        }
    }
    Ok(match (allowed, denied) {
        (Some(a), _) => (true, a),
        (None, Some(d)) => (false, d),
        (None, None) => (false, "denied".into()),
    })
}

/// The API Gateway ARN a route is invoked as: `arn:aws:execute-api:region:account:api/$default/GET/notes/x`.
fn route_arn(t: &Target, api: &Api, route: &str) -> String {
    let (method, path) = route.split_once(' ').unwrap_or(("GET", route));
    let method = if method == "ANY" { "GET" } else { method };
    let path: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(|seg| {
            if seg.starts_with('{') {
                "stackwatch-verify".to_string()
            } else {
                seg.to_string()
            }
        })
        .collect();
    format!(
        "arn:{}:execute-api:{}:{}:{}/$default/{method}/{}",
        crate::resource::partition(&t.region),
        t.region,
        t.account,
        api.api_id,
        path.join("/")
    )
}

/// Access checks for one identity against the role's deployed policies. `declared`, for
/// guests, bounds what is acceptable: nothing beyond it.
fn access_checks(
    report: &mut Report,
    t: &Target,
    who: &str,
    identity_id: &str,
    amr: &[&str],
    policies: &[NamedPolicy],
    guest_declared: Option<&[NamedPolicy]>,
) {
    let ctx = context(t, identity_id, amr);
    let other = other_identity(t, identity_id);
    let check = |report: &mut Report,
                 label: String,
                 want_allowed: bool,
                 actions: &[&str],
                 resource: &str| {
        let actual = probe(policies, &ctx, actions, resource);
        let (expected, ok, actual) = match (guest_declared, actual) {
            (_, Err(e)) => (
                if want_allowed { "allowed" } else { "denied" }.to_string(),
                false,
                e,
            ),
            (None, Ok((allowed, why))) => (
                if want_allowed { "allowed" } else { "denied" }.to_string(),
                allowed == want_allowed,
                why,
            ),
            (Some(declared), Ok((allowed, why))) => {
                let bound = probe(declared, &ctx, actions, resource)
                    .map(|(a, _)| a)
                    .unwrap_or(false);
                (
                    if bound {
                        "allowed (declared)"
                    } else {
                        "denied (not declared)"
                    }
                    .to_string(),
                    !allowed || bound,
                    why,
                )
            }
        };
        report.push(ok, label, expected, actual);
    };
    for (bid, bucket) in &t.buckets {
        let p = crate::resource::partition(&t.region);
        let own = format!("arn:{p}:s3:::{bucket}/private/{identity_id}/{PROBE}");
        let theirs = format!("arn:{p}:s3:::{bucket}/private/{other}/{PROBE}");
        let root = format!("arn:{p}:s3:::{bucket}/{PROBE}");
        check(
            report,
            format!("{who}: Get/Put/Delete private/<own id>/… in {bid}"),
            true,
            &OBJECT_ACTIONS,
            &own,
        );
        check(
            report,
            format!("{who}: Get/Put/Delete another identity's folder in {bid}"),
            false,
            &OBJECT_ACTIONS,
            &theirs,
        );
        check(
            report,
            format!("{who}: Get/Put/Delete the root of {bid}"),
            false,
            &OBJECT_ACTIONS,
            &root,
        );
    }
    for api in &t.apis {
        for route in &api.routes {
            check(
                report,
                format!("{who}: invoke {route} on {}", api.id),
                true,
                &["execute-api:Invoke"],
                &route_arn(t, api, route),
            );
        }
    }
}

/// Runs every check for the selected `auth` resources.
pub async fn run(session: &Session, stack: Option<&str>) -> Result<Report, Error> {
    let aws = &session.aws;
    let mut report = Report::default();
    for t in targets(session, stack)? {
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
        let roles = roles.roles().cloned().unwrap_or_default();
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
        let auth_amr_ctx = |sub: &str| {
            vec![
                "authenticated".to_string(),
                format!("cognito-idp.{}.amazonaws.com/{}", t.region, t.user_pool_id),
                format!(
                    "cognito-idp.{}.amazonaws.com/{}:CognitoSignIn:{sub}",
                    t.region, t.user_pool_id
                ),
            ]
        };

        // 1. Sign in, and 2. effective access of each signed-in identity.
        if t.users.is_empty() {
            report.rows.push(Row {
                status: Status::Warn,
                check: format!("{}: test users", t.id),
                expected: "at least one".into(),
                actual: "none declared for this stage; checking a made-up identity".into(),
            });
            let id = format!("{}:00000000-0000-4000-8000-00000000000a", t.region);
            let amr = auth_amr_ctx("unknown");
            let amr: Vec<&str> = amr.iter().map(String::as_str).collect();
            access_checks(
                &mut report,
                &t,
                "signed-in identity",
                &id,
                &amr,
                &auth.policies,
                None,
            );
        }
        for (email, password) in &t.users {
            match sign_in(aws, &t, email, password).await {
                Ok(identity) => {
                    report.push(
                        true,
                        format!(
                            "{email}: sign in (InitiateAuth, GetId, GetCredentialsForIdentity)"
                        ),
                        "credentials",
                        format!("identity {}", identity.identity_id),
                    );
                    let amr = auth_amr_ctx(&identity.user_sub);
                    let amr: Vec<&str> = amr.iter().map(String::as_str).collect();
                    access_checks(
                        &mut report,
                        &t,
                        email,
                        &identity.identity_id,
                        &amr,
                        &auth.policies,
                        None,
                    );
                }
                Err(why) => report.push(false, format!("{email}: sign in"), "credentials", why),
            }
        }

        // Guests: nothing beyond what is declared.
        match (roles.get("unauthenticated"), t.allow_unauthenticated) {
            (None, false) => report.push(
                true,
                format!("{}: guest role", t.id),
                "none (allowUnauthenticated: false)",
                "none",
            ),
            (None, true) => report.push(
                false,
                format!("{}: guest role", t.id),
                "a role",
                "none attached",
            ),
            (Some(arn), allowed) => {
                let guest = read_role(aws, arn).await?;
                if !allowed {
                    report.push(
                        false,
                        format!("{}: guest role", t.id),
                        "none (allowUnauthenticated: false)",
                        format!("{} attached", guest.name),
                    );
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
                access_checks(
                    &mut report,
                    &t,
                    "guest",
                    &id,
                    &["unauthenticated"],
                    &guest.policies,
                    Some(&declared),
                );
                lint_role(&mut report, &t, &guest, "unauthenticated");
            }
        }

        // 3. Lints.
        lint_role(&mut report, &t, &auth, "authenticated");
    }
    Ok(report)
}

fn lint_role(report: &mut Report, t: &Target, role: &DeployedRole, amr: &str) {
    let findings = lint::trust(&role.name, &role.trust, &t.identity_pool_id, amr);
    if findings.is_empty() {
        report.push(
            true,
            format!("{} trust: aud, amr, principal", role.name),
            format!("this pool, {amr} only"),
            "ok",
        );
    }
    for f in findings.into_iter().chain(lint::permissions(
        &role.name,
        amr == "unauthenticated",
        &role.policies,
    )) {
        report.rows.push(Row {
            status: match f.severity {
                Severity::Error => Status::Fail,
                Severity::Warning => Status::Warn,
            },
            check: f.check,
            expected: match f.severity {
                Severity::Error => "present and exact".into(),
                Severity::Warning => "narrower".into(),
            },
            actual: f.message,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwt_sub_reads_the_claim() {
        // {"sub":"abc-123"} base64url, no padding.
        assert_eq!(
            jwt_sub("x.eyJzdWIiOiJhYmMtMTIzIn0.y").as_deref(),
            Some("abc-123")
        );
        assert_eq!(jwt_sub("garbage"), None);
    }

    #[test]
    fn route_arns_follow_api_gateway() {
        let t = Target {
            id: "A.Auth".into(),
            region: "us-east-1".into(),
            account: "123456789012".into(),
            user_pool_id: String::new(),
            client_id: String::new(),
            identity_pool_id: String::new(),
            allow_unauthenticated: false,
            buckets: vec![],
            apis: vec![],
            users: vec![],
            declared_unauthenticated: None,
        };
        let api = Api {
            id: "ApiStack.Api".into(),
            api_id: "abc".into(),
            url: String::new(),
            routes: vec![],
        };
        assert_eq!(
            route_arn(&t, &api, "GET /notes/{id}"),
            "arn:aws:execute-api:us-east-1:123456789012:abc/$default/GET/notes/stackwatch-verify"
        );
        let cn = Target {
            region: "cn-north-1".into(),
            ..t
        };
        assert_eq!(
            route_arn(&cn, &api, "POST /notes"),
            "arn:aws-cn:execute-api:cn-north-1:123456789012:abc/$default/POST/notes"
        );
    }
}
