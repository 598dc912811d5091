//! `stackwatch outputs`: the deployed stack outputs, read from AWS; as text, JSON, or a `.env`
//! file of what a React/Amplify front end needs.

use std::path::PathBuf;
use std::process::ExitCode;

use super::CliError;
use super::Ctx;
use crate::error::Error;
use crate::render;
use crate::session::Session;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Each stack's outputs.
    Text,
    /// Each stack's outputs as JSON.
    Json,
    /// `KEY=value` lines for a front end: REGION, USER_POOL_ID, USER_POOL_CLIENT_ID,
    /// IDENTITY_POOL_ID, API_URL, BUCKET.
    Env,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print as JSON (same as --format json).
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// With --format env: a prefix for every name, such as VITE_ or REACT_APP_.
    #[arg(long, default_value = "")]
    pub prefix: String,
    /// With --format env: write to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// With --format env: the stack whose `auth` resource to describe [default: every stack].
    #[arg(long)]
    pub stack: Option<String>,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<ExitCode, CliError> {
    let format = if args.json { Format::Json } else { args.format };
    // Outputs never need test users' passwords.
    let session = Session::open(super::users::load_without_test_users(ctx)?).await?;
    if format == Format::Env {
        return Ok(env(&session, &args)?);
    }
    let (outputs, complete) = session.deployed_outputs(&crate::engine::Focus::all());
    if format == Format::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&outputs).unwrap_or_default()
        );
    } else {
        let status = if complete {
            "deployed"
        } else {
            "not deployed (run `stackwatch apply`)"
        };
        print!("{}", render::outputs_text(&outputs, status));
    }
    Ok(if complete {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The front end's settings from the first deployed `auth` resource and the bucket and API
/// its permissions refer to.
fn env(session: &Session, args: &Args) -> Result<ExitCode, Error> {
    let targets = crate::verify::targets(session, args.stack.as_deref())?;
    let t = &targets[0];
    let values = [
        ("REGION", t.region.clone()),
        ("USER_POOL_ID", t.user_pool_id.clone()),
        ("USER_POOL_CLIENT_ID", t.client_id.clone()),
        ("IDENTITY_POOL_ID", t.identity_pool_id.clone()),
        (
            "API_URL",
            t.apis.first().map(|a| a.url.clone()).unwrap_or_default(),
        ),
        (
            "BUCKET",
            t.buckets.first().map(|b| b.1.clone()).unwrap_or_default(),
        ),
    ];
    let mut text = format!(
        "# Written by `stackwatch outputs --format env` for {} (stage {}).\n",
        t.id, session.desired.config.stage
    );
    for (k, v) in &values {
        text.push_str(&format!("{}{k}={v}\n", args.prefix));
    }
    match &args.out {
        Some(path) => {
            let tmp = path.with_extension("stackwatch-tmp");
            std::fs::write(&tmp, &text)
                .and_then(|()| std::fs::rename(&tmp, path))
                .map_err(|e| Error::Io {
                    what: format!("writing {}", path.display()),
                    source: e,
                })?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    let missing: Vec<&str> = values
        .iter()
        .filter(|(_, v)| v.is_empty())
        .map(|(k, _)| *k)
        .collect();
    if missing.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Error::Refused(format!(
            "no value for {} (the auth resource's permissions refer to no deployed API or bucket)",
            missing.join(", ")
        )))
    }
}
