//! `stackwatch watch`: the daemon that keeps AWS converged with the config directory, in the
//! kube-runtime style. Level-triggered: every trigger runs the same reconcile, which compares
//! the files with AWS and knows nothing of why it runs.
//!
//! ```text
//! watcher (changed paths, debounced) ─► a stack's key, or the app's ─┐
//! resync timer ─► every stack's key and the leftovers', one slot each ┼─► scheduler (per key: one
//! ENTER (prompt mode), lease won ───────► the app's key ─────────────┤   at a time, one trailing
//! an apply changed a stack's attributes ► the keys of its users ─────┘   rerun; error_policy;
//!                                                                         up to 4 keys at once)
//!                                                                          ▼
//!          reconcile(key): load ─► read (the key's stacks) ─► plan ─► approval ─► apply ─► outputs
//!            (stacks side by side; the app's key alone)  │
//!                       http: /healthz /readyz /metrics /status ◄── state (shared)
//!                             console (--console: pages, /events) ◄──┘
//! ```
//!
//! `shutdown` turns SIGINT/SIGTERM into one cancellation token that every loop watches.
//! `lease` makes one daemon per app and stage the leader: only it applies, the others plan and
//! report (`--approve never` takes no lease, as it never applies).

pub mod approval;
pub mod cloud;
pub mod error_policy;
pub mod http;
pub mod kube;
pub mod lease;
pub mod metrics;
pub mod reconcile;
pub mod scheduler;
pub mod shutdown;
pub mod state;
pub mod watcher;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

pub use approval::Mode;

use crate::engine::Guard;

/// Everything the daemon is told at start.
#[derive(Debug, Clone)]
pub struct Options {
    /// The config directory, or a namespace's objects.
    pub origin: crate::origin::Origin,
    pub stage: Option<String>,
    pub state_dir: PathBuf,
    pub approve: Mode,
    pub guard: Guard,
    pub resync: Duration,
    pub listen: SocketAddr,
    /// How long the leader's lease lasts without renewal (`lease::DEFAULT_TTL`).
    pub lease_ttl: Duration,
    /// How plans are drawn on stdout.
    pub style: crate::render::Style,
    /// The web console on the same address (`crate::console`).
    pub console: crate::console::Settings,
    /// With `--source kubernetes`: the client the objects are watched and written with.
    pub kube: Option<KubeSource>,
}

/// The Kubernetes API a daemon of `--source kubernetes` watches and writes.
#[derive(Clone)]
pub struct KubeSource {
    pub client: ::kube::Client,
    /// Who it is in the Lease and its Events (the pod's name).
    pub holder: String,
}

impl std::fmt::Debug for KubeSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeSource")
            .field("holder", &self.holder)
            .finish()
    }
}

/// Why the daemon could not start. Once running, it only stops on a signal.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("listening on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("installing signal handlers: {0}")]
    Signals(#[source] std::io::Error),
    #[error(transparent)]
    Watch(#[from] watcher::WatchError),
    #[error(transparent)]
    Kube(#[from] kube::KubeError),
}

/// Turns signals into keys: the watcher's changed paths into the keys of the stacks they held
/// (or the app's), and ENTER and a won lease (`trigger`) into the app's key.
async fn dispatch(
    files: reconcile::StackFiles,
    trigger: Arc<Notify>,
    mut signals: mpsc::UnboundedReceiver<Vec<PathBuf>>,
    keys: mpsc::UnboundedSender<reconcile::Key>,
    cancel: CancellationToken,
) {
    loop {
        let batch = tokio::select! {
            _ = cancel.cancelled() => return,
            _ = trigger.notified() => {
                files.touch();
                vec![reconcile::Key::App]
            }
            paths = signals.recv() => match paths {
                None => return,
                Some(paths) => files.keys_for(&paths),
            },
        };
        for key in batch {
            tracing::debug!(%key, "enqueued");
            if keys.send(key).is_err() {
                return;
            }
        }
    }
}

/// What the daemon's parts share with its Kubernetes side.
struct Wiring {
    shared: Arc<state::Shared>,
    /// Asks for a whole-app reconcile (a won election).
    trigger: Arc<Notify>,
    approval: Arc<approval::Approval>,
    files: reconcile::StackFiles,
    keys: mpsc::UnboundedSender<reconcile::Key>,
}

/// The Kubernetes side: the objects' watcher (which signals keys) and the publisher of what
/// each reconcile found (status, outputs ConfigMap, Events), as one task.
fn spawn_kube(
    opts: &Options,
    w: Wiring,
    lease: Option<&lease::Lease>,
    cancel: &CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let Wiring {
        shared,
        trigger,
        approval,
        files,
        keys,
    } = w;
    let (crate::origin::Origin::Kubernetes(store), Some(k)) = (&opts.origin, &opts.kube) else {
        return tokio::spawn(async {});
    };
    let election = Arc::new(kube::election::Election::new(
        k.client.clone(),
        store.namespace(),
        &k.holder,
        opts.lease_ttl,
        trigger.clone(),
    ));
    if let Some(lease) = lease {
        lease.gate_on(election.subscribe());
    }
    let watch = kube::watch(
        k.client.clone(),
        store.clone(),
        approval.clone(),
        files,
        keys,
        cancel.clone(),
    );
    let publish = kube::publish::Publisher {
        client: k.client.clone(),
        store: store.clone(),
        shared,
        approval,
        election: election.clone(),
        instance: k.holder.clone(),
        stage: opts.stage.clone(),
    }
    .run(cancel.clone());
    let cancel = cancel.clone();
    tokio::spawn(async move {
        tokio::join!(watch, publish, election.run(cancel));
    })
}

/// How long shutdown waits for the HTTP server and watcher after the reconcile loop stopped.
const STOP_TIMEOUT: Duration = Duration::from_secs(3);

/// The reconcile function, for the daemon's options.
fn new_reconciler(
    opts: &Options,
    approval: Arc<approval::Approval>,
    shared: Arc<state::Shared>,
    lease: Option<Arc<lease::Lease>>,
) -> reconcile::Reconciler {
    reconcile::Reconciler::new(
        reconcile::Settings {
            origin: opts.origin.clone(),
            stage: opts.stage.clone(),
            state_dir: opts.state_dir.clone(),
            guard: opts.guard,
            style: opts.style,
        },
        approval,
        shared,
        lease,
    )
}

/// After the reconcile loop stopped: stops renewing and releases the lease, then waits (at
/// most [`STOP_TIMEOUT`]) for the HTTP server and the watcher.
async fn stop(
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    watcher: tokio::task::JoinHandle<()>,
    renewer: Option<tokio::task::JoinHandle<()>>,
    lease: Option<&lease::Lease>,
) {
    if let Some(renewer) = renewer {
        renewer.abort();
        let _ = renewer.await;
    }
    if let Some(lease) = lease {
        lease.release().await;
    }
    let stopped = tokio::time::timeout(STOP_TIMEOUT, async {
        match server.await {
            Ok(Err(e)) => tracing::warn!(error = %e, "HTTP server"),
            Err(e) => tracing::warn!(error = %e, "HTTP server task"),
            Ok(Ok(())) => {}
        }
        let _ = watcher.await;
    })
    .await;
    if stopped.is_err() {
        tracing::warn!("HTTP server did not stop in time; exiting anyway");
    }
}

fn log_start(opts: &Options, addr: SocketAddr) {
    tracing::info!(
        %addr,
        approve = opts.approve.as_str(),
        resync = ?opts.resync,
        allow_replace = opts.guard.allow_replace,
        allow_delete = opts.guard.allow_delete,
        "stackwatch watch: serving /healthz /readyz /metrics /status on http://{addr}"
    );
}

/// The listener of `/healthz`, `/metrics`, `/status` and the console, and the address it got.
async fn bind(listen: SocketAddr) -> Result<(tokio::net::TcpListener, SocketAddr), DaemonError> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| DaemonError::Listen {
            addr: listen,
            source,
        })?;
    let addr = listener.local_addr().unwrap_or(listen);
    Ok((listener, addr))
}

/// Runs until SIGINT or SIGTERM; returns Ok after a clean stop.
pub async fn run(opts: Options) -> Result<(), DaemonError> {
    let cancel = CancellationToken::new();
    shutdown::spawn(cancel.clone()).map_err(DaemonError::Signals)?;

    let (listener, addr) = bind(opts.listen).await?;
    let shared = Arc::new(state::Shared::new(opts.approve.as_str()));
    let approval = Arc::new(approval::Approval::new(opts.approve));
    let trigger = Arc::new(Notify::new());
    let (signals_tx, signals) = mpsc::unbounded_channel();

    // With the objects as the config nothing sends paths, but the channel stays open: the
    // dispatcher also turns ENTER, the console's Deploy and a won lease into the app's key.
    let (file_watcher, _no_paths) = match &opts.origin {
        crate::origin::Origin::Files(dir) => {
            (Some(watcher::spawn(dir, signals_tx, cancel.clone())?), None)
        }
        crate::origin::Origin::Kubernetes(_) => (None, Some(signals_tx)),
    };
    let console = http::console(&opts, addr, &shared, &approval, &trigger, &cancel);
    let server = tokio::spawn(http::serve(
        listener,
        shared.clone(),
        console,
        cancel.clone(),
    ));
    log_start(&opts, addr);
    if opts.approve == Mode::Prompt {
        approval::spawn_terminal_reader(approval.clone(), trigger.clone(), cancel.clone());
    }
    let lease = (opts.approve != Mode::Never)
        .then(|| lease::Lease::new(opts.lease_ttl, shared.clone(), trigger.clone()));
    let renewer = lease.clone().map(|l| l.spawn_renewer(cancel.clone()));

    let kube_trigger = trigger.clone();
    let kube_approval = approval.clone();
    let mut reconciler = new_reconciler(&opts, approval, shared.clone(), lease.clone());
    let (keys_tx, keys) = mpsc::unbounded_channel();
    reconciler.set_enqueue(keys_tx.clone());
    let dispatch = tokio::spawn(dispatch(
        reconciler.stack_files(),
        trigger,
        signals,
        keys_tx.clone(),
        cancel.clone(),
    ));
    let files = reconciler.stack_files();
    let watcher = match file_watcher {
        Some(w) => w,
        None => spawn_kube(
            &opts,
            Wiring {
                shared: shared.clone(),
                trigger: kube_trigger,
                approval: kube_approval,
                files: files.clone(),
                keys: keys_tx.clone(),
            },
            lease.as_deref(),
            &cancel,
        ),
    };
    scheduler::run_daemon(
        Arc::new(reconciler),
        keys,
        opts.resync,
        files,
        shared,
        cancel.clone(),
    )
    .await;
    cancel.cancel();
    let _ = dispatch.await;
    stop(server, watcher, renewer, lease.as_deref()).await;
    tracing::info!("stopped");
    Ok(())
}
