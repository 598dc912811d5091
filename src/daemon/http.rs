//! The HTTP endpoint (axum): `/healthz`, `/readyz` (ready after the first successful
//! reconcile), `/metrics` (Prometheus text) and `/status` (JSON), open to all; and, when
//! `--console` is not `off`, the console's routes (`crate::console`, behind its token), with
//! [`ConsoleBackend`], the daemon's side of the console.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use futures::StreamExt;
use futures::stream::BoxStream;

use tokio::sync::Notify;

use super::approval::{Approval, Mode};
use super::state::{Shared, Status};
use crate::console;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/status", get(status))
        .with_state(shared)
}

/// Serves until `cancel`; `console` is the console's router, merged in when it is on.
pub async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    console: Option<Router>,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    let mut app = router(shared);
    if let Some(console) = console {
        app = app.merge(console);
    }
    axum::serve(listener, app)
        .with_graceful_shutdown(cancel.cancelled_owned())
        .await
}

/// The console's routes when `--console` is not `off`; prints its `Console:` line.
pub fn console(
    opts: &super::Options,
    addr: std::net::SocketAddr,
    shared: &Arc<Shared>,
    approval: &Arc<Approval>,
    trigger: &Arc<Notify>,
    cancel: &CancellationToken,
) -> Option<Router> {
    if opts.console.mode == console::Mode::Off {
        return None;
    }
    let c = console::Console::new(
        &opts.console,
        console::App {
            origin: opts.origin.clone(),
            stage: opts.stage.clone(),
            state_dir: opts.state_dir.clone(),
        },
        addr,
        Arc::new(ConsoleBackend {
            shared: shared.clone(),
            approval: approval.clone(),
            trigger: trigger.clone(),
        }),
        cancel.clone(),
    );
    crate::term::print(&format!("{}\n", c.banner(opts.console.generated)));
    Some(console::router(c))
}

/// What the console sees of the daemon: `/status` as its [`console::Overview`], each finished
/// reconcile, and the approval gate (its Deploy button is ENTER).
pub struct ConsoleBackend {
    pub shared: Arc<Shared>,
    pub approval: Arc<Approval>,
    /// Asks for a whole-app reconcile, as ENTER does.
    pub trigger: Arc<Notify>,
}

impl console::Backend for ConsoleBackend {
    fn overview(&self) -> console::Overview {
        overview(&self.shared.status())
    }

    fn pending_plan(&self) -> Option<String> {
        // As the terminal was shown it, without the terminal's colour.
        self.approval
            .pending_text()
            .map(|t| anstream::adapter::strip_str(&t).to_string())
    }

    fn deploy(&self) -> console::Deploy {
        if self.approval.mode() != Mode::Prompt {
            return console::Deploy::NotByHand;
        }
        if !self.approval.approve() {
            return console::Deploy::NothingPending;
        }
        crate::term::print("Deploying… (approved in the console)\n");
        self.trigger.notify_one();
        console::Deploy::Started
    }

    fn subscribe(&self) -> BoxStream<'static, console::Activity> {
        let rx = self.shared.subscribe();
        futures::stream::unfold(rx, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(e) => return Some((e, rx)),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
        .boxed()
    }
}

fn action_str(a: crate::plan::Action) -> String {
    serde_json::to_value(a)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn overview(s: &Status) -> console::Overview {
    console::Overview {
        approval: s.approval.to_string(),
        ready: s.ready,
        leader: s.lease.as_ref().map(|l| l.leader),
        last_error: s.last_error.clone(),
        config_errors: s.config_errors.clone(),
        pending: s
            .pending_plan
            .as_ref()
            .map(|p| p.changes.clone())
            .unwrap_or_default(),
        resources: s
            .resources
            .iter()
            .map(|r| console::ResourceView {
                id: r.id.clone(),
                stack: r.stack.clone(),
                kind: r.kind.to_string(),
                physical: r.physical.clone(),
                action: action_str(r.state),
                outcome: r.outcome.map(str::to_string),
                error: r.error.clone(),
            })
            .collect(),
        stacks: s
            .stacks
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    console::StackView {
                        reconciles: v.reconciles,
                        last_result: v.last_reconcile.as_ref().map(|l| l.result.to_string()),
                        last_error: v.last_error.clone(),
                    },
                )
            })
            .collect(),
    }
}

async fn readyz(State(shared): State<Arc<Shared>>) -> Response {
    if shared.is_ready() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: no successful reconcile yet\n",
        )
            .into_response()
    }
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        shared.metrics.encode(),
    )
        .into_response()
}

async fn status(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.status()).into_response()
}
