//! A built-in IAM policy evaluator for identity-based policies, so `verify` can say what a
//! Cognito identity may do without trusting an emulator (or AWS) to answer.
//!
//! It covers what Cognito identity roles use:
//! * Allow and Deny, with an explicit Deny overriding any Allow and everything else denied by
//!   default;
//! * `Action` / `NotAction` (case-insensitive) and `Resource` / `NotResource` (case-sensitive),
//!   with the `*` and `?` wildcards;
//! * policy variables in resources and condition values (`${cognito-identity.amazonaws.com:sub}`,
//!   `${aws:username, 'default'}`), and IAM's escapes `${*}`, `${?}`, `${$}`;
//! * condition operators `StringEquals`, `StringNotEquals`, `StringEqualsIgnoreCase`,
//!   `StringNotEqualsIgnoreCase`, `StringLike`, `StringNotLike`, `ArnEquals`, `ArnLike`,
//!   `ArnNotEquals`, `ArnNotLike`, `Bool`, `Null`, each with the `ForAnyValue:` /
//!   `ForAllValues:` set prefixes and the `...IfExists` suffix.
//!
//! Anything else (numeric and date operators, for instance) is reported as
//! [`Unsupported`], never guessed. Identity policies are evaluated, within the role's
//! permissions boundary when it has one ([`evaluate_role`]: allowed only when both allow); no
//! resource policies, session policies or SCPs, which a Cognito identity role does not involve
//! unless the account adds them.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

/// The request context: condition keys (case-insensitive) to their values. A single-valued
/// key has one value; a multivalued key (such as `cognito-identity.amazonaws.com:amr`) many.
#[derive(Debug, Clone, Default)]
pub struct Context {
    values: BTreeMap<String, Vec<String>>,
}

impl Context {
    pub fn new() -> Context {
        Context::default()
    }

    /// Sets a key to one value.
    pub fn with(mut self, key: &str, value: &str) -> Context {
        self.values
            .insert(key.to_lowercase(), vec![value.to_string()]);
        self
    }

    /// Sets a multivalued key.
    pub fn with_many(mut self, key: &str, values: &[&str]) -> Context {
        self.values.insert(
            key.to_lowercase(),
            values.iter().map(|v| v.to_string()).collect(),
        );
        self
    }

    fn get(&self, key: &str) -> Option<&[String]> {
        self.values.get(&key.to_lowercase()).map(Vec::as_slice)
    }
}

/// One request to evaluate: an action on a resource, with a context.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub action: &'a str,
    pub resource: &'a str,
    pub context: &'a Context,
}

/// An identity policy document with the name it is known by (the inline policy's name, or a
/// managed policy's ARN).
#[derive(Debug, Clone)]
pub struct NamedPolicy {
    pub name: String,
    pub document: Value,
}

/// The statement that decided, for messages: `policy stackwatch, Statement[1]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRef {
    pub policy: String,
    pub index: usize,
    pub sid: Option<String>,
    /// The statement's resources as written, for the message.
    pub resources: Vec<String>,
}

impl fmt::Display for StatementRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "policy `{}` Statement[{}]", self.policy, self.index)?;
        if let Some(sid) = &self.sid {
            write!(f, " (Sid {sid})")?;
        }
        if !self.resources.is_empty() {
            write!(f, " on {}", self.resources.join(", "))?;
        }
        Ok(())
    }
}

/// The outcome of evaluating a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Allowed, by these statements (and denied by none).
    Allow(Vec<StatementRef>),
    /// Denied by this statement, whatever else allows it.
    ExplicitDeny(StatementRef),
    /// No statement allows it.
    ImplicitDeny,
    /// The identity policies allow it, but the role's permissions boundary does not: by this
    /// statement of the boundary (an explicit deny), or by none (no statement allows it).
    OutsideBoundary {
        boundary: String,
        by: Option<StatementRef>,
    },
}

impl Decision {
    pub fn allowed(&self) -> bool {
        matches!(self, Decision::Allow(_))
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::Allow(by) => {
                let by: Vec<String> = by.iter().map(ToString::to_string).collect();
                write!(f, "allowed by {}", by.join("; "))
            }
            Decision::ExplicitDeny(by) => write!(f, "denied by {by}"),
            Decision::ImplicitDeny => f.write_str("denied (no statement allows it)"),
            Decision::OutsideBoundary { boundary, by: None } => write!(
                f,
                "denied by the permissions boundary {boundary} (no statement of it allows it)"
            ),
            Decision::OutsideBoundary {
                boundary,
                by: Some(by),
            } => write!(f, "denied by the permissions boundary {boundary} ({by})"),
        }
    }
}

/// A policy this evaluator cannot evaluate faithfully.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot evaluate policy `{policy}` Statement[{index}]: {reason}")]
pub struct Unsupported {
    pub policy: String,
    pub index: usize,
    pub reason: String,
}

/// What a role lets its identities do: its identity policies, within its permissions boundary.
#[derive(Debug, Clone, Copy)]
pub struct Permissions<'a> {
    pub policies: &'a [NamedPolicy],
    pub boundary: Option<&'a NamedPolicy>,
}

impl<'a> Permissions<'a> {
    /// Identity policies with no boundary.
    pub fn unbounded(policies: &'a [NamedPolicy]) -> Permissions<'a> {
        Permissions {
            policies,
            boundary: None,
        }
    }
}

/// Evaluates a request as AWS does for a role with a permissions boundary: allowed only when
/// the identity policies allow it and the boundary allows it too (a deny in either wins).
pub fn evaluate_role(perms: Permissions<'_>, req: &Request<'_>) -> Result<Decision, Unsupported> {
    let decision = evaluate(perms.policies, req)?;
    let Some(boundary) = perms.boundary else {
        return Ok(decision);
    };
    if !decision.allowed() {
        // Denied already: the policies are the reason, whatever the boundary says.
        return Ok(decision);
    }
    let boundary_name = boundary.name.clone();
    Ok(match evaluate(std::slice::from_ref(boundary), req)? {
        Decision::Allow(_) => decision,
        Decision::ExplicitDeny(by) => Decision::OutsideBoundary {
            boundary: boundary_name,
            by: Some(by),
        },
        _ => Decision::OutsideBoundary {
            boundary: boundary_name,
            by: None,
        },
    })
}

/// Evaluates a request against identity policies: an explicit Deny wins, then any Allow,
/// else the default (implicit) deny.
pub fn evaluate(policies: &[NamedPolicy], req: &Request<'_>) -> Result<Decision, Unsupported> {
    let mut allows = Vec::new();
    for p in policies {
        for (index, st) in statements(&p.document).into_iter().enumerate() {
            let unsupported = |reason: String| Unsupported {
                policy: p.name.clone(),
                index,
                reason,
            };
            let Value::Object(st) = st else {
                return Err(unsupported("the statement is not an object".into()));
            };
            if !statement_applies(st, req).map_err(unsupported)? {
                continue;
            }
            let at = StatementRef {
                policy: p.name.clone(),
                index,
                sid: st.get("Sid").and_then(Value::as_str).map(str::to_string),
                resources: strings(st.get("Resource").or_else(|| st.get("NotResource"))),
            };
            match st.get("Effect").and_then(Value::as_str) {
                Some("Deny") => return Ok(Decision::ExplicitDeny(at)),
                Some("Allow") => allows.push(at),
                other => {
                    return Err(unsupported(format!(
                        "Effect {other:?} is neither Allow nor Deny"
                    )));
                }
            }
        }
    }
    Ok(if allows.is_empty() {
        Decision::ImplicitDeny
    } else {
        Decision::Allow(allows)
    })
}

/// `Statement` as a list (a single object is a one-element list).
pub fn statements(doc: &Value) -> Vec<&Value> {
    match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    }
}

/// A string or a list of strings (other JSON scalars in their text form).
pub fn strings(v: Option<&Value>) -> Vec<String> {
    let one = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match v {
        Some(Value::Array(a)) => a.iter().filter_map(one).collect(),
        Some(v) => one(v).into_iter().collect(),
        None => Vec::new(),
    }
}

fn statement_applies(
    st: &serde_json::Map<String, Value>,
    req: &Request<'_>,
) -> Result<bool, String> {
    let action = match (st.get("Action"), st.get("NotAction")) {
        (Some(a), None) => strings(Some(a))
            .iter()
            .any(|p| action_matches(p, req.action)),
        (None, Some(a)) => !strings(Some(a))
            .iter()
            .any(|p| action_matches(p, req.action)),
        _ => return Err("expected exactly one of Action and NotAction".into()),
    };
    if !action {
        return Ok(false);
    }
    let resource = match (st.get("Resource"), st.get("NotResource")) {
        (Some(r), None) => strings(Some(r))
            .iter()
            .any(|p| resource_matches(p, req.resource, req.context)),
        (None, Some(r)) => !strings(Some(r))
            .iter()
            .any(|p| resource_matches(p, req.resource, req.context)),
        _ => return Err("expected exactly one of Resource and NotResource".into()),
    };
    if !resource {
        return Ok(false);
    }
    match st.get("Condition") {
        None => Ok(true),
        Some(Value::Object(ops)) => {
            for (op, block) in ops {
                let Value::Object(keys) = block else {
                    return Err(format!("condition `{op}` is not an object"));
                };
                for (key, values) in keys {
                    if !condition(op, key, &strings(Some(values)), req.context)? {
                        return Ok(false);
                    }
                }
            }
            Ok(true)
        }
        Some(_) => Err("Condition is not an object".into()),
    }
}

// ---------------------------------------------------------------------------
// Wildcards and policy variables
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok {
    Lit(char),
    Star,
    One,
}

/// Compiles a pattern: `*` and `?` are wildcards; with a context, `${key}` is replaced by the
/// key's value (literally: a `*` in a value is not a wildcard), `${key, 'default'}` falls back
/// to the default, and `${*}` `${?}` `${$}` are the literal characters. `None` when a
/// variable has no value and no default: that pattern matches nothing.
fn compile(pattern: &str, ctx: Option<&Context>) -> Option<Vec<Tok>> {
    let mut out = Vec::new();
    let mut rest = pattern;
    while let Some(c) = rest.chars().next() {
        if let (Some(ctx), true) = (ctx, rest.starts_with("${"))
            && let Some(end) = rest.find('}')
        {
            let inner = &rest[2..end];
            rest = &rest[end + 1..];
            match inner {
                "*" | "?" | "$" => out.extend(inner.chars().map(Tok::Lit)),
                _ => {
                    let (key, default) = match inner.split_once(',') {
                        Some((k, d)) => {
                            let d = d.trim();
                            let d = d.strip_prefix('\'').and_then(|d| d.strip_suffix('\''));
                            (k.trim(), d)
                        }
                        None => (inner.trim(), None),
                    };
                    let value = match ctx.get(key) {
                        Some([v]) => v.as_str(),
                        // Multivalued keys cannot be used as variables; absent keys use the default.
                        Some(_) | None => default?,
                    };
                    out.extend(value.chars().map(Tok::Lit));
                }
            }
            continue;
        }
        out.push(match c {
            '*' => Tok::Star,
            '?' => Tok::One,
            c => Tok::Lit(c),
        });
        rest = &rest[c.len_utf8()..];
    }
    Some(out)
}

fn wildcard(pattern: &[Tok], text: &str, ignore_case: bool) -> bool {
    let text: Vec<char> = text.chars().collect();
    let eq = |a: char, b: char| {
        if ignore_case {
            a.to_lowercase().eq(b.to_lowercase())
        } else {
            a == b
        }
    };
    // matched[j]: pattern[..i] matches text[..j].
    let mut matched = vec![false; text.len() + 1];
    matched[0] = true;
    for tok in pattern {
        let mut next = vec![false; text.len() + 1];
        match tok {
            Tok::Star => {
                let mut any = false;
                for j in 0..=text.len() {
                    any |= matched[j];
                    next[j] = any;
                }
            }
            Tok::One => {
                next[1..].copy_from_slice(&matched[..text.len()]);
            }
            Tok::Lit(c) => {
                for j in 0..text.len() {
                    next[j + 1] = matched[j] && eq(*c, text[j]);
                }
            }
        }
        matched = next;
    }
    matched[text.len()]
}

/// Actions match case-insensitively, with wildcards and no variables.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    compile(pattern, None).is_some_and(|p| wildcard(&p, action, true))
}

/// Resources match case-sensitively, with wildcards and policy variables.
pub fn resource_matches(pattern: &str, resource: &str, ctx: &Context) -> bool {
    compile(pattern, Some(ctx)).is_some_and(|p| wildcard(&p, resource, false))
}

// ---------------------------------------------------------------------------
// Conditions
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Set {
    Single,
    AnyValue,
    AllValues,
}

/// Compares one policy value (which may hold variables) with one context value.
type Matcher = fn(&str, &str, &Context) -> bool;

/// One condition key under one operator.
fn condition(op: &str, key: &str, wanted: &[String], ctx: &Context) -> Result<bool, String> {
    let (set, base) = if let Some(b) = op.strip_prefix("ForAnyValue:") {
        (Set::AnyValue, b)
    } else if let Some(b) = op.strip_prefix("ForAllValues:") {
        (Set::AllValues, b)
    } else {
        (Set::Single, op)
    };
    let (base, if_exists) = match base.strip_suffix("IfExists") {
        Some(b) => (b, true),
        None => (base, false),
    };
    let present = ctx.get(key);
    if base == "Null" {
        let absent = present.is_none_or(<[String]>::is_empty);
        return Ok(wanted.iter().any(|w| match w.to_lowercase().as_str() {
            "true" => absent,
            "false" => !absent,
            _ => false,
        }));
    }
    let (negated, test): (bool, Matcher) = match base {
        "StringEquals" => (false, |p, v, c| literal(p, c).is_some_and(|p| p == v)),
        "StringNotEquals" => (true, |p, v, c| literal(p, c).is_some_and(|p| p == v)),
        "StringEqualsIgnoreCase" => (false, |p, v, c| {
            literal(p, c).is_some_and(|p| p.to_lowercase() == v.to_lowercase())
        }),
        "StringNotEqualsIgnoreCase" => (true, |p, v, c| {
            literal(p, c).is_some_and(|p| p.to_lowercase() == v.to_lowercase())
        }),
        "StringLike" => (false, like),
        "StringNotLike" => (true, like),
        "ArnEquals" | "ArnLike" => (false, arn_like),
        "ArnNotEquals" | "ArnNotLike" => (true, arn_like),
        "Bool" => (false, |p, v, _| p.eq_ignore_ascii_case(v)),
        other => return Err(format!("condition operator `{other}` is not supported")),
    };
    let Some(values) = present else {
        // A missing key: IfExists and negated operators are true, ForAllValues is vacuously
        // true, everything else false.
        return Ok(if_exists || set == Set::AllValues || (negated && set == Set::Single));
    };
    let hits = |v: &String| wanted.iter().any(|p| test(p, v, ctx));
    Ok(match (set, negated) {
        (Set::Single, false) => values.iter().any(hits),
        (Set::Single, true) => !values.iter().any(hits),
        (Set::AnyValue, false) => values.iter().any(hits),
        (Set::AnyValue, true) => values.iter().any(|v| !hits(v)),
        (Set::AllValues, false) => values.iter().all(hits),
        (Set::AllValues, true) => values.iter().all(|v| !hits(v)),
    })
}

/// A condition value with its policy variables replaced (no wildcards).
fn literal(pattern: &str, ctx: &Context) -> Option<String> {
    let toks = compile(pattern, Some(ctx))?;
    Some(
        toks.iter()
            .map(|t| match t {
                Tok::Lit(c) => *c,
                Tok::Star => '*',
                Tok::One => '?',
            })
            .collect(),
    )
}

fn like(pattern: &str, value: &str, ctx: &Context) -> bool {
    compile(pattern, Some(ctx)).is_some_and(|p| wildcard(&p, value, false))
}

/// ARNs compare component by component (six colon-separated parts), each with wildcards.
fn arn_like(pattern: &str, value: &str, ctx: &Context) -> bool {
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let v: Vec<&str> = value.splitn(6, ':').collect();
    p.len() == v.len() && p.iter().zip(&v).all(|(p, v)| like(p, v, ctx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SUB: &str = "cognito-identity.amazonaws.com:sub";
    const ME: &str = "us-east-1:11111111-1111-1111-1111-111111111111";
    const OTHER: &str = "us-east-1:22222222-2222-2222-2222-222222222222";

    fn ctx() -> Context {
        Context::new()
            .with(SUB, ME)
            .with("cognito-identity.amazonaws.com:aud", "us-east-1:pool")
            .with_many(
                "cognito-identity.amazonaws.com:amr",
                &[
                    "authenticated",
                    "cognito-idp.us-east-1.amazonaws.com/us-east-1_abc",
                ],
            )
            .with("aws:SecureTransport", "true")
    }

    fn policy(statements: Value) -> Vec<NamedPolicy> {
        vec![NamedPolicy {
            name: "p".into(),
            document: json!({"Version": "2012-10-17", "Statement": statements}),
        }]
    }

    fn allowed(statements: Value, action: &str, resource: &str) -> bool {
        let c = ctx();
        let req = Request {
            action,
            resource,
            context: &c,
        };
        evaluate(&policy(statements), &req).unwrap().allowed()
    }

    fn allow(action: Value, resource: Value) -> Value {
        json!({"Effect": "Allow", "Action": action, "Resource": resource})
    }

    fn cond(op: &str, key: &str, values: Value) -> bool {
        allowed(
            json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                    "Condition": {op: {key: values}}}]),
            "s3:GetObject",
            "arn:aws:s3:::b/k",
        )
    }

    const OBJ: &str = "arn:aws:s3:::bucket/private/x/file.txt";

    /// A table of documented cases: (what, statements, action, resource, expected allowed).
    #[test]
    fn evaluation_logic_table_1() {
        let cases: Vec<(&str, Value, &str, &str, bool)> = vec![
            // IAM User Guide > Policy evaluation logic: "By default, all requests are implicitly
            // denied" — no statement, no access.
            ("default deny", json!([]), "s3:GetObject", OBJ, false),
            // Policy evaluation logic: an explicit allow in an identity-based policy overrides
            // the default deny.
            (
                "explicit allow",
                json!([allow(json!("s3:GetObject"), json!(OBJ))]),
                "s3:GetObject",
                OBJ,
                true,
            ),
            // Policy evaluation logic: "An explicit deny in any policy overrides any allows."
            (
                "explicit deny wins",
                json!([allow(json!("s3:*"), json!("*")),
                       {"Effect": "Deny", "Action": "s3:GetObject", "Resource": OBJ}]),
                "s3:GetObject",
                OBJ,
                false,
            ),
            // The deny statement's order in the document does not matter.
            (
                "deny first, allow second",
                json!([{"Effect": "Deny", "Action": "s3:*", "Resource": "*"},
                       allow(json!("s3:GetObject"), json!(OBJ))]),
                "s3:GetObject",
                OBJ,
                false,
            ),
            // IAM JSON policy elements: Action — the service prefix and the action name are
            // case-insensitive.
            (
                "action case-insensitive",
                json!([allow(json!("S3:getobject"), json!(OBJ))]),
                "s3:GetObject",
                OBJ,
                true,
            ),
            // IAM JSON policy elements: Action > "You can use wildcards (* or ?) ... s3:Get*".
            (
                "action * wildcard",
                json!([allow(json!("s3:Get*"), json!(OBJ))]),
                "s3:GetObject",
                OBJ,
                true,
            ),
            (
                "action * is not a prefix match of another service",
                json!([allow(json!("s3:Get*"), json!(OBJ))]),
                "s3:PutObject",
                OBJ,
                false,
            ),
            // IAM JSON policy elements: Action — `?` matches exactly one character.
            (
                "action ? wildcard",
                json!([allow(json!("s3:?etObject"), json!(OBJ))]),
                "s3:GetObject",
                OBJ,
                true,
            ),
            (
                "action ? needs one character",
                json!([allow(json!("s3:?GetObject"), json!(OBJ))]),
                "s3:GetObject",
                OBJ,
                false,
            ),
        ];
        for (what, statements, action, resource, want) in cases {
            assert_eq!(allowed(statements, action, resource), want, "{what}");
        }
    }

    #[test]
    fn evaluation_logic_table_2() {
        let own = format!("arn:aws:s3:::bucket/private/{ME}/a.txt");
        let other = format!("arn:aws:s3:::bucket/private/{OTHER}/a.txt");
        let per_identity = "arn:aws:s3:::bucket/private/${cognito-identity.amazonaws.com:sub}/*";
        let cases: Vec<(&str, Value, &str, &str, bool)> = vec![
            // IAM JSON policy elements: NotAction — "explicitly matches everything except the
            // specified list of actions"; with Allow it allows the rest.
            (
                "NotAction allows the rest",
                json!([{"Effect": "Allow", "NotAction": "s3:DeleteObject", "Resource": "*"}]),
                "s3:GetObject",
                OBJ,
                true,
            ),
            (
                "NotAction excludes its own",
                json!([{"Effect": "Allow", "NotAction": "s3:Delete*", "Resource": "*"}]),
                "s3:DeleteObject",
                OBJ,
                false,
            ),
            // IAM JSON policy elements: Resource — ARN matching is case-sensitive.
            (
                "resource case-sensitive",
                json!([allow(json!("s3:GetObject"), json!("arn:aws:s3:::BUCKET/*"))]),
                "s3:GetObject",
                OBJ,
                false,
            ),
            // IAM JSON policy elements: Resource — wildcards in the resource path; `*` spans `/`.
            (
                "resource * spans /",
                json!([allow(json!("s3:GetObject"), json!("arn:aws:s3:::bucket/*"))]),
                "s3:GetObject",
                OBJ,
                true,
            ),
            // IAM JSON policy elements: NotResource — Allow with NotResource allows everything
            // except the listed resources.
            (
                "NotResource excludes",
                json!([{"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::bucket/private/*"}]),
                "s3:GetObject",
                OBJ,
                false,
            ),
            (
                "NotResource allows others",
                json!([{"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::other/*"}]),
                "s3:GetObject",
                OBJ,
                true,
            ),
            // IAM policy elements: Variables and tags — "${cognito-identity.amazonaws.com:sub}"
            // is replaced by the caller's identity id, so each user gets their own folder.
            (
                "variable: own folder",
                json!([allow(json!("s3:*"), json!(per_identity))]),
                "s3:PutObject",
                &own,
                true,
            ),
            (
                "variable: another identity's folder",
                json!([allow(json!("s3:*"), json!(per_identity))]),
                "s3:PutObject",
                &other,
                false,
            ),
        ];
        for (what, statements, action, resource, want) in cases {
            assert_eq!(allowed(statements, action, resource), want, "{what}");
        }
    }

    #[test]
    fn evaluation_logic_table_3() {
        let other = format!("arn:aws:s3:::bucket/private/{OTHER}/a.txt");
        let per_identity = "arn:aws:s3:::bucket/private/${cognito-identity.amazonaws.com:sub}/*";
        let cases: Vec<(&str, Value, &str, &str, bool)> = vec![
            (
                "variable: bucket root",
                json!([allow(json!("s3:*"), json!(per_identity))]),
                "s3:PutObject",
                "arn:aws:s3:::bucket/a.txt",
                false,
            ),
            // The leak `verify` catches: `private/*` reaches every identity's folder.
            (
                "private/* leaks",
                json!([allow(json!("s3:*"), json!("arn:aws:s3:::bucket/private/*"))]),
                "s3:GetObject",
                &other,
                true,
            ),
            // Variables and tags > "Special characters": ${*}, ${?} and ${$} stand for the
            // literal characters, not wildcards.
            (
                "${*} is a literal star",
                json!([allow(
                    json!("s3:GetObject"),
                    json!("arn:aws:s3:::bucket/${*}")
                )]),
                "s3:GetObject",
                "arn:aws:s3:::bucket/x",
                false,
            ),
            (
                "${*} matches a star",
                json!([allow(
                    json!("s3:GetObject"),
                    json!("arn:aws:s3:::bucket/${*}")
                )]),
                "s3:GetObject",
                "arn:aws:s3:::bucket/*",
                true,
            ),
            (
                "${$} is a dollar",
                json!([allow(
                    json!("s3:GetObject"),
                    json!("arn:aws:s3:::bucket/${$}{x}")
                )]),
                "s3:GetObject",
                "arn:aws:s3:::bucket/${x}",
                true,
            ),
            // Variables and tags: a variable whose key is not in the request context matches
            // nothing, unless a default value is given (`${key, 'default'}`).
            (
                "missing variable matches nothing",
                json!([allow(
                    json!("s3:GetObject"),
                    json!("arn:aws:s3:::bucket/${aws:username}/*")
                )]),
                "s3:GetObject",
                "arn:aws:s3:::bucket/x/a",
                false,
            ),
            (
                "missing variable default",
                json!([allow(
                    json!("s3:GetObject"),
                    json!("arn:aws:s3:::bucket/${aws:username, 'shared'}/*")
                )]),
                "s3:GetObject",
                "arn:aws:s3:::bucket/shared/a",
                true,
            ),
        ];
        for (what, statements, action, resource, want) in cases {
            assert_eq!(allowed(statements, action, resource), want, "{what}");
        }
    }

    /// Each case's result is what it expects.
    fn expect(cases: Vec<(&str, bool, bool)>) {
        for (what, got, want) in cases {
            assert_eq!(got, want, "{what}");
        }
    }

    #[test]
    fn arn_components_match_separately_and_operators_are_anded() {
        let aud = "cognito-identity.amazonaws.com:aud";
        // Condition operators > ARN: each of the six colon-separated components is matched
        // separately, with wildcards.
        let c = Context::new().with(
            "aws:SourceArn",
            "arn:aws:execute-api:us-east-1:123:api/$default/GET/notes",
        );
        let arn = |p: &str| {
            arn_like(
                p,
                "arn:aws:execute-api:us-east-1:123:api/$default/GET/notes",
                &c,
            )
        };
        assert!(arn("arn:aws:execute-api:*:*:api/*"));
        assert!(!arn("arn:aws:s3:*:*:api/*"));
        // Conditions under different operators are ANDed (Condition element: "all must match").
        assert!(!allowed(
            json!([{"Effect": "Allow", "Action": "*", "Resource": "*",
                    "Condition": {"StringEquals": {aud: "us-east-1:pool"}, "Bool": {"aws:SecureTransport": "false"}}}]),
            "s3:GetObject",
            OBJ
        ));
    }

    #[test]
    fn condition_operators_table_1() {
        let aud = "cognito-identity.amazonaws.com:aud";
        let cases: Vec<(&str, bool, bool)> = vec![
            // Condition operators > String: StringEquals is exact and case-sensitive.
            (
                "StringEquals",
                cond("StringEquals", aud, json!("us-east-1:pool")),
                true,
            ),
            (
                "StringEquals case",
                cond("StringEquals", aud, json!("US-EAST-1:POOL")),
                false,
            ),
            (
                "StringEqualsIgnoreCase",
                cond("StringEqualsIgnoreCase", aud, json!("US-EAST-1:POOL")),
                true,
            ),
            // Condition element: several values for one key are ORed.
            (
                "values are ORed",
                cond("StringEquals", aud, json!(["x", "us-east-1:pool"])),
                true,
            ),
            // StringNotEquals: true when the value matches none of the listed values.
            (
                "StringNotEquals",
                cond("StringNotEquals", aud, json!("other")),
                true,
            ),
            (
                "StringNotEquals equal",
                cond("StringNotEquals", aud, json!(["other", "us-east-1:pool"])),
                false,
            ),
        ];
        expect(cases);
    }

    #[test]
    fn condition_operators_table_2() {
        let amr = "cognito-identity.amazonaws.com:amr";
        let aud = "cognito-identity.amazonaws.com:aud";
        let cases: Vec<(&str, bool, bool)> = vec![
            // StringLike: `*` and `?` wildcards, case-sensitive.
            (
                "StringLike",
                cond("StringLike", aud, json!("us-east-1:*")),
                true,
            ),
            (
                "StringNotLike",
                cond("StringNotLike", aud, json!("us-east-1:*")),
                false,
            ),
            // Condition operators: "If the key that you specify in a policy condition is not
            // present in the request context, the values do not match and the condition is
            // false" — but negated operators (StringNotEquals, StringNotLike...) are true.
            (
                "missing key positive",
                cond("StringEquals", "aws:username", json!("bob")),
                false,
            ),
            (
                "missing key negated",
                cond("StringNotEquals", "aws:username", json!("bob")),
                true,
            ),
            // ...IfExists: "If the policy key is not present in the context of the request,
            // evaluate the condition as true."
            (
                "IfExists missing",
                cond("StringEqualsIfExists", "aws:username", json!("bob")),
                true,
            ),
            (
                "IfExists present",
                cond("StringEqualsIfExists", aud, json!("other")),
                false,
            ),
            // Multivalued context keys > ForAnyValue: true if at least one value in the
            // request matches one in the condition (how Cognito trust policies test amr).
            (
                "ForAnyValue:StringLike amr",
                cond("ForAnyValue:StringLike", amr, json!("authenticated")),
                true,
            ),
        ];
        expect(cases);
    }

    #[test]
    fn condition_operators_table_3() {
        let amr = "cognito-identity.amazonaws.com:amr";
        let cases: Vec<(&str, bool, bool)> = vec![
            (
                "ForAnyValue:StringLike no match",
                cond("ForAnyValue:StringLike", amr, json!("unauthenticated")),
                false,
            ),
            // ForAnyValue with a missing key is false.
            (
                "ForAnyValue missing",
                cond("ForAnyValue:StringEquals", "aws:TagKeys", json!("a")),
                false,
            ),
            // ForAllValues: every value in the request must match one in the condition...
            (
                "ForAllValues all",
                cond(
                    "ForAllValues:StringLike",
                    amr,
                    json!(["authenticated", "cognito-idp.*"]),
                ),
                true,
            ),
            (
                "ForAllValues not all",
                cond("ForAllValues:StringLike", amr, json!("authenticated")),
                false,
            ),
            // ...and "ForAllValues returns true if there are no context keys in the request".
            (
                "ForAllValues missing",
                cond("ForAllValues:StringEquals", "aws:TagKeys", json!("a")),
                true,
            ),
        ];
        expect(cases);
    }

    #[test]
    fn condition_operators_table_4() {
        let aud = "cognito-identity.amazonaws.com:aud";
        let cases: Vec<(&str, bool, bool)> = vec![
            // Null: true means "the key is absent", false "the key is present".
            (
                "Null true absent",
                cond("Null", "aws:username", json!("true")),
                true,
            ),
            ("Null true present", cond("Null", aud, json!("true")), false),
            (
                "Null false present",
                cond("Null", aud, json!("false")),
                true,
            ),
            // Bool: compares true/false.
            (
                "Bool",
                cond("Bool", "aws:SecureTransport", json!("true")),
                true,
            ),
            (
                "Bool json boolean",
                cond("Bool", "aws:SecureTransport", json!(false)),
                false,
            ),
            // A missing key under ArnLike is false, like every positive operator.
            (
                "ArnLike missing",
                cond("ArnLike", "aws:SourceArn", json!("arn:aws:s3:::*")),
                false,
            ),
            // Condition values may hold policy variables.
            (
                "variable in condition value",
                cond(
                    "StringLike",
                    SUB,
                    json!("${cognito-identity.amazonaws.com:sub}"),
                ),
                true,
            ),
        ];
        expect(cases);
    }

    #[test]
    fn unsupported_operators_are_reported_not_guessed() {
        let c = ctx();
        let req = Request {
            action: "s3:GetObject",
            resource: OBJ,
            context: &c,
        };
        let p = policy(json!([{"Effect": "Allow", "Action": "*", "Resource": "*",
                               "Condition": {"NumericLessThan": {"s3:max-keys": "10"}}}]));
        let e = evaluate(&p, &req).unwrap_err();
        assert!(e.to_string().contains("NumericLessThan"), "{e}");
    }

    #[test]
    fn the_deciding_statement_is_named() {
        let c = ctx();
        let req = Request {
            action: "s3:GetObject",
            resource: OBJ,
            context: &c,
        };
        let p = policy(json!([allow(
            json!("s3:*"),
            json!("arn:aws:s3:::bucket/private/*")
        )]));
        let d = evaluate(&p, &req).unwrap();
        assert_eq!(
            d.to_string(),
            "allowed by policy `p` Statement[0] on arn:aws:s3:::bucket/private/*"
        );
    }

    #[test]
    fn substituted_values_are_literal() {
        // A `*` that comes from the request context is not a wildcard.
        let c = Context::new().with(SUB, "*");
        assert!(!resource_matches(
            "arn:aws:s3:::b/${cognito-identity.amazonaws.com:sub}",
            "arn:aws:s3:::b/x",
            &c
        ));
        assert!(resource_matches(
            "arn:aws:s3:::b/${cognito-identity.amazonaws.com:sub}",
            "arn:aws:s3:::b/*",
            &c
        ));
    }

    #[test]
    fn a_permissions_boundary_bounds_what_the_policies_allow() {
        let policies = policy(json!([allow(
            json!(["s3:GetObject", "s3:PutObject"]),
            json!("arn:aws:s3:::b/*")
        )]));
        let boundary = NamedPolicy {
            name: "arn:aws:iam::123456789012:policy/Boundary".into(),
            document: json!({"Version": "2012-10-17", "Statement": [
                allow(json!("s3:GetObject"), json!("*")),
                {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}
            ]}),
        };
        let c = ctx();
        let decide = |action: &str, boundary: Option<&NamedPolicy>| {
            let req = Request {
                action,
                resource: "arn:aws:s3:::b/k",
                context: &c,
            };
            evaluate_role(
                Permissions {
                    policies: &policies,
                    boundary,
                },
                &req,
            )
            .unwrap()
        };
        assert!(decide("s3:GetObject", Some(&boundary)).allowed());
        assert!(decide("s3:PutObject", None).allowed());
        let outside = decide("s3:PutObject", Some(&boundary));
        assert_eq!(
            outside,
            Decision::OutsideBoundary {
                boundary: boundary.name.clone(),
                by: None
            }
        );
        assert!(outside.to_string().contains("policy/Boundary"), "{outside}");
        // Not allowed by the policies: the boundary is not the reason.
        assert_eq!(
            decide("s3:DeleteObject", Some(&boundary)),
            Decision::ImplicitDeny
        );
    }
}
