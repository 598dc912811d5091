//! Lints for the IAM documents of Cognito identity roles, as deployed.
//!
//! Trust policies (errors): every statement that lets a principal assume the role must be
//! limited to this identity pool (`cognito-identity.amazonaws.com:aud`) and to the right kind
//! of identity (`cognito-identity.amazonaws.com:amr`), and must not name a wildcard principal.
//! Without `aud`, identities of *any* identity pool, in any account, could assume the role.
//!
//! Permission policies (warnings): write access for unauthenticated identities, and
//! `Resource: "*"` on data-plane actions (objects, items, API calls, messages, secrets).

use serde_json::Value;

use super::evaluate::{NamedPolicy, action_matches, statements, strings};

pub const AUD: &str = "cognito-identity.amazonaws.com:aud";
pub const AMR: &str = "cognito-identity.amazonaws.com:amr";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in a role's documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    /// What was checked, for the table's first column.
    pub check: String,
    /// What was found, naming the policy and statement.
    pub message: String,
}

/// Actions whose name starts with one of these change something.
const WRITE_VERBS: &[&str] = &[
    "Put",
    "Delete",
    "Create",
    "Update",
    "Write",
    "Upload",
    "Attach",
    "Detach",
    "Set",
    "Tag",
    "Untag",
    "Modify",
    "Restore",
    "Replace",
    "Post",
    "Send",
    "Publish",
    "Abort",
    "Remove",
    "Add",
    "Batch",
    "Copy",
    "Terminate",
];

/// Samples of data-plane actions: reading or writing the data itself rather than configuring
/// the service.
const DATA_PLANE: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:ListBucket",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "execute-api:Invoke",
    "lambda:InvokeFunction",
    "sqs:SendMessage",
    "sqs:ReceiveMessage",
    "sns:Publish",
    "kinesis:PutRecord",
    "kms:Decrypt",
    "secretsmanager:GetSecretValue",
    "ssm:GetParameter",
];

/// The trust policy of a role that identities of `identity_pool_id` with `amr` assume.
pub fn trust(role: &str, doc: &Value, identity_pool_id: &str, amr: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut error = |check: &str, message: String| {
        out.push(Finding {
            severity: Severity::Error,
            check: format!("{role} trust: {check}"),
            message,
        })
    };
    for (i, st) in statements(doc).into_iter().enumerate() {
        if st.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        let actions = strings(st.get("Action"));
        let assumes = st.get("NotAction").is_some()
            || actions
                .iter()
                .any(|a| action_matches(a, "sts:AssumeRoleWithWebIdentity"));
        if !assumes {
            continue;
        }
        let at = format!("Statement[{i}]");
        if wildcard_principal(st.get("Principal")) || st.get("NotPrincipal").is_some() {
            error(
                "principal",
                format!("{at} lets any principal assume the role (wildcard principal)"),
            );
        }
        let cond = st.get("Condition");
        match condition_values(cond, AUD) {
            None => error(
                "aud condition",
                format!(
                    "{at} has no `{AUD}` condition: identities of any identity pool could assume the role"
                ),
            ),
            Some(v) if v.iter().any(|v| v.contains('*') || v.contains('?')) => error(
                "aud condition",
                format!("{at} matches `{AUD}` with a wildcard ({})", v.join(", ")),
            ),
            Some(v) if !v.iter().any(|v| v == identity_pool_id) => error(
                "aud condition",
                format!(
                    "{at} limits `{AUD}` to {}, not this identity pool ({identity_pool_id})",
                    v.join(", ")
                ),
            ),
            Some(_) => {}
        }
        match condition_values(cond, AMR) {
            None => error(
                "amr condition",
                format!(
                    "{at} has no `{AMR}` condition: {} identities could assume the role",
                    if amr == "authenticated" {
                        "unauthenticated (guest)"
                    } else {
                        "authenticated"
                    }
                ),
            ),
            Some(v) if !v.iter().all(|v| v == amr) => error(
                "amr condition",
                format!(
                    "{at} allows `{AMR}` {} where only `{amr}` belongs",
                    v.join(", ")
                ),
            ),
            Some(_) => {}
        }
    }
    out
}

fn wildcard_principal(p: Option<&Value>) -> bool {
    match p {
        Some(Value::String(s)) => s == "*",
        Some(Value::Object(m)) => m
            .values()
            .any(|v| strings(Some(v)).iter().any(|s| s == "*")),
        _ => false,
    }
}

/// The values a condition key is required to have, under a positive string operator.
fn condition_values(cond: Option<&Value>, key: &str) -> Option<Vec<String>> {
    let Some(Value::Object(ops)) = cond else {
        return None;
    };
    let mut found: Option<Vec<String>> = None;
    for (op, block) in ops {
        let base = op.rsplit(':').next().unwrap_or(op);
        let positive = (base.starts_with("StringEquals") || base.starts_with("StringLike"))
            && !base.contains("Not")
            && !base.ends_with("IfExists");
        let Value::Object(keys) = block else { continue };
        if !positive {
            continue;
        }
        for (k, v) in keys {
            if k.eq_ignore_ascii_case(key) {
                found.get_or_insert_with(Vec::new).extend(strings(Some(v)));
            }
        }
    }
    found
}

/// An action (or a pattern that can match one) whose name starts with a write verb.
fn writes(pattern: &str) -> bool {
    let (service, name) = match pattern.split_once(':') {
        Some((s, n)) if !s.contains(['*', '?']) => (s, n),
        Some((_, n)) => ("s3", n),
        None => ("s3", pattern),
    };
    let lower = name.to_lowercase();
    WRITE_VERBS.iter().any(|v| {
        lower.starts_with(&v.to_lowercase())
            || action_matches(pattern, &format!("{service}:{v}Sample"))
    })
}

fn data_plane(pattern: &str) -> bool {
    DATA_PLANE.iter().any(|a| action_matches(pattern, a))
}

/// Warnings for a role's permission policies.
pub fn permissions(role: &str, unauthenticated: bool, policies: &[NamedPolicy]) -> Vec<Finding> {
    let mut out = Vec::new();
    for p in policies {
        for (i, st) in statements(&p.document).into_iter().enumerate() {
            if st.get("Effect").and_then(Value::as_str) != Some("Allow") {
                continue;
            }
            let at = format!("policy `{}` Statement[{i}]", p.name);
            let actions = strings(st.get("Action"));
            // NotAction with Allow grants everything not listed: treat as every action.
            let actions = if st.get("NotAction").is_some() {
                vec!["*".to_string()]
            } else {
                actions
            };
            if unauthenticated {
                let w: Vec<&String> = actions.iter().filter(|a| writes(a)).collect();
                if !w.is_empty() {
                    out.push(Finding {
                        severity: Severity::Warning,
                        check: format!("{role}: guest write access"),
                        message: format!(
                            "{at} lets unauthenticated identities write ({})",
                            join(&w)
                        ),
                    });
                }
            }
            let any_resource = st.get("NotResource").is_some()
                || strings(st.get("Resource")).iter().any(|r| r == "*");
            let d: Vec<&String> = actions.iter().filter(|a| data_plane(a)).collect();
            if any_resource && !d.is_empty() {
                out.push(Finding {
                    severity: Severity::Warning,
                    check: format!("{role}: Resource \"*\""),
                    message: format!(
                        "{at} allows data-plane actions ({}) on every resource",
                        join(&d)
                    ),
                });
            }
        }
    }
    out
}

fn join(v: &[&String]) -> String {
    v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn trust_doc(cond: Value, principal: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": principal,
            "Action": "sts:AssumeRoleWithWebIdentity", "Condition": cond}]})
    }

    fn fed() -> Value {
        json!({"Federated": "cognito-identity.amazonaws.com"})
    }

    #[test]
    fn the_trust_stackwatch_writes_is_clean() {
        let doc = crate::resource::role::trust_policy("us-east-1:pool", "authenticated").0;
        assert_eq!(
            trust("auth", &doc, "us-east-1:pool", "authenticated"),
            vec![]
        );
    }

    #[test]
    fn trust_problems_are_errors() {
        let amr = json!({"ForAnyValue:StringLike": {AMR: "authenticated"}});
        let f = trust(
            "auth",
            &trust_doc(amr, fed()),
            "us-east-1:pool",
            "authenticated",
        );
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message
                .contains("no `cognito-identity.amazonaws.com:aud`"),
            "{f:?}"
        );

        let aud = json!({"StringEquals": {AUD: "us-east-1:pool"}});
        let f = trust(
            "auth",
            &trust_doc(aud, fed()),
            "us-east-1:pool",
            "authenticated",
        );
        assert!(
            f[0].message
                .contains("no `cognito-identity.amazonaws.com:amr`"),
            "{f:?}"
        );

        let both = json!({"StringEquals": {AUD: "us-east-1:other"},
                          "ForAnyValue:StringLike": {AMR: ["authenticated", "unauthenticated"]}});
        let f = trust(
            "auth",
            &trust_doc(both, json!("*")),
            "us-east-1:pool",
            "authenticated",
        );
        let checks: Vec<&str> = f.iter().map(|f| f.check.as_str()).collect();
        assert_eq!(
            checks,
            [
                "auth trust: principal",
                "auth trust: aud condition",
                "auth trust: amr condition"
            ]
        );
        assert!(f.iter().all(|f| f.severity == Severity::Error));
    }

    #[test]
    fn permission_warnings() {
        let p = |st: Value| {
            vec![NamedPolicy {
                name: "stackwatch".into(),
                document: json!({"Version": "2012-10-17", "Statement": [st]}),
            }]
        };
        let put = p(
            json!({"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/public/*"}),
        );
        assert_eq!(permissions("guest", true, &put).len(), 1);
        assert_eq!(permissions("auth", false, &put).len(), 0);
        let get = p(
            json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/public/*"}),
        );
        assert_eq!(permissions("guest", true, &get).len(), 0);
        let star = p(json!({"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}));
        let f = permissions("auth", false, &star);
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("every resource"), "{f:?}");
        let control =
            p(json!({"Effect": "Allow", "Action": "cognito-identity:*", "Resource": "*"}));
        assert_eq!(permissions("auth", false, &control).len(), 0);
    }
}
