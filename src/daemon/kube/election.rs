//! One leader among the replicas, the Kubernetes way: a `coordination.k8s.io/v1` Lease named
//! [`LEASE`] in the namespace. The holder renews it every third of its duration; another
//! replica takes it once `renewTime + leaseDurationSeconds` has passed. Every write carries the
//! `resourceVersion` read, so of two racing replicas the API server lets exactly one win (the
//! other gets 409). A holder leads until the renewal it sent plus the duration, on its own
//! monotonic clock, so it stops before anyone else may start. On shutdown it releases the
//! Lease (no holder), so a successor takes over at its next try.
//!
//! A holder renews with the object it last wrote, without reading it first (one request per
//! renewal); a 409 there means someone else changed it, and the next try reads it again.
//!
//! Only the leader writes AWS (the AWS-side lease is then taken too: `lease::Lease` asks
//! [`Election::is_leader`] first) and writes status; the others watch and plan.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{ObjectMeta, PostParams};
use kube::{Api, Client};
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

/// The Lease's name in the namespace.
pub const LEASE: &str = "stackwatch";

/// What one look at the Lease decides.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// No Lease yet: create it, holding it.
    Create,
    /// We hold it: renew.
    Renew,
    /// Nobody holds it, or the holder's time ran out: take it over.
    Take,
    /// Someone else holds it, until then.
    Follow { holder: String, until: Timestamp },
}

/// What to do with `lease` (None: there is none) as `me`, at `now`.
pub fn decide(lease: Option<&LeaseSpec>, me: &str, now: Timestamp) -> Decision {
    let Some(spec) = lease else {
        return Decision::Create;
    };
    let holder = spec.holder_identity.clone().unwrap_or_default();
    if holder == me {
        return Decision::Renew;
    }
    if holder.is_empty() {
        return Decision::Take;
    }
    let seconds = i64::from(spec.lease_duration_seconds.unwrap_or(0));
    let renewed = spec
        .renew_time
        .as_ref()
        .map_or(Timestamp::UNIX_EPOCH, |t| t.0);
    let until = renewed
        .checked_add(SignedDuration::from_secs(seconds))
        .unwrap_or(renewed);
    if now >= until {
        Decision::Take
    } else {
        Decision::Follow { holder, until }
    }
}

/// The spec this replica writes to hold the Lease; `transitions` counts changes of holder.
fn held_spec(
    me: &str,
    ttl: Duration,
    now: Timestamp,
    acquired: Timestamp,
    transitions: i32,
) -> LeaseSpec {
    LeaseSpec {
        holder_identity: Some(me.to_string()),
        lease_duration_seconds: Some(i32::try_from(ttl.as_secs().max(1)).unwrap_or(i32::MAX)),
        acquire_time: Some(MicroTime(acquired)),
        renew_time: Some(MicroTime(now)),
        lease_transitions: Some(transitions),
        ..LeaseSpec::default()
    }
}

/// This replica's part in the election.
pub struct Election {
    api: Api<Lease>,
    me: String,
    ttl: Duration,
    /// Until when this replica leads, when it does.
    until: Mutex<Option<Instant>>,
    /// The Lease as this replica last wrote it: while it leads, a renewal replaces that (its
    /// `resourceVersion` guards the write) without reading first.
    written: Mutex<Option<Lease>>,
    leader: watch::Sender<bool>,
    /// Notified on becoming the leader: a whole-app reconcile applies what was only planned.
    trigger: std::sync::Arc<Notify>,
}

impl Election {
    pub fn new(
        client: Client,
        namespace: &str,
        me: &str,
        ttl: Duration,
        trigger: std::sync::Arc<Notify>,
    ) -> Election {
        Election {
            api: Api::namespaced(client, namespace),
            me: me.to_string(),
            ttl,
            until: Mutex::new(None),
            written: Mutex::new(None),
            leader: watch::Sender::new(false),
            trigger,
        }
    }

    /// True while this replica holds the Lease, by its own clock.
    pub fn is_leader(&self) -> bool {
        let until = *self.until.lock().unwrap_or_else(|p| p.into_inner());
        until.is_some_and(|u| Instant::now() < u)
    }

    /// Changes of leadership.
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.leader.subscribe()
    }

    /// One look at the Lease: create, renew or take it, or follow. Ok(true): this replica leads.
    pub async fn step(&self) -> Result<bool, kube::Error> {
        let sent = Instant::now();
        let now = Timestamp::now();
        let ours = self
            .written
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .filter(|_| self.is_leader());
        let current = match ours {
            Some(lease) => Some(lease),
            None => self.api.get_opt(LEASE).await?,
        };
        let spec = current.as_ref().and_then(|l| l.spec.as_ref());
        let written = match decide(spec, &self.me, now) {
            Decision::Follow { .. } => None,
            Decision::Create => {
                let lease = Lease {
                    metadata: ObjectMeta {
                        name: Some(LEASE.into()),
                        ..ObjectMeta::default()
                    },
                    spec: Some(held_spec(&self.me, self.ttl, now, now, 0)),
                };
                Some(self.api.create(&PostParams::default(), &lease).await)
            }
            d => {
                let mut lease = current.clone().unwrap_or_default();
                let before = lease.spec.clone().unwrap_or_default();
                let (acquired, transitions) = match d {
                    Decision::Renew => (
                        before.acquire_time.map_or(now, |t| t.0),
                        before.lease_transitions.unwrap_or(0),
                    ),
                    _ => (now, before.lease_transitions.unwrap_or(0) + 1),
                };
                lease.spec = Some(held_spec(&self.me, self.ttl, now, acquired, transitions));
                Some(
                    self.api
                        .replace(LEASE, &PostParams::default(), &lease)
                        .await,
                )
            }
        };
        let leads = match written {
            None => false,
            Some(Ok(lease)) => {
                *self.written.lock().unwrap_or_else(|p| p.into_inner()) = Some(lease);
                true
            }
            // Someone else wrote between our read and our write.
            Some(Err(kube::Error::Api(e))) if e.code == 409 => false,
            Some(Err(e)) => {
                self.set(None);
                return Err(e);
            }
        };
        self.set(leads.then(|| sent + self.ttl));
        Ok(leads)
    }

    fn set(&self, until: Option<Instant>) {
        let mut u = self.until.lock().unwrap_or_else(|p| p.into_inner());
        let keep = match (*u, until) {
            // A failed renewal leaves the time already won.
            (Some(old), None) if Instant::now() < old => Some(old),
            _ => until,
        };
        *u = keep;
        drop(u);
        let leading = self.is_leader();
        let was = self.leader.send_replace(leading);
        if leading && !was {
            tracing::info!(me = %self.me, lease = LEASE, "Kubernetes Lease: this replica is now the leader");
            self.trigger.notify_one();
        } else if !leading && was {
            tracing::warn!(me = %self.me, lease = LEASE, "Kubernetes Lease: no longer the leader");
        }
    }

    /// Tries every third of the duration until `cancel`, then releases what it holds.
    pub async fn run(&self, cancel: CancellationToken) {
        loop {
            if let Err(e) = self.step().await {
                tracing::warn!(error = %e, lease = LEASE, "Kubernetes Lease");
            }
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tokio::time::sleep(self.ttl / 3) => {}
            }
        }
        self.release().await;
    }

    /// Gives the Lease up (no holder), so that another replica takes over at its next try.
    async fn release(&self) {
        if !self.is_leader() {
            return;
        }
        self.set_released();
        let Ok(Some(mut lease)) = self.api.get_opt(LEASE).await else {
            return;
        };
        if let Some(spec) = lease
            .spec
            .as_mut()
            .filter(|s| s.holder_identity.as_deref() == Some(&self.me))
        {
            spec.holder_identity = None;
            if let Err(e) = self
                .api
                .replace(LEASE, &PostParams::default(), &lease)
                .await
            {
                tracing::warn!(error = %e, "releasing the Kubernetes Lease");
            }
        }
    }

    fn set_released(&self) {
        *self.until.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self.leader.send_replace(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(holder: Option<&str>, renewed: Timestamp, seconds: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: holder.map(str::to_string),
            lease_duration_seconds: Some(seconds),
            renew_time: Some(MicroTime(renewed)),
            ..LeaseSpec::default()
        }
    }

    #[test]
    fn a_lease_is_created_renewed_taken_when_free_or_expired_and_followed_otherwise() {
        let t0 = Timestamp::from_second(1_800_000_000).unwrap();
        let later = |s| t0.checked_add(SignedDuration::from_secs(s)).unwrap();
        assert_eq!(decide(None, "a", t0), Decision::Create);
        assert_eq!(
            decide(Some(&spec(Some("a"), t0, 15)), "a", later(100)),
            Decision::Renew
        );
        assert_eq!(decide(Some(&spec(None, t0, 15)), "a", t0), Decision::Take);
        assert_eq!(
            decide(Some(&spec(Some(""), t0, 15)), "a", t0),
            Decision::Take
        );
        assert_eq!(
            decide(Some(&spec(Some("b"), t0, 15)), "a", later(14)),
            Decision::Follow {
                holder: "b".into(),
                until: later(15)
            }
        );
        assert_eq!(
            decide(Some(&spec(Some("b"), t0, 15)), "a", later(15)),
            Decision::Take
        );
    }

    #[test]
    fn the_holders_spec_says_who_for_how_long_and_since_when() {
        let t0 = Timestamp::from_second(1_800_000_000).unwrap();
        let s = held_spec("pod-1", Duration::from_millis(2500), t0, t0, 3);
        assert_eq!(s.holder_identity.as_deref(), Some("pod-1"));
        assert_eq!(s.lease_duration_seconds, Some(2));
        assert_eq!(s.lease_transitions, Some(3));
        assert_eq!(
            decide(Some(&s), "pod-2", t0),
            Decision::Follow {
                holder: "pod-1".into(),
                until: t0.checked_add(SignedDuration::from_secs(2)).unwrap()
            }
        );
    }
}
