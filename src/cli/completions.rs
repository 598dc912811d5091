//! `stackwatch completions bash|zsh|fish`: the shell completion script, generated from the
//! same clap types that parse the command line (clap_complete), so it cannot drift from them.

use std::process::ExitCode;

use clap::CommandFactory;

use super::{Cli, CliError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to complete in: `source <(stackwatch completions bash)`, or save the output
    /// where the shell loads completions (zsh: a `_stackwatch` file on `$fpath`; fish:
    /// `~/.config/fish/completions/stackwatch.fish`).
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The script for `shell`.
pub fn script(shell: Shell) -> String {
    let shell = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "stackwatch", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    print!("{}", script(args.shell));
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_shell_completes_the_subcommands_and_their_flags() {
        for (shell, flag) in [
            (Shell::Bash, "--"),
            (Shell::Zsh, "--"),
            (Shell::Fish, "-l "),
        ] {
            let s = script(shell);
            for word in ["watch", "users", "verify", "completions"] {
                assert!(s.contains(word), "{shell:?} lacks {word}");
            }
            for f in ["console", "console-token-file", "approve"] {
                assert!(
                    s.contains(&format!("{flag}{f}")),
                    "{shell:?} lacks {flag}{f}"
                );
            }
        }
        assert!(script(Shell::Bash).contains("complete -F"));
        assert!(script(Shell::Zsh).starts_with("#compdef stackwatch"));
        assert!(script(Shell::Fish).contains("complete -c stackwatch"));
    }
}
