//! Planning: the desired graph against what was read, by set operations over state fields.

use super::Snapshot;
use crate::desired::Desired;
use crate::plan::{self, Action, Change, Plan, Problem};
use crate::resource::TAG_STACK;

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
    let mut changes = Vec::with_capacity(desired.nodes.len());
    for (i, node) in desired.nodes.iter().enumerate() {
        let (mut spec, _) = desired.resolve(i, &snap.app, &attrs);
        if !snap.focus[i] {
            // Out of focus: its attributes stand as read or known; it is not planned. One
            // that is not deployed (or could not be read) blocks what needs it.
            let missing = attrs[i].is_none();
            changes.push(Change {
                id: node.id.clone(),
                stack: node.stack.clone(),
                kind: spec.kind(),
                physical: spec.name(),
                action: if missing {
                    Action::Blocked
                } else {
                    Action::NoChange
                },
                fields: Vec::new(),
                error: None,
                notes: Vec::new(),
            });
            continue;
        }
        if node.soft_deps.iter().any(|&d| changes_blocked(&changes, d)) {
            spec = spec.without_unknown_optionals();
        }
        // Found through a parent that will be created or replaced: it will be made anew there.
        let parent_remade = node.def.kind().found_through_deps()
            && node.deps.iter().any(|&d| {
                changes
                    .get(d)
                    .is_some_and(|c: &Change| matches!(c.action, Action::Create | Action::Replace))
            });
        let observed = snap.observed[i].as_ref().filter(|_| !parent_remade);
        let physical = observed.map_or_else(|| spec.name(), |o| o.id.clone());
        let (mut action, fields) = plan::decide(&spec, observed, desired.replaces(i));
        let mut error = None;
        if let Some(e) = &snap.errors[i] {
            action = Action::Blocked;
            error = Some(Problem::Aws(e.clone()));
        } else if action == Action::Blocked {
            let hint = adopt_hint(desired, i, &physical);
            error = Some(Problem::NotOurs {
                kind: spec.kind(),
                physical: physical.clone(),
                hint,
                at: node.loc.to_string(),
            });
        } else if let Some(dep) = node
            .deps
            .iter()
            .find(|&&d| changes_blocked(&changes, d) && !node.soft_deps.contains(&d))
        {
            action = Action::Blocked;
            let id = desired.nodes[*dep].id.clone();
            error = Some(if snap.focus[*dep] {
                Problem::DependsOnBlocked(id)
            } else {
                Problem::DependsOnUnfocused(id)
            });
        }
        if matches!(action, Action::Create | Action::Replace | Action::Blocked) {
            attrs[i] = None;
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
        changes.push(Change {
            id: node.id.clone(),
            stack: node.stack.clone(),
            kind: spec.kind(),
            physical,
            action,
            fields,
            error,
            notes,
        });
    }
    // Out of focus: planned above only so that indices line up; never shown or applied.
    let mut changes: Vec<Change> = changes
        .into_iter()
        .enumerate()
        .filter(|(i, _)| snap.focus[*i])
        .map(|(_, c)| c)
        .collect();
    for o in &snap.orphans {
        changes.push(Change {
            id: o.owned.logical_id(),
            stack: o.owned.tags.get(TAG_STACK).cloned().unwrap_or_default(),
            kind: o.kind.kind(),
            physical: o.owned.id.clone(),
            action: Action::Delete,
            fields: Vec::new(),
            error: None,
            notes: Vec::new(),
        });
    }
    Plan { changes }
}

fn changes_blocked(changes: &[Change], i: usize) -> bool {
    changes.get(i).is_some_and(|c| c.action == Action::Blocked)
}
