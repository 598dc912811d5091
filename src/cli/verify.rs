//! `stackwatch verify`: sign in as each test user and prove, from the deployed policies, what
//! each identity can reach; lint the trust policies. Prints a table; exits 1 on any failure.
//! With `--user EMAIL`, signs in as that one user (any user of the pool, with its password) and
//! shows its identity, when its credentials expire (never the keys) and what it can reach.

use std::process::ExitCode;

use super::CliError;
use super::Ctx;
use crate::session::Session;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only the `auth` resources of this stack [default: every stack].
    #[arg(long)]
    pub stack: Option<String>,
    /// Sign in as this user instead of the declared test users.
    #[arg(long, value_name = "EMAIL")]
    pub user: Option<String>,
    #[command(flatten)]
    pub password: super::users::PasswordArgs,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<ExitCode, CliError> {
    let session = Session::open(ctx.load()?).await?;
    if let Some(email) = &args.user {
        let password = args.password.read(email, false)?;
        let access =
            crate::verify::sign_in_as(&session, args.stack.as_deref(), email, &password).await?;
        return Ok(match access.outcome {
            Ok(signed_in) => {
                println!("{} as {email}", access.auth);
                println!("  identity: {}", signed_in.identity_id);
                if let Some(expires) = &signed_in.expires {
                    println!("  credentials expire: {expires}");
                }
                print!("{}", signed_in.report.table());
                if signed_in.report.failures() == 0 {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }
            Err(why) => {
                println!("{} as {email}: cannot sign in: {why}", access.auth);
                ExitCode::from(1)
            }
        });
    }
    let report = crate::verify::run(&session, args.stack.as_deref()).await?;
    print!("{}", report.table());
    Ok(if report.failures() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
