//! AWS resource kinds. One file per kind, each in the same order: `Spec` (what we want,
//! fully resolved), `find` (NotFound is `Ok(None)`), `state` (the comparable fields), `create`,
//! `update`, `delete`, and the named retry predicates that kind needs. `FORCE_NEW` lists the
//! fields that cannot change in place. This module only dispatches over the kinds.

pub mod bucket;
pub mod http_api;
pub mod identity_pool;
pub mod identity_pool_roles;
pub mod naming;
pub mod role;
pub mod test_user;
pub mod user_pool;
pub mod user_pool_client;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::aws::{Aws, AwsError};

/// The comparable fields of a resource, in canonical form (sets sorted, documents canonical).
/// Desired and observed states are compared field by field.
pub type State = BTreeMap<&'static str, Value>;

/// Attributes a resource exports to references and outputs (`id`, `arn`, `url`, …).
pub type Attrs = BTreeMap<&'static str, String>;

/// Tags as key → value.
pub type Tags = BTreeMap<String, String>;

/// The tag keys that mark a resource as stackwatch's.
pub const TAG_APP: &str = "stackwatch:app";
pub const TAG_STAGE: &str = "stackwatch:stage";
pub const TAG_STACK: &str = "stackwatch:stack";
pub const TAG_ID: &str = "stackwatch:id";

/// Who a found resource belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// It carries our tags for this logical resource.
    Ours,
    /// Named in `adopt:`; our tags are added on the next apply.
    Adopted,
    /// It has our name but not our tags: never modified or deleted.
    Foreign,
}

/// Ownership from tags: all four of ours must match.
pub fn owner_from_tags(found: &Tags, ours: &Tags) -> Owner {
    if ours.iter().all(|(k, v)| found.get(k) == Some(v)) {
        Owner::Ours
    } else {
        Owner::Foreign
    }
}

/// The state value of tags: only the keys we manage, so other people's tags are not drift.
pub fn tags_state(found: &Tags, ours: &Tags) -> Value {
    let managed: BTreeMap<&String, &String> = found
        .iter()
        .filter(|(k, _)| ours.contains_key(*k))
        .collect();
    serde_json::to_value(managed).unwrap_or(Value::Null)
}

/// A sorted, deduplicated JSON array of strings: the canonical form of a set.
pub fn set<I, S>(items: I) -> Value
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let mut v: Vec<String> = items.into_iter().map(Into::into).collect();
    v.sort();
    v.dedup();
    Value::from(v)
}

/// What one read of AWS found for a logical resource.
#[derive(Debug, Clone)]
pub struct Observed {
    /// The physical id (pool id, role name, bucket name, API id).
    pub id: String,
    pub owner: Owner,
    pub state: State,
    pub attrs: Attrs,
    pub detail: Detail,
    /// What the plan should tell about this resource beyond its changes, such as a setting
    /// that only a replacement can bring (shown, never acted on).
    pub notes: Vec<String>,
}

/// Kind-specific facts an update or delete needs beyond the state.
#[derive(Debug, Clone, Default)]
pub enum Detail {
    #[default]
    None,
    Api(http_api::Live),
    /// Every tag as read, other people's included, for a kind whose update replaces the set.
    Tags(Tags),
}

/// A resolved desired resource of any kind.
#[derive(Debug, Clone)]
pub enum Spec {
    UserPool(user_pool::Spec),
    UserPoolClient(user_pool_client::Spec),
    IdentityPool(identity_pool::Spec),
    Role(role::Spec),
    IdentityPoolRoles(identity_pool_roles::Spec),
    Bucket(bucket::Spec),
    HttpApi(http_api::Spec),
    TestUser(test_user::Spec),
}

macro_rules! dispatch {
    ($self:expr, $s:ident => $e:expr) => {
        match $self {
            Spec::UserPool($s) => $e,
            Spec::UserPoolClient($s) => $e,
            Spec::IdentityPool($s) => $e,
            Spec::Role($s) => $e,
            Spec::IdentityPoolRoles($s) => $e,
            Spec::Bucket($s) => $e,
            Spec::HttpApi($s) => $e,
            Spec::TestUser($s) => $e,
        }
    };
}

impl Spec {
    /// The kind as people say it: `Cognito user pool`.
    pub fn kind(&self) -> &'static str {
        match self {
            Spec::UserPool(_) => user_pool::KIND,
            Spec::UserPoolClient(_) => user_pool_client::KIND,
            Spec::IdentityPool(_) => identity_pool::KIND,
            Spec::Role(_) => role::KIND,
            Spec::IdentityPoolRoles(_) => identity_pool_roles::KIND,
            Spec::Bucket(_) => bucket::KIND,
            Spec::HttpApi(_) => http_api::KIND,
            Spec::TestUser(_) => test_user::KIND,
        }
    }

    /// Fields that cannot change in place.
    pub fn force_new(&self) -> &'static [&'static str] {
        match self {
            Spec::UserPool(_) => user_pool::FORCE_NEW,
            Spec::UserPoolClient(_) => user_pool_client::FORCE_NEW,
            Spec::IdentityPool(_) => identity_pool::FORCE_NEW,
            Spec::Role(_) => role::FORCE_NEW,
            Spec::IdentityPoolRoles(_) => identity_pool_roles::FORCE_NEW,
            Spec::Bucket(_) => bucket::FORCE_NEW,
            Spec::HttpApi(_) => http_api::FORCE_NEW,
            Spec::TestUser(_) => test_user::FORCE_NEW,
        }
    }

    /// The deterministic physical name (or the parent id for attachments).
    pub fn name(&self) -> String {
        dispatch!(self, s => s.name())
    }

    pub fn state(&self) -> State {
        dispatch!(self, s => s.state())
    }

    /// The spec without the optional values that are still unknown because the node they come
    /// from failed or is blocked (see `Node::soft_deps`): an attachment without its guest role.
    pub fn without_unknown_optionals(self) -> Spec {
        match self {
            Spec::IdentityPoolRoles(mut s) => {
                s.unauthenticated_role_arn = s.unauthenticated_role_arn.filter(|a| !is_unknown(a));
                Spec::IdentityPoolRoles(s)
            }
            other => other,
        }
    }

    /// Reads the resource; `adopt` is a physical id named in the config.
    pub async fn find(&self, aws: &Aws, adopt: Option<&str>) -> Result<Option<Observed>, AwsError> {
        match self {
            Spec::UserPool(s) => user_pool::find(aws, s, adopt).await,
            Spec::UserPoolClient(s) => user_pool_client::find(aws, s).await,
            Spec::IdentityPool(s) => identity_pool::find(aws, s, adopt).await,
            Spec::Role(s) => role::find(aws, s, adopt).await,
            Spec::IdentityPoolRoles(s) => identity_pool_roles::find(aws, s).await,
            Spec::Bucket(s) => bucket::find(aws, s, adopt).await,
            Spec::HttpApi(s) => http_api::find(aws, s, adopt).await,
            Spec::TestUser(s) => test_user::find(aws, s).await,
        }
    }

    /// Reads the resource by the physical id an earlier read found (a Describe instead of a
    /// List); kinds found without listing, and a hint that no longer names our resource, fall
    /// back to [`Spec::find`].
    pub async fn find_known(&self, aws: &Aws, id: &str) -> Result<Option<Observed>, AwsError> {
        match self {
            Spec::UserPool(s) => user_pool::find_known(aws, s, id).await,
            Spec::IdentityPool(s) => identity_pool::find_known(aws, s, id).await,
            Spec::HttpApi(s) => http_api::find_known(aws, s, id).await,
            _ => self.find(aws, None).await,
        }
    }

    /// Whether a physical id is worth remembering for [`Spec::find_known`].
    pub fn found_by_listing(&self) -> bool {
        matches!(
            self,
            Spec::UserPool(_) | Spec::IdentityPool(_) | Spec::HttpApi(_)
        )
    }

    pub async fn create(&self, aws: &Aws) -> Result<Observed, AwsError> {
        match self {
            Spec::UserPool(s) => user_pool::create(aws, s).await,
            Spec::UserPoolClient(s) => user_pool_client::create(aws, s).await,
            Spec::IdentityPool(s) => identity_pool::create(aws, s).await,
            Spec::Role(s) => role::create(aws, s).await,
            Spec::IdentityPoolRoles(s) => identity_pool_roles::create(aws, s).await,
            Spec::Bucket(s) => bucket::create(aws, s).await,
            Spec::HttpApi(s) => http_api::create(aws, s).await,
            Spec::TestUser(s) => test_user::create(aws, s).await,
        }
    }

    /// Changes the fields named in `changed` in place.
    pub async fn update(
        &self,
        aws: &Aws,
        obs: &Observed,
        changed: &[&'static str],
    ) -> Result<Observed, AwsError> {
        match self {
            Spec::UserPool(s) => user_pool::update(aws, s, obs, changed).await,
            Spec::UserPoolClient(s) => user_pool_client::update(aws, s, obs, changed).await,
            Spec::IdentityPool(s) => identity_pool::update(aws, s, obs, changed).await,
            Spec::Role(s) => role::update(aws, s, obs, changed).await,
            Spec::IdentityPoolRoles(s) => identity_pool_roles::update(aws, s, obs, changed).await,
            Spec::Bucket(s) => bucket::update(aws, s, obs, changed).await,
            Spec::HttpApi(s) => http_api::update(aws, s, obs, changed).await,
            Spec::TestUser(s) => test_user::update(aws, s, obs, changed).await,
        }
    }

    /// Stops owning the resource `obs` describes without deleting it (removal `retain` on
    /// replacement): stackwatch's tags are removed, so it is no longer found as ours.
    pub async fn release(&self, aws: &Aws, obs: &Observed) -> Result<(), AwsError> {
        match self {
            Spec::UserPool(_) => user_pool::release(aws, obs).await,
            // Buckets have no fields that force replacement; the rest hold no data, so
            // replacing them deletes the old one.
            _ => self.delete(aws, obs).await,
        }
    }

    /// Deletes the resource `obs` describes. Callers check ownership and removal policy first.
    pub async fn delete(&self, aws: &Aws, obs: &Observed) -> Result<(), AwsError> {
        match self {
            Spec::UserPool(_) => user_pool::delete(aws, obs).await,
            Spec::UserPoolClient(s) => user_pool_client::delete(aws, s, obs).await,
            Spec::IdentityPool(_) => identity_pool::delete(aws, obs).await,
            Spec::Role(_) => role::delete(aws, obs).await,
            Spec::IdentityPoolRoles(_) => identity_pool_roles::delete(aws, obs).await,
            Spec::Bucket(_) => bucket::delete(aws, obs).await,
            Spec::HttpApi(_) => http_api::delete(aws, obs).await,
            Spec::TestUser(s) => test_user::delete(aws, s, obs).await,
        }
    }
}

/// The AWS partition of a region, for ARNs: `aws`, `aws-cn` or `aws-us-gov` (the isolated
/// partitions' regions are named `us-iso-*` and `us-isob-*`).
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else {
        "aws"
    }
}

/// True when a value still holds a placeholder for something not created yet.
pub fn is_unknown(s: &str) -> bool {
    s.contains(crate::config::template::UNKNOWN)
}

/// A resource found by listing, carrying stackwatch's tags for this app and stage: the
/// candidates for deletion when no stack file declares them any more.
#[derive(Debug, Clone)]
pub struct Owned {
    pub id: String,
    pub tags: Tags,
}

impl Owned {
    /// The logical id from its tags: `{stack}.{id}`.
    pub fn logical_id(&self) -> String {
        format!(
            "{}.{}",
            self.tags.get(TAG_STACK).map_or("?", String::as_str),
            self.tags.get(TAG_ID).map_or("?", String::as_str)
        )
    }

    /// Enough of an `Observed` to delete it.
    pub fn observed(&self) -> Observed {
        Observed {
            id: self.id.clone(),
            owner: Owner::Ours,
            state: State::new(),
            attrs: Attrs::new(),
            detail: Detail::None,
            notes: Vec::new(),
        }
    }
}

/// True when `tags` mark a resource of this app and stage.
pub fn is_app_stage(tags: &Tags, app: &str, stage: &str) -> bool {
    tags.get(TAG_APP).map(String::as_str) == Some(app)
        && tags.get(TAG_STAGE).map(String::as_str) == Some(stage)
}
