//! Escaping by construction, checked: every page rendered with markup in every value a user,
//! AWS or the files can put there (stack and resource names, physical ids, outputs, user
//! emails, error messages, plan text, report rows). Each value carries its own numbered
//! payload, so a value rendered raw is named by the failure, and a value not shown at all
//! fails too (its escaped form must be there).

use std::collections::BTreeMap;

use crate::aws::AwsError;
use crate::console::users::{AuthTarget, PoolView};
use crate::console::{Activity, Mode, Overview, ResourceView, StackView};
use crate::error::Error;
use crate::resource::test_user::{PasswordPolicy, UserInfo};
use crate::verify::{Report, Row, SignedIn, Status};

use super::access::{AccessTarget, AccessView, Outcome};
use super::cognito::forms::{FormError, Which, confirm_delete};
use super::cognito::{AuthView, CognitoQuery, CognitoView};
use super::plan::PlanView;
use super::stacks::{StackEntry, StacksView};

/// Hands out payloads, each numbered, alternating a script element and an attribute break-out.
#[derive(Default)]
struct Marks(usize);

impl Marks {
    fn next(&mut self) -> String {
        self.0 += 1;
        raw(self.0)
    }
}

fn raw(n: usize) -> String {
    if n % 2 == 1 {
        format!("<script>alert({n})</script>")
    } else {
        format!(r#""><img src=x onerror=alert({n})>"#)
    }
}

fn escaped(n: usize) -> String {
    raw(n)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// No payload is there raw, and each one handed out is there escaped.
fn assert_escaped(page: &str, marks: &Marks) {
    assert!(marks.0 > 0);
    for n in 1..=marks.0 {
        assert!(
            !page.contains(&raw(n)),
            "value {n} is rendered raw:\n{page}"
        );
        assert!(
            page.contains(&escaped(n)),
            "value {n} is not shown:\n{page}"
        );
    }
    for raw_tag in ["<script>", "<img", "\"><img"] {
        assert!(!page.contains(raw_tag), "{raw_tag} in\n{page}");
    }
}

fn activity(m: &mut Marks) -> Activity {
    Activity {
        seq: 7,
        stack: m.next(),
        finished_at: m.next(),
        result: m.next(),
        duration_ms: 12,
        drift: true,
        changes: vec![m.next(), m.next()],
        error: Some(m.next()),
    }
}

#[test]
fn the_stacks_page_escapes_every_value() {
    let mut m = Marks::default();
    let stack = m.next();
    // A bucket, linked into the AWS console by its physical id.
    let linked = ResourceView {
        id: format!("{stack}.{}", m.next()),
        stack: stack.clone(),
        kind: crate::resource::bucket::KIND.into(),
        physical: m.next(),
        action: "update".into(),
        outcome: Some(m.next()),
        error: None,
    };
    let failed = ResourceView {
        id: format!("{stack}.{}", m.next()),
        stack: stack.clone(),
        kind: m.next(),
        physical: m.next(),
        action: m.next(),
        outcome: None,
        error: Some(m.next()),
    };
    let o = Overview {
        approval: m.next(),
        ready: true,
        leader: Some(true),
        last_error: Some(m.next()),
        config_errors: vec![m.next()],
        pending: vec![m.next()],
        resources: vec![linked, failed],
        stacks: BTreeMap::from([(
            stack.clone(),
            StackView {
                reconciles: 1,
                last_result: Some("error".into()),
                last_error: Some(m.next()),
            },
        )]),
    };
    let outputs = BTreeMap::from([(m.next(), m.next())]);
    let recent = [activity(&mut m)];
    let full = m.next();
    let view = StacksView {
        mode: Mode::On,
        overview: &o,
        stacks: vec![StackEntry {
            name: stack,
            full,
            declares: true,
            outputs: Some(&outputs),
        }],
        region: Some("eu-west-1"),
        recent: &recent,
    };
    let page = super::stacks::render(&view).into_string();
    assert_escaped(&page, &m);
    // The physical id went into the AWS console link percent-encoded.
    assert!(
        page.contains("/s3/buckets/%3Cscript%3Ealert%283%29%3C%2Fscript%3E?region=eu-west-1"),
        "{page}"
    );
}

#[test]
fn the_plan_page_escapes_every_value() {
    let mut m = Marks::default();
    let held = ResourceView {
        id: m.next(),
        stack: "S".into(),
        kind: "S3 bucket".into(),
        physical: "b".into(),
        action: m.next(),
        outcome: Some("held".into()),
        error: None,
    };
    let replaced = ResourceView {
        id: m.next(),
        stack: "S".into(),
        kind: m.next(),
        physical: m.next(),
        action: "replace".into(),
        outcome: None,
        error: None,
    };
    let o = Overview {
        approval: "prompt".into(),
        resources: vec![held, replaced],
        ..Overview::default()
    };
    let recent = [activity(&mut m)];
    let (pending, csrf) = (m.next(), m.next());
    let not_a_notice = raw(999);
    let view = PlanView {
        mode: Mode::On,
        csrf: &csrf,
        overview: &o,
        pending: Some(&pending),
        deploy: Some(&not_a_notice),
        recent: &recent,
    };
    let page = super::plan::render(&view).into_string();
    assert_escaped(&page, &m);
    assert!(page.contains(r#"<fieldset class="confirm">"#), "{page}");

    // Reported by another daemon: the pending lines and the approval mode.
    let mut m = Marks::default();
    let o = Overview {
        approval: m.next(),
        pending: vec![m.next(), m.next()],
        ..Overview::default()
    };
    let view = PlanView {
        mode: Mode::ReadOnly,
        csrf: "c",
        overview: &o,
        pending: None,
        deploy: None,
        recent: &[],
    };
    assert_escaped(&super::plan::render(&view).into_string(), &m);
}

fn user(m: &mut Marks) -> UserInfo {
    UserInfo {
        username: "not-shown".into(),
        email: m.next(),
        status: m.next(),
        enabled: true,
        email_verified: true,
        sub: m.next(),
        created: Some(m.next()),
    }
}

fn target(m: &mut Marks, pool: Option<String>) -> AuthTarget {
    AuthTarget {
        key: m.next(),
        stack: "S".into(),
        resource: "R".into(),
        pool,
        declared: vec![],
    }
}

fn pool_view(users: Vec<UserInfo>) -> PoolView {
    PoolView {
        users,
        policy: PasswordPolicy {
            min_length: Some(8),
            require_lowercase: true,
            require_uppercase: true,
            require_numbers: true,
            require_symbols: true,
        },
    }
}

#[test]
fn the_cognito_page_escapes_every_value() {
    let mut m = Marks::default();
    let query = CognitoQuery {
        page: None,
        created: Some(m.next()),
        deleted: Some(m.next()),
        enabled: Some(m.next()),
        disabled: Some(m.next()),
        reset: Some(m.next()),
    };
    let pool = m.next();
    let mut t = target(&mut m, Some(pool));
    let users = vec![user(&mut m), user(&mut m)];
    t.declared = vec![users[0].email.clone()];
    let pool = m.next();
    let broken = target(&mut m, Some(pool));
    let refused = AwsError::refused("listing", "Cognito user pool", m.next(), m.next());
    let error = FormError {
        which: Which::Create,
        auth: t.key.clone(),
        email: m.next(),
        message: m.next(),
    };
    let csrf = m.next();
    let view = CognitoView {
        mode: Mode::On,
        csrf: &csrf,
        query: &query,
        auths: Ok(vec![
            AuthView {
                target: t,
                pool: Some(Ok(pool_view(users))),
            },
            AuthView {
                target: broken,
                pool: Some(Err(refused)),
            },
        ]),
        error: Some(&error),
    };
    let page = super::cognito::render(&view).into_string();
    assert_escaped(&page, &m);
    assert!(page.contains(r#"<p class="error" id="err-"#), "{page}");

    // Read-only: no forms, nothing raw.
    let read_only = super::cognito::render(&CognitoView {
        mode: Mode::ReadOnly,
        error: None,
        ..view
    })
    .into_string();
    assert!(!read_only.contains("<form"), "{read_only}");
    assert!(!read_only.contains("<script>") && !read_only.contains("<img"));
}

#[test]
fn the_cognito_page_escapes_the_password_form_and_a_read_error() {
    // The Set a new password form: its users as options, the one chosen, and the reason.
    let mut m = Marks::default();
    let pool = m.next();
    let t = target(&mut m, Some(pool));
    let users = vec![user(&mut m), user(&mut m)];
    let error = FormError {
        which: Which::Password,
        auth: t.key.clone(),
        email: users[1].email.clone(),
        message: m.next(),
    };
    let page = super::cognito::render(&CognitoView {
        mode: Mode::On,
        csrf: "c",
        query: &CognitoQuery::default(),
        auths: Ok(vec![AuthView {
            target: t,
            pool: Some(Ok(pool_view(users))),
        }]),
        error: Some(&error),
    })
    .into_string();
    assert_escaped(&page, &m);
    // The second user's email (value 7) is the one chosen.
    assert!(
        page.contains(&format!(r#"value="{}" selected>"#, escaped(7))),
        "{page}"
    );

    let mut m = Marks::default();
    let error = FormError {
        which: Which::Create,
        auth: "AuthStack.Auth".into(),
        email: "a@example.com".into(),
        message: m.next(),
    };
    let page = super::cognito::render(&CognitoView {
        mode: Mode::On,
        csrf: "c",
        query: &CognitoQuery::default(),
        auths: Err(Error::Refused(m.next())),
        error: Some(&error),
    })
    .into_string();
    assert_escaped(&page, &m);
}

#[test]
fn the_delete_confirm_page_escapes_every_value() {
    let mut m = Marks::default();
    let (csrf, auth, pool, email) = (m.next(), m.next(), m.next(), m.next());
    let page = confirm_delete(Mode::On, &csrf, &auth, &pool, &email).into_string();
    assert_escaped(&page, &m);
}

#[test]
fn the_access_page_escapes_every_value() {
    let mut m = Marks::default();
    let signed_in = target(&mut m, Some("pool".into()));
    let undeployed = target(&mut m, None);
    // The page shows only each user's email.
    let users: Vec<UserInfo> = (0..2)
        .map(|_| UserInfo {
            email: m.next(),
            ..user(&mut Marks::default())
        })
        .collect();
    let outcome = Outcome {
        auth: signed_in.key.clone(),
        email: users[0].email.clone(),
        result: Ok(SignedIn {
            identity_id: m.next(),
            expires: Some(m.next()),
            report: Report {
                rows: vec![Row {
                    status: Status::Fail,
                    check: m.next(),
                    expected: m.next(),
                    actual: m.next(),
                }],
            },
        }),
    };
    let csrf = m.next();
    let page = super::access::render(&AccessView {
        mode: Mode::On,
        csrf: &csrf,
        auths: Ok(vec![
            AccessTarget {
                target: signed_in,
                users,
            },
            AccessTarget {
                target: undeployed,
                users: vec![],
            },
        ]),
        outcome: Some(&outcome),
    })
    .into_string();
    assert_escaped(&page, &m);
    assert!(page.contains(r#"<code id="identity-id">"#), "{page}");
}

#[test]
fn the_access_page_escapes_a_refusal_and_a_read_error() {
    // Cognito's refusal.
    let mut m = Marks::default();
    let refused = target(&mut m, Some("pool".into()));
    let outcome = Outcome {
        auth: refused.key.clone(),
        email: "a@example.com".into(),
        result: Err(m.next()),
    };
    let page = super::access::render(&AccessView {
        mode: Mode::On,
        csrf: "c",
        auths: Ok(vec![AccessTarget {
            target: refused,
            users: vec![],
        }]),
        outcome: Some(&outcome),
    })
    .into_string();
    assert_escaped(&page, &m);
    assert!(page.contains(r#"<p class="error" role="alert">"#), "{page}");

    // The pools could not be read.
    let mut m = Marks::default();
    let page = super::access::render(&AccessView {
        mode: Mode::On,
        csrf: "c",
        auths: Err(Error::Refused(m.next())),
        outcome: None,
    })
    .into_string();
    assert_escaped(&page, &m);
}
