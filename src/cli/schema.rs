//! `stackwatch schema`: print the JSON Schema of the config files.

use std::process::ExitCode;

use super::CliError;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The schema of stackwatch.yaml instead of stacks/*.yaml.
    #[arg(long)]
    pub app: bool,
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    print!(
        "{}",
        if args.app {
            crate::schema::app_file()
        } else {
            crate::schema::stack_file()
        }
    );
    Ok(ExitCode::SUCCESS)
}
