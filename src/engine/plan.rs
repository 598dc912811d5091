//! Planning: the desired graph against what was read, by set operations over state fields.

use super::Snapshot;
use crate::desired::Desired;
use crate::plan::{self, Action, Change, Plan, Problem};
use crate::resource::{Attrs, TAG_STACK};

/// What to add to the resource to take over `physical`, by the node's adopt key.
fn adopt_hint(desired: &Desired, i: usize, physical: &str) -> String {
    match desired.nodes[i].adopt_key {
        Some("id") | None => format!("adopt: {physical}"),
        Some(k) => format!("adopt: {{{k}: {physical}}}"),
    }
}

/// Computes the plan from a snapshot: a change per node in focus, and the leftovers.
/// Dependents of resources being created or replaced see their attributes as "(known after
/// apply)"; nodes out of focus only lend their attributes.
pub fn plan(desired: &Desired, snap: &Snapshot) -> Plan {
    let mut attrs = snap.attrs();
    let lent = lent(desired, snap);
    let mut changes: Vec<Option<Change>> = Vec::with_capacity(desired.nodes.len());
    for i in 0..desired.nodes.len() {
        let change = if snap.focus[i] {
            Some(plan_node(desired, snap, &attrs, &changes, i))
        } else if lent[i] {
            Some(lend(desired, snap, &attrs, i))
        } else {
            None
        };
        if change
            .as_ref()
            .is_some_and(|c| matches!(c.action, Action::Create | Action::Replace | Action::Blocked))
        {
            attrs[i] = None;
        }
        changes.push(change);
    }
    // Out of focus: planned above only for what the focus needs; never shown or applied.
    let mut changes: Vec<Change> = changes
        .into_iter()
        .enumerate()
        .filter(|(i, _)| snap.focus[*i])
        .filter_map(|(_, c)| c)
        .collect();
    changes.extend(snap.orphans.iter().map(leftover));
    Plan { changes }
}

/// The nodes out of focus that a node in focus depends on: only they are lent, so a focused
/// plan costs its own stacks, not the app.
fn lent(desired: &Desired, snap: &Snapshot) -> Vec<bool> {
    let mut lent = vec![false; desired.nodes.len()];
    for (i, node) in desired.nodes.iter().enumerate() {
        if snap.focus[i] {
            for &d in &node.deps {
                lent[d] = !snap.focus[d];
            }
        }
    }
    lent
}

/// A node out of focus: its attributes stand as read or known; it is not planned. One that is
/// not deployed (or could not be read) blocks what needs it.
fn lend(desired: &Desired, snap: &Snapshot, attrs: &[Option<Attrs>], i: usize) -> Change {
    let node = &desired.nodes[i];
    let (spec, _) = desired.resolve(i, &snap.app, attrs);
    Change {
        id: node.id.clone(),
        stack: node.stack.clone(),
        kind: spec.kind(),
        physical: spec.name(),
        action: if attrs[i].is_none() {
            Action::Blocked
        } else {
            Action::NoChange
        },
        fields: Vec::new(),
        error: None,
        notes: Vec::new(),
    }
}

/// A node in focus, after the nodes before it (`changes`, in the same order).
fn plan_node(
    desired: &Desired,
    snap: &Snapshot,
    attrs: &[Option<Attrs>],
    changes: &[Option<Change>],
    i: usize,
) -> Change {
    let node = &desired.nodes[i];
    let (mut spec, _) = desired.resolve(i, &snap.app, attrs);
    if node.soft_deps.iter().any(|&d| changes_blocked(changes, d)) {
        spec = spec.without_unknown_optionals();
    }
    // Found through a parent that will be created or replaced: it will be made anew there.
    let parent_remade = node.def.kind().found_through_deps()
        && node.deps.iter().any(|&d| {
            changes
                .get(d)
                .and_then(Option::as_ref)
                .is_some_and(|c| matches!(c.action, Action::Create | Action::Replace))
        });
    let observed = snap.observed[i].as_ref().filter(|_| !parent_remade);
    let physical = observed.map_or_else(|| spec.name(), |o| o.id.clone());
    let (mut action, fields) = plan::decide(&spec, observed, desired.replaces(i));
    let error = problem(desired, snap, changes, i, action, &physical);
    if error.is_some() {
        action = Action::Blocked;
    }
    let notes = observed
        .filter(|_| action != Action::Replace)
        .map(|o| {
            o.notes
                .iter()
                .map(|n| n.replace("{id}", &node.id))
                .collect()
        })
        .unwrap_or_default();
    Change {
        id: node.id.clone(),
        stack: node.stack.clone(),
        kind: spec.kind(),
        physical,
        action,
        fields,
        error,
        notes,
    }
}

/// Why node `i` cannot be planned, if it cannot: its read failed, it is not ours, or a
/// dependency it cannot do without is blocked.
fn problem(
    desired: &Desired,
    snap: &Snapshot,
    changes: &[Option<Change>],
    i: usize,
    action: Action,
    physical: &str,
) -> Option<Problem> {
    let node = &desired.nodes[i];
    if let Some(e) = &snap.errors[i] {
        return Some(Problem::Aws(e.clone()));
    }
    if action == Action::Blocked {
        return Some(Problem::NotOurs {
            kind: node.def.kind().kind(),
            physical: physical.to_string(),
            hint: adopt_hint(desired, i, physical),
            at: node.loc.to_string(),
        });
    }
    let dep = node
        .deps
        .iter()
        .find(|&&d| changes_blocked(changes, d) && !node.soft_deps.contains(&d))?;
    let id = desired.nodes[*dep].id.clone();
    Some(if snap.focus[*dep] {
        Problem::DependsOnBlocked(id)
    } else {
        Problem::DependsOnUnfocused(id)
    })
}

/// A resource we own that no file declares any more: deleted.
fn leftover(o: &crate::engine::Orphan) -> Change {
    Change {
        id: o.owned.logical_id(),
        stack: o.owned.tags.get(TAG_STACK).cloned().unwrap_or_default(),
        kind: o.kind.kind(),
        physical: o.owned.id.clone(),
        action: Action::Delete,
        fields: Vec::new(),
        error: None,
        notes: Vec::new(),
    }
}

fn changes_blocked(changes: &[Option<Change>], i: usize) -> bool {
    changes
        .get(i)
        .and_then(Option::as_ref)
        .is_some_and(|c| c.action == Action::Blocked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::{ApiError, AwsError};
    use crate::config::template::UNKNOWN;
    use crate::engine::Orphan;
    use crate::engine::testing::deployed;
    use crate::resource::{KindId, Owned, Owner, TAG_ID, TAG_STACK, Tags};
    use serde_json::json;

    const STACK: &str = "stack: App
resources:
  Uploads:
    kind: bucket
  Api:
    kind: api
    routes:
      GET /notes: https://notes.example.com/notes
  Auth:
    kind: auth
    permissions:
      authenticated:
        - actions: [\"s3:GetObject\"]
          resources: [\"${App.Uploads.arn}/private/${cognito-identity.amazonaws.com:sub}/*\"]
";

    /// The example graph: a bucket, an API, and an `auth` (pool, client, identity pool,
    /// role, attachment), built from files as the commands build it.
    fn desired() -> Desired {
        crate::config::testing::desired("", STACK)
    }

    /// The desired graph, and a snapshot in which all of it is deployed as declared.
    fn desired_and_deployed() -> (Desired, Snapshot) {
        let d = desired();
        let snap = deployed(&d);
        (d, snap)
    }

    fn index(d: &Desired, id: &str) -> usize {
        d.nodes.iter().position(|n| n.id == id).unwrap()
    }

    fn actions(p: &Plan) -> Vec<(&str, Action)> {
        p.changes
            .iter()
            .map(|c| (c.id.as_str(), c.action))
            .collect()
    }

    fn change<'a>(p: &'a Plan, id: &str) -> &'a Change {
        p.changes.iter().find(|c| c.id == id).unwrap()
    }

    #[test]
    fn nothing_deployed_is_a_create_of_every_node_in_dependency_order() {
        let (d, mut snap) = desired_and_deployed();
        snap.observed = vec![None; d.nodes.len()];
        let p = plan(&d, &snap);
        let mut ids: Vec<&str> = d.nodes.iter().map(|n| n.id.as_str()).collect();
        ids.sort();
        assert_eq!(
            ids,
            [
                "App.Api",
                "App.Auth.AuthenticatedRole",
                "App.Auth.IdentityPool",
                "App.Auth.IdentityPoolRoles",
                "App.Auth.UserPool",
                "App.Auth.UserPoolClient",
                "App.Uploads",
            ]
        );
        for (i, n) in d.nodes.iter().enumerate() {
            assert!(n.deps.iter().all(|&dep| dep < i), "{} after its deps", n.id);
        }
        let role = index(&d, "App.Auth.AuthenticatedRole");
        assert!(
            d.nodes[role].deps.contains(&index(&d, "App.Uploads")),
            "the policy names the bucket"
        );
        let in_plan: Vec<&str> = p.changes.iter().map(|c| c.id.as_str()).collect();
        let declared: Vec<&str> = d.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(in_plan, declared, "the plan keeps the graph's order");
        assert!(
            p.changes.iter().all(|c| c.action == Action::Create),
            "{:?}",
            actions(&p)
        );
        assert_eq!(p.summary().create, d.nodes.len());
    }

    #[test]
    fn what_matches_the_files_is_unchanged() {
        let d = desired();
        let p = plan(&d, &deployed(&d));
        assert!(
            p.changes.iter().all(|c| c.action == Action::NoChange),
            "{:?}",
            actions(&p)
        );
        assert!(!p.has_changes());
    }

    #[test]
    fn a_changed_field_is_an_update_of_that_field_only() {
        let (d, mut snap) = desired_and_deployed();
        let role = index(&d, "App.Auth.AuthenticatedRole");
        let o = snap.observed[role].as_mut().unwrap();
        o.state.insert("policy", json!({"Statement": []}));
        let p = plan(&d, &snap);
        let c = change(&p, "App.Auth.AuthenticatedRole");
        assert_eq!(c.action, Action::Update);
        let fields: Vec<&str> = c.fields.iter().map(|f| f.field).collect();
        assert_eq!(fields, ["policy"]);
        assert!(!c.fields[0].forces_replacement);
        assert_eq!(p.summary().update, 1);
    }

    #[test]
    fn a_forcing_field_replaces_and_dependents_see_known_after_apply() {
        let (d, mut snap) = desired_and_deployed();
        let pool = index(&d, "App.Auth.UserPool");
        let o = snap.observed[pool].as_mut().unwrap();
        o.state
            .insert("usernameAttributes", json!(["phone_number"]));
        let p = plan(&d, &snap);
        let c = change(&p, "App.Auth.UserPool");
        assert_eq!(c.action, Action::Replace);
        assert!(c.fields.iter().any(|f| f.forces_replacement));
        // The client lives in the pool: made anew in the new one.
        assert_eq!(change(&p, "App.Auth.UserPoolClient").action, Action::Create);
        // The identity pool names the new pool's id, which is known only after apply.
        let ip = change(&p, "App.Auth.IdentityPool");
        assert_eq!(ip.action, Action::Update);
        let shown = serde_json::to_string(&ip.fields).unwrap();
        assert!(shown.contains(UNKNOWN), "{shown}");
    }

    #[test]
    fn asked_replacements_replace_whatever_the_diff() {
        let mut d = desired();
        d.force_replace(&["App.Api".to_string()]).unwrap();
        let snap = deployed(&d);
        let p = plan(&d, &snap);
        assert_eq!(change(&p, "App.Api").action, Action::Replace);
        assert_eq!(change(&p, "App.Uploads").action, Action::NoChange);
    }

    #[test]
    fn what_is_not_ours_is_blocked_with_an_adopt_hint_and_blocks_what_needs_it() {
        let (d, mut snap) = desired_and_deployed();
        let pool = index(&d, "App.Auth.UserPool");
        snap.observed[pool].as_mut().unwrap().owner = Owner::Foreign;
        let p = plan(&d, &snap);
        let c = change(&p, "App.Auth.UserPool");
        assert_eq!(c.action, Action::Blocked);
        let why = c.error.as_ref().unwrap().to_string();
        assert!(why.contains("adopt: {userPool: dev-notes-Auth}"), "{why}");
        let client = change(&p, "App.Auth.UserPoolClient");
        assert_eq!(client.action, Action::Blocked);
        assert!(
            matches!(&client.error, Some(Problem::DependsOnBlocked(id)) if id == "App.Auth.UserPool")
        );
        assert!(p.is_blocked());
        assert_eq!(change(&p, "App.Uploads").action, Action::NoChange);
    }

    #[test]
    fn a_read_that_failed_is_blocked_with_aws_answer() {
        let (d, mut snap) = desired_and_deployed();
        let api = index(&d, "App.Api");
        let e = AwsError::from_api("reading", "API", "a", ApiError::coded("AccessDenied", "no"));
        snap.errors[api] = Some(e);
        let p = plan(&d, &snap);
        let c = change(&p, "App.Api");
        assert_eq!(c.action, Action::Blocked);
        assert!(matches!(&c.error, Some(Problem::Aws(e)) if e.is("AccessDenied")));
    }

    #[test]
    fn a_leftover_is_a_delete_under_its_logical_id() {
        let (d, mut snap) = desired_and_deployed();
        snap.orphans.push(Orphan {
            kind: KindId::Role,
            owned: Owned {
                id: "dev-notes-App-Old-AuthRole".into(),
                tags: Tags::from([
                    (TAG_STACK.into(), "App".into()),
                    (TAG_ID.into(), "Old.AuthenticatedRole".into()),
                ]),
            },
        });
        let p = plan(&d, &snap);
        let last = p.changes.last().unwrap();
        assert_eq!(
            (last.id.as_str(), last.action, last.physical.as_str()),
            (
                "App.Old.AuthenticatedRole",
                Action::Delete,
                "dev-notes-App-Old-AuthRole"
            )
        );
        assert_eq!(p.summary().delete, 1);
    }

    #[test]
    fn a_focused_plan_lends_only_what_its_focus_depends_on() {
        let d = desired();
        let mut snap = deployed(&d);
        snap.focus = d
            .nodes
            .iter()
            .map(|n| n.id == "App.Auth.UserPoolClient")
            .collect();
        let lent: Vec<&str> = lent(&d, &snap)
            .iter()
            .enumerate()
            .filter(|(_, l)| **l)
            .map(|(i, _)| d.nodes[i].id.as_str())
            .collect();
        assert_eq!(lent, ["App.Auth.UserPool"], "the client's one dependency");
        let p = plan(&d, &snap);
        let ids: Vec<&str> = p.changes.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["App.Auth.UserPoolClient"]);
    }

    #[test]
    fn out_of_focus_nodes_lend_attributes_and_block_when_not_deployed() {
        let (d, mut snap) = desired_and_deployed();
        let bucket = index(&d, "App.Uploads");
        snap.focus = d
            .nodes
            .iter()
            .map(|n| n.id.starts_with("App.Auth"))
            .collect();
        let p = plan(&d, &snap);
        assert!(p.changes.iter().all(|c| c.id.starts_with("App.Auth")));
        assert!(p.changes.iter().all(|c| c.action == Action::NoChange));
        // The bucket the role's policy names is neither read nor known.
        snap.observed[bucket] = None;
        let p = plan(&d, &snap);
        let role = change(&p, "App.Auth.AuthenticatedRole");
        assert_eq!(role.action, Action::Blocked);
        assert!(
            matches!(&role.error, Some(Problem::DependsOnUnfocused(id)) if id == "App.Uploads")
        );
    }
}
