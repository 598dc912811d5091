//! Watches the config directory and only signals: "these relevant paths changed". It never
//! reads the files; the daemon maps the paths to the stacks they held, and the reconcile reads.
//!
//! - Recursive `notify` watch on the config directory, so editors' atomic saves (write a
//!   temporary file, rename it over the original: vim, JetBrains), truncate-then-write (VS Code)
//!   and a replaced `stacks/` directory are all seen.
//! - Only `stackwatch.yaml`, `stacks/` and stack files (`config::is_stack_file`) count, and the
//!   kubelet's `..data` symlink of a ConfigMap volume (its swap replaces every file at once);
//!   swap and backup files (`.swp`, `~`, `4913`, other hidden files) and everything else are
//!   ignored.
//! - Debounce: after a relevant event, events are drained until [`QUIET`] passes without one
//!   (at most [`MAX_DELAY`]), then one signal is sent with every relevant path the burst
//!   touched (a watch error or a replaced directory signals the directory itself).
//! - If the config directory itself is replaced or appears later, it is watched again.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::event::{EventKind, ModifyKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher as _};
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};
use tokio_util::sync::CancellationToken;

use crate::config;

/// How long the files must stay quiet before a change is signalled. An editor's save is a
/// handful of events within a few milliseconds (write a temporary file and rename it, or
/// truncate and write, then a chmod); 30 ms of quiet holds them together while adding little to
/// save-to-converged, and a longer burst is still one signal (up to [`MAX_DELAY`]).
pub const QUIET: Duration = Duration::from_millis(30);
/// The longest a steady stream of changes can delay the signal.
pub const MAX_DELAY: Duration = Duration::from_secs(2);
/// How often the watched directory is checked for having been replaced.
const RECHECK: Duration = Duration::from_secs(1);

/// Errors starting the watch.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("watching {path}: {source}")]
    Notify {
        path: PathBuf,
        #[source]
        source: notify::Error,
    },
}

/// A Kubernetes ConfigMap volume holds its files in a timestamped directory behind the symlink
/// `..data` (each file is a symlink through it); the kubelet updates the volume by pointing a new
/// `..data_tmp` at a new directory and renaming it over `..data`. That rename, in the config
/// directory or in `stacks/` (each may be a ConfigMap volume), changes every file at once.
const KUBELET_DATA: &str = "..data";

/// Whether a changed path can change what `config::load` reads from `root`.
pub fn is_relevant(root: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(root) else {
        return false;
    };
    let parts: Vec<_> = rel.components().collect();
    match parts.as_slice() {
        // The directory itself (removed, renamed over).
        [] => true,
        [one] => {
            let one = one.as_os_str();
            one == "stackwatch.yaml" || one == "stacks" || one == KUBELET_DATA
        }
        [dir, file] => {
            dir.as_os_str() == "stacks"
                && (config::is_stack_file(path) || file.as_os_str() == KUBELET_DATA)
        }
        _ => false,
    }
}

fn counts(kind: &EventKind) -> bool {
    !matches!(
        kind,
        EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_))
    )
}

/// The identity of a directory, to notice that it was replaced.
fn identity(dir: &Path) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(dir).ok().map(|m| (m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        std::fs::metadata(dir).ok().map(|_| (0, 0))
    }
}

struct Watch {
    _watcher: RecommendedWatcher,
    identity: Option<(u64, u64)>,
}

fn start(
    root: &Path,
    tx: &mpsc::UnboundedSender<notify::Result<notify::Event>>,
) -> Result<Watch, WatchError> {
    let tx = tx.clone();
    let mut watcher = notify::recommended_watcher(move |ev| {
        let _ = tx.send(ev);
    })
    .map_err(|source| WatchError::Notify {
        path: root.to_path_buf(),
        source,
    })?;
    watcher
        .watch(root, RecursiveMode::Recursive)
        .map_err(|source| WatchError::Notify {
            path: root.to_path_buf(),
            source,
        })?;
    Ok(Watch {
        _watcher: watcher,
        identity: identity(root),
    })
}

/// The relevant paths of one notify event; a watch error is the whole directory.
fn relevant_paths(root: &Path, ev: &notify::Result<notify::Event>) -> Vec<PathBuf> {
    match ev {
        Ok(ev) if counts(&ev.kind) => ev
            .paths
            .iter()
            .filter(|p| is_relevant(root, p))
            .cloned()
            .collect(),
        Ok(_) => Vec::new(),
        Err(e) => {
            tracing::warn!(error = %e, "file watch error; rechecking");
            vec![root.to_path_buf()]
        }
    }
}

/// Starts watching `dir` and spawns the task that debounces events into `signals`, one batch
/// of changed paths per burst. Fails only if the directory exists and cannot be watched; a
/// missing one is watched once it appears.
pub fn spawn(
    dir: &Path,
    signals: mpsc::UnboundedSender<Vec<PathBuf>>,
    cancel: CancellationToken,
) -> Result<tokio::task::JoinHandle<()>, WatchError> {
    let root = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut watch = if root.exists() {
        Some(start(&root, &tx)?)
    } else {
        tracing::warn!(dir = %root.display(), "config directory missing; watching for it");
        None
    };
    if watch.is_some() {
        tracing::info!(dir = %root.display(), "watching for changes");
    }
    Ok(tokio::spawn(async move {
        let mut recheck = tokio::time::interval(RECHECK);
        loop {
            let first: Vec<PathBuf> = tokio::select! {
                _ = cancel.cancelled() => break,
                _ = recheck.tick() => {
                    let now = identity(&root);
                    if now.is_some() && watch.as_ref().and_then(|w| w.identity) != now {
                        match start(&root, &tx) {
                            Ok(w) => {
                                tracing::info!(dir = %root.display(), "config directory replaced; watching it again");
                                watch = Some(w);
                                vec![root.clone()]
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "cannot watch the config directory yet");
                                Vec::new()
                            }
                        }
                    } else {
                        Vec::new()
                    }
                }
                ev = rx.recv() => match ev {
                    None => break,
                    Some(ev) => {
                        let paths = relevant_paths(&root, &ev);
                        if !paths.is_empty() {
                            tracing::debug!(?paths, "change");
                        }
                        paths
                    }
                },
            };
            if first.is_empty() {
                continue;
            }
            let Some(more) = debounce(&mut rx, QUIET, MAX_DELAY, &cancel).await else {
                return;
            };
            let mut paths = first;
            for ev in &more {
                paths.extend(relevant_paths(&root, ev));
            }
            paths.sort();
            paths.dedup();
            if signals.send(paths).is_err() {
                return;
            }
        }
    }))
}

/// The end of a burst of events, the first of which was just seen: returns the events that
/// followed it once `quiet` passes without another, or `max` after the first, whichever is
/// sooner. Pure: any receiver, only tokio time. `None` when the channel closed or `cancel`
/// fired.
pub async fn debounce<T>(
    rx: &mut mpsc::UnboundedReceiver<T>,
    quiet: Duration,
    max: Duration,
    cancel: &CancellationToken,
) -> Option<Vec<T>> {
    let deadline = Instant::now() + max;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Some(seen);
        }
        tokio::select! {
            _ = cancel.cancelled() => return None,
            r = timeout(quiet.min(left), rx.recv()) => match r {
                Ok(Some(ev)) => seen.push(ev),
                Ok(None) => return None,
                Err(_) => return Some(seen),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends an event every `every` for `for_`, then keeps the channel open.
    fn burst(every: Duration, for_: Duration) -> mpsc::UnboundedReceiver<()> {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let end = Instant::now() + for_;
            while Instant::now() < end {
                tokio::time::sleep(every).await;
                let _ = tx.send(());
            }
            tokio::time::sleep(Duration::from_secs(3600)).await;
            drop(tx);
        });
        rx
    }

    #[tokio::test(start_paused = true)]
    async fn one_event_is_signalled_after_the_quiet_window() {
        let (_tx, mut rx) = mpsc::unbounded_channel::<()>();
        let t0 = Instant::now();
        let seen = debounce(&mut rx, QUIET, MAX_DELAY, &CancellationToken::new()).await;
        assert_eq!(seen, Some(Vec::new()));
        assert_eq!(t0.elapsed(), QUIET);
    }

    #[tokio::test(start_paused = true)]
    async fn an_editor_save_burst_is_one_signal_after_its_last_event() {
        // Ten events 20 ms apart (an atomic save, a formatter, a second write).
        let mut rx = burst(Duration::from_millis(20), Duration::from_millis(200));
        let t0 = Instant::now();
        let seen = debounce(&mut rx, QUIET, MAX_DELAY, &CancellationToken::new()).await;
        assert_eq!(
            seen.map(|s| s.len()),
            Some(10),
            "every event of the burst is handed on"
        );
        assert_eq!(t0.elapsed(), Duration::from_millis(200) + QUIET);
    }

    #[tokio::test(start_paused = true)]
    async fn a_steady_stream_is_signalled_at_the_longest_delay() {
        let mut rx = burst(Duration::from_millis(10), Duration::from_secs(10));
        let t0 = Instant::now();
        assert!(
            debounce(&mut rx, QUIET, MAX_DELAY, &CancellationToken::new())
                .await
                .is_some()
        );
        assert_eq!(t0.elapsed(), MAX_DELAY);
    }

    #[tokio::test(start_paused = true)]
    async fn cancel_ends_the_wait_without_a_signal() {
        let mut rx = burst(Duration::from_millis(10), Duration::from_secs(10));
        let cancel = CancellationToken::new();
        let c = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            c.cancel();
        });
        assert!(debounce(&mut rx, QUIET, MAX_DELAY, &cancel).await.is_none());
    }

    #[test]
    fn only_files_that_load_reads_are_relevant() {
        let root = Path::new("/c");
        for p in [
            "/c",
            "/c/stackwatch.yaml",
            "/c/stacks",
            "/c/stacks/auth.yaml",
            "/c/stacks/x.yml",
            "/c/..data",
            "/c/stacks/..data",
        ] {
            assert!(is_relevant(root, Path::new(p)), "{p}");
        }
        for p in [
            "/c/stacks/.auth.yaml.swp",
            "/c/stacks/auth.yaml~",
            "/c/stacks/4913",
            "/c/stacks/.#auth.yaml",
            "/c/stacks/auth.yaml___jb_tmp___",
            "/c/.stackwatch/outputs.json",
            "/c/schema/stack.schema.json",
            "/c/stacks/sub/a.yaml",
            "/c/.stackwatch.yaml.swp",
            "/elsewhere/stacks/a.yaml",
            "/c/..data_tmp",
            "/c/..2026_12_02_05_00_00.123",
            "/c/stacks/..2026_12_02_05_00_00.123/auth.yaml",
        ] {
            assert!(!is_relevant(root, Path::new(p)), "{p}");
        }
    }
}
