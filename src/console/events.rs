//! Finished reconciles: the recorder task keeps the last few ([`super::ACTIVITY`]) and fans each
//! new one out to `/events`, a Server-Sent Events stream the pages listen to (an event
//! `reconcile` whose data is the [`Activity`] as JSON: ids, actions, results, never a secret).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;

use super::{Activity, Console};

/// Reads the backend's stream until the daemon stops.
pub fn spawn_recorder(console: Arc<Console>) {
    let mut stream = console.backend.subscribe();
    tokio::spawn(async move {
        loop {
            let next = tokio::select! {
                _ = console.cancel.cancelled() => return,
                next = stream.next() => next,
            };
            let Some(a) = next else { return };
            {
                let mut log = console.activity.lock().unwrap_or_else(|p| p.into_inner());
                log.push_back(a.clone());
                while log.len() > super::ACTIVITY {
                    log.pop_front();
                }
            }
            // No listener is fine.
            let _ = console.events.send(a);
        }
    });
}

/// The remembered reconciles, newest first.
pub fn recent(console: &Console) -> Vec<Activity> {
    let log = console.activity.lock().unwrap_or_else(|p| p.into_inner());
    log.iter().rev().cloned().collect()
}

/// `GET /events`: one `reconcile` event per finished reconcile, until the daemon stops.
pub async fn stream(
    State(console): State<Arc<Console>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = console.events.subscribe();
    let cancel = console.cancel.clone();
    let events = futures::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(a) => {
                    let event = Event::default()
                        .event("reconcile")
                        .id(a.seq.to_string())
                        .json_data(&a)
                        .unwrap_or_else(|_| Event::default().event("reconcile"));
                    return Some((Ok(event), rx));
                }
                // A slow page missed some: it refreshes on the next one anyway.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            }
        }
    })
    .take_until(cancel.cancelled_owned());
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_activity_event_carries_only_ids_and_results() {
        let a = Activity {
            seq: 3,
            stack: "StorageStack".into(),
            finished_at: "2026-01-01T00:00:00Z".into(),
            result: "success".into(),
            duration_ms: 12,
            drift: true,
            changes: vec!["StorageStack.Uploads: update (done)".into()],
            error: None,
        };
        let v = serde_json::to_value(&a).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "seq",
                "stack",
                "finished_at",
                "result",
                "duration_ms",
                "drift",
                "changes",
                "error"
            ]
        );
    }
}
