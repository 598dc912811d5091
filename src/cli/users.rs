//! `stackwatch users create | list | delete`: test users of an `auth` resource's user pool.
//!
//! `create` makes a confirmed user with a permanent password (AdminCreateUser with the email
//! verified and no message sent, then AdminSetUserPassword `Permanent`). The password comes
//! from `--password-env VAR`, `--password-file FILE`, or a prompt without echo when stdin is a
//! terminal; it is never printed. An existing user is an error, never reset.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

use super::CliError;
use super::Ctx;
use crate::desired::Desired;
use crate::error::Error;
use crate::resource::auth::AuthKind;
use crate::resource::test_user::{self, Password};
use crate::session::Session;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: UsersCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum UsersCommand {
    /// Create a confirmed user with a permanent password (never resets an existing user).
    Create(CreateArgs),
    /// List the users of the pool.
    List(PoolArgs),
    /// Delete a user.
    Delete(DeleteArgs),
}

#[derive(Debug, clap::Args)]
pub struct PoolArgs {
    /// The stack whose `auth` resource holds the user pool [default: the only one].
    #[arg(long)]
    pub stack: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub pool: PoolArgs,
    /// The user's email address (what they sign in with).
    #[arg(long)]
    pub email: String,
    #[command(flatten)]
    pub password: PasswordArgs,
}

/// Where a password comes from: `--password-env`, `--password-file`, or a prompt without echo
/// on a terminal. Shared by `users create` and `verify --user`.
#[derive(Debug, clap::Args)]
pub struct PasswordArgs {
    /// Read the password from this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with = "password_file")]
    pub password_env: Option<String>,
    /// Read the password from this file (one trailing newline is dropped).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    pub pool: PoolArgs,
    /// The user's email address.
    #[arg(long)]
    pub email: String,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<ExitCode, CliError> {
    match args.command {
        UsersCommand::Create(a) => {
            // The password first: a refusal here must not cost AWS calls.
            let password = a.password.read(&a.email, true)?;
            let (session, pool) = open(ctx, a.pool.stack.as_deref()).await?;
            test_user::create_user(&session.aws, &pool, &a.email, &password).await?;
            println!(
                "created user {} in user pool {pool} (confirmed, email verified, permanent password)",
                a.email
            );
        }
        UsersCommand::List(a) => {
            let (session, pool) = open(ctx, a.stack.as_deref()).await?;
            let users = test_user::list(&session.aws, &pool).await?;
            let w = users
                .iter()
                .map(|u| u.email.len())
                .max()
                .unwrap_or(5)
                .max(5);
            println!(
                "{:<w$}  {:<22}  {:<7}  EMAIL VERIFIED",
                "EMAIL", "STATUS", "ENABLED"
            );
            for u in &users {
                println!(
                    "{:<w$}  {:<22}  {:<7}  {}",
                    u.email,
                    u.status,
                    if u.enabled { "yes" } else { "no" },
                    if u.email_verified { "yes" } else { "no" }
                );
            }
            println!("{} user(s) in user pool {pool}", users.len());
        }
        UsersCommand::Delete(a) => {
            let (session, pool) = open(ctx, a.pool.stack.as_deref()).await?;
            if test_user::get(&session.aws, &pool, &a.email)
                .await?
                .is_none()
            {
                return Err(Error::Refused(format!(
                    "deleting {} ({} in {pool}): no such user",
                    test_user::KIND,
                    a.email
                ))
                .into());
            }
            test_user::delete_user(&session.aws, &pool, &a.email).await?;
            println!("deleted user {} from user pool {pool}", a.email);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Loads the config without its declared test users (their passwords are not needed here),
/// reads AWS, and finds the user pool of the `auth` resource of `stack`.
async fn open(ctx: &Ctx, stack: Option<&str>) -> Result<(Session, String), Error> {
    let desired = load_without_test_users(ctx)?;
    let auths: Vec<(String, String)> = desired
        .config
        .stacks
        .iter()
        .filter(|s| stack.is_none_or(|n| n == s.name))
        .flat_map(|s| {
            s.resources
                .iter()
                .filter(|r| r.spec.get::<AuthKind>().is_some())
                .map(|r| (s.name.clone(), r.name.clone()))
        })
        .collect();
    let (s, r) = match auths.as_slice() {
        [one] => one.clone(),
        [] => {
            return Err(Error::Refused(match stack {
                Some(s) => format!("stack `{s}` has no `auth` resource"),
                None => "no stack has an `auth` resource".into(),
            }));
        }
        many => {
            let names: Vec<String> = many.iter().map(|(s, r)| format!("{s}.{r}")).collect();
            return Err(Error::Refused(format!(
                "several `auth` resources ({}); choose one with --stack",
                names.join(", ")
            )));
        }
    };
    let session = Session::open(desired).await?;
    let pool = session.attr(&s, &r, "userPoolId").ok_or_else(|| {
        Error::Refused(format!(
            "the user pool of {s}.{r} is not deployed; run `stackwatch apply` first"
        ))
    })?;
    Ok((session, pool))
}

/// Loads the config as if no test users were declared: for commands that never create them,
/// so their password variables need not be set.
pub(super) fn load_without_test_users(ctx: &Ctx) -> Result<Desired, Error> {
    let config = crate::session::config_without_test_users(&ctx.config, ctx.stage.as_deref())?;
    Ok(Desired::build(config)?)
}

impl PasswordArgs {
    /// The password of `email`; a prompt asks twice when `twice` (a new password).
    pub(super) fn read(&self, email: &str, twice: bool) -> Result<Password, Error> {
        password(self, email, twice)
    }
}

/// The password from `--password-env`, `--password-file`, or a prompt on a terminal.
fn password(a: &PasswordArgs, email: &str, twice: bool) -> Result<Password, Error> {
    let text = if let Some(var) = &a.password_env {
        match std::env::var(var) {
            Ok(v) if !v.is_empty() => v,
            _ => {
                return Err(Error::Refused(format!(
                    "the environment variable `{var}` (--password-env) is not set or empty"
                )));
            }
        }
    } else if let Some(file) = &a.password_file {
        let mut v = std::fs::read_to_string(file).map_err(|e| Error::Io {
            what: format!("reading the password file {}", file.display()),
            source: e,
        })?;
        if v.ends_with('\n') {
            v.pop();
            if v.ends_with('\r') {
                v.pop();
            }
        }
        if v.is_empty() {
            return Err(Error::Refused(format!(
                "the password file {} is empty",
                file.display()
            )));
        }
        v
    } else if std::io::stdin().is_terminal() {
        let first = prompt(&format!("Password for {email}: "))?;
        if twice && prompt("Repeat the password: ")? != first {
            return Err(Error::Refused("the two passwords differ".into()));
        }
        first
    } else {
        return Err(Error::Refused(
            "no password given: use --password-env VAR or --password-file FILE \
             (stdin is not a terminal, so stackwatch cannot ask)"
                .into(),
        ));
    };
    Ok(Password::new(text))
}

/// Reads one line from the terminal with echo off (`stty -echo`), restoring it after.
fn prompt(question: &str) -> Result<String, Error> {
    let stty = |arg: &str| {
        Command::new("stty")
            .arg(arg)
            .stdin(Stdio::inherit())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    if !stty("-echo") {
        return Err(Error::Refused(
            "cannot turn off echo on this terminal; use --password-env or --password-file".into(),
        ));
    }
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    stty("echo");
    eprintln!();
    read.map_err(|e| Error::Io {
        what: "reading the password".into(),
        source: e,
    })?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}
