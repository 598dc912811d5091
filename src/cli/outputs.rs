//! `stackwatch outputs`: the deployed stack outputs, read from AWS.

use std::process::ExitCode;

use super::Ctx;
use crate::error::Error;
use crate::render;
use crate::session::Session;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<ExitCode, Error> {
    let session = Session::open(ctx.load()?).await?;
    let (outputs, complete) = session.deployed_outputs();
    if args.json {
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
