//! `stackwatch validate`: check files and references offline.

use std::process::ExitCode;

use super::CliError;
use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(ctx: &Ctx, _args: Args) -> Result<ExitCode, CliError> {
    let desired = ctx.load()?;
    let c = &desired.config;
    println!(
        "{}: valid ({} stacks, {} AWS resources, stage {}).",
        c.dir.display(),
        c.stacks.len(),
        desired.nodes.len(),
        c.stage
    );
    Ok(ExitCode::SUCCESS)
}
