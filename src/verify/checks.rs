//! The checks: the roles the identity pool really hands out, read back, and what each identity
//! can reach in each bucket and API route, decided by the evaluator; then the trust lints.

use serde_json::Value;

use super::evaluate::{self, Context, Decision, NamedPolicy, Permissions, Request};
use super::lint::{self, AMR, AUD, Severity};
use super::{Api, PROBE, Report, Row, SUB, Status, Target};
use crate::aws::{Aws, AwsError};
use crate::policy::PolicyDocument;

/// A role as deployed: its trust policy, every identity policy it carries, and its
/// permissions boundary (named by its ARN).
#[derive(Debug, Clone)]
pub struct DeployedRole {
    pub name: String,
    pub trust: Value,
    pub policies: Vec<NamedPolicy>,
    pub boundary: Option<NamedPolicy>,
}

impl DeployedRole {
    /// What the role lets its identities do.
    pub fn permissions(&self) -> Permissions<'_> {
        Permissions {
            policies: &self.policies,
            boundary: self.boundary.as_ref(),
        }
    }
}

/// A managed policy's default version, named by its ARN; `None` when it has none.
async fn managed_policy(aws: &Aws, arn: &str, role: &str) -> Result<Option<NamedPolicy>, AwsError> {
    let pol = aws
        .iam
        .get_policy()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| AwsError::new("reading", "IAM policy", arn, e))?;
    let Some(version) = pol.policy().and_then(|p| p.default_version_id()) else {
        return Ok(None);
    };
    let v = aws
        .iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(version)
        .send()
        .await
        .map_err(|e| AwsError::new("reading", "IAM policy version", arn, e))?;
    v.policy_version()
        .and_then(|v| v.document())
        .map(|doc| {
            Ok(NamedPolicy {
                name: arn.to_string(),
                document: parse(doc, "managed policy", role)?,
            })
        })
        .transpose()
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
        policies.extend(managed_policy(aws, parn, &name).await?);
    }
    let boundary = match role
        .role()
        .and_then(|r| r.permissions_boundary())
        .and_then(|b| b.permissions_boundary_arn())
    {
        Some(arn) => managed_policy(aws, arn, &name).await?,
        None => None,
    };
    Ok(DeployedRole {
        name,
        trust,
        policies,
        boundary,
    })
}

/// The request context of an identity, as Cognito sets it when the role is assumed.
pub(super) fn context(t: &Target, identity_id: &str, amr: &[&str]) -> Context {
    Context::new()
        .with(SUB, identity_id)
        .with(AUD, &t.identity_pool_id)
        .with_many(AMR, amr)
}

/// An identity id of the pool's region that no one has, for "another identity's folder".
pub(super) fn other_identity(t: &Target, not: &str) -> String {
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
    perms: Permissions<'_>,
    ctx: &Context,
    actions: &[&str],
    resource: &str,
) -> Result<(bool, String), String> {
    let mut denied = None;
    let mut allowed = None;
    for a in actions {
        let d = evaluate::evaluate_role(
            perms,
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

/// One request to decide: these actions on this resource, for this identity's permissions.
#[derive(Clone, Copy)]
struct Probe<'a> {
    perms: Permissions<'a>,
    ctx: &'a Context,
    actions: &'a [&'a str],
    resource: &'a str,
}

/// (expected, ok, actual) of one check. For guests, `declared` bounds what is acceptable:
/// whatever is allowed must be declared.
fn verdict(
    p: Probe<'_>,
    want_allowed: bool,
    declared: Option<&[NamedPolicy]>,
) -> (String, bool, String) {
    let want = if want_allowed { "allowed" } else { "denied" }.to_string();
    match (declared, probe(p.perms, p.ctx, p.actions, p.resource)) {
        (_, Err(e)) => (want, false, e),
        (None, Ok((allowed, why))) => (want, allowed == want_allowed, why),
        (Some(declared), Ok((allowed, why))) => {
            let bound = probe(
                Permissions::unbounded(declared),
                p.ctx,
                p.actions,
                p.resource,
            )
            .map(|(a, _)| a)
            .unwrap_or(false);
            let expected = if bound {
                "allowed (declared)"
            } else {
                "denied (not declared)"
            };
            (expected.to_string(), !allowed || bound, why)
        }
    }
}

/// Access checks for one identity against the role's deployed policies. `declared`, for
/// guests, bounds what is acceptable: nothing beyond it.
pub(super) fn access_checks(
    report: &mut Report,
    t: &Target,
    who: &str,
    identity_id: &str,
    amr: &[&str],
    perms: Permissions<'_>,
    guest_declared: Option<&[NamedPolicy]>,
) {
    let ctx = context(t, identity_id, amr);
    let other = other_identity(t, identity_id);
    let check = |report: &mut Report,
                 label: String,
                 want_allowed: bool,
                 actions: &[&str],
                 resource: &str| {
        let probe = Probe {
            perms,
            ctx: &ctx,
            actions,
            resource,
        };
        let (expected, ok, actual) = verdict(probe, want_allowed, guest_declared);
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

pub(super) fn lint_role(report: &mut Report, t: &Target, role: &DeployedRole, amr: &str) {
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
