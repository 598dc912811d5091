//! `stackwatch export`: the config directory as Kubernetes objects, or the CRDs they need.

use std::process::ExitCode;

use super::{CliError, Ctx};
use crate::operator::{self, Approval};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the App and one Stack object per stack file, for `kubectl apply -f -`.
    #[arg(long)]
    pub kubernetes: bool,
    /// Print the CustomResourceDefinitions of App and Stack (as deploy/k8s/crds/ holds them).
    #[arg(
        long,
        conflicts_with = "kubernetes",
        required_unless_present = "kubernetes"
    )]
    pub crds: bool,
    /// The objects' namespace (default: the one `kubectl` uses).
    #[arg(long, requires = "kubernetes")]
    pub namespace: Option<String>,
    /// How the exported App approves plans.
    #[arg(long, value_enum, default_value = "auto", requires = "kubernetes")]
    pub approval: ApprovalArg,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ApprovalArg {
    /// Every plan is applied.
    Auto,
    /// A plan is applied once the App is annotated `stackwatch.dev/approve=<its hash>`.
    Manual,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<ExitCode, CliError> {
    if args.crds {
        print!("{}", operator::crds_yaml());
        return Ok(ExitCode::SUCCESS);
    }
    let approval = match args.approval {
        ApprovalArg::Auto => Approval::Auto,
        ApprovalArg::Manual => Approval::Manual,
    };
    let text = operator::export(&ctx.config, args.namespace.as_deref(), approval)?;
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}
