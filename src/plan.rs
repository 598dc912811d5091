//! The plan: for each resource, create / update / replace / no change (or blocked), with the
//! field-level differences. Computed from the desired graph and what was read, by set
//! operations over state fields; rendering lives in `render.rs`.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use crate::aws::AwsError;
use crate::resource::{Observed, Owner, Spec, State};

/// Why a resource could not be planned or applied: typed, with its source kept, until it is
/// shown. Serialized (in `plan --json` and `/status`) as its message.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Problem {
    /// An AWS call failed, or stackwatch refused a step (see `AwsError::refused`).
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// A resource with our name but not our tags: never modified or deleted.
    #[error(
        "a {kind} with this name already exists ({physical}) without stackwatch's tags; \
         stackwatch never modifies or deletes what it does not own. To manage it, add `{hint}` \
         to the resource at {at}"
    )]
    NotOurs {
        kind: &'static str,
        physical: String,
        hint: String,
        at: String,
    },
    /// A dependency is blocked, so this cannot be planned either.
    #[error("depends on {0}, which is blocked")]
    DependsOnBlocked(String),
    /// A dependency in a stack out of focus is not deployed, so this cannot be planned.
    #[error(
        "depends on {0}, which is out of focus and not deployed (or could not be read): apply its stack too"
    )]
    DependsOnUnfocused(String),
    /// A dependency failed during this apply, so this was skipped.
    #[error("skipped: depends on {0}, which failed")]
    DependsOnFailed(String),
    /// The plan said blocked; nothing was sent.
    #[error("{kind} {physical} is not stackwatch's; left untouched")]
    LeftUntouched {
        kind: &'static str,
        physical: String,
    },
}

impl Serialize for Problem {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// A resource's problem, by logical id: `AuthStack.Auth.AuthRole: creating IAM role (…): …`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{id}: {problem}")]
pub struct ResourceProblem {
    pub id: String,
    pub problem: Problem,
}

/// A list of resource problems, one per line.
pub fn lines(problems: &[ResourceProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n  ")
}

/// What will happen to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Replace,
    Delete,
    NoChange,
    /// Cannot proceed: not ours, or it could not be read. See `Change::error`.
    Blocked,
}

/// One field that differs. `old` is None when AWS lacks it, `new` None when we drop it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: &'static str,
    pub old: Option<Value>,
    pub new: Option<Value>,
    pub forces_replacement: bool,
}

/// The plan for one resource.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// Logical id, such as `AuthStack.Auth.UserPool`.
    pub id: String,
    pub stack: String,
    pub kind: &'static str,
    /// Physical name or id as known now.
    pub physical: String,
    pub action: Action,
    pub fields: Vec<FieldChange>,
    /// Why it is blocked.
    pub error: Option<Problem>,
    /// What the reader should know beyond the changes (a setting only a replacement brings).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The whole plan, in dependency order.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub changes: Vec<Change>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub replace: usize,
    pub delete: usize,
    pub blocked: usize,
}

impl Plan {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.changes {
            match c.action {
                Action::Create => s.create += 1,
                Action::Update => s.update += 1,
                Action::Replace => s.replace += 1,
                Action::Delete => s.delete += 1,
                Action::Blocked => s.blocked += 1,
                Action::NoChange => {}
            }
        }
        s
    }

    pub fn has_changes(&self) -> bool {
        self.changes
            .iter()
            .any(|c| !matches!(c.action, Action::NoChange | Action::Blocked))
    }

    pub fn is_blocked(&self) -> bool {
        self.changes.iter().any(|c| c.action == Action::Blocked)
    }

    /// Every resource that cannot be planned, with why.
    pub fn problems(&self) -> Vec<ResourceProblem> {
        self.changes
            .iter()
            .filter_map(|c| {
                Some(ResourceProblem {
                    id: c.id.clone(),
                    problem: c.error.clone()?,
                })
            })
            .collect()
    }
}

/// Field differences between desired and observed: the union of field names, compared by value
/// (a policy's action names ignoring case, as IAM reads them: [`crate::policy::same`]).
pub fn diff(desired: &State, observed: &State, force_new: &[&str]) -> Vec<FieldChange> {
    let names: BTreeSet<&&'static str> = desired.keys().chain(observed.keys()).collect();
    names
        .into_iter()
        .filter_map(|name| {
            let (new, old) = (desired.get(*name), observed.get(*name));
            let same = match (new, old) {
                (Some(n), Some(o)) => crate::policy::same(n, o),
                _ => new == old,
            };
            (!same).then(|| FieldChange {
                field: name,
                old: old.cloned(),
                new: new.cloned(),
                forces_replacement: force_new.contains(name),
            })
        })
        .collect()
}

/// Decides the action for one resource from its spec and what was read. `replace` asks for a
/// replacement whatever the diff (`apply --replace ID`).
pub fn decide(
    spec: &Spec,
    observed: Option<&Observed>,
    replace: bool,
) -> (Action, Vec<FieldChange>) {
    match observed {
        None => (Action::Create, Vec::new()),
        Some(o) if o.owner == Owner::Foreign => (Action::Blocked, Vec::new()),
        Some(o) => {
            let fields = diff(&spec.state(), &o.state, spec.force_new());
            let action = if replace {
                Action::Replace
            } else if fields.is_empty() {
                Action::NoChange
            } else if fields.iter().any(|f| f.forces_replacement) {
                Action::Replace
            } else {
                Action::Update
            };
            (action, fields)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_is_by_field_and_marks_replacement() {
        let desired = State::from([("a", json!(1)), ("b", json!(["x"])), ("c", json!(true))]);
        let observed = State::from([("a", json!(1)), ("b", json!(["y"])), ("d", json!(0))]);
        let d = diff(&desired, &observed, &["b"]);
        let names: Vec<&str> = d.iter().map(|f| f.field).collect();
        assert_eq!(names, ["b", "c", "d"]);
        assert!(d[0].forces_replacement);
        assert_eq!(d[1].old, None);
        assert_eq!(d[2].new, None);
    }

    #[test]
    fn a_policy_action_in_another_case_is_no_change_and_the_plan_shows_it_as_written() {
        use crate::policy::PolicyDocument;
        let policy = |action: &str| {
            State::from([(
                "policy",
                PolicyDocument(json!({"Version": "2012-10-17", "Statement": {
                    "Effect": "Allow", "Action": [action], "Resource": "arn:aws:s3:::b/*"
                }}))
                .canonical(),
            )])
        };
        assert!(diff(&policy("s3:GetObject"), &policy("s3:getobject"), &[]).is_empty());
        let changed = diff(&policy("s3:GetObject"), &policy("s3:putobject"), &[]);
        assert_eq!(changed.len(), 1);
        let shown = changed[0].new.as_ref().unwrap().to_string();
        assert!(shown.contains("\"s3:GetObject\""), "{shown}");
    }

    #[test]
    fn equal_states_have_no_diff() {
        let s = State::from([("a", json!({"k": [1, 2]}))]);
        assert!(diff(&s, &s.clone(), &[]).is_empty());
    }
}
