//! HTML by hand: one escape function for every value that goes into a page, the page frame
//! (navigation, the embedded stylesheet and script), and the security headers every console
//! answer carries (a strict Content-Security-Policy: only the console's own script and style).

use std::fmt::Write;

use axum::http::{HeaderMap, HeaderValue, header};

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

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

/// The `<option>`s of a user `<select>`, the user `selected` chosen.
pub fn user_options<'a>(
    body: &mut String,
    emails: impl IntoIterator<Item = &'a str>,
    selected: Option<&str>,
) {
    for e in emails {
        let chosen = if selected == Some(e) { " selected" } else { "" };
        let _ = write!(
            body,
            r#"<option value="{e}"{chosen}>{e}</option>"#,
            e = esc(e)
        );
    }
}

/// A whole page: `title`, the page's `path` (marked current in the navigation), the console
/// mode shown in the header, and the body.
pub fn page(title: &str, path: &str, mode: &str, body: &str) -> String {
    let mut nav = String::new();
    for (p, t) in PAGES {
        let current = if *p == path {
            r#" aria-current="page""#
        } else {
            ""
        };
        let _ = write!(nav, r#"<li><a href="{p}"{current}>{t}</a></li>"#);
    }
    format!(
        r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · stackwatch</title>
<link rel="stylesheet" href="/assets/console.css">
<script src="/assets/console.js" defer></script>
</head>
<body data-mode="{mode}" data-path="{path}">
<a class="skip" href="#content">Skip to content</a>
<header>
<span class="brand">stackwatch</span>
<nav aria-label="Pages"><ul>{nav}</ul></nav>
<span class="mode badge" title="console mode">{mode}</span>
<span id="live" role="status" aria-live="polite"></span>
</header>
<main id="content" tabindex="-1">
{body}
</main>
</body>
</html>
"##,
        title = esc(title),
        mode = esc(mode),
        path = esc(path),
    )
}

/// Headers every console answer carries: no framing, no caching, only our own assets.
pub fn harden(h: &mut HeaderMap) {
    let set = |h: &mut HeaderMap, k, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
         img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "same-origin");
    set(h, header::CACHE_CONTROL, "no-store");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc(r#"<script>alert("x&'y")</script>"#),
            "&lt;script&gt;alert(&quot;x&amp;&#39;y&quot;)&lt;/script&gt;"
        );
        assert_eq!(id("AuthStack.Auth"), "AuthStack-Auth");
    }

    #[test]
    fn the_page_marks_the_current_one_and_escapes_the_title() {
        let p = page("<b>", "/cognito", "read-only", "<p>x</p>");
        assert!(p.contains(r#"<a href="/cognito" aria-current="page">Cognito</a>"#));
        assert!(p.contains("<title>&lt;b&gt; · stackwatch</title>"));
        assert!(p.contains(r#"data-mode="read-only""#));
    }
}
