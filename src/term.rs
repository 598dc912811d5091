//! The terminal, drawn as `sst start` draws it: what goes to stdout (plans, progress, outputs)
//! with colour that is stripped when stdout is not a terminal or `NO_COLOR` is set, and a
//! deploy's per-resource progress, with a spinner per resource in flight on a terminal and one
//! plain line per resource elsewhere. The logs on stderr (tracing) are set up in [`logs`]:
//! quiet on a terminal, their short lines printed here, above the spinners.

pub mod logs;

use std::collections::{BTreeSet, HashMap};
use std::io::{IsTerminal, Write};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use anstyle::AnsiColor;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::{Applied, Outcome, Progress};
use crate::plan::{Action, Plan};
use crate::render::Style;

/// Whether stdout shows colour: a terminal, and `NO_COLOR` unset (or `CLICOLOR_FORCE` set), as
/// anstream decides.
pub fn colour() -> bool {
    anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
}

/// The style for stdout: colour when [`colour`], every resource listed when `verbose`.
pub fn style(verbose: bool) -> Style {
    Style {
        color: colour(),
        verbose,
    }
}

/// Writes `text` to stdout at once (a prompt has no trailing newline to wait for), without its
/// colour where stdout shows none.
pub fn print(text: &str) {
    let mut out = anstream::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Where spinners are drawn on a terminal (stdout): one area for the whole process, shared by
/// every deploy in progress (the daemon deploys stacks side by side), so that each redraw clears
/// every spinner line and log lines can be printed above them all.
fn spinners() -> Option<&'static MultiProgress> {
    static AREA: OnceLock<Option<MultiProgress>> = OnceLock::new();
    AREA.get_or_init(|| {
        std::io::stdout()
            .is_terminal()
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stdout()))
    })
    .as_ref()
}

/// Writes one log line to stderr (its colour stripped where stderr shows none), with the
/// spinners of a deploy in progress cleared around it, so none is left behind.
pub fn log_line(text: &str) {
    let write = || {
        let mut err = anstream::stderr().lock();
        let _ = writeln!(err, "{text}");
        let _ = err.flush();
    };
    match spinners() {
        Some(m) => m.suspend(write),
        None => write(),
    }
}

/// A deploy's progress: a line per changed resource as it ends (`✓ created AuthStack.Auth.UserPool
/// (0.3 s)`), a spinner per resource in flight on a terminal, and the closing `Deployed in 1.2 s`.
pub struct Deploy {
    changing: BTreeSet<String>,
    style: Style,
    /// Spinners, on a terminal.
    multi: Option<MultiProgress>,
    spinners: Mutex<HashMap<String, ProgressBar>>,
    began: Instant,
}

impl Deploy {
    /// For applying `plan` (only the resources it changes are drawn).
    pub fn new(plan: &Plan, style: Style) -> Deploy {
        let changing = plan
            .changes
            .iter()
            .filter(|c| !matches!(c.action, Action::NoChange | Action::Blocked))
            .map(|c| c.id.clone())
            .collect();
        Deploy {
            changing,
            style,
            multi: spinners().cloned(),
            spinners: Mutex::new(HashMap::new()),
            began: Instant::now(),
        }
    }

    /// The closing line: `Deployed in 1.2 s`, or how many failed.
    pub fn summary(&self, failed: usize) -> String {
        let took = seconds(self.began.elapsed());
        if failed == 0 {
            let text = format!("Deployed in {took}");
            format!("\n{}\n", paint(self.style, AnsiColor::Green, &text))
        } else {
            let text = format!("Deploy failed: {failed} resource(s) in {took}");
            format!("\n{}\n", paint(self.style, AnsiColor::Red, &text))
        }
    }

    fn line(&self, text: &str) {
        match &self.multi {
            Some(m) => {
                let _ = m.println(text);
            }
            None => print(&format!("{text}\n")),
        }
    }
}

impl Progress for Deploy {
    fn started(&self, id: &str) {
        let Some(multi) = &self.multi else { return };
        if !self.changing.contains(id) {
            return;
        }
        let spinner = multi.add(ProgressBar::new_spinner());
        if let Ok(s) = ProgressStyle::with_template("  {spinner} {msg}") {
            spinner.set_style(s);
        }
        spinner.set_message(id.to_string());
        spinner.enable_steady_tick(Duration::from_millis(100));
        lock(&self.spinners).insert(id.to_string(), spinner);
    }

    fn finished(&self, applied: &Applied, took: Duration) {
        if let Some(spinner) = lock(&self.spinners).remove(&applied.id) {
            spinner.finish_and_clear();
            if let Some(m) = &self.multi {
                m.remove(&spinner);
            }
        }
        if !self.changing.contains(&applied.id) {
            return;
        }
        let took = seconds(took);
        let line = match &applied.outcome {
            Outcome::Done => format!(
                "  {} {} {} ({took})",
                paint(self.style, AnsiColor::Green, "✓"),
                applied.id,
                done(applied.action)
            ),
            Outcome::Held(why) => format!(
                "  {} {} held: {why}",
                paint(self.style, AnsiColor::Yellow, "-"),
                applied.id
            ),
            Outcome::Failed(e) => format!(
                "  {} {} failed: {e}",
                paint(self.style, AnsiColor::Red, "✗"),
                applied.id
            ),
        };
        self.line(&line);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn paint(style: Style, colour: AnsiColor, text: &str) -> String {
    if style.color {
        let s = anstyle::Style::new().fg_color(Some(colour.into()));
        format!("{s}{text}{s:#}")
    } else {
        text.to_string()
    }
}

/// `1.2 s`.
fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// What happened to a resource, in the past tense.
fn done(a: Action) -> &'static str {
    match a {
        Action::Create => "created",
        Action::Update => "updated",
        Action::Replace => "replaced",
        Action::Delete => "deleted",
        Action::NoChange | Action::Blocked => "unchanged",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Change;

    fn change(id: &str, action: Action) -> Change {
        Change {
            id: id.into(),
            stack: "AuthStack".into(),
            kind: "IAM role",
            physical: "r".into(),
            action,
            fields: vec![],
            error: None,
            notes: vec![],
        }
    }

    #[test]
    fn only_changed_resources_are_drawn_and_the_summary_counts_failures() {
        let plan = Plan {
            changes: vec![
                change("AuthStack.Role", Action::Update),
                change("AuthStack.Pool", Action::NoChange),
            ],
        };
        let d = Deploy::new(&plan, Style::PLAIN);
        assert!(d.changing.contains("AuthStack.Role"));
        assert!(!d.changing.contains("AuthStack.Pool"));
        assert!(
            d.summary(0).starts_with("\nDeployed in "),
            "{}",
            d.summary(0)
        );
        assert!(d.summary(2).contains("2 resource(s)"));
        assert!(!d.summary(0).contains('\x1b'));
        let coloured = Deploy::new(&plan, Style::terminal(false));
        assert!(coloured.summary(0).contains('\x1b'));
    }
}
