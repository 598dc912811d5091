//! `stackwatch apply`: print the plan, ask unless --yes, apply with per-resource progress, print
//! and write the outputs.

use std::process::ExitCode;

use super::CliError;
use super::{Ctx, confirm};
use crate::engine::{self, Guard};
use crate::error::Error;
use crate::plan::Action;
use crate::render;
use crate::term;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Apply without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Allow changes that replace resources (a replaced user pool loses its users).
    #[arg(long)]
    pub allow_replace: bool,
    #[command(flatten)]
    pub target: super::TargetArgs,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<ExitCode, CliError> {
    let (session, focus) = args.target.open(ctx).await?;
    let plan = session.plan();
    let full_name = |s: &str| session.full_stack_name(s);
    term::print(&render::plan_text(&plan, full_name, ctx.style));

    let replaced: Vec<&str> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Replace && !session.desired.replace_consented_id(&c.id))
        .map(|c| c.id.as_str())
        .collect();
    if !replaced.is_empty() && !args.allow_replace {
        return Err(Error::Refused(format!(
            "the plan replaces {} (deleting and recreating it); rerun with --allow-replace to accept",
            replaced.join(", ")
        )).into());
    }
    let outputs = if plan.has_changes() {
        super::refuse_while_a_daemon_leads(&session).await?;
        let question = format!(
            "\nPress ENTER to deploy {}, or Ctrl-C to cancel: ",
            render::plan_headline(&plan, full_name)
        );
        if !args.yes && !confirm(&question)? {
            return Err(Error::Refused("apply cancelled".into()).into());
        }
        let guard = Guard {
            allow_replace: args.allow_replace,
            allow_delete: true,
        };
        term::print("\n");
        let progress = term::Deploy::new(&plan, ctx.style);
        let report = engine::apply_with(
            &session.aws,
            &session.desired,
            &session.snapshot,
            guard,
            &progress,
        )
        .await;
        let errors = report.errors();
        term::print(&progress.summary(errors.len()));
        if !errors.is_empty() {
            return Err(Error::Partial(errors).into());
        }
        engine::outputs(
            &session.desired,
            &session.snapshot.app,
            &report.attrs,
            &focus,
        )
        .0
    } else {
        if plan.is_blocked() {
            return Err(Error::Partial(plan.problems()).into());
        }
        session.deployed_outputs(&focus).0
    };
    // With --stack, only the focused stacks' outputs are known: they replace theirs in
    // outputs.json, and the other stacks' stay as the last apply wrote them.
    let mut outputs = outputs;
    let mut all = crate::outputs::Outputs::new();
    if let Some(stacks) = focus.named() {
        let names: Vec<String> = stacks.iter().map(|s| session.full_stack_name(s)).collect();
        outputs.retain(|stack, _| names.contains(stack));
        all = crate::outputs::read(&ctx.state_dir).unwrap_or_default();
    }
    all.extend(outputs.clone());
    term::print(&format!("\n{}", render::outputs_text(&outputs, "deployed")));
    crate::outputs::write(&ctx.state_dir, &all).map_err(|e| Error::Io {
        what: format!("writing {}", ctx.state_dir.join("outputs.json").display()),
        source: e,
    })?;
    Ok(ExitCode::SUCCESS)
}
