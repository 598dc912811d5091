//! Reading AWS: every declared node, each as soon as what it is found through is known, and
//! the leftovers (resources we own that no file declares), listed alongside.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Mutex;

use futures::stream::{FuturesUnordered, StreamExt};

use super::{CONCURRENCY, Focus, Orphan, Snapshot};
use crate::aws::{Aws, AwsError};
use crate::desired::{AppCtx, Desired};
use crate::resource::{Attrs, Hint, KindId, Owner, Scope, TAG_ID, TAG_STACK};

/// Lists what we own for this app and stage, kind by kind (those that find leftovers, all at
/// once), and keeps what no node declares.
async fn discover(aws: &Aws, desired: &Desired, app: &AppCtx) -> Result<Vec<Orphan>, AwsError> {
    let c = &desired.config;
    let key = |tags: &crate::resource::Tags| {
        (
            tags.get(TAG_STACK).cloned().unwrap_or_default(),
            tags.get(TAG_ID).cloned().unwrap_or_default(),
        )
    };
    let declared: BTreeSet<(String, String)> = desired.nodes.iter().map(|n| key(&n.tags)).collect();
    // Declared names are read by their nodes; a listing skips looking at their tags.
    let declared_names: BTreeSet<String> = (0..desired.nodes.len())
        .filter(|&i| desired.nodes[i].def.kind().finds_leftovers())
        .map(|i| desired.resolve(i, app, &[]).0.name())
        .collect();
    let scope = Scope {
        app: &c.app,
        stage: &c.stage,
        declared_names: &declared_names,
    };
    let kinds = KindId::ALL.iter().copied().filter(|k| k.finds_leftovers());
    let listed = futures::future::try_join_all(kinds.map(|kind| async move {
        let owned = kind.list_owned(aws, scope).await?;
        Ok::<_, AwsError>(owned.into_iter().map(move |owned| Orphan { kind, owned }))
    }))
    .await?;
    let mut orphans: Vec<Orphan> = listed
        .into_iter()
        .flatten()
        .filter(|o| !declared.contains(&key(&o.owned.tags)))
        .collect();
    orphans.sort_by(|a, b| (a.kind, &a.owned.id).cmp(&(b.kind, &b.owned.id)));
    Ok(orphans)
}

/// What a long-running caller remembers between reads: the account id and, per logical node,
/// the physical id of the owned resource last found by listing. An id is only a hint: it is
/// used when a Describe by it still finds our resource under our name, and otherwise the node
/// is found by listing as on a first read. Keep one per [`Aws`] (per account and endpoint).
#[derive(Debug, Default)]
pub struct ReadCache {
    inner: Mutex<CacheInner>,
}

#[derive(Debug, Default)]
struct CacheInner {
    account: Option<String>,
    ids: HashMap<String, String>,
    /// Per logical node, the attributes of ours as last read or applied: what a focused read
    /// lends to the stacks it does not read.
    attrs: HashMap<String, Attrs>,
}

impl ReadCache {
    pub fn new() -> ReadCache {
        ReadCache::default()
    }

    /// Forgets everything (the clients changed: another region or account).
    pub fn clear(&self) {
        *self.lock() = CacheInner::default();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn account(&self) -> Option<String> {
        self.lock().account.clone()
    }

    fn id(&self, node: &str) -> Option<String> {
        self.lock().ids.get(node).cloned()
    }

    fn attrs(&self, node: &str) -> Option<Attrs> {
        self.lock().attrs.get(node).cloned()
    }

    /// Remembers what a read found, for the nodes it read: owned resources by id, the
    /// attributes of ours, nothing for the rest.
    fn remember(&self, desired: &Desired, snap: &Snapshot, read: &[bool]) {
        let attrs = snap.attrs();
        let mut inner = self.lock();
        inner.account = Some(snap.app.account.clone());
        for (i, node) in desired.nodes.iter().enumerate().filter(|(i, _)| read[*i]) {
            let (spec, _) = desired.resolve(i, &snap.app, &attrs);
            match &snap.observed[i] {
                Some(o) if o.owner == Owner::Ours && spec.id().found_by_listing() => {
                    inner.ids.insert(node.id.clone(), o.id.clone());
                }
                _ => {
                    inner.ids.remove(&node.id);
                }
            }
            match &attrs[i] {
                Some(a) if snap.errors[i].is_none() => {
                    inner.attrs.insert(node.id.clone(), a.clone());
                }
                _ => {
                    inner.attrs.remove(&node.id);
                }
            }
        }
    }

    /// Remembers the attributes an apply left (`attrs[i]` for node i), so that a later focused
    /// read of another stack resolves its references to what is deployed now.
    pub fn remember_applied(&self, desired: &Desired, attrs: &[Option<Attrs>]) {
        let mut inner = self.lock();
        for (node, a) in desired.nodes.iter().zip(attrs) {
            match a {
                Some(a) => {
                    inner.attrs.insert(node.id.clone(), a.clone());
                }
                None => {
                    inner.attrs.remove(&node.id);
                }
            }
        }
    }
}

/// Reads the account id, then every node (see the module doc for the order).
pub async fn read(aws: &Aws, desired: &Desired) -> Result<Snapshot, AwsError> {
    read_cached(aws, desired, &ReadCache::new()).await
}

/// [`read`] with what earlier reads through the same clients found.
pub async fn read_cached(
    aws: &Aws,
    desired: &Desired,
    cache: &ReadCache,
) -> Result<Snapshot, AwsError> {
    read_focused(aws, desired, cache, &Focus::all()).await
}

/// Which nodes a focused read reads: those in focus, and the nodes out of focus whose
/// attributes a node it reads needs and the cache does not know (with what they, in turn,
/// need). Returns (in focus, read, attributes lent by the cache).
fn reach(
    desired: &Desired,
    cache: &ReadCache,
    focus: &Focus,
) -> (Vec<bool>, Vec<bool>, Vec<Option<Attrs>>) {
    let n = desired.nodes.len();
    let focused: Vec<bool> = desired
        .nodes
        .iter()
        .map(|node| focus.includes(&node.stack))
        .collect();
    let mut read = focused.clone();
    let mut known = vec![None; n];
    let mut todo: Vec<usize> = (0..n).filter(|&i| focused[i]).collect();
    while let Some(i) = todo.pop() {
        for &d in &desired.nodes[i].deps {
            if read[d] || known[d].is_some() {
                continue;
            }
            match cache.attrs(&desired.nodes[d].id) {
                Some(a) => known[d] = Some(a),
                None => {
                    read[d] = true;
                    todo.push(d);
                }
            }
        }
    }
    (focused, read, known)
}

/// Reads the nodes of the stacks in `focus` (see [`Focus`]), with what earlier reads through
/// the same clients found.
pub async fn read_focused(
    aws: &Aws,
    desired: &Desired,
    cache: &ReadCache,
    focus: &Focus,
) -> Result<Snapshot, AwsError> {
    let account = match cache.account() {
        Some(a) => a,
        None => aws.account().await?,
    };
    let c = &desired.config;
    let app = AppCtx {
        app: c.app.clone(),
        stage: c.stage.clone(),
        region: c.region.clone(),
        account,
    };
    let n = desired.nodes.len();
    let (focused, read, known) = reach(desired, cache, focus);
    let mut snap = Snapshot {
        app: app.clone(),
        observed: vec![None; n],
        errors: vec![None; n],
        orphans: Vec::new(),
        focus: focused,
        known,
    };
    // Leftovers are listed while the declared nodes are read.
    let leftovers = async {
        if focus.leftovers() {
            discover(aws, desired, &app).await
        } else {
            Ok(Vec::new())
        }
    };
    let (orphans, ()) =
        futures::join!(leftovers, read_nodes(aws, desired, cache, &mut snap, &read));
    // Failing to list leftovers must not stop the reconcile of what is declared.
    snap.orphans = orphans.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "could not look for resources removed from the stack files");
        Vec::new()
    });
    cache.remember(desired, &snap, &read);
    Ok(snap)
}

/// Reads the nodes marked in `read`, at most [`CONCURRENCY`] at a time, each as soon as the
/// nodes it is found through have been read (or are known from the cache).
async fn read_nodes(
    aws: &Aws,
    desired: &Desired,
    cache: &ReadCache,
    snap: &mut Snapshot,
    read: &[bool],
) {
    let n = desired.nodes.len();
    let mut waiting: Vec<usize> = vec![0; n];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, node) in desired.nodes.iter().enumerate().filter(|(i, _)| read[*i]) {
        if node.def.kind().found_through_deps() {
            for &d in node.deps.iter().filter(|&&d| read[d]) {
                waiting[i] += 1;
                dependents[d].push(i);
            }
        }
    }
    let mut ready: VecDeque<usize> = (0..n).filter(|&i| read[i] && waiting[i] == 0).collect();
    let mut attrs: Vec<Option<Attrs>> = snap.known.clone();
    let mut running = FuturesUnordered::new();
    loop {
        while running.len() < CONCURRENCY
            && let Some(i) = ready.pop_front()
        {
            let (spec, _) = desired.resolve(i, &snap.app, &attrs);
            let node = &desired.nodes[i];
            let adopt = node.adopt.clone();
            let known = adopt.is_none().then(|| cache.id(&node.id)).flatten();
            running.push(async move {
                let hint = Hint {
                    adopt: adopt.as_deref(),
                    known: known.as_deref(),
                };
                (i, spec.find(aws, hint).await)
            });
        }
        let Some((i, found)) = running.next().await else {
            break;
        };
        match found {
            Ok(o) => {
                attrs[i] = o
                    .as_ref()
                    .filter(|o| o.owner != Owner::Foreign)
                    .map(|o| o.attrs.clone());
                snap.observed[i] = o;
            }
            Err(e) => snap.errors[i] = Some(e),
        }
        for &j in &dependents[i] {
            waiting[j] -= 1;
            if waiting[j] == 0 {
                ready.push_back(j);
            }
        }
    }
}
