//! The pages, rendered on the server from the daemon's status, the outputs file and Cognito:
//! **Stacks** (each stack's state, its resources with a link into the AWS web console, its
//! outputs with copy buttons, and the last reconciles), **Plan** (the pending plan as the
//! terminal shows it, Deploy as ENTER, what the guard holds, the last reconciles) and
//! **Cognito** (each `auth` resource's users, the Create User form beside the pool's password
//! policy, delete with a confirm).
//! Every value goes through [`esc`]; sections marked `data-live` are refreshed in place by
//! `console.js` when `/events` says a reconcile finished.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::html::{esc, id, page};
use super::users::{self, AuthTarget, FormError, PoolView, Which};
use super::{Console, Overview, ResourceView};
use crate::resource::test_user::PasswordPolicy;

/// What a physical id may keep unencoded in a console URL.
const URL_PART: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.');

/// How many users one page of a pool's table shows.
const USERS_PER_PAGE: usize = 50;

/// `GET /`: the Stacks page.
pub async fn stacks(State(console): State<Arc<Console>>) -> Response {
    let o = console.backend.overview();
    let config = crate::config::load(&console.app.config_dir, console.app.stage.as_deref()).ok();
    let outputs = crate::outputs::read(&console.app.state_dir).unwrap_or_default();
    let mut body = String::from("<h1>Stacks</h1>\n");
    summary(&mut body, &o);

    // The stacks in the files' order; a stack only the status knows (no longer in the files)
    // after them.
    let mut names: Vec<String> = config
        .as_ref()
        .map(|c| c.stacks.iter().map(|s| s.name.clone()).collect())
        .unwrap_or_default();
    for r in &o.resources {
        if !names.contains(&r.stack) {
            names.push(r.stack.clone());
        }
    }
    let region = config.as_ref().map(|c| c.region.clone());
    let recent = super::events::recent(&console);
    body.push_str(r#"<div id="stacks" data-live>"#);
    if names.is_empty() {
        body.push_str("<p>No stack read yet: the first reconcile is still running.</p>");
    }
    for name in &names {
        let full = config
            .as_ref()
            .map_or_else(|| name.clone(), |c| c.stack_full_name(name));
        let resources: Vec<&ResourceView> =
            o.resources.iter().filter(|r| &r.stack == name).collect();
        let state = stack_state(&o, name, &resources, &recent);
        let sid = id(name);
        let _ = write!(
            body,
            r#"<section class="stack" id="stack-{sid}" aria-labelledby="h-{sid}">
<h2 id="h-{sid}">{n} <span class="badge state-{state}" data-state="{state}">{state}</span></h2>
<p class="full">{full}</p>
"#,
            n = esc(name),
            full = esc(&full),
        );
        if let Some(e) = o.stacks.get(name).and_then(|s| s.last_error.as_ref()) {
            let _ = write!(body, r#"<pre class="error">{}</pre>"#, esc(e));
        }
        resource_table(&mut body, name, &resources, &o.resources, region.as_deref());
        let declares = config
            .as_ref()
            .and_then(|c| c.stack(name))
            .is_none_or(|s| !s.outputs.is_empty());
        outputs_list(&mut body, name, declares, outputs.get(&full));
        body.push_str("</section>\n");
    }
    body.push_str("</div>\n");
    activity(&mut body, &recent);
    Html(page("Stacks", "/", console.mode.as_str(), &body)).into_response()
}

fn summary(body: &mut String, o: &Overview) {
    let leader = match o.leader {
        Some(true) => "leader",
        Some(false) => "follower (another daemon applies)",
        None => "takes no lease",
    };
    let _ = write!(
        body,
        r#"<div id="summary" data-live><p class="summary">Approval: <strong>{}</strong> · {} · {}</p>"#,
        esc(&o.approval),
        if o.ready { "ready" } else { "not ready yet" },
        leader
    );
    if !o.config_errors.is_empty() {
        body.push_str(
            r#"<section class="problems" aria-label="Problems in the stack files"><h2>The stack files are invalid</h2><ul>"#,
        );
        for e in &o.config_errors {
            let _ = write!(body, "<li><code>{}</code></li>", esc(e));
        }
        body.push_str("</ul><p>AWS is left as it is until they are fixed.</p></section>");
    }
    if let Some(e) = &o.last_error {
        let _ = write!(
            body,
            r#"<p class="error">Last error:</p><pre class="error">{}</pre>"#,
            esc(e)
        );
    }
    if !o.pending.is_empty() {
        body.push_str(r#"<p>Waiting for approval:</p><ul class="pending">"#);
        for p in &o.pending {
            let _ = write!(body, "<li><code>{}</code></li>", esc(p));
        }
        body.push_str("</ul>");
    }
    body.push_str("</div>\n");
}

/// A resource's state as the page shows it.
fn resource_state(r: &ResourceView) -> &'static str {
    match (r.action.as_str(), r.outcome.as_deref()) {
        ("blocked", _) | (_, Some("failed")) => "error",
        (_, Some("held")) => "held",
        ("nochange", _) | (_, Some("done")) => "deployed",
        _ => "pending",
    }
}

/// deployed, pending, drift, held or error: the worst of its resources and its last
/// reconcile; `drift` when what is pending was found with the files unchanged.
fn stack_state(
    o: &Overview,
    stack: &str,
    resources: &[&ResourceView],
    recent: &[super::Activity],
) -> &'static str {
    let states: Vec<&str> = resources.iter().map(|r| resource_state(r)).collect();
    let failed = o.stacks.get(stack).is_some_and(|s| s.last_error.is_some());
    if failed || states.contains(&"error") {
        return "error";
    }
    if states.contains(&"held") {
        return "held";
    }
    if states.contains(&"pending") {
        let drift = recent
            .iter()
            .find(|a| a.stack == stack || a.stack == "*")
            .is_some_and(|a| a.drift);
        return if drift { "drift" } else { "pending" };
    }
    if resources.is_empty() {
        return "pending";
    }
    "deployed"
}

fn resource_table(
    body: &mut String,
    stack: &str,
    resources: &[&ResourceView],
    all: &[ResourceView],
    region: Option<&str>,
) {
    let _ = write!(
        body,
        r#"<table class="resources"><caption>Resources of {}</caption>
<thead><tr><th scope="col">Resource</th><th scope="col">Kind</th><th scope="col">Physical id</th><th scope="col">State</th><th scope="col">AWS console</th></tr></thead><tbody>"#,
        esc(stack)
    );
    for r in resources {
        let name =
            r.id.strip_prefix(&format!("{stack}."))
                .unwrap_or(&r.id)
                .to_string();
        let state = resource_state(r);
        let detail = match (r.action.as_str(), r.outcome.as_deref()) {
            ("nochange", _) => String::new(),
            (a, Some(o)) => format!(" ({a}: {o})"),
            (a, None) => format!(" ({a})"),
        };
        let link = match (region, state != "pending" || r.action != "create") {
            (Some(region), true) => aws_console_url(r, all, region).map_or_else(String::new, |u| {
                format!(
                    r#"<a href="{}" target="_blank" rel="noopener noreferrer" aria-label="Open {} in the AWS console">Open</a>"#,
                    esc(&u),
                    esc(&r.id)
                )
            }),
            _ => String::new(),
        };
        let _ = write!(
            body,
            r#"<tr data-resource="{rid}"><th scope="row">{name}</th><td>{kind}</td><td><code>{phys}</code></td><td><span class="badge state-{state}">{state}</span>{detail}</td><td>{link}</td></tr>"#,
            rid = esc(&r.id),
            name = esc(&name),
            kind = esc(&r.kind),
            phys = esc(&r.physical),
            detail = esc(&detail),
        );
        if let Some(e) = &r.error {
            let _ = write!(
                body,
                r#"<tr class="error"><td colspan="5"><pre>{}</pre></td></tr>"#,
                esc(e)
            );
        }
    }
    body.push_str("</tbody></table>\n");
}

fn outputs_list(
    body: &mut String,
    stack: &str,
    declares: bool,
    outputs: Option<&BTreeMap<String, String>>,
) {
    let _ = write!(body, "<h3>Outputs</h3>");
    if !declares {
        body.push_str(r#"<p class="none">This stack declares no outputs.</p>"#);
        return;
    }
    let Some(outputs) = outputs.filter(|o| !o.is_empty()) else {
        body.push_str(r#"<p class="none">None deployed yet.</p>"#);
        return;
    };
    let _ = write!(
        body,
        r#"<table class="outputs"><caption>Outputs of {}</caption><thead><tr><th scope="col">Output</th><th scope="col">Value</th><th scope="col"><span class="visually-hidden">Copy</span></th></tr></thead><tbody>"#,
        esc(stack)
    );
    for (k, v) in outputs {
        let oid = format!("out-{}-{}", id(stack), id(k));
        let _ = write!(
            body,
            r#"<tr><th scope="row">{k}</th><td><code id="{oid}">{v}</code></td><td><button type="button" class="copy" data-copy="{oid}" aria-label="Copy {k}">Copy</button></td></tr>"#,
            k = esc(k),
            v = esc(v),
        );
    }
    body.push_str("</tbody></table>\n");
}

fn activity(body: &mut String, recent: &[super::Activity]) {
    body.push_str(
        r#"<section id="activity" data-live aria-labelledby="h-activity"><h2 id="h-activity">Recent reconciles</h2>"#,
    );
    if recent.is_empty() {
        body.push_str("<p>None since this page's daemon started serving it.</p></section>\n");
        return;
    }
    body.push_str(r#"<table><caption>The last reconciles, newest first</caption><thead><tr><th scope="col">Finished</th><th scope="col">Key</th><th scope="col">Result</th><th scope="col">Duration</th><th scope="col">Not in sync</th></tr></thead><tbody>"#);
    for a in recent {
        let drift = if a.drift {
            r#" <span class="badge state-drift">drift</span>"#
        } else {
            ""
        };
        let mut changes = String::new();
        for c in &a.changes {
            let _ = write!(changes, "<li><code>{}</code></li>", esc(c));
        }
        if let Some(e) = &a.error {
            let _ = write!(changes, r#"<li class="error">{}</li>"#, esc(e));
        }
        let _ = write!(
            body,
            r#"<tr data-seq="{seq}"><td>{at}</td><td>{key}</td><td>{res}{drift}</td><td>{ms} ms</td><td><ul>{changes}</ul></td></tr>"#,
            seq = a.seq,
            at = esc(&a.finished_at),
            key = esc(&a.stack),
            res = esc(&a.result),
            ms = a.duration_ms,
        );
    }
    body.push_str("</tbody></table></section>\n");
}

/// The resource in the AWS web console of its region, from its kind and physical id.
fn aws_console_url(r: &ResourceView, all: &[ResourceView], region: &str) -> Option<String> {
    let p = r.physical.as_str();
    if p.is_empty() {
        return None;
    }
    let enc = |s: &str| percent_encoding::utf8_percent_encode(s, URL_PART).to_string();
    let home = format!("https://{region}.console.aws.amazon.com");
    // The sibling node of the same `auth` resource (`Stack.Resource.<node>`): the user pool
    // for what lives inside a pool. (A test user's id holds dots of its own.)
    let sibling = |node: &str| {
        let mut parts = r.id.splitn(3, '.');
        let prefix = format!("{}.{}", parts.next()?, parts.next()?);
        all.iter()
            .find(|x| x.id == format!("{prefix}.{node}"))
            .map(|x| x.physical.clone())
    };
    let pool = || sibling("UserPool");
    let url = match r.kind.as_str() {
        crate::resource::bucket::KIND => format!(
            "https://s3.console.aws.amazon.com/s3/buckets/{}?region={region}",
            enc(p)
        ),
        crate::resource::table::KIND => format!(
            "{home}/dynamodbv2/home?region={region}#table?name={}",
            enc(p)
        ),
        crate::resource::http_api::KIND => format!(
            "{home}/apigateway/main/api-detail?api={}&region={region}",
            enc(p)
        ),
        crate::resource::user_pool::KIND => format!(
            "{home}/cognito/v2/idp/user-pools/{}/overview?region={region}",
            enc(p)
        ),
        crate::resource::user_pool_client::KIND => format!(
            "{home}/cognito/v2/idp/user-pools/{}/applications/app-clients/{}/details?region={region}",
            enc(&pool()?),
            enc(p)
        ),
        crate::resource::test_user::KIND => format!(
            "{home}/cognito/v2/idp/user-pools/{}/user-management/users?region={region}",
            enc(&pool()?)
        ),
        crate::resource::identity_pool::KIND => format!(
            "{home}/cognito/v2/identity/identity-pools/{}/?region={region}",
            enc(p)
        ),
        crate::resource::identity_pool_roles::KIND => format!(
            "{home}/cognito/v2/identity/identity-pools/{}/user-access?region={region}",
            enc(&sibling("IdentityPool")?)
        ),
        crate::resource::role::KIND => format!(
            "https://console.aws.amazon.com/iam/home#/roles/details/{}",
            enc(p)
        ),
        _ => return None,
    };
    Some(url)
}

#[derive(Deserialize, Default)]
pub struct PlanQuery {
    #[serde(default)]
    deploy: Option<String>,
}

/// `GET /plan`: the plan waiting for approval as the terminal shows it, the Deploy button
/// (the browser's ENTER) in prompt mode, what the guard holds back, and the last reconciles.
pub async fn plan(State(console): State<Arc<Console>>, Query(q): Query<PlanQuery>) -> Response {
    let o = console.backend.overview();
    let pending = console.backend.pending_plan();
    let mut body = String::from("<h1>Plan</h1>\n");
    let notice = match q.deploy.as_deref() {
        Some("started") => Some(
            "Deploying: the daemon re-reads AWS and applies the plan if it is still the one \
             shown (otherwise it shows the new one).",
        ),
        Some("nothing") => Some("No plan waited for approval."),
        Some("not-by-hand") => Some("Plans are not approved by hand in this approval mode."),
        Some("unconfirmed") => Some(
            "Not deployed: each deletion and replacement needs its own confirm. Tick each one \
             below, then Deploy.",
        ),
        _ => None,
    };
    if let Some(n) = notice {
        let _ = write!(body, r#"<p class="notice" role="status">{}</p>"#, esc(n));
    }
    let _ = write!(
        body,
        r#"<section id="plan" data-live aria-labelledby="h-plan"><p class="summary">Approval: <strong>{}</strong></p>"#,
        esc(&o.approval)
    );
    match &pending {
        Some(text) => {
            body.push_str(r#"<h2 id="h-plan">Waiting for approval</h2>"#);
            let _ = write!(
                body,
                r#"<pre class="plan" tabindex="0" aria-label="The pending plan">{}</pre>"#,
                esc(text)
            );
            if console.mode.writes() && o.approval == "prompt" {
                let _ = write!(
                    body,
                    r#"<form method="post" action="/plan/deploy" class="deploy"><input type="hidden" name="csrf" value="{}">"#,
                    esc(&console.policy.csrf)
                );
                let destructive = to_confirm(&o);
                if !destructive.is_empty() {
                    body.push_str(
                        "<fieldset class=\"confirm\"><legend>Each deletion and replacement needs its own confirm</legend>",
                    );
                    for (n, r) in destructive.iter().enumerate() {
                        let verb = if r.action == "delete" { "delete" } else { "replace (delete and recreate)" };
                        let _ = write!(
                            body,
                            r#"<p><input type="checkbox" name="confirm" id="confirm-{n}" value="{id}"> <label for="confirm-{n}">Yes, {verb} <code>{id}</code> ({kind} {physical})</label></p>"#,
                            id = esc(&r.id),
                            kind = esc(&r.kind),
                            physical = esc(&r.physical),
                        );
                    }
                    body.push_str("</fieldset>");
                }
                body.push_str(
                    r#"<button type="submit">Deploy</button> <span class="hint">as ENTER in the terminal</span></form>"#,
                );
            } else if o.approval == "never" {
                body.push_str("<p>--approve never: this plan is only reported.</p>");
            }
        }
        None if !o.pending.is_empty() => {
            body.push_str(r#"<h2 id="h-plan">Reported, not applied here</h2><ul class="pending">"#);
            for p in &o.pending {
                let _ = write!(body, "<li><code>{}</code></li>", esc(p));
            }
            body.push_str("</ul><p>Another daemon holds the lease and applies.</p>");
        }
        None => body.push_str(
            r#"<h2 id="h-plan">Nothing waits for approval</h2><p>No plan waits: AWS matches the stack files, as far as the guard allows.</p>"#,
        ),
    }
    let held: Vec<&ResourceView> = o
        .resources
        .iter()
        .filter(|r| r.outcome.as_deref() == Some("held"))
        .collect();
    if !held.is_empty() {
        body.push_str("<h2>Held back by the guard</h2><ul>");
        for r in held {
            let flag = if r.action == "delete" {
                "--allow-delete"
            } else {
                "--allow-replace"
            };
            let _ = write!(
                body,
                "<li><code>{}</code> ({}) needs {flag}</li>",
                esc(&r.id),
                esc(&r.action)
            );
        }
        body.push_str("</ul>");
    }
    body.push_str("</section>\n");
    activity(&mut body, &super::events::recent(&console));
    Html(page("Plan", "/plan", console.mode.as_str(), &body)).into_response()
}

/// The deletions and replacements of the pending plan that the guard allows (the others are
/// held, and no confirm can apply them): each needs its own confirm before Deploy.
fn to_confirm(o: &Overview) -> Vec<&ResourceView> {
    o.resources
        .iter()
        .filter(|r| matches!(r.action.as_str(), "delete" | "replace") && r.outcome.is_none())
        .collect()
}

/// `POST /plan/deploy`: the browser's ENTER, refused unless the form confirms each deletion and
/// replacement the pending plan makes (as the daemon knows it now, not as the page showed it).
pub async fn deploy(State(console): State<Arc<Console>>, body: axum::body::Bytes) -> Response {
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let confirmed: std::collections::BTreeSet<&str> = fields
        .iter()
        .filter(|(k, _)| k == "confirm")
        .map(|(_, v)| v.as_str())
        .collect();
    let o = console.backend.overview();
    let missing: Vec<&str> = to_confirm(&o)
        .into_iter()
        .map(|r| r.id.as_str())
        .filter(|id| !confirmed.contains(id))
        .collect();
    if !missing.is_empty() {
        tracing::info!(
            ?missing,
            "console: Deploy refused, destructive changes not confirmed"
        );
        return (
            StatusCode::SEE_OTHER,
            [(
                axum::http::header::LOCATION,
                "/plan?deploy=unconfirmed".to_string(),
            )],
        )
            .into_response();
    }
    let what = match console.backend.deploy() {
        super::Deploy::Started => {
            tracing::info!("console: the pending plan was approved (Deploy)");
            "started"
        }
        super::Deploy::NothingPending => "nothing",
        super::Deploy::NotByHand => "not-by-hand",
    };
    (
        StatusCode::SEE_OTHER,
        [(axum::http::header::LOCATION, format!("/plan?deploy={what}"))],
    )
        .into_response()
}

#[derive(Deserialize, Default)]
pub struct CognitoQuery {
    #[serde(default)]
    page: Option<usize>,
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    deleted: Option<String>,
    #[serde(default)]
    enabled: Option<String>,
    #[serde(default)]
    disabled: Option<String>,
    /// The user whose password was set (never the password).
    #[serde(default)]
    reset: Option<String>,
}

/// `GET /cognito`: each `auth` resource's users and the Create User form.
pub async fn cognito(
    State(console): State<Arc<Console>>,
    Query(q): Query<CognitoQuery>,
) -> Response {
    render_cognito(&console, &q, None).await
}

/// The Cognito page after a form failed: the reason on that form, status 422.
pub async fn cognito_with(console: &Console, error: Option<FormError>) -> Response {
    render_cognito(console, &CognitoQuery::default(), error).await
}

async fn render_cognito(console: &Console, q: &CognitoQuery, error: Option<FormError>) -> Response {
    let mut body = String::from("<h1>Cognito</h1>\n");
    if let Some(e) = &q.created {
        let _ = write!(
            body,
            r#"<p class="notice" role="status">Created user <strong>{}</strong> (confirmed, permanent password).</p>"#,
            esc(e)
        );
    }
    for (who, what) in [
        (&q.deleted, "Deleted user"),
        (&q.enabled, "Enabled user"),
        (&q.disabled, "Disabled user"),
        (&q.reset, "Set a new permanent password for"),
    ] {
        if let Some(e) = who {
            let _ = write!(
                body,
                r#"<p class="notice" role="status">{what} <strong>{}</strong>.</p>"#,
                esc(e)
            );
        }
    }
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    match users::auths(console).await {
        Err(e) => {
            let _ = write!(
                body,
                r#"<p class="error">Cannot read the user pools:</p><pre class="error">{}</pre>"#,
                esc(&e.to_string())
            );
            if let Some(f) = &error {
                let _ = write!(
                    body,
                    r#"<pre class="error" role="alert">{}</pre>"#,
                    esc(&f.message)
                );
            }
        }
        Ok(auths) if auths.targets.is_empty() => {
            body.push_str("<p>No stack declares an <code>auth</code> resource.</p>");
        }
        Ok(auths) => {
            for t in &auths.targets {
                let view = match &t.pool {
                    Some(pool) => Some(users::pool_view(&auths.aws, pool).await),
                    None => None,
                };
                let err = error.as_ref().filter(|e| e.auth == t.key);
                auth_section(&mut body, console, t, view, q.page.unwrap_or(1), err);
            }
        }
    }
    (
        status,
        Html(page("Cognito", "/cognito", console.mode.as_str(), &body)),
    )
        .into_response()
}

fn auth_section(
    body: &mut String,
    console: &Console,
    t: &AuthTarget,
    view: Option<Result<PoolView, crate::aws::AwsError>>,
    page_no: usize,
    error: Option<&FormError>,
) {
    let aid = id(&t.key);
    let _ = write!(
        body,
        r#"<section class="auth" id="auth-{aid}" aria-labelledby="h-auth-{aid}"><h2 id="h-auth-{aid}">{key}</h2>"#,
        key = esc(&t.key)
    );
    let (Some(pool), Some(view)) = (&t.pool, view) else {
        body.push_str("<p>Its user pool is not deployed yet.</p></section>\n");
        return;
    };
    let _ = write!(body, r#"<p>User pool <code>{}</code></p>"#, esc(pool));
    let view = match view {
        Ok(v) => v,
        Err(e) => {
            let _ = write!(
                body,
                r#"<pre class="error">{}</pre></section>"#,
                esc(&e.to_string())
            );
            return;
        }
    };
    body.push_str(r#"<div class="columns">"#);
    users_table(body, console, t, &view, page_no);
    if console.mode.writes() {
        body.push_str(r#"<div class="side">"#);
        create_form(
            body,
            console,
            t,
            &view.policy,
            error.filter(|e| e.which == Which::Create),
        );
        password_form(
            body,
            console,
            t,
            &view,
            error.filter(|e| e.which == Which::Password),
        );
        body.push_str("</div>");
    } else {
        body.push_str(r#"<aside class="policy">"#);
        policy_text(body, &view.policy);
        body.push_str("</aside>");
    }
    body.push_str("</div></section>\n");
}

fn users_table(body: &mut String, console: &Console, t: &AuthTarget, v: &PoolView, page_no: usize) {
    let aid = id(&t.key);
    let pages = v.users.len().div_ceil(USERS_PER_PAGE).max(1);
    let page_no = page_no.clamp(1, pages);
    let shown = v
        .users
        .iter()
        .skip((page_no - 1) * USERS_PER_PAGE)
        .take(USERS_PER_PAGE);
    let actions = if console.mode.writes() {
        r#"<th scope="col">Actions</th>"#
    } else {
        ""
    };
    let _ = write!(
        body,
        r#"<section class="users" id="users-{aid}" data-live aria-labelledby="h-users-{aid}"><h3 id="h-users-{aid}">Users ({n})</h3>
<table><caption>Users of {key}</caption><thead><tr><th scope="col">Email</th><th scope="col">Sub</th><th scope="col">Status</th><th scope="col">Enabled</th><th scope="col">Created</th>{actions}</tr></thead><tbody>"#,
        n = v.users.len(),
        key = esc(&t.key),
    );
    for u in shown {
        let declared = if t.declared.contains(&u.email) {
            r#" <span class="badge declared" title="declared in the stack file">test user</span>"#
        } else {
            ""
        };
        let status_class = if u.status == "CONFIRMED" {
            "ok"
        } else {
            "warn"
        };
        let action = if console.mode.writes() {
            let (enable, label) = if u.enabled {
                ("false", "Disable")
            } else {
                ("true", "Enable")
            };
            format!(
                r#"<td class="actions"><form method="post" action="/cognito/users/enable"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="auth" value="{key}"><input type="hidden" name="email" value="{email}"><input type="hidden" name="enabled" value="{enable}"><button type="submit" class="secondary" aria-label="{label} {email}">{label}</button></form><form method="post" action="/cognito/users/delete"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="auth" value="{key}"><input type="hidden" name="email" value="{email}"><button type="submit" class="danger" aria-label="Delete {email}">Delete</button></form></td>"#,
                label = esc(label),
                csrf = esc(&console.policy.csrf),
                key = esc(&t.key),
                email = esc(&u.email),
            )
        } else {
            String::new()
        };
        let _ = write!(
            body,
            r#"<tr data-email="{email}"><th scope="row">{email}{declared}</th><td><code>{sub}</code></td><td><span class="badge status-{status_class}">{status}</span></td><td>{enabled}</td><td>{created}</td>{action}</tr>"#,
            email = esc(&u.email),
            sub = esc(&u.sub),
            status = esc(&u.status),
            enabled = if u.enabled { "yes" } else { "no" },
            created = esc(u.created.as_deref().unwrap_or("")),
        );
    }
    body.push_str("</tbody></table>");
    if pages > 1 {
        body.push_str(r#"<nav aria-label="User pages" class="pager">"#);
        for p in 1..=pages {
            if p == page_no {
                let _ = write!(body, r#"<span aria-current="page">{p}</span> "#);
            } else {
                let _ = write!(body, r#"<a href="/cognito?page={p}">{p}</a> "#);
            }
        }
        body.push_str("</nav>");
    }
    body.push_str("</section>");
}

fn policy_text(body: &mut String, p: &PasswordPolicy) {
    body.push_str(r#"<h3>Password policy</h3><ul class="policy">"#);
    if let Some(n) = p.min_length {
        let _ = write!(body, "<li>at least {n} characters</li>");
    }
    for (on, what) in [
        (p.require_lowercase, "a lowercase letter"),
        (p.require_uppercase, "an uppercase letter"),
        (p.require_numbers, "a digit"),
        (p.require_symbols, "a symbol"),
    ] {
        if on {
            let _ = write!(body, "<li>{what}</li>");
        }
    }
    body.push_str("</ul>");
}

fn create_form(
    body: &mut String,
    console: &Console,
    t: &AuthTarget,
    policy: &PasswordPolicy,
    error: Option<&FormError>,
) {
    let aid = id(&t.key);
    let (email, described) = match error {
        Some(e) => (
            e.email.as_str(),
            format!(r#" aria-describedby="err-{aid}""#),
        ),
        None => ("", String::new()),
    };
    let _ = write!(
        body,
        r#"<section class="create" aria-labelledby="h-create-{aid}"><h3 id="h-create-{aid}">Create user</h3>
<form method="post" action="/cognito/users" class="create-user">
<input type="hidden" name="csrf" value="{csrf}">
<input type="hidden" name="auth" value="{key}">
<label for="email-{aid}">Email</label>
<input type="email" id="email-{aid}" name="email" required autocomplete="off" value="{email}"{described}>
<label for="password-{aid}">Password</label>
<input type="password" id="password-{aid}" name="password" required autocomplete="new-password" aria-describedby="policy-{aid}">
<button type="submit">Create</button>
"#,
        csrf = esc(&console.policy.csrf),
        key = esc(&t.key),
        email = esc(email),
    );
    if let Some(e) = error {
        let _ = write!(
            body,
            r#"<p class="error" id="err-{aid}" role="alert">{}</p>"#,
            esc(&e.message)
        );
    }
    let _ = write!(body, r#"</form><div class="policy" id="policy-{aid}">"#);
    policy_text(body, policy);
    body.push_str(
        "<p>The user is created confirmed, with its email verified and this password permanent (no invitation is sent).</p></div></section>",
    );
}

/// Set a new permanent password for a user of the pool (outside the live section, so a
/// refresh never drops what is typed).
fn password_form(
    body: &mut String,
    console: &Console,
    t: &AuthTarget,
    view: &PoolView,
    error: Option<&FormError>,
) {
    if view.users.is_empty() {
        return;
    }
    let aid = id(&t.key);
    let _ = write!(
        body,
        r#"<section class="set-password" aria-labelledby="h-pw-{aid}"><h3 id="h-pw-{aid}">Set a new password</h3>
<form method="post" action="/cognito/users/password" class="set-password">
<input type="hidden" name="csrf" value="{csrf}">
<input type="hidden" name="auth" value="{key}">
<label for="pw-user-{aid}">User</label>
<select id="pw-user-{aid}" name="email">"#,
        csrf = esc(&console.policy.csrf),
        key = esc(&t.key),
    );
    super::html::user_options(
        body,
        view.users.iter().map(|u| u.email.as_str()),
        error.map(|e| e.email.as_str()),
    );
    let _ = write!(
        body,
        r#"</select>
<label for="pw-new-{aid}">New password</label>
<input type="password" id="pw-new-{aid}" name="password" required autocomplete="new-password" aria-describedby="policy-{aid}">
<button type="submit">Set password</button>
"#
    );
    if let Some(e) = error {
        let _ = write!(
            body,
            r#"<p class="error" role="alert">{}</p>"#,
            esc(&e.message)
        );
    }
    body.push_str(
        "<p class=\"policy\">Permanent: the user is confirmed with it.</p></form></section>",
    );
}

/// The confirm step of a delete: the same form again with `confirm=yes`.
pub fn confirm_delete(console: &Console, auth: &str, pool: &str, email: &str) -> Response {
    let body = format!(
        r#"<h1>Delete user</h1>
<p>Delete <strong>{email}</strong> from user pool <code>{pool}</code> ({auth})? This cannot be undone.</p>
<form method="post" action="/cognito/users/delete">
<input type="hidden" name="csrf" value="{csrf}">
<input type="hidden" name="auth" value="{auth}">
<input type="hidden" name="email" value="{email}">
<input type="hidden" name="confirm" value="yes">
<button type="submit" class="danger">Delete {email}</button>
<a href="/cognito">Cancel</a>
</form>"#,
        email = esc(email),
        pool = esc(pool),
        auth = esc(auth),
        csrf = esc(&console.policy.csrf),
    );
    Html(page(
        "Delete user",
        "/cognito",
        console.mode.as_str(),
        &body,
    ))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(id: &str, kind: &str, physical: &str) -> ResourceView {
        ResourceView {
            id: id.into(),
            stack: id.split('.').next().unwrap().into(),
            kind: kind.into(),
            physical: physical.into(),
            action: "nochange".into(),
            outcome: None,
            error: None,
        }
    }

    #[test]
    fn console_links_are_region_aware_and_find_the_pool() {
        let all = vec![
            res(
                "AuthStack.Auth.UserPool",
                crate::resource::user_pool::KIND,
                "eu-west-1_abc",
            ),
            res(
                "AuthStack.Auth.UserPoolClient",
                crate::resource::user_pool_client::KIND,
                "client1",
            ),
            res(
                "AuthStack.Auth.TestUser(a@example.com)",
                crate::resource::test_user::KIND,
                "a@example.com",
            ),
            res(
                "StorageStack.Uploads",
                crate::resource::bucket::KIND,
                "dev-notes-uploads",
            ),
        ];
        assert_eq!(
            aws_console_url(&all[0], &all, "eu-west-1").unwrap(),
            "https://eu-west-1.console.aws.amazon.com/cognito/v2/idp/user-pools/eu-west-1_abc/overview?region=eu-west-1"
        );
        assert!(
            aws_console_url(&all[1], &all, "eu-west-1")
                .unwrap()
                .contains("/user-pools/eu-west-1_abc/applications/app-clients/client1/")
        );
        assert!(
            aws_console_url(&all[2], &all, "eu-west-1")
                .unwrap()
                .contains("/user-pools/eu-west-1_abc/user-management/users")
        );
        assert_eq!(
            aws_console_url(&all[3], &all, "eu-west-1").unwrap(),
            "https://s3.console.aws.amazon.com/s3/buckets/dev-notes-uploads?region=eu-west-1"
        );
    }

    #[test]
    fn a_stack_is_as_bad_as_its_worst_resource() {
        let o = Overview::default();
        let mut a = res("S.A", "S3 bucket", "a");
        let b = res("S.B", "S3 bucket", "b");
        assert_eq!(stack_state(&o, "S", &[&a, &b], &[]), "deployed");
        a.action = "update".into();
        assert_eq!(stack_state(&o, "S", &[&a, &b], &[]), "pending");
        a.outcome = Some("done".into());
        assert_eq!(stack_state(&o, "S", &[&a, &b], &[]), "deployed");
        a.outcome = Some("held".into());
        assert_eq!(stack_state(&o, "S", &[&a, &b], &[]), "held");
        a.outcome = Some("failed".into());
        assert_eq!(stack_state(&o, "S", &[&a, &b], &[]), "error");
    }
}
