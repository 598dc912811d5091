//! The **Stacks** page (`GET /`): the daemon's summary, each stack's state, its resources with
//! a link into the AWS web console, its outputs with copy buttons, and the last reconciles.
//! The `data-live` sections are refreshed in place by `console.js`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};

use super::activity;
use super::aws_links::aws_console_url;
use super::layout::{id, page, table_head};
use crate::console::{Activity, Console, Mode, Overview, ResourceView};

/// One stack as the page shows it.
pub struct StackEntry<'a> {
    pub name: String,
    /// Its full name (`dev-notes-AuthStack`), under which its outputs are kept.
    pub full: String,
    /// False when the files declare no outputs for it.
    pub declares: bool,
    pub outputs: Option<&'a BTreeMap<String, String>>,
}

/// Everything the Stacks page shows.
pub struct StacksView<'a> {
    pub mode: Mode,
    pub overview: &'a Overview,
    pub stacks: Vec<StackEntry<'a>>,
    /// The config's region, for the AWS console links.
    pub region: Option<&'a str>,
    /// The last reconciles, newest first.
    pub recent: &'a [Activity],
}

/// `GET /`: the Stacks page.
pub async fn get(State(console): State<Arc<Console>>) -> Response {
    let o = console.backend.overview();
    let config = console.app.origin.load(console.app.stage.as_deref()).ok();
    let outputs = crate::outputs::read(&console.app.state_dir).unwrap_or_default();
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
    let stacks = names
        .into_iter()
        .map(|name| {
            let full = config
                .as_ref()
                .map_or_else(|| name.clone(), |c| c.stack_full_name(&name));
            let declares = config
                .as_ref()
                .and_then(|c| c.stack(&name))
                .is_none_or(|s| !s.outputs.is_empty());
            let outputs = outputs.get(&full);
            StackEntry {
                name,
                full,
                declares,
                outputs,
            }
        })
        .collect();
    let recent = crate::console::events::recent(&console);
    let view = StacksView {
        mode: console.mode,
        overview: &o,
        stacks,
        region: config.as_ref().map(|c| c.region.as_str()),
        recent: &recent,
    };
    Html(render(&view).into_string()).into_response()
}

/// The whole page.
pub fn render(v: &StacksView<'_>) -> Markup {
    let body = html! {
        h1 { "Stacks" }
        (summary(v.overview))
        div #stacks data-live {
            @if v.stacks.is_empty() {
                p { "No stack read yet: the first reconcile is still running." }
            }
            @for s in &v.stacks { (stack(v, s)) }
        }
        (activity::section(v.recent))
    };
    page("Stacks", "/", v.mode.as_str(), body)
}

fn summary(o: &Overview) -> Markup {
    let leader = match o.leader {
        Some(true) => "leader",
        Some(false) => "follower (another daemon applies)",
        None => "takes no lease",
    };
    html! {
        div #summary data-live {
            p.summary {
                "Approval: " strong { (o.approval) } " · "
                (if o.ready { "ready" } else { "not ready yet" }) " · " (leader)
            }
            @if !o.config_errors.is_empty() {
                section.problems aria-label="Problems in the stack files" {
                    h2 { "The stack files are invalid" }
                    ul { @for e in &o.config_errors { li { code { (e) } } } }
                    p { "AWS is left as it is until they are fixed." }
                }
            }
            @if let Some(e) = &o.last_error {
                p.error { "Last error:" }
                pre.error { (e) }
            }
            @if !o.pending.is_empty() {
                p { "Waiting for approval:" }
                ul.pending { @for p in &o.pending { li { code { (p) } } } }
            }
        }
    }
}

fn stack(v: &StacksView<'_>, s: &StackEntry<'_>) -> Markup {
    let o = v.overview;
    let resources: Vec<&ResourceView> = o.resources.iter().filter(|r| r.stack == s.name).collect();
    let state = stack_state(o, &s.name, &resources, v.recent);
    let sid = id(&s.name);
    let error = o.stacks.get(&s.name).and_then(|st| st.last_error.as_ref());
    html! {
        section.stack id={ "stack-" (sid) } aria-labelledby={ "h-" (sid) } {
            h2 id={ "h-" (sid) } {
                (s.name) " "
                span class={ "badge state-" (state) } data-state=(state) { (state) }
            }
            p.full { (s.full) }
            @if let Some(e) = error { pre.error { (e) } }
            (resource_table(&s.name, &resources, &o.resources, v.region))
            (outputs_list(&s.name, s.declares, s.outputs))
        }
    }
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
    recent: &[Activity],
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
    stack: &str,
    resources: &[&ResourceView],
    all: &[ResourceView],
    region: Option<&str>,
) -> Markup {
    html! {
        table.resources {
            (table_head(
                &format!("Resources of {stack}"),
                ["Resource", "Kind", "Physical id", "State", "AWS console"],
            ))
            tbody { @for r in resources { (resource_row(stack, r, all, region)) } }
        }
    }
}

fn resource_row(
    stack: &str,
    r: &ResourceView,
    all: &[ResourceView],
    region: Option<&str>,
) -> Markup {
    let name = r.id.strip_prefix(&format!("{stack}.")).unwrap_or(&r.id);
    let state = resource_state(r);
    let detail = match (r.action.as_str(), r.outcome.as_deref()) {
        ("nochange", _) => String::new(),
        (a, Some(o)) => format!(" ({a}: {o})"),
        (a, None) => format!(" ({a})"),
    };
    let link = match region {
        Some(region) if state != "pending" || r.action != "create" => {
            aws_console_url(r, all, region)
        }
        _ => None,
    };
    html! {
        tr data-resource=(r.id) {
            th scope="row" { (name) }
            td { (r.kind) }
            td { code { (r.physical) } }
            td { span class={ "badge state-" (state) } { (state) } (detail) }
            td {
                @if let Some(u) = link {
                    a href=(u) target="_blank" rel="noopener noreferrer"
                        aria-label={ "Open " (r.id) " in the AWS console" } { "Open" }
                }
            }
        }
        @if let Some(e) = &r.error {
            tr.error { td colspan="5" { pre { (e) } } }
        }
    }
}

fn outputs_list(stack: &str, declares: bool, outputs: Option<&BTreeMap<String, String>>) -> Markup {
    let outputs = outputs.filter(|o| !o.is_empty());
    html! {
        h3 { "Outputs" }
        @if !declares {
            p.none { "This stack declares no outputs." }
        } @else if let Some(outputs) = outputs {
            table.outputs {
                caption { "Outputs of " (stack) }
                thead { tr {
                    th scope="col" { "Output" }
                    th scope="col" { "Value" }
                    th scope="col" { span.visually-hidden { "Copy" } }
                } }
                tbody {
                    @for (k, v) in outputs {
                        @let oid = format!("out-{}-{}", id(stack), id(k));
                        tr {
                            th scope="row" { (k) }
                            td { code id=(oid) { (v) } }
                            td {
                                button.copy type="button" data-copy=(oid)
                                    aria-label={ "Copy " (k) } { "Copy" }
                            }
                        }
                    }
                }
            }
        } @else {
            p.none { "None deployed yet." }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(id: &str) -> ResourceView {
        ResourceView {
            id: id.into(),
            stack: id.split('.').next().unwrap().into(),
            kind: "S3 bucket".into(),
            physical: id.to_lowercase(),
            action: "nochange".into(),
            outcome: None,
            error: None,
        }
    }

    #[test]
    fn a_stack_is_as_bad_as_its_worst_resource() {
        let o = Overview::default();
        let mut a = res("S.A");
        let b = res("S.B");
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

    #[test]
    fn the_page_shows_each_stack_its_resources_and_outputs() {
        let o = Overview {
            approval: "auto".into(),
            ready: true,
            resources: vec![res("AuthStack.Pool")],
            ..Overview::default()
        };
        let outputs = BTreeMap::from([("UserPoolId".to_string(), "us-east-1_x".to_string())]);
        let view = StacksView {
            mode: Mode::On,
            overview: &o,
            stacks: vec![StackEntry {
                name: "AuthStack".into(),
                full: "dev-notes-AuthStack".into(),
                declares: true,
                outputs: Some(&outputs),
            }],
            region: Some("us-east-1"),
            recent: &[],
        };
        let html = render(&view).into_string();
        for part in [
            r#"<section class="stack" id="stack-AuthStack" aria-labelledby="h-AuthStack">"#,
            r#"<h2 id="h-AuthStack">AuthStack <span class="badge state-deployed" data-state="deployed">deployed</span></h2>"#,
            r#"<tr data-resource="AuthStack.Pool"><th scope="row">Pool</th>"#,
            r#"<code id="out-AuthStack-UserPoolId">us-east-1_x</code>"#,
            r#"<button class="copy" type="button" data-copy="out-AuthStack-UserPoolId" aria-label="Copy UserPoolId">Copy</button>"#,
            r#"<div id="summary" data-live>"#,
            r#"<section id="activity" data-live aria-labelledby="h-activity">"#,
        ] {
            assert!(html.contains(part), "{part}\n{html}");
        }
    }
}
