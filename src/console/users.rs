//! The Cognito users of each `auth` resource: which pools are deployed (read through the same
//! owner-filtered path as `stackwatch users`), their users and password policy, and what the
//! Cognito page's forms do (create, delete, enable or disable, set a password), through
//! `resource::test_user` exactly as the CLI does. It renders nothing: the Cognito page
//! (`pages::cognito`) calls it and shows the outcome. A password comes in as a [`Password`]
//! and goes from there only into the AWS request.

use super::Console;
use crate::aws::{Aws, AwsError};
use crate::desired::Desired;
use crate::engine::Focus;
use crate::error::Error;
use crate::resource::auth::{Auth, AuthKind};
use crate::resource::test_user::{self, Password, PasswordPolicy, UserInfo};
use crate::session::Session;

/// One `auth` resource of the config.
#[derive(Debug, Clone)]
pub struct AuthTarget {
    /// `AuthStack.Auth`: what the forms name.
    pub key: String,
    pub stack: String,
    pub resource: String,
    /// The deployed user pool's id, when it is deployed and ours.
    pub pool: Option<String>,
    /// The test users the files declare for this stage.
    pub declared: Vec<String>,
}

/// The app's `auth` resources, connected.
pub struct Auths {
    pub aws: Aws,
    pub targets: Vec<AuthTarget>,
}

impl Auths {
    /// The deployed pool of the `auth` resource `key`.
    fn pool(&self, key: &str) -> Result<String, UserError> {
        self.targets
            .iter()
            .find(|t| t.key == key)
            .and_then(|t| t.pool.clone())
            .ok_or_else(|| UserError::NoPool(key.to_string()))
    }
}

/// Loads the files (without the test users' passwords, which only the daemon's deploys need)
/// and reads the `auth` stacks to find each deployed pool.
pub async fn auths(console: &Console) -> Result<Auths, Error> {
    let mut config = console.app.origin.load(console.app.stage.as_deref())?;
    let stage = config.stage.clone();
    let mut targets = Vec::new();
    for st in &config.stacks {
        for r in &st.resources {
            if let Some(Auth { users, .. }) = r.spec.get::<AuthKind>() {
                targets.push(AuthTarget {
                    key: format!("{}.{}", st.name, r.name),
                    stack: st.name.clone(),
                    resource: r.name.clone(),
                    pool: None,
                    declared: users
                        .iter()
                        .filter(|u| u.in_stage(&stage))
                        .map(|u| u.email.clone())
                        .collect(),
                });
            }
        }
    }
    crate::session::drop_test_users(&mut config);
    let (aws, cache) = console.clients(&config.region).await;
    if targets.is_empty() {
        return Ok(Auths { aws, targets });
    }
    let desired = Desired::build(config)?;
    let focus = Focus::stacks(targets.iter().map(|t| t.stack.clone()));
    let session = Session::open_cached(aws.clone(), desired, &cache, &focus).await?;
    for t in &mut targets {
        t.pool = session.attr(&t.stack, &t.resource, "userPoolId");
    }
    Ok(Auths { aws, targets })
}

/// What the Cognito page shows of one deployed pool.
pub struct PoolView {
    pub users: Vec<UserInfo>,
    pub policy: PasswordPolicy,
}

/// Every user of the pool (the SDK's paginator) and its password policy.
pub async fn pool_view(aws: &Aws, pool: &str) -> Result<PoolView, AwsError> {
    let (users, policy) = tokio::join!(
        test_user::list(aws, pool),
        test_user::password_policy(aws, pool)
    );
    let mut users = users?;
    users.sort_by(|a, b| a.email.cmp(&b.email));
    Ok(PoolView {
        users,
        policy: policy?,
    })
}

/// Why a form's action on a user did not happen.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// The files or the `auth` stacks could not be read.
    #[error(transparent)]
    Read(#[from] Error),
    /// The `auth` resource named has no deployed user pool.
    #[error("{0} has no deployed user pool")]
    NoPool(String),
    /// Cognito refused (a password its policy refuses, an existing user) or did not answer.
    #[error(transparent)]
    Aws(#[from] AwsError),
}

/// The deployed pool of the `auth` resource `key`, with the clients to reach it.
pub async fn pool_of(console: &Console, key: &str) -> Result<(Aws, String), UserError> {
    let auths = auths(console).await?;
    let pool = auths.pool(key)?;
    Ok((auths.aws, pool))
}

/// A change to one user of an `auth` resource's pool, as the Cognito page's forms ask it.
pub enum UserChange<'a> {
    /// A confirmed user with a permanent password, as `stackwatch users create`.
    Create(&'a Password),
    /// A new permanent password.
    SetPassword(&'a Password),
    /// Enabled or disabled.
    Enabled(bool),
}

/// Makes `change` to `email`'s user in the pool of `auth`, logged.
pub async fn change(
    console: &Console,
    auth: &str,
    email: &str,
    change: UserChange<'_>,
) -> Result<(), UserError> {
    let (aws, pool) = pool_of(console, auth).await?;
    let (result, done, doing) = match change {
        UserChange::Create(password) => (
            test_user::create_user(&aws, &pool, email, password).await,
            "created user (confirmed, permanent password)",
            "creating a user",
        ),
        UserChange::SetPassword(password) => (
            test_user::set_password(&aws, &pool, email, password).await,
            "set a new permanent password",
            "setting a password",
        ),
        UserChange::Enabled(enabled) => (
            test_user::set_enabled(&aws, &pool, email, enabled).await,
            if enabled {
                "enabled user"
            } else {
                "disabled user"
            },
            "enabling or disabling a user",
        ),
    };
    logged(result, email, &pool, done, doing)
}

/// Logs what a change to `email`'s user came to: `done`, or `doing` refused.
fn logged(
    result: Result<(), AwsError>,
    email: &str,
    pool: &str,
    done: &str,
    doing: &str,
) -> Result<(), UserError> {
    match result {
        Ok(()) => {
            tracing::info!(%email, %pool, "console: {done}");
            Ok(())
        }
        Err(e) => {
            tracing::info!(error = %e, "console: {doing} was refused");
            Err(e.into())
        }
    }
}

/// AdminDeleteUser, in the pool [`pool_of`] found (which the confirm step showed).
pub async fn delete(aws: &Aws, pool: &str, email: &str) -> Result<(), UserError> {
    test_user::delete_user(aws, pool, email).await?;
    tracing::info!(%email, %pool, "console: deleted user");
    Ok(())
}
