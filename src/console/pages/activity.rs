//! The "Recent reconciles" section the Stacks and Plan pages end with: the last finished
//! reconciles, newest first, each with its drift mark, what was not in sync and its error.
//! It is `data-live`: `console.js` swaps it in place when `/events` says one finished.

use maud::{Markup, html};

use super::layout::table_head;
use crate::console::Activity;

/// The section, from the remembered reconciles (newest first).
pub fn section(recent: &[Activity]) -> Markup {
    html! {
        section #activity data-live aria-labelledby="h-activity" {
            h2 #h-activity { "Recent reconciles" }
            @if recent.is_empty() {
                p { "None since this page's daemon started serving it." }
            } @else {
                table {
                    (table_head(
                        "The last reconciles, newest first",
                        ["Finished", "Key", "Result", "Duration", "Not in sync"],
                    ))
                    tbody { @for a in recent { (row(a)) } }
                }
            }
        }
    }
}

fn row(a: &Activity) -> Markup {
    html! {
        tr data-seq=(a.seq) {
            td { (a.finished_at) }
            td { (a.stack) }
            td {
                (a.result)
                @if a.drift { " " span.badge.state-drift { "drift" } }
            }
            td { (a.duration_ms) " ms" }
            td { ul {
                @for c in &a.changes { li { code { (c) } } }
                @if let Some(e) = &a.error { li.error { (e) } }
            } }
        }
    }
}
