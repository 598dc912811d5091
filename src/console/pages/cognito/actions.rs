//! The Cognito page's form handlers: each calls `console::users`, then redirects back to the
//! page with a notice, or shows the page again (422) with the reason on the form that failed;
//! a delete without `confirm=yes` gets its confirm page first. A password goes from the form
//! into a [`Password`] and is never shown or logged.

use std::sync::Arc;

use axum::Form;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::forms::{FormError, Which, confirm_delete};
use super::{CognitoQuery, respond};
use crate::console::Console;
use crate::console::users::{self, UserChange, UserError};
use crate::resource::test_user::Password;

#[derive(Deserialize)]
pub struct CreateForm {
    auth: String,
    email: String,
    password: String,
}

/// `POST /cognito/users`: creates a confirmed user with a permanent password, as
/// `stackwatch users create`. On success, back to the Cognito page; on a refusal (a password
/// Cognito's policy refuses, an existing user), the page again with the reason on the form.
pub async fn create(State(console): State<Arc<Console>>, Form(form): Form<CreateForm>) -> Response {
    let email = form.email.trim().to_string();
    let password = Password::new(form.password);
    let result = if email.is_empty() || password.expose().is_empty() {
        Err("an email and a password are needed".to_string())
    } else {
        users::change(&console, &form.auth, &email, UserChange::Create(&password))
            .await
            .map_err(|e| e.to_string())
    };
    match result {
        Ok(()) => see_other(format!("/cognito?created={}", query_value(&email))),
        Err(message) => {
            let error = FormError {
                which: Which::Create,
                auth: form.auth,
                email,
                message,
            };
            respond(&console, &CognitoQuery::default(), Some(error)).await
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
    let (aws, pool) = match users::pool_of(&console, &form.auth).await {
        Ok(p) => p,
        Err(e) => return refused(&e),
    };
    if form.confirm != "yes" {
        let page = confirm_delete(
            console.mode,
            &console.policy.csrf,
            &form.auth,
            &pool,
            &form.email,
        );
        return Html(page.into_string()).into_response();
    }
    match users::delete(&aws, &pool, &form.email).await {
        Ok(()) => see_other(format!("/cognito?deleted={}", query_value(&form.email))),
        Err(e) => refused(&e),
    }
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
    match users::change(
        &console,
        &form.auth,
        &form.email,
        UserChange::Enabled(enabled),
    )
    .await
    {
        Ok(()) => {
            let done = if enabled { "enabled" } else { "disabled" };
            see_other(format!("/cognito?{done}={}", query_value(&form.email)))
        }
        Err(e) => refused(&e),
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
    let result = if password.expose().is_empty() {
        Err("a new password is needed".to_string())
    } else {
        users::change(
            &console,
            &form.auth,
            &form.email,
            UserChange::SetPassword(&password),
        )
        .await
        .map_err(|e| e.to_string())
    };
    match result {
        Ok(()) => see_other(format!("/cognito?reset={}", query_value(&form.email))),
        Err(message) => {
            let error = FormError {
                which: Which::Password,
                auth: form.auth,
                email: form.email,
                message,
            };
            respond(&console, &CognitoQuery::default(), Some(error)).await
        }
    }
}

/// A refused delete or enable, as plain text: 404 without a deployed pool, 502 when the
/// files, the stacks or Cognito failed.
fn refused(e: &UserError) -> Response {
    let status = match e {
        UserError::NoPool(_) => StatusCode::NOT_FOUND,
        UserError::Read(_) | UserError::Aws(_) => StatusCode::BAD_GATEWAY,
    };
    (status, format!("{e}\n")).into_response()
}

fn see_other(location: String) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

fn query_value(s: &str) -> String {
    serde_urlencoded::to_string([("v", s)])
        .map(|q| q.trim_start_matches("v=").to_string())
        .unwrap_or_default()
}
