//! Cognito user pool: email sign-in, auto-verified email, the password policy, self sign-up,
//! and SST's defaults for a pool: case-insensitive sign-in and account recovery through the
//! verified email (or phone, for a phone-only pool).
//!
//! Found by its deterministic name (ListUserPools), then ownership checked by the
//! `UserPoolTags` that CreateUserPool sets atomically, so a crash after create leaves a pool
//! the next run finds and owns, never a duplicate. `usernameAttributes` cannot change in place.
//! Neither can `UsernameConfiguration`: a pool made before stackwatch set it keeps
//! case-sensitive sign-in, and its plan carries a note saying how to replace it, rather than
//! replacing a pool full of users on its own.

use super::naming::{COGNITO_CHARS, NameRule};
use super::{Hint, Resolve, ResourceKind};
use crate::source::template::Template;
use aws_sdk_cognitoidentityprovider::types::{
    AccountRecoverySettingType, AdminCreateUserConfigType, PasswordPolicyType,
    RecoveryOptionNameType, RecoveryOptionType, UserPoolPolicyType, UserPoolType,
    UsernameAttributeType, UsernameConfigurationType, VerifiedAttributeType,
};
use serde_json::json;

use super::{Attrs, Detail, Observed, Owner, State, Tags, owner_from_tags, set, tags_state};
use aws_sdk_cognitoidentityprovider::Config;

use crate::aws::{self, Aws, AwsError, OrNotFound, OrRefused};

pub const KIND: &str = "Cognito user pool";
/// CreateUserPool's `PoolName`: 1-128 characters of `[\w\s+=,.@-]`.
pub const NAME: NameRule = NameRule::new("a Cognito user pool name", 1, 128, COGNITO_CHARS);
/// "ResourceNotFoundException: User pool <id> does not exist."
pub const NOT_FOUND: &[&str] = &["ResourceNotFoundException"];

/// What the config asks for: the pool's name and how users sign in.
#[derive(Debug, Clone)]
pub struct Def {
    pub name: String,
    /// `login`: `email`, `phone`, `username`.
    pub login: Vec<String>,
}

/// `login` → Cognito UsernameAttributes: `email` → email, `phone` → phone_number; plain
/// `username` sign-in has none.
pub fn username_attributes(login: &[String]) -> Vec<String> {
    login
        .iter()
        .filter_map(|l| match l.as_str() {
            "email" => Some("email".to_string()),
            "phone" => Some("phone_number".to_string()),
            _ => None,
        })
        .collect()
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub name: String,
    /// `email`: users sign in with their email address.
    pub username_attributes: Vec<String>,
    pub tags: Tags,
}

impl Spec {
    /// How a user who forgot the password recovers: the verified email, as SST's default,
    /// unless users sign in with a phone number and not an email.
    fn recovery(&self) -> RecoveryOptionNameType {
        let has = |a: &str| self.username_attributes.iter().any(|x| x == a);
        if has("phone_number") && !has("email") {
            RecoveryOptionNameType::VerifiedPhoneNumber
        } else {
            RecoveryOptionNameType::VerifiedEmail
        }
    }

    fn account_recovery(&self) -> Result<AccountRecoverySettingType, AwsError> {
        let option = RecoveryOptionType::builder()
            .name(self.recovery())
            .priority(1)
            .build()
            .map_err(|e| AwsError::refused("building", KIND, &self.name, e.to_string()))?;
        Ok(AccountRecoverySettingType::builder()
            .recovery_mechanisms(option)
            .build())
    }
}

/// Sign-in ignores case (`Admin@Example.com` is `admin@example.com`), as SST's default.
fn username_configuration(name: &str) -> Result<UsernameConfigurationType, AwsError> {
    UsernameConfigurationType::builder()
        .case_sensitive(false)
        .build()
        .map_err(|e| AwsError::refused("building", KIND, name, e.to_string()))
}

/// The plan note for a pool whose sign-in is case-sensitive: Cognito cannot change
/// UsernameConfiguration after creation, so only a replacement gets SST's default.
pub fn case_sensitive_note() -> String {
    "sign-in is case-sensitive in this pool (it was created before stackwatch set \
     case-insensitive usernames, and Cognito cannot change that in place); to get \
     case-insensitive sign-in, replace the pool with `stackwatch apply --replace {id}` \
     (a new, empty pool; the old one is kept when `removal: retain`)"
        .to_string()
}

/// Minimum 8 characters with lower, upper, digits and symbols, as SST's Cognito construct.
fn desired_password_policy() -> PasswordPolicyType {
    PasswordPolicyType::builder()
        .minimum_length(8)
        .require_lowercase(true)
        .require_uppercase(true)
        .require_numbers(true)
        .require_symbols(true)
        .build()
}

/// The pool's policies: the password policy.
fn policies() -> UserPoolPolicyType {
    UserPoolPolicyType::builder()
        .password_policy(desired_password_policy())
        .build()
}

/// Users may sign up themselves, as the guide's sign-up page needs.
fn self_sign_up() -> AdminCreateUserConfigType {
    AdminCreateUserConfigType::builder()
        .allow_admin_create_user_only(false)
        .build()
}

fn password_policy_state(p: &PasswordPolicyType) -> serde_json::Value {
    json!({
        "minimumLength": p.minimum_length.unwrap_or(8),
        "requireLowercase": p.require_lowercase,
        "requireUppercase": p.require_uppercase,
        "requireNumbers": p.require_numbers,
        "requireSymbols": p.require_symbols,
    })
}

fn observed(pool: UserPoolType, spec: &Spec, owner: Option<Owner>) -> Observed {
    let tags: Tags = pool
        .user_pool_tags
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let owner = owner.unwrap_or_else(|| owner_from_tags(&tags, &spec.tags));
    let policy = pool
        .policies
        .as_ref()
        .and_then(|p| p.password_policy.as_ref())
        .map(password_policy_state)
        .unwrap_or(serde_json::Value::Null);
    let self_sign_up = pool
        .admin_create_user_config
        .as_ref()
        .map(|c| !c.allow_admin_create_user_only)
        .unwrap_or(true);
    let recovery: Vec<String> = pool
        .account_recovery_setting
        .as_ref()
        .map(|r| {
            let mut m = r.recovery_mechanisms().to_vec();
            m.sort_by_key(|o| o.priority());
            m.iter().map(|o| o.name().as_str().to_string()).collect()
        })
        .unwrap_or_default();
    let case_sensitive = pool
        .username_configuration
        .as_ref()
        .is_none_or(|c| c.case_sensitive);
    let state = State::from([
        (
            "usernameAttributes",
            set(pool
                .username_attributes()
                .iter()
                .map(|a| a.as_str().to_string())),
        ),
        (
            "autoVerifiedAttributes",
            set(pool
                .auto_verified_attributes()
                .iter()
                .map(|a| a.as_str().to_string())),
        ),
        ("passwordPolicy", policy),
        ("selfSignUp", json!(self_sign_up)),
        ("accountRecovery", json!(recovery)),
        ("tags", tags_state(&tags, &spec.tags)),
    ]);
    let id = pool.id.unwrap_or_default();
    let attrs = Attrs::from([("id", id.clone()), ("arn", pool.arn.unwrap_or_default())]);
    Observed {
        id,
        owner,
        state,
        attrs,
        detail: Detail::Tags(tags),
        notes: if case_sensitive {
            vec![case_sensitive_note()]
        } else {
            Vec::new()
        },
    }
}

async fn describe(aws: &Aws, id: &str) -> Result<Option<UserPoolType>, AwsError> {
    let out = aws.idp.describe_user_pool().user_pool_id(id).send().await;
    let out = out.map_err(|e| AwsError::new("reading", KIND, id, e));
    Ok(out.or_not_found(NOT_FOUND)?.and_then(|o| o.user_pool))
}

/// Every pool with our name (ListUserPools has no name filter), each read in full.
async fn find_by_name(aws: &Aws, spec: &Spec) -> Result<Option<Observed>, AwsError> {
    let pools = aws
        .idp
        .list_user_pools()
        .max_results(60)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::new("listing", KIND, &spec.name, e))?;
    let ids: Vec<String> = pools
        .iter()
        .filter(|p| p.name() == Some(spec.name.as_str()))
        .filter_map(|p| p.id().map(str::to_string))
        .collect();
    let mut found = Vec::new();
    for id in ids {
        if let Some(p) = describe(aws, &id).await? {
            found.push(observed(p, spec, None));
        }
    }
    super::pick(found, KIND, &spec.name)
}

async fn create_pool(aws: &Aws, spec: &Spec) -> Result<Observed, AwsError> {
    let out = aws
        .idp
        .create_user_pool()
        .pool_name(&spec.name)
        .set_username_attributes(Some(
            spec.username_attributes
                .iter()
                .map(|a| UsernameAttributeType::from(a.as_str()))
                .collect(),
        ))
        .set_auto_verified_attributes(Some(verified(spec)))
        .username_configuration(username_configuration(&spec.name)?)
        .account_recovery_setting(spec.account_recovery()?)
        .policies(policies())
        .admin_create_user_config(self_sign_up())
        .set_user_pool_tags(Some(spec.tags.clone().into_iter().collect()))
        .customize()
        .config_override(Config::builder().retry_config(aws::no_retry()))
        .send()
        .await
        .map_err(|e| AwsError::new("creating", KIND, &spec.name, e))?;
    let pool = out.user_pool.or_refused(
        "creating",
        KIND,
        &spec.name,
        "CreateUserPool returned no pool",
    )?;
    Ok(observed(pool, spec, Some(Owner::Ours)))
}

fn verified(spec: &Spec) -> Vec<VerifiedAttributeType> {
    spec.username_attributes
        .iter()
        .map(|a| VerifiedAttributeType::from(a.as_str()))
        .collect()
}

/// The user pool kind. It holds data (its users): retained by default, released rather than
/// deleted when replaced.
pub struct UserPool;

impl ResourceKind for UserPool {
    crate::kind_basics!();
    /// Cognito cannot change the username attributes of an existing pool.
    const FORCE_NEW: &'static [&'static str] = &["usernameAttributes"];
    const HOLDS_DATA: bool = true;
    const FOUND_BY_LISTING: bool = true;

    /// Its page in the AWS web console.
    const CONSOLE_URL: Option<&'static str> =
        Some("{home}/cognito/v2/idp/user-pools/{id}/overview?region={region}");
    fn templates(_: &Def) -> Vec<&Template> {
        Vec::new()
    }
    fn resolve(def: &Def, cx: &mut Resolve<'_>) -> Spec {
        Spec {
            name: def.name.clone(),
            username_attributes: username_attributes(&def.login),
            tags: cx.tags.clone(),
        }
    }
    fn name(spec: &Spec) -> String {
        spec.name.clone()
    }
    fn state(spec: &Spec) -> State {
        State::from([
            ("usernameAttributes", set(spec.username_attributes.clone())),
            (
                "autoVerifiedAttributes",
                set(spec.username_attributes.clone()),
            ),
            (
                "passwordPolicy",
                password_policy_state(&desired_password_policy()),
            ),
            ("selfSignUp", json!(true)),
            ("accountRecovery", json!([spec.recovery().as_str()])),
            ("tags", serde_json::to_value(&spec.tags).unwrap_or_default()),
        ])
    }
    /// The `adopt` id, taken over tags or not; else the id an earlier read found (one
    /// DescribeUserPool instead of listing every pool) while it still names our own pool; else
    /// by name, where two owned pools with our name are an error.
    async fn find(aws: &Aws, spec: &Spec, hint: Hint<'_>) -> Result<Option<Observed>, AwsError> {
        if let Some(id) = hint.adopt {
            return Ok(describe(aws, id)
                .await?
                .map(|p| observed(p, spec, Some(Owner::Adopted))));
        }
        if let Some(id) = hint.known
            && let Some(p) = describe(aws, id).await?
            && p.name() == Some(spec.name.as_str())
        {
            let o = observed(p, spec, None);
            if o.owner == Owner::Ours {
                return Ok(Some(o));
            }
        }
        find_by_name(aws, spec).await
    }
    /// After a lost answer, only a pool carrying our tags counts as the one the lost attempt
    /// made; a same-named pool of someone else's is never returned as ours.
    async fn create(aws: &Aws, spec: &Spec) -> Result<Observed, AwsError> {
        let recover = || async {
            Ok(find_by_name(aws, spec)
                .await?
                .filter(|o| o.owner == Owner::Ours))
        };
        aws::create_once(|| create_pool(aws, spec), recover).await
    }
    /// UpdateUserPool resets every setting it is not given to its default, so every managed
    /// setting is sent, exactly as CreateUserPool sent it; the settings stackwatch does not
    /// manage go back to the defaults they had at creation. The tags sent are the pool's tags
    /// as read (other people's included) with ours over them, so an update never drops a tag.
    async fn update(
        aws: &Aws,
        spec: &Spec,
        obs: &Observed,
        _changed: &[&'static str],
    ) -> Result<Observed, AwsError> {
        let mut tags = match &obs.detail {
            Detail::Tags(t) => t.clone(),
            _ => Tags::new(),
        };
        tags.extend(spec.tags.clone());
        aws.idp
            .update_user_pool()
            .user_pool_id(&obs.id)
            .set_auto_verified_attributes(Some(verified(spec)))
            .account_recovery_setting(spec.account_recovery()?)
            .policies(policies())
            .admin_create_user_config(self_sign_up())
            .set_user_pool_tags(Some(tags.into_iter().collect()))
            .send()
            .await
            .map_err(|e| AwsError::new("updating", KIND, &obs.id, e))?;
        let pool = describe(aws, &obs.id).await?.or_refused(
            "updating",
            KIND,
            &obs.id,
            "the pool disappeared during update",
        )?;
        Ok(observed(pool, spec, Some(Owner::Ours)))
    }
    async fn delete(aws: &Aws, _: &Spec, obs: &Observed) -> Result<(), AwsError> {
        let out = aws
            .idp
            .delete_user_pool()
            .user_pool_id(&obs.id)
            .send()
            .await;
        let out = out.map_err(|e| AwsError::new("deleting", KIND, &obs.id, e));
        out.or_gone(NOT_FOUND)
    }
    /// Removes stackwatch's tags so a retained, replaced pool is no longer found as ours.
    async fn release(aws: &Aws, _: &Spec, obs: &Observed) -> Result<(), AwsError> {
        let arn = obs.attrs.get("arn").cloned().unwrap_or_default();
        aws.idp
            .untag_resource()
            .resource_arn(&arn)
            .set_tag_keys(Some(
                [
                    super::TAG_APP,
                    super::TAG_STAGE,
                    super::TAG_STACK,
                    super::TAG_ID,
                ]
                .map(String::from)
                .to_vec(),
            ))
            .send()
            .await
            .map_err(|e| AwsError::new("releasing (untagging)", KIND, &obs.id, e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{drift, ours, ours_and_others};
    use super::*;
    use aws_sdk_cognitoidentityprovider::types::DeletionProtectionType;

    fn spec(attributes: &[&str]) -> Spec {
        Spec {
            name: "dev-notes-AuthStack-Auth".into(),
            username_attributes: attributes.iter().map(|a| a.to_string()).collect(),
            tags: ours(),
        }
    }

    fn recovery(name: RecoveryOptionNameType, priority: i32) -> RecoveryOptionType {
        RecoveryOptionType::builder()
            .name(name)
            .priority(priority)
            .build()
            .unwrap()
    }

    /// DescribeUserPool's answer for a pool as CreateUserPool made it, with what AWS adds on
    /// its own: values we do not manage, another team's tag.
    fn described() -> aws_sdk_cognitoidentityprovider::types::builders::UserPoolTypeBuilder {
        let mut pool = UserPoolType::builder()
            .id("us-east-1_AbC123")
            .name("dev-notes-AuthStack-Auth")
            .arn("arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbC123")
            .username_attributes(UsernameAttributeType::Email)
            .auto_verified_attributes(VerifiedAttributeType::Email)
            .username_configuration(username_configuration("p").unwrap())
            .policies(
                UserPoolPolicyType::builder()
                    .password_policy({
                        // Ours, with the temporary password validity AWS adds.
                        let mut policy = desired_password_policy();
                        policy.temporary_password_validity_days = 7;
                        policy
                    })
                    .build(),
            )
            .admin_create_user_config(
                AdminCreateUserConfigType::builder()
                    .allow_admin_create_user_only(false)
                    .unused_account_validity_days(7)
                    .build(),
            )
            .account_recovery_setting(
                AccountRecoverySettingType::builder()
                    .recovery_mechanisms(recovery(RecoveryOptionNameType::VerifiedEmail, 1))
                    .build(),
            )
            .deletion_protection(DeletionProtectionType::Inactive)
            .estimated_number_of_users(3);
        for (k, v) in ours_and_others() {
            pool = pool.user_pool_tags(k, v);
        }
        pool
    }

    #[test]
    fn a_pool_as_created_matches_its_spec() {
        let sp = spec(&["email"]);
        let obs = observed(described().build(), &sp, None);
        assert_eq!(obs.state, UserPool::state(&sp));
        assert_eq!(obs.owner, Owner::Ours);
        assert_eq!(obs.id, "us-east-1_AbC123");
        assert_eq!(obs.attrs["id"], "us-east-1_AbC123");
        assert_eq!(
            obs.attrs["arn"],
            "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbC123"
        );
        assert!(obs.notes.is_empty(), "{:?}", obs.notes);
        // Every tag is kept for the update, which sends the whole set back.
        let Detail::Tags(tags) = &obs.detail else {
            panic!("{:?}", obs.detail)
        };
        assert_eq!(tags, &ours_and_others());
    }

    #[test]
    fn what_aws_leaves_out_or_reorders_is_not_drift() {
        // Phone and email sign-in, listed by AWS in its own order; the minimum length and the
        // admin-create-user config omitted (their defaults: 8, self sign-up allowed).
        let sp = spec(&["email", "phone_number"]);
        let pool = described()
            .set_username_attributes(Some(vec![
                UsernameAttributeType::PhoneNumber,
                UsernameAttributeType::Email,
            ]))
            .set_auto_verified_attributes(Some(vec![
                VerifiedAttributeType::PhoneNumber,
                VerifiedAttributeType::Email,
            ]))
            .policies(
                UserPoolPolicyType::builder()
                    .password_policy(
                        PasswordPolicyType::builder()
                            .require_lowercase(true)
                            .require_uppercase(true)
                            .require_numbers(true)
                            .require_symbols(true)
                            .build(),
                    )
                    .build(),
            )
            .set_admin_create_user_config(None)
            .build();
        assert_eq!(observed(pool, &sp, None).state, UserPool::state(&sp));
    }

    #[test]
    fn recovery_is_read_in_priority_order() {
        let pool = described()
            .account_recovery_setting(
                AccountRecoverySettingType::builder()
                    .recovery_mechanisms(recovery(RecoveryOptionNameType::VerifiedPhoneNumber, 2))
                    .recovery_mechanisms(recovery(RecoveryOptionNameType::VerifiedEmail, 1))
                    .build(),
            )
            .build();
        let sp = spec(&["email"]);
        let obs = observed(pool, &sp, None);
        assert_eq!(
            obs.state["accountRecovery"],
            json!(["verified_email", "verified_phone_number"])
        );
        assert_eq!(
            drift(&UserPool::state(&sp), &obs.state),
            ["accountRecovery"]
        );
    }

    #[test]
    fn each_drifted_setting_is_its_own_field() {
        let sp = spec(&["email"]);
        let weak = PasswordPolicyType::builder()
            .minimum_length(6)
            .require_lowercase(true)
            .require_uppercase(true)
            .require_numbers(true)
            .require_symbols(false)
            .build();
        let cases = [
            (
                described().policies(UserPoolPolicyType::builder().password_policy(weak).build()),
                "passwordPolicy",
            ),
            (
                described().admin_create_user_config(
                    AdminCreateUserConfigType::builder()
                        .allow_admin_create_user_only(true)
                        .build(),
                ),
                "selfSignUp",
            ),
            (
                described().set_auto_verified_attributes(None),
                "autoVerifiedAttributes",
            ),
            (
                described().set_username_attributes(Some(vec![UsernameAttributeType::PhoneNumber])),
                "usernameAttributes",
            ),
            (
                described().set_account_recovery_setting(None),
                "accountRecovery",
            ),
        ];
        for (pool, field) in cases {
            let obs = observed(pool.build(), &sp, None);
            assert_eq!(drift(&UserPool::state(&sp), &obs.state), [field]);
            assert_eq!(obs.owner, Owner::Ours, "{field}");
        }
    }

    #[test]
    fn a_pool_without_our_tags_is_foreign_and_adopt_overrides() {
        let sp = spec(&["email"]);
        let untagged = || {
            described()
                .set_user_pool_tags(Some([("team".to_string(), "web".to_string())].into()))
                .build()
        };
        let obs = observed(untagged(), &sp, None);
        assert_eq!(obs.owner, Owner::Foreign);
        assert_eq!(drift(&UserPool::state(&sp), &obs.state), ["tags"]);
        assert_eq!(obs.state["tags"], json!({}));
        let adopted = observed(untagged(), &sp, Some(Owner::Adopted));
        assert_eq!(adopted.owner, Owner::Adopted);
        // One of our tags with another value is not ours either.
        let mut pool = described().build();
        pool.user_pool_tags
            .as_mut()
            .unwrap()
            .insert(super::super::TAG_STAGE.into(), "prod".into());
        assert_eq!(observed(pool, &sp, None).owner, Owner::Foreign);
    }

    #[test]
    fn a_case_sensitive_pool_is_noted_not_drifted() {
        let sp = spec(&["email"]);
        for config in [
            None,
            Some(
                UsernameConfigurationType::builder()
                    .case_sensitive(true)
                    .build()
                    .unwrap(),
            ),
        ] {
            let obs = observed(
                described().set_username_configuration(config).build(),
                &sp,
                None,
            );
            assert_eq!(obs.state, UserPool::state(&sp));
            assert_eq!(obs.notes, [case_sensitive_note()]);
        }
    }
}
