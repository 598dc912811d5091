//! Cognito test user: a confirmed user with a permanent password, declared under an `auth`
//! resource's `users:` for dev stages, or created by `stackwatch users create`.
//!
//! Found with AdminGetUser (UserNotFoundException is `Ok(None)`). The state is what can be
//! read back: status, enabled, email verified; never the password, which Cognito cannot
//! return and stackwatch never shows. Created with AdminCreateUser (email verified, no
//! message sent) then AdminSetUserPassword `Permanent`; if the password is refused, the
//! half-created user is deleted again so a retry starts clean. Users hold no data of their
//! own: they go with `destroy`, and with their pool.
//!
//! Passwords travel only inside [`Password`], whose `Debug` and `Display` print a
//! placeholder, so no log line, plan, error or `{:?}` can show one.

use super::{Hint, Resolve, ResourceKind};
use crate::source::template::{Resolved, Template};

use aws_sdk_cognitoidentityprovider::operation::admin_get_user::AdminGetUserOutput;
use aws_sdk_cognitoidentityprovider::types::{AttributeType, MessageActionType, UserType};
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format as DateFormat;
use serde_json::json;

use super::{Attrs, Detail, Observed, Owner, State};
use crate::aws::{Aws, AwsError, OrNotFound, OrRefused};

pub const KIND: &str = "Cognito test user";

/// Errors that mean "this user is not there": the user, or its whole pool.
const NOT_FOUND: &[&str] = &["UserNotFoundException", "ResourceNotFoundException"];

/// A password. `Debug` and `Display` print `<redacted>`; only [`Password::expose`] gives the
/// text, and it is called only where the text goes into an AWS request.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn new(text: impl Into<String>) -> Password {
        Password(text.into())
    }

    /// The text, for the one request that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

crate::redacted!(Password);

/// What the config asks for: a declared test user of this stage in a pool.
#[derive(Debug, Clone)]
pub struct Def {
    pub email: String,
    /// Read from the `passwordEnv` variable when the graph is built; redacted in Debug.
    pub password: Password,
    pub user_pool_id: Template,
}

#[derive(Debug, Clone)]
pub struct Spec {
    /// The user's email, which is also what they sign in with.
    pub email: String,
    pub user_pool_id: Resolved,
    pub password: Password,
}

/// One user as read back: what `users list` prints and the resource compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    pub username: String,
    pub email: String,
    pub status: String,
    pub enabled: bool,
    pub email_verified: bool,
    /// The user's `sub` attribute (its stable id); empty when Cognito gave none.
    pub sub: String,
    /// When the user was created (RFC 3339), when Cognito says.
    pub created: Option<String>,
}

/// A user pool's password policy (DescribeUserPool `Policies.PasswordPolicy`): what a new
/// password must meet, to show beside a form that asks for one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min_length: Option<i32>,
    pub require_lowercase: bool,
    pub require_uppercase: bool,
    pub require_numbers: bool,
    pub require_symbols: bool,
}

fn attr<'a>(attrs: &'a [AttributeType], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|a| a.name() == name)
        .and_then(|a| a.value())
}

fn info(
    username: &str,
    attrs: &[AttributeType],
    status: Option<&str>,
    enabled: bool,
    created: Option<&DateTime>,
) -> UserInfo {
    UserInfo {
        username: username.to_string(),
        email: attr(attrs, "email").unwrap_or_default().to_string(),
        status: status.unwrap_or("UNKNOWN").to_string(),
        enabled,
        email_verified: attr(attrs, "email_verified") == Some("true"),
        sub: attr(attrs, "sub").unwrap_or_default().to_string(),
        created: created.and_then(|d| d.fmt(DateFormat::DateTime).ok()),
    }
}

/// One user as AdminGetUser reads it.
fn got(out: &AdminGetUserOutput) -> UserInfo {
    info(
        out.username(),
        out.user_attributes(),
        out.user_status().map(|s| s.as_str()),
        out.enabled(),
        out.user_create_date(),
    )
}

/// One user as ListUsers reads it.
fn listed(u: &UserType) -> UserInfo {
    info(
        u.username().unwrap_or_default(),
        u.attributes(),
        u.user_status().map(|s| s.as_str()),
        u.enabled(),
        u.user_create_date(),
    )
}

fn user_pool_label(pool: &str, email: &str) -> String {
    format!("{email} in {pool}")
}

/// AdminGetUser; a missing user (or pool) is `Ok(None)`.
pub async fn get(aws: &Aws, pool: &str, email: &str) -> Result<Option<UserInfo>, AwsError> {
    match aws
        .idp
        .admin_get_user()
        .user_pool_id(pool)
        .username(email)
        .send()
        .await
    {
        Ok(out) => Ok(Some(got(&out))),
        Err(e) => {
            let e = AwsError::new("reading", KIND, user_pool_label(pool, email), e);
            if NOT_FOUND.iter().any(|c| e.is(c)) {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

/// Every user of a pool (ListUsers, all pages).
pub async fn list(aws: &Aws, pool: &str) -> Result<Vec<UserInfo>, AwsError> {
    let users = aws
        .idp
        .list_users()
        .user_pool_id(pool)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::new("listing users of", "Cognito user pool", pool, e))?;
    let users: Vec<UserInfo> = users.iter().map(listed).collect();
    Ok(users)
}

/// The pool's password policy (DescribeUserPool).
pub async fn password_policy(aws: &Aws, pool: &str) -> Result<PasswordPolicy, AwsError> {
    let out = aws
        .idp
        .describe_user_pool()
        .user_pool_id(pool)
        .send()
        .await
        .map_err(|e| {
            AwsError::new(
                "reading the password policy of",
                "Cognito user pool",
                pool,
                e,
            )
        })?;
    let Some(p) = out
        .user_pool()
        .and_then(|p| p.policies())
        .and_then(|p| p.password_policy())
    else {
        return Ok(PasswordPolicy::default());
    };
    Ok(PasswordPolicy {
        min_length: p.minimum_length(),
        require_lowercase: p.require_lowercase(),
        require_uppercase: p.require_uppercase(),
        require_numbers: p.require_numbers(),
        require_symbols: p.require_symbols(),
    })
}

/// Creates a confirmed user with a permanent password: AdminCreateUser (email verified, no
/// invitation message) then AdminSetUserPassword `Permanent`. An existing user is an error,
/// never reset. A password the pool refuses gets Cognito's reason, and the user just created
/// is deleted again.
pub async fn create_user(
    aws: &Aws,
    pool: &str,
    email: &str,
    password: &Password,
) -> Result<(), AwsError> {
    let label = user_pool_label(pool, email);
    if get(aws, pool, email).await?.is_some() {
        return Err(exists(&label, email));
    }
    let created = aws
        .idp
        .admin_create_user()
        .user_pool_id(pool)
        .username(email)
        .user_attributes(attribute("email", email, &label)?)
        .user_attributes(attribute("email_verified", "true", &label)?)
        .message_action(MessageActionType::Suppress)
        .send()
        .await;
    if let Err(e) = created {
        let e = AwsError::new("creating", KIND, label.clone(), e);
        return Err(if e.is("UsernameExistsException") {
            exists(&label, email)
        } else {
            e
        });
    }
    let set = aws
        .idp
        .admin_set_user_password()
        .user_pool_id(pool)
        .username(email)
        .password(password.expose())
        .permanent(true)
        .send()
        .await;
    if let Err(e) = set {
        let e = AwsError::new("setting the password of", KIND, label.clone(), e);
        // Do not leave a user without a usable password behind.
        if let Err(cleanup) = delete_user(aws, pool, email).await {
            tracing::warn!(error = %cleanup, "could not delete the half-created user");
        }
        return Err(e);
    }
    Ok(())
}

fn exists(label: &str, email: &str) -> AwsError {
    AwsError::refused(
        "creating",
        KIND,
        label,
        format!(
            "the user already exists; stackwatch never resets an existing user's password \
             (delete it first: `stackwatch users delete --email {email}`)"
        ),
    )
}

/// AdminEnableUser or AdminDisableUser: a disabled user cannot sign in.
pub async fn set_enabled(
    aws: &Aws,
    pool: &str,
    email: &str,
    enabled: bool,
) -> Result<(), AwsError> {
    let label = user_pool_label(pool, email);
    if enabled {
        aws.idp
            .admin_enable_user()
            .user_pool_id(pool)
            .username(email)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::new("enabling", KIND, label, e))
    } else {
        aws.idp
            .admin_disable_user()
            .user_pool_id(pool)
            .username(email)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::new("disabling", KIND, label, e))
    }
}

/// AdminSetUserPassword `Permanent`: a new password for an existing user, who stays (or
/// becomes) confirmed. A password the pool refuses gets Cognito's reason; the user is kept.
pub async fn set_password(
    aws: &Aws,
    pool: &str,
    email: &str,
    password: &Password,
) -> Result<(), AwsError> {
    aws.idp
        .admin_set_user_password()
        .user_pool_id(pool)
        .username(email)
        .password(password.expose())
        .permanent(true)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            AwsError::new(
                "setting the password of",
                KIND,
                user_pool_label(pool, email),
                e,
            )
        })
}

/// AdminDeleteUser; a user (or pool) already gone is fine.
pub async fn delete_user(aws: &Aws, pool: &str, email: &str) -> Result<(), AwsError> {
    aws.idp
        .admin_delete_user()
        .user_pool_id(pool)
        .username(email)
        .send()
        .await
        .map_err(|e| AwsError::new("deleting", KIND, user_pool_label(pool, email), e))
        .or_gone(NOT_FOUND)
}

fn observed(spec: &Spec, u: &UserInfo) -> Observed {
    Observed {
        id: spec.email.clone(),
        owner: Owner::Ours,
        state: State::from([
            ("status", json!(u.status)),
            ("enabled", json!(u.enabled)),
            ("emailVerified", json!(u.email_verified)),
        ]),
        attrs: Attrs::from([
            ("email", spec.email.clone()),
            ("userPoolId", spec.user_pool_id.to_string()),
            ("username", u.username.clone()),
        ]),
        detail: Detail::None,
        notes: Vec::new(),
    }
}

/// One user attribute for a request.
fn attribute(name: &str, value: &str, label: &str) -> Result<AttributeType, AwsError> {
    AttributeType::builder()
        .name(name)
        .value(value)
        .build()
        .map_err(|e| AwsError::refused("building a request for", KIND, label, e.to_string()))
}

/// The test user kind: found inside its pool, so its read waits for the pool's.
pub struct TestUser;

impl ResourceKind for TestUser {
    crate::kind_basics!();
    const FOUND_THROUGH_DEPS: bool = true;

    /// Its page in the AWS web console.
    const CONSOLE_URL: Option<&'static str> =
        Some("{home}/cognito/v2/idp/user-pools/{UserPool}/user-management/users?region={region}");
    fn templates(def: &Def) -> Vec<&Template> {
        vec![&def.user_pool_id]
    }
    fn resolve(def: &Def, cx: &mut Resolve<'_>) -> Spec {
        Spec {
            email: def.email.clone(),
            user_pool_id: cx.render(&def.user_pool_id),
            password: def.password.clone(),
        }
    }
    fn name(spec: &Spec) -> String {
        spec.email.clone()
    }
    fn state(_: &Spec) -> State {
        State::from([
            ("status", json!("CONFIRMED")),
            ("enabled", json!(true)),
            ("emailVerified", json!(true)),
        ])
    }
    /// A user whose pool is not created yet does not exist.
    async fn find(aws: &Aws, spec: &Spec, _: Hint<'_>) -> Result<Option<Observed>, AwsError> {
        if !spec.user_pool_id.is_known() {
            return Ok(None);
        }
        Ok(get(aws, &spec.user_pool_id, &spec.email)
            .await?
            .map(|u| observed(spec, &u)))
    }
    async fn create(aws: &Aws, spec: &Spec) -> Result<Observed, AwsError> {
        create_user(aws, &spec.user_pool_id, &spec.email, &spec.password).await?;
        let u = get(aws, &spec.user_pool_id, &spec.email)
            .await?
            .or_refused(
                "creating",
                KIND,
                user_pool_label(&spec.user_pool_id, &spec.email),
                "the user disappeared right after creation",
            )?;
        Ok(observed(spec, &u))
    }
    /// Brings a declared user back to confirmed, enabled and verified. A user that is not
    /// confirmed (for example FORCE_CHANGE_PASSWORD after an admin reset) gets the declared
    /// password as permanent; a confirmed user's password is never touched.
    async fn update(
        aws: &Aws,
        spec: &Spec,
        obs: &Observed,
        changed: &[&'static str],
    ) -> Result<Observed, AwsError> {
        let (pool, email) = (spec.user_pool_id.as_str(), spec.email.as_str());
        let label = user_pool_label(pool, email);
        if changed.contains(&"enabled") {
            aws.idp
                .admin_enable_user()
                .user_pool_id(pool)
                .username(email)
                .send()
                .await
                .map_err(|e| AwsError::new("enabling", KIND, label.clone(), e))?;
        }
        if changed.contains(&"emailVerified") {
            aws.idp
                .admin_update_user_attributes()
                .user_pool_id(pool)
                .username(email)
                .user_attributes(attribute("email_verified", "true", &label)?)
                .send()
                .await
                .map_err(|e| AwsError::new("verifying the email of", KIND, label.clone(), e))?;
        }
        if changed.contains(&"status") && obs.state.get("status") != Some(&json!("CONFIRMED")) {
            aws.idp
                .admin_set_user_password()
                .user_pool_id(pool)
                .username(email)
                .password(spec.password.expose())
                .permanent(true)
                .send()
                .await
                .map_err(|e| AwsError::new("setting the password of", KIND, label.clone(), e))?;
        }
        let u = get(aws, pool, email).await?.or_refused(
            "updating",
            KIND,
            label,
            "the user disappeared",
        )?;
        Ok(observed(spec, &u))
    }
    async fn delete(aws: &Aws, spec: &Spec, obs: &Observed) -> Result<(), AwsError> {
        let pool = obs
            .attrs
            .get("userPoolId")
            .map_or(spec.user_pool_id.as_str(), String::as_str);
        delete_user(aws, pool, &obs.id).await
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_ours_as_specified, drift};
    use super::*;
    use aws_sdk_cognitoidentityprovider::types::UserStatusType;

    #[test]
    fn passwords_never_print() {
        let p = Password::new("Sup3r-secret!");
        let spec = Spec {
            email: "a@example.com".into(),
            user_pool_id: "us-east-1_x".into(),
            password: p.clone(),
        };
        for shown in [
            format!("{p}"),
            format!("{p:?}"),
            format!("{spec:?}"),
            format!("{spec:#?}"),
        ] {
            assert!(!shown.contains("Sup3r"), "{shown}");
        }
        assert!(
            !serde_json::to_string(&TestUser::state(&spec))
                .unwrap()
                .contains("Sup3r")
        );
        assert_eq!(p.expose(), "Sup3r-secret!");
    }

    fn spec() -> Spec {
        Spec {
            email: "alice@example.com".into(),
            user_pool_id: "us-east-1_AbC123".into(),
            password: Password::new("Sup3r-secret!"),
        }
    }

    fn attribute(name: &str, value: &str) -> AttributeType {
        AttributeType::builder()
            .name(name)
            .value(value)
            .build()
            .unwrap()
    }

    /// AdminGetUser's answer for a user as create_user made it: the pool signs in by email, so
    /// Cognito names the user by its `sub`.
    fn answer() -> aws_sdk_cognitoidentityprovider::operation::admin_get_user::builders::AdminGetUserOutputBuilder
    {
        AdminGetUserOutput::builder()
            .username("9a7b-sub")
            .user_attributes(attribute("sub", "9a7b-sub"))
            .user_attributes(attribute("email_verified", "true"))
            .user_attributes(attribute("email", "alice@example.com"))
            .user_status(UserStatusType::Confirmed)
            .enabled(true)
            .user_create_date(DateTime::from_secs(1_700_000_000))
    }

    #[test]
    fn a_user_as_created_matches_its_spec() {
        let sp = spec();
        let u = got(&answer().build().unwrap());
        let obs = observed(&sp, &u);
        let attrs = [
            ("email", "alice@example.com"),
            ("userPoolId", "us-east-1_AbC123"),
            ("username", "9a7b-sub"),
        ];
        assert_ours_as_specified(&obs, TestUser::state(&sp), "alice@example.com", &attrs);
        assert_eq!(u.sub, "9a7b-sub");
        assert_eq!(u.email, "alice@example.com");
        assert_eq!(u.created.as_deref(), Some("2023-11-14T22:13:20Z"));
    }

    #[test]
    fn drift_in_status_enabled_and_verification() {
        let sp = spec();
        let unverified = answer().set_user_attributes(Some(vec![
            attribute("email", "alice@example.com"),
            attribute("email_verified", "false"),
        ]));
        let cases = [
            (
                answer().user_status(UserStatusType::ForceChangePassword),
                "status",
            ),
            (answer().enabled(false), "enabled"),
            (unverified, "emailVerified"),
            (
                answer().set_user_attributes(Some(vec![attribute("email", "alice@example.com")])),
                "emailVerified",
            ),
        ];
        for (out, field) in cases {
            let obs = observed(&sp, &got(&out.build().unwrap()));
            assert_eq!(drift(&TestUser::state(&sp), &obs.state), [field]);
        }
        // No status in the answer reads as UNKNOWN: drift, never CONFIRMED.
        let u = got(&answer().set_user_status(None).build().unwrap());
        assert_eq!(u.status, "UNKNOWN");
    }

    #[test]
    fn a_listed_user_reads_like_a_got_one() {
        let listed_user = UserType::builder()
            .username("9a7b-sub")
            .attributes(attribute("sub", "9a7b-sub"))
            .attributes(attribute("email_verified", "true"))
            .attributes(attribute("email", "alice@example.com"))
            .user_status(UserStatusType::Confirmed)
            .enabled(true)
            .user_create_date(DateTime::from_secs(1_700_000_000))
            .build();
        assert_eq!(listed(&listed_user), got(&answer().build().unwrap()));
        let disabled = UserType::builder().username("x").enabled(false).build();
        let u = listed(&disabled);
        assert!(!u.enabled && !u.email_verified);
        assert_eq!(
            (u.email.as_str(), u.sub.as_str(), u.created),
            ("", "", None)
        );
    }
}
