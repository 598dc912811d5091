//! Deleting a `Stack` honours its removal policies. The leader puts [`FINALIZER`] on every
//! `Stack`; once one is deleted, its stack leaves the config (`Store::load`), and [`destroy`]
//! deletes what `removal: destroy` covers and leaves what `retain` covers (the engine's own
//! `destroy`, focused on that stack), then the finalizer is removed and the API server lets
//! the object go. A `Stack` that another `Stack` still `uses` keeps its resources and its
//! finalizer until those are gone; its status says who uses it.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::json;

use crate::aws::Aws;
use crate::desired::Desired;
use crate::engine::{self, DestroyOutcome, Destroyed, Focus, ReadCache};
use crate::error::Error;
use crate::operator::crd::Stack;
use crate::operator::store::{Object, Store};
use crate::session::Session;

/// The finalizer stackwatch puts on each `Stack`.
pub const FINALIZER: &str = "stackwatch.dev/finalizer";

/// Whether the `Stack` carries [`FINALIZER`].
pub fn ours(o: &Object) -> bool {
    o.finalizers.iter().any(|f| f == FINALIZER)
}

/// Adds [`FINALIZER`] to a `Stack` that lacks it (a JSON patch that fails if the list changed
/// since it was read).
pub async fn add(api: &Api<Stack>, o: &Object) -> Result<(), kube::Error> {
    let mut finalizers = o.finalizers.clone();
    finalizers.push(FINALIZER.into());
    let patch = if o.finalizers.is_empty() {
        json!([{"op": "add", "path": "/metadata/finalizers", "value": finalizers}])
    } else {
        json!([
            {"op": "test", "path": "/metadata/finalizers", "value": o.finalizers},
            {"op": "replace", "path": "/metadata/finalizers", "value": finalizers},
        ])
    };
    patch_finalizers(api, &o.name, patch).await
}

/// Removes [`FINALIZER`], leaving any other.
pub async fn remove(api: &Api<Stack>, o: &Object) -> Result<(), kube::Error> {
    let rest: Vec<&String> = o.finalizers.iter().filter(|f| *f != FINALIZER).collect();
    let patch = json!([
        {"op": "test", "path": "/metadata/finalizers", "value": o.finalizers},
        {"op": "replace", "path": "/metadata/finalizers", "value": rest},
    ]);
    patch_finalizers(api, &o.name, patch).await
}

async fn patch_finalizers(
    api: &Api<Stack>,
    name: &str,
    patch: serde_json::Value,
) -> Result<(), kube::Error> {
    let patch: json_patch::Patch =
        serde_json::from_value(patch).map_err(kube::Error::SerdeError)?;
    api.patch(name, &PatchParams::default(), &Patch::<()>::Json(patch))
        .await
        .map(|_| ())
}

/// Destroys what the deleted `stack` owns, honouring each resource's removal policy: the
/// whole config (deleted stacks included) is read for that stack only, and the engine's
/// `destroy` deletes or retains each of its resources.
pub async fn destroy(
    store: &Store,
    stage: Option<&str>,
    stack: &str,
) -> Result<Vec<Destroyed>, Error> {
    let config = store.load_all(stage)?;
    let aws = Aws::connect(&config.region).await;
    let desired = Desired::build(config)?;
    let focus = Focus::stacks([stack.to_string()]);
    let mut session = Session::open_cached(aws, desired, &ReadCache::new(), &focus).await?;
    // A focused read looks for no leftovers; destroy must never delete any here.
    session.snapshot.orphans.clear();
    let done = engine::destroy(&session.aws, &session.desired, &session.snapshot, false).await;
    Ok(done
        .into_iter()
        .filter(|d| d.id.starts_with(&format!("{stack}.")))
        .collect())
}

/// Whether a destroy left nothing to retry.
pub fn finished(done: &[Destroyed]) -> bool {
    !done
        .iter()
        .any(|d| matches!(d.outcome, DestroyOutcome::Failed(_)))
}

/// `id: deleted`, `id: retained`, … for an Event.
pub fn summary(done: &[Destroyed]) -> String {
    done.iter()
        .filter(|d| !matches!(d.outcome, DestroyOutcome::NotFound))
        .map(|d| {
            let what = match &d.outcome {
                DestroyOutcome::Deleted => "deleted".to_string(),
                DestroyOutcome::Retained => "retained (removal: retain)".to_string(),
                DestroyOutcome::NotOurs => "not stackwatch's: left".to_string(),
                DestroyOutcome::NotFound => String::new(),
                DestroyOutcome::Failed(e) => format!("failed: {e}"),
            };
            format!("{}: {what}", d.id)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Deletes the `Stack`'s outputs ConfigMap (its owner reference would too, where a garbage
/// collector runs).
pub async fn delete_outputs(api: &Api<ConfigMap>, o: &Object) {
    let name = format!("{}-outputs", o.name);
    match api.delete(&name, &DeleteParams::default()).await {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 404 => {}
        Err(e) => tracing::warn!(error = %e, configmap = %name, "deleting the outputs ConfigMap"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::AwsError;

    fn destroyed(id: &str, outcome: DestroyOutcome) -> Destroyed {
        Destroyed {
            id: id.into(),
            kind: "SQS queue",
            physical: "q".into(),
            outcome,
        }
    }

    #[test]
    fn a_failed_delete_keeps_the_finalizer_and_the_summary_says_what_was_done() {
        let ok = [
            destroyed("Base.Jobs", DestroyOutcome::Deleted),
            destroyed("Base.Events", DestroyOutcome::Retained),
            destroyed("Base.Gone", DestroyOutcome::NotFound),
        ];
        assert!(finished(&ok));
        assert_eq!(
            summary(&ok),
            "Base.Jobs: deleted; Base.Events: retained (removal: retain)"
        );
        let failed = [destroyed(
            "Base.Jobs",
            DestroyOutcome::Failed(AwsError::refused("deleting", "SQS queue", "q", "denied")),
        )];
        assert!(!finished(&failed));
        assert!(summary(&failed).starts_with("Base.Jobs: failed: "));
    }
}
