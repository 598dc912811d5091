//! What a stack file declares as `kind: auth`: Cognito sign-in for an app, the guide's
//! AuthStack in one resource. It expands to six primitive kinds, each with its own file: the
//! user pool, its client, the identity pool federating it, the authenticated role (and the
//! guests' role when allowed), the identity pool's role attachment, and the test users of
//! this stage.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::declare::{Check, ConfigKind, Declared, Expand, NodeDef};
use super::role::{Effect, IamSettings, RoleIam, Statement};
use super::test_user::Password;
use super::{
    Def, identity_pool, identity_pool_roles, role, test_user, user_pool, user_pool_client,
};
use crate::source::{Diagnostic, Loc};

crate::kind_fields! {
    /// `kind: auth`: Cognito sign-in: user pool, client, identity pool and IAM roles.
    pub struct Fields {
        /// How users sign in: `[email]`, `[phone]`, `[email, phone]` or `[username]`.
        /// Cannot change in place: a change replaces the user pool.
        #[schemars(with = "Option<Vec<String>>")]
        login: Option<Spanned<Vec<Spanned<String>>>>,
        /// Allow unauthenticated (guest) identities in the identity pool. Default false.
        #[schemars(with = "Option<bool>")]
        allow_unauthenticated: Option<Spanned<bool>>,
        /// Permissions of signed-in (and guest) identities.
        #[schemars(with = "Option<Permissions>")]
        permissions: Option<Spanned<Permissions>>,
        /// Test users, created confirmed with a permanent password on apply. Only in the
        /// stages each lists (default `[dev]`); other stages get none.
        #[schemars(with = "Option<Vec<TestUserFields>>")]
        users: Option<Spanned<Vec<TestUserFields>>>,
        /// The permissions boundary and path of its roles (overrides `defaults.iam`).
        #[schemars(with = "Option<IamSettings>")]
        iam: Option<Spanned<IamSettings>>,
    }
}

/// The permissions of an `auth` resource's identities.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Permissions {
    /// Statements for signed-in users.
    #[serde(default)]
    pub authenticated: Vec<StatementFields>,
    /// Statements for guest identities (needs `allowUnauthenticated: true`).
    #[serde(default)]
    pub unauthenticated: Vec<StatementFields>,
}

/// One IAM policy statement. `${Stack.Resource.attr}` references are resolved;
/// IAM policy variables such as `${cognito-identity.amazonaws.com:sub}` are kept literally.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "Statement")]
pub struct StatementFields {
    /// `allow` (default) or `deny`.
    #[serde(default)]
    pub effect: Effect,
    /// IAM actions such as `s3:GetObject` or `execute-api:Invoke`.
    #[schemars(with = "Vec<String>")]
    pub actions: Vec<Spanned<String>>,
    /// Resource ARNs; references and policy variables allowed.
    #[schemars(with = "Vec<String>")]
    pub resources: Vec<Spanned<String>>,
}

/// A test user. The password is never written in the files: it is read from the environment
/// variable `passwordEnv` when planning, and never shown.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "TestUser")]
pub struct TestUserFields {
    /// The user's email address, which they sign in with.
    #[schemars(with = "String")]
    pub email: Spanned<String>,
    /// The environment variable that holds the password, such as `STACKWATCH_TEST_PASSWORD`.
    #[schemars(with = "String", regex(pattern = r"^[A-Za-z_][A-Za-z0-9_]*$"))]
    pub password_env: Spanned<String>,
    /// The stages where this user exists. Default `[dev]`.
    #[schemars(with = "Option<Vec<String>>")]
    pub stages: Option<Vec<Spanned<String>>>,
}

/// The checked `auth`.
#[derive(Debug, Clone)]
pub struct Auth {
    pub login: Vec<String>,
    pub allow_unauthenticated: bool,
    pub authenticated: Vec<Statement>,
    pub unauthenticated: Vec<Statement>,
    /// Test users, in every stage they were declared for (filtered by stage on expansion).
    pub users: Vec<TestUser>,
    /// The boundary and path its roles carry.
    pub iam: RoleIam,
}

/// A declared test user: who, where the password comes from, and in which stages.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub email: String,
    /// The environment variable holding the password (never the password).
    pub password_env: String,
    /// Where `passwordEnv` was written, for the error when the variable is not set.
    pub loc: Loc,
    /// The stages this user exists in; `[dev]` unless written.
    pub stages: Vec<String>,
}

impl TestUser {
    pub fn in_stage(&self, stage: &str) -> bool {
        self.stages.iter().any(|s| s == stage)
    }
}

/// Test users exist only in these stages unless a `users` entry lists others.
pub const DEFAULT_TEST_USER_STAGES: &[&str] = &["dev"];

/// The `auth` kind (it has no AWS resource of its own; its parts do).
pub struct AuthKind;

impl AuthKind {
    /// An `auth` without its test users, for commands that never create them (so their
    /// password variables need not be set); `None` for another kind.
    pub fn without_test_users(d: &Declared) -> Option<Declared> {
        let auth = d.get::<AuthKind>()?;
        Some(Declared::new::<AuthKind>(Auth {
            users: Vec::new(),
            ..auth.clone()
        }))
    }
}

impl ConfigKind for AuthKind {
    const NAME: &'static str = "auth";
    const ABOUT: &'static str = "Cognito sign-in: user pool, client, identity pool and IAM roles.";
    const ATTRIBUTES: &'static [&'static str] = &[
        "userPoolId",
        "userPoolArn",
        "userPoolClientId",
        "identityPoolId",
        "authenticatedRoleArn",
        "unauthenticatedRoleArn",
    ];
    const HOLDS_DATA: bool = true;
    const ADOPT_KEYS: Option<&'static [&'static str]> = Some(&[
        "userPool",
        "identityPool",
        "authenticatedRole",
        "unauthenticatedRole",
    ]);
    type Fields = Fields;
    type Spec = Auth;

    fn check(f: Fields, cx: &mut dyn Check) -> Auth {
        let login = check_login(cx, f.login);
        let allow = f.allow_unauthenticated.is_some_and(|a| a.value);
        let (authenticated, unauthenticated) = match f.permissions {
            Some(p) => {
                if !allow && !p.value.unauthenticated.is_empty() {
                    cx.err_at(
                        &p.referenced,
                        "`permissions.unauthenticated` needs `allowUnauthenticated: true`",
                    );
                }
                (
                    statements(cx, p.value.authenticated),
                    statements(cx, p.value.unauthenticated),
                )
            }
            None => (Vec::new(), Vec::new()),
        };
        let users = f.users.map_or(Vec::new(), |u| test_users(cx, &login, u));
        let defaults = RoleIam::clone(&cx.defaults().iam);
        let iam = match f.iam {
            Some(own) => defaults.with(own.value, cx),
            None => defaults,
        };
        Auth {
            login,
            allow_unauthenticated: allow,
            authenticated,
            unauthenticated,
            users,
            iam,
        }
    }

    fn expand(auth: &Auth, b: &mut dyn Expand) {
        expand_pools(auth, b);
        expand_roles(auth, b);
        b.push(NodeDef {
            component: Some("IdentityPoolRoles".into()),
            def: Def::IdentityPoolRoles(identity_pool_roles::Def {
                identity_pool_id: b.own("identityPoolId"),
                authenticated: b.own("authenticatedRoleArn"),
                unauthenticated: auth
                    .allow_unauthenticated
                    .then(|| b.own("unauthenticatedRoleArn")),
            }),
            exports: &[],
            adopt_key: None,
        });
        expand_test_users(auth, b);
    }
}

/// `login`: `[email]` unless written; `username` alone or any of `email` and `phone`.
fn check_login(cx: &mut dyn Check, login: Option<Spanned<Vec<Spanned<String>>>>) -> Vec<String> {
    let Some(l) = login else {
        return vec!["email".to_string()];
    };
    for s in &l.value {
        if !matches!(s.value.as_str(), "email" | "phone" | "username") {
            let m = format!(
                "expected `email`, `phone` or `username` in `login`, found `{}`",
                s.value
            );
            cx.err_at(&s.referenced, m);
        }
    }
    let values: Vec<&str> = l.value.iter().map(|s| s.value.as_str()).collect();
    if values.is_empty() || (values.contains(&"username") && values.len() > 1) {
        cx.err_at(
            &l.referenced,
            "expected `login` to be [email], [phone], [email, phone] or [username]",
        );
    }
    l.value.into_iter().map(|s| s.value).collect()
}

/// Statements: IAM action shapes checked, resources parsed as templates.
fn statements(cx: &mut dyn Check, raw: Vec<StatementFields>) -> Vec<Statement> {
    let mut out = Vec::new();
    for st in raw {
        let mut actions = Vec::new();
        for a in st.actions {
            if let Err(m) = crate::policy::validate_action(&a.value) {
                cx.err_at(&a.referenced, m);
            }
            actions.push(a.value);
        }
        let mut resources = Vec::new();
        for r in st.resources {
            let loc = cx.loc(&r.referenced);
            if let Some(t) = cx.template(&loc, &r.value) {
                resources.push(t);
            }
        }
        out.push(Statement {
            effect: st.effect,
            actions,
            resources,
        });
    }
    out
}

/// `users:` entries: an email, an environment variable name, stage names, no duplicates, and
/// a pool that signs in with email.
fn test_users(
    cx: &mut dyn Check,
    login: &[String],
    raw: Spanned<Vec<TestUserFields>>,
) -> Vec<TestUser> {
    if !raw.value.is_empty() && !login.iter().any(|l| l == "email") {
        cx.err_at(
            &raw.referenced,
            "`users` needs `login` to include `email`: test users sign in with their email",
        );
    }
    let mut out: Vec<TestUser> = Vec::new();
    for u in raw.value {
        let email = u.email.value;
        let (local, domain) = email.split_once('@').unwrap_or(("", ""));
        if local.is_empty() || !domain.contains('.') || email.contains(char::is_whitespace) {
            let m = format!("expected an email address such as `dev@example.com`, found `{email}`");
            cx.err_at(&u.email.referenced, m);
        }
        if out.iter().any(|o| o.email.eq_ignore_ascii_case(&email)) {
            cx.err_at(
                &u.email.referenced,
                format!("test user `{email}` is declared twice"),
            );
        }
        let var = u.password_env.value;
        let var_ok = var
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !var_ok {
            let m = format!(
                "expected `passwordEnv` to name an environment variable such as `STACKWATCH_TEST_PASSWORD`, found `{var}`"
            );
            cx.err_at(&u.password_env.referenced, m);
        }
        out.push(TestUser {
            email,
            password_env: var,
            loc: cx.loc(&u.password_env.referenced),
            stages: check_stages(cx, u.stages),
        });
    }
    out
}

/// A test user's stages: names of letters and digits; `[dev]` unless written.
fn check_stages(cx: &mut dyn Check, stages: Option<Vec<Spanned<String>>>) -> Vec<String> {
    let Some(list) = stages else {
        return DEFAULT_TEST_USER_STAGES
            .iter()
            .map(|s| s.to_string())
            .collect();
    };
    for st in &list {
        let ok = st
            .value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && st.value.chars().all(|c| c.is_ascii_alphanumeric());
        if !ok {
            let m = format!(
                "expected a stage name of letters and digits, found `{}`",
                st.value
            );
            cx.err_at(&st.referenced, m);
        }
    }
    list.into_iter().map(|s| s.value).collect()
}

/// The user pool (`{stage}-{app}-{resource}`), its client and the identity pool.
fn expand_pools(auth: &Auth, b: &mut dyn Expand) {
    let n = b.names();
    let base = format!("{}-{}-{}", n.stage, n.app, n.resource);
    let identity = format!("{}_{}_{}", n.stage, n.app, n.resource);
    let pool_name = b.fit(&user_pool::NAME, base.clone());
    let client_name = b.fit(&user_pool_client::NAME, format!("{base}-client"));
    let identity_pool_name = b.fit(&identity_pool::NAME, identity);
    b.push(NodeDef {
        component: Some("UserPool".into()),
        def: Def::UserPool(user_pool::Def {
            name: pool_name,
            login: auth.login.clone(),
        }),
        exports: &[("userPoolId", "id"), ("userPoolArn", "arn")],
        adopt_key: Some("userPool"),
    });
    b.push(NodeDef {
        component: Some("UserPoolClient".into()),
        def: Def::UserPoolClient(user_pool_client::Def {
            name: client_name,
            user_pool_id: b.own("userPoolId"),
        }),
        exports: &[("userPoolClientId", "id")],
        adopt_key: None,
    });
    b.push(NodeDef {
        component: Some("IdentityPool".into()),
        def: Def::IdentityPool(identity_pool::Def {
            name: identity_pool_name,
            allow_unauthenticated: auth.allow_unauthenticated,
            user_pool_id: b.own("userPoolId"),
            client_id: b.own("userPoolClientId"),
        }),
        exports: &[("identityPoolId", "id")],
        adopt_key: Some("identityPool"),
    });
}

/// The authenticated role, and the guests' when they are allowed.
fn expand_roles(auth: &Auth, b: &mut dyn Expand) {
    let n = b.names();
    let base = format!("{}-{}-{}-{}", n.stage, n.app, n.stack, n.resource);
    let roles = [
        (
            "AuthenticatedRole",
            "AuthRole",
            "authenticated",
            &auth.authenticated,
            &[("authenticatedRoleArn", "arn")],
            "authenticatedRole",
        ),
        (
            "UnauthenticatedRole",
            "UnauthRole",
            "unauthenticated",
            &auth.unauthenticated,
            &[("unauthenticatedRoleArn", "arn")],
            "unauthenticatedRole",
        ),
    ];
    for (component, suffix, amr, statements, exports, adopt_key) in roles {
        if amr == "unauthenticated" && !auth.allow_unauthenticated {
            continue;
        }
        let name = b.fit(&role::NAME, format!("{base}-{suffix}"));
        b.push(NodeDef {
            component: Some(component.into()),
            def: Def::Role(role::Def {
                name,
                identity_pool_id: b.own("identityPoolId"),
                amr,
                statements: statements.clone(),
                path: auth.iam.path.clone(),
                permissions_boundary: auth.iam.permissions_boundary.clone(),
            }),
            exports,
            adopt_key: Some(adopt_key),
        });
    }
}

/// The test users of this stage whose password is set.
fn expand_test_users(auth: &Auth, b: &mut dyn Expand) {
    let stage = b.names().stage.to_string();
    for u in auth.users.iter().filter(|u| u.in_stage(&stage)) {
        let Some(password) = password_from_env(u, b) else {
            continue;
        };
        b.push(NodeDef {
            component: Some(format!("TestUser({})", u.email)),
            def: Def::TestUser(test_user::Def {
                email: u.email.clone(),
                password,
                user_pool_id: b.own("userPoolId"),
            }),
            exports: &[],
            adopt_key: None,
        });
    }
}

/// Reads a test user's password from its `passwordEnv` variable. Unset or empty is a
/// problem at the place `passwordEnv` was written; the message names the variable, never a value.
fn password_from_env(u: &TestUser, b: &mut dyn Expand) -> Option<Password> {
    let problem = match std::env::var(&u.password_env) {
        Ok(v) if !v.is_empty() => return Some(Password::new(v)),
        Ok(_) => "is empty",
        Err(std::env::VarError::NotPresent) => "is not set",
        Err(std::env::VarError::NotUnicode(_)) => "is not valid UTF-8",
    };
    b.diag(Diagnostic {
        loc: u.loc.clone(),
        message: format!(
            "test user `{}`: the environment variable `{}` (its `passwordEnv`) {problem}; set it to the user's password",
            u.email, u.password_env
        ),
    });
    None
}
