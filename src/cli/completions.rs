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

#[cfg(test)]
mod tests {
    use super::*;

    fn script(shell: clap_complete::Shell) -> String {
        let mut out = Vec::new();
        clap_complete::generate(
            shell,
            &mut super::super::Cli::command(),
            "stackwatch",
            &mut out,
        );
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn each_shell_completes_the_subcommands_and_the_console_flags() {
        use clap_complete::Shell;
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
        assert!(script(Shell::Zsh).starts_with("#compdef stackwatch"));
        assert!(script(Shell::Fish).contains("complete -c stackwatch"));
    }
}
