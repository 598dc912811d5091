//! SQS queue (`kind: queue`): a standard queue with its visibility timeout, message
//! retention, an optional dead-letter queue, and tags. Its whole life is here, config included.
//!
//! - **Declared as** `kind: queue` with `visibilityTimeout` (seconds, 0-43200, default 30),
//!   `retention` (seconds, 60-1209600, default 345600: four days) and `deadLetter: {queue:
//!   ${Stack.Dlq.arn}, maxReceiveCount: N}` (1-1000), where the queue is another `queue`'s
//!   `arn` or an SQS queue ARN. Attributes: `url`, `arn`. A queue holds no data stackwatch
//!   keeps: `removal` defaults to `destroy`.
//! - **Spec and naming:** `{stage}-{app}-{Stack}-{Resource}`, held to SQS's rule for queue names
//!   (1-80 characters of `[A-Za-z0-9_-]`). The physical id is the queue URL.
//! - **State:** the visibility timeout, the retention period, the redrive policy (canonical
//!   JSON: `deadLetterTargetArn`, `maxReceiveCount`) and our tags. Unset values are AWS's
//!   defaults, so a default changed by hand is drift.
//! - **Found** by its deterministic name (GetQueueUrl; QueueDoesNotExist is `Ok(None)`), read
//!   with GetQueueAttributes and ListQueueTags, owned by the tags CreateQueue set atomically.
//! - **Create** is CreateQueue with the attributes and tags. For a name that exists with the
//!   same attributes SQS answers with that queue's URL, so the queue read back must carry our
//!   tags, or the create is refused. **Update** is one SetQueueAttributes for the changed
//!   attributes (an empty RedrivePolicy removes the dead-letter queue) and TagQueue for our
//!   tags (other tags stay). **Delete** is DeleteQueue.
//! - **Leftovers:** ListQueues by the app and stage's name prefix, then ListQueueTags each.

use std::collections::HashMap;

use aws_sdk_sqs::types::QueueAttributeName;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use serde_saphyr::Spanned;

use super::declare::{Check, ConfigKind, Expand};
use super::naming::{Chars, NameRule};
use super::{
    Attrs, Hint, Observed, Owned, Owner, Resolve, ResourceKind, Scope, State, Tags,
    owner_from_tags, tags_state,
};
use crate::aws::{Aws, AwsError, CallCounter, OrNotFound, OrRefused, ServiceClient};
use crate::source::template::Template;

// ---- What a stack file declares: `kind: queue`

crate::kind_fields! {
    /// `kind: queue`: an SQS standard queue.
    pub struct Fields {
        /// Seconds a received message stays hidden from other consumers: 0-43200. Default 30.
        #[schemars(with = "Option<i64>", range(min = 0, max = 43200))]
        visibility_timeout: Option<Spanned<i64>>,
        /// Seconds SQS keeps a message: 60-1209600 (14 days). Default 345600 (4 days).
        #[schemars(with = "Option<i64>", range(min = 60, max = 1209600))]
        retention: Option<Spanned<i64>>,
        /// Where messages go after `maxReceiveCount` failed receives.
        #[schemars(with = "Option<DeadLetterFields>")]
        dead_letter: Option<Spanned<DeadLetterFields>>,
    }
}

/// A dead-letter queue.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "DeadLetter")]
pub struct DeadLetterFields {
    /// The dead-letter queue's ARN: `${Stack.Resource.arn}` of another `queue`, or an SQS
    /// queue ARN.
    #[schemars(with = "String")]
    queue: Spanned<String>,
    /// Receives of a message before it moves to the dead-letter queue: 1-1000.
    #[schemars(with = "i64", range(min = 1, max = 1000))]
    max_receive_count: Spanned<i64>,
}

/// SQS's defaults, which an unset field means.
const DEFAULT_VISIBILITY_TIMEOUT: i64 = 30;
const DEFAULT_RETENTION: i64 = 345_600;

impl ConfigKind for Queue {
    const NAME: &'static str = "queue";
    const ABOUT: &'static str = "An SQS standard queue.";
    const ATTRIBUTES: &'static [&'static str] = &["url", "arn"];
    const HOLDS_DATA: bool = false;
    type Fields = Fields;
    /// The queue's def, its name still empty (expansion derives it).
    type Spec = Def;

    fn check(f: Fields, cx: &mut dyn Check) -> Def {
        let visibility_timeout = in_range(cx, f.visibility_timeout, "visibilityTimeout", 0, 43_200)
            .unwrap_or(DEFAULT_VISIBILITY_TIMEOUT);
        let retention =
            in_range(cx, f.retention, "retention", 60, 1_209_600).unwrap_or(DEFAULT_RETENTION);
        let dead_letter = f.dead_letter.and_then(|d| check_dead_letter(cx, d.value));
        Def {
            name: String::new(),
            visibility_timeout,
            retention,
            dead_letter,
        }
    }

    /// One node, named `{stage}-{app}-{stack}-{resource}`.
    fn expand(def: &Def, b: &mut dyn Expand) {
        let name = b.fit(&NAME, b.names().qualified());
        b.push_one(
            super::Def::Queue(Def {
                name,
                ..def.clone()
            }),
            &[("url", "url"), ("arn", "arn")],
        );
    }
}

/// A number of seconds within SQS's range for the field.
fn in_range(
    cx: &mut dyn Check,
    v: Option<Spanned<i64>>,
    field: &str,
    min: i64,
    max: i64,
) -> Option<i64> {
    let v = v?;
    if !(min..=max).contains(&v.value) {
        let m = format!(
            "expected `{field}` of {min} to {max} seconds, found {}",
            v.value
        );
        cx.err_at(&v.referenced, m);
    }
    Some(v.value)
}

/// `deadLetter`: another queue's `arn`, or an SQS queue ARN, and 1-1000 receives.
fn check_dead_letter(cx: &mut dyn Check, d: DeadLetterFields) -> Option<DeadLetter<Template>> {
    let n = d.max_receive_count;
    if !(1..=1000).contains(&n.value) {
        let m = format!("expected `maxReceiveCount` of 1 to 1000, found {}", n.value);
        cx.err_at(&n.referenced, m);
    }
    let loc = cx.loc(&d.queue.referenced);
    let queue = cx.template(&loc, &d.queue.value)?;
    let ok = if queue.refs().next().is_none() {
        d.queue.value.starts_with("arn:") && d.queue.value.contains(":sqs:")
    } else {
        queue.refs().all(|r| match r {
            crate::source::template::Ref::Attr {
                stack,
                resource,
                attr,
            } => attr == "arn" && cx.kind_of(stack, resource) == Some(Queue::NAME),
            _ => true,
        })
    };
    if !ok {
        let m = format!(
            "expected `deadLetter.queue` to be `${{Stack.Resource.arn}}` of a `queue` or an SQS queue ARN, found `{}`",
            d.queue.value
        );
        cx.err(loc, m);
    }
    Some(DeadLetter {
        queue,
        max_receive_count: n.value,
    })
}

// ---- The SQS queue itself

pub const KIND: &str = "SQS queue";
/// "AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist." (the JSON
/// protocol's `QueueDoesNotExist`, as the SDK reports it with the query-compatible code).
pub const NOT_FOUND: &[&str] = &[
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
];

/// CreateQueue's `QueueName`: 1-80 characters of `[A-Za-z0-9_-]`.
pub const NAME: NameRule = NameRule::new(
    "an SQS queue name",
    1,
    80,
    Chars {
        allowed: |c| c.is_ascii_alphanumeric() || c == '-' || c == '_',
        words: "letters, digits, `-` and `_`",
    },
);

/// A dead-letter queue: its ARN (a template until resolved) and the receives before a move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter<T> {
    pub queue: T,
    pub max_receive_count: i64,
}

/// What the config asks for.
#[derive(Debug, Clone)]
pub struct Def {
    pub name: String,
    pub visibility_timeout: i64,
    pub retention: i64,
    pub dead_letter: Option<DeadLetter<Template>>,
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub name: String,
    pub visibility_timeout: i64,
    pub retention: i64,
    pub dead_letter: Option<DeadLetter<String>>,
    pub tags: Tags,
}

/// The redrive policy in canonical form, `null` without one.
fn redrive_state(d: Option<&DeadLetter<String>>) -> Value {
    d.map_or(
        Value::Null,
        |d| json!({"deadLetterTargetArn": d.queue, "maxReceiveCount": d.max_receive_count}),
    )
}

/// The redrive policy SQS returns (`maxReceiveCount` a number, or a string in older answers).
fn redrive_of(policy: Option<&String>) -> Option<DeadLetter<String>> {
    let v: Value = serde_json::from_str(policy?).ok()?;
    let count = &v["maxReceiveCount"];
    Some(DeadLetter {
        queue: v["deadLetterTargetArn"].as_str()?.to_string(),
        max_receive_count: count.as_i64().or_else(|| count.as_str()?.parse().ok())?,
    })
}

/// The attributes CreateQueue and SetQueueAttributes send for `fields` (all when `None`).
fn attributes(spec: &Spec, fields: Option<&[&str]>) -> HashMap<QueueAttributeName, String> {
    let wanted = |f: &str| fields.is_none_or(|c| c.contains(&f));
    let mut out = HashMap::new();
    if wanted("visibilityTimeout") {
        out.insert(
            QueueAttributeName::VisibilityTimeout,
            spec.visibility_timeout.to_string(),
        );
    }
    if wanted("retention") {
        out.insert(
            QueueAttributeName::MessageRetentionPeriod,
            spec.retention.to_string(),
        );
    }
    // On create, no policy is no attribute; on update, an empty one removes it.
    let redrive = spec
        .dead_letter
        .as_ref()
        .map(|_| redrive_state(spec.dead_letter.as_ref()));
    match (redrive, fields) {
        (Some(r), _) if wanted("deadLetter") => {
            out.insert(QueueAttributeName::RedrivePolicy, r.to_string());
        }
        (None, Some(c)) if c.contains(&"deadLetter") => {
            out.insert(QueueAttributeName::RedrivePolicy, String::new());
        }
        _ => {}
    }
    out
}

/// What a read of the queue found: its attributes and tags as SQS returned them.
fn observed(
    spec: &Spec,
    url: &str,
    attrs: &HashMap<QueueAttributeName, String>,
    tags: &Tags,
    owner: Option<Owner>,
) -> Observed {
    let num = |k: &QueueAttributeName| attrs.get(k).and_then(|v| v.parse::<i64>().ok());
    let arn = attrs.get(&QueueAttributeName::QueueArn).cloned();
    let dead_letter = redrive_of(attrs.get(&QueueAttributeName::RedrivePolicy));
    let state = State::from([
        (
            "visibilityTimeout",
            json!(num(&QueueAttributeName::VisibilityTimeout)),
        ),
        (
            "retention",
            json!(num(&QueueAttributeName::MessageRetentionPeriod)),
        ),
        ("deadLetter", redrive_state(dead_letter.as_ref())),
        ("tags", tags_state(tags, &spec.tags)),
    ]);
    let owner = owner.unwrap_or_else(|| owner_from_tags(tags, &spec.tags));
    let exported = Attrs::from([("url", url.to_string()), ("arn", arn.unwrap_or_default())]);
    Observed::new(url, owner, state, exported)
}

/// The queue's URL by its name; `None` when there is no such queue.
async fn url_of(aws: &Aws, name: &str) -> Result<Option<String>, AwsError> {
    let sqs: aws_sdk_sqs::Client = aws.client();
    let out = sqs.get_queue_url().queue_name(name).send().await;
    let out = out.map_err(|e| AwsError::new("finding", KIND, name, e));
    Ok(out.or_not_found(NOT_FOUND)?.and_then(|o| o.queue_url))
}

/// Our tags and everyone else's on the queue at `url`.
async fn tags_of(aws: &Aws, url: &str) -> Result<Option<Tags>, AwsError> {
    let sqs: aws_sdk_sqs::Client = aws.client();
    let out = sqs.list_queue_tags().queue_url(url).send().await;
    let out = out.map_err(|e| AwsError::new("reading tags of", KIND, url, e));
    let tags = out
        .or_not_found(NOT_FOUND)?
        .map(|o| o.tags.unwrap_or_default());
    Ok(tags.map(|t| t.into_iter().collect()))
}

/// Reads the queue at `url`: attributes and tags. `None` when it is gone.
async fn read(
    aws: &Aws,
    spec: &Spec,
    url: &str,
    owner: Option<Owner>,
) -> Result<Option<Observed>, AwsError> {
    let sqs: aws_sdk_sqs::Client = aws.client();
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .map_err(|e| AwsError::new("reading", KIND, url, e));
    let Some(out) = out.or_not_found(NOT_FOUND)? else {
        return Ok(None);
    };
    let Some(tags) = tags_of(aws, url).await? else {
        return Ok(None);
    };
    let attrs = out.attributes.unwrap_or_default();
    Ok(Some(observed(spec, url, &attrs, &tags, owner)))
}

/// The queue read back after a write; it must still be there.
async fn read_back(
    aws: &Aws,
    spec: &Spec,
    url: &str,
    verb: &'static str,
) -> Result<Observed, AwsError> {
    read(aws, spec, url, None)
        .await?
        .or_refused(verb, KIND, url, "the queue disappeared")
}

pub struct Queue;

impl ResourceKind for Queue {
    crate::kind_basics!();
    const FINDS_LEFTOVERS: bool = true;

    /// Its page in the AWS web console (the physical id is the queue's URL).
    const CONSOLE_URL: Option<&'static str> =
        Some("{home}/sqs/v3/home?region={region}#/queues/{id}");
    fn templates(def: &Def) -> Vec<&Template> {
        def.dead_letter.iter().map(|d| &d.queue).collect()
    }
    fn resolve(def: &Def, cx: &mut Resolve<'_>) -> Spec {
        Spec {
            name: def.name.clone(),
            visibility_timeout: def.visibility_timeout,
            retention: def.retention,
            dead_letter: def.dead_letter.as_ref().map(|d| DeadLetter {
                queue: cx.text(&d.queue),
                max_receive_count: d.max_receive_count,
            }),
            tags: cx.tags.clone(),
        }
    }
    fn name(spec: &Spec) -> String {
        spec.name.clone()
    }
    fn state(spec: &Spec) -> State {
        State::from([
            ("visibilityTimeout", json!(spec.visibility_timeout)),
            ("retention", json!(spec.retention)),
            ("deadLetter", redrive_state(spec.dead_letter.as_ref())),
            ("tags", serde_json::to_value(&spec.tags).unwrap_or_default()),
        ])
    }
    /// Finds the queue by `adopt` (a URL or a name) if given, else by its own name.
    async fn find(aws: &Aws, spec: &Spec, hint: Hint<'_>) -> Result<Option<Observed>, AwsError> {
        let url = match hint.adopt {
            Some(a) if a.contains("://") => Some(a.to_string()),
            Some(a) => url_of(aws, a).await?,
            None => url_of(aws, &spec.name).await?,
        };
        let Some(url) = url else {
            return Ok(None);
        };
        let owner = hint.adopt.is_some().then_some(Owner::Adopted);
        read(aws, spec, &url, owner).await
    }
    /// CreateQueue with the attributes and our tags. SQS answers a name that exists with the
    /// same attributes with that queue's URL: only a queue with our tags is ours.
    async fn create(aws: &Aws, spec: &Spec) -> Result<Observed, AwsError> {
        let sqs: aws_sdk_sqs::Client = aws.client();
        let out = sqs
            .create_queue()
            .queue_name(&spec.name)
            .set_attributes(Some(attributes(spec, None)))
            .set_tags(Some(spec.tags.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|e| AwsError::new("creating", KIND, &spec.name, e))?;
        let url = out.queue_url.unwrap_or_default();
        let obs = read_back(aws, spec, &url, "creating").await?;
        if obs.owner != Owner::Ours {
            return Err(AwsError::refused(
                "creating",
                KIND,
                &spec.name,
                "a queue of this name already exists without stackwatch's tags; name it in `adopt:` to take it over",
            ));
        }
        Ok(obs)
    }
    /// One SetQueueAttributes for the changed attributes; TagQueue for our tags.
    async fn update(
        aws: &Aws,
        spec: &Spec,
        obs: &Observed,
        changed: &[&'static str],
    ) -> Result<Observed, AwsError> {
        let sqs: aws_sdk_sqs::Client = aws.client();
        let url = obs.id.as_str();
        let attrs = attributes(spec, Some(changed));
        if !attrs.is_empty() {
            sqs.set_queue_attributes()
                .queue_url(url)
                .set_attributes(Some(attrs))
                .send()
                .await
                .map_err(|e| AwsError::new("updating", KIND, url, e))?;
        }
        if changed.contains(&"tags") {
            sqs.tag_queue()
                .queue_url(url)
                .set_tags(Some(spec.tags.clone().into_iter().collect()))
                .send()
                .await
                .map_err(|e| AwsError::new("tagging", KIND, url, e))?;
        }
        read_back(aws, spec, url, "updating").await
    }
    async fn delete(aws: &Aws, _: &Spec, obs: &Observed) -> Result<(), AwsError> {
        Self::delete_owned(aws, obs).await
    }
    /// This app and stage's queues: ListQueues by name prefix, then each queue's tags.
    async fn list_owned(aws: &Aws, scope: Scope<'_>) -> Result<Vec<Owned>, AwsError> {
        let prefix = NAME.listing_prefix(&format!("{}-{}-", scope.stage, scope.app));
        let sqs: aws_sdk_sqs::Client = aws.client();
        let urls: Vec<String> = sqs
            .list_queues()
            .queue_name_prefix(&prefix)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| AwsError::new("listing", KIND, &prefix, e))?;
        let mut owned = Vec::new();
        for url in urls {
            let name = url.rsplit('/').next().unwrap_or_default();
            if scope.declared_names.contains(name) {
                continue;
            }
            let Some(tags) = tags_of(aws, &url).await? else {
                continue;
            };
            if super::is_app_stage(&tags, scope.app, scope.stage) {
                owned.push(Owned { id: url, tags });
            }
        }
        Ok(owned)
    }
    async fn delete_owned(aws: &Aws, obs: &Observed) -> Result<(), AwsError> {
        let sqs: aws_sdk_sqs::Client = aws.client();
        let out = sqs.delete_queue().queue_url(&obs.id).send().await;
        let out = out.map_err(|e| AwsError::new("deleting", KIND, &obs.id, e));
        out.or_gone(NOT_FOUND)
    }
}

/// The SQS client, built once per connection from the shared config.
impl ServiceClient for aws_sdk_sqs::Client {
    fn build(shared: &aws_config::SdkConfig, calls: &CallCounter) -> Self {
        crate::counted_client!(aws_sdk_sqs, shared, calls)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::testing::{drift, ours, ours_and_others};

    fn spec(dead_letter: Option<DeadLetter<String>>) -> Spec {
        Spec {
            name: "dev-notes-Jobs-Queue".into(),
            visibility_timeout: 60,
            retention: DEFAULT_RETENTION,
            dead_letter,
            tags: ours(),
        }
    }

    const URL: &str = "https://sqs.us-east-1.amazonaws.com/123456789012/dev-notes-Jobs-Queue";
    const DLQ: &str = "arn:aws:sqs:us-east-1:123456789012:dev-notes-Jobs-Dlq";

    fn answer(pairs: &[(QueueAttributeName, &str)]) -> HashMap<QueueAttributeName, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_queue_as_declared_has_no_drift_and_exports_url_and_arn() {
        let dl = DeadLetter {
            queue: DLQ.to_string(),
            max_receive_count: 5,
        };
        let s = spec(Some(dl));
        let attrs = answer(&[
            (QueueAttributeName::VisibilityTimeout, "60"),
            (QueueAttributeName::MessageRetentionPeriod, "345600"),
            (
                QueueAttributeName::RedrivePolicy,
                &format!(r#"{{"deadLetterTargetArn":"{DLQ}","maxReceiveCount":5}}"#),
            ),
            (
                QueueAttributeName::QueueArn,
                "arn:aws:sqs:us-east-1:123456789012:dev-notes-Jobs-Queue",
            ),
        ]);
        let obs = observed(&s, URL, &attrs, &ours_and_others(), None);
        assert_eq!(obs.owner, Owner::Ours);
        assert!(drift(&Queue::state(&s), &obs.state).is_empty(), "{obs:?}");
        assert_eq!(obs.attrs["url"], URL);
        assert!(obs.attrs["arn"].ends_with(":dev-notes-Jobs-Queue"));
        assert_eq!(obs.id, URL);
    }

    #[test]
    fn changed_attributes_and_a_removed_redrive_are_drift() {
        let s = spec(None);
        let attrs = answer(&[
            (QueueAttributeName::VisibilityTimeout, "30"),
            (QueueAttributeName::MessageRetentionPeriod, "345600"),
            (
                QueueAttributeName::RedrivePolicy,
                &format!(r#"{{"deadLetterTargetArn":"{DLQ}","maxReceiveCount":"3"}}"#),
            ),
        ]);
        let obs = observed(&s, URL, &attrs, &Tags::new(), None);
        assert_eq!(obs.owner, Owner::Foreign, "no tags: not ours");
        let mut d = drift(&Queue::state(&s), &obs.state);
        d.sort();
        assert_eq!(d, ["deadLetter", "tags", "visibilityTimeout"]);
    }

    #[test]
    fn an_update_sends_only_the_changed_attributes_and_clears_a_removed_redrive() {
        let s = spec(None);
        let sent = attributes(&s, Some(&["deadLetter", "retention"]));
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[&QueueAttributeName::RedrivePolicy], "");
        assert_eq!(sent[&QueueAttributeName::MessageRetentionPeriod], "345600");
        let created = attributes(&s, None);
        assert!(!created.contains_key(&QueueAttributeName::RedrivePolicy));
        assert_eq!(created[&QueueAttributeName::VisibilityTimeout], "60");
    }
}
