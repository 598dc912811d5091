//! `stackwatch verify`: sign in as each test user and prove, from the deployed policies, what
//! each identity can reach; lint the trust policies. Prints a table; exits 1 on any failure.

use std::process::ExitCode;

use super::CliError;
use super::Ctx;
use crate::session::Session;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only the `auth` resources of this stack [default: every stack].
    #[arg(long)]
    pub stack: Option<String>,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<ExitCode, CliError> {
    let session = Session::open(ctx.load()?).await?;
    let report = crate::verify::run(&session, args.stack.as_deref()).await?;
    print!("{}", report.table());
    Ok(if report.failures() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
