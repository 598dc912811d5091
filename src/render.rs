//! Plans, outputs and results as text or JSON. No AWS calls here: everything rendered was
//! computed before, so rendering is snapshot-tested on its own.
//!
//! Text comes in a [`Style`]: with colour (ANSI, which `crate::term` strips again when the output
//! is not a terminal or `NO_COLOR` is set) or plain, and listing every resource (`--verbose`) or
//! only what changes, counting the rest.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::Value;

use anstyle::{AnsiColor, Effects};

use crate::plan::{Action, Change, FieldChange, Plan};

/// How text is drawn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    /// ANSI colour.
    pub color: bool,
    /// List unchanged resources too.
    pub verbose: bool,
}

impl Style {
    /// No colour, only what changes: for logs, files and the console.
    pub const PLAIN: Style = Style {
        color: false,
        verbose: false,
    };

    /// Colour for a terminal (stripped again where it is not one), listing only what changes
    /// unless `verbose`.
    pub fn terminal(verbose: bool) -> Style {
        Style {
            color: true,
            verbose,
        }
    }

    /// `text` in `style`, when this style has colour.
    fn paint(self, style: anstyle::Style, text: &str) -> String {
        if self.color {
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
        }
    }
}

fn colour(a: Action) -> anstyle::Style {
    let fg = |c: AnsiColor| anstyle::Style::new().fg_color(Some(c.into()));
    match a {
        Action::Create => fg(AnsiColor::Green),
        Action::Update => fg(AnsiColor::Yellow),
        Action::Replace => fg(AnsiColor::Magenta),
        Action::Delete | Action::Blocked => fg(AnsiColor::Red),
        Action::NoChange => anstyle::Style::new().effects(Effects::DIMMED),
    }
}

const BOLD: anstyle::Style = anstyle::Style::new().effects(Effects::BOLD);

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

fn field(out: &mut String, f: &FieldChange, style: Style) {
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
    let action = match sym {
        "+" => Action::Create,
        "-" => Action::Delete,
        _ => Action::Update,
    };
    let sym = style.paint(colour(action), sym);
    if old.len() + new.len() <= 100 {
        let _ = writeln!(out, "      {sym} {}: {old} => {new}{note}", f.field);
        return;
    }
    let _ = writeln!(out, "      {sym} {}:{note}", f.field);
    for line in crate::policy::line_diff(&pretty(&f.old), &pretty(&f.new)) {
        let painted = match line.trim_start().chars().next() {
            Some('+') => style.paint(colour(Action::Create), &line),
            Some('-') => style.paint(colour(Action::Delete), &line),
            _ => line,
        };
        let _ = writeln!(out, "          {painted}");
    }
}

/// The plan as people read it: per stack, per resource, with field-level differences. Without
/// `verbose`, an unchanged resource is listed only when it has a note, and a stack with nothing
/// to list is left out; the last line counts what does not change.
pub fn plan_text(plan: &Plan, full_stack_name: impl Fn(&str) -> String, style: Style) -> String {
    let mut out = String::new();
    let mut by_stack: BTreeMap<&str, Vec<&Change>> = BTreeMap::new();
    let mut order = Vec::new();
    let listed = |c: &Change| style.verbose || c.action != Action::NoChange || !c.notes.is_empty();
    for c in plan.changes.iter().filter(|c| listed(c)) {
        if !by_stack.contains_key(c.stack.as_str()) {
            order.push(c.stack.as_str());
        }
        by_stack.entry(&c.stack).or_default().push(c);
    }
    for stack in order {
        let name = format!("Stack {}", full_stack_name(stack));
        let _ = writeln!(out, "{}", style.paint(BOLD, &name));
        for c in &by_stack[stack] {
            let paint = colour(c.action);
            let _ = writeln!(
                out,
                "  {} {} ({} {}) {}",
                style.paint(paint, symbol(c.action)),
                c.id,
                c.kind,
                c.physical,
                style.paint(paint, verb(c.action))
            );
            if let Some(e) = &c.error {
                let _ = writeln!(out, "      {}", style.paint(paint, &format!("error: {e}")));
            }
            for n in &c.notes {
                let _ = writeln!(out, "      note: {n}");
            }
            for f in &c.fields {
                field(&mut out, f, style);
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
                "{}",
                style.paint(
                    colour(Action::Blocked),
                    &format!("{} resource(s) blocked; see the errors above.", s.blocked)
                )
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

/// What a plan would deploy, for the prompt: "2 changes to dev-notes-AuthStack and
/// dev-notes-StorageStack".
pub fn plan_headline(plan: &Plan, full_stack_name: impl Fn(&str) -> String) -> String {
    let changing: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| !matches!(c.action, Action::NoChange | Action::Blocked))
        .collect();
    let mut stacks: Vec<String> = Vec::new();
    for c in &changing {
        let name = full_stack_name(&c.stack);
        if !stacks.contains(&name) {
            stacks.push(name);
        }
    }
    let n = changing.len();
    let what = if n == 1 { "change" } else { "changes" };
    let to = match stacks.as_slice() {
        [] => String::new(),
        [one] => format!(" to {one}"),
        [init @ .., last] => format!(" to {} and {last}", init.join(", ")),
    };
    format!("{n} {what}{to}")
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

    /// The plan as `plan` prints it, stacks named `dev-notes-{stack}`.
    fn text(plan: &Plan, style: Style) -> String {
        plan_text(plan, |s| format!("dev-notes-{s}"), style)
    }

    #[test]
    fn renders_notes_under_their_resource() {
        let mut c = change("AuthStack.Auth.UserPool", Action::NoChange, vec![]);
        c.kind = "Cognito user pool";
        c.physical = "us-east-1_abc".into();
        c.notes = vec!["sign-in is case-sensitive in this pool".into()];
        insta::assert_snapshot!(text(&Plan { changes: vec![c] }, Style::PLAIN));
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
        insta::assert_snapshot!(text(&plan, Style::PLAIN));
    }

    #[test]
    fn verbose_lists_the_unchanged_resources_too() {
        let plan = Plan {
            changes: vec![
                change("StorageStack.Uploads", Action::NoChange, vec![]),
                change("AuthStack.Auth.AuthenticatedRole", Action::Create, vec![]),
            ],
        };
        let concise = text(&plan, Style::PLAIN);
        assert!(!concise.contains("StorageStack"), "{concise}");
        assert!(
            concise.contains("1 to create, 0 to update, 0 to replace, 0 to delete, 1 unchanged.")
        );
        let verbose = Style {
            verbose: true,
            ..Style::PLAIN
        };
        insta::assert_snapshot!(text(&plan, verbose));
    }

    #[test]
    fn colour_marks_each_action_and_plain_has_no_escape() {
        let plan = Plan {
            changes: vec![
                change("AuthStack.Auth.AuthenticatedRole", Action::Create, vec![]),
                change("AuthStack.Auth.UserPool", Action::Delete, vec![]),
            ],
        };
        let coloured = text(&plan, Style::terminal(false));
        insta::assert_snapshot!(coloured.replace('\x1b', "<ESC>"));
        assert!(!plan_text(&plan, |s| s.to_string(), Style::PLAIN).contains('\x1b'));
    }

    #[test]
    fn the_headline_says_what_will_be_deployed_where() {
        let plan = Plan {
            changes: vec![
                change("StorageStack.Uploads", Action::Update, vec![]),
                change("AuthStack.Auth.AuthenticatedRole", Action::Create, vec![]),
                change("AuthStack.Auth.UserPool", Action::NoChange, vec![]),
            ],
        };
        assert_eq!(
            plan_headline(&plan, |s| format!("dev-notes-{s}")),
            "2 changes to dev-notes-StorageStack and dev-notes-AuthStack"
        );
        let one = Plan {
            changes: plan.changes[1..].to_vec(),
        };
        assert_eq!(
            plan_headline(&one, |s| s.to_string()),
            "1 change to AuthStack"
        );
    }

    #[test]
    fn renders_no_changes() {
        let plan = Plan {
            changes: vec![change("AuthStack.Auth.UserPool", Action::NoChange, vec![])],
        };
        insta::assert_snapshot!(text(&plan, Style::PLAIN));
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
