//! `watch --source kubernetes`: the namespace's `App` and `Stack` objects are the config.
//! [`watch`] keeps the store current from a kube-runtime watcher and only signals keys (one per
//! `Stack`, the app's for the `App`, a watch restart or anything it cannot pin on one stack);
//! [`publish`] writes what each finished reconcile found back to the objects: the status
//! subresource ([`status`]), the `<name>-outputs` ConfigMap, Events and, for a deleted `Stack`,
//! its finalizer's work ([`finalize`]); [`election`] makes one replica the leader through a
//! Lease. The App's `approval` and its approve annotation reach the daemon's approval here.
//! Nothing here plans: the reconciles are the file mode's.

pub mod election;
pub mod finalize;
pub mod publish;
pub mod status;

use std::collections::BTreeSet;
use std::sync::Arc;

use futures::StreamExt;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::approval::{Approval, Mode};
use super::reconcile::{Key, StackFiles};
use crate::operator::crd::{App, Stack};
use crate::operator::store::{Object, Store};

/// The field manager of every write.
pub(crate) const MANAGER: &str = "stackwatch";
/// The annotation on the `App` that approves one plan by its hash (`approval: manual`).
pub const APPROVE: &str = "stackwatch.dev/approve";

/// The `App`'s `approval` (`manual`: a plan waits for [`APPROVE`]; else `auto`) and a new
/// value of its [`APPROVE`] annotation, which approves exactly the pending plan it names. A
/// daemon started with `--approve never` stays report-only. `acted`: the annotation's value
/// last acted on (an annotation acts once, when it changes).
fn approval_of(approval: &Approval, app: &App, acted: &mut Option<String>) -> Option<Key> {
    if approval.mode() != Mode::Never {
        let manual = app
            .spec
            .0
            .get("approval")
            .and_then(serde_json::Value::as_str)
            == Some("manual");
        if approval.set_mode(if manual { Mode::Prompt } else { Mode::Auto }) {
            tracing::info!(manual, "App approval changed");
        }
    }
    let annotated = app.metadata.annotations.as_ref()?.get(APPROVE)?;
    if acted.as_ref() == Some(annotated) {
        return None;
    }
    *acted = Some(annotated.clone());
    match approval.approve_hash(annotated) {
        Ok(()) => {
            tracing::info!(hash = %annotated, "plan approved by annotation; reconciling the app")
        }
        Err(pending) => tracing::warn!(
            named = %annotated,
            pending = pending.as_deref().unwrap_or("none"),
            "the approve annotation names another plan than the pending one: nothing is applied"
        ),
    }
    // Either way the app is reconciled: it applies the approved plan if a fresh read still
    // plans exactly it, and the App's status says what happened.
    Some(Key::App)
}

/// Why the Kubernetes source could not start.
#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    #[error("connecting to the Kubernetes API (KUBECONFIG, or in-cluster): {0}")]
    Connect(#[source] kube::Error),
}

/// A client from the kubeconfig (or the pod's service account), and the store of `namespace`
/// (default: the kubeconfig's).
pub async fn connect(namespace: Option<&str>) -> Result<(Client, Store), KubeError> {
    let client = Client::try_default().await.map_err(KubeError::Connect)?;
    let ns = namespace.unwrap_or(client.default_namespace()).to_string();
    Ok((client, Store::new(&ns)))
}

/// What the watchers saw, of either kind.
enum Seen {
    App(watcher::Event<App>),
    Stack(watcher::Event<Stack>),
}

fn object_of(meta: &kube::api::ObjectMeta, spec: &serde_json::Value) -> Object {
    Object {
        name: meta.name.clone().unwrap_or_default(),
        uid: meta.uid.clone(),
        generation: meta.generation,
        spec: spec.clone(),
        deleting: meta.deletion_timestamp.is_some(),
        finalizers: meta.finalizers.clone().unwrap_or_default(),
    }
}

/// The keys a watch event asks for, after putting it in the store. `listed` collects the
/// names of a relist (`Init` … `InitDone`), after which the objects no longer there are
/// dropped.
fn keys_for(store: &Store, listed: &mut BTreeSet<String>, seen: Seen) -> Vec<Key> {
    use watcher::Event::*;
    match seen {
        Seen::App(Apply(a) | InitApply(a)) => {
            listed.insert(format!(
                "App/{}",
                a.metadata.name.clone().unwrap_or_default()
            ));
            let changed = store.put_app(object_of(&a.metadata, &a.spec.0));
            if changed { vec![Key::App] } else { vec![] }
        }
        Seen::App(Delete(a)) => {
            store.remove_app(a.metadata.name.as_deref().unwrap_or_default());
            vec![Key::App]
        }
        Seen::Stack(Apply(s) | InitApply(s)) => {
            let o = object_of(&s.metadata, &s.spec.0);
            listed.insert(format!("Stack/{}", o.name));
            let before = store.stack(&o.name);
            let stack = o.stack().map(str::to_string);
            if !store.put_stack(o) {
                return vec![];
            }
            match (before.as_ref().and_then(Object::stack), stack) {
                (Some(was), Some(now)) if was == now => vec![Key::Stack(now)],
                _ => vec![Key::App],
            }
        }
        Seen::Stack(Delete(s)) => {
            store.remove_stack(s.metadata.name.as_deref().unwrap_or_default());
            vec![Key::App]
        }
        Seen::App(Init) => relisting(listed, "App"),
        Seen::Stack(Init) => relisting(listed, "Stack"),
        Seen::App(InitDone) => listed_whole(store, listed, "App"),
        Seen::Stack(InitDone) => listed_whole(store, listed, "Stack"),
    }
}

/// A relist of `kind` begins: its names are collected afresh.
fn relisting(listed: &mut BTreeSet<String>, kind: &str) -> Vec<Key> {
    listed.retain(|n| !n.starts_with(&format!("{kind}/")));
    vec![]
}

/// A relist of `kind` ended: what it did not list is gone, and the whole app is reconciled.
fn listed_whole(store: &Store, listed: &BTreeSet<String>, kind: &str) -> Vec<Key> {
    store.set_listed(kind);
    let objects = if kind == "App" {
        store.apps()
    } else {
        store.stacks()
    };
    for o in objects {
        if !listed.contains(&format!("{kind}/{}", o.name)) {
            if kind == "App" {
                store.remove_app(&o.name);
            } else {
                store.remove_stack(&o.name);
            }
        }
    }
    vec![Key::App]
}

/// Watches the namespace's objects until cancelled, keeping `store` current and sending the
/// keys each change asks for. The watchers relist and back off on their own after an error.
pub async fn watch(
    client: Client,
    store: Store,
    approval: Arc<Approval>,
    files: StackFiles,
    keys: mpsc::UnboundedSender<Key>,
    cancel: CancellationToken,
) {
    let ns = store.namespace().to_string();
    let apps = watcher(
        Api::<App>::namespaced(client.clone(), &ns),
        watcher::Config::default(),
    )
    .default_backoff()
    .map(|e| e.map(Seen::App));
    let stacks = watcher(
        Api::<Stack>::namespaced(client, &ns),
        watcher::Config::default(),
    )
    .default_backoff()
    .map(|e| e.map(Seen::Stack));
    let mut events = std::pin::pin!(futures::stream::select(apps, stacks));
    let mut listed = BTreeSet::new();
    let mut acted = None;
    loop {
        let next = tokio::select! {
            _ = cancel.cancelled() => return,
            next = events.next() => next,
        };
        match next {
            None => return,
            Some(Err(e)) => {
                tracing::warn!(error = %e, namespace = %ns, "watching App and Stack objects")
            }
            Some(Ok(seen)) => {
                let approved = match &seen {
                    Seen::App(watcher::Event::Apply(a) | watcher::Event::InitApply(a)) => {
                        approval_of(&approval, a, &mut acted)
                    }
                    _ => None,
                };
                for key in keys_for(&store, &mut listed, seen)
                    .into_iter()
                    .chain(approved)
                {
                    files.touch();
                    tracing::debug!(%key, "enqueued by a watch event");
                    if keys.send(key).is_err() {
                        return;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operator::crd::{AppSpec, StackSpec};
    use serde_json::json;
    use watcher::Event::*;

    fn stack(name: &str, generation: i64, spec: serde_json::Value) -> Stack {
        let mut s = Stack::new(name, StackSpec(spec));
        s.metadata.generation = Some(generation);
        s
    }

    #[test]
    fn a_stack_edit_is_its_own_key_and_anything_else_the_apps() {
        let store = Store::new("notes");
        let mut listed = BTreeSet::new();
        let mut keys = |seen| keys_for(&store, &mut listed, seen);
        let app = App::new("notes", AppSpec(json!({"app": "notes"})));
        assert_eq!(keys(Seen::App(Apply(app.clone()))), [Key::App]);
        assert!(keys(Seen::App(Apply(app))).is_empty(), "unchanged: no key");
        let a = json!({"stack": "AuthStack"});
        assert_eq!(
            keys(Seen::Stack(Apply(stack("authstack", 1, a.clone())))),
            [Key::App],
            "new"
        );
        assert!(
            keys(Seen::Stack(Apply(stack("authstack", 1, a)))).is_empty(),
            "a status write"
        );
        let edited = json!({"stack": "AuthStack", "uses": []});
        assert_eq!(
            keys(Seen::Stack(Apply(stack("authstack", 2, edited)))),
            [Key::Stack("AuthStack".into())]
        );
        let renamed = json!({"stack": "Other"});
        assert_eq!(
            keys(Seen::Stack(Apply(stack("authstack", 3, renamed.clone())))),
            [Key::App]
        );
        assert_eq!(
            keys(Seen::Stack(Delete(stack("authstack", 3, renamed)))),
            [Key::App]
        );
        assert!(store.stacks().is_empty());
    }

    #[test]
    fn a_relist_drops_what_is_gone() {
        let store = Store::new("notes");
        let mut listed = BTreeSet::new();
        for name in ["a", "b"] {
            keys_for(
                &store,
                &mut listed,
                Seen::Stack(Apply(stack(name, 1, json!({"stack": name})))),
            );
        }
        listed.clear();
        keys_for(&store, &mut listed, Seen::Stack(Init));
        keys_for(
            &store,
            &mut listed,
            Seen::Stack(InitApply(stack("b", 1, json!({"stack": "b"})))),
        );
        assert_eq!(
            keys_for(&store, &mut listed, Seen::Stack(InitDone)),
            [Key::App]
        );
        let names: Vec<String> = store.stacks().into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["b"]);
    }
}
