//! What the engine's and the daemon's unit tests share: a snapshot in which the files' whole
//! graph is deployed exactly as declared, with made-up ids.

use super::Snapshot;
use crate::desired::{AppCtx, Desired};
use crate::resource::{Attrs, Observed, Owner};

pub fn app() -> AppCtx {
    AppCtx {
        app: "notes".into(),
        stage: "dev".into(),
        region: "us-east-1".into(),
        account: "123456789012".into(),
    }
}

/// What AWS has for node `i` when it exists: a made-up id for every attribute.
pub fn attrs_of(i: usize) -> Attrs {
    ["id", "arn", "name", "url", "userPoolId", "identityPoolId"]
        .into_iter()
        .map(|a| (a, format!("{a}-{i}")))
        .collect()
}

/// A snapshot in which every node exists, ours, exactly as the files ask.
pub fn deployed(d: &Desired) -> Snapshot {
    let attrs: Vec<Option<Attrs>> = (0..d.nodes.len()).map(|i| Some(attrs_of(i))).collect();
    let observed = (0..d.nodes.len())
        .map(|i| {
            let (spec, _) = d.resolve(i, &app(), &attrs);
            Some(Observed::new(
                spec.name(),
                Owner::Ours,
                spec.state(),
                attrs_of(i),
            ))
        })
        .collect();
    Snapshot {
        app: app(),
        observed,
        errors: vec![None; d.nodes.len()],
        orphans: Vec::new(),
        focus: vec![true; d.nodes.len()],
        known: vec![None; d.nodes.len()],
    }
}
