//! `stackwatch watch`: keep AWS converged with the config directory until Ctrl-C.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use super::CliError;
use super::Ctx;
use crate::console::{self, auth::Token};
use crate::daemon::{self, Mode};
use crate::engine::Guard;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Approve {
    /// Show each plan and deploy it on ENTER.
    Prompt,
    /// Deploy each plan (deletes and replacements only with --allow-delete / --allow-replace).
    Auto,
    /// Only report plans and drift.
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Console {
    /// No console.
    Off,
    /// Pages and live updates, no write controls; every write is refused.
    ReadOnly,
    /// Pages with write controls (Create User, delete).
    On,
}

/// The variable that may hold the console token (for Kubernetes, from a Secret).
const TOKEN_ENV: &str = "STACKWATCH_CONSOLE_TOKEN";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Source {
    /// The config directory (--config), watched with inotify.
    Files,
    /// The App and Stack objects of a namespace (stackwatch.dev/v1alpha1), watched through the
    /// Kubernetes API (KUBECONFIG, or the pod's service account).
    Kubernetes,
}

/// Who writes the Events of `--source kubernetes`: the pod's name from the downward API.
const IDENTITY_ENV: &str = "STACKWATCH_IDENTITY";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where the config comes from.
    #[arg(long, value_enum, default_value = "files")]
    pub source: Source,
    /// With --source kubernetes: the namespace of the App and Stack objects [default: the
    /// kubeconfig's].
    #[arg(long)]
    pub namespace: Option<String>,
    /// How plans are approved [default: prompt when stdin is a terminal, else auto].
    #[arg(long, value_enum)]
    pub approve: Option<Approve>,
    /// Apply replacements (a replaced user pool loses its users); otherwise they are reported.
    #[arg(long)]
    pub allow_replace: bool,
    /// Apply deletes of resources no longer in the stack files; otherwise they are reported.
    #[arg(long)]
    pub allow_delete: bool,
    /// How often AWS is re-read to find drift, such as "60s", "5m" or "500ms".
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub resync: Duration,
    /// Address for /healthz, /readyz, /metrics and /status.
    #[arg(long, default_value = "127.0.0.1:9464", env = "STACKWATCH_LISTEN")]
    pub listen: SocketAddr,
    /// How long the leader's lease lasts without renewal; a crashed leader is replaced after
    /// this. Renewed every third of it.
    #[arg(long, default_value = "15s", value_parser = parse_lease_ttl, env = "STACKWATCH_LEASE_TTL")]
    pub lease_ttl: Duration,
    /// The web console on the --listen address, behind a token [default: on when stdin is a
    /// terminal, else off].
    #[arg(long, value_enum, env = "STACKWATCH_CONSOLE")]
    pub console: Option<Console>,
    /// Read the console token from this file (a mounted Secret) instead of generating one;
    /// STACKWATCH_CONSOLE_TOKEN may hold it too. A supplied token is never printed.
    #[arg(long, value_name = "FILE")]
    pub console_token_file: Option<std::path::PathBuf>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| e.to_string())?;
    if d.is_zero() {
        return Err("must be more than zero".into());
    }
    Ok(d)
}

fn parse_lease_ttl(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d < Duration::from_secs(1) {
        return Err("must be at least 1s".into());
    }
    Ok(d)
}

/// The console token: from `--console-token-file`, else `STACKWATCH_CONSOLE_TOKEN`, else a new
/// random one (true: generated, so the printed URL may carry it).
fn console_token(args: &Args) -> Result<(Token, bool), console::ConsoleError> {
    if let Some(path) = &args.console_token_file {
        let text =
            std::fs::read_to_string(path).map_err(|source| console::ConsoleError::TokenFile {
                path: path.clone(),
                source,
            })?;
        return Ok((Token::supplied(&text, &path.display().to_string())?, false));
    }
    match std::env::var(TOKEN_ENV) {
        Ok(text) if !text.is_empty() => Ok((Token::supplied(&text, TOKEN_ENV)?, false)),
        _ => Ok((Token::generate()?, true)),
    }
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<ExitCode, CliError> {
    let approve = match args.approve {
        Some(Approve::Prompt) => Mode::Prompt,
        Some(Approve::Auto) => Mode::Auto,
        Some(Approve::Never) => Mode::Never,
        None if std::io::stdin().is_terminal() => Mode::Prompt,
        None => Mode::Auto,
    };
    let mode = match args.console {
        Some(Console::Off) => console::Mode::Off,
        Some(Console::ReadOnly) => console::Mode::ReadOnly,
        Some(Console::On) => console::Mode::On,
        None if std::io::stdin().is_terminal() => console::Mode::On,
        None => console::Mode::Off,
    };
    let (token, generated) = console_token(&args)?;
    let (origin, kube) = match args.source {
        Source::Files => (crate::origin::Origin::Files(ctx.config.clone()), None),
        Source::Kubernetes => {
            let (client, store) = daemon::kube::connect(args.namespace.as_deref())
                .await
                .map_err(daemon::DaemonError::from)?;
            let identity = std::env::var(IDENTITY_ENV)
                .unwrap_or_else(|_| format!("{}-{}", hostname(), std::process::id()));
            (
                crate::origin::Origin::Kubernetes(store),
                Some(daemon::KubeSource {
                    client,
                    holder: identity,
                }),
            )
        }
    };
    let opts = daemon::Options {
        origin,
        kube,
        stage: ctx.stage.clone(),
        state_dir: ctx.state_dir.clone(),
        approve,
        guard: Guard {
            allow_replace: args.allow_replace,
            allow_delete: args.allow_delete,
        },
        resync: args.resync,
        listen: args.listen,
        lease_ttl: args.lease_ttl,
        style: ctx.style,
        console: console::Settings {
            mode,
            token,
            generated,
        },
    };
    daemon::run(opts).await?;
    Ok(ExitCode::SUCCESS)
}

/// This machine's name, for a default identity.
fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "stackwatch".into())
}
