//! One leader at a time: a lease object in an S3 state bucket that stackwatch creates and owns.
//!
//! Two daemons pointed at the same app and stage (two replicas, or a laptop and a cluster) must
//! never apply concurrently: CreateUserPool is not idempotent, so racing writers make duplicates.
//! Only the holder of the lease applies; the others plan and report.
//!
//! - **Where:** `s3://{stage}-{app}-stackwatch-{account}/leader.json`, in the app's region. The
//!   bucket is created on first use and tagged like every other resource (`stackwatch:app`,
//!   `stackwatch:stage`, `stackwatch:stack = _stackwatch`, `stackwatch:id = _stackwatch.Lease`);
//!   a bucket of that name without those tags is never used (an error says so).
//! - **Taking it:** a missing lease is created with `If-None-Match: *`; an expired or released
//!   one is overwritten with `If-Match: <the ETag read>`. Either write fails with 412
//!   (PreconditionFailed) or 409 (ConditionalRequestConflict) when someone else wrote first, so
//!   of two racing daemons exactly one wins. The winner reads the object back and leads only if
//!   the ETag is its own (a second guard, for stores whose check-then-write is not atomic).
//! - **Holding it:** the holder rewrites the body (holder id, expiry) with `If-Match: <its ETag>`
//!   every third of the TTL. It leads until `time the renewal was sent + TTL` on its own
//!   monotonic clock, so a holder that cannot reach S3 stops applying before others may take
//!   over. A 412 means another daemon took the lease after it expired: leadership is lost at
//!   once, and an apply in flight is abandoned.
//! - **Releasing it:** on SIGTERM the holder overwrites the body (again `If-Match`) as
//!   `released`, so a successor takes over at its next poll instead of waiting for the expiry.
//! - **Crashes:** a killed holder's lease simply expires (`--lease-ttl`, 15 s by default); the
//!   next poll of another daemon after that takes it.
//!
//! Others judge expiry by the `expiresAtMs` the holder wrote, on their own wall clock: clocks
//! skewed by more than a fraction of the TTL shorten or lengthen the handover accordingly.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{Mutex, Notify, watch};
use tokio_util::sync::CancellationToken;

use super::state::{LeaseStatus, Shared};
use crate::aws::{Aws, AwsError};
use crate::resource::Tags;

mod record;
mod store;

pub use record::{Record, Target};
use store::{Cond, ensure_bucket, get, lost_race, put, release};

/// How long a lease lasts without renewal, unless `--lease-ttl` says otherwise.
pub const DEFAULT_TTL: Duration = Duration::from_secs(15);
/// The lease object's key in the state bucket.
pub const KEY: &str = "leader.json";
/// The `stackwatch:stack` tag of the state bucket.
pub const STATE_STACK: &str = "_stackwatch";
/// How long the release on shutdown may take before the daemon exits anyway.
pub const RELEASE_TIMEOUT: Duration = Duration::from_secs(2);

const KIND: &str = "stackwatch lease";

/// Why the lease could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    #[error("the state bucket name {0:?} is not a valid S3 bucket name: {1}")]
    BadBucketName(String, String),
    #[error(
        "the state bucket {bucket} exists but does not carry stackwatch's tags for this app and stage \
         (found {found:?}); stackwatch never uses a bucket it does not own: delete it, or tag it \
         {expected:?} if it is stackwatch's"
    )]
    Foreign {
        bucket: String,
        found: Tags,
        expected: Tags,
    },
    #[error("{0} did not answer within {1:?}")]
    Timeout(String, Duration),
    #[error(transparent)]
    Aws(#[from] AwsError),
}

/// What this daemon holds.
#[derive(Debug, Clone)]
struct Held {
    etag: String,
    /// Leadership ends here unless renewed: when the last successful write was sent, plus TTL.
    until: Instant,
}

#[derive(Debug, Default)]
struct Inner {
    target: Option<(Target, Aws)>,
    bucket_checked: bool,
    held: Option<Held>,
    /// When the last step that succeeded started (see [`Lease::current`]).
    stepped: Option<Instant>,
}

/// This daemon's side of the lease: take, renew, release; publishes leadership to the metrics,
/// `/status` and a watch channel that an apply in flight listens to.
#[derive(Debug)]
pub struct Lease {
    id: String,
    ttl: Duration,
    shared: Arc<Shared>,
    trigger: Arc<Notify>,
    inner: Mutex<Inner>,
    leader: watch::Sender<bool>,
    /// With replicas in a cluster: whether this one won the Kubernetes Lease. Only then does it
    /// take (or keep) this lease.
    gate: std::sync::OnceLock<watch::Receiver<bool>>,
}

impl Lease {
    /// A lease for this process. `trigger` is notified when it becomes the leader, so the
    /// reconcile that follows applies what a follower only planned.
    pub fn new(ttl: Duration, shared: Arc<Shared>, trigger: Arc<Notify>) -> Arc<Lease> {
        let id = holder_id();
        shared.update(|s| {
            s.lease = Some(LeaseStatus {
                id: id.clone(),
                ttl_seconds: ttl.as_secs_f64(),
                ..LeaseStatus::default()
            })
        });
        Arc::new(Lease {
            id,
            ttl,
            shared,
            trigger,
            inner: Mutex::new(Inner::default()),
            leader: watch::Sender::new(false),
            gate: std::sync::OnceLock::new(),
        })
    }

    /// Takes or keeps this lease only while `gate` is true (the Kubernetes Lease is ours).
    pub fn gate_on(&self, gate: watch::Receiver<bool>) {
        let _ = self.gate.set(gate);
    }

    fn gate_open(&self) -> bool {
        self.gate.get().is_none_or(|g| *g.borrow())
    }

    /// Not allowed to lead (the gate is closed): gives up what it holds. What the last step
    /// saw no longer stands: once the gate opens, the next look takes the lease.
    async fn step_down(&self, inner: &mut Inner) {
        inner.stepped = None;
        if let (Some((target, aws)), Some(held)) = (inner.target.clone(), inner.held.take()) {
            release(&aws, &target, &self.id, &held.etag).await;
        }
        self.publish(inner, None, None, false);
    }

    /// This daemon's holder id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// True while this daemon holds an unexpired lease.
    pub fn is_leader(&self) -> bool {
        *self.leader.borrow()
    }

    /// Changes to leadership, for abandoning an apply when the lease is lost.
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.leader.subscribe()
    }

    /// Points the lease at `target` (switching, and releasing the old one, if it changed) and
    /// takes or renews it now. Ok(true): this daemon leads for at least the TTL from now.
    /// `covers_all`: the caller is about to act on every stack, so winning the lease here needs
    /// no whole-app reconcile after it (otherwise one is asked for).
    pub async fn ensure(
        &self,
        target: Target,
        aws: Aws,
        covers_all: bool,
    ) -> Result<bool, LeaseError> {
        let mut inner = self.inner.lock().await;
        if inner.target.as_ref().map(|(t, _)| t) != Some(&target) {
            if let Some((old, old_aws)) = inner.target.take()
                && let Some(held) = inner.held.take()
            {
                release(&old_aws, &old, &self.id, &held.etag).await;
            }
            tracing::info!(lease = %target.url(), id = %self.id, "lease: using");
            inner.target = Some((target, aws));
            inner.bucket_checked = false;
            self.publish(&inner, None, None, !covers_all);
        }
        if !self.gate_open() {
            self.step_down(&mut inner).await;
            return Ok(false);
        }
        self.step(&mut inner, !covers_all).await
    }

    /// [`Lease::ensure`] for a reconcile: while the last step for `target` is less than a third
    /// of the TTL old, what it found stands and nothing is sent (the renewer steps every third
    /// of the TTL, so a holder still leads for at least two thirds of it). A resync of a
    /// hundred keys does not write the lease object a hundred times.
    pub async fn current(
        &self,
        target: Target,
        aws: Aws,
        covers_all: bool,
    ) -> Result<bool, LeaseError> {
        {
            let inner = self.inner.lock().await;
            if let Some(leading) = self.fresh(&inner, &target) {
                return Ok(leading);
            }
        }
        self.ensure(target, aws, covers_all).await
    }

    /// Whether this daemon leads, when the last step for `target` is recent enough to answer
    /// without a call: it succeeded less than a third of the TTL ago and the gate is open.
    fn fresh(&self, inner: &Inner, target: &Target) -> Option<bool> {
        let recent = inner.stepped?.elapsed() < self.ttl / 3;
        let same = inner.target.as_ref().is_some_and(|(t, _)| t == target);
        (recent && same && self.gate_open()).then(|| {
            inner
                .held
                .as_ref()
                .is_some_and(|h| Instant::now() < h.until)
        })
    }

    /// One step under the lock, bounded in time, with its outcome published; `ask` asks for a
    /// whole-app reconcile when this step makes the daemon the leader.
    async fn step(&self, inner: &mut Inner, ask: bool) -> Result<bool, LeaseError> {
        let started = Instant::now();
        let limit = self.ttl / 3;
        let result = match tokio::time::timeout(limit, self.step_inner(inner)).await {
            Ok(r) => r,
            Err(_) => {
                let what = inner
                    .target
                    .as_ref()
                    .map_or_else(String::new, |(t, _)| t.url());
                Err(LeaseError::Timeout(what, limit))
            }
        };
        if result.is_err()
            && let Some(h) = &inner.held
            && Instant::now() >= h.until
        {
            // Could not renew in time: others may take it now, so stop leading.
            inner.held = None;
        }
        inner.stepped = result.is_ok().then_some(started);
        let (observed, error) = match &result {
            Ok(observed) => (observed.clone(), None),
            Err(e) => (None, Some(e.to_string())),
        };
        self.publish(inner, observed, error, ask);
        result.map(|_| self.is_leader())
    }

    /// Renews what we hold, or takes a missing, expired or released lease. Returns the record
    /// seen when someone else holds it.
    async fn step_inner(&self, inner: &mut Inner) -> Result<Option<Record>, LeaseError> {
        let Some((target, aws)) = inner.target.clone() else {
            return Ok(None);
        };
        if !inner.bucket_checked {
            ensure_bucket(&aws, &target).await?;
            inner.bucket_checked = true;
        }
        if let Some(held) = inner.held.clone() {
            let sent = Instant::now();
            let record = Record::new(&self.id, self.ttl);
            match put(&aws, &target, &record, Cond::Etag(&held.etag)).await {
                Ok(etag) => {
                    inner.held = Some(Held {
                        etag,
                        until: sent + self.ttl,
                    });
                    return Ok(None);
                }
                Err(e) if lost_race(&e) || e.is("NoSuchKey") => {
                    tracing::warn!(lease = %target.url(), "lease: lost (another daemon took it after it expired, or it was deleted)");
                    inner.held = None;
                }
                Err(e) => return Err(e.into()),
            }
        }
        let seen = match get(&aws, &target).await {
            Err(e) if e.is("NoSuchBucket") => {
                inner.bucket_checked = false;
                return Err(e.into());
            }
            other => other?,
        };
        let sent = Instant::now();
        let record = Record::new(&self.id, self.ttl);
        let written = match &seen {
            None => put(&aws, &target, &record, Cond::Absent).await,
            Some((_, Some(r))) if !r.is_free() && r.holder != self.id => {
                return Ok(Some(r.clone()));
            }
            Some((etag, r)) => {
                if r.is_none() {
                    tracing::warn!(lease = %target.url(), "lease: unreadable body, taking it over");
                }
                put(&aws, &target, &record, Cond::Etag(etag)).await
            }
        };
        let etag = match written {
            Ok(etag) => etag,
            Err(e) if lost_race(&e) => {
                // Someone else wrote first; report them.
                return Ok(get(&aws, &target).await?.and_then(|(_, r)| r));
            }
            Err(e) => return Err(e.into()),
        };
        // Read back: lead only if the object is still ours.
        match get(&aws, &target).await? {
            Some((now, _)) if now == etag => {
                inner.held = Some(Held {
                    etag,
                    until: sent + self.ttl,
                });
                Ok(None)
            }
            other => Ok(other.and_then(|(_, r)| r)),
        }
    }

    /// Sets the gauge, `/status` and the watch channel from what the last step found; on
    /// becoming the leader, asks for a whole-app reconcile when `ask`.
    fn publish(&self, inner: &Inner, other: Option<Record>, error: Option<String>, ask: bool) {
        let leading = inner
            .held
            .as_ref()
            .is_some_and(|h| Instant::now() < h.until);
        let was = self.leader.send_replace(leading);
        self.shared.metrics.set_leader(leading);
        if leading && !was {
            tracing::info!(id = %self.id, ttl = ?self.ttl, "lease: this daemon is now the leader and applies");
            if ask {
                self.trigger.notify_one();
            }
        } else if !leading && was {
            tracing::warn!(id = %self.id, "lease: no longer the leader; only planning from now on");
        }
        let target = inner.target.as_ref().map(|(t, _)| t);
        let (holder, expires_at) = if leading {
            (Some(self.id.clone()), None)
        } else {
            match other {
                Some(r) if !r.is_free() => (Some(r.holder), Some(r.expires_at)),
                _ => (None, None),
            }
        };
        self.shared.update(|s| {
            let l = s.lease.get_or_insert_with(LeaseStatus::default);
            l.leader = leading;
            l.holder = holder;
            l.holder_expires_at = expires_at;
            l.object = target.map(Target::url);
            l.error = error;
        });
    }

    /// Renews (holder) or tries to take (others) every third of the TTL until `cancel`, then
    /// releases what it holds.
    pub fn spawn_renewer(
        self: Arc<Self>,
        cancel: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let every = self.ttl / 3;
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    _ = tokio::time::sleep(every) => {}
                }
                let mut inner = self.inner.lock().await;
                if inner.target.is_none() {
                    continue;
                }
                if !self.gate_open() {
                    self.step_down(&mut inner).await;
                    continue;
                }
                if let Err(e) = self.step(&mut inner, true).await {
                    tracing::warn!(error = %e, "lease: renewing");
                }
            }
        })
    }

    /// Gives the lease up (SIGTERM), so that another daemon takes over at its next poll.
    pub async fn release(&self) {
        let mut inner = self.inner.lock().await;
        if let (Some((target, aws)), Some(held)) = (inner.target.clone(), inner.held.take()) {
            release(&aws, &target, &self.id, &held.etag).await;
        }
        // Given up, not lost: no "no longer the leader" warning (the store logs the release).
        self.leader.send_replace(false);
        self.publish(&inner, None, None, false);
    }
}

fn holder_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let mut h = std::hash::DefaultHasher::new();
    std::hash::Hash::hash(&SystemTime::now(), &mut h);
    std::hash::Hash::hash(&SEQ.fetch_add(1, Ordering::Relaxed), &mut h);
    let random = std::hash::BuildHasher::hash_one(
        &std::collections::hash_map::RandomState::new(),
        std::hash::Hasher::finish(&h),
    );
    format!("{host}/{}/{:08x}", std::process::id(), random as u32)
}

/// The daemon that leads `target` now, if any: the holder of a lease that is neither released
/// nor expired. One-shot `apply` and `destroy` ask before they write, and refuse while a daemon
/// leads, so a laptop never races a cluster's daemon. Reads only: a missing state bucket or
/// lease means nobody leads.
pub async fn current_holder(aws: &Aws, target: &Target) -> Result<Option<Record>, AwsError> {
    let found = match get(aws, target).await {
        Ok(found) => found,
        Err(e) if e.is("NoSuchBucket") => None,
        Err(e) => return Err(e),
    };
    Ok(found
        .and_then(|(_, record)| record)
        .filter(|r| !r.is_free()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{TAG_STACK, TAG_STAGE};

    #[test]
    fn the_state_bucket_is_named_after_app_stage_and_account() {
        let t = Target::new("notes", "Dev", "123456789012", "us-east-1").unwrap();
        assert_eq!(t.bucket, "dev-notes-stackwatch-123456789012");
        assert_eq!(t.key, KEY);
        assert_eq!(t.tags[TAG_STACK], STATE_STACK);
        assert_eq!(t.tags[TAG_STAGE], "Dev");
        // Too long for S3: shortened with a hash, as every derived bucket name is.
        let long = "a".repeat(60);
        let t = Target::new(&long, "dev", "123456789012", "us-east-1").unwrap();
        assert!(t.bucket.len() <= 63, "{}", t.bucket);
        assert!(t.bucket.starts_with("dev-aaaa") && t.bucket.ends_with("-123456789012"));
        // What shortening cannot fix is refused: characters, and AWS's reserved prefixes.
        assert!(Target::new("no_tes", "dev", "1", "us-east-1").is_err());
        assert!(matches!(
            Target::new("notes", "sthree", "123456789012", "us-east-1"),
            Err(LeaseError::BadBucketName(..))
        ));
    }

    #[test]
    fn a_record_is_free_when_released_or_expired() {
        let live = Record::new("a", Duration::from_secs(60));
        assert!(!live.is_free());
        assert!(Record::new("a", Duration::ZERO).is_free());
        assert!(Record::released("a").is_free());
        let json = serde_json::to_string(&live).unwrap();
        assert!(json.contains("\"expiresAtMs\""), "{json}");
        let back: Record = serde_json::from_str(&json).unwrap();
        assert_eq!(back, live);
    }

    #[test]
    fn holder_ids_differ_within_one_process() {
        assert_ne!(holder_id(), holder_id());
        assert!(holder_id().contains(&format!("/{}/", std::process::id())));
    }
}
