//! IAM policy documents: this module owns everything stackwatch does with the JSON of an
//! identity policy or a role trust policy.
//!
//! * parsing what AWS returns ([`PolicyDocument::parse_wire`]: IAM hands documents back
//!   percent-encoded per RFC 3986, other services as plain JSON) and plain JSON
//!   ([`PolicyDocument::from_json`]);
//! * the canonical form ([`PolicyDocument::canonical`]) under which two documents that IAM
//!   treats the same compare equal ([`PolicyDocument::equivalent`], and [`same`] for the plan's
//!   fields), so the reconciler does not report drift for key order, string-vs-array, list
//!   order or action case; actions keep the case they were written in, for the plan to show;
//! * structural validation of documents stackwatch generates or accepts
//!   ([`PolicyDocument::validate`], [`validate_action`]);
//! * rendering: compact wire JSON ([`PolicyDocument::to_wire`]), stable pretty JSON
//!   ([`PolicyDocument::to_pretty`]) and the line diff plans show ([`line_diff`] of two texts,
//!   [`diff_lines`] of two documents).
//!
//! Policy variables such as `${aws:username}` are ordinary literal text here and are never
//! rewritten.

use std::collections::BTreeMap;
use std::fmt;

use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

/// The only policy language version stackwatch generates or accepts.
const POLICY_VERSION: &str = "2012-10-17";

/// Errors from parsing a policy document.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The text was empty or only whitespace.
    #[error("policy document is empty")]
    Empty,
    /// The text (after percent-decoding, where that applied) is not valid JSON.
    #[error("policy document is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Percent-decoding produced bytes that are not UTF-8.
    #[error("percent-decoded policy document is not valid UTF-8: {0}")]
    Utf8(#[from] std::str::Utf8Error),
    /// The JSON is valid but its top level is not an object.
    #[error("policy document must be a JSON object, found {0}")]
    NotAnObject(&'static str),
}

/// A parsed IAM policy document (identity or trust policy), kept as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDocument(pub serde_json::Value);

/// One structural problem found by [`PolicyDocument::validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyProblem {
    /// JSON path of the offending element, e.g. `Statement[1].Action[0]`; `(root)` for the
    /// document itself.
    pub path: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for PolicyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl PolicyDocument {
    /// Parses a document as AWS returns it: IAM GetRole/GetRolePolicy return URL-encoded JSON
    /// (percent-encoded, '+' must NOT be turned into space: AWS uses RFC 3986 encoding), other services plain JSON.
    /// Accepts both: if the text does not parse as JSON, percent-decode it then parse.
    pub fn parse_wire(text: &str) -> Result<Self, PolicyError> {
        if text.trim().is_empty() {
            return Err(PolicyError::Empty);
        }
        match Self::from_json(text) {
            Ok(doc) => Ok(doc),
            // Nothing to decode: the plain JSON error is the useful one.
            Err(err) if !text.contains('%') => Err(err),
            Err(_) => {
                // percent_decode_str leaves '+' alone, as RFC 3986 requires.
                let decoded = percent_decode_str(text).decode_utf8()?;
                Self::from_json(&decoded)
            }
        }
    }

    /// Parses plain JSON.
    pub fn from_json(text: &str) -> Result<Self, PolicyError> {
        if text.trim().is_empty() {
            return Err(PolicyError::Empty);
        }
        let value: Value = serde_json::from_str(text)?;
        if !value.is_object() {
            return Err(PolicyError::NotAnObject(json_type_name(&value)));
        }
        Ok(PolicyDocument(value))
    }

    /// The canonical form: see rules below. Idempotent.
    ///
    /// * object keys sorted at every level;
    /// * `Statement`: one object equals a one-element array; statements sorted by their
    ///   canonical JSON, exact duplicates collapsed;
    /// * `Action`/`NotAction` (compared case-insensitively, each kept as first spelled, so a plan
    ///   shows `s3:GetObject` as written), `Resource`/`NotResource` (case-sensitive): a string
    ///   equals a one-element array; sorted, duplicates collapsed;
    /// * `Principal`/`NotPrincipal`: `"*"` stays; each map value becomes a sorted,
    ///   deduplicated array;
    /// * `Condition`: key names lowercased, each value a sorted, deduplicated array of
    ///   strings (JSON booleans and numbers become their string form); operators kept.
    pub fn canonical(&self) -> serde_json::Value {
        match &self.0 {
            Value::Object(map) => sorted_object(map, |key, value| {
                if key == "Statement" {
                    canonical_statements(value)
                } else {
                    canonical_generic(value)
                }
            }),
            other => canonical_generic(other),
        }
    }

    /// Equivalent iff canonical forms are equal but for the case of action names.
    pub fn equivalent(&self, other: &PolicyDocument) -> bool {
        same(&self.canonical(), &other.canonical())
    }

    /// Compact JSON to send to AWS (original structure, keys in insertion order).
    pub fn to_wire(&self) -> String {
        self.0.to_string()
    }

    /// Pretty JSON of the canonical form, stable, for plan diffs.
    pub fn to_pretty(&self) -> String {
        let canon = self.canonical();
        // Serialising a `Value` cannot fail (all map keys are strings); fall back to the
        // compact form rather than panic should that ever change.
        serde_json::to_string_pretty(&canon).unwrap_or_else(|_| canon.to_string())
    }

    /// Structural validation of what stackwatch generates or accepts: Version present and "2012-10-17";
    /// Statement is an object or non-empty array; each statement has Effect Allow|Deny; exactly one of Action/NotAction
    /// (except trust policies still need Action); each action matches `*` or `service:ActionPattern`
    /// where service is `[a-z0-9-]+` and the pattern is `[A-Za-z0-9*?]+`. Returns every problem found, with the JSON path
    /// (e.g. `Statement[1].Action[0]`).
    ///
    /// A statement with `Principal` or `NotPrincipal` is taken to belong to a trust policy.
    pub fn validate(&self) -> Result<(), Vec<PolicyProblem>> {
        let mut problems = Vec::new();
        let Value::Object(root) = &self.0 else {
            problems.push(problem(
                "(root)",
                format!("expected a JSON object, found {}", json_type_name(&self.0)),
            ));
            return Err(problems);
        };

        match root.get("Version") {
            None => problems.push(problem(
                "Version",
                format!("missing; expected \"{POLICY_VERSION}\""),
            )),
            Some(Value::String(v)) if v == POLICY_VERSION => {}
            Some(other) => problems.push(problem(
                "Version",
                format!("expected \"{POLICY_VERSION}\", found {other}"),
            )),
        }

        match root.get("Statement") {
            None => problems.push(problem(
                "Statement",
                "missing; expected an object or a non-empty array of statements",
            )),
            Some(Value::Object(stmt)) => validate_statement("Statement", stmt, &mut problems),
            Some(Value::Array(stmts)) if stmts.is_empty() => problems.push(problem(
                "Statement",
                "expected at least one statement, found an empty array",
            )),
            Some(Value::Array(stmts)) => {
                for (i, stmt) in stmts.iter().enumerate() {
                    let path = format!("Statement[{i}]");
                    match stmt {
                        Value::Object(stmt) => validate_statement(&path, stmt, &mut problems),
                        other => problems.push(problem(
                            path,
                            format!(
                                "expected a statement object, found {}",
                                json_type_name(other)
                            ),
                        )),
                    }
                }
            }
            Some(other) => problems.push(problem(
                "Statement",
                format!(
                    "expected an object or a non-empty array of statements, found {}",
                    json_type_name(other)
                ),
            )),
        }

        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// Checks one action string's shape, for config validation: Ok or a message saying what was expected,
/// e.g. "expected `service:Action` such as `s3:GetObject`, found `s3GetObject`".
pub fn validate_action(action: &str) -> Result<(), String> {
    if action == "*" {
        return Ok(());
    }
    let Some((service, pattern)) = action.split_once(':') else {
        return Err(format!(
            "expected `service:Action` such as `s3:GetObject`, found `{action}`"
        ));
    };
    let service_ok = !service.is_empty()
        && service
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !service_ok {
        return Err(format!(
            "expected a service prefix of lowercase letters, digits and `-` (such as `s3` in \
             `s3:GetObject`), found `{service}` in `{action}`"
        ));
    }
    let pattern_ok = !pattern.is_empty()
        && pattern
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '*' || c == '?');
    if !pattern_ok {
        return Err(format!(
            "expected an action name of letters, digits, `*` and `?` (such as `GetObject` in \
             `s3:GetObject`), found `{pattern}` in `{action}`"
        ));
    }
    Ok(())
}

/// Field-level line diff between two documents' pretty canonical forms, for plan rendering:
/// returns lines prefixed with "  " (same), "- " (only in old), "+ " (only in new). Use a simple LCS over lines (no new crate).
/// Equivalent documents have no changed line (however their actions are spelled).
pub fn diff_lines(old: &PolicyDocument, new: &PolicyDocument) -> Vec<String> {
    if old.equivalent(new) {
        return new.to_pretty().lines().map(|l| format!("  {l}")).collect();
    }
    line_diff(&old.to_pretty(), &new.to_pretty())
}

/// Whether two state values are equal, reading any canonical policy document among them (an
/// object with a `Statement` array) with its action names case-insensitive, as IAM reads them.
/// What the plan compares fields with.
pub fn same(a: &Value, b: &Value) -> bool {
    a == b || folded(a) == folded(b)
}

/// `value` with the action names of a canonical policy document lowercased; anything else as is.
fn folded(value: &Value) -> Value {
    let mut out = value.clone();
    if let Some(Value::Array(statements)) = out.get_mut("Statement") {
        statements.iter_mut().for_each(fold_statement);
    }
    out
}

/// Lowercases the action names of a canonical statement.
fn fold_statement(statement: &mut Value) {
    for key in ["Action", "NotAction"] {
        if let Some(Value::Array(actions)) = statement.get_mut(key) {
            for action in actions.iter_mut() {
                if let Value::String(s) = action {
                    *s = s.to_lowercase();
                }
            }
        }
    }
}

/// Line diff of two texts (LCS): lines prefixed "  ", "- " or "+ ".
pub fn line_diff(old_text: &str, new_text: &str) -> Vec<String> {
    let a: Vec<&str> = old_text.lines().collect();
    let b: Vec<&str> = new_text.lines().collect();

    // lcs[i][j] = length of the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }

    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            out.push(format!("  {}", a[i]));
            i += 1;
            j += 1;
        } else if lcs[i + 1][j] >= lcs[i][j + 1] {
            out.push(format!("- {}", a[i]));
            i += 1;
        } else {
            out.push(format!("+ {}", b[j]));
            j += 1;
        }
    }
    out.extend(a[i..].iter().map(|line| format!("- {line}")));
    out.extend(b[j..].iter().map(|line| format!("+ {line}")));
    out
}

// ---------------------------------------------------------------------------
// Canonicalisation helpers
// ---------------------------------------------------------------------------

/// Recursively rebuilds objects with sorted keys; arrays keep their order.
fn canonical_generic(value: &Value) -> Value {
    match value {
        Value::Object(map) => sorted_object(map, |_, v| canonical_generic(v)),
        Value::Array(items) => Value::Array(items.iter().map(canonical_generic).collect()),
        other => other.clone(),
    }
}

/// An object with its keys sorted, each value rebuilt by `f(key, value)`.
fn sorted_object(map: &Map<String, Value>, f: impl Fn(&str, &Value) -> Value) -> Value {
    let sorted: BTreeMap<&String, &Value> = map.iter().collect();
    Value::Object(
        sorted
            .into_iter()
            .map(|(k, v)| (k.clone(), f(k, v)))
            .collect(),
    )
}

/// Sorts values by their compact JSON text and drops exact duplicates.
fn sorted_set(items: Vec<Value>) -> Value {
    sorted_set_by(items, Value::to_string)
}

/// Sorts values by `key` and keeps the first of those with the same key.
fn sorted_set_by(items: Vec<Value>, key: impl Fn(&Value) -> String) -> Value {
    let mut by_key: BTreeMap<String, Value> = BTreeMap::new();
    for item in items {
        by_key.entry(key(&item)).or_insert(item);
    }
    Value::Array(by_key.into_values().collect())
}

/// A single value or an array of values, as a list.
fn one_or_many(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

fn canonical_statements(value: &Value) -> Value {
    match value {
        // Ordered and deduplicated as compared: whatever the case of their actions.
        Value::Object(_) | Value::Array(_) => sorted_set_by(
            one_or_many(value)
                .into_iter()
                .map(canonical_statement)
                .collect(),
            |s| {
                let mut s = s.clone();
                fold_statement(&mut s);
                s.to_string()
            },
        ),
        other => canonical_generic(other),
    }
}

fn canonical_statement(value: &Value) -> Value {
    let Value::Object(map) = value else {
        return canonical_generic(value);
    };
    sorted_object(map, |key, value| match key {
        "Action" | "NotAction" => canonical_string_set(value, true),
        "Resource" | "NotResource" => canonical_string_set(value, false),
        "Principal" | "NotPrincipal" => canonical_principal(value),
        "Condition" => canonical_condition(value),
        _ => canonical_generic(value),
    })
}

/// A string or list of strings as a sorted, deduplicated array; `actions` (names IAM reads
/// case-insensitively) are sorted and deduplicated by their lowercase form, keeping the first
/// spelling.
fn canonical_string_set(value: &Value, actions: bool) -> Value {
    let items = one_or_many(value)
        .into_iter()
        .map(canonical_generic)
        .collect();
    if actions {
        sorted_set_by(items, |v| v.to_string().to_lowercase())
    } else {
        sorted_set(items)
    }
}

fn canonical_principal(value: &Value) -> Value {
    match value {
        Value::Object(map) => sorted_object(map, |_, v| canonical_string_set(v, false)),
        // "*" (and anything else that is not a map) stays as written.
        other => canonical_generic(other),
    }
}

fn canonical_condition(value: &Value) -> Value {
    let Value::Object(operators) = value else {
        return canonical_generic(value);
    };
    sorted_object(operators, |_, block| match block {
        Value::Object(keys) => {
            // Key names are case-insensitive; keys differing only in case are merged.
            let mut merged: BTreeMap<String, Vec<Value>> = BTreeMap::new();
            for (key, values) in keys {
                merged
                    .entry(key.to_lowercase())
                    .or_default()
                    .extend(one_or_many(values).into_iter().map(condition_value));
            }
            Value::Object(
                merged
                    .into_iter()
                    .map(|(k, vs)| (k, sorted_set(vs)))
                    .collect(),
            )
        }
        other => canonical_generic(other),
    })
}

/// IAM compares condition values as strings: JSON booleans and numbers become their text.
fn condition_value(value: &Value) -> Value {
    match value {
        Value::Bool(b) => Value::String(b.to_string()),
        Value::Number(n) => Value::String(n.to_string()),
        other => canonical_generic(other),
    }
}

// ---------------------------------------------------------------------------
// Validation helpers
// ---------------------------------------------------------------------------

fn problem(path: impl Into<String>, message: impl Into<String>) -> PolicyProblem {
    PolicyProblem {
        path: path.into(),
        message: message.into(),
    }
}

fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn validate_statement(path: &str, stmt: &Map<String, Value>, problems: &mut Vec<PolicyProblem>) {
    let effect_path = format!("{path}.Effect");
    match stmt.get("Effect") {
        None => problems.push(problem(
            effect_path,
            "missing; expected \"Allow\" or \"Deny\"",
        )),
        Some(Value::String(e)) if e == "Allow" || e == "Deny" => {}
        Some(other) => problems.push(problem(
            effect_path,
            format!("expected \"Allow\" or \"Deny\", found {other}"),
        )),
    }

    let is_trust = stmt.contains_key("Principal") || stmt.contains_key("NotPrincipal");
    let action = stmt.get("Action");
    let not_action = stmt.get("NotAction");
    match (action, not_action) {
        (Some(_), Some(_)) => problems.push(problem(
            path,
            "has both Action and NotAction; expected exactly one",
        )),
        (None, None) => problems.push(problem(
            path,
            "missing Action; expected exactly one of Action or NotAction",
        )),
        (None, Some(_)) if is_trust => problems.push(problem(
            path,
            "trust policy statement (it has a Principal) uses NotAction; expected Action",
        )),
        _ => {}
    }
    if let Some(value) = action {
        validate_action_list(&format!("{path}.Action"), value, problems);
    }
    if let Some(value) = not_action {
        validate_action_list(&format!("{path}.NotAction"), value, problems);
    }
}

fn validate_action_list(path: &str, value: &Value, problems: &mut Vec<PolicyProblem>) {
    match value {
        Value::String(action) => {
            if let Err(message) = validate_action(action) {
                problems.push(problem(path, message));
            }
        }
        Value::Array(items) if items.is_empty() => problems.push(problem(
            path,
            "expected at least one action, found an empty array",
        )),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let item_path = format!("{path}[{i}]");
                match item {
                    Value::String(action) => {
                        if let Err(message) = validate_action(action) {
                            problems.push(problem(item_path, message));
                        }
                    }
                    other => problems.push(problem(
                        item_path,
                        format!("expected an action string, found {}", json_type_name(other)),
                    )),
                }
            }
        }
        other => problems.push(problem(
            path,
            format!(
                "expected an action string or array of action strings, found {}",
                json_type_name(other)
            ),
        )),
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

    /// Percent-encodes like IAM does when it hands a document back (RFC 3986: unreserved
    /// characters kept, space as %20).
    pub fn iam_encode(text: &str) -> String {
        const IAM_SET: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'.')
            .remove(b'_')
            .remove(b'~');
        utf8_percent_encode(text, IAM_SET).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::iam_encode;
    use super::*;
    use serde_json::json;

    fn doc(value: Value) -> PolicyDocument {
        PolicyDocument(value)
    }

    fn s3_read() -> PolicyDocument {
        doc(json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::my-bucket/*"
            }]
        }))
    }

    /// The trust policy stackwatch writes for a role, with `amr` (a string or a list) as given.
    fn cognito_trust(amr: Value) -> PolicyDocument {
        let pool = "us-east-1:12345678-90ab-cdef-1234-567890abcdef";
        let mut trust = crate::resource::role::trust_policy(pool, "");
        let like = &mut trust.0["Statement"][0]["Condition"]["ForAnyValue:StringLike"];
        like["cognito-identity.amazonaws.com:amr"] = amr;
        trust
    }

    fn paths(problems: &[PolicyProblem]) -> Vec<&str> {
        problems.iter().map(|p| p.path.as_str()).collect()
    }

    // --- parsing -----------------------------------------------------------------------

    #[test]
    fn parse_wire_decodes_real_iam_url_encoded_document() {
        let wire = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22\
                    %3A%22Allow%22%2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Resource%22%3A\
                    %22arn%3Aaws%3As3%3A%3A%3Amy-bucket%2F%2A%22%7D%5D%7D";
        let parsed = PolicyDocument::parse_wire(wire).expect("parses");
        assert_eq!(parsed, s3_read());
        assert!(parsed.equivalent(&s3_read()));
    }

    #[test]
    fn parse_wire_decodes_pretty_printed_encoded_document() {
        // A policy created with newlines and indentation comes back with %0A and %20.
        let wire = "%7B%0A%20%20%22Version%22%3A%20%222012-10-17%22%2C%0A%20%20%22Statement%22\
                    %3A%20%7B%0A%20%20%20%20%22Effect%22%3A%20%22Allow%22%2C%0A%20%20%20%20\
                    %22Action%22%3A%20%5B%22s3%3AGetObject%22%5D%2C%0A%20%20%20%20%22Resource\
                    %22%3A%20%22arn%3Aaws%3As3%3A%3A%3Amy-bucket%2F%2A%22%0A%20%20%7D%0A%7D";
        let parsed = PolicyDocument::parse_wire(wire).expect("parses");
        assert!(parsed.equivalent(&s3_read()));
    }

    #[test]
    fn parse_wire_accepts_plain_json() {
        let text = s3_read().to_wire();
        assert_eq!(
            PolicyDocument::parse_wire(&text).expect("parses"),
            s3_read()
        );
    }

    #[test]
    fn parse_wire_keeps_literal_plus_and_decodes_encoded_plus() {
        let plain = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/a+b c"}}"#;
        // '+' left literal by the encoder must stay '+', never become a space.
        let wire = iam_encode(plain).replace("%2B", "+");
        assert!(wire.contains('+'));
        let parsed = PolicyDocument::parse_wire(&wire).expect("parses");
        assert_eq!(
            parsed.0["Statement"]["Resource"],
            json!("arn:aws:s3:::b/a+b c")
        );
        let strict = iam_encode(plain);
        assert!(strict.contains("%2B"));
        assert_eq!(PolicyDocument::parse_wire(&strict).expect("parses"), parsed);
    }

    #[test]
    fn parse_wire_does_not_decode_plain_json_containing_percent() {
        let plain = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/100%25done"}}"#;
        let parsed = PolicyDocument::parse_wire(plain).expect("parses");
        assert_eq!(
            parsed.0["Statement"]["Resource"],
            json!("arn:aws:s3:::b/100%25done")
        );
    }

    #[test]
    fn parse_wire_round_trips_policy_variables() {
        let original = doc(json!({
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::bucket/${cognito-identity.amazonaws.com:sub}/*"
            }
        }));
        let wire = iam_encode(&original.to_wire());
        assert!(wire.contains("%24%7Bcognito-identity.amazonaws.com%3Asub%7D"));
        assert_eq!(PolicyDocument::parse_wire(&wire).expect("parses"), original);
    }

    #[test]
    fn parse_errors_are_reported() {
        assert!(matches!(
            PolicyDocument::parse_wire("   "),
            Err(PolicyError::Empty)
        ));
        assert!(matches!(
            PolicyDocument::from_json(""),
            Err(PolicyError::Empty)
        ));
        assert!(matches!(
            PolicyDocument::parse_wire("{not json"),
            Err(PolicyError::Json(_))
        ));
        assert!(matches!(
            PolicyDocument::parse_wire("%7Bnot%20json"),
            Err(PolicyError::Json(_))
        ));
        assert!(matches!(
            PolicyDocument::parse_wire("%7B%22a%22%3A%22%FF%22%7D"),
            Err(PolicyError::Utf8(_))
        ));
        assert!(matches!(
            PolicyDocument::from_json("[1, 2]"),
            Err(PolicyError::NotAnObject("an array"))
        ));
        assert!(matches!(
            PolicyDocument::parse_wire("%5B%5D"),
            Err(PolicyError::NotAnObject("an array"))
        ));
        let message = PolicyDocument::from_json("\"x\"")
            .expect_err("not an object")
            .to_string();
        assert_eq!(
            message,
            "policy document must be a JSON object, found a string"
        );
    }

    // --- canonical form ------------------------------------------------------------------

    #[test]
    fn canonical_sorts_keys_despite_preserve_order() {
        let d = doc(
            json!({"Statement": {"Resource": "r", "Effect": "Allow", "Action": "s3:X"}, "Version": "2012-10-17"}),
        );
        let canon = d.canonical();
        let top: Vec<&String> = canon.as_object().expect("object").keys().collect();
        assert_eq!(top, ["Statement", "Version"]);
        let stmt: Vec<&String> = canon["Statement"][0]
            .as_object()
            .expect("object")
            .keys()
            .collect();
        assert_eq!(stmt, ["Action", "Effect", "Resource"]);
        assert_eq!(
            canon.to_string(),
            r#"{"Statement":[{"Action":["s3:X"],"Effect":"Allow","Resource":["r"]}],"Version":"2012-10-17"}"#
        );
    }

    #[test]
    fn reordered_keys_are_equivalent() {
        let reordered = doc(json!({
            "Statement": [{
                "Resource": "arn:aws:s3:::my-bucket/*",
                "Action": "s3:GetObject",
                "Effect": "Allow"
            }],
            "Version": "2012-10-17"
        }));
        assert!(reordered.equivalent(&s3_read()));
        assert_ne!(reordered.to_wire(), s3_read().to_wire());
        assert_eq!(reordered.to_pretty(), s3_read().to_pretty());
    }

    #[test]
    fn single_statement_object_equals_one_element_array() {
        let single = doc(json!({
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::my-bucket/*"
            }
        }));
        assert!(single.equivalent(&s3_read()));
        assert!(single.canonical()["Statement"].is_array());
    }

    #[test]
    fn statement_order_does_not_matter_and_duplicates_collapse() {
        let a = json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "r1"});
        let b = json!({"Effect": "Deny", "Action": "s3:PutObject", "Resource": "r2"});
        let one = doc(json!({"Version": "2012-10-17", "Statement": [a.clone(), b.clone()]}));
        let two =
            doc(json!({"Version": "2012-10-17", "Statement": [b.clone(), a.clone(), b.clone()]}));
        assert!(one.equivalent(&two));
        assert_eq!(
            two.canonical()["Statement"].as_array().map(Vec::len),
            Some(2)
        );
    }

    #[test]
    fn single_string_equals_one_element_array_for_actions_and_resources() {
        let arrays = doc(json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": ["arn:aws:s3:::my-bucket/*"]
            }]
        }));
        assert!(arrays.equivalent(&s3_read()));
    }

    #[test]
    fn reordered_and_duplicated_action_lists_are_equivalent() {
        let one = doc(json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
            "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]
        }]}));
        let two = doc(json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:GetObject"],
            "Resource": ["arn:aws:s3:::b/*", "arn:aws:s3:::b", "arn:aws:s3:::b"]
        }]}));
        assert!(one.equivalent(&two));
        assert_eq!(
            two.canonical()["Statement"][0]["Action"],
            json!(["s3:GetObject", "s3:ListBucket", "s3:PutObject"])
        );
    }

    #[test]
    fn not_action_and_not_resource_are_sets_too() {
        let one = doc(json!({"Version": "2012-10-17", "Statement": {
            "Effect": "Deny", "NotAction": ["IAM:*", "sts:GetCallerIdentity"], "NotResource": ["b", "a"]
        }}));
        let two = doc(json!({"Version": "2012-10-17", "Statement": {
            "Effect": "Deny", "NotAction": ["STS:getcalleridentity", "iam:*"], "NotResource": ["a", "b", "a"]
        }}));
        assert!(one.equivalent(&two));
        assert_eq!(
            one.canonical()["Statement"][0]["NotAction"],
            json!(["IAM:*", "sts:GetCallerIdentity"])
        );
    }

    #[test]
    fn actions_compare_case_insensitively_but_resources_do_not() {
        let lower = doc(json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "S3:getobject", "Resource": "arn:aws:s3:::my-bucket/*"
        }]}));
        assert!(lower.equivalent(&s3_read()));
        let upper_resource = doc(json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::My-Bucket/*"
        }]}));
        assert!(!upper_resource.equivalent(&s3_read()));
    }

    #[test]
    fn actions_keep_their_first_spelling_but_sort_and_collapse_ignoring_case() {
        let d = doc(json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:GetObject", "S3:GETOBJECT", "dynamodb:Query"],
            "Resource": "*"
        }]}));
        assert_eq!(
            d.canonical()["Statement"][0]["Action"],
            json!(["dynamodb:Query", "s3:GetObject", "s3:PutObject"])
        );
    }

    #[test]
    fn a_desired_spelling_against_a_lowercased_observed_one_is_the_same() {
        // Two statements, so their order must not depend on the actions' case either.
        // (`s3:G…` sorts before `s3:a…` by code point, after it ignoring case.)
        let statements = |get: &str, abort: &str| {
            doc(json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": get, "Resource": "arn:aws:s3:::b/*"},
                {"Effect": "Allow", "Action": abort, "Resource": "arn:aws:s3:::b/u/*"}
            ]}))
            .canonical()
        };
        let desired = statements("s3:GetObject", "s3:abortMultipartUpload");
        let observed = statements("s3:getobject", "s3:abortmultipartupload");
        assert_ne!(desired, observed);
        assert!(same(&desired, &observed));
        assert!(!same(
            &desired,
            &statements("s3:PutObject", "s3:abortMultipartUpload")
        ));
        assert_eq!(desired["Statement"][1]["Action"], json!(["s3:GetObject"]));
        // Values that are not policies compare as they are.
        assert!(!same(&json!(["A"]), &json!(["a"])));
    }

    #[test]
    fn another_resource_is_not_equivalent() {
        let more = doc(json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": ["arn:aws:s3:::my-bucket/*", "arn:aws:s3:::other-bucket/*"]
        }]}));
        assert!(!more.equivalent(&s3_read()));
    }

    #[test]
    fn deny_is_not_equivalent_to_allow() {
        let mut deny = s3_read();
        deny.0["Statement"][0]["Effect"] = json!("Deny");
        assert!(!deny.equivalent(&s3_read()));
    }

    #[test]
    fn principal_star_stays_star_and_map_values_become_sorted_arrays() {
        let star = doc(json!({"Version": "2012-10-17", "Statement": {
            "Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"
        }}));
        assert_eq!(star.canonical()["Statement"][0]["Principal"], json!("*"));

        let one = doc(json!({"Version": "2012-10-17", "Statement": {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com", "AWS": ["arn:aws:iam::2:root", "arn:aws:iam::1:root"]},
            "Action": "sts:AssumeRole"
        }}));
        let two = doc(json!({"Version": "2012-10-17", "Statement": {
            "Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::1:root", "arn:aws:iam::2:root", "arn:aws:iam::1:root"], "Service": ["lambda.amazonaws.com"]},
            "Action": "sts:AssumeRole"
        }}));
        assert!(one.equivalent(&two));
        assert_eq!(
            one.canonical()["Statement"][0]["Principal"],
            json!({"AWS": ["arn:aws:iam::1:root", "arn:aws:iam::2:root"], "Service": ["lambda.amazonaws.com"]})
        );
        // Principal values are case-sensitive and distinct principals differ.
        let other = doc(json!({"Version": "2012-10-17", "Statement": {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole"
        }}));
        assert!(!other.equivalent(&star));
    }

    #[test]
    fn not_principal_is_canonicalised_like_principal() {
        let d = doc(json!({"Version": "2012-10-17", "Statement": {
            "Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::1:root"}, "Action": "s3:*", "Resource": "*"
        }}));
        assert_eq!(
            d.canonical()["Statement"][0]["NotPrincipal"],
            json!({"AWS": ["arn:aws:iam::1:root"]})
        );
    }

    #[test]
    fn condition_values_become_sorted_string_arrays_and_keys_lowercase() {
        let d = doc(json!({"Version": "2012-10-17", "Statement": {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "arn:aws:s3:::b",
            "Condition": {
                "Bool": {"aws:SecureTransport": true},
                "NumericLessThanEquals": {"s3:max-keys": 10},
                "StringLike": {"s3:Prefix": ["home/", "home/${aws:username}/*", "home/"]}
            }
        }}));
        assert_eq!(
            d.canonical()["Statement"][0]["Condition"],
            json!({
                "Bool": {"aws:securetransport": ["true"]},
                "NumericLessThanEquals": {"s3:max-keys": ["10"]},
                "StringLike": {"s3:prefix": ["home/", "home/${aws:username}/*"]}
            })
        );
        let as_strings = doc(json!({"Version": "2012-10-17", "Statement": {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "arn:aws:s3:::b",
            "Condition": {
                "StringLike": {"S3:PREFIX": ["home/${aws:username}/*", "home/"]},
                "NumericLessThanEquals": {"s3:max-keys": "10"},
                "Bool": {"aws:securetransport": "true"}
            }
        }}));
        assert!(d.equivalent(&as_strings));
    }

    #[test]
    fn condition_operator_names_are_kept_case_sensitive() {
        let d = doc(json!({"Version": "2012-10-17", "Statement": {
            "Effect": "Allow", "Action": "s3:*", "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/team": "a"}}
        }}));
        let other = doc(json!({"Version": "2012-10-17", "Statement": {
            "Effect": "Allow", "Action": "s3:*", "Resource": "*",
            "Condition": {"stringequals": {"aws:PrincipalTag/team": "a"}}
        }}));
        assert!(!d.equivalent(&other));
        assert!(
            d.canonical()["Statement"][0]["Condition"]
                .get("StringEquals")
                .is_some()
        );
        // Condition values themselves stay case-sensitive.
        let upper_value = doc(json!({"Version": "2012-10-17", "Statement": {
            "Effect": "Allow", "Action": "s3:*", "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/team": "A"}}
        }}));
        assert!(!d.equivalent(&upper_value));
    }

    #[test]
    fn sid_and_version_are_kept_as_is() {
        let mut with_sid = s3_read();
        with_sid.0["Statement"][0]["Sid"] = json!("ReadMyBucket");
        let canon = with_sid.canonical();
        assert_eq!(canon["Statement"][0]["Sid"], json!("ReadMyBucket"));
        assert_eq!(canon["Version"], json!("2012-10-17"));
        let mut other_sid = with_sid.clone();
        other_sid.0["Statement"][0]["Sid"] = json!("readmybucket");
        assert!(!other_sid.equivalent(&with_sid));
        let mut old_version = s3_read();
        old_version.0["Version"] = json!("2008-10-17");
        assert_eq!(old_version.canonical()["Version"], json!("2008-10-17"));
        assert!(!old_version.equivalent(&s3_read()));
    }

    #[test]
    fn policy_variables_are_literal_text() {
        let d = doc(json!({"Version": "2012-10-17", "Statement": {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/${aws:username}/${cognito-identity.amazonaws.com:sub}",
            "Condition": {"StringEquals": {"s3:prefix": "${aws:Username}"}}
        }}));
        let canon = d.canonical();
        assert_eq!(
            canon["Statement"][0]["Resource"],
            json!(["arn:aws:s3:::b/${aws:username}/${cognito-identity.amazonaws.com:sub}"])
        );
        assert_eq!(
            canon["Statement"][0]["Condition"]["StringEquals"]["s3:prefix"],
            json!(["${aws:Username}"])
        );
    }

    #[test]
    fn canonical_is_idempotent() {
        for d in [
            s3_read(),
            cognito_trust(json!(["unauthenticated", "authenticated"])),
            doc(json!({"Version": "2012-10-17", "Id": "x", "Statement": [
                {"Effect": "Allow", "Action": ["B:x", "a:Y"], "Resource": "*",
                 "Condition": {"Bool": {"Aws:X": [true, "false"]}, "NumericEquals": {"k": 1.5}}},
                {"Effect": "Deny", "NotAction": "s3:*", "NotResource": ["z", "y"],
                 "Principal": {"AWS": "1"}}
            ]})),
        ] {
            let once = d.canonical();
            let twice = PolicyDocument(once.clone()).canonical();
            assert_eq!(once, twice);
            assert_eq!(once.to_string(), twice.to_string());
        }
    }

    #[test]
    fn other_keys_are_sorted_but_their_arrays_keep_order() {
        let d = doc(json!({"Version": "2012-10-17", "Id": "x", "Statement": {
            "Effect": "Allow", "Action": "s3:*", "Resource": "*", "Custom": {"b": [2, 1], "a": 0}
        }}));
        let canon = d.canonical();
        assert_eq!(
            canon["Statement"][0]["Custom"].to_string(),
            r#"{"a":0,"b":[2,1]}"#
        );
    }

    // --- rendering -----------------------------------------------------------------------

    #[test]
    fn to_wire_keeps_original_structure_and_order() {
        let d = doc(
            json!({"Version": "2012-10-17", "Statement": {"Resource": "r", "Effect": "Allow", "Action": "S3:GetObject"}}),
        );
        assert_eq!(
            d.to_wire(),
            r#"{"Version":"2012-10-17","Statement":{"Resource":"r","Effect":"Allow","Action":"S3:GetObject"}}"#
        );
        assert_eq!(PolicyDocument::from_json(&d.to_wire()).expect("parses"), d);
    }

    #[test]
    fn to_pretty_renders_canonical_form_stably() {
        let expected = "{\n  \"Statement\": [\n    {\n      \"Action\": [\n        \"s3:GetObject\"\n      ],\n      \"Effect\": \"Allow\",\n      \"Resource\": [\n        \"arn:aws:s3:::my-bucket/*\"\n      ]\n    }\n  ],\n  \"Version\": \"2012-10-17\"\n}";
        assert_eq!(s3_read().to_pretty(), expected);
    }

    #[test]
    fn diff_lines_marks_changed_resource_with_minus_and_plus() {
        let mut new = s3_read();
        new.0["Statement"][0]["Resource"] = json!("arn:aws:s3:::other-bucket/*");
        let diff = diff_lines(&s3_read(), &new);
        let changed: Vec<&String> = diff.iter().filter(|l| !l.starts_with("  ")).collect();
        assert_eq!(
            changed,
            [
                "-         \"arn:aws:s3:::my-bucket/*\"",
                "+         \"arn:aws:s3:::other-bucket/*\""
            ]
        );
        // Unchanged lines are all kept, in order.
        assert_eq!(diff.len(), s3_read().to_pretty().lines().count() + 1);
        assert_eq!(diff[0], "  {");
        assert!(diff.iter().any(|l| l == "          \"s3:GetObject\""));
    }

    #[test]
    fn diff_lines_of_equivalent_documents_has_no_changes() {
        let reordered = doc(
            json!({"Statement": {"Resource": ["arn:aws:s3:::my-bucket/*"], "Action": "S3:GetObject", "Effect": "Allow"}, "Version": "2012-10-17"}),
        );
        let diff = diff_lines(&s3_read(), &reordered);
        assert!(!diff.is_empty());
        assert!(diff.iter().all(|l| l.starts_with("  ")));
    }

    #[test]
    fn diff_lines_handles_additions_and_removals() {
        let mut more = s3_read();
        more.0["Statement"][0]["Action"] = json!(["s3:GetObject", "s3:PutObject"]);
        let changes = |diff: &[String]| -> Vec<String> {
            diff.iter()
                .filter(|l| !l.starts_with("  "))
                .cloned()
                .collect()
        };
        // The JSON separator comma makes the former last element's line change too.
        assert_eq!(
            changes(&diff_lines(&s3_read(), &more)),
            [
                "-         \"s3:GetObject\"",
                "+         \"s3:GetObject\",",
                "+         \"s3:PutObject\""
            ]
        );
        assert_eq!(
            changes(&diff_lines(&more, &s3_read())),
            [
                "-         \"s3:GetObject\",",
                "-         \"s3:PutObject\"",
                "+         \"s3:GetObject\""
            ]
        );
    }

    // --- validation ----------------------------------------------------------------------

    #[test]
    fn valid_documents_pass() {
        assert_eq!(s3_read().validate(), Ok(()));
        assert_eq!(cognito_trust(json!("authenticated")).validate(), Ok(()));
        let star = doc(json!({"Version": "2012-10-17", "Statement": {
            "Effect": "Deny", "NotAction": ["iam:*", "s3:Get*", "ec2:Describe?nstances"], "Resource": "*"
        }}));
        assert_eq!(star.validate(), Ok(()));
        let all = doc(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
        );
        assert_eq!(all.validate(), Ok(()));
    }

    #[test]
    fn validate_catches_bad_action_shapes_with_paths() {
        let d = doc(json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
            {"Effect": "Allow", "Action": ["s3GetObject", "s3:PutObject", "S3:Get", "s3:Get-Object", 5], "Resource": "*"},
            {"Effect": "Deny", "NotAction": "iam:", "Resource": "*"}
        ]}));
        let problems = d.validate().expect_err("invalid");
        assert_eq!(
            paths(&problems),
            [
                "Statement[1].Action[0]",
                "Statement[1].Action[2]",
                "Statement[1].Action[3]",
                "Statement[1].Action[4]",
                "Statement[2].NotAction"
            ]
        );
        assert_eq!(
            problems[0].message,
            "expected `service:Action` such as `s3:GetObject`, found `s3GetObject`"
        );
        assert_eq!(
            problems[0].to_string(),
            "Statement[1].Action[0]: expected `service:Action` such as `s3:GetObject`, found `s3GetObject`"
        );
        assert!(
            problems[1].message.contains("`S3`"),
            "{}",
            problems[1].message
        );
        assert!(problems[3].message.contains("found a number"));
    }

    #[test]
    fn validate_reports_version_and_statement_problems() {
        let missing = doc(json!({}));
        let problems = missing.validate().expect_err("invalid");
        assert_eq!(paths(&problems), ["Version", "Statement"]);

        let wrong = doc(json!({"Version": "2008-10-17", "Statement": []}));
        let problems = wrong.validate().expect_err("invalid");
        assert_eq!(paths(&problems), ["Version", "Statement"]);
        assert!(problems[0].message.contains("2008-10-17"));
        assert!(problems[1].message.contains("empty"));

        let not_stmt = doc(json!({"Version": "2012-10-17", "Statement": "Allow"}));
        assert_eq!(
            paths(&not_stmt.validate().expect_err("invalid")),
            ["Statement"]
        );
        let root = doc(json!([1]));
        assert_eq!(paths(&root.validate().expect_err("invalid")), ["(root)"]);
    }

    #[test]
    fn validate_checks_effect_and_action_presence() {
        let d = doc(json!({"Version": "2012-10-17", "Statement": [
            {"Action": "s3:GetObject", "Resource": "*"},
            {"Effect": "allow", "Action": "s3:GetObject", "NotAction": "s3:PutObject", "Resource": "*"},
            {"Effect": "Deny", "Resource": "*"},
            "oops",
            {"Effect": "Allow", "Action": [], "Resource": "*"}
        ]}));
        let problems = d.validate().expect_err("invalid");
        assert_eq!(
            paths(&problems),
            [
                "Statement[0].Effect",
                "Statement[1].Effect",
                "Statement[1]",
                "Statement[2]",
                "Statement[3]",
                "Statement[4].Action"
            ]
        );
        assert!(problems[2].message.contains("both Action and NotAction"));
        assert!(problems[3].message.contains("missing Action"));
    }

    #[test]
    fn validate_single_statement_object_uses_statement_path() {
        let d = doc(
            json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "bad action"}}),
        );
        assert_eq!(
            paths(&d.validate().expect_err("invalid")),
            ["Statement.Action"]
        );
    }

    #[test]
    fn validate_requires_action_in_trust_policies() {
        let d = doc(json!({"Version": "2012-10-17", "Statement": {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "NotAction": "sts:TagSession"
        }}));
        let problems = d.validate().expect_err("invalid");
        assert_eq!(paths(&problems), ["Statement"]);
        assert!(problems[0].message.contains("expected Action"));
    }

    #[test]
    fn validate_action_checks_shape() {
        assert_eq!(validate_action("*"), Ok(()));
        assert_eq!(validate_action("s3:GetObject"), Ok(()));
        assert_eq!(validate_action("cognito-idp:Admin*"), Ok(()));
        assert_eq!(validate_action("ec2:Describe?"), Ok(()));
        assert_eq!(validate_action("s3:*"), Ok(()));
        assert_eq!(
            validate_action("s3GetObject"),
            Err(
                "expected `service:Action` such as `s3:GetObject`, found `s3GetObject`".to_string()
            )
        );
        for bad in [
            "",
            ":GetObject",
            "s3:",
            "S3:GetObject",
            "s3:Get:Object",
            "s3:Get Object",
            "s 3:GetObject",
            "**",
            "s3_x:Get",
        ] {
            assert!(validate_action(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    // --- Cognito trust policy ------------------------------------------------------------

    #[test]
    fn cognito_trust_policy_round_trips_and_ignores_condition_value_order() {
        let trust = cognito_trust(json!(["authenticated", "unauthenticated"]));
        assert_eq!(trust.validate(), Ok(()));

        // Plain and URL-encoded wire forms both round-trip exactly.
        let wire = trust.to_wire();
        assert_eq!(PolicyDocument::parse_wire(&wire).expect("plain"), trust);
        let encoded = iam_encode(&wire);
        assert!(encoded.starts_with("%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B"));
        let decoded = PolicyDocument::parse_wire(&encoded).expect("encoded");
        assert_eq!(decoded, trust);
        assert_eq!(decoded.to_wire(), wire);

        // Reordered condition values (and key case) are equivalent.
        let reordered = doc(json!({
            "Statement": {
                "Condition": {
                    "ForAnyValue:StringLike": {
                        "cognito-identity.amazonaws.com:amr": ["unauthenticated", "authenticated"]
                    },
                    "StringEquals": {
                        "Cognito-Identity.amazonaws.com:aud": ["us-east-1:12345678-90ab-cdef-1234-567890abcdef"]
                    }
                },
                "Action": ["sts:assumerolewithwebidentity"],
                "Principal": {"Federated": ["cognito-identity.amazonaws.com"]},
                "Effect": "Allow"
            },
            "Version": "2012-10-17"
        }));
        assert!(reordered.equivalent(&trust));
        assert!(
            diff_lines(&trust, &reordered)
                .iter()
                .all(|l| l.starts_with("  "))
        );

        // Only authenticated identities is a real difference.
        let authenticated_only = cognito_trust(json!("authenticated"));
        assert!(!authenticated_only.equivalent(&trust));
        let diff = diff_lines(&trust, &authenticated_only);
        assert!(
            diff.iter()
                .any(|l| l.starts_with("- ") && l.contains("\"unauthenticated\""))
        );
    }
}
