//! The **Cognito** page (`GET /cognito`): each `auth` resource's users (paged, the declared
//! test users marked, enable/disable and delete per user), the Create User and Set a new
//! password forms beside the pool's password policy, or only the policy when read-only.
//! Its forms' handlers are in `actions`, the forms themselves in `forms`; what they do to
//! Cognito is `console::users`.

mod actions;
pub mod forms;

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

pub use actions::{create, delete, enable, password};
pub use forms::{FormError, Which};

use super::layout::{id, page, table_head};
use crate::aws::AwsError;
use crate::console::users::{self, AuthTarget, PoolView};
use crate::console::{Console, Mode};
use crate::error::Error;
use crate::resource::test_user::PasswordPolicy;

/// How many users one page of a pool's table shows.
const USERS_PER_PAGE: usize = 50;

/// The notices after a form's success, and the users table's page.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CognitoQuery {
    pub page: Option<usize>,
    pub created: Option<String>,
    pub deleted: Option<String>,
    pub enabled: Option<String>,
    pub disabled: Option<String>,
    /// The user whose password was set (never the password).
    pub reset: Option<String>,
}

/// One `auth` resource and, when its pool is deployed, what was read of it.
pub struct AuthView {
    pub target: AuthTarget,
    pub pool: Option<Result<PoolView, AwsError>>,
}

/// Everything the Cognito page shows.
pub struct CognitoView<'a> {
    pub mode: Mode,
    /// The session's CSRF token, for the forms.
    pub csrf: &'a str,
    pub query: &'a CognitoQuery,
    pub auths: Result<Vec<AuthView>, Error>,
    /// The form that failed, with its reason.
    pub error: Option<&'a FormError>,
}

/// `GET /cognito`.
pub async fn get(State(console): State<Arc<Console>>, Query(q): Query<CognitoQuery>) -> Response {
    respond(&console, &q, None).await
}

/// Reads the pools and answers with the page: status 422 with the reason on the form that
/// failed, if one did.
async fn respond(console: &Console, q: &CognitoQuery, error: Option<FormError>) -> Response {
    let view = CognitoView {
        mode: console.mode,
        csrf: &console.policy.csrf,
        query: q,
        auths: read(console).await,
        error: error.as_ref(),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (status, Html(render(&view).into_string())).into_response()
}

/// Each `auth` resource, and the users and password policy of those deployed.
async fn read(console: &Console) -> Result<Vec<AuthView>, Error> {
    let auths = users::auths(console).await?;
    let mut views = Vec::with_capacity(auths.targets.len());
    for target in auths.targets {
        let pool = match &target.pool {
            Some(pool) => Some(users::pool_view(&auths.aws, pool).await),
            None => None,
        };
        views.push(AuthView { target, pool });
    }
    Ok(views)
}

/// The whole page.
pub fn render(v: &CognitoView<'_>) -> Markup {
    let body = html! {
        h1 { "Cognito" }
        (notices(v.query))
        @match &v.auths {
            Err(e) => {
                p.error { "Cannot read the user pools:" }
                pre.error { (e) }
                @if let Some(f) = v.error { pre.error role="alert" { (f.message) } }
            }
            Ok(auths) if auths.is_empty() => {
                p { "No stack declares an " code { "auth" } " resource." }
            }
            Ok(auths) => {
                @for a in auths { (auth_section(v, a)) }
            }
        }
    };
    page("Cognito", "/cognito", v.mode.as_str(), body)
}

/// What the last form did, from the query the redirect carried.
fn notices(q: &CognitoQuery) -> Markup {
    html! {
        @if let Some(e) = &q.created {
            p.notice role="status" {
                "Created user " strong { (e) } " (confirmed, permanent password)."
            }
        }
        @for (who, what) in [
            (&q.deleted, "Deleted user"),
            (&q.enabled, "Enabled user"),
            (&q.disabled, "Disabled user"),
            (&q.reset, "Set a new permanent password for"),
        ] {
            @if let Some(e) = who { p.notice role="status" { (what) " " strong { (e) } "." } }
        }
    }
}

fn auth_section(v: &CognitoView<'_>, a: &AuthView) -> Markup {
    let t = &a.target;
    let aid = id(&t.key);
    html! {
        section.auth id={ "auth-" (aid) } aria-labelledby={ "h-auth-" (aid) } {
            h2 id={ "h-auth-" (aid) } { (t.key) }
            @match (&t.pool, &a.pool) {
                (Some(pool), Some(view)) => {
                    p { "User pool " code { (pool) } }
                    @match view {
                        Ok(view) => { (pool_columns(v, t, view)) }
                        Err(e) => { pre.error { (e) } }
                    }
                }
                _ => { p { "Its user pool is not deployed yet." } }
            }
        }
    }
}

/// The users table and, beside it, the forms (or only the password policy, read-only).
fn pool_columns(v: &CognitoView<'_>, t: &AuthTarget, view: &PoolView) -> Markup {
    let error = v.error.filter(|e| e.auth == t.key);
    let create_error = error.filter(|e| e.which == Which::Create);
    let password_error = error.filter(|e| e.which == Which::Password);
    html! {
        div.columns {
            (users_table(v, t, view))
            @if v.mode.writes() {
                div.side {
                    (forms::create_form(v.csrf, t, &view.policy, create_error))
                    (forms::password_form(v.csrf, t, view, password_error))
                }
            } @else {
                aside.policy { (policy_text(&view.policy)) }
            }
        }
    }
}

fn users_table(v: &CognitoView<'_>, t: &AuthTarget, view: &PoolView) -> Markup {
    let aid = id(&t.key);
    let pages = view.users.len().div_ceil(USERS_PER_PAGE).max(1);
    let page_no = v.query.page.unwrap_or(1).clamp(1, pages);
    let shown = view
        .users
        .iter()
        .skip((page_no - 1) * USERS_PER_PAGE)
        .take(USERS_PER_PAGE);
    html! {
        section.users id={ "users-" (aid) } data-live aria-labelledby={ "h-users-" (aid) } {
            h3 id={ "h-users-" (aid) } { "Users (" (view.users.len()) ")" }
            table {
                (table_head(
                    &format!("Users of {}", t.key),
                    ["Email", "Sub", "Status", "Enabled", "Created"]
                        .into_iter()
                        .chain(v.mode.writes().then_some("Actions")),
                ))
                tbody { @for u in shown { (forms::user_row(v, t, u)) } }
            }
            @if pages > 1 {
                nav.pager aria-label="User pages" {
                    @for p in 1..=pages {
                        @if p == page_no { span aria-current="page" { (p) } }
                        @else { a href={ "/cognito?page=" (p) } { (p) } }
                        " "
                    }
                }
            }
        }
    }
}

/// The pool's password policy, as a list.
fn policy_text(p: &PasswordPolicy) -> Markup {
    html! {
        h3 { "Password policy" }
        ul.policy {
            @if let Some(n) = p.min_length { li { "at least " (n) " characters" } }
            @for (on, what) in [
                (p.require_lowercase, "a lowercase letter"),
                (p.require_uppercase, "an uppercase letter"),
                (p.require_numbers, "a digit"),
                (p.require_symbols, "a symbol"),
            ] {
                @if on { li { (what) } }
            }
        }
    }
}
