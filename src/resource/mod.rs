//! AWS resource kinds: the [`ResourceKind`] interface every kind implements, the one
//! [`registry!`] of kinds, and what the kinds share (ownership by tags, state helpers, the
//! partition of a region). One file per kind, each in the same order: `Spec` and naming (with
//! AWS's limits), state, find (NotFound is `Ok(None)`), create, update, delete, and the named
//! retry predicates that kind needs; at its end, its `impl ResourceKind`.

pub mod auth;
pub mod bucket;
pub mod declare;
pub mod http_api;
pub mod identity_pool;
pub mod identity_pool_roles;
pub mod lambda_permission;
pub mod naming;
pub mod queue;
pub mod role;
pub mod table;
pub mod test_user;
pub mod user_pool;
pub mod user_pool_client;

use std::collections::BTreeMap;
use std::future::Future;

use serde_json::Value;

use crate::aws::{Aws, AwsError};
use crate::source::template::{Resolved, Template};
pub use declare::{ConfigKind, Declared, KindInfo, Unchecked};

/// The kind a stack file declares by this name.
pub fn declared(kind: &str) -> Option<&'static KindInfo> {
    DECLARED.iter().find(|k| k.name == kind)
}

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

/// Tags as one SDK's list of tags: `build` is that SDK's builder of one tag. A tag it refuses
/// is an error naming the resource being tagged.
pub fn sdk_tags<T, E: std::fmt::Display>(
    tags: &Tags,
    kind: &'static str,
    id: &str,
    build: impl Fn(&str, &str) -> Result<T, E>,
) -> Result<Vec<T>, AwsError> {
    tags.iter()
        .map(|(k, v)| {
            build(k, v).map_err(|e| AwsError::refused("tagging", kind, id, e.to_string()))
        })
        .collect()
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

impl Observed {
    /// An observation with no kind-specific detail and nothing to note.
    pub fn new(id: impl Into<String>, owner: Owner, state: State, attrs: Attrs) -> Observed {
        Observed {
            id: id.into(),
            owner,
            state,
            attrs,
            detail: Detail::None,
            notes: Vec::new(),
        }
    }
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

/// Where a read starts from besides the spec's own name.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hint<'a> {
    /// A physical id named in `adopt:`: that resource is taken over, tags or not.
    pub adopt: Option<&'a str>,
    /// The physical id an earlier read found (one Describe instead of a List); only a hint:
    /// a kind falls back to finding by name when it no longer names our resource.
    pub known: Option<&'a str>,
}

impl<'a> Hint<'a> {
    /// Take over this physical id, tags or not.
    pub fn adopt(id: &'a str) -> Hint<'a> {
        Hint {
            adopt: Some(id),
            known: None,
        }
    }
}

/// What leftover discovery looks for: this app and stage's resources, minus the names the
/// files declare (those are read by their nodes).
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub app: &'a str,
    pub stage: &'a str,
    pub declared_names: &'a std::collections::BTreeSet<String>,
}

/// What a kind needs to turn its `Def` into a `Spec`: the region, the node's tags, and the
/// renderer of templates (references resolved with the attributes known so far; an unknown
/// one renders as the "known after apply" placeholder).
pub struct Resolve<'a> {
    pub region: &'a str,
    pub tags: &'a Tags,
    pub render: &'a mut dyn FnMut(&Template) -> Resolved,
}

impl Resolve<'_> {
    /// The template's value, or one known only after apply.
    pub fn render(&mut self, t: &Template) -> Resolved {
        (self.render)(t)
    }

    /// The template's text, for a field that is only compared and shown: a reference not known
    /// yet shows as the placeholder, and the node waits for it before any write.
    pub fn text(&mut self, t: &Template) -> String {
        (self.render)(t).into_text()
    }
}

/// What a kind needs to link to one of its resources in the AWS web console.
pub struct ConsoleLink<'a> {
    pub region: &'a str,
    /// The physical id, percent-encoded.
    pub id: &'a str,
    /// The percent-encoded physical id of another part of the same declared resource, by its
    /// component name (`UserPool`): where a client or a test user lives.
    pub sibling: &'a dyn Fn(&str) -> Option<String>,
}

impl ConsoleLink<'_> {
    /// The regional console's home: `https://{region}.console.aws.amazon.com`.
    pub fn home(&self) -> String {
        format!("https://{}.console.aws.amazon.com", self.region)
    }

    /// A kind's [`ResourceKind::CONSOLE_URL`] filled in: `{home}`, `{region}`, `{id}`, and any
    /// other `{Component}` with that sibling's id; `None` when the sibling is not known.
    pub fn url(&self, template: &str) -> Option<String> {
        let mut url = String::new();
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            let end = start + rest[start..].find('}')?;
            url.push_str(&rest[..start]);
            match &rest[start + 1..end] {
                "home" => url.push_str(&self.home()),
                "region" => url.push_str(self.region),
                "id" => url.push_str(self.id),
                component => url.push_str(&(self.sibling)(component)?),
            }
            rest = &rest[end + 1..];
        }
        url.push_str(rest);
        Some(url)
    }
}

/// What every kind's `impl ResourceKind` takes from its own file, the same in each: the file's
/// `Def` and `Spec` types and its `KIND`.
#[macro_export]
macro_rules! kind_basics {
    () => {
        type Def = Def;
        type Spec = Spec;
        const KIND: &'static str = KIND;
    };
}

/// One resource kind: everything stackwatch knows about it lives in its file, behind this
/// interface, in the same order in every file: the spec and its naming, the state it compares,
/// how it is found (NotFound is `Ok(None)`), the fields that force replacement, create (tags in
/// the create call), update, delete, and what it does as a leftover. The engine asks the kind;
/// it knows no kind by name. Add a kind with one file and one line in [`registry!`] below.
pub trait ResourceKind {
    /// What the config asks for, with references still unresolved (templates).
    type Def: std::fmt::Debug + Clone + Send + Sync;
    /// What we want, fully resolved.
    type Spec: std::fmt::Debug + Clone + Send + Sync;
    /// The kind as people say it: `Cognito user pool`.
    const KIND: &'static str;
    /// State fields that cannot change in place: a change replaces the resource.
    const FORCE_NEW: &'static [&'static str] = &[];
    /// Whether it holds data: then it follows its `removal` policy (retained by default) on
    /// destroy and replacement, and is never deleted as a leftover.
    const HOLDS_DATA: bool = false;
    /// Whether it is found through another node's id (a client through its pool), so its read
    /// waits for that node's; otherwise it is found by its own deterministic name.
    const FOUND_THROUGH_DEPS: bool = false;
    /// Whether finding it by name means listing, so the physical id is worth remembering.
    const FOUND_BY_LISTING: bool = false;
    /// Whether resources of this kind that no file declares are found and deleted.
    const FINDS_LEFTOVERS: bool = false;

    /// The templates of a def: its references decide what it depends on.
    fn templates(def: &Self::Def) -> Vec<&Template>;
    /// The templates whose values the node can do without (see `Node::soft_deps`).
    fn optional_templates(_def: &Self::Def) -> Vec<&Template> {
        Vec::new()
    }
    /// The def with what is known now.
    fn resolve(def: &Self::Def, cx: &mut Resolve<'_>) -> Self::Spec;

    /// The deterministic physical name (or the parent id for attachments).
    fn name(spec: &Self::Spec) -> String;
    /// The comparable fields, in canonical form.
    fn state(spec: &Self::Spec) -> State;
    /// Reads it; `Ok(None)` when it does not exist.
    fn find(
        aws: &Aws,
        spec: &Self::Spec,
        hint: Hint<'_>,
    ) -> impl Future<Output = Result<Option<Observed>, AwsError>> + Send;
    fn create(
        aws: &Aws,
        spec: &Self::Spec,
    ) -> impl Future<Output = Result<Observed, AwsError>> + Send;
    /// Changes the fields named in `changed` in place.
    fn update(
        aws: &Aws,
        spec: &Self::Spec,
        obs: &Observed,
        changed: &[&'static str],
    ) -> impl Future<Output = Result<Observed, AwsError>> + Send;
    /// Deletes it. Callers check ownership and removal policy first.
    fn delete(
        aws: &Aws,
        spec: &Self::Spec,
        obs: &Observed,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// Stops owning it without deleting it (a retained resource being replaced): our tags
    /// are removed. Kinds that hold no data are deleted instead.
    fn release(
        aws: &Aws,
        spec: &Self::Spec,
        obs: &Observed,
    ) -> impl Future<Output = Result<(), AwsError>> + Send {
        Self::delete(aws, spec, obs)
    }
    /// The spec without optional values that are still unknown because the node they come
    /// from failed or is blocked (see `Node::soft_deps`).
    fn without_unknown_optionals(spec: Self::Spec) -> Self::Spec {
        spec
    }
    /// This app and stage's resources of this kind, by tags (only with `FINDS_LEFTOVERS`).
    fn list_owned(
        _aws: &Aws,
        _scope: Scope<'_>,
    ) -> impl Future<Output = Result<Vec<Owned>, AwsError>> + Send {
        async { Ok(Vec::new()) }
    }
    /// Its page in the AWS web console, if it has one: a URL with `{home}`, `{region}`, `{id}`
    /// and sibling components (`{UserPool}`) to fill in (see [`ConsoleLink::url`]).
    const CONSOLE_URL: Option<&'static str> = None;
    /// Deletes a leftover that [`ResourceKind::list_owned`] found.
    fn delete_owned(
        _aws: &Aws,
        obs: &Observed,
    ) -> impl Future<Output = Result<(), AwsError>> + Send {
        let e = AwsError::refused(
            "deleting",
            Self::KIND,
            &obs.id,
            "not a kind found as a leftover",
        );
        async { Err(e) }
    }
}

/// The one registry: each line names a kind's variant and the type implementing
/// [`ResourceKind`], and, after `declares`, the [`ConfigKind`] a stack file can name on that
/// line (`auth` is declared beside the user pool, its first part). It generates the `Def`,
/// `Spec` and `KindId` enums, their dispatch, and the reading of each declared kind's fields.
/// Order matters once: leftovers are deleted kind by kind in this order (an identity pool
/// before roles: deleting the pool also drops its role attachment).
macro_rules! registry {
    ($($variant:ident => $ty:ty $(, declares $decl:ty)?;)*) => {
        /// The kinds a stack file can declare (`kind: queue`), in registry order.
        pub static DECLARED: &[KindInfo] = &[$($(KindInfo::of::<$decl>(),)?)*];

        /// Reads a resource's own fields as kind `kind` declares them; `None` for a kind no
        /// line declares (its value is skipped; the config loader reports the kind).
        pub fn read_declared<'de, D: serde::Deserializer<'de>>(
            kind: &str,
            d: D,
        ) -> Result<Option<Box<dyn Unchecked>>, D::Error> {
            use serde::Deserialize;
            $($(
                if kind == <$decl as ConfigKind>::NAME {
                    let fields = <<$decl as ConfigKind>::Fields>::deserialize(d)?;
                    return Ok(Some(Box::new(declare::Read::<$decl>(fields))));
                }
            )?)*
            serde::de::IgnoredAny::deserialize(d).map(|_| None)
        }

        /// A desired resource of any kind, references unresolved.
        #[derive(Debug, Clone)]
        pub enum Def {
            $($variant(<$ty as ResourceKind>::Def)),*
        }

        impl Def {
            pub fn kind(&self) -> KindId {
                match self { $(Def::$variant(_) => KindId::$variant),* }
            }
            pub fn templates(&self) -> Vec<&Template> {
                match self { $(Def::$variant(d) => <$ty as ResourceKind>::templates(d)),* }
            }
            pub fn optional_templates(&self) -> Vec<&Template> {
                match self { $(Def::$variant(d) => <$ty as ResourceKind>::optional_templates(d)),* }
            }
            pub fn resolve(&self, cx: &mut Resolve<'_>) -> Spec {
                match self { $(Def::$variant(d) => Spec::$variant(<$ty as ResourceKind>::resolve(d, cx))),* }
            }
        }

        /// A resolved desired resource of any kind.
        #[derive(Debug, Clone)]
        pub enum Spec {
            $($variant(<$ty as ResourceKind>::Spec)),*
        }

        /// A kind, without a spec.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum KindId {
            $($variant),*
        }

        impl KindId {
            pub const ALL: &'static [KindId] = &[$(KindId::$variant),*];

            pub fn kind(self) -> &'static str {
                match self { $(KindId::$variant => <$ty as ResourceKind>::KIND),* }
            }
            pub fn holds_data(self) -> bool {
                match self { $(KindId::$variant => <$ty as ResourceKind>::HOLDS_DATA),* }
            }
            pub fn found_through_deps(self) -> bool {
                match self { $(KindId::$variant => <$ty as ResourceKind>::FOUND_THROUGH_DEPS),* }
            }
            pub fn found_by_listing(self) -> bool {
                match self { $(KindId::$variant => <$ty as ResourceKind>::FOUND_BY_LISTING),* }
            }
            /// The kind whose name people see is `kind` (`S3 bucket`).
            pub fn from_kind(kind: &str) -> Option<KindId> {
                KindId::ALL.iter().copied().find(|k| k.kind() == kind)
            }
            pub fn console_url(self, link: &ConsoleLink<'_>) -> Option<String> {
                link.url(match self { $(KindId::$variant => <$ty as ResourceKind>::CONSOLE_URL),* }?)
            }
            pub fn finds_leftovers(self) -> bool {
                match self { $(KindId::$variant => <$ty as ResourceKind>::FINDS_LEFTOVERS),* }
            }
            pub async fn list_owned(self, aws: &Aws, scope: Scope<'_>) -> Result<Vec<Owned>, AwsError> {
                match self { $(KindId::$variant => <$ty as ResourceKind>::list_owned(aws, scope).await),* }
            }
            pub async fn delete_owned(self, aws: &Aws, obs: &Observed) -> Result<(), AwsError> {
                match self { $(KindId::$variant => <$ty as ResourceKind>::delete_owned(aws, obs).await),* }
            }
        }

        impl Spec {
            pub fn id(&self) -> KindId {
                match self { $(Spec::$variant(_) => KindId::$variant),* }
            }
            /// The kind as people say it: `Cognito user pool`.
            pub fn kind(&self) -> &'static str {
                self.id().kind()
            }
            /// Fields that cannot change in place.
            pub fn force_new(&self) -> &'static [&'static str] {
                match self { $(Spec::$variant(_) => <$ty as ResourceKind>::FORCE_NEW),* }
            }
            /// The deterministic physical name (or the parent id for attachments).
            pub fn name(&self) -> String {
                match self { $(Spec::$variant(s) => <$ty as ResourceKind>::name(s)),* }
            }
            pub fn state(&self) -> State {
                match self { $(Spec::$variant(s) => <$ty as ResourceKind>::state(s)),* }
            }
            pub async fn find(&self, aws: &Aws, hint: Hint<'_>) -> Result<Option<Observed>, AwsError> {
                match self { $(Spec::$variant(s) => <$ty as ResourceKind>::find(aws, s, hint).await),* }
            }
            pub async fn create(&self, aws: &Aws) -> Result<Observed, AwsError> {
                match self { $(Spec::$variant(s) => <$ty as ResourceKind>::create(aws, s).await),* }
            }
            pub async fn update(
                &self,
                aws: &Aws,
                obs: &Observed,
                changed: &[&'static str],
            ) -> Result<Observed, AwsError> {
                match self { $(Spec::$variant(s) => <$ty as ResourceKind>::update(aws, s, obs, changed).await),* }
            }
            pub async fn delete(&self, aws: &Aws, obs: &Observed) -> Result<(), AwsError> {
                match self { $(Spec::$variant(s) => <$ty as ResourceKind>::delete(aws, s, obs).await),* }
            }
            pub async fn release(&self, aws: &Aws, obs: &Observed) -> Result<(), AwsError> {
                match self { $(Spec::$variant(s) => <$ty as ResourceKind>::release(aws, s, obs).await),* }
            }
            pub fn without_unknown_optionals(self) -> Spec {
                match self {
                    $(Spec::$variant(s) => Spec::$variant(<$ty as ResourceKind>::without_unknown_optionals(s))),*
                }
            }
        }
    };
}

registry! {
    UserPool => user_pool::UserPool, declares auth::AuthKind;
    UserPoolClient => user_pool_client::UserPoolClient;
    IdentityPool => identity_pool::IdentityPool;
    Role => role::Role;
    IdentityPoolRoles => identity_pool_roles::IdentityPoolRoles;
    Bucket => bucket::Bucket, declares bucket::Bucket;
    HttpApi => http_api::HttpApi, declares http_api::HttpApi;
    LambdaPermission => lambda_permission::LambdaPermission;
    TestUser => test_user::TestUser;
    Table => table::Table, declares table::Table;
    Queue => queue::Queue, declares queue::Queue;
}

/// One owned match wins; two owned matches are an error, not a guess; a foreign one is returned
/// as Foreign so the plan can refuse to touch it.
pub fn pick(
    mut found: Vec<Observed>,
    kind: &'static str,
    name: &str,
) -> Result<Option<Observed>, AwsError> {
    let owned: Vec<&Observed> = found.iter().filter(|o| o.owner == Owner::Ours).collect();
    if owned.len() > 1 {
        let ids: Vec<&str> = owned.iter().map(|o| o.id.as_str()).collect();
        return Err(AwsError::refused(
            "finding",
            kind,
            name,
            format!(
                "{} resources carry this resource's stackwatch tags ({}); delete the extra one or name the right one in `adopt:`",
                ids.len(),
                ids.join(", ")
            ),
        ));
    }
    if let Some(i) = found.iter().position(|o| o.owner == Owner::Ours) {
        return Ok(Some(found.swap_remove(i)));
    }
    Ok(found.into_iter().next())
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
        Observed::new(self.id.clone(), Owner::Ours, State::new(), Attrs::new())
    }
}

/// True when `tags` mark a resource of this app and stage.
pub fn is_app_stage(tags: &Tags, app: &str, stage: &str) -> bool {
    tags.get(TAG_APP).map(String::as_str) == Some(app)
        && tags.get(TAG_STAGE).map(String::as_str) == Some(stage)
}

/// What the kinds' observation tests share: our tags and the planner's view of drift.
#[cfg(test)]
pub(crate) mod testing {
    use super::{Attrs, Observed, Owner, State, TAG_APP, TAG_ID, TAG_STACK, TAG_STAGE, Tags};

    /// The four tags a resolved spec carries.
    pub fn ours() -> Tags {
        [
            (TAG_APP, "notes"),
            (TAG_STAGE, "dev"),
            (TAG_STACK, "AuthStack"),
            (TAG_ID, "Auth"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// Our tags plus someone else's, as AWS returns them on a resource we own.
    pub fn ours_and_others() -> Tags {
        let mut tags = ours();
        tags.insert("team".into(), "web".into());
        tags
    }

    /// Asserts that `obs` is ours as its spec asks (`state`), with the physical id `id` and
    /// these attributes: what a resource just made reads as.
    pub fn assert_ours_as_specified(
        obs: &Observed,
        state: State,
        id: &str,
        attrs: &[(&'static str, &str)],
    ) {
        assert_eq!(obs.state, state);
        assert_eq!(obs.owner, Owner::Ours);
        assert_eq!(obs.id, id);
        let attrs: Attrs = attrs.iter().map(|&(k, v)| (k, v.to_string())).collect();
        assert_eq!(obs.attrs, attrs);
    }

    /// The fields the planner sees as changed between the desired and the observed state.
    pub fn drift(desired: &State, observed: &State) -> Vec<&'static str> {
        crate::plan::diff(desired, observed, &[])
            .into_iter()
            .map(|c| c.field)
            .collect()
    }
}
