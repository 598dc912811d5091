//! The Cognito page's forms: a user's row with its Enable/Disable and Delete forms, Create
//! User, Set a new password, and the confirm step of a delete. Each carries the session's
//! CSRF token; a failed form shows its reason (`role="alert"`) and keeps the email, never the
//! password.

use maud::{Markup, html};

use super::{CognitoView, policy_text};
use crate::console::Mode;
use crate::console::pages::layout::{id, page, user_options};
use crate::console::users::{AuthTarget, PoolView};
use crate::resource::test_user::{PasswordPolicy, UserInfo};

/// Which form of an `auth` section failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Create,
    Password,
}

/// What a form's failure shows on the page.
#[derive(Debug, Clone)]
pub struct FormError {
    pub which: Which,
    pub auth: String,
    pub email: String,
    pub message: String,
}

/// The hidden fields every user form carries.
fn hidden(csrf: &str, auth: &str) -> Markup {
    html! {
        input type="hidden" name="csrf" value=(csrf);
        input type="hidden" name="auth" value=(auth);
    }
}

/// One user of the table, with its actions when the console writes.
pub fn user_row(v: &CognitoView<'_>, t: &AuthTarget, u: &UserInfo) -> Markup {
    let status_class = if u.status == "CONFIRMED" {
        "ok"
    } else {
        "warn"
    };
    html! {
        tr data-email=(u.email) {
            th scope="row" {
                (u.email)
                @if t.declared.contains(&u.email) {
                    " " span.badge.declared title="declared in the stack file" { "test user" }
                }
            }
            td { code { (u.sub) } }
            td { span class={ "badge status-" (status_class) } { (u.status) } }
            td { (if u.enabled { "yes" } else { "no" }) }
            td { (u.created.as_deref().unwrap_or("")) }
            @if v.mode.writes() { (actions(v.csrf, &t.key, u)) }
        }
    }
}

fn actions(csrf: &str, key: &str, u: &UserInfo) -> Markup {
    let (enable, label) = if u.enabled {
        ("false", "Disable")
    } else {
        ("true", "Enable")
    };
    html! {
        td.actions {
            form method="post" action="/cognito/users/enable" {
                (hidden(csrf, key))
                input type="hidden" name="email" value=(u.email);
                input type="hidden" name="enabled" value=(enable);
                button.secondary type="submit" aria-label={ (label) " " (u.email) } { (label) }
            }
            form method="post" action="/cognito/users/delete" {
                (hidden(csrf, key))
                input type="hidden" name="email" value=(u.email);
                button.danger type="submit" aria-label={ "Delete " (u.email) } { "Delete" }
            }
        }
    }
}

/// Create User, beside the pool's password policy; after a refusal, its reason and the email.
pub fn create_form(
    csrf: &str,
    t: &AuthTarget,
    policy: &PasswordPolicy,
    error: Option<&FormError>,
) -> Markup {
    let aid = id(&t.key);
    let described = error.map(|_| format!("err-{aid}"));
    html! {
        section.create aria-labelledby={ "h-create-" (aid) } {
            h3 id={ "h-create-" (aid) } { "Create user" }
            form.create-user method="post" action="/cognito/users" {
                (hidden(csrf, &t.key))
                label for={ "email-" (aid) } { "Email" }
                input type="email" id={ "email-" (aid) } name="email" required autocomplete="off"
                    value=(error.map_or("", |e| e.email.as_str())) aria-describedby=[described];
                label for={ "password-" (aid) } { "Password" }
                input type="password" id={ "password-" (aid) } name="password" required
                    autocomplete="new-password" aria-describedby={ "policy-" (aid) };
                button type="submit" { "Create" }
                @if let Some(e) = error {
                    p.error id={ "err-" (aid) } role="alert" { (e.message) }
                }
            }
            div.policy id={ "policy-" (aid) } {
                (policy_text(policy))
                p {
                    "The user is created confirmed, with its email verified and this password "
                    "permanent (no invitation is sent)."
                }
            }
        }
    }
}

/// Set a new permanent password for a user of the pool (outside the live section, so a
/// refresh never drops what is typed).
pub fn password_form(
    csrf: &str,
    t: &AuthTarget,
    view: &PoolView,
    error: Option<&FormError>,
) -> Markup {
    let aid = id(&t.key);
    let emails = view.users.iter().map(|u| u.email.as_str());
    let chosen = error.map(|e| e.email.as_str());
    html! {
        @if !view.users.is_empty() {
            section.set-password aria-labelledby={ "h-pw-" (aid) } {
                h3 id={ "h-pw-" (aid) } { "Set a new password" }
                form.set-password method="post" action="/cognito/users/password" {
                    (hidden(csrf, &t.key))
                    label for={ "pw-user-" (aid) } { "User" }
                    select id={ "pw-user-" (aid) } name="email" {
                        (user_options(emails, chosen))
                    }
                    label for={ "pw-new-" (aid) } { "New password" }
                    input type="password" id={ "pw-new-" (aid) } name="password" required
                        autocomplete="new-password" aria-describedby={ "policy-" (aid) };
                    button type="submit" { "Set password" }
                    @if let Some(e) = error { p.error role="alert" { (e.message) } }
                    p.policy { "Permanent: the user is confirmed with it." }
                }
            }
        }
    }
}

/// The confirm step of a delete: the same form again with `confirm=yes`.
pub fn confirm_delete(mode: Mode, csrf: &str, auth: &str, pool: &str, email: &str) -> Markup {
    let body = html! {
        h1 { "Delete user" }
        p {
            "Delete " strong { (email) } " from user pool " code { (pool) } " (" (auth) ")? "
            "This cannot be undone."
        }
        form method="post" action="/cognito/users/delete" {
            (hidden(csrf, auth))
            input type="hidden" name="email" value=(email);
            input type="hidden" name="confirm" value="yes";
            button.danger type="submit" { "Delete " (email) }
            " "
            a href="/cognito" { "Cancel" }
        }
    };
    page("Delete user", "/cognito", mode.as_str(), body)
}
