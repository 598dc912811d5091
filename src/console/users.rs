//! The Cognito users of each `auth` resource: which pools are deployed (read through the same
//! owner-filtered path as `stackwatch users`), their users and password policy, and the Create
//! User and delete forms' handlers, which call `resource::test_user` exactly as the CLI does.
//! A password goes from the form into [`Password`] and from there only into the AWS request.

use std::sync::Arc;

use axum::Form;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::Console;
use crate::aws::{Aws, AwsError};
use crate::config::ResourceSpec;
use crate::desired::Desired;
use crate::engine::Focus;
use crate::error::Error;
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
    fn pool(&self, key: &str) -> Option<String> {
        self.targets
            .iter()
            .find(|t| t.key == key)
            .and_then(|t| t.pool.clone())
    }
}

/// Loads the files (without the test users' passwords, which only the daemon's deploys need)
/// and reads the `auth` stacks to find each deployed pool.
pub async fn auths(console: &Console) -> Result<Auths, Error> {
    let mut config = crate::config::load(&console.app.config_dir, console.app.stage.as_deref())?;
    let stage = config.stage.clone();
    let mut targets = Vec::new();
    for st in &mut config.stacks {
        for r in &mut st.resources {
            if let ResourceSpec::Auth { users, .. } = &mut r.spec {
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
                users.clear();
            }
        }
    }
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

#[derive(Deserialize)]
pub struct CreateForm {
    auth: String,
    email: String,
    password: String,
}

/// Which form of an `auth` section failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Create,
    Password,
}

/// What a form's failure shows on the page.
pub struct FormError {
    pub which: Which,
    pub auth: String,
    pub email: String,
    pub message: String,
}

/// `POST /cognito/users`: creates a confirmed user with a permanent password, as
/// `stackwatch users create`. On success, back to the Cognito page; on a refusal (a password
/// Cognito's policy refuses, an existing user), the page again with the reason on the form.
pub async fn create(State(console): State<Arc<Console>>, Form(form): Form<CreateForm>) -> Response {
    let email = form.email.trim().to_string();
    let password = Password::new(form.password);
    let fail = |message: String| FormError {
        which: Which::Create,
        auth: form.auth.clone(),
        email: email.clone(),
        message,
    };
    if email.is_empty() || password.expose().is_empty() {
        return super::pages::cognito_with(
            &console,
            Some(fail("an email and a password are needed".into())),
        )
        .await;
    }
    let auths = match auths(&console).await {
        Ok(a) => a,
        Err(e) => return super::pages::cognito_with(&console, Some(fail(e.to_string()))).await,
    };
    let Some(pool) = auths.pool(&form.auth) else {
        return super::pages::cognito_with(
            &console,
            Some(fail(format!("{} has no deployed user pool", form.auth))),
        )
        .await;
    };
    match test_user::create_user(&auths.aws, &pool, &email, &password).await {
        Ok(()) => {
            tracing::info!(%email, %pool, "console: created user (confirmed, permanent password)");
            see_other(&format!("/cognito?created={}", query_value(&email)))
        }
        Err(e) => {
            tracing::info!(error = %e, "console: creating a user was refused");
            super::pages::cognito_with(&console, Some(fail(e.to_string()))).await
        }
    }
}

#[derive(Deserialize)]
pub struct DeleteForm {
    auth: String,
    email: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /cognito/users/delete`: without `confirm=yes`, a page that asks; with it, AdminDeleteUser.
pub async fn delete(State(console): State<Arc<Console>>, Form(form): Form<DeleteForm>) -> Response {
    let auths = match auths(&console).await {
        Ok(a) => a,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let Some(pool) = auths.pool(&form.auth) else {
        return (
            StatusCode::NOT_FOUND,
            format!("{} has no deployed user pool\n", form.auth),
        )
            .into_response();
    };
    if form.confirm != "yes" {
        return super::pages::confirm_delete(&console, &form.auth, &pool, &form.email);
    }
    match test_user::delete_user(&auths.aws, &pool, &form.email).await {
        Ok(()) => {
            tracing::info!(email = %form.email, %pool, "console: deleted user");
            see_other(&format!("/cognito?deleted={}", query_value(&form.email)))
        }
        Err(e) => (StatusCode::BAD_GATEWAY, format!("{e}\n")).into_response(),
    }
}

/// The deployed pool of the `auth` resource `key`, with the clients to reach it.
async fn pool_of(console: &Console, key: &str) -> Result<(Aws, String), String> {
    let auths = auths(console).await.map_err(|e| e.to_string())?;
    let pool = auths
        .pool(key)
        .ok_or_else(|| format!("{key} has no deployed user pool"))?;
    Ok((auths.aws, pool))
}

#[derive(Deserialize)]
pub struct EnableForm {
    auth: String,
    email: String,
    /// `true` to enable, `false` to disable.
    enabled: String,
}

/// `POST /cognito/users/enable`: enables or disables a user.
pub async fn enable(State(console): State<Arc<Console>>, Form(form): Form<EnableForm>) -> Response {
    let enabled = form.enabled == "true";
    let (aws, pool) = match pool_of(&console, &form.auth).await {
        Ok(p) => p,
        Err(e) => return (StatusCode::NOT_FOUND, format!("{e}\n")).into_response(),
    };
    match test_user::set_enabled(&aws, &pool, &form.email, enabled).await {
        Ok(()) => {
            let done = if enabled { "enabled" } else { "disabled" };
            tracing::info!(email = %form.email, %pool, "console: {done} user");
            see_other(&format!("/cognito?{done}={}", query_value(&form.email)))
        }
        Err(e) => (StatusCode::BAD_GATEWAY, format!("{e}\n")).into_response(),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    auth: String,
    email: String,
    password: String,
}

/// `POST /cognito/users/password`: a new permanent password; Cognito's reason on the form
/// when it refuses it.
pub async fn password(
    State(console): State<Arc<Console>>,
    Form(form): Form<PasswordForm>,
) -> Response {
    let password = Password::new(form.password);
    let fail = |message: String| FormError {
        which: Which::Password,
        auth: form.auth.clone(),
        email: form.email.clone(),
        message,
    };
    if password.expose().is_empty() {
        return super::pages::cognito_with(&console, Some(fail("a new password is needed".into())))
            .await;
    }
    let (aws, pool) = match pool_of(&console, &form.auth).await {
        Ok(p) => p,
        Err(e) => return super::pages::cognito_with(&console, Some(fail(e))).await,
    };
    match test_user::set_password(&aws, &pool, &form.email, &password).await {
        Ok(()) => {
            tracing::info!(email = %form.email, %pool, "console: set a new permanent password");
            see_other(&format!("/cognito?reset={}", query_value(&form.email)))
        }
        Err(e) => {
            tracing::info!(error = %e, "console: setting a password was refused");
            super::pages::cognito_with(&console, Some(fail(e.to_string()))).await
        }
    }
}

fn see_other(location: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_string())],
    )
        .into_response()
}

fn query_value(s: &str) -> String {
    serde_urlencoded::to_string([("v", s)])
        .map(|q| q.trim_start_matches("v=").to_string())
        .unwrap_or_default()
}
