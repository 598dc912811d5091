//! The frame every page shares: the head (the console's own stylesheet and script, served
//! from `/assets/`), the navigation with the current page marked, the mode badge and the
//! `#live` region that `console.js` speaks through; and the small pieces several pages use
//! (`id` fragments, a user `<select>`'s options, a table's caption and column headers).

use maud::{DOCTYPE, Markup, html};

/// A string usable as (part of) an `id` attribute: ASCII letters, digits, `-` and `_`.
pub fn id(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The pages of the navigation: (path, title).
const PAGES: &[(&str, &str)] = &[
    ("/", "Stacks"),
    ("/plan", "Plan"),
    ("/cognito", "Cognito"),
    ("/access", "Access"),
];

/// A table's caption and its row of column headers.
pub fn table_head<'a>(caption: &str, columns: impl IntoIterator<Item = &'a str>) -> Markup {
    html! {
        caption { (caption) }
        thead { tr { @for c in columns { th scope="col" { (c) } } } }
    }
}

/// The `<option>`s of a user `<select>`, the user `selected` chosen.
pub fn user_options<'a>(
    emails: impl IntoIterator<Item = &'a str>,
    selected: Option<&str>,
) -> Markup {
    html! {
        @for e in emails {
            option value=(e) selected[selected == Some(e)] { (e) }
        }
    }
}

/// A whole page: `title`, the page's `path` (marked current in the navigation), the console
/// mode shown in the header, and the body.
pub fn page(title: &str, path: &str, mode: &str, body: Markup) -> Markup {
    html! {
        // Reviewed raw HTML: maud's `DOCTYPE` is a `PreEscaped` constant, `<!DOCTYPE html>`,
        // fixed text. It is the only raw HTML the console renders.
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · stackwatch" }
                link rel="stylesheet" href="/assets/console.css";
                script src="/assets/console.js" defer {}
            }
            body data-mode=(mode) data-path=(path) {
                a.skip href="#content" { "Skip to content" }
                header {
                    span.brand { "stackwatch" }
                    nav aria-label="Pages" {
                        ul {
                            @for (p, t) in PAGES {
                                @let current = (*p == path).then_some("page");
                                li { a href=(p) aria-current=[current] { (t) } }
                            }
                        }
                    }
                    span.mode.badge title="console mode" { (mode) }
                    span #live role="status" aria-live="polite" {}
                }
                main #content tabindex="-1" { (body) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_keep_only_safe_characters() {
        assert_eq!(id("AuthStack.Auth"), "AuthStack-Auth");
        assert_eq!(id(r#"a"b<c>"#), "a-b-c-");
    }

    #[test]
    fn the_page_marks_the_current_one_and_escapes_the_title() {
        let p = page("<b>", "/cognito", "read-only", html! { p { "x" } }).into_string();
        assert!(p.contains(r#"<a href="/cognito" aria-current="page">Cognito</a>"#));
        assert!(p.contains(r#"<a href="/plan">Plan</a>"#));
        assert!(p.contains("<title>&lt;b&gt; · stackwatch</title>"));
        assert!(p.contains(r#"data-mode="read-only""#));
        assert!(p.contains(r#"<span id="live" role="status" aria-live="polite"></span>"#));
        assert!(p.contains(r#"<main id="content" tabindex="-1"><p>x</p></main>"#));
    }

    #[test]
    fn the_chosen_user_is_selected() {
        let o = user_options(["a@x", "b@x"], Some("b@x")).into_string();
        assert_eq!(
            o,
            r#"<option value="a@x">a@x</option><option value="b@x" selected>b@x</option>"#
        );
    }
}
