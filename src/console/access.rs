//! The Access page: **Sign in as** a user of an `auth` resource's pool runs the same flow as
//! `stackwatch verify` (InitiateAuth, GetId, GetCredentialsForIdentity, through
//! `verify::sign_in_as`) and shows the identity id, when the credentials expire (never the
//! keys), and the ✓/✗ table of what that identity can reach in each bucket and API route its
//! permissions name, decided by the same IAM evaluator from the deployed policies.

use std::fmt::Write;
use std::sync::Arc;

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::Console;
use super::html::{esc, id, page};
use crate::config::ResourceSpec;
use crate::desired::Desired;
use crate::engine::Focus;
use crate::error::Error;
use crate::resource::test_user::{self, Password};
use crate::session::Session;
use crate::verify::{self, SignedIn, Status};

/// `GET /access`: a Sign in as form per deployed `auth` resource.
pub async fn page_get(State(console): State<Arc<Console>>) -> Response {
    render(&console, None).await
}

#[derive(Deserialize)]
pub struct SignInForm {
    auth: String,
    email: String,
    password: String,
}

/// What a sign-in gave: for which resource and user, and the access or the error.
struct Outcome {
    auth: String,
    email: String,
    result: Result<SignedIn, String>,
}

/// `POST /access`: signs in as the user and checks what the identity can reach.
pub async fn sign_in(
    State(console): State<Arc<Console>>,
    Form(form): Form<SignInForm>,
) -> Response {
    let password = Password::new(form.password);
    let stack = form.auth.split('.').next().unwrap_or_default();
    let result = match session(&console).await {
        Ok(session) => {
            match verify::sign_in_as(&session, Some(stack), &form.email, &password).await {
                Ok(access) => access.outcome,
                Err(e) => Err(e.to_string()),
            }
        }
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = &result {
        tracing::info!(error = %e, "console: Sign in as failed");
    }
    render(
        &console,
        Some(Outcome {
            auth: form.auth,
            email: form.email,
            result,
        }),
    )
    .await
}

/// The whole app read through the console's clients, loaded without the test users'
/// passwords (a sign-in here uses the password typed in the form).
async fn session(console: &Console) -> Result<Session, Error> {
    let mut config = crate::config::load(&console.app.config_dir, console.app.stage.as_deref())?;
    for st in &mut config.stacks {
        for r in &mut st.resources {
            if let ResourceSpec::Auth { users, .. } = &mut r.spec {
                users.clear();
            }
        }
    }
    let (aws, cache) = console.clients(&config.region).await;
    let desired = Desired::build(config)?;
    Session::open_cached(aws, desired, &cache, &Focus::all()).await
}

async fn render(console: &Console, outcome: Option<Outcome>) -> Response {
    let mut body = String::from(
        "<h1>Access</h1>\n<p>Sign in as a user through the same flow as <code>stackwatch verify</code>, then see what that identity can reach, decided from the deployed policies.</p>\n",
    );
    let status = match &outcome {
        Some(Outcome { result: Err(_), .. }) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::OK,
    };
    match super::users::auths(console).await {
        Err(e) => {
            let _ = write!(body, r#"<pre class="error">{}</pre>"#, esc(&e.to_string()));
        }
        Ok(auths) => {
            for t in &auths.targets {
                let aid = id(&t.key);
                let _ = write!(
                    body,
                    r#"<section class="auth" id="access-{aid}" aria-labelledby="h-access-{aid}"><h2 id="h-access-{aid}">{key}</h2>"#,
                    key = esc(&t.key)
                );
                let Some(pool) = &t.pool else {
                    body.push_str("<p>Its user pool is not deployed yet.</p></section>");
                    continue;
                };
                let users = test_user::list(&auths.aws, pool).await.unwrap_or_default();
                let mine = outcome.as_ref().filter(|o| o.auth == t.key);
                if console.mode.writes() {
                    form(
                        &mut body,
                        console,
                        &t.key,
                        &users,
                        mine.map(|o| o.email.as_str()),
                    );
                } else {
                    body.push_str("<p>Read-only console: signing in (which makes an identity in the identity pool) is not offered.</p>");
                }
                if let Some(o) = mine {
                    result(&mut body, o);
                }
                body.push_str("</section>\n");
            }
        }
    }
    (
        status,
        Html(page("Access", "/access", console.mode.as_str(), &body)),
    )
        .into_response()
}

fn form(
    body: &mut String,
    console: &Console,
    key: &str,
    users: &[test_user::UserInfo],
    chosen: Option<&str>,
) {
    let aid = id(key);
    let _ = write!(
        body,
        r#"<form method="post" action="/access" class="sign-in-as">
<input type="hidden" name="csrf" value="{csrf}">
<input type="hidden" name="auth" value="{key}">
<label for="as-user-{aid}">User</label>
<select id="as-user-{aid}" name="email">"#,
        csrf = esc(&console.policy.csrf),
        key = esc(key),
    );
    super::html::user_options(body, users.iter().map(|u| u.email.as_str()), chosen);
    let _ = write!(
        body,
        r#"</select>
<label for="as-pw-{aid}">Password</label>
<input type="password" id="as-pw-{aid}" name="password" required autocomplete="current-password">
<button type="submit">Sign in as</button>
</form>"#
    );
}

fn result(body: &mut String, o: &Outcome) {
    match &o.result {
        Err(e) => {
            let _ = write!(body, r#"<p class="error" role="alert">{}</p>"#, esc(e));
        }
        Ok(a) => {
            let _ = write!(
                body,
                r#"<section class="access-result" aria-labelledby="h-result"><h3 id="h-result">Signed in as {email}</h3>
<dl><dt>Identity id</dt><dd><code id="identity-id">{identity}</code></dd><dt>Credentials expire</dt><dd id="expires">{expires}</dd></dl>
<p class="policy">The credentials' keys are never shown or kept.</p>
<table><caption>What this identity can reach</caption><thead><tr><th scope="col"><span class="visually-hidden">Result</span></th><th scope="col">Check</th><th scope="col">Expected</th><th scope="col">Actual</th></tr></thead><tbody>"#,
                email = esc(&o.email),
                identity = esc(&a.identity_id),
                expires = esc(a.expires.as_deref().unwrap_or("unknown")),
            );
            for r in &a.report.rows {
                let (mark, class, label) = match r.status {
                    Status::Pass => ("✓", "ok", "pass"),
                    Status::Fail => ("✗", "bad", "fail"),
                    Status::Warn => ("!", "warn", "warning"),
                };
                let _ = write!(
                    body,
                    r#"<tr class="check-{class}"><td><span class="mark mark-{class}" aria-label="{label}">{mark}</span></td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
                    esc(&r.check),
                    esc(&r.expected),
                    esc(&r.actual),
                );
            }
            body.push_str("</tbody></table></section>");
        }
    }
}
