//! The web console of `stackwatch watch` (`--console off|read-only|on`): server-rendered pages
//! on the daemon's own HTTP server, guarded by a session token.
//!
//! - `auth`: the token, its cookie, CSRF, and the Host/Origin checks ([`auth::guard`]);
//!   `headers`: the security headers every answer carries;
//! - `pages`: the Stacks, Plan, Cognito and Access pages, one module each, and their shared
//!   layout, rendered with maud (escaped by construction) and with their forms' handlers;
//! - `users`: the Cognito users of each `auth` resource and what the forms do to them, through
//!   the same `resource::test_user` functions as `stackwatch users`;
//! - `access`: Sign in as a user, as `verify` does, and the ✓/✗ report of what it can reach;
//! - `events`: the last reconciles and their Server-Sent Events stream (`/events`).
//!
//! `pages` uses `users`, `access` and `events`; none of them uses `pages`.
//!
//! The console knows nothing of the daemon: it asks a [`Backend`] for a status snapshot and a
//! stream of finished reconciles, and reads the config, the outputs file and AWS through the
//! library like any command. The daemon implements the backend and mounts [`router`].

mod access;
pub mod auth;
mod events;
mod headers;
mod pages;
mod users;

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use futures::stream::BoxStream;
use serde::Serialize;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::aws::Aws;
use crate::engine::ReadCache;

/// What the console may do (`on`: Create User, delete, Deploy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Not served at all.
    Off,
    /// Pages and live updates, no write controls; every state-changing request is refused.
    ReadOnly,
    /// Pages with write controls (Create User, delete).
    On,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::ReadOnly => "read-only",
            Mode::On => "on",
        }
    }

    pub fn writes(self) -> bool {
        self == Mode::On
    }
}

/// How the console was asked for.
#[derive(Debug, Clone)]
pub struct Settings {
    pub mode: Mode,
    pub token: auth::Token,
    /// True when the token was generated for this run: the printed URL carries it. A token
    /// supplied from a file or the environment (a Secret) is never printed.
    pub generated: bool,
}

/// Where the console reads the app from: the daemon's config origin, stage and state dir.
#[derive(Debug, Clone)]
pub struct App {
    pub origin: crate::origin::Origin,
    pub stage: Option<String>,
    pub state_dir: PathBuf,
}

/// Why the console could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("generating the console token: {0}")]
    Random(String),
    #[error(
        "reading the console token from {from}: it must be at least 16 characters, each a \
         letter, digit, `-`, `.`, `_` or `~` (such as `openssl rand -hex 32`)"
    )]
    BadToken { from: String },
    #[error("reading the console token file {path}: {source}")]
    TokenFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What the console needs from whoever runs it (the daemon).
pub trait Backend: Send + Sync + 'static {
    /// What the daemon knows now.
    fn overview(&self) -> Overview;
    /// Every reconcile that finishes from now on. It carries no secrets.
    fn subscribe(&self) -> BoxStream<'static, Activity>;
    /// The plan waiting for approval, as the terminal shows it.
    fn pending_plan(&self) -> Option<String>;
    /// The browser's ENTER: approve the pending plan and ask for a reconcile, which applies it
    /// if it is still the plan shown.
    fn deploy(&self) -> Deploy;
}

/// What [`Backend::deploy`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deploy {
    /// Approved; a reconcile re-reads AWS and applies the plan if it is still the one shown.
    Started,
    /// No plan waits for approval.
    NothingPending,
    /// Plans are not approved by hand (`--approve auto` applies them, `never` only reports).
    NotByHand,
}

/// The daemon's status, as the console shows it.
#[derive(Debug, Clone, Default)]
pub struct Overview {
    /// `prompt`, `auto` or `never`.
    pub approval: String,
    pub ready: bool,
    /// Whether this daemon holds the lease (`None` when it takes none).
    pub leader: Option<bool>,
    pub last_error: Option<String>,
    pub config_errors: Vec<String>,
    /// `id: action` of the plan waiting for approval.
    pub pending: Vec<String>,
    pub resources: Vec<ResourceView>,
    /// Per stack key (and `*` for the whole app): its last result and error.
    pub stacks: BTreeMap<String, StackView>,
}

#[derive(Debug, Clone)]
pub struct ResourceView {
    pub id: String,
    pub stack: String,
    pub kind: String,
    pub physical: String,
    /// The last plan's action: `nochange`, `create`, `update`, `replace`, `delete`, `blocked`.
    pub action: String,
    /// What the last apply did: `done`, `held` or `failed`.
    pub outcome: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct StackView {
    pub reconciles: u64,
    pub last_result: Option<String>,
    pub last_error: Option<String>,
}

/// One finished reconcile: what the activity list shows and `/events` sends.
#[derive(Debug, Clone, Serialize)]
pub struct Activity {
    /// The daemon's count of reconciles when this one finished.
    pub seq: u64,
    /// The key: a stack, `*` (the whole app) or `leftovers`.
    pub stack: String,
    pub finished_at: String,
    /// `success`, `pending`, `invalid` or `error`.
    pub result: String,
    pub duration_ms: u64,
    /// It found changes while the files were as the reconcile before read them: AWS was
    /// changed out of band.
    pub drift: bool,
    /// `id: action` of what was not in sync in its stacks.
    pub changes: Vec<String>,
    pub error: Option<String>,
}

/// How many finished reconciles the console remembers.
const ACTIVITY: usize = 50;

/// The console's state, shared by its handlers.
pub struct Console {
    mode: Mode,
    policy: auth::Policy,
    app: App,
    backend: Arc<dyn Backend>,
    /// The last [`ACTIVITY`] reconciles, newest last.
    activity: Mutex<VecDeque<Activity>>,
    /// Fan-out of new activity to `/events` streams.
    events: broadcast::Sender<Activity>,
    cancel: CancellationToken,
    /// Clients for the users pages, made on first use for the config's region, and what
    /// their reads remember.
    clients: tokio::sync::Mutex<Option<(Aws, Arc<ReadCache>)>>,
}

impl Console {
    /// The console for a daemon listening on `addr`.
    pub fn new(
        settings: &Settings,
        app: App,
        addr: SocketAddr,
        backend: Arc<dyn Backend>,
        cancel: CancellationToken,
    ) -> Arc<Console> {
        let (events, _) = broadcast::channel(64);
        Arc::new(Console {
            mode: settings.mode,
            policy: auth::Policy {
                csrf: settings.token.csrf(),
                token: settings.token.clone(),
                cookie: auth::cookie_name(addr),
                origins: auth::Origins::of(addr),
                writes: settings.mode.writes(),
            },
            app,
            backend,
            activity: Mutex::new(VecDeque::new()),
            events,
            cancel,
            clients: tokio::sync::Mutex::new(None),
        })
    }

    /// Clients for `region` (made once, again only if the region changes).
    async fn clients(&self, region: &str) -> (Aws, Arc<ReadCache>) {
        let mut c = self.clients.lock().await;
        match &*c {
            Some((aws, cache)) if aws.region == region => (aws.clone(), cache.clone()),
            _ => {
                let made = (Aws::connect(region).await, Arc::new(ReadCache::new()));
                *c = Some(made.clone());
                made
            }
        }
    }

    /// The line printed at start: the URL with the token when it was generated here.
    pub fn banner(&self, generated: bool) -> String {
        let host = self.policy.origins.primary();
        if generated {
            format!(
                "Console: http://{host}/?token={} ({})",
                self.policy.token.expose(),
                self.mode.as_str()
            )
        } else {
            format!(
                "Console: http://{host}/?token=<the supplied console token> ({})",
                self.mode.as_str()
            )
        }
    }
}

/// The console's routes, each behind [`auth::guard`]; to be merged into the daemon's router.
/// Starts the task that records finished reconciles.
pub fn router(console: Arc<Console>) -> Router {
    events::spawn_recorder(console.clone());
    Router::new()
        .route("/", get(pages::stacks::get))
        .route("/plan", get(pages::plan::get))
        .route("/plan/deploy", post(pages::plan::deploy))
        .route("/cognito", get(pages::cognito::get))
        .route("/cognito/users", post(pages::cognito::create))
        .route("/cognito/users/delete", post(pages::cognito::delete))
        .route("/cognito/users/enable", post(pages::cognito::enable))
        .route("/cognito/users/password", post(pages::cognito::password))
        .route(
            "/access",
            get(pages::access::get).post(pages::access::sign_in),
        )
        .route("/events", get(events::stream))
        .route("/assets/console.js", get(script))
        .route("/assets/console.css", get(style))
        .layer(axum::middleware::from_fn_with_state(
            console.clone(),
            auth::guard,
        ))
        .with_state(console)
}

async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("assets/console.js"),
    )
}

async fn style() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("assets/console.css"),
    )
}
