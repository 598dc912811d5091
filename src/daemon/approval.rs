//! Whether a plan may be applied: `auto` applies, `never` only reports, and `prompt` shows the
//! plan with `Press ENTER to deploy` (as `sst start` does) and applies it once ENTER is pressed.
//!
//! A newer plan replaces a pending one. ENTER does not apply a stored plan: it marks the pending
//! plan approved and asks for a reconcile, which re-reads AWS; the plan is applied only if it is
//! still the one that was shown, and otherwise shown again.

use std::io::BufRead;
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

/// How plans get approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Ask on the terminal, apply on ENTER.
    Prompt,
    /// Apply (within the blast-radius guard).
    Auto,
    /// Only report plans and drift.
    Never,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Prompt => "prompt",
            Mode::Auto => "auto",
            Mode::Never => "never",
        }
    }
}

/// What the reconcile may do with the plan it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Apply,
    /// Wait: for ENTER (prompt) or forever (never).
    Wait,
}

/// The approval gate, shared by the reconcile loop and the terminal reader.
#[derive(Debug)]
pub struct Approval {
    mode: Mutex<Mode>,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// The plan shown (by its rendered text), and whether ENTER was pressed for it.
    pending: Option<String>,
    approved: bool,
    /// The last approval by hash that named another plan: (named, pending then).
    refused: Option<(String, Option<String>)>,
}

/// A plan's hash, as `stackwatch.dev/approve=<hash>` names it: the first 16 hex digits of the
/// SHA-256 of its text as shown.
pub fn plan_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Approval {
    pub fn new(mode: Mode) -> Approval {
        Approval {
            mode: Mutex::new(mode),
            inner: Mutex::new(Inner::default()),
        }
    }

    pub fn mode(&self) -> Mode {
        *self.mode.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Switches between `auto` and asking (an `App`'s `approval` changed); a pending plan is
    /// forgotten. False when it was already so.
    pub fn set_mode(&self, mode: Mode) -> bool {
        let mut m = self.mode.lock().unwrap_or_else(|p| p.into_inner());
        if *m == mode {
            return false;
        }
        *m = mode;
        drop(m);
        self.clear();
        true
    }

    /// Approves the pending plan if `hash` is its [`plan_hash`]; otherwise approves nothing,
    /// remembers the refusal, and returns the pending plan's hash (None: nothing pends).
    pub fn approve_hash(&self, hash: &str) -> Result<(), Option<String>> {
        let mut g = self.lock();
        let pending = g.pending.as_deref().map(plan_hash);
        if pending.as_deref() == Some(hash) {
            g.approved = true;
            g.refused = None;
            Ok(())
        } else {
            g.refused = Some((hash.to_string(), pending.clone()));
            Err(pending)
        }
    }

    /// The last refused approval: the hash it named, and the pending plan's hash then.
    pub fn refused(&self) -> Option<(String, Option<String>)> {
        self.lock().refused.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Decides for a plan with changes, rendered as `text`, and says what to show the user:
    /// a new plan with the prompt (prompt) or the report (never); nothing for a plan already shown.
    /// `what`: what it would deploy, for the prompt ("2 changes to dev-notes-AuthStack").
    /// `can_apply`: the caller holds the whole plan shown, and can apply it. A caller that holds
    /// only a part (one stack's reconcile) never consumes an approval: ENTER asks for a
    /// reconcile of the whole app, which applies it.
    pub fn decide(&self, text: &str, what: &str, can_apply: bool) -> (Decision, Option<String>) {
        let mode = self.mode();
        let mut g = self.lock();
        match mode {
            Mode::Auto => (Decision::Apply, None),
            Mode::Never => {
                if g.pending.as_deref() == Some(text) {
                    return (Decision::Wait, None);
                }
                g.pending = Some(text.to_string());
                let show = format!(
                    "{text}\n(--approve never: not deploying; this plan is only reported)\n"
                );
                (Decision::Wait, Some(show))
            }
            Mode::Prompt => {
                if g.pending.as_deref() == Some(text) {
                    if g.approved && can_apply {
                        *g = Inner::default();
                        return (Decision::Apply, None);
                    }
                    return (Decision::Wait, None);
                }
                let changed = if g.approved {
                    "The plan changed before it was deployed; here is the new one.\n"
                } else {
                    ""
                };
                g.pending = Some(text.to_string());
                g.approved = false;
                g.refused = None;
                let show = format!("{changed}{text}\nPress ENTER to deploy {what}\n");
                (Decision::Wait, Some(show))
            }
        }
    }

    /// The plan has no changes (any more): nothing is pending.
    pub fn clear(&self) {
        *self.lock() = Inner::default();
    }

    /// ENTER was pressed: approves the pending plan. False when nothing is pending.
    pub fn approve(&self) -> bool {
        let mut g = self.lock();
        if g.pending.is_some() {
            g.approved = true;
            true
        } else {
            false
        }
    }

    pub fn pending(&self) -> bool {
        self.lock().pending.is_some()
    }

    /// The pending plan as it was shown (`render::plan_text`), for the console's Plan page.
    pub fn pending_text(&self) -> Option<String> {
        self.lock().pending.clone()
    }
}

/// Reads lines from stdin (ENTER) and approves the pending plan, then asks for a reconcile.
///
/// The blocking read runs on its own OS thread (not tokio's blocking pool), so a read that
/// never returns cannot hold up shutdown; the process simply exits around it.
pub fn spawn_terminal_reader(
    approval: Arc<Approval>,
    trigger: Arc<Notify>,
    cancel: CancellationToken,
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("stackwatch-stdin".into())
        .spawn(move || {
            let stdin = std::io::stdin();
            for line in stdin.lock().lines() {
                if line.is_err() || tx.send(()).is_err() {
                    break;
                }
            }
            tracing::debug!("stdin closed; ENTER can no longer approve plans");
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot read the terminal; plans cannot be approved");
        return;
    }
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                line = rx.recv() => match line {
                    None => break,
                    Some(()) if approval.approve() => {
                        crate::term::print("Deploying…\n");
                        trigger.notify_one();
                    }
                    Some(()) => crate::term::print("Nothing to deploy.\n"),
                },
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(a: &Approval, text: &str) -> (Decision, bool) {
        let (d, show) = a.decide(text, "1 change", true);
        (d, show.is_some())
    }

    #[test]
    fn prompt_applies_only_the_approved_plan() {
        let a = Approval::new(Mode::Prompt);
        assert!(!a.approve(), "nothing pending yet");
        assert_eq!(decision(&a, "plan 1"), (Decision::Wait, true));
        assert_eq!(decision(&a, "plan 1"), (Decision::Wait, false));
        assert!(a.approve());
        // A newer plan replaces the approved one: shown again, not applied.
        let (d, show) = a.decide("plan 2", "1 change", true);
        assert_eq!(d, Decision::Wait);
        assert!(show.unwrap().contains("The plan changed"));
        assert_eq!(decision(&a, "plan 2"), (Decision::Wait, false));
        assert_eq!(a.pending_text().as_deref(), Some("plan 2"));
        assert!(a.approve());
        assert_eq!(decision(&a, "plan 2"), (Decision::Apply, false));
        assert!(!a.pending());
        assert_eq!(a.pending_text(), None);
    }

    #[test]
    fn a_part_of_the_plan_never_consumes_the_approval() {
        let a = Approval::new(Mode::Prompt);
        assert_eq!(decision(&a, "union"), (Decision::Wait, true));
        assert!(a.approve());
        // One stack's reconcile, whose part left the union as shown: still waits, and
        // the approval stays for the whole-app reconcile that ENTER asked for.
        assert_eq!(a.decide("union", "1 change", false), (Decision::Wait, None));
        assert_eq!(decision(&a, "union"), (Decision::Apply, false));
    }

    #[test]
    fn auto_applies_and_never_waits() {
        assert_eq!(
            decision(&Approval::new(Mode::Auto), "p"),
            (Decision::Apply, false)
        );
        let never = Approval::new(Mode::Never);
        assert_eq!(decision(&never, "p"), (Decision::Wait, true));
        assert!(never.approve());
        assert_eq!(decision(&never, "p"), (Decision::Wait, false));
    }
}
