//! Writing what each finished reconcile found back to the objects, as the leader only: the
//! `App`'s and each `Stack`'s status (through the status subresource, server-side apply),
//! the `<name>-outputs` ConfigMaps, Events, and the finalizer's part of a `Stack`'s deletion
//! ([`super::finalize`]). Each write is sent only when what it writes changed.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{ConfigMap, ObjectReference};
use kube::api::{Patch, PatchParams};
use kube::runtime::events::{Event as KubeEvent, EventType, Recorder, Reporter};
use kube::{Api, Client};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::{MANAGER, election, finalize, status};
use crate::console::Activity;
use crate::daemon::approval::{Approval, Mode};
use crate::daemon::state::{Shared, Status};
use crate::operator::crd::{App, AppStatus, GROUP, Stack, StackStatus, VERSION};
use crate::operator::store::{Object, Store};

/// What the publisher last wrote, so that an unchanged status or ConfigMap costs no request.
#[derive(Default)]
struct Written {
    apps: BTreeMap<String, AppStatus>,
    status: BTreeMap<String, StackStatus>,
    outputs: BTreeMap<String, BTreeMap<String, String>>,
    /// The last `InvalidSpec` message evented per object.
    invalid: BTreeMap<String, String>,
    /// The deletions held by users already evented, per object.
    held: BTreeMap<String, Vec<String>>,
}

/// The leader's writer of status, ConfigMaps, Events and finalizers.
pub struct Publisher {
    pub client: Client,
    pub store: Store,
    pub shared: Arc<Shared>,
    pub approval: Arc<Approval>,
    pub election: Arc<election::Election>,
    /// Who writes the Events (the pod's name).
    pub instance: String,
    /// `--stage`, for the config a deleted `Stack` is destroyed with.
    pub stage: Option<String>,
}

impl Publisher {
    /// Writes each finished reconcile's findings to the objects it concerns, until cancelled.
    pub async fn run(self, cancel: CancellationToken) {
        let mut finished = self.shared.subscribe();
        let recorder = Recorder::new(
            self.client.clone(),
            Reporter {
                controller: "stackwatch".into(),
                instance: Some(self.instance.clone()),
            },
        );
        let mut written = Written::default();
        loop {
            let activity = tokio::select! {
                _ = cancel.cancelled() => return,
                a = finished.recv() => match a {
                    Ok(a) => Some(a),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => None,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
            };
            // Only the leader writes; a new leader rewrites everything after its first reconcile.
            if !self.store.synced() || !self.election.is_leader() {
                written = Written::default();
                continue;
            }
            // One snapshot of what the daemon found serves every object of this round.
            let found = self.shared.status();
            for a in self.store.apps() {
                self.write_app(&mut written, &a, &found).await;
            }
            for o in self.store.stacks() {
                self.stack(&recorder, &mut written, activity.as_ref(), &o, &found)
                    .await;
            }
        }
    }

    /// One `Stack` after a finished reconcile (`None`: after missed ones): its finalizer, its
    /// status and outputs, its Events.
    async fn stack(
        &self,
        recorder: &Recorder,
        written: &mut Written,
        activity: Option<&Activity>,
        o: &Object,
        found: &Status,
    ) {
        let Some(stack) = o.stack().map(str::to_string) else {
            return;
        };
        let events = if o.deleting {
            self.deleting(written, o, &stack, found).await
        } else {
            self.ensure_finalizer(o).await;
            let concerned = activity.is_none_or(|a| concerns(a, &stack));
            if !concerned && written.status.contains_key(&o.name) {
                return;
            }
            let drift = activity.filter(|_| concerned).map(|a| a.drift);
            self.write_stack(written, o, &stack, drift, found).await;
            match activity.filter(|_| concerned) {
                Some(a) => events_for(a, o, &stack, found, written),
                None => Vec::new(),
            }
        };
        for ev in events {
            if let Err(e) = recorder
                .publish(&ev, &reference(o, self.store.namespace()))
                .await
            {
                tracing::warn!(error = %e, stack = %o.name, "writing an Event");
            }
        }
    }

    fn stacks_api(&self) -> Api<Stack> {
        Api::namespaced(self.client.clone(), self.store.namespace())
    }

    async fn ensure_finalizer(&self, o: &Object) {
        if finalize::ours(o) {
            return;
        }
        if let Err(e) = finalize::add(&self.stacks_api(), o).await {
            tracing::warn!(error = %e, stack = %o.name, "adding the finalizer");
        }
    }

    /// A deleted `Stack`: held while another stack `uses` it; otherwise its resources are
    /// destroyed as their removal policies say, then its finalizer is removed.
    async fn deleting(
        &self,
        written: &mut Written,
        o: &Object,
        stack: &str,
        found: &Status,
    ) -> Vec<KubeEvent> {
        if !finalize::ours(o) {
            return Vec::new();
        }
        let users = self.store.users_of(stack);
        if !users.is_empty() {
            self.write_stack(written, o, stack, None, found).await;
            if written.held.get(&o.name) == Some(&users) {
                return Vec::new();
            }
            written.held.insert(o.name.clone(), users.clone());
            let note = format!(
                "deletion held: used by {}; its resources stay until they are gone",
                users.join(", ")
            );
            return vec![event(EventType::Warning, "DeletionHeld", note)];
        }
        match finalize::destroy(&self.store, self.stage.as_deref(), stack).await {
            Ok(done) if finalize::finished(&done) => {
                let cms = Api::<ConfigMap>::namespaced(self.client.clone(), self.store.namespace());
                finalize::delete_outputs(&cms, o).await;
                if let Err(e) = finalize::remove(&self.stacks_api(), o).await {
                    tracing::warn!(error = %e, stack = %o.name, "removing the finalizer");
                }
                tracing::info!(stack, "deleted Stack: {}", finalize::summary(&done));
                vec![event(
                    EventType::Normal,
                    "Destroyed",
                    finalize::summary(&done),
                )]
            }
            Ok(done) => {
                let summary = finalize::summary(&done);
                tracing::warn!(stack, "destroying a deleted Stack: {summary}");
                vec![event(EventType::Warning, "DestroyFailed", summary)]
            }
            Err(e) => {
                tracing::warn!(stack, error = %e, "destroying a deleted Stack");
                vec![event(EventType::Warning, "DestroyFailed", e.to_string())]
            }
        }
    }

    /// Writes one Stack's status and outputs ConfigMap, each only when it changed.
    async fn write_stack(
        &self,
        written: &mut Written,
        o: &Object,
        stack: &str,
        drift: Option<bool>,
        found: &Status,
    ) {
        let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        let full_name = self.store.full_name(stack);
        let inputs = status::Inputs {
            object: o,
            stack,
            full_name: full_name.clone(),
            generation_at: &|digest: &str| self.store.generation_in(digest, &o.name),
            drift,
            previous: written.status.get(&o.name),
            used_by: self.store.users_of(stack),
            now: &now,
        };
        let new = status::stack_status(&inputs, found);
        if written.status.get(&o.name) != Some(&new) {
            match apply_status(&self.stacks_api(), "Stack", &o.name, &new).await {
                Ok(()) => {
                    written.status.insert(o.name.clone(), new.clone());
                }
                Err(e) => tracing::warn!(error = %e, stack = %o.name, "writing the status"),
            }
        }
        if full_name.is_some() && !o.deleting && written.outputs.get(&o.name) != Some(&new.outputs)
        {
            match write_outputs(&self.client, self.store.namespace(), o, &new.outputs).await {
                Ok(()) => {
                    written.outputs.insert(o.name.clone(), new.outputs.clone());
                }
                Err(e) => {
                    tracing::warn!(error = %e, stack = %o.name, "writing the outputs ConfigMap")
                }
            }
        }
    }

    /// Writes the `App`'s status (the config loads; the plan that waits), when it changed.
    async fn write_app(&self, written: &mut Written, a: &Object, found: &Status) {
        let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        let approval = &self.approval;
        let pending = approval
            .pending_text()
            .filter(|_| approval.mode() == Mode::Prompt);
        let inputs = status::AppInputs {
            name: &a.name,
            generation: self.store.loaded_generation("App", &a.name),
            pending: pending.as_deref(),
            refused: approval.refused(),
            previous: written.apps.get(&a.name),
            now: &now,
        };
        let new = status::app_status(&inputs, found);
        if written.apps.get(&a.name) == Some(&new) {
            return;
        }
        let api = Api::<App>::namespaced(self.client.clone(), self.store.namespace());
        match apply_status(&api, "App", &a.name, &new).await {
            Ok(()) => {
                written.apps.insert(a.name.clone(), new);
            }
            Err(e) => tracing::warn!(error = %e, app = %a.name, "writing the status"),
        }
    }
}

/// Writes an object's whole status through the status subresource (server-side apply).
async fn apply_status<K>(
    api: &Api<K>,
    kind: &str,
    name: &str,
    status: &impl serde::Serialize,
) -> Result<(), kube::Error>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let patch = json!({"apiVersion": format!("{GROUP}/{VERSION}"), "kind": kind, "status": status});
    let params = PatchParams::apply(MANAGER).force();
    api.patch_status(name, &params, &Patch::Apply(&patch))
        .await
        .map(|_| ())
}

fn event(type_: EventType, reason: &str, note: String) -> KubeEvent {
    KubeEvent {
        type_,
        reason: reason.into(),
        note: Some(note.chars().take(1000).collect()),
        action: "Reconcile".into(),
        secondary: None,
    }
}

/// Whether a finished reconcile of `a.stack` read `stack`.
fn concerns(a: &Activity, stack: &str) -> bool {
    a.stack == stack || a.stack == crate::daemon::metrics::ALL_STACKS
}

/// `<name>-outputs`: one key per output, owned by the Stack (deleted with it).
async fn write_outputs(
    client: &Client,
    ns: &str,
    o: &Object,
    outputs: &BTreeMap<String, String>,
) -> Result<(), kube::Error> {
    let owner = o.uid.as_ref().map(|uid| {
        json!([{
            "apiVersion": format!("{GROUP}/{VERSION}"),
            "kind": "Stack",
            "name": o.name,
            "uid": uid,
        }])
    });
    let name = format!("{}-outputs", o.name);
    let cm = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": {"app.kubernetes.io/managed-by": "stackwatch", "stackwatch.dev/stack": o.name},
            "ownerReferences": owner,
        },
        "data": outputs,
    });
    let api = Api::<ConfigMap>::namespaced(client.clone(), ns);
    api.patch(
        &name,
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(&cm),
    )
    .await
    .map(|_| ())
}

fn reference(o: &Object, ns: &str) -> ObjectReference {
    ObjectReference {
        api_version: Some(format!("{GROUP}/{VERSION}")),
        kind: Some("Stack".into()),
        name: Some(o.name.clone()),
        namespace: Some(ns.to_string()),
        uid: o.uid.clone(),
        ..ObjectReference::default()
    }
}

/// The Events a finished reconcile gives one Stack: deployed or updated, drift reverted, held
/// by the guard, failed, or an invalid spec (once per message).
fn events_for(
    a: &Activity,
    o: &Object,
    stack: &str,
    found: &Status,
    written: &mut Written,
) -> Vec<KubeEvent> {
    let prefix = format!("{stack}.");
    let changes: Vec<&String> = a
        .changes
        .iter()
        .filter(|c| c.starts_with(&prefix))
        .collect();
    let list = |cs: &[&String]| cs.iter().map(|c| c.as_str()).collect::<Vec<_>>().join("; ");
    let mut out = Vec::new();
    match a.result.as_str() {
        "invalid" => {
            let message = status::problems_of(&o.name, found).join("\n");
            if written.invalid.get(&o.name) != Some(&message) {
                out.push(event(EventType::Warning, "InvalidSpec", message.clone()));
                written.invalid.insert(o.name.clone(), message);
            }
            return out;
        }
        "error" => out.push(event(
            EventType::Warning,
            "ReconcileFailed",
            a.error.clone().unwrap_or_default(),
        )),
        _ => {}
    }
    written.invalid.remove(&o.name);
    let held: Vec<&String> = changes
        .iter()
        .copied()
        .filter(|c| c.ends_with("(held)"))
        .collect();
    let done: Vec<&String> = changes
        .iter()
        .copied()
        .filter(|c| c.ends_with("(done)"))
        .collect();
    if !held.is_empty() {
        out.push(event(EventType::Warning, "HeldByGuard", list(&held)));
    }
    if a.drift && !done.is_empty() {
        out.push(event(EventType::Warning, "DriftReverted", list(&done)));
    } else if done.iter().any(|c| c.contains(": create")) {
        out.push(event(EventType::Normal, "Deployed", list(&done)));
    } else if !done.is_empty() {
        out.push(event(EventType::Normal, "Updated", list(&done)));
    }
    out
}
