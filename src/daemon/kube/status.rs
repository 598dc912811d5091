//! A `Stack` object's status, computed from what the daemon last found (`/status`): a pure
//! function, so every condition and reason is unit-tested without an API server. Conditions
//! keep their transition time while their status stays.

use crate::daemon::approval::plan_hash;
use crate::daemon::state::Status;
use crate::operator::crd::{Condition, ObjectStatus, PendingPlan, ResourceState, StackStatus};
use crate::operator::store::Object;
use crate::plan::Action;

/// What a status is computed from, besides the daemon's `/status`.
pub struct Inputs<'a> {
    pub object: &'a Object,
    /// Its `spec.stack`.
    pub stack: &'a str,
    /// `{stage}-{app}-{stack}`, once known: where its outputs are.
    pub full_name: Option<String>,
    /// The generation of this object that the load of a config digest read: `None` when that
    /// load left it out (it came later) or is unknown.
    pub generation_at: &'a (dyn Fn(&str) -> Option<Option<i64>> + Sync),
    /// Whether its last reconcile found drift; `None`: no reconcile of it since the last status.
    pub drift: Option<bool>,
    pub previous: Option<&'a StackStatus>,
    /// The stacks that `uses` it.
    pub used_by: Vec<String>,
    /// RFC 3339.
    pub now: &'a str,
}

/// `(type, status, reason, message)` of one condition.
type Level = (&'static str, &'static str, &'static str, String);

/// The status the object should have now.
pub fn stack_status(i: &Inputs<'_>, s: &Status) -> StackStatus {
    let resources: Vec<ResourceState> = s
        .resources
        .iter()
        .filter(|r| r.stack == i.stack)
        .map(|r| ResourceState {
            name: r.id.clone(),
            kind: r.kind.to_string(),
            id: r.physical.clone(),
            state: action_name(r.state),
        })
        .collect();
    let outputs = i
        .full_name
        .as_ref()
        .and_then(|f| s.outputs.get(f))
        .cloned()
        .unwrap_or_default();
    // What the reconcile that decides read: only one whose load saw this object speaks for it.
    let last = last_of(i.stack, s);
    let observed = last
        .as_ref()
        .and_then(|l| l.2.as_deref())
        .and_then(|d| (i.generation_at)(d));
    let last = last.filter(|_| observed.is_some());
    let generation = observed
        .flatten()
        .or(i.previous.and_then(|p| p.object.observed_generation));
    let levels = [ready(i, s, &last), synced(i, s, &last), drifted(i)];
    let previous = i.previous.map_or(&[][..], |p| &p.object.conditions[..]);
    let conditions = levels
        .into_iter()
        .map(|l| condition(l, previous, generation, i.now))
        .collect();
    StackStatus {
        object: ObjectStatus {
            observed_generation: generation,
            conditions,
            pending_plan: None,
        },
        resources,
        outputs,
        used_by: i.used_by.clone(),
    }
}

/// What an `App`'s status is computed from, besides the daemon's `/status`.
pub struct AppInputs<'a> {
    pub name: &'a str,
    pub generation: Option<i64>,
    /// The plan waiting for approval, as shown.
    pub pending: Option<&'a str>,
    /// The last refused approval: the hash it named, and the pending plan's then.
    pub refused: Option<(String, Option<String>)>,
    pub previous: Option<&'a ObjectStatus>,
    pub now: &'a str,
}

/// The `App`'s status: whether the config loads, and the plan that waits for
/// `stackwatch.dev/approve=<hash>` with the command that approves it.
pub fn app_status(i: &AppInputs<'_>, s: &Status) -> ObjectStatus {
    let ready: Level = if s.config_errors.is_empty() {
        (
            "Ready",
            "True",
            "Loaded",
            "the App and its Stacks load".into(),
        )
    } else {
        ("Ready", "False", "InvalidSpec", s.config_errors.join("\n"))
    };
    let pending = i.pending.map(|text| PendingPlan {
        summary: s.pending_plan.as_ref().map_or_else(String::new, |p| {
            let n = &p.summary;
            format!(
                "{} to create, {} to update, {} to replace, {} to delete",
                n.create, n.update, n.replace, n.delete
            )
        }),
        text: text.to_string(),
        hash: plan_hash(text),
    });
    let command = |hash: &str| {
        format!(
            "kubectl annotate app {} stackwatch.dev/approve={hash} --overwrite",
            i.name
        )
    };
    let approved: Level = match (&pending, &i.refused) {
        (Some(p), Some((named, _))) => (
            "Approved",
            "False",
            "StaleApproval",
            format!(
                "the annotation names plan {named}, which is not the pending plan: nothing was \
                 applied; to apply the pending plan: {}",
                command(&p.hash)
            ),
        ),
        (Some(p), None) => ("Approved", "False", "WaitingForApproval", command(&p.hash)),
        (None, Some((named, _))) => (
            "Approved",
            "False",
            "StaleApproval",
            format!(
                "the annotation names plan {named}, but no plan is pending: nothing was applied"
            ),
        ),
        (None, None) => ("Approved", "True", "NothingPending", "no plan waits".into()),
    };
    let previous = i.previous.map_or(&[][..], |p| &p.conditions[..]);
    ObjectStatus {
        observed_generation: i.generation,
        conditions: [ready, approved]
            .into_iter()
            .map(|l| condition(l, previous, i.generation, i.now))
            .collect(),
        pending_plan: pending,
    }
}

/// The problems of the config that are this object's; all of them when none is (an invalid
/// `App` or another stack stops every stack).
pub fn problems_of<'a>(object: &str, s: &'a Status) -> Vec<&'a str> {
    let prefix = format!("Stack {object},");
    let own: Vec<&str> = s
        .config_errors
        .iter()
        .filter(|e| e.starts_with(&prefix))
        .map(String::as_str)
        .collect();
    if own.is_empty() {
        s.config_errors.iter().map(String::as_str).collect()
    } else {
        own
    }
}

/// A key's last reconcile: its result, error and the config digest it started from.
type Last<'a> = (&'a str, Option<String>, Option<String>);

fn ready(i: &Inputs<'_>, s: &Status, last: &Option<Last<'_>>) -> Level {
    let problems = problems_of(&i.object.name, s);
    if !problems.is_empty() {
        return ("Ready", "False", "InvalidSpec", problems.join("\n"));
    }
    let Some(last) = last else {
        return (
            "Ready",
            "Unknown",
            "Reconciling",
            "not reconciled yet".into(),
        );
    };
    let held: Vec<&str> = s
        .resources
        .iter()
        .filter(|r| r.stack == i.stack && r.outcome == Some("held"))
        .map(|r| r.id.as_str())
        .collect();
    match last.0 {
        "error" => (
            "Ready",
            "False",
            "ReconcileFailed",
            last.1.clone().unwrap_or_default(),
        ),
        "pending" => (
            "Ready",
            "False",
            "PlanPending",
            "a plan waits for approval, or for the leader to apply it".into(),
        ),
        "success" if !held.is_empty() => (
            "Ready",
            "False",
            "HeldByGuard",
            format!(
                "not applied without --allow-replace or --allow-delete: {}",
                held.join(", ")
            ),
        ),
        "success" => ("Ready", "True", "Deployed", "AWS matches the spec".into()),
        // An invalid load whose problems a later load already cleared: its own reconcile
        // is on the way.
        _ => (
            "Ready",
            "Unknown",
            "Reconciling",
            "the config is being read again".into(),
        ),
    }
}

/// The result and error of the later of the stack's own last reconcile and the app's.
fn last_of<'a>(stack: &str, s: &'a Status) -> Option<Last<'a>> {
    [stack, crate::daemon::metrics::ALL_STACKS]
        .iter()
        .filter_map(|k| s.stacks.get(*k))
        .filter_map(|e| e.last_reconcile.as_ref().map(|l| (l, e)))
        .max_by(|a, b| a.0.finished_at.cmp(&b.0.finished_at))
        .map(|(l, e)| (l.result, e.last_error.clone(), e.config_digest.clone()))
}

fn synced(i: &Inputs<'_>, s: &Status, last: &Option<Last<'_>>) -> Level {
    let out: Vec<String> = s
        .resources
        .iter()
        .filter(|r| r.stack == i.stack && r.state != Action::NoChange && r.outcome != Some("done"))
        .map(|r| format!("{}: {}", r.id, action_name(r.state)))
        .collect();
    if last.is_none() {
        ("Synced", "Unknown", "Reconciling", "not read yet".into())
    } else if out.is_empty() {
        (
            "Synced",
            "True",
            "InSync",
            "every resource matches its spec".into(),
        )
    } else {
        ("Synced", "False", "OutOfSync", out.join("\n"))
    }
}

fn drifted(i: &Inputs<'_>) -> Level {
    let was = i
        .previous
        .and_then(|p| p.object.conditions.iter().find(|c| c.kind == "Drifted"))
        .is_some_and(|c| c.status == "True");
    match i.drift {
        Some(true) => (
            "Drifted",
            "True",
            "DriftReverted",
            "AWS was changed outside stackwatch; the last reconcile planned it back".into(),
        ),
        None if was => (
            "Drifted",
            "True",
            "DriftReverted",
            "AWS was changed outside stackwatch; the last reconcile planned it back".into(),
        ),
        _ => (
            "Drifted",
            "False",
            "NoDrift",
            "AWS matched at the last read".into(),
        ),
    }
}

fn condition(l: Level, previous: &[Condition], generation: Option<i64>, now: &str) -> Condition {
    let (kind, status, reason, message) = l;
    let since = previous
        .iter()
        .find(|c| c.kind == kind && c.status == status)
        .map_or_else(|| now.to_string(), |c| c.last_transition_time.clone());
    Condition {
        kind: kind.into(),
        status: status.into(),
        reason: reason.into(),
        message,
        last_transition_time: since,
        observed_generation: generation,
    }
}

fn action_name(a: Action) -> String {
    serde_json::to_value(a)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::state::{LastReconcile, ResourceStatus, StackStatus as KeyStatus};
    use serde_json::json;

    fn object() -> Object {
        Object {
            name: "authstack".into(),
            uid: None,
            generation: Some(2),
            spec: json!({"stack": "AuthStack"}),
            deleting: false,
            finalizers: vec![],
        }
    }

    fn finished(s: &mut Status, key: &str, at: &str, result: &'static str, error: Option<&str>) {
        s.stacks.insert(
            key.into(),
            KeyStatus {
                reconciles: 1,
                last_reconcile: Some(LastReconcile {
                    finished_at: at.into(),
                    result,
                    duration_ms: 1,
                }),
                last_error: error.map(str::to_string),
                config_digest: Some("d2".into()),
            },
        );
    }

    fn resource(id: &str, state: Action, outcome: Option<&'static str>) -> ResourceStatus {
        ResourceStatus {
            id: id.into(),
            stack: id.split('.').next().unwrap().into(),
            kind: "Cognito user pool",
            physical: "us-east-1_abc".into(),
            state,
            outcome,
            error: None,
        }
    }

    fn status_of(s: &Status, drift: Option<bool>, previous: Option<&StackStatus>) -> StackStatus {
        let o = object();
        stack_status(
            &Inputs {
                object: &o,
                stack: "AuthStack",
                full_name: Some("dev-notes-AuthStack".into()),
                generation_at: &|d: &str| (d == "d2").then_some(Some(2)),
                drift,
                previous,
                used_by: vec![],
                now: "2026-12-06T00:00:00Z",
            },
            s,
        )
    }

    fn level(st: &StackStatus, kind: &str) -> (String, String) {
        let c = st
            .object
            .conditions
            .iter()
            .find(|c| c.kind == kind)
            .unwrap();
        (c.status.clone(), c.reason.clone())
    }

    #[test]
    fn a_deployed_stack_is_ready_and_synced_with_its_resources_and_outputs() {
        let mut s = Status::default();
        finished(&mut s, "AuthStack", "2026-12-06T00:00:01Z", "success", None);
        s.resources = vec![
            resource("AuthStack.Auth.UserPool", Action::Create, Some("done")),
            resource("ApiStack.Api", Action::Create, None),
        ];
        s.outputs.insert(
            "dev-notes-AuthStack".into(),
            [("UserPoolId".to_string(), "us-east-1_abc".to_string())].into(),
        );
        let st = status_of(&s, Some(false), None);
        assert_eq!(level(&st, "Ready"), ("True".into(), "Deployed".into()));
        assert_eq!(level(&st, "Synced"), ("True".into(), "InSync".into()));
        assert_eq!(level(&st, "Drifted"), ("False".into(), "NoDrift".into()));
        assert_eq!(st.object.observed_generation, Some(2));
        assert_eq!(st.resources.len(), 1, "only its own resources");
        assert_eq!(st.resources[0].state, "create");
        assert_eq!(st.outputs["UserPoolId"], "us-east-1_abc");
    }

    #[test]
    fn an_invalid_spec_names_this_objects_problems_or_else_all() {
        let mut s = Status {
            config_errors: vec![
                "Stack other, spec.uses[0]: no such stack".into(),
                "Stack authstack, spec.resources.Auth.login[1]: expected email".into(),
            ],
            ..Status::default()
        };
        let st = status_of(&s, None, None);
        let ready = &st.object.conditions[0];
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("False", "InvalidSpec")
        );
        assert_eq!(
            ready.message,
            "Stack authstack, spec.resources.Auth.login[1]: expected email"
        );
        s.config_errors.remove(1);
        let st = status_of(&s, None, None);
        assert_eq!(
            st.object.conditions[0].message,
            "Stack other, spec.uses[0]: no such stack"
        );
    }

    #[test]
    fn the_later_of_its_own_and_the_apps_reconcile_decides() {
        let mut s = Status::default();
        finished(&mut s, "AuthStack", "2026-12-06T00:00:01Z", "success", None);
        finished(
            &mut s,
            "*",
            "2026-12-06T00:00:02Z",
            "error",
            Some("AccessDenied"),
        );
        let st = status_of(&s, None, None);
        assert_eq!(
            level(&st, "Ready"),
            ("False".into(), "ReconcileFailed".into())
        );
        assert_eq!(st.object.conditions[0].message, "AccessDenied");
        finished(&mut s, "AuthStack", "2026-12-06T00:00:03Z", "pending", None);
        assert_eq!(level(&status_of(&s, None, None), "Ready").1, "PlanPending");
        finished(&mut s, "*", "2026-12-06T00:00:04Z", "invalid", None);
        assert_eq!(
            level(&status_of(&s, None, None), "Ready"),
            ("Unknown".into(), "Reconciling".into()),
            "an invalid load whose problems are gone is never Deployed"
        );
    }

    #[test]
    fn an_app_shows_the_pending_plan_its_hash_and_a_stale_approval() {
        let s = Status::default();
        let inputs = |pending, refused| AppInputs {
            name: "notes",
            generation: Some(1),
            pending,
            refused,
            previous: None,
            now: "2026-12-06T00:00:00Z",
        };
        let st = app_status(&inputs(None, None), &s);
        assert_eq!(st.conditions[1].reason, "NothingPending");
        assert!(st.pending_plan.is_none());
        let st = app_status(&inputs(Some("+ create AuthStack.Auth.UserPool"), None), &s);
        let hash = st.pending_plan.as_ref().unwrap().hash.clone();
        assert_eq!(hash, plan_hash("+ create AuthStack.Auth.UserPool"));
        assert_eq!(hash.len(), 16);
        assert_eq!(st.conditions[1].reason, "WaitingForApproval");
        assert!(
            st.conditions[1]
                .message
                .contains(&format!("stackwatch.dev/approve={hash}"))
        );
        let refused = Some(("0123456789abcdef".to_string(), Some(hash.clone())));
        let st = app_status(
            &inputs(Some("+ create AuthStack.Auth.UserPool"), refused),
            &s,
        );
        assert_eq!(st.conditions[1].reason, "StaleApproval");
        assert!(st.conditions[1].message.contains("0123456789abcdef"));
    }

    #[test]
    fn only_a_reconcile_whose_load_saw_the_object_speaks_for_it() {
        let mut s = Status::default();
        finished(&mut s, "*", "2026-12-06T00:00:01Z", "success", None);
        s.stacks.get_mut("*").unwrap().config_digest = Some("before the object".into());
        let st = status_of(&s, None, None);
        assert_eq!(
            level(&st, "Ready"),
            ("Unknown".into(), "Reconciling".into())
        );
        assert_eq!(st.object.observed_generation, None);
        finished(&mut s, "AuthStack", "2026-12-06T00:00:02Z", "success", None);
        let st = status_of(&s, None, None);
        assert_eq!(level(&st, "Ready"), ("True".into(), "Deployed".into()));
        assert_eq!(st.object.observed_generation, Some(2));
    }

    #[test]
    fn held_changes_are_not_ready_and_not_synced() {
        let mut s = Status::default();
        finished(&mut s, "AuthStack", "2026-12-06T00:00:01Z", "success", None);
        s.resources = vec![resource(
            "AuthStack.Auth.UserPool",
            Action::Replace,
            Some("held"),
        )];
        let st = status_of(&s, None, None);
        assert_eq!(level(&st, "Ready"), ("False".into(), "HeldByGuard".into()));
        assert_eq!(level(&st, "Synced"), ("False".into(), "OutOfSync".into()));
        assert!(
            st.object.conditions[1]
                .message
                .contains("AuthStack.Auth.UserPool: replace")
        );
    }

    #[test]
    fn drift_stays_until_a_reconcile_finds_none_and_transition_times_hold() {
        let mut s = Status::default();
        finished(&mut s, "AuthStack", "2026-12-06T00:00:01Z", "success", None);
        let mut first = status_of(&s, Some(true), None);
        assert_eq!(
            level(&first, "Drifted"),
            ("True".into(), "DriftReverted".into())
        );
        for c in &mut first.object.conditions {
            c.last_transition_time = "earlier".into();
        }
        let kept = status_of(&s, None, Some(&first));
        assert_eq!(level(&kept, "Drifted").0, "True");
        assert!(
            kept.object
                .conditions
                .iter()
                .all(|c| c.last_transition_time == "earlier")
        );
        let gone = status_of(&s, Some(false), Some(&kept));
        let d = gone
            .object
            .conditions
            .iter()
            .find(|c| c.kind == "Drifted")
            .unwrap();
        assert_eq!(
            (d.status.as_str(), d.last_transition_time.as_str()),
            ("False", "2026-12-06T00:00:00Z")
        );
    }
}
