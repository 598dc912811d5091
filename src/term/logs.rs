//! What stderr shows of the logs (tracing): every line (text or JSON, with timestamps and
//! module paths), or, quiet on a terminal, only warnings and errors as short human lines
//! (`warning: …`, `error: …`) printed above the spinners of a deploy in progress.

use std::fmt::Write as _;
use std::io::IsTerminal;

use anstyle::AnsiColor;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

/// How the logs are drawn on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Logs {
    /// Only warnings and errors, as short lines: a person at a terminal, who reads the plans
    /// and progress on stdout.
    Quiet,
    /// Every line as text (`RUST_LOG` filters, default `stackwatch=info,warn`).
    Text,
    /// Every line as JSON.
    Json,
}

/// What asked for the logs: the command line and the environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct Asked {
    /// `--log-format json`.
    pub json: bool,
    /// `--log-format` given at all.
    pub format_given: bool,
    /// `-v`.
    pub verbose: bool,
    /// A command that draws its own progress on a terminal (`watch`, `apply`, `destroy`).
    pub draws_progress: bool,
}

impl Asked {
    /// Quiet only for a command that draws its progress, on a terminal (stderr), when neither
    /// `-v`, `--log-format` nor `RUST_LOG` asks for the full logs.
    pub fn logs(self, rust_log_set: bool, stderr_is_terminal: bool) -> Logs {
        if self.json {
            Logs::Json
        } else if self.draws_progress
            && stderr_is_terminal
            && !self.verbose
            && !self.format_given
            && !rust_log_set
        {
            Logs::Quiet
        } else {
            Logs::Text
        }
    }

    /// [`Asked::logs`] for this process: its `RUST_LOG` and its stderr.
    pub fn logs_here(self) -> Logs {
        let rust_log_set = std::env::var_os("RUST_LOG").is_some_and(|v| !v.is_empty());
        self.logs(rust_log_set, std::io::stderr().is_terminal())
    }
}

/// Installs the process's logger.
pub fn init(logs: Logs) {
    if logs == Logs::Quiet {
        tracing_subscriber::registry()
            .with(Short.with_filter(LevelFilter::WARN))
            .init();
        return;
    }
    // An empty RUST_LOG is no RUST_LOG, as in [`Asked::logs_here`].
    let filter = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.is_empty())
        .and_then(|v| EnvFilter::try_new(v).ok())
        .unwrap_or_else(|| EnvFilter::new("stackwatch=info,warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match logs {
        Logs::Json => builder.json().init(),
        Logs::Text | Logs::Quiet => builder.init(),
    }
}

/// The quiet layer: each event as one short line through [`super::log_line`].
struct Short;

impl<S: Subscriber> Layer<S> for Short {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let colour =
            anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never;
        super::log_line(&short_line(*event.metadata().level(), &fields, colour));
    }
}

/// An event's message and other fields, as text.
#[derive(Debug, Default)]
struct Fields {
    message: String,
    error: Option<String>,
    others: Vec<(&'static str, String)>,
}

impl Fields {
    fn put(&mut self, field: &Field, text: String) {
        match field.name() {
            "message" => self.message = text,
            "error" => self.error = Some(text),
            name => self.others.push((name, text)),
        }
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, format!("{value:?}"));
    }
}

/// `warning: lease: renewing: timed out (id: x)`: the level, the message, the error after a
/// colon, the other fields in brackets; no timestamp, no module path.
fn short_line(level: Level, f: &Fields, colour: bool) -> String {
    let (label, hue) = match level {
        Level::ERROR => ("error", AnsiColor::Red),
        Level::WARN => ("warning", AnsiColor::Yellow),
        Level::INFO => ("info", AnsiColor::Green),
        Level::DEBUG | Level::TRACE => ("debug", AnsiColor::Magenta),
    };
    let mut line = if colour {
        let s = anstyle::Style::new().bold().fg_color(Some(hue.into()));
        format!("{s}{label}:{s:#} {}", f.message)
    } else {
        format!("{label}: {}", f.message)
    };
    if let Some(e) = &f.error {
        let _ = write!(line, ": {e}");
    }
    if !f.others.is_empty() {
        let others: Vec<String> = f.others.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let _ = write!(line, " ({})", others.join(", "));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_only_for_a_drawing_command_on_a_terminal_unless_asked_for_more() {
        let watch = Asked {
            draws_progress: true,
            ..Asked::default()
        };
        assert_eq!(watch.logs(false, true), Logs::Quiet);
        // Not a terminal: the logs as always (tests and services parse them).
        assert_eq!(watch.logs(false, false), Logs::Text);
        // RUST_LOG, -v or --log-format bring them back.
        assert_eq!(watch.logs(true, true), Logs::Text);
        let verbose = Asked {
            verbose: true,
            ..watch
        };
        assert_eq!(verbose.logs(false, true), Logs::Text);
        let given = Asked {
            format_given: true,
            ..watch
        };
        assert_eq!(given.logs(false, true), Logs::Text);
        let json = Asked {
            json: true,
            format_given: true,
            ..watch
        };
        assert_eq!(json.logs(false, true), Logs::Json);
        // A command that draws no progress keeps its logs.
        assert_eq!(Asked::default().logs(false, true), Logs::Text);
    }

    #[test]
    fn a_short_line_has_the_level_message_error_and_fields_only() {
        let f = Fields {
            message: "lease: renewing".into(),
            error: Some("timed out".into()),
            others: vec![("id", "AuthStack.Auth".into())],
        };
        assert_eq!(
            short_line(Level::WARN, &f, false),
            "warning: lease: renewing: timed out (id: AuthStack.Auth)"
        );
        let bare = Fields {
            message: "a reconcile task panicked".into(),
            ..Fields::default()
        };
        assert_eq!(
            short_line(Level::ERROR, &bare, false),
            "error: a reconcile task panicked"
        );
        let coloured = short_line(Level::ERROR, &bare, true);
        assert!(coloured.contains("\x1b[") && coloured.ends_with("a reconcile task panicked"));
    }
}
