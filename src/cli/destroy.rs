//! `stackwatch destroy`: remove what stackwatch owns; user pools and buckets are retained
//! unless their `removal` is `destroy`. Resources without our tags are never touched.

use std::process::ExitCode;

use super::CliError;
use super::{Ctx, confirm};
use crate::engine::{self, DestroyOutcome};
use crate::error::Error;
use crate::plan::{Problem, ResourceProblem};
use crate::session::Session;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Destroy without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

fn describe(o: &DestroyOutcome) -> String {
    match o {
        DestroyOutcome::Deleted => "delete".into(),
        DestroyOutcome::Retained => "retain (removal: retain)".into(),
        DestroyOutcome::NotFound => "not found".into(),
        DestroyOutcome::NotOurs => "not stackwatch's: left untouched".into(),
        DestroyOutcome::Failed(e) => format!("FAILED: {e}"),
    }
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<ExitCode, CliError> {
    let session = Session::open(ctx.load()?).await?;
    let preview = engine::destroy(&session.aws, &session.desired, &session.snapshot, true).await;
    for d in &preview {
        println!(
            "  {} ({} {}): {}",
            d.id,
            d.kind,
            d.physical,
            describe(&d.outcome)
        );
    }
    if !preview.iter().any(|d| d.outcome.is_deleted()) {
        println!("\nNothing to delete.");
        return Ok(ExitCode::SUCCESS);
    }
    super::refuse_while_a_daemon_leads(&session).await?;
    if !args.yes && !confirm("\nPress ENTER to destroy, or Ctrl-C to cancel: ")? {
        return Err(Error::Refused("destroy cancelled".into()).into());
    }
    let done = engine::destroy(&session.aws, &session.desired, &session.snapshot, false).await;
    let mut failed = Vec::new();
    for d in &done {
        if let DestroyOutcome::Failed(e) = &d.outcome {
            failed.push(ResourceProblem {
                id: d.id.clone(),
                problem: Problem::Aws(e.clone()),
            });
        } else if d.outcome.is_deleted() {
            println!("{}: deleted", d.id);
        }
    }
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Error::Partial(failed).into())
    }
}
