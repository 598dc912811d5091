//! `stackwatch watch`: keep AWS converged with the config directory until Ctrl-C.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use super::CliError;
use super::Ctx;
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

#[derive(Debug, clap::Args)]
pub struct Args {
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

pub async fn run(ctx: &Ctx, args: Args) -> Result<ExitCode, CliError> {
    let approve = match args.approve {
        Some(Approve::Prompt) => Mode::Prompt,
        Some(Approve::Auto) => Mode::Auto,
        Some(Approve::Never) => Mode::Never,
        None if std::io::stdin().is_terminal() => Mode::Prompt,
        None => Mode::Auto,
    };
    let opts = daemon::Options {
        config_dir: ctx.config.clone(),
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
    };
    daemon::run(opts).await?;
    Ok(ExitCode::SUCCESS)
}
