//! The stackwatch binary: parse the command line, set up logging, run. The only place that
//! prints a fatal error and chooses the exit code.

use std::process::ExitCode;

use clap::Parser;
use stackwatch::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    stackwatch::term::logs::init(cli.logs());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: starting the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(stackwatch::cli::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            let mut msg = format!("error: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                msg.push_str(&format!(": {s}"));
                source = s.source();
            }
            eprintln!("{msg}");
            ExitCode::from(1)
        }
    }
}
