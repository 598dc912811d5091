//! The engine: read what exists, plan, apply, destroy. The same code serves every command;
//! callers only decide when to run it and whether to approve.
//!
//! Reads start each node as soon as what it is found by is known: most kinds are found by
//! their deterministic name and start at once; a client, a test user or a role attachment waits
//! for the pool whose id finds it. Writes are walked level by level in dependency order; the
//! nodes of one level run concurrently (bounded). One resource failing does not stop the
//! others: its dependents are skipped and every error is reported together.
//!
//! A [`ReadCache`] (kept by the daemon between reconciles) remembers the account id and the
//! physical id of each owned resource found by listing, so a later read describes it directly
//! instead of listing every pool or API. Every resource is still read on every reconcile, so
//! drift is caught on each resync; only the List calls are saved.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Mutex;

use futures::stream::{self, FuturesUnordered, StreamExt};

use crate::aws::{Aws, AwsError};
use crate::config::Removal;
use crate::desired::{AppCtx, Desired, NodeDef};
use crate::plan::{self, Action, Change, Plan};
use crate::resource::{self, Attrs, Observed, Owned, Owner, Spec, TAG_ID, TAG_STACK};

/// How many AWS reads or writes run at once.
pub const CONCURRENCY: usize = 8;

/// What one read of AWS found, per node (same indices as `Desired::nodes`), plus the
/// resources we own that no stack file declares any more.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub app: AppCtx,
    pub observed: Vec<Option<Observed>>,
    pub errors: Vec<Option<AwsError>>,
    pub orphans: Vec<Orphan>,
}

/// A resource carrying our app and stage tags that no stack file declares: planned for
/// deletion. Only kinds that hold no data are looked for; user pools and buckets removed
/// from the files are retained, never deleted automatically.
#[derive(Debug, Clone)]
pub struct Orphan {
    pub kind: OrphanKind,
    pub owned: Owned,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OrphanKind {
    /// Deleted first: deleting the pool also drops its role attachment.
    IdentityPool,
    Role,
    HttpApi,
}

impl OrphanKind {
    pub fn kind(self) -> &'static str {
        match self {
            OrphanKind::IdentityPool => resource::identity_pool::KIND,
            OrphanKind::Role => resource::role::KIND,
            OrphanKind::HttpApi => resource::http_api::KIND,
        }
    }

    async fn delete(self, aws: &Aws, obs: &Observed) -> Result<(), AwsError> {
        match self {
            OrphanKind::IdentityPool => resource::identity_pool::delete(aws, obs).await,
            OrphanKind::Role => resource::role::delete(aws, obs).await,
            OrphanKind::HttpApi => resource::http_api::delete(aws, obs).await,
        }
    }
}

/// Lists what we own for this app and stage, and keeps what no node declares.
async fn discover(aws: &Aws, desired: &Desired) -> Result<Vec<Orphan>, AwsError> {
    let c = &desired.config;
    let (app, stage) = (c.app.as_str(), c.stage.as_str());
    let declared: BTreeSet<(String, String)> = desired
        .nodes
        .iter()
        .map(|n| {
            (
                n.tags.get(TAG_STACK).cloned().unwrap_or_default(),
                n.tags.get(TAG_ID).cloned().unwrap_or_default(),
            )
        })
        .collect();
    // Declared names are read by their nodes; listing skips looking at their tags.
    let declared_names: BTreeSet<String> = desired
        .nodes
        .iter()
        .filter_map(|n| match &n.def {
            NodeDef::Role { name, .. } | NodeDef::IdentityPool { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect();
    // What every role and identity pool name of this app and stage starts with, shortened or not.
    let role_prefix = resource::role::NAME.listing_prefix(&format!("{stage}-{app}-"));
    let pool_prefix = resource::identity_pool::NAME.listing_prefix(&format!("{stage}_{app}_"));
    let (roles, pools, apis) = futures::try_join!(
        resource::role::list_owned(aws, &role_prefix, app, stage, &declared_names),
        resource::identity_pool::list_owned(aws, &pool_prefix, app, stage, &declared_names),
        resource::http_api::list_owned(aws, app, stage),
    )?;
    let found = roles
        .into_iter()
        .map(|o| (OrphanKind::Role, o))
        .chain(pools.into_iter().map(|o| (OrphanKind::IdentityPool, o)))
        .chain(apis.into_iter().map(|o| (OrphanKind::HttpApi, o)));
    let mut orphans: Vec<Orphan> = found
        .filter(|(_, o)| {
            let key = (
                o.tags.get(TAG_STACK).cloned().unwrap_or_default(),
                o.tags.get(TAG_ID).cloned().unwrap_or_default(),
            );
            !declared.contains(&key)
        })
        .map(|(kind, owned)| Orphan { kind, owned })
        .collect();
    orphans.sort_by(|a, b| (a.kind, &a.owned.id).cmp(&(b.kind, &b.owned.id)));
    Ok(orphans)
}

impl Snapshot {
    /// The attributes of what was read, per node: only from resources that exist and are
    /// ours (or adopted). The one owner-filtered path every command reads deployed attributes
    /// through (plan, outputs, users, verify, the daemon), so a same-named resource of someone
    /// else's never lends its id to anything.
    pub fn attrs(&self) -> Vec<Option<Attrs>> {
        self.observed
            .iter()
            .map(|o| {
                o.as_ref()
                    .filter(|o| o.owner != Owner::Foreign)
                    .map(|o| o.attrs.clone())
            })
            .collect()
    }
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
}

impl ReadCache {
    pub fn new() -> ReadCache {
        ReadCache::default()
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

    /// Remembers what a read found: owned resources by id, nothing for the rest.
    fn remember(&self, desired: &Desired, snap: &Snapshot) {
        let attrs = snap.attrs();
        let mut inner = self.lock();
        inner.account = Some(snap.app.account.clone());
        for (i, node) in desired.nodes.iter().enumerate() {
            let (spec, _) = desired.resolve(i, &snap.app, &attrs);
            match &snap.observed[i] {
                Some(o) if o.owner == Owner::Ours && spec.found_by_listing() => {
                    inner.ids.insert(node.id.clone(), o.id.clone());
                }
                _ => {
                    inner.ids.remove(&node.id);
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
    let mut snap = Snapshot {
        app,
        observed: vec![None; n],
        errors: vec![None; n],
        orphans: Vec::new(),
    };
    // Leftovers are listed while the declared nodes are read.
    let (orphans, ()) = futures::join!(
        discover(aws, desired),
        read_nodes(aws, desired, cache, &mut snap)
    );
    // Failing to list leftovers must not stop the reconcile of what is declared.
    snap.orphans = orphans.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "could not look for resources removed from the stack files");
        Vec::new()
    });
    cache.remember(desired, &snap);
    Ok(snap)
}

/// Whether a node is found through another node's id (a client through its pool, an
/// attachment through its identity pool), so its read waits for that one. The other kinds are
/// found by their own deterministic name and read at once.
fn found_through_deps(def: &NodeDef) -> bool {
    !matches!(
        def,
        NodeDef::UserPool { .. }
            | NodeDef::IdentityPool { .. }
            | NodeDef::Role { .. }
            | NodeDef::Bucket { .. }
            | NodeDef::HttpApi { .. }
    )
}

/// Reads the declared nodes, at most [`CONCURRENCY`] at a time, each as soon as the nodes it is
/// found through have been read.
async fn read_nodes(aws: &Aws, desired: &Desired, cache: &ReadCache, snap: &mut Snapshot) {
    let n = desired.nodes.len();
    let mut waiting: Vec<usize> = vec![0; n];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, node) in desired.nodes.iter().enumerate() {
        if found_through_deps(&node.def) {
            waiting[i] = node.deps.len();
            for &d in &node.deps {
                dependents[d].push(i);
            }
        }
    }
    let mut ready: VecDeque<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
    let mut attrs: Vec<Option<Attrs>> = vec![None; n];
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
                let found = match (adopt, known) {
                    (Some(adopt), _) => spec.find(aws, Some(&adopt)).await,
                    (None, Some(id)) => spec.find_known(aws, &id).await,
                    (None, None) => spec.find(aws, None).await,
                };
                (i, found)
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

fn adopt_hint(desired: &Desired, i: usize, physical: &str) -> String {
    let node = &desired.nodes[i];
    let key = match node.def {
        NodeDef::UserPool { .. } => Some("userPool"),
        NodeDef::IdentityPool { .. } => Some("identityPool"),
        NodeDef::Role {
            amr: "authenticated",
            ..
        } => Some("authenticatedRole"),
        NodeDef::Role { .. } => Some("unauthenticatedRole"),
        _ => None,
    };
    match key {
        Some(k) => format!("adopt: {{{k}: {physical}}}"),
        None => format!("adopt: {physical}"),
    }
}

/// Computes the plan from a snapshot. Dependents of resources being created or replaced see
/// their attributes as "(known after apply)".
pub fn plan(desired: &Desired, snap: &Snapshot) -> Plan {
    let mut attrs = snap.attrs();
    let mut changes = Vec::with_capacity(desired.nodes.len());
    for (i, node) in desired.nodes.iter().enumerate() {
        let (mut spec, _) = desired.resolve(i, &snap.app, &attrs);
        if node.soft_deps.iter().any(|&d| changes_blocked(&changes, d)) {
            spec = spec.without_unknown_optionals();
        }
        // Found through a parent that will be created or replaced: it will be made anew there.
        let parent_remade = found_through_deps(&node.def)
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
            error = Some(e.to_string());
        } else if action == Action::Blocked {
            let hint = adopt_hint(desired, i, &physical);
            error = Some(plan::foreign_message(
                spec.kind(),
                &physical,
                &hint,
                &node.loc.to_string(),
            ));
        } else if let Some(dep) = node
            .deps
            .iter()
            .find(|&&d| changes_blocked(&changes, d) && !node.soft_deps.contains(&d))
        {
            action = Action::Blocked;
            error = Some(format!(
                "depends on {}, which is blocked",
                desired.nodes[*dep].id
            ));
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

/// What happened to one resource during apply.
#[derive(Debug, Clone)]
pub struct Applied {
    pub id: String,
    pub action: Action,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Applied (or nothing to do).
    Done,
    /// Not applied because the guard holds it back; the reason says which flag allows it.
    Held(String),
    /// Failed or skipped because a dependency failed.
    Failed(String),
}

/// Which destructive changes an apply may make. Held-back changes are reported, not applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guard {
    pub allow_replace: bool,
    pub allow_delete: bool,
}

impl Guard {
    pub const ALLOW_ALL: Guard = Guard {
        allow_replace: true,
        allow_delete: true,
    };
}

/// The result of an apply: per-resource results and the attributes now known.
#[derive(Debug, Clone)]
pub struct ApplyReport {
    pub results: Vec<Applied>,
    pub attrs: Vec<Option<Attrs>>,
}

impl ApplyReport {
    pub fn errors(&self) -> Vec<String> {
        self.results
            .iter()
            .filter_map(|a| match &a.outcome {
                Outcome::Failed(e) => Some(format!("{}: {e}", a.id)),
                _ => None,
            })
            .collect()
    }

    /// Changes the guard held back.
    pub fn held(&self) -> Vec<String> {
        self.results
            .iter()
            .filter_map(|a| match &a.outcome {
                Outcome::Held(e) => Some(format!("{}: {e}", a.id)),
                _ => None,
            })
            .collect()
    }
}

/// Applies the plan: creates, updates and replaces in dependency order. Each resource's change
/// is recomputed with the attributes known at that moment (so "(known after apply)" values are
/// real). A failure skips only that resource's dependents.
pub async fn apply(aws: &Aws, desired: &Desired, snap: &Snapshot, guard: Guard) -> ApplyReport {
    let n = desired.nodes.len();
    let read = snap.attrs();
    let mut attrs = read.clone();
    let mut failed = vec![false; n];
    let mut results: Vec<Option<Applied>> = vec![None; n];
    for level in desired.levels() {
        let current = attrs.clone();
        let failed_now = failed.clone();
        let outcomes: Vec<(usize, Applied, Option<Attrs>)> = stream::iter(level)
            .map(|i| {
                let (current, failed_now, read) = (&current, &failed_now, &read);
                async move {
                    let known = Known {
                        read,
                        current,
                        failed: failed_now,
                    };
                    let (applied, attrs) = apply_node(aws, desired, snap, i, known, guard).await;
                    (i, applied, attrs)
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        for (i, applied, new_attrs) in outcomes {
            failed[i] = matches!(applied.outcome, Outcome::Failed(_));
            attrs[i] = new_attrs;
            results[i] = Some(applied);
        }
    }
    let mut results: Vec<Applied> = results.into_iter().flatten().collect();
    results.extend(delete_orphans(aws, snap, guard.allow_delete).await);
    ApplyReport { results, attrs }
}

/// Deletes the orphans (kind by kind, in `OrphanKind` order), or holds them back.
async fn delete_orphans(aws: &Aws, snap: &Snapshot, allowed: bool) -> Vec<Applied> {
    let mut out = Vec::new();
    for o in &snap.orphans {
        let id = o.owned.logical_id();
        let outcome = if !allowed {
            Outcome::Held("deletion not applied: it needs --allow-delete".into())
        } else {
            match o.kind.delete(aws, &o.owned.observed()).await {
                Ok(()) => {
                    tracing::info!(kind = o.kind.kind(), id = %o.owned.id, "deleted (no longer in the stack files)");
                    Outcome::Done
                }
                Err(e) => Outcome::Failed(e.to_string()),
            }
        };
        out.push(Applied {
            id,
            action: Action::Delete,
            outcome,
        });
    }
    out
}

/// What an apply knows when it reaches a node, per node index.
#[derive(Clone, Copy)]
struct Known<'a> {
    /// The attributes the read found.
    read: &'a [Option<Attrs>],
    /// The attributes now, after the levels already applied.
    current: &'a [Option<Attrs>],
    failed: &'a [bool],
}

/// Applies one node, given the attributes known so far and which nodes failed.
async fn apply_node(
    aws: &Aws,
    desired: &Desired,
    snap: &Snapshot,
    i: usize,
    known: Known<'_>,
    guard: Guard,
) -> (Applied, Option<Attrs>) {
    let Known {
        read,
        current,
        failed,
    } = known;
    let node = &desired.nodes[i];
    let applied = |action, outcome| Applied {
        id: node.id.clone(),
        action,
        outcome,
    };
    if let Some(d) = node
        .deps
        .iter()
        .find(|&&d| failed[d] && !node.soft_deps.contains(&d))
    {
        let msg = format!("skipped: depends on {}, which failed", desired.nodes[*d].id);
        return (applied(Action::Blocked, Outcome::Failed(msg)), None);
    }
    if let Some(e) = &snap.errors[i] {
        return (
            applied(Action::Blocked, Outcome::Failed(e.to_string())),
            None,
        );
    }
    let (mut spec, _) = desired.resolve(i, &snap.app, current);
    if node.soft_deps.iter().any(|&d| failed[d]) {
        // Apply what does not need the failed dep (the next reconcile adds the rest).
        spec = spec.without_unknown_optionals();
    }
    // A node found through another (a client through its pool) whose parent was created or
    // replaced in this apply is read again: what the read found lived in the old parent.
    let reread;
    let mut observed = snap.observed[i].as_ref();
    if found_through_deps(&node.def) && node.deps.iter().any(|&d| current[d] != read[d]) {
        reread = match spec.find(aws, node.adopt.as_deref()).await {
            Ok(o) => o,
            Err(e) => {
                return (
                    applied(Action::Blocked, Outcome::Failed(e.to_string())),
                    None,
                );
            }
        };
        observed = reread.as_ref();
    }
    let (action, fields) = plan::decide(&spec, observed, desired.replaces(i));
    if action == Action::Replace && !guard.allow_replace && !desired.replace_consented(i) {
        let why = "replacement not applied: it needs --allow-replace".to_string();
        return (
            applied(action, Outcome::Held(why)),
            observed.map(|o| o.attrs.clone()),
        );
    }
    match execute(
        aws,
        &spec,
        observed,
        action,
        &fields,
        removal_of(desired, i),
    )
    .await
    {
        Ok(attrs) => (applied(action, Outcome::Done), attrs),
        Err(e) => (applied(action, Outcome::Failed(e)), None),
    }
}

async fn execute(
    aws: &Aws,
    spec: &Spec,
    observed: Option<&Observed>,
    action: Action,
    fields: &[plan::FieldChange],
    removal: Removal,
) -> Result<Option<Attrs>, String> {
    match (action, observed) {
        (Action::NoChange, Some(o)) => Ok(Some(o.attrs.clone())),
        (Action::Create, _) => {
            let o = spec.create(aws).await.map_err(|e| e.to_string())?;
            tracing::info!(kind = spec.kind(), id = %o.id, "created");
            Ok(Some(o.attrs))
        }
        (Action::Update, Some(o)) => {
            let changed: Vec<&'static str> = fields.iter().map(|f| f.field).collect();
            let new = spec
                .update(aws, o, &changed)
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!(kind = spec.kind(), id = %o.id, fields = ?changed, "updated");
            Ok(Some(new.attrs))
        }
        (Action::Replace, Some(o)) => {
            // A retained resource is released (our tags removed) rather than deleted.
            match removal {
                Removal::Retain => spec.release(aws, o).await,
                Removal::Destroy => spec.delete(aws, o).await,
            }
            .map_err(|e| e.to_string())?;
            let new = spec.create(aws).await.map_err(|e| e.to_string())?;
            tracing::info!(kind = spec.kind(), old = %o.id, new = %new.id, "replaced");
            Ok(Some(new.attrs))
        }
        (Action::Blocked, Some(o)) => Err(format!(
            "{} {} is not stackwatch's; left untouched",
            spec.kind(),
            o.id
        )),
        _ => Err(format!(
            "nothing to do for {} in state {action:?}",
            spec.kind()
        )),
    }
}

/// What `destroy` did or would do with one resource.
#[derive(Debug, Clone)]
pub struct Destroyed {
    pub id: String,
    pub kind: &'static str,
    pub physical: String,
    pub outcome: DestroyOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestroyOutcome {
    Deleted,
    Retained,
    NotFound,
    NotOurs,
    Failed(String),
}

/// Whether a node holds data and so follows its `removal` policy (user pools, buckets).
fn holds_data(def: &NodeDef) -> bool {
    matches!(def, NodeDef::UserPool { .. } | NodeDef::Bucket { .. })
}

/// The removal policy that applies to a node: data-holding resources follow `removal`;
/// the rest (clients, identity pools, roles, attachments, APIs) are deleted.
pub fn removal_of(desired: &Desired, i: usize) -> Removal {
    let node = &desired.nodes[i];
    if holds_data(&node.def) {
        node.removal
    } else {
        Removal::Destroy
    }
}

/// Deletes what stackwatch owns, in reverse dependency order, honouring removal policies.
/// Resources without our tags are never touched. When `dry_run`, only reports.
pub async fn destroy(
    aws: &Aws,
    desired: &Desired,
    snap: &Snapshot,
    dry_run: bool,
) -> Vec<Destroyed> {
    let attrs = snap.attrs();
    let mut out = Vec::new();
    let mut levels = desired.levels();
    levels.reverse();
    for level in levels {
        let done: Vec<Destroyed> = stream::iter(level)
            .map(|i| {
                let attrs = &attrs;
                async move {
                    let node = &desired.nodes[i];
                    let (spec, _) = desired.resolve(i, &snap.app, attrs);
                    let observed = snap.observed[i].as_ref();
                    let physical = observed.map_or_else(|| spec.name(), |o| o.id.clone());
                    let outcome = match observed {
                        None => DestroyOutcome::NotFound,
                        Some(o) if o.owner == Owner::Foreign => DestroyOutcome::NotOurs,
                        Some(_) if removal_of(desired, i) == Removal::Retain => {
                            DestroyOutcome::Retained
                        }
                        Some(_) if dry_run => DestroyOutcome::Deleted,
                        Some(o) => match spec.delete(aws, o).await {
                            Ok(()) => DestroyOutcome::Deleted,
                            Err(e) => DestroyOutcome::Failed(e.to_string()),
                        },
                    };
                    Destroyed {
                        id: node.id.clone(),
                        kind: spec.kind(),
                        physical,
                        outcome,
                    }
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        out.extend(done);
    }
    for o in &snap.orphans {
        let outcome = if dry_run {
            DestroyOutcome::Deleted
        } else {
            match o.kind.delete(aws, &o.owned.observed()).await {
                Ok(()) => DestroyOutcome::Deleted,
                Err(e) => DestroyOutcome::Failed(e.to_string()),
            }
        };
        out.push(Destroyed {
            id: o.owned.logical_id(),
            kind: o.kind.kind(),
            physical: o.owned.id.clone(),
            outcome,
        });
    }
    out
}

/// Stack outputs resolved from attributes: stack name → (output → value), plus whether all
/// values were known.
pub fn outputs(
    desired: &Desired,
    app: &AppCtx,
    attrs: &[Option<Attrs>],
) -> (BTreeMap<String, BTreeMap<String, String>>, bool) {
    let mut all_known = true;
    let mut out = BTreeMap::new();
    for stack in &desired.config.stacks {
        let mut values = BTreeMap::new();
        for o in &stack.outputs {
            let (v, known) = desired.output_value(&o.value, app, attrs);
            all_known &= known;
            values.insert(o.name.clone(), v);
        }
        out.insert(desired.config.stack_full_name(&stack.name), values);
    }
    (out, all_known)
}
