//! The stack files exactly as written: serde types that mirror the YAML, with source spans.
//!
//! Nothing here is checked beyond shape: unknown keys are refused, and every value that a later
//! check may complain about keeps its line and column (`Spanned`). `config::Validator` (in
//! `config/mod.rs`) turns these into the model. The JSON Schema for editors is generated from these same types.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

/// A string that remembers where it was written.
pub type SString = Spanned<String>;

/// `stackwatch.yaml`: the app, its stage and region, and defaults for every stack.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AppFile {
    /// The app's name, used in every physical name (`{stage}-{app}-…`).
    #[schemars(with = "String", regex(pattern = r"^[A-Za-z][A-Za-z0-9]*$"))]
    pub app: SString,
    /// The default stage (overridden by `--stage`).
    #[schemars(with = "String", regex(pattern = r"^[A-Za-z][A-Za-z0-9]*$"))]
    pub stage: SString,
    /// The AWS region, such as `us-east-1`.
    #[schemars(with = "String")]
    pub region: SString,
    /// Defaults applied to every stack.
    #[serde(default)]
    pub defaults: Defaults,
}

/// Defaults applied to every stack unless a resource says otherwise.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Defaults {
    /// Removal policy for resources that hold data (user pools, buckets). Default `retain`.
    pub removal: Option<Removal>,
    /// The permissions boundary and path of every IAM role stackwatch creates (an `auth`
    /// resource's own `iam` overrides each field).
    #[schemars(with = "Option<IamSettings>")]
    pub iam: Option<Spanned<IamSettings>>,
}

/// What every IAM role stackwatch creates carries, for accounts that allow `iam:CreateRole`
/// only with a permissions boundary (and often only under a path).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IamSettings {
    /// The ARN of the managed policy set as each role's permissions boundary. Drift is reverted.
    #[schemars(with = "Option<String>")]
    pub permissions_boundary: Option<SString>,
    /// Each role's path: `/`, or `/` + names + `/`. Default `/stackwatch/`. Cannot change in
    /// place: a change replaces the roles.
    #[schemars(with = "Option<String>")]
    pub path: Option<SString>,
}

/// What `destroy` (or removing a resource from the files) does with a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Removal {
    /// Leave it in AWS; stackwatch stops managing it.
    Retain,
    /// Delete it.
    Destroy,
}

/// One stack file under `stacks/`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StackFile {
    /// The stack's name, such as `AuthStack`.
    #[schemars(with = "String", regex(pattern = r"^[A-Za-z][A-Za-z0-9]*$"))]
    pub stack: SString,
    /// Stacks whose resources this stack references.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub uses: Vec<SString>,
    /// The stack's resources, by logical name.
    #[serde(default)]
    pub resources: BTreeMap<String, ResourceDef>,
    /// Values printed after deploy, such as `UserPoolId: ${AuthStack.Auth.userPoolId}`.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub outputs: BTreeMap<String, SString>,
}

/// The kinds of resource a stack file can declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// An S3 bucket.
    Bucket,
    /// An API Gateway HTTP API with routes.
    Api,
    /// Cognito sign-in: user pool, client, identity pool and IAM roles.
    Auth,
    /// A DynamoDB table.
    Table,
}

/// What a config kind is, beyond its fields: the one table of per-kind facts that
/// validation, references and expansion ask (they hold none of their own).
#[derive(Debug)]
pub struct KindInfo {
    /// As written in the files: `kind: table`.
    pub name: &'static str,
    /// What it exports to `${Stack.Resource.attribute}`.
    pub attributes: &'static [&'static str],
    /// Whether it holds data: then `removal` defaults to the stack's default, else `retain`;
    /// a kind that holds none defaults to `destroy`.
    pub holds_data: bool,
    /// `adopt:` takes one physical id (`None`), or a map with these keys.
    pub adopt_keys: Option<&'static [&'static str]>,
}

impl Kind {
    pub fn info(self) -> &'static KindInfo {
        match self {
            Kind::Bucket => &KindInfo {
                name: "bucket",
                attributes: &["name", "arn"],
                holds_data: true,
                adopt_keys: None,
            },
            Kind::Api => &KindInfo {
                name: "api",
                attributes: &["id", "url"],
                holds_data: false,
                adopt_keys: None,
            },
            Kind::Auth => &KindInfo {
                name: "auth",
                attributes: &[
                    "userPoolId",
                    "userPoolArn",
                    "userPoolClientId",
                    "identityPoolId",
                    "authenticatedRoleArn",
                    "unauthenticatedRoleArn",
                ],
                holds_data: true,
                adopt_keys: Some(&[
                    "userPool",
                    "identityPool",
                    "authenticatedRole",
                    "unauthenticatedRole",
                ]),
            },
            Kind::Table => &KindInfo {
                name: "table",
                attributes: &["name", "arn", "streamArn"],
                holds_data: true,
                adopt_keys: None,
            },
        }
    }

    /// The kind as written in the files.
    pub fn name(self) -> &'static str {
        self.info().name
    }
}

/// One resource. `kind` decides which of the other fields apply; the rest are refused.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResourceDef {
    /// The resource kind.
    #[schemars(with = "Kind")]
    pub kind: Spanned<Kind>,
    /// Removal policy; default `retain` for buckets and auth, `destroy` for APIs.
    #[schemars(with = "Option<Removal>")]
    pub removal: Option<Spanned<Removal>>,
    /// Take over an existing resource that lacks stackwatch's tags: its physical id
    /// (bucket or API), or for `auth` a map of component to id.
    #[schemars(with = "Option<Adopt>")]
    pub adopt: Option<Spanned<Adopt>>,

    /// bucket: CORS rules for a browser front end.
    #[schemars(with = "Option<Vec<CorsRule>>")]
    pub cors: Option<Spanned<Vec<CorsRule>>>,

    /// api: `iam` makes every route use AWS_IAM authorization; `none` leaves them open.
    #[schemars(with = "Option<Authorizer>")]
    pub authorizer: Option<Spanned<Authorizer>>,
    /// api: routes as `"METHOD /path": integration`, where integration is an HTTP(S) URL or a Lambda ARN.
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub routes: Option<Spanned<BTreeMap<String, SString>>>,

    /// auth: how users sign in: `[email]`, `[phone]`, `[email, phone]` or `[username]`.
    /// Cannot change in place: a change replaces the user pool.
    #[schemars(with = "Option<Vec<String>>")]
    pub login: Option<Spanned<Vec<SString>>>,
    /// auth: allow unauthenticated (guest) identities in the identity pool. Default false.
    #[schemars(with = "Option<bool>")]
    pub allow_unauthenticated: Option<Spanned<bool>>,
    /// auth: permissions of signed-in (and guest) identities.
    #[schemars(with = "Option<Permissions>")]
    pub permissions: Option<Spanned<Permissions>>,
    /// auth: test users, created confirmed with a permanent password on apply. Only in the
    /// stages each lists (default `[dev]`); other stages get none.
    #[schemars(with = "Option<Vec<TestUser>>")]
    pub users: Option<Spanned<Vec<TestUser>>>,
    /// auth: the permissions boundary and path of its roles (overrides `defaults.iam`).
    #[schemars(with = "Option<IamSettings>")]
    pub iam: Option<Spanned<IamSettings>>,

    /// table: the partition key (required). Cannot change in place: a change replaces the table.
    #[schemars(with = "Option<TableKey>")]
    pub partition_key: Option<Spanned<TableKey>>,
    /// table: the sort key. Cannot change in place: a change replaces the table.
    #[schemars(with = "Option<TableKey>")]
    pub sort_key: Option<Spanned<TableKey>>,
    /// table: `onDemand` (default) or `provisioned` (then `capacity` is required).
    #[schemars(with = "Option<BillingMode>")]
    pub billing_mode: Option<Spanned<BillingMode>>,
    /// table: read and write capacity units, with `billingMode: provisioned`.
    #[schemars(with = "Option<Capacity>")]
    pub capacity: Option<Spanned<Capacity>>,
    /// table: point-in-time recovery. Default false.
    #[schemars(with = "Option<bool>")]
    pub point_in_time_recovery: Option<Spanned<bool>>,
    /// table: the attribute holding each item's expiry time (TTL), in epoch seconds.
    #[schemars(with = "Option<String>")]
    pub ttl_attribute: Option<SString>,
    /// table: a stream of changes, with what each record holds.
    #[schemars(with = "Option<StreamView>")]
    pub stream: Option<Spanned<StreamView>>,
}

/// The `table` kind's fields of a [`ResourceDef`], once checked to belong to a table.
#[derive(Debug)]
pub struct TableFields {
    pub partition_key: Option<Spanned<TableKey>>,
    pub sort_key: Option<Spanned<TableKey>>,
    pub billing_mode: Option<Spanned<BillingMode>>,
    pub capacity: Option<Spanned<Capacity>>,
    pub point_in_time_recovery: Option<Spanned<bool>>,
    pub ttl_attribute: Option<SString>,
    pub stream: Option<Spanned<StreamView>>,
}

/// A table key attribute.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TableKey {
    /// The attribute name, such as `userId`.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: KeyType,
}

/// The type of a key attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyType {
    /// DynamoDB `S`.
    String,
    /// DynamoDB `N`.
    Number,
    /// DynamoDB `B`.
    Binary,
}

/// How a table is billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum BillingMode {
    /// Pay per request (DynamoDB `PAY_PER_REQUEST`).
    OnDemand,
    /// Provisioned capacity (`PROVISIONED`), set in `capacity`.
    Provisioned,
}

/// Provisioned capacity units.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    /// Read capacity units, at least 1.
    pub read: i64,
    /// Write capacity units, at least 1.
    pub write: i64,
}

/// What each stream record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum StreamView {
    /// The key attributes only (`KEYS_ONLY`).
    KeysOnly,
    /// The item after the change (`NEW_IMAGE`).
    NewImage,
    /// The item before the change (`OLD_IMAGE`).
    OldImage,
    /// Both (`NEW_AND_OLD_IMAGES`).
    NewAndOldImages,
}

/// A test user of an `auth` resource. The password is never written in the files: it is read
/// from the environment variable `passwordEnv` when planning, and never shown.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TestUser {
    /// The user's email address, which they sign in with.
    #[schemars(with = "String")]
    pub email: SString,
    /// The environment variable that holds the password, such as `STACKWATCH_TEST_PASSWORD`.
    #[schemars(with = "String", regex(pattern = r"^[A-Za-z_][A-Za-z0-9_]*$"))]
    pub password_env: SString,
    /// The stages where this user exists. Default `[dev]`.
    #[schemars(with = "Option<Vec<String>>")]
    pub stages: Option<Vec<SString>>,
}

/// `adopt:` — one physical id, or a map of auth component to physical id.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Adopt {
    /// The physical id of a bucket or API.
    One(String),
    /// For `auth`: `userPool`, `identityPool`, `authenticatedRole`, `unauthenticatedRole`.
    Many(BTreeMap<String, String>),
}

/// One S3 CORS rule.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CorsRule {
    /// Origins allowed, such as `*` or `https://app.example.com`.
    pub allowed_origins: Vec<String>,
    /// Methods allowed: GET, PUT, POST, DELETE, HEAD.
    pub allowed_methods: Vec<String>,
    /// Request headers allowed.
    #[serde(default)]
    pub allowed_headers: Vec<String>,
    /// Response headers exposed to the browser.
    #[serde(default)]
    pub exposed_headers: Vec<String>,
    /// Seconds a browser may cache the preflight answer.
    pub max_age: Option<i32>,
}

/// How an HTTP API authorizes its routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Authorizer {
    /// AWS_IAM: callers sign requests with credentials from the identity pool.
    Iam,
    /// No authorization.
    None,
}

/// The permissions of an `auth` resource's identities.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Permissions {
    /// Statements for signed-in users.
    #[serde(default)]
    pub authenticated: Vec<Statement>,
    /// Statements for guest identities (needs `allowUnauthenticated: true`).
    #[serde(default)]
    pub unauthenticated: Vec<Statement>,
}

/// One IAM policy statement. `${Stack.Resource.attr}` references are resolved;
/// IAM policy variables such as `${cognito-identity.amazonaws.com:sub}` are kept literally.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Statement {
    /// `allow` (default) or `deny`.
    #[serde(default)]
    pub effect: Effect,
    /// IAM actions such as `s3:GetObject` or `execute-api:Invoke`.
    #[schemars(with = "Vec<String>")]
    pub actions: Vec<SString>,
    /// Resource ARNs; references and policy variables allowed.
    #[schemars(with = "Vec<String>")]
    pub resources: Vec<SString>,
}

/// A statement's effect.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    /// Allow.
    #[default]
    Allow,
    /// Deny.
    Deny,
}
