//! `stackwatch init [DIR]`: write the starting app into an empty or new directory and say what
//! to run next.

use std::path::PathBuf;
use std::process::ExitCode;

use super::CliError;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The directory to write the app into (created if missing; must be empty).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    let written = crate::init::write(&args.dir)?;
    let dir = args.dir.display();
    let mut text = format!("Wrote the notes app (storage, API and auth stacks) to {dir}:\n");
    for path in &written {
        text.push_str(&format!("  {}\n", path.display()));
    }
    text.push_str(&format!(
        "\nNext:\n  \
         export STACKWATCH_TEST_PASSWORD=…   # the test user's password (stacks/auth.yaml)\n  \
         stackwatch --config {dir} validate\n  \
         stackwatch --config {dir} apply     # or `watch`, to keep it converged\n"
    ));
    crate::term::print(&text);
    Ok(ExitCode::SUCCESS)
}
