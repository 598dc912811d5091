//! `stackwatch completions bash|zsh|fish|elvish|powershell`: the shell's completion script,
//! generated from the same clap definition the binary parses with.

use std::process::ExitCode;

use clap::CommandFactory;

use super::CliError;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    let mut command = super::Cli::command();
    clap_complete::generate(
        args.shell,
        &mut command,
        "stackwatch",
        &mut std::io::stdout(),
    );
    Ok(ExitCode::SUCCESS)
}
