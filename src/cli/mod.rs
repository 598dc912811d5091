//! The command line: clap types and one file per subcommand, each `Args -> engine -> ExitCode`.
//! clap types never leave this folder.

mod apply;
mod completions;
mod destroy;
mod export;
mod init;
mod outputs;
mod plan;
mod schema;
mod users;
mod validate;
mod verify;
mod watch;

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::error::Error;

#[derive(Debug, Parser)]
#[command(
    name = "stackwatch",
    version,
    about = "Keeps a serverless app's auth stack converged on AWS"
)]
pub struct Cli {
    /// The config directory: stackwatch.yaml and stacks/*.yaml.
    #[arg(
        long,
        global = true,
        default_value = "config",
        env = "STACKWATCH_CONFIG"
    )]
    pub config: PathBuf,
    /// The stage, overriding stackwatch.yaml's.
    #[arg(long, global = true, env = "STACKWATCH_STAGE")]
    pub stage: Option<String>,
    /// Where outputs.json is written.
    #[arg(
        long,
        global = true,
        default_value = ".stackwatch",
        env = "STACKWATCH_STATE_DIR"
    )]
    pub state_dir: PathBuf,
    /// Log format on stderr [default: text]. On a terminal, `watch`, `apply` and `destroy` show
    /// only warnings and errors, as short lines, unless this, -v or RUST_LOG is given.
    #[arg(long, global = true, value_enum)]
    log_format: Option<LogFormat>,
    /// List every resource in a plan, also those that do not change (which are otherwise only
    /// counted); and on a terminal, every log line.
    #[arg(long, short = 'v', global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

impl Cli {
    /// How stderr shows the logs, from the flags, `RUST_LOG` and whether stderr is a terminal.
    pub fn logs(&self) -> crate::term::logs::Logs {
        crate::term::logs::Asked {
            json: self.log_format == Some(LogFormat::Json),
            format_given: self.log_format.is_some(),
            verbose: self.verbose,
            draws_progress: matches!(
                self.command,
                Command::Watch(_) | Command::Apply(_) | Command::Destroy(_)
            ),
        }
        .logs_here()
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a starting app (the notes app: storage, API and auth stacks) into an empty directory.
    Init(init::Args),
    /// Check the files and references offline.
    Validate(validate::Args),
    /// Show what apply would change.
    Plan(plan::Args),
    /// Show the plan, ask, apply it, print the outputs.
    Apply(apply::Args),
    /// Print the deployed stack outputs.
    Outputs(outputs::Args),
    /// Remove what stackwatch owns, honouring removal policies.
    Destroy(destroy::Args),
    /// Print the JSON Schema of the stack files (or of stackwatch.yaml with --app).
    Schema(schema::Args),
    /// Print the config directory as Kubernetes objects (App, Stack), or their CRDs.
    Export(export::Args),
    /// Keep AWS converged with the files: watch, resync, approve, apply (until Ctrl-C).
    Watch(watch::Args),
    /// Create, list or delete users of an auth resource's user pool.
    Users(users::Args),
    /// Sign in as each test user and prove, from the deployed policies, what each identity can reach.
    Verify(verify::Args),
    /// Print a shell's completion script (`source <(stackwatch completions bash)`).
    Completions(completions::Args),
}

/// Runs the chosen command.
/// What a command fails with: the library's error, or the daemon's. Kept here, above both, so
/// the library's error type knows nothing of the daemon.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Run(#[from] Error),
    #[error("starting the watch daemon")]
    Daemon(#[from] crate::daemon::DaemonError),
    #[error("setting up the console")]
    Console(#[from] crate::console::ConsoleError),
    #[error(transparent)]
    Init(#[from] crate::init::InitError),
}

impl From<crate::aws::AwsError> for CliError {
    fn from(e: crate::aws::AwsError) -> CliError {
        CliError::Run(Error::Aws(e))
    }
}

impl From<crate::config::ConfigError> for CliError {
    fn from(e: crate::config::ConfigError) -> CliError {
        CliError::Run(Error::Config(e))
    }
}

pub async fn run(cli: Cli) -> Result<ExitCode, CliError> {
    let ctx = Ctx {
        config: cli.config,
        stage: cli.stage,
        state_dir: cli.state_dir,
        style: crate::term::style(cli.verbose),
    };
    match cli.command {
        Command::Init(a) => init::run(a),
        Command::Validate(a) => validate::run(&ctx, a),
        Command::Plan(a) => plan::run(&ctx, a).await,
        Command::Apply(a) => apply::run(&ctx, a).await,
        Command::Outputs(a) => outputs::run(&ctx, a).await,
        Command::Destroy(a) => destroy::run(&ctx, a).await,
        Command::Schema(a) => schema::run(a),
        Command::Export(a) => export::run(&ctx, a),
        Command::Watch(a) => watch::run(&ctx, a).await,
        Command::Users(a) => users::run(&ctx, a).await,
        Command::Verify(a) => verify::run(&ctx, a).await,
        Command::Completions(a) => completions::run(a),
    }
}

/// The global options every command gets.
pub struct Ctx {
    pub config: PathBuf,
    pub stage: Option<String>,
    pub state_dir: PathBuf,
    /// How plans are drawn on stdout (colour, `--verbose`).
    pub style: crate::render::Style,
}

impl Ctx {
    fn load(&self) -> Result<crate::desired::Desired, Error> {
        crate::session::load(&self.config, self.stage.as_deref())
    }
}

/// What `plan` and `apply` act on: `--replace ID` and `--stack NAME`.
#[derive(Debug, clap::Args)]
pub struct TargetArgs {
    /// Replace this resource (a logical id such as `AuthStack.Auth.UserPool`) even though
    /// nothing in its config changed, as `terraform apply -replace`; repeatable. Naming it is
    /// the consent, for it and for what must be replaced with it (the client of a replaced
    /// pool): those need no --allow-replace.
    #[arg(long, value_name = "ID")]
    pub replace: Vec<String>,
    /// Plan or apply only this stack (as `sst deploy StackName`); repeatable. Other stacks are
    /// read only for the attributes it references and never changed, and resources no file
    /// declares any more are not looked for.
    #[arg(long = "stack", value_name = "STACK")]
    pub stacks: Vec<String>,
}

impl TargetArgs {
    /// The config loaded with what `--replace` names marked for replacement, read for the
    /// focus `--stack` names.
    async fn open(
        &self,
        ctx: &Ctx,
    ) -> Result<(crate::session::Session, crate::engine::Focus), Error> {
        let mut desired = ctx.load()?;
        desired
            .force_replace(&self.replace)
            .map_err(Error::Refused)?;
        let focus = self.focus(&desired)?;
        let session = crate::session::Session::open_focused(desired, &focus).await?;
        Ok((session, focus))
    }
}

/// One-shot writes (`apply`, `destroy`) refuse while a daemon leads this app and stage (holds
/// its lease): the daemon applies, and two writers race (CreateUserPool is not idempotent).
async fn refuse_while_a_daemon_leads(session: &crate::session::Session) -> Result<(), Error> {
    let app = &session.snapshot.app;
    // A name that cannot be a bucket cannot hold a lease: no daemon leads it either.
    let Ok(target) =
        crate::daemon::lease::Target::new(&app.app, &app.stage, &app.account, &app.region)
    else {
        return Ok(());
    };
    match crate::daemon::lease::current_holder(&session.aws, &target).await? {
        Some(r) => Err(Error::Refused(format!(
            "the stackwatch daemon {} leads {} stage {} (its lease runs to {}) and applies it; \
             a one-shot write now would race it. Stop the daemon (SIGTERM releases the lease) \
             or let it apply",
            r.holder, app.app, app.stage, r.expires_at
        ))),
        None => Ok(()),
    }
}

impl TargetArgs {
    /// The focus `--stack` names; a stack the files do not declare is an error.
    fn focus(&self, desired: &crate::desired::Desired) -> Result<crate::engine::Focus, Error> {
        if self.stacks.is_empty() {
            return Ok(crate::engine::Focus::all());
        }
        let declared: Vec<&str> = desired
            .config
            .stacks
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        if let Some(unknown) = self.stacks.iter().find(|s| !declared.contains(&s.as_str())) {
            return Err(Error::Refused(format!(
                "--stack {unknown}: no stack file declares a stack of that name; the stacks are {}",
                declared.join(", ")
            )));
        }
        Ok(crate::engine::Focus::stacks(self.stacks.iter().cloned()))
    }
}

/// Asks on the terminal; without a terminal, refuses (use --yes).
fn confirm(question: &str) -> Result<bool, Error> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Error::Refused(
            "stdin is not a terminal, so stackwatch cannot ask; rerun with --yes to apply without asking".into(),
        ));
    }
    print!("{question}");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    stdin.lock().read_line(&mut line).map_err(|e| Error::Io {
        what: "reading the answer".into(),
        source: e,
    })?;
    Ok(line.trim().is_empty() || matches!(line.trim(), "y" | "yes"))
}
