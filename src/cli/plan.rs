//! `stackwatch plan`: show what apply would change. Exit 0 no changes, 2 changes (with
//! --detailed-exitcode), 1 error.

use std::process::ExitCode;

use super::CliError;
use super::Ctx;
use crate::render;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Exit 2 when there are changes (0 none, 1 error), as terraform does.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Print the plan as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub target: super::TargetArgs,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<ExitCode, CliError> {
    let (session, _) = args.target.open(ctx).await?;
    let plan = session.plan();
    if args.json {
        println!("{}", render::plan_json(&plan));
    } else {
        crate::term::print(&render::plan_text(
            &plan,
            |s| session.full_stack_name(s),
            ctx.style,
        ));
    }
    tracing::debug!(
        reads = session.aws.calls.reads(),
        writes = session.aws.calls.writes(),
        "AWS calls"
    );
    if plan.is_blocked() {
        return Ok(ExitCode::from(1));
    }
    Ok(if args.detailed_exitcode && plan.has_changes() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
