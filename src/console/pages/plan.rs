//! The **Plan** page (`GET /plan`): the plan waiting for approval as the terminal shows it,
//! Deploy (the browser's ENTER, `POST /plan/deploy`) in prompt mode with a confirm for each
//! deletion and replacement, what the guard holds back, and the last reconciles.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::activity;
use super::layout::page;
use crate::console::{Activity, Console, Deploy, Mode, Overview, ResourceView};

#[derive(Deserialize, Default)]
pub struct PlanQuery {
    #[serde(default)]
    deploy: Option<String>,
}

/// Everything the Plan page shows.
pub struct PlanView<'a> {
    pub mode: Mode,
    /// The session's CSRF token, for the Deploy form.
    pub csrf: &'a str,
    pub overview: &'a Overview,
    /// The plan waiting for approval, as the terminal shows it.
    pub pending: Option<&'a str>,
    /// What the last Deploy did (`?deploy=`).
    pub deploy: Option<&'a str>,
    /// The last reconciles, newest first.
    pub recent: &'a [Activity],
}

/// `GET /plan`.
pub async fn get(State(console): State<Arc<Console>>, Query(q): Query<PlanQuery>) -> Response {
    let o = console.backend.overview();
    let pending = console.backend.pending_plan();
    let recent = crate::console::events::recent(&console);
    let view = PlanView {
        mode: console.mode,
        csrf: &console.policy.csrf,
        overview: &o,
        pending: pending.as_deref(),
        deploy: q.deploy.as_deref(),
        recent: &recent,
    };
    Html(render(&view).into_string()).into_response()
}

/// What a `?deploy=` outcome says on the page.
fn notice(deploy: Option<&str>) -> Option<&'static str> {
    match deploy? {
        "started" => Some(
            "Deploying: the daemon re-reads AWS and applies the plan if it is still the one \
             shown (otherwise it shows the new one).",
        ),
        "nothing" => Some("No plan waited for approval."),
        "not-by-hand" => Some("Plans are not approved by hand in this approval mode."),
        "unconfirmed" => Some(
            "Not deployed: each deletion and replacement needs its own confirm. Tick each one \
             below, then Deploy.",
        ),
        _ => None,
    }
}

/// The whole page.
pub fn render(v: &PlanView<'_>) -> Markup {
    let o = v.overview;
    let held: Vec<&ResourceView> = o
        .resources
        .iter()
        .filter(|r| r.outcome.as_deref() == Some("held"))
        .collect();
    let body = html! {
        h1 { "Plan" }
        @if let Some(n) = notice(v.deploy) { p.notice role="status" { (n) } }
        section #plan data-live aria-labelledby="h-plan" {
            p.summary { "Approval: " strong { (o.approval) } }
            (pending(v))
            @if !held.is_empty() {
                h2 { "Held back by the guard" }
                ul {
                    @for r in held {
                        li {
                            code { (r.id) } " (" (r.action) ") needs "
                            (if r.action == "delete" { "--allow-delete" }
                             else { "--allow-replace" })
                        }
                    }
                }
            }
        }
        (activity::section(v.recent))
    };
    page("Plan", "/plan", v.mode.as_str(), body)
}

/// The pending plan and, in prompt mode with writes, the Deploy form.
fn pending(v: &PlanView<'_>) -> Markup {
    let o = v.overview;
    html! {
        @match v.pending {
            Some(text) => {
                h2 #h-plan { "Waiting for approval" }
                pre.plan tabindex="0" aria-label="The pending plan" { (text) }
                @if v.mode.writes() && o.approval == "prompt" {
                    (deploy_form(v.csrf, &to_confirm(o)))
                } @else if o.approval == "never" {
                    p { "--approve never: this plan is only reported." }
                }
            }
            None if !o.pending.is_empty() => {
                h2 #h-plan { "Reported, not applied here" }
                ul.pending { @for p in &o.pending { li { code { (p) } } } }
                p { "Another daemon holds the lease and applies." }
            }
            None => {
                h2 #h-plan { "Nothing waits for approval" }
                p { "No plan waits: AWS matches the stack files, as far as the guard allows." }
            }
        }
    }
}

fn deploy_form(csrf: &str, destructive: &[&ResourceView]) -> Markup {
    html! {
        form.deploy method="post" action="/plan/deploy" {
            input type="hidden" name="csrf" value=(csrf);
            @if !destructive.is_empty() {
                fieldset.confirm {
                    legend { "Each deletion and replacement needs its own confirm" }
                    @for (n, r) in destructive.iter().enumerate() {
                        @let verb = if r.action == "delete" {
                            "delete"
                        } else {
                            "replace (delete and recreate)"
                        };
                        p {
                            input type="checkbox" name="confirm" id={ "confirm-" (n) } value=(r.id);
                            " "
                            label for={ "confirm-" (n) } {
                                "Yes, " (verb) " " code { (r.id) }
                                " (" (r.kind) " " (r.physical) ")"
                            }
                        }
                    }
                }
            }
            button type="submit" { "Deploy" }
            " "
            span.hint { "as ENTER in the terminal" }
        }
    }
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
    let confirmed: BTreeSet<&str> = fields
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
        return see_other("/plan?deploy=unconfirmed".to_string());
    }
    let what = match console.backend.deploy() {
        Deploy::Started => {
            tracing::info!("console: the pending plan was approved (Deploy)");
            "started"
        }
        Deploy::NothingPending => "nothing",
        Deploy::NotByHand => "not-by-hand",
    };
    see_other(format!("/plan?deploy={what}"))
}

fn see_other(location: String) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deploy_asks_a_confirm_for_each_replacement_in_prompt_mode() {
        let o = Overview {
            approval: "prompt".into(),
            resources: vec![ResourceView {
                id: "AuthStack.Auth.UserPool".into(),
                stack: "AuthStack".into(),
                kind: "Cognito user pool".into(),
                physical: "us-east-1_x".into(),
                action: "replace".into(),
                outcome: None,
                error: None,
            }],
            ..Overview::default()
        };
        let view = PlanView {
            mode: Mode::On,
            csrf: "c5rf",
            overview: &o,
            pending: Some("~ AuthStack.Auth.UserPool"),
            deploy: Some("unconfirmed"),
            recent: &[],
        };
        let html = render(&view).into_string();
        for part in [
            r#"<p class="notice" role="status">Not deployed: each deletion"#,
            r#"<pre class="plan" tabindex="0" aria-label="The pending plan">~ AuthStack.Auth.UserPool</pre>"#,
            r#"<input type="hidden" name="csrf" value="c5rf">"#,
            r#"<input type="checkbox" name="confirm" id="confirm-0" value="AuthStack.Auth.UserPool"> <label for="confirm-0">Yes, replace (delete and recreate) <code>AuthStack.Auth.UserPool</code> (Cognito user pool us-east-1_x)</label>"#,
            r#"<button type="submit">Deploy</button> <span class="hint">"#,
        ] {
            assert!(html.contains(part), "{part}\n{html}");
        }
        let read_only = render(&PlanView {
            mode: Mode::ReadOnly,
            ..view
        })
        .into_string();
        assert!(!read_only.contains("<form"), "{read_only}");
    }
}
