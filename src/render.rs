//! Plans, outputs and results as text or JSON. No AWS calls here: everything rendered was
//! computed before, so rendering is snapshot-tested on its own.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::Value;

use crate::plan::{Action, Change, FieldChange, Plan};

fn symbol(a: Action) -> &'static str {
    match a {
        Action::Create => "+",
        Action::Update => "~",
        Action::Replace => "-/+",
        Action::Delete => "-",
        Action::NoChange => " ",
        Action::Blocked => "!",
    }
}

fn verb(a: Action) -> &'static str {
    match a {
        Action::Create => "will be created",
        Action::Update => "will be updated in place",
        Action::Replace => "must be replaced",
        Action::Delete => "will be deleted",
        Action::NoChange => "no change",
        Action::Blocked => "blocked",
    }
}

fn compact(v: &Option<Value>) -> String {
    match v {
        None => "(none)".into(),
        Some(Value::String(s)) => format!("{s:?}"),
        Some(v) => v.to_string(),
    }
}

fn pretty(v: &Option<Value>) -> String {
    v.as_ref().map_or_else(String::new, |v| {
        serde_json::to_string_pretty(v).unwrap_or_default()
    })
}

fn field(out: &mut String, f: &FieldChange) {
    let note = if f.forces_replacement {
        "  # forces replacement"
    } else {
        ""
    };
    let (old, new) = (compact(&f.old), compact(&f.new));
    let sym = match (&f.old, &f.new) {
        (None, Some(_)) => "+",
        (Some(_), None) => "-",
        _ => "~",
    };
    if old.len() + new.len() <= 100 {
        let _ = writeln!(out, "      {sym} {}: {old} => {new}{note}", f.field);
        return;
    }
    let _ = writeln!(out, "      {sym} {}:{note}", f.field);
    for line in crate::policy::line_diff(&pretty(&f.old), &pretty(&f.new)) {
        let _ = writeln!(out, "          {line}");
    }
}

/// The plan as people read it: per stack, per resource, with field-level differences.
pub fn plan_text(plan: &Plan, full_stack_name: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    let mut by_stack: BTreeMap<&str, Vec<&Change>> = BTreeMap::new();
    let mut order = Vec::new();
    for c in &plan.changes {
        if !by_stack.contains_key(c.stack.as_str()) {
            order.push(c.stack.as_str());
        }
        by_stack.entry(&c.stack).or_default().push(c);
    }
    for stack in order {
        let _ = writeln!(out, "Stack {}", full_stack_name(stack));
        for c in &by_stack[stack] {
            let _ = writeln!(
                out,
                "  {} {} ({} {}) {}",
                symbol(c.action),
                c.id,
                c.kind,
                c.physical,
                verb(c.action)
            );
            if let Some(e) = &c.error {
                let _ = writeln!(out, "      error: {e}");
            }
            for n in &c.notes {
                let _ = writeln!(out, "      note: {n}");
            }
            for f in &c.fields {
                field(&mut out, f);
            }
        }
    }
    let s = plan.summary();
    let unchanged = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::NoChange)
        .count();
    if plan.has_changes() || s.blocked > 0 {
        let _ = writeln!(
            out,
            "\nPlan: {} to create, {} to update, {} to replace, {} to delete, {} unchanged.",
            s.create, s.update, s.replace, s.delete, unchanged
        );
        if s.blocked > 0 {
            let _ = writeln!(
                out,
                "{} resource(s) blocked; see the errors above.",
                s.blocked
            );
        }
    } else {
        let _ = writeln!(
            out,
            "\nNo changes. {unchanged} resources match the stack files."
        );
    }
    out
}

/// The plan as JSON, for tools.
pub fn plan_json(plan: &Plan) -> String {
    let value = serde_json::json!({
        "summary": plan.summary(),
        "changes": plan.changes,
    });
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

/// Stack outputs in the `sst` form:
///
/// ```text
/// Stack dev-notes-AuthStack
///   Status: deployed
///     Region: us-east-1
/// ```
pub fn outputs_text(outputs: &BTreeMap<String, BTreeMap<String, String>>, status: &str) -> String {
    let mut out = String::new();
    for (stack, values) in outputs {
        let _ = writeln!(out, "Stack {stack}");
        let _ = writeln!(out, "  Status: {status}");
        if !values.is_empty() {
            let _ = writeln!(out, "  Outputs:");
        }
        for (k, v) in values {
            let _ = writeln!(out, "    {k}: {v}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Change;
    use serde_json::json;

    fn change(id: &str, action: Action, fields: Vec<FieldChange>) -> Change {
        Change {
            id: id.into(),
            stack: id.split('.').next().unwrap_or_default().into(),
            kind: "IAM role",
            physical: "dev-notes-AuthStack-Auth-AuthRole".into(),
            action,
            fields,
            error: None,
            notes: Vec::new(),
        }
    }

    #[test]
    fn renders_notes_under_their_resource() {
        let mut c = change("AuthStack.Auth.UserPool", Action::NoChange, vec![]);
        c.kind = "Cognito user pool";
        c.physical = "us-east-1_abc".into();
        c.notes = vec!["sign-in is case-sensitive in this pool".into()];
        let text = plan_text(&Plan { changes: vec![c] }, |s| format!("dev-notes-{s}"));
        insta::assert_snapshot!(text);
    }

    #[test]
    fn renders_update_with_field_diff() {
        let old = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*"],
            "Resource": ["arn:aws:s3:::b/private/${cognito-identity.amazonaws.com:sub}/*"]}]});
        let mut new = old.clone();
        new["Statement"][0]["Resource"] = json!(["arn:aws:s3:::b/public/*"]);
        let plan = Plan {
            changes: vec![
                change("StorageStack.Uploads", Action::NoChange, vec![]),
                change(
                    "AuthStack.Auth.AuthenticatedRole",
                    Action::Update,
                    vec![FieldChange {
                        field: "policy",
                        old: Some(old),
                        new: Some(new),
                        forces_replacement: false,
                    }],
                ),
                change(
                    "AuthStack.Auth.UserPool",
                    Action::Replace,
                    vec![FieldChange {
                        field: "usernameAttributes",
                        old: Some(json!(["email"])),
                        new: Some(json!(["phone_number"])),
                        forces_replacement: true,
                    }],
                ),
            ],
        };
        insta::assert_snapshot!(plan_text(&plan, |s| format!("dev-notes-{s}")));
    }

    #[test]
    fn renders_no_changes() {
        let plan = Plan {
            changes: vec![change("AuthStack.Auth.UserPool", Action::NoChange, vec![])],
        };
        insta::assert_snapshot!(plan_text(&plan, |s| format!("dev-notes-{s}")));
    }

    #[test]
    fn renders_outputs_block() {
        let outputs = BTreeMap::from([(
            "dev-notes-AuthStack".to_string(),
            BTreeMap::from([
                ("Region".to_string(), "us-east-1".to_string()),
                ("UserPoolId".to_string(), "us-east-1_abc".to_string()),
            ]),
        )]);
        insta::assert_snapshot!(outputs_text(&outputs, "deployed"));
    }
}
