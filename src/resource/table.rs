//! DynamoDB table: the notes table of the guide's StorageStack. Its whole life is here.
//!
//! - **Spec and naming:** `{stage}-{app}-{Stack}-{Resource}`, held to DynamoDB's rule for
//!   `TableName` (3-255 characters of `[a-zA-Z0-9_.-]`).
//! - **State:** partition key and optional sort key (name and type; both **force replacement**:
//!   DynamoDB cannot change a table's key schema), billing mode (on-demand by default, or
//!   provisioned with read and write capacity), point-in-time recovery, the TTL attribute, the
//!   stream's view type, and our tags.
//! - **Attributes:** `name`, `arn`, `streamArn` (empty without a stream).
//! - **Found** by its deterministic name (DescribeTable; ResourceNotFoundException is
//!   `Ok(None)`), then owned by the tags CreateTable set atomically (ListTagsOfResource).
//! - **Create** sends the tags in CreateTable, waits for the table to be ACTIVE, then turns on
//!   point-in-time recovery and TTL, which CreateTable cannot carry. A retried create whose first
//!   answer was lost meets "ResourceInUseException: Table already exists": the table is then
//!   read, and taken only when it carries our tags.
//! - **Update** changes each field with its own call; **delete** is DeleteTable. A retained
//!   table cannot be replaced (DynamoDB has one table per name): that replacement is refused
//!   before anything changes, saying to use `removal: destroy` or a new resource name.
//! - **Holds data:** its `removal` defaults to `retain`, and it is never deleted as a leftover.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, ContinuousBackupsDescription, KeySchemaElement, KeyType,
    PointInTimeRecoverySpecification, PointInTimeRecoveryStatus, ProvisionedThroughput,
    ScalarAttributeType, StreamSpecification, StreamViewType, TableDescription, TableStatus, Tag,
    TimeToLiveDescription, TimeToLiveSpecification, TimeToLiveStatus,
};
use serde_json::{Value, json};

use super::declare::{Check, ConfigKind, Expand};
use super::naming::{Chars, NameRule};
use super::{
    Attrs, Detail, Hint, Observed, Owner, Resolve, ResourceKind, State, Tags, owner_from_tags,
    tags_state,
};
use crate::aws::{self, Aws, AwsError, OrNotFound, OrRefused, RetryWhen, retry};
use crate::source::template::Template;

pub const KIND: &str = "DynamoDB table";
/// "ResourceNotFoundException: Requested resource not found: Table: X not found".
pub const NOT_FOUND: &[&str] = &["ResourceNotFoundException"];

/// CreateTable's `TableName`: 3-255 characters of `[a-zA-Z0-9_.-]`.
pub const NAME: NameRule = NameRule::new(
    "a DynamoDB table name",
    3,
    255,
    Chars {
        allowed: |c| c.is_ascii_alphanumeric() || "_.-".contains(c),
        words: "letters, digits and `_.-`",
    },
);

// ---- What a stack file declares: `kind: table`

/// The YAML of `kind: table`.
pub mod yaml {
    use schemars::JsonSchema;
    use serde::Deserialize;
    use serde_saphyr::Spanned;

    crate::kind_fields! {
        /// `kind: table`: a DynamoDB table.
        pub struct Fields {
            /// The partition key (required). Cannot change in place: a change replaces the table.
            #[schemars(with = "Option<TableKey>")]
            pub partition_key: Option<Spanned<TableKey>>,
            /// The sort key. Cannot change in place: a change replaces the table.
            #[schemars(with = "Option<TableKey>")]
            pub sort_key: Option<Spanned<TableKey>>,
            /// `onDemand` (default) or `provisioned` (then `capacity` is required).
            #[schemars(with = "Option<BillingMode>")]
            pub billing_mode: Option<Spanned<BillingMode>>,
            /// Read and write capacity units, with `billingMode: provisioned`.
            #[schemars(with = "Option<Capacity>")]
            pub capacity: Option<Spanned<Capacity>>,
            /// Point-in-time recovery. Default false.
            #[schemars(with = "Option<bool>")]
            pub point_in_time_recovery: Option<Spanned<bool>>,
            /// The attribute holding each item's expiry time (TTL), in epoch seconds.
            #[schemars(with = "Option<String>")]
            pub ttl_attribute: Option<Spanned<String>>,
            /// A stream of changes, with what each record holds.
            #[schemars(with = "Option<StreamView>")]
            pub stream: Option<Spanned<StreamView>>,
        }
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
}

/// A table key: attribute name and DynamoDB type (`S`, `N` or `B`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableKey {
    pub name: String,
    pub kind: String,
}

/// How a table is billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Billing {
    OnDemand,
    Provisioned { read: i64, write: i64 },
}

impl ConfigKind for Table {
    const NAME: &'static str = "table";
    const ABOUT: &'static str = "A DynamoDB table.";
    const ATTRIBUTES: &'static [&'static str] = &["name", "arn", "streamArn"];
    const HOLDS_DATA: bool = true;
    type Fields = yaml::Fields;
    /// The table's def, its name still empty (expansion derives it).
    type Spec = Def;

    /// A partition key (required), an optional sort key with another name, key and TTL
    /// attribute names of 1-255 characters, `capacity` exactly with `billingMode:
    /// provisioned` and at least 1 unit each.
    fn check(t: yaml::Fields, cx: &mut dyn Check) -> Def {
        let partition_key = match t.partition_key {
            Some(k) => check_key(cx, k),
            None => {
                cx.err(
                    cx.here(),
                    "expected `partitionKey: {name: …, type: string | number | binary}` on a table"
                        .into(),
                );
                TableKey {
                    name: String::new(),
                    kind: "S".into(),
                }
            }
        };
        let sort_key = t.sort_key.map(|k| {
            let at = k.referenced;
            let k = check_key(cx, k);
            if k.name == partition_key.name {
                cx.err_at(&at, "expected a sort key other than the partition key");
            }
            k
        });
        let billing = check_billing(cx, t.billing_mode, t.capacity);
        let ttl_attribute = t.ttl_attribute.map(|a| {
            if !(1..=255).contains(&a.value.chars().count()) {
                let m = format!(
                    "expected a TTL attribute name of 1-255 characters, found `{}`",
                    a.value
                );
                cx.err_at(&a.referenced, m);
            }
            a.value
        });
        let stream = t.stream.map(|s| {
            match s.value {
                yaml::StreamView::KeysOnly => "KEYS_ONLY",
                yaml::StreamView::NewImage => "NEW_IMAGE",
                yaml::StreamView::OldImage => "OLD_IMAGE",
                yaml::StreamView::NewAndOldImages => "NEW_AND_OLD_IMAGES",
            }
            .to_string()
        });
        Def {
            name: String::new(),
            partition_key,
            sort_key,
            billing,
            point_in_time_recovery: t.point_in_time_recovery.is_some_and(|p| p.value),
            ttl_attribute,
            stream,
        }
    }

    /// One node, named `{stage}-{app}-{stack}-{resource}`.
    fn expand(def: &Def, b: &mut dyn Expand) {
        let name = b.fit(&NAME, b.names().qualified());
        b.push_one(
            super::Def::Table(Def {
                name,
                ..def.clone()
            }),
            &[("name", "name"), ("arn", "arn"), ("streamArn", "streamArn")],
        );
    }
}

/// A key attribute's name (1-255 characters) and its DynamoDB type.
fn check_key(cx: &mut dyn Check, k: serde_saphyr::Spanned<yaml::TableKey>) -> TableKey {
    if !(1..=255).contains(&k.value.name.chars().count()) {
        let m = format!(
            "expected a key attribute name of 1-255 characters, found `{}`",
            k.value.name
        );
        cx.err_at(&k.referenced, m);
    }
    let kind = match k.value.kind {
        yaml::KeyType::String => "S",
        yaml::KeyType::Number => "N",
        yaml::KeyType::Binary => "B",
    };
    TableKey {
        name: k.value.name,
        kind: kind.to_string(),
    }
}

/// `billingMode` and `capacity`: capacity exactly with `provisioned`, at least 1 unit each.
fn check_billing(
    cx: &mut dyn Check,
    billing_mode: Option<serde_saphyr::Spanned<yaml::BillingMode>>,
    capacity: Option<serde_saphyr::Spanned<yaml::Capacity>>,
) -> Billing {
    let provisioned = billing_mode
        .as_ref()
        .is_some_and(|b| b.value == yaml::BillingMode::Provisioned);
    match (provisioned, capacity) {
        (true, Some(c)) => {
            if c.value.read < 1 || c.value.write < 1 {
                cx.err_at(
                    &c.referenced,
                    "expected `capacity` of at least 1 read and 1 write unit",
                );
            }
            Billing::Provisioned {
                read: c.value.read,
                write: c.value.write,
            }
        }
        (true, None) => {
            let loc = billing_mode
                .as_ref()
                .map_or(cx.here(), |b| cx.loc(&b.referenced));
            cx.err(
                loc,
                "expected `capacity: {read: N, write: N}` with `billingMode: provisioned`".into(),
            );
            Billing::OnDemand
        }
        (false, Some(c)) => {
            cx.err_at(
                &c.referenced,
                "`capacity` needs `billingMode: provisioned` (on-demand tables have no capacity)",
            );
            Billing::OnDemand
        }
        (false, None) => Billing::OnDemand,
    }
}

// ---- The DynamoDB table itself

/// What the config asks for.
#[derive(Debug, Clone)]
pub struct Def {
    pub name: String,
    pub partition_key: TableKey,
    pub sort_key: Option<TableKey>,
    pub billing: Billing,
    pub point_in_time_recovery: bool,
    pub ttl_attribute: Option<String>,
    /// The stream's view type (`NEW_AND_OLD_IMAGES`, …); `None`: no stream.
    pub stream: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub def: Def,
    pub tags: Tags,
}

fn key_state(k: &TableKey) -> Value {
    json!({"name": k.name, "type": k.kind})
}

fn billing_state(b: &Billing) -> (Value, Value) {
    match b {
        Billing::OnDemand => (json!("PAY_PER_REQUEST"), Value::Null),
        Billing::Provisioned { read, write } => {
            (json!("PROVISIONED"), json!({"read": read, "write": write}))
        }
    }
}

/// Right after CreateTable (and during any update) the table is CREATING or UPDATING, and
/// changes are refused: "ResourceInUseException: Attempt to change a resource which is still in
/// use: Table is being created". Retried, capped by `aws::retry`, only with that message.
pub const TABLE_BUSY: RetryWhen = RetryWhen {
    name: "dynamodb table still being created or updated",
    matches: |e| e.is("ResourceInUseException") && e.message().contains("still in use"),
};

/// A table of this name is still being deleted (after a replacement): "ResourceInUseException:
/// Table already exists" from CreateTable while DescribeTable shows DELETING.
pub const TABLE_BEING_DELETED: RetryWhen = RetryWhen {
    name: "dynamodb table of this name still being deleted",
    matches: |e| e.is("ResourceInUseException") && e.message().contains("being deleted"),
};

fn attrs_of(t: &TableDescription) -> Attrs {
    Attrs::from([
        ("name", t.table_name().unwrap_or_default().to_string()),
        ("arn", t.table_arn().unwrap_or_default().to_string()),
        (
            "streamArn",
            t.latest_stream_arn().unwrap_or_default().to_string(),
        ),
    ])
}

async fn describe(aws: &Aws, name: &str) -> Result<Option<TableDescription>, AwsError> {
    let out = aws.ddb.describe_table().table_name(name).send().await;
    let out = out.map_err(|e| AwsError::new("reading", KIND, name, e));
    Ok(out.or_not_found(NOT_FOUND)?.and_then(|o| o.table))
}

/// Every tag on the table (ListTagsOfResource has a NextToken but no SDK paginator).
async fn read_tags(aws: &Aws, arn: &str, name: &str) -> Result<Tags, AwsError> {
    let tags = aws::all_pages(KIND, name, |token| async move {
        let out = aws
            .ddb
            .list_tags_of_resource()
            .resource_arn(arn)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsError::new("reading tags of", KIND, name, e))?;
        Ok((out.tags.unwrap_or_default(), out.next_token))
    })
    .await?;
    Ok(tags
        .into_iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect())
}

/// The state of a table as read: its description plus PITR and TTL, read at once.
async fn observe(
    aws: &Aws,
    spec: &Spec,
    t: TableDescription,
    owner: Option<Owner>,
) -> Result<Observed, AwsError> {
    let name = t.table_name().unwrap_or_default().to_string();
    let arn = t.table_arn().unwrap_or_default().to_string();
    let (tags, pitr, ttl) = futures::join!(
        read_tags(aws, &arn, &name),
        aws.ddb
            .describe_continuous_backups()
            .table_name(&name)
            .send(),
        aws.ddb.describe_time_to_live().table_name(&name).send(),
    );
    let tags = tags?;
    let pitr = pitr.map_err(|e| AwsError::new("reading backups of", KIND, &name, e))?;
    let ttl = ttl.map_err(|e| AwsError::new("reading TTL of", KIND, &name, e))?;
    Ok(observed(
        spec,
        &t,
        &tags,
        pitr.continuous_backups_description(),
        ttl.time_to_live_description(),
        owner,
    ))
}

/// The key of type `kt` in the table's key schema, with its attribute's type; null if none.
fn key_of(t: &TableDescription, kt: KeyType) -> Value {
    let types: std::collections::HashMap<&str, &str> = t
        .attribute_definitions()
        .iter()
        .map(|a| (a.attribute_name(), a.attribute_type().as_str()))
        .collect();
    t.key_schema()
        .iter()
        .find(|k| *k.key_type() == kt)
        .map_or(Value::Null, |k| {
            json!({"name": k.attribute_name(), "type": types.get(k.attribute_name()).copied().unwrap_or_default()})
        })
}

/// The billing mode and capacity: DescribeTable leaves the billing summary out for a table
/// that was always provisioned.
fn billing_of(t: &TableDescription) -> (Value, Value) {
    let provisioned = t
        .billing_mode_summary()
        .and_then(|b| b.billing_mode())
        .is_none_or(|m| *m == BillingMode::Provisioned);
    if !provisioned {
        return (json!("PAY_PER_REQUEST"), Value::Null);
    }
    let p = t.provisioned_throughput();
    (
        json!("PROVISIONED"),
        json!({
            "read": p.and_then(|p| p.read_capacity_units()).unwrap_or_default(),
            "write": p.and_then(|p| p.write_capacity_units()).unwrap_or_default(),
        }),
    )
}

/// The table as DescribeTable describes it, with its tags and what DescribeContinuousBackups
/// and DescribeTimeToLive say. TTL counts while enabled or being enabled. The owner is `owner`,
/// else ours by the tags.
fn observed(
    spec: &Spec,
    t: &TableDescription,
    tags: &Tags,
    backups: Option<&ContinuousBackupsDescription>,
    ttl: Option<&TimeToLiveDescription>,
    owner: Option<Owner>,
) -> Observed {
    let pitr = backups
        .and_then(|c| c.point_in_time_recovery_description())
        .and_then(|p| p.point_in_time_recovery_status())
        == Some(&PointInTimeRecoveryStatus::Enabled);
    let ttl = ttl.and_then(|d| {
        matches!(
            d.time_to_live_status(),
            Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
        )
        .then(|| d.attribute_name().map(str::to_string))
        .flatten()
    });
    let (billing, capacity) = billing_of(t);
    let stream = t
        .stream_specification()
        .filter(|s| s.stream_enabled())
        .and_then(|s| s.stream_view_type())
        .map(|v| v.as_str().to_string());
    let owner = owner.unwrap_or_else(|| owner_from_tags(tags, &spec.tags));
    Observed {
        id: t.table_name().unwrap_or_default().to_string(),
        owner,
        state: State::from([
            ("partitionKey", key_of(t, KeyType::Hash)),
            ("sortKey", key_of(t, KeyType::Range)),
            ("billingMode", billing),
            ("capacity", capacity),
            ("pointInTimeRecovery", json!(pitr)),
            ("ttlAttribute", json!(ttl)),
            ("stream", json!(stream)),
            ("tags", tags_state(tags, &spec.tags)),
        ]),
        attrs: attrs_of(t),
        detail: Detail::None,
        notes: Vec::new(),
    }
}

fn build_err(
    verb: &'static str,
    name: &str,
) -> impl Fn(aws_sdk_dynamodb::error::BuildError) -> AwsError {
    move |e| AwsError::refused(verb, KIND, name, e.to_string())
}

fn scalar(kind: &str) -> ScalarAttributeType {
    ScalarAttributeType::from(kind)
}

fn provisioned(b: &Billing, name: &str) -> Result<Option<ProvisionedThroughput>, AwsError> {
    match b {
        Billing::OnDemand => Ok(None),
        Billing::Provisioned { read, write } => ProvisionedThroughput::builder()
            .read_capacity_units(*read)
            .write_capacity_units(*write)
            .build()
            .map(Some)
            .map_err(build_err("building", name)),
    }
}

fn billing_mode(b: &Billing) -> BillingMode {
    match b {
        Billing::OnDemand => BillingMode::PayPerRequest,
        Billing::Provisioned { .. } => BillingMode::Provisioned,
    }
}

fn stream_spec(stream: Option<&str>, name: &str) -> Result<StreamSpecification, AwsError> {
    StreamSpecification::builder()
        .stream_enabled(stream.is_some())
        .set_stream_view_type(stream.map(StreamViewType::from))
        .build()
        .map_err(build_err("building", name))
}

/// Waits until the table is ACTIVE (DescribeTable), as DynamoDB refuses changes before.
async fn wait_active(aws: &Aws, name: &str) -> Result<TableDescription, AwsError> {
    let not_active = RetryWhen {
        name: "dynamodb table not yet active",
        matches: |e| e.is("TableNotActive"),
    };
    retry(not_active, || async {
        let t = describe(aws, name).await?.or_refused(
            "creating",
            KIND,
            name,
            "the table disappeared while being created",
        )?;
        if t.table_status() == Some(&TableStatus::Active) {
            Ok(t)
        } else {
            Err(AwsError::from_api(
                "waiting for",
                KIND,
                name,
                aws::ApiError::coded(
                    "TableNotActive",
                    format!("TableNotActive: the table is {:?}", t.table_status()),
                ),
            ))
        }
    })
    .await
}

async fn set_pitr(aws: &Aws, name: &str, enabled: bool) -> Result<(), AwsError> {
    let pitr = PointInTimeRecoverySpecification::builder()
        .point_in_time_recovery_enabled(enabled)
        .build()
        .map_err(build_err("building", name))?;
    retry(TABLE_BUSY, || async {
        aws.ddb
            .update_continuous_backups()
            .table_name(name)
            .point_in_time_recovery_specification(pitr.clone())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::new("updating point-in-time recovery of", KIND, name, e))
    })
    .await
}

async fn set_ttl(aws: &Aws, name: &str, attribute: &str, enabled: bool) -> Result<(), AwsError> {
    let ttl = TimeToLiveSpecification::builder()
        .attribute_name(attribute)
        .enabled(enabled)
        .build()
        .map_err(build_err("building", name))?;
    retry(TABLE_BUSY, || async {
        aws.ddb
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(ttl.clone())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::new("updating TTL of", KIND, name, e))
    })
    .await
}

/// Our tags as DynamoDB's.
fn ddb_tags(spec: &Spec, name: &str) -> Result<Vec<Tag>, AwsError> {
    super::sdk_tags(&spec.tags, KIND, name, |k, v| {
        Tag::builder().key(k).value(v).build()
    })
}

/// One UpdateTable: the billing mode and capacity, or the stream (`Some(None)` turns it off).
async fn update_table(
    aws: &Aws,
    name: &str,
    billing: Option<&Billing>,
    stream: Option<Option<&str>>,
) -> Result<(), AwsError> {
    let mut req = aws.ddb.update_table().table_name(name);
    if let Some(b) = billing {
        req = req
            .billing_mode(billing_mode(b))
            .set_provisioned_throughput(provisioned(b, name)?);
    }
    if let Some(s) = stream {
        req = req.stream_specification(stream_spec(s, name)?);
    }
    retry(TABLE_BUSY, || async {
        req.clone()
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::new("updating", KIND, name, e))
    })
    .await?;
    wait_active(aws, name).await.map(|_| ())
}

/// The table kind. It holds data: retained by default.
pub struct Table;

impl ResourceKind for Table {
    crate::kind_basics!();
    /// DynamoDB cannot change a table's key schema.
    const FORCE_NEW: &'static [&'static str] = &["partitionKey", "sortKey"];
    const HOLDS_DATA: bool = true;

    /// Its page in the AWS web console.
    const CONSOLE_URL: Option<&'static str> =
        Some("{home}/dynamodbv2/home?region={region}#table?name={id}");
    fn templates(_: &Def) -> Vec<&Template> {
        Vec::new()
    }
    fn resolve(def: &Def, cx: &mut Resolve<'_>) -> Spec {
        Spec {
            def: def.clone(),
            tags: cx.tags.clone(),
        }
    }
    fn name(spec: &Spec) -> String {
        spec.def.name.clone()
    }
    fn state(spec: &Spec) -> State {
        let d = &spec.def;
        let (billing, capacity) = billing_state(&d.billing);
        State::from([
            ("partitionKey", key_state(&d.partition_key)),
            (
                "sortKey",
                d.sort_key.as_ref().map_or(Value::Null, key_state),
            ),
            ("billingMode", billing),
            ("capacity", capacity),
            ("pointInTimeRecovery", json!(d.point_in_time_recovery)),
            ("ttlAttribute", json!(d.ttl_attribute)),
            ("stream", json!(d.stream)),
            ("tags", serde_json::to_value(&spec.tags).unwrap_or_default()),
        ])
    }
    /// Finds the table by `adopt` name if given, else by its own name. A table being deleted is
    /// not there.
    async fn find(aws: &Aws, spec: &Spec, hint: Hint<'_>) -> Result<Option<Observed>, AwsError> {
        let adopt = hint.adopt;
        let name = adopt.unwrap_or(&spec.def.name);
        let Some(t) = describe(aws, name).await? else {
            return Ok(None);
        };
        if t.table_status() == Some(&TableStatus::Deleting) {
            return Ok(None);
        }
        let owner = adopt.is_some().then_some(Owner::Adopted);
        observe(aws, spec, t, owner).await.map(Some)
    }
    async fn create(aws: &Aws, spec: &Spec) -> Result<Observed, AwsError> {
        let d = &spec.def;
        let name = d.name.as_str();
        let mut keys = vec![(&d.partition_key, KeyType::Hash)];
        keys.extend(d.sort_key.as_ref().map(|k| (k, KeyType::Range)));
        let schema = keys
            .iter()
            .map(|(k, t)| {
                KeySchemaElement::builder()
                    .attribute_name(&k.name)
                    .key_type(t.clone())
                    .build()
                    .map_err(build_err("building", name))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let definitions = keys
            .iter()
            .map(|(k, _)| {
                AttributeDefinition::builder()
                    .attribute_name(&k.name)
                    .attribute_type(scalar(&k.kind))
                    .build()
                    .map_err(build_err("building", name))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let sent = retry(TABLE_BEING_DELETED, || async {
            aws.ddb
                .create_table()
                .table_name(name)
                .set_key_schema(Some(schema.clone()))
                .set_attribute_definitions(Some(definitions.clone()))
                .billing_mode(billing_mode(&d.billing))
                .set_provisioned_throughput(provisioned(&d.billing, name)?)
                .set_stream_specification(
                    d.stream
                        .is_some()
                        .then(|| stream_spec(d.stream.as_deref(), name))
                        .transpose()?,
                )
                .set_tags(Some(ddb_tags(spec, name)?))
                .send()
                .await
                .map_err(|e| AwsError::new("creating", KIND, name, e))
        })
        .await;
        match sent {
            Ok(_) => {}
            // "ResourceInUseException: Table already exists": a retry of a create whose answer was
            // lost, or someone else's table made since the read. Only a table with our tags is ours.
            Err(e) if e.is("ResourceInUseException") => {
                let found = Self::find(aws, spec, Hint::default()).await?;
                if found.as_ref().is_none_or(|o| o.owner != Owner::Ours) {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
        wait_active(aws, name).await?;
        if d.point_in_time_recovery {
            set_pitr(aws, name, true).await?;
        }
        if let Some(attr) = &d.ttl_attribute {
            set_ttl(aws, name, attr, true).await?;
        }
        let t = wait_active(aws, name).await?;
        observe(aws, spec, t, Some(Owner::Ours)).await
    }
    /// Each changed field with its own call: UpdateTable for billing and the stream (a new view
    /// type needs the old stream off first), UpdateContinuousBackups, UpdateTimeToLive (a new
    /// attribute needs the old one off first), TagResource for our tags.
    async fn update(
        aws: &Aws,
        spec: &Spec,
        obs: &Observed,
        changed: &[&'static str],
    ) -> Result<Observed, AwsError> {
        let d = &spec.def;
        let name = obs.id.as_str();
        if changed.contains(&"billingMode") || changed.contains(&"capacity") {
            update_table(aws, name, Some(&d.billing), None).await?;
        }
        if changed.contains(&"stream") {
            if obs.state.get("stream").is_some_and(|s| !s.is_null()) {
                update_table(aws, name, None, Some(None)).await?;
            }
            if d.stream.is_some() {
                update_table(aws, name, None, Some(d.stream.as_deref())).await?;
            }
        }
        if changed.contains(&"pointInTimeRecovery") {
            set_pitr(aws, name, d.point_in_time_recovery).await?;
        }
        if changed.contains(&"ttlAttribute") {
            if let Some(old) = obs.state.get("ttlAttribute").and_then(Value::as_str) {
                set_ttl(aws, name, old, false).await?;
            }
            if let Some(attr) = &d.ttl_attribute {
                set_ttl(aws, name, attr, true).await?;
            }
        }
        if changed.contains(&"tags") {
            let arn = obs.attrs.get("arn").cloned().unwrap_or_default();
            aws.ddb
                .tag_resource()
                .resource_arn(&arn)
                .set_tags(Some(ddb_tags(spec, name)?))
                .send()
                .await
                .map_err(|e| AwsError::new("tagging", KIND, name, e))?;
        }
        let t = describe(aws, name).await?.or_refused(
            "updating",
            KIND,
            name,
            "the table disappeared during update",
        )?;
        observe(aws, spec, t, Some(Owner::Ours)).await
    }
    async fn delete(aws: &Aws, _: &Spec, obs: &Observed) -> Result<(), AwsError> {
        let out = aws.ddb.delete_table().table_name(&obs.id).send().await;
        let out = out.map_err(|e| AwsError::new("deleting", KIND, &obs.id, e));
        out.or_gone(NOT_FOUND)
    }
    /// A retained table cannot be replaced: DynamoDB holds one table per name, and the new table
    /// would need the old one's. Refused before anything changes, saying what to do instead.
    async fn release(_: &Aws, _: &Spec, obs: &Observed) -> Result<(), AwsError> {
        Err(AwsError::refused(
            "replacing",
            KIND,
            &obs.id,
            "DynamoDB cannot change a table's keys in place, and a retained table keeps its name, \
             which the new table would need; set `removal: destroy` on the resource to replace it \
             (its items are deleted), or give the new table another resource name (the old table \
             stays, released from the stack files, for you to copy its items)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_ours_as_specified, drift, ours, ours_and_others};
    use super::*;
    use aws_sdk_dynamodb::types::builders::TableDescriptionBuilder;
    use aws_sdk_dynamodb::types::{
        BillingModeSummary, ContinuousBackupsStatus, PointInTimeRecoveryDescription,
        ProvisionedThroughputDescription,
    };

    fn def() -> Def {
        Def {
            name: "dev-notes-StorageStack-Notes".into(),
            partition_key: TableKey {
                name: "userId".into(),
                kind: "S".into(),
            },
            sort_key: Some(TableKey {
                name: "noteId".into(),
                kind: "S".into(),
            }),
            billing: Billing::OnDemand,
            point_in_time_recovery: false,
            ttl_attribute: None,
            stream: None,
        }
    }

    #[test]
    fn state_is_on_demand_without_capacity_by_default() {
        let s = Table::state(&Spec {
            def: def(),
            tags: Tags::new(),
        });
        assert_eq!(s["billingMode"], json!("PAY_PER_REQUEST"));
        assert_eq!(s["capacity"], Value::Null);
        assert_eq!(s["sortKey"], json!({"name": "noteId", "type": "S"}));
        assert_eq!(s["ttlAttribute"], Value::Null);
    }

    #[test]
    fn keys_force_replacement_and_names_follow_dynamodb() {
        assert_eq!(Table::FORCE_NEW, ["partitionKey", "sortKey"]);
        NAME.check("dev-notes-StorageStack-Notes").unwrap();
        assert!(NAME.check("ab").is_err());
        assert!(NAME.check("a/b/c").is_err());
    }

    #[test]
    fn busy_is_retried_only_for_its_message() {
        let e = |m: &str| {
            AwsError::from_api(
                "updating",
                KIND,
                "t",
                aws::ApiError::coded("ResourceInUseException", m),
            )
        };
        assert!((TABLE_BUSY.matches)(&e(
            "ResourceInUseException: Attempt to change a resource which is still in use: Table is being created"
        )));
        assert!(!(TABLE_BUSY.matches)(&e(
            "ResourceInUseException: Table already exists"
        )));
    }

    const ARN: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/dev-notes-StorageStack-Notes";
    const STREAM_ARN: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/dev-notes-StorageStack-Notes/stream/2024-01-01T00:00:00.000";

    fn full_spec() -> Spec {
        Spec {
            def: Def {
                billing: Billing::Provisioned { read: 5, write: 10 },
                point_in_time_recovery: true,
                ttl_attribute: Some("expiresAt".into()),
                stream: Some("NEW_AND_OLD_IMAGES".into()),
                ..def()
            },
            tags: ours(),
        }
    }

    fn key(name: &str, kind: KeyType) -> KeySchemaElement {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .unwrap()
    }

    fn attribute(name: &str, kind: ScalarAttributeType) -> AttributeDefinition {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(kind)
            .build()
            .unwrap()
    }

    fn throughput(read: i64, write: i64) -> ProvisionedThroughputDescription {
        ProvisionedThroughputDescription::builder()
            .read_capacity_units(read)
            .write_capacity_units(write)
            .number_of_decreases_today(0)
            .build()
    }

    fn billed(mode: BillingMode) -> BillingModeSummary {
        BillingModeSummary::builder().billing_mode(mode).build()
    }

    /// DescribeTable for the default (on-demand) table as created: the keys and their
    /// definitions in AWS's order, the 0/0 throughput DynamoDB shows for on-demand.
    fn described() -> TableDescriptionBuilder {
        TableDescription::builder()
            .table_name("dev-notes-StorageStack-Notes")
            .table_arn(ARN)
            .table_status(TableStatus::Active)
            .key_schema(key("noteId", KeyType::Range))
            .key_schema(key("userId", KeyType::Hash))
            .attribute_definitions(attribute("noteId", ScalarAttributeType::S))
            .attribute_definitions(attribute("userId", ScalarAttributeType::S))
            .billing_mode_summary(billed(BillingMode::PayPerRequest))
            .provisioned_throughput(throughput(0, 0))
            .item_count(42)
    }

    /// What the full spec's table looks like: provisioned (no billing summary: always was),
    /// with its stream.
    fn described_full() -> TableDescriptionBuilder {
        described()
            .set_billing_mode_summary(None)
            .provisioned_throughput(throughput(5, 10))
            .stream_specification(stream(true, Some(StreamViewType::NewAndOldImages)))
            .latest_stream_arn(STREAM_ARN)
    }

    fn stream(enabled: bool, view: Option<StreamViewType>) -> StreamSpecification {
        StreamSpecification::builder()
            .stream_enabled(enabled)
            .set_stream_view_type(view)
            .build()
            .unwrap()
    }

    fn backups(pitr: PointInTimeRecoveryStatus) -> ContinuousBackupsDescription {
        ContinuousBackupsDescription::builder()
            .continuous_backups_status(ContinuousBackupsStatus::Enabled)
            .point_in_time_recovery_description(
                PointInTimeRecoveryDescription::builder()
                    .point_in_time_recovery_status(pitr)
                    .build(),
            )
            .build()
            .unwrap()
    }

    fn ttl(status: TimeToLiveStatus, attribute: Option<&str>) -> TimeToLiveDescription {
        TimeToLiveDescription::builder()
            .time_to_live_status(status)
            .set_attribute_name(attribute.map(str::to_string))
            .build()
    }

    fn observe_full(
        t: TableDescriptionBuilder,
        pitr: PointInTimeRecoveryStatus,
        ttl: &TimeToLiveDescription,
    ) -> Observed {
        let sp = full_spec();
        observed(
            &sp,
            &t.build(),
            &ours(),
            Some(&backups(pitr)),
            Some(ttl),
            None,
        )
    }

    #[test]
    fn an_on_demand_table_as_created_matches_its_spec() {
        let sp = Spec {
            def: def(),
            tags: ours(),
        };
        let obs = observed(
            &sp,
            &described().build(),
            &ours_and_others(),
            Some(&backups(PointInTimeRecoveryStatus::Disabled)),
            Some(&ttl(TimeToLiveStatus::Disabled, None)),
            None,
        );
        let name = "dev-notes-StorageStack-Notes";
        let attrs = [("name", name), ("arn", ARN), ("streamArn", "")];
        assert_ours_as_specified(&obs, Table::state(&sp), name, &attrs);
    }

    #[test]
    fn a_provisioned_table_with_pitr_ttl_and_stream_matches_its_spec() {
        let live = ttl(TimeToLiveStatus::Enabled, Some("expiresAt"));
        let obs = observe_full(described_full(), PointInTimeRecoveryStatus::Enabled, &live);
        assert_eq!(obs.state, Table::state(&full_spec()));
        assert_eq!(obs.attrs["streamArn"], STREAM_ARN);
        // TTL being turned on already counts.
        let enabling = ttl(TimeToLiveStatus::Enabling, Some("expiresAt"));
        let obs = observe_full(
            described_full(),
            PointInTimeRecoveryStatus::Enabled,
            &enabling,
        );
        assert_eq!(obs.state, Table::state(&full_spec()));
    }

    #[test]
    fn each_drift_is_its_own_field() {
        use PointInTimeRecoveryStatus::{Disabled, Enabled};
        let on = ttl(TimeToLiveStatus::Enabled, Some("expiresAt"));
        let cases = [
            (
                described_full(),
                Disabled,
                on.clone(),
                "pointInTimeRecovery",
            ),
            (
                described_full(),
                Enabled,
                ttl(TimeToLiveStatus::Disabling, Some("expiresAt")),
                "ttlAttribute",
            ),
            (
                described_full(),
                Enabled,
                ttl(TimeToLiveStatus::Enabled, Some("ttl")),
                "ttlAttribute",
            ),
            (
                described_full().stream_specification(stream(false, None)),
                Enabled,
                on.clone(),
                "stream",
            ),
            (
                described_full().stream_specification(stream(true, Some(StreamViewType::KeysOnly))),
                Enabled,
                on.clone(),
                "stream",
            ),
            (
                described_full().provisioned_throughput(throughput(5, 5)),
                Enabled,
                on.clone(),
                "capacity",
            ),
            (
                described_full().set_key_schema(Some(vec![key("userId", KeyType::Hash)])),
                Enabled,
                on.clone(),
                "sortKey",
            ),
            (
                described_full().set_attribute_definitions(Some(vec![
                    attribute("noteId", ScalarAttributeType::S),
                    attribute("userId", ScalarAttributeType::N),
                ])),
                Enabled,
                on.clone(),
                "partitionKey",
            ),
        ];
        for (t, pitr, ttl, field) in cases {
            let obs = observe_full(t, pitr, &ttl);
            assert_eq!(drift(&Table::state(&full_spec()), &obs.state), [field]);
        }
        // On demand instead of provisioned: the mode, and no capacity.
        let on_demand = described_full().billing_mode_summary(billed(BillingMode::PayPerRequest));
        let obs = observe_full(on_demand, Enabled, &on);
        assert_eq!(
            drift(&Table::state(&full_spec()), &obs.state),
            ["billingMode", "capacity"]
        );
        assert_eq!(obs.state["capacity"], Value::Null);
    }

    #[test]
    fn nothing_said_about_backups_or_ttl_is_off() {
        let sp = full_spec();
        let obs = observed(&sp, &described_full().build(), &ours(), None, None, None);
        assert_eq!(
            drift(&Table::state(&sp), &obs.state),
            ["pointInTimeRecovery", "ttlAttribute"]
        );
    }

    #[test]
    fn ownership_by_tags_unless_adopted() {
        let sp = full_spec();
        let t = described_full().build();
        let b = backups(PointInTimeRecoveryStatus::Enabled);
        let l = ttl(TimeToLiveStatus::Enabled, Some("expiresAt"));
        let obs = observed(&sp, &t, &Tags::new(), Some(&b), Some(&l), None);
        assert_eq!(obs.owner, Owner::Foreign);
        assert_eq!(drift(&Table::state(&sp), &obs.state), ["tags"]);
        let adopted = observed(
            &sp,
            &t,
            &Tags::new(),
            Some(&b),
            Some(&l),
            Some(Owner::Adopted),
        );
        assert_eq!(adopted.owner, Owner::Adopted);
    }
}
