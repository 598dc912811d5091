//! The **Access** page (`GET /access`, `POST /access`): a Sign in as form per deployed `auth`
//! resource (not offered read-only) and, after a sign-in, the identity id, when its
//! credentials expire (never the keys) and the ✓/✗ table of what it can reach, or Cognito's
//! refusal. The sign-in itself is `console::access`.

use std::sync::Arc;

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{id, page, user_options};
use crate::console::users::{self, AuthTarget};
use crate::console::{Console, Mode};
use crate::error::Error;
use crate::resource::test_user::{self, Password, UserInfo};
use crate::verify::{SignedIn, Status};

#[derive(Deserialize)]
pub struct SignInForm {
    auth: String,
    email: String,
    password: String,
}

/// What a sign-in gave: for which resource and user, and the access or the error.
pub struct Outcome {
    pub auth: String,
    pub email: String,
    pub result: Result<SignedIn, String>,
}

/// One `auth` resource and the users of its pool (none when it is not deployed).
pub struct AccessTarget {
    pub target: AuthTarget,
    pub users: Vec<UserInfo>,
}

/// Everything the Access page shows.
pub struct AccessView<'a> {
    pub mode: Mode,
    /// The session's CSRF token, for the forms.
    pub csrf: &'a str,
    pub auths: Result<Vec<AccessTarget>, Error>,
    pub outcome: Option<&'a Outcome>,
}

/// `GET /access`: a Sign in as form per deployed `auth` resource.
pub async fn get(State(console): State<Arc<Console>>) -> Response {
    respond(&console, None).await
}

/// `POST /access`: signs in as the user and checks what the identity can reach.
pub async fn sign_in(
    State(console): State<Arc<Console>>,
    Form(form): Form<SignInForm>,
) -> Response {
    let password = Password::new(form.password);
    let result =
        crate::console::access::sign_in(&console, &form.auth, &form.email, &password).await;
    let outcome = Outcome {
        auth: form.auth,
        email: form.email,
        result,
    };
    respond(&console, Some(&outcome)).await
}

async fn respond(console: &Console, outcome: Option<&Outcome>) -> Response {
    let status = match outcome {
        Some(Outcome { result: Err(_), .. }) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::OK,
    };
    let view = AccessView {
        mode: console.mode,
        csrf: &console.policy.csrf,
        auths: read(console).await,
        outcome,
    };
    (status, Html(render(&view).into_string())).into_response()
}

/// Each `auth` resource and the users of its deployed pool (none when they cannot be read).
async fn read(console: &Console) -> Result<Vec<AccessTarget>, Error> {
    let auths = users::auths(console).await?;
    let mut targets = Vec::with_capacity(auths.targets.len());
    for target in auths.targets {
        let users = match &target.pool {
            Some(pool) => test_user::list(&auths.aws, pool).await.unwrap_or_default(),
            None => Vec::new(),
        };
        targets.push(AccessTarget { target, users });
    }
    Ok(targets)
}

/// The whole page.
pub fn render(v: &AccessView<'_>) -> Markup {
    let body = html! {
        h1 { "Access" }
        p {
            "Sign in as a user through the same flow as " code { "stackwatch verify" }
            ", then see what that identity can reach, decided from the deployed policies."
        }
        @match &v.auths {
            Err(e) => { pre.error { (e) } }
            Ok(targets) => { @for t in targets { (section(v, t)) } }
        }
    };
    page("Access", "/access", v.mode.as_str(), body)
}

fn section(v: &AccessView<'_>, a: &AccessTarget) -> Markup {
    let key = &a.target.key;
    let aid = id(key);
    let mine = v.outcome.filter(|o| &o.auth == key);
    html! {
        section.auth id={ "access-" (aid) } aria-labelledby={ "h-access-" (aid) } {
            h2 id={ "h-access-" (aid) } { (key) }
            @if a.target.pool.is_none() {
                p { "Its user pool is not deployed yet." }
            } @else {
                @if v.mode.writes() {
                    (form(v.csrf, key, &a.users, mine.map(|o| o.email.as_str())))
                } @else {
                    p {
                        "Read-only console: signing in (which makes an identity in the identity "
                        "pool) is not offered."
                    }
                }
                @if let Some(o) = mine { (result(o)) }
            }
        }
    }
}

fn form(csrf: &str, key: &str, users: &[UserInfo], chosen: Option<&str>) -> Markup {
    let aid = id(key);
    html! {
        form.sign-in-as method="post" action="/access" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="auth" value=(key);
            label for={ "as-user-" (aid) } { "User" }
            select id={ "as-user-" (aid) } name="email" {
                (user_options(users.iter().map(|u| u.email.as_str()), chosen))
            }
            label for={ "as-pw-" (aid) } { "Password" }
            input type="password" id={ "as-pw-" (aid) } name="password" required
                autocomplete="current-password";
            button type="submit" { "Sign in as" }
        }
    }
}

fn result(o: &Outcome) -> Markup {
    let a = match &o.result {
        Err(e) => return html! { p.error role="alert" { (e) } },
        Ok(a) => a,
    };
    html! {
        section.access-result aria-labelledby="h-result" {
            h3 #h-result { "Signed in as " (o.email) }
            dl {
                dt { "Identity id" }
                dd { code #identity-id { (a.identity_id) } }
                dt { "Credentials expire" }
                dd #expires { (a.expires.as_deref().unwrap_or("unknown")) }
            }
            p.policy { "The credentials' keys are never shown or kept." }
            table {
                caption { "What this identity can reach" }
                thead { tr {
                    th scope="col" { span.visually-hidden { "Result" } }
                    th scope="col" { "Check" }
                    th scope="col" { "Expected" }
                    th scope="col" { "Actual" }
                } }
                tbody {
                    @for r in &a.report.rows {
                        @let (mark, class, label) = match r.status {
                            Status::Pass => ("✓", "ok", "pass"),
                            Status::Fail => ("✗", "bad", "fail"),
                            Status::Warn => ("!", "warn", "warning"),
                        };
                        tr class={ "check-" (class) } {
                            td { span class={ "mark mark-" (class) } aria-label=(label) { (mark) } }
                            td { (r.check) }
                            td { (r.expected) }
                            td { (r.actual) }
                        }
                    }
                }
            }
        }
    }
}
