//! Signals: the first SIGINT or SIGTERM cancels the shutdown token that every loop watches;
//! a second one exits at once with code 130.

use tokio_util::sync::CancellationToken;

/// The exit code of a forced exit (second signal).
pub const FORCED_EXIT: i32 = 130;

/// Installs the handlers and spawns the task that turns signals into cancellation.
pub fn spawn(cancel: CancellationToken) -> std::io::Result<()> {
    let mut signals = Signals::new()?;
    tokio::spawn(async move {
        tokio::select! {
            _ = signals.next() => {}
            _ = cancel.cancelled() => return,
        }
        tracing::info!("stopping (send the signal again to exit at once)");
        cancel.cancel();
        signals.next().await;
        eprintln!("second signal: exiting now");
        std::process::exit(FORCED_EXIT);
    });
    Ok(())
}

#[cfg(unix)]
struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn new() -> std::io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
        })
    }

    async fn next(&mut self) {
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn new() -> std::io::Result<Signals> {
        Ok(Signals)
    }

    async fn next(&mut self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}
