//! S3 bucket: CORS rules for a browser front end, and tags.
//!
//! Found by its deterministic name (HeadBucket), ownership by its tags (GetBucketTagging).
//! CreateBucket carries the tags in `CreateBucketConfiguration.Tags`, so the bucket exists
//! tagged or not at all: a crash right after the create leaves a bucket the next run finds as
//! ours (this needs `s3:TagResource` besides `s3:CreateBucket`). Later tag writes are a merge:
//! other people's tags on the bucket stay.
//! A bucket that still holds objects is never emptied: deleting it is an error that says so.

use super::naming::{self, NameRule};
use super::{Hint, Resolve, ResourceKind};
use crate::source::template::Template;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CorsConfiguration, CorsRule as S3CorsRule, CreateBucketConfiguration,
    Tag, Tagging,
};
use serde_json::{Value, json};

use super::declare::{Check, ConfigKind, Expand};
use super::{Attrs, Observed, Owner, State, Tags, owner_from_tags, set, tags_state};
use crate::aws::{Aws, AwsError, OrRefused, RetryWhen, retry};

pub const KIND: &str = "S3 bucket";
/// S3's bucket naming rules (see [`naming::BUCKET`]).
pub const NAME: NameRule = naming::BUCKET;

/// The length of `-{account}`: account ids are 12 digits.
const ACCOUNT_SUFFIX_LEN: usize = "-123456789012".len();

/// The head of a bucket name that ends with the account id, `{head}-{account}`: `base`
/// lowercased, fitted so that the whole name keeps S3's rules whatever the account. The error
/// says which rule a name of this head breaks (one shortening cannot fix, such as a reserved
/// prefix).
pub fn head_before_account(base: &str) -> Result<String, String> {
    let head = NAME.fit(&base.to_lowercase(), ACCOUNT_SUFFIX_LEN);
    naming::check_bucket(&format!("{head}-000000000000"))?;
    Ok(head)
}

// ---- What a stack file declares: `kind: bucket`

crate::kind_fields! {
    /// `kind: bucket`: an S3 bucket.
    pub struct Fields {
        /// CORS rules for a browser front end.
        #[schemars(with = "Option<Vec<CorsRule>>")]
        cors: Option<serde_saphyr::Spanned<Vec<CorsRule>>>,
    }
}

/// One S3 CORS rule.
#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
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

impl ConfigKind for Bucket {
    const NAME: &'static str = "bucket";
    const ABOUT: &'static str = "An S3 bucket.";
    const ATTRIBUTES: &'static [&'static str] = &["name", "arn"];
    const HOLDS_DATA: bool = true;
    type Fields = Fields;
    type Spec = Vec<CorsRule>;

    fn check(fields: Fields, _cx: &mut dyn Check) -> Vec<CorsRule> {
        fields.cors.map(|c| c.value).unwrap_or_default()
    }

    /// One node, named `{stage}-{app}-{stack}-{resource}-{account}` lowercased, its head
    /// fitted so that the whole name keeps S3's rules whatever the (12-digit) account.
    fn expand(cors: &Vec<CorsRule>, b: &mut dyn Expand) {
        let base = b.names().qualified();
        let name = match head_before_account(&base) {
            Ok(head) => {
                let name = format!("{head}-${{app.account}}");
                Template::parse(&name).unwrap_or_else(|_| Template::literal(name))
            }
            Err(message) => {
                let loc = b.here();
                b.diag(crate::source::Diagnostic { loc, message });
                Template::literal(base)
            }
        };
        b.push_one(
            super::Def::Bucket(Def {
                name,
                cors: cors.clone(),
            }),
            &[("name", "name"), ("arn", "arn")],
        );
    }
}

// ---- The S3 bucket itself

/// What the config asks for: the name (it ends with the account id, known once connected)
/// and the CORS rules.
#[derive(Debug, Clone)]
pub struct Def {
    pub name: Template,
    pub cors: Vec<CorsRule>,
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub name: String,
    pub cors: Vec<CorsRule>,
    pub tags: Tags,
}

/// Right after CreateBucket, S3 may not yet show the bucket to the next call:
/// "NoSuchBucket: The specified bucket does not exist".
pub const BUCKET_NOT_YET_VISIBLE: RetryWhen = RetryWhen {
    name: "s3 bucket not yet visible",
    matches: |e| e.is("NoSuchBucket"),
};

/// One CORS rule in canonical form: every list a sorted set, `maxAge` null when unset.
fn rule_state(
    origins: &[String],
    methods: &[String],
    headers: &[String],
    exposed: &[String],
    max_age: Option<i32>,
) -> Value {
    json!({
        "allowedOrigins": set(origins.iter().cloned()),
        "allowedMethods": set(methods.iter().cloned()),
        "allowedHeaders": set(headers.iter().cloned()),
        "exposedHeaders": set(exposed.iter().cloned()),
        "maxAge": max_age,
    })
}

/// The rules as an array sorted by their JSON text: rule order is not compared. (S3 applies
/// the first rule that matches, so only overlapping rules in another order would behave
/// differently; that difference is deliberately not drift.)
fn cors_state(rules: impl Iterator<Item = Value>) -> Value {
    let mut rules: Vec<Value> = rules.collect();
    rules.sort_by_cached_key(|r| r.to_string());
    Value::from(rules)
}

fn arn(aws: &Aws, name: &str) -> String {
    format!("arn:{}:s3:::{name}", super::partition(&aws.region))
}

/// HeadBucket answers a missing bucket with a bare 404, which the SDK reports as `NotFound`;
/// the other calls say `NoSuchBucket`.
fn is_missing(e: &AwsError) -> bool {
    e.is("NotFound") || e.is("NoSuchBucket") || e.is("404")
}

/// A tag set as GetBucketTagging reads it.
fn tags_of(set: &[Tag]) -> Tags {
    set.iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

/// The canonical CORS state of the rules GetBucketCors reads.
fn cors_of(rules: &[S3CorsRule]) -> Value {
    cors_state(rules.iter().map(|r| {
        rule_state(
            r.allowed_origins(),
            r.allowed_methods(),
            r.allowed_headers(),
            r.expose_headers(),
            r.max_age_seconds(),
        )
    }))
}

/// The bucket `name` (its ARN `arn`) as read: its tags and canonical CORS state. The owner is
/// `owner`, else ours by the tags.
fn observed(
    spec: &Spec,
    name: &str,
    arn: String,
    tags: &Tags,
    cors: Value,
    owner: Option<Owner>,
) -> Observed {
    let owner = owner.unwrap_or_else(|| owner_from_tags(tags, &spec.tags));
    Observed::new(
        name.to_string(),
        owner,
        State::from([("cors", cors), ("tags", tags_state(tags, &spec.tags))]),
        Attrs::from([("name", name.to_string()), ("arn", arn)]),
    )
}

/// The tags on the bucket; `None` when the bucket is gone.
pub async fn read_tags(aws: &Aws, name: &str) -> Result<Option<Tags>, AwsError> {
    match aws.s3.get_bucket_tagging().bucket(name).send().await {
        Ok(out) => Ok(Some(tags_of(out.tag_set()))),
        Err(e) => {
            let e = AwsError::new("reading tags of", KIND, name, e);
            if e.is("NoSuchTagSet") {
                Ok(Some(Tags::new()))
            } else if is_missing(&e) {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

/// The canonical CORS state; `None` when the bucket is gone.
async fn read_cors(aws: &Aws, name: &str) -> Result<Option<Value>, AwsError> {
    match aws.s3.get_bucket_cors().bucket(name).send().await {
        Ok(out) => Ok(Some(cors_of(out.cors_rules()))),
        Err(e) => {
            let e = AwsError::new("reading CORS of", KIND, name, e);
            if e.is("NoSuchCORSConfiguration") {
                Ok(Some(Value::Array(Vec::new())))
            } else if is_missing(&e) {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

fn s3_cors(spec: &Spec) -> Result<CorsConfiguration, AwsError> {
    let refused = |e: aws_sdk_s3::error::BuildError| {
        AwsError::refused("updating CORS of", KIND, &spec.name, e.to_string())
    };
    let rules = spec
        .cors
        .iter()
        .map(|r| {
            S3CorsRule::builder()
                .set_allowed_origins(Some(r.allowed_origins.clone()))
                .set_allowed_methods(Some(r.allowed_methods.clone()))
                .set_allowed_headers(Some(r.allowed_headers.clone()))
                .set_expose_headers(Some(r.exposed_headers.clone()))
                .set_max_age_seconds(r.max_age)
                .build()
                .map_err(refused)
        })
        .collect::<Result<Vec<_>, _>>()?;
    CorsConfiguration::builder()
        .set_cors_rules(Some(rules))
        .build()
        .map_err(refused)
}

/// Puts the spec's CORS rules, or deletes the CORS configuration when there are none.
async fn write_cors(aws: &Aws, spec: &Spec, name: &str) -> Result<(), AwsError> {
    if spec.cors.is_empty() {
        return retry(BUCKET_NOT_YET_VISIBLE, || async {
            aws.s3
                .delete_bucket_cors()
                .bucket(name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::new("deleting CORS of", KIND, name, e))
        })
        .await;
    }
    let config = s3_cors(spec)?;
    retry(BUCKET_NOT_YET_VISIBLE, || async {
        aws.s3
            .put_bucket_cors()
            .bucket(name)
            .cors_configuration(config.clone())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::new("updating CORS of", KIND, name, e))
    })
    .await
}

/// PutBucketTagging replaces the whole tag set, so `tags` must already include other people's.
async fn write_tags(aws: &Aws, name: &str, tags: &Tags) -> Result<(), AwsError> {
    let tagging = Tagging::builder()
        .set_tag_set(Some(s3_tags(name, tags)?))
        .build()
        .map_err(|e| AwsError::refused("tagging", KIND, name, e.to_string()))?;
    retry(BUCKET_NOT_YET_VISIBLE, || async {
        aws.s3
            .put_bucket_tagging()
            .bucket(name)
            .tagging(tagging.clone())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::new("tagging", KIND, name, e))
    })
    .await
}

/// What [`create_tagged`] came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// Made now, with the tags.
    Made,
    /// It was already there in this account (a retried create whose first answer was lost,
    /// or another daemon's): its tags as read, for the caller to decide whose it is.
    Existing(Tags),
}

fn s3_tags(name: &str, tags: &Tags) -> Result<Vec<Tag>, AwsError> {
    // `aws:` tags are system tags: S3 refuses requests that write them ("InvalidTag").
    let writable: Tags = tags
        .iter()
        .filter(|(k, _)| !k.starts_with("aws:"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    super::sdk_tags(&writable, KIND, name, |k, v| {
        Tag::builder().key(k).value(v).build()
    })
}

/// CreateBucket with its tags in the same call (and the region's location constraint; us-east-1
/// is the default location and refuses to be named). Shared by the bucket kind and the daemon's
/// lease bucket. "BucketAlreadyOwnedByYou: Your previous request to create the named bucket
/// succeeded and you already own it." is not an error here: the tags say whose it is.
pub async fn create_tagged(aws: &Aws, name: &str, tags: &Tags) -> Result<Created, AwsError> {
    let location =
        (aws.region != "us-east-1").then(|| BucketLocationConstraint::from(aws.region.as_str()));
    let config = CreateBucketConfiguration::builder()
        .set_location_constraint(location)
        .set_tags(Some(s3_tags(name, tags)?))
        .build();
    match aws
        .s3
        .create_bucket()
        .bucket(name)
        .create_bucket_configuration(config)
        .send()
        .await
    {
        Ok(_) => Ok(Created::Made),
        Err(e) => {
            let e = AwsError::new("creating", KIND, name, e);
            if !e.is("BucketAlreadyOwnedByYou") {
                return Err(e);
            }
            let found = read_tags(aws, name).await?.or_refused(
                "creating",
                KIND,
                name,
                "the bucket disappeared during create",
            )?;
            Ok(Created::Existing(found))
        }
    }
}

/// The bucket kind. It holds data (its objects): retained by default.
pub struct Bucket;

impl ResourceKind for Bucket {
    crate::kind_basics!();
    const HOLDS_DATA: bool = true;

    /// Its page in the AWS web console.
    const CONSOLE_URL: Option<&'static str> =
        Some("https://s3.console.aws.amazon.com/s3/buckets/{id}?region={region}");
    fn templates(def: &Def) -> Vec<&Template> {
        vec![&def.name]
    }
    fn resolve(def: &Def, cx: &mut Resolve<'_>) -> Spec {
        Spec {
            name: cx.text(&def.name),
            cors: def.cors.clone(),
            tags: cx.tags.clone(),
        }
    }
    fn name(spec: &Spec) -> String {
        spec.name.clone()
    }
    fn state(spec: &Spec) -> State {
        State::from([
            (
                "cors",
                cors_state(spec.cors.iter().map(|r| {
                    rule_state(
                        &r.allowed_origins,
                        &r.allowed_methods,
                        &r.allowed_headers,
                        &r.exposed_headers,
                        r.max_age,
                    )
                })),
            ),
            ("tags", serde_json::to_value(&spec.tags).unwrap_or_default()),
        ])
    }
    /// Finds the bucket: the `adopt` name if given, else the spec's name.
    async fn find(aws: &Aws, spec: &Spec, hint: Hint<'_>) -> Result<Option<Observed>, AwsError> {
        let adopt = hint.adopt;
        let name = adopt.unwrap_or(&spec.name);
        // Independent reads, sent at once; any of them finding no bucket means no bucket.
        let (head, tags, cors) = futures::join!(
            aws.s3.head_bucket().bucket(name).send(),
            read_tags(aws, name),
            read_cors(aws, name)
        );
        if let Err(e) = head {
            let e = AwsError::new("reading", KIND, name, e);
            return if is_missing(&e) { Ok(None) } else { Err(e) };
        }
        let Some(tags) = tags? else {
            return Ok(None);
        };
        let Some(cors) = cors? else {
            return Ok(None);
        };
        let owner = adopt.is_some().then_some(Owner::Adopted);
        Ok(Some(observed(
            spec,
            name,
            arn(aws, name),
            &tags,
            cors,
            owner,
        )))
    }
    async fn create(aws: &Aws, spec: &Spec) -> Result<Observed, AwsError> {
        let name = spec.name.as_str();
        if let Created::Existing(found) = create_tagged(aws, name, &spec.tags).await?
            && owner_from_tags(&found, &spec.tags) != Owner::Ours
        {
            return Err(AwsError::refused(
                "creating",
                KIND,
                name,
                "a bucket with this name already exists in this account without stackwatch's tags; \
                 stackwatch never modifies what it does not own",
            ));
        }
        if !spec.cors.is_empty() {
            write_cors(aws, spec, name).await?;
        }
        Ok(Observed::new(
            name.to_string(),
            Owner::Ours,
            Self::state(spec),
            Attrs::from([("name", name.to_string()), ("arn", arn(aws, name))]),
        ))
    }
    async fn update(
        aws: &Aws,
        spec: &Spec,
        obs: &Observed,
        changed: &[&'static str],
    ) -> Result<Observed, AwsError> {
        let name = obs.id.as_str();
        if changed.contains(&"cors") {
            write_cors(aws, spec, name).await?;
        }
        if changed.contains(&"tags") {
            let mut tags = read_tags(aws, name).await?.or_refused(
                "tagging",
                KIND,
                name,
                "the bucket disappeared during update",
            )?;
            tags.extend(spec.tags.clone());
            write_tags(aws, name, &tags).await?;
        }
        Ok(Observed::new(
            obs.id.clone(),
            Owner::Ours,
            Self::state(spec),
            obs.attrs.clone(),
        ))
    }
    /// Deletes an empty bucket. Objects are never deleted: a bucket that still holds any is an
    /// error (`BucketNotEmpty`) telling the user to empty it or keep it.
    async fn delete(aws: &Aws, _: &Spec, obs: &Observed) -> Result<(), AwsError> {
        let name = obs.id.as_str();
        match aws.s3.delete_bucket().bucket(name).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = AwsError::new("deleting", KIND, name, e);
                if is_missing(&e) {
                    Ok(())
                } else if e.is("BucketNotEmpty") {
                    let mut e = e;
                    if let crate::aws::Cause::Api(api) = e.cause.as_mut() {
                        api.message = format!(
                            "BucketNotEmpty: the bucket is not empty (it still holds objects or object \
                             versions), and stackwatch never deletes data: empty it yourself (for example \
                             `aws s3 rm s3://{name} --recursive`) or set `removal: retain`"
                        );
                    }
                    Err(e)
                } else {
                    Err(e)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_ours_as_specified, drift, ours, ours_and_others};
    use super::*;

    const BUCKET: &str = "dev-notes-storagestack-uploads-123456789012";
    const ARN: &str = "arn:aws:s3:::dev-notes-storagestack-uploads-123456789012";

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn spec() -> Spec {
        Spec {
            name: BUCKET.into(),
            cors: vec![
                CorsRule {
                    allowed_origins: strings(&["*"]),
                    allowed_methods: strings(&["GET", "PUT", "POST", "DELETE", "HEAD"]),
                    allowed_headers: strings(&["*"]),
                    exposed_headers: strings(&["ETag"]),
                    max_age: Some(3000),
                },
                CorsRule {
                    allowed_origins: strings(&["https://app.example.com"]),
                    allowed_methods: strings(&["GET"]),
                    allowed_headers: Vec::new(),
                    exposed_headers: Vec::new(),
                    max_age: None,
                },
            ],
            tags: ours(),
        }
    }

    fn rule(origins: &[&str], methods: &[&str]) -> aws_sdk_s3::types::builders::CorsRuleBuilder {
        S3CorsRule::builder()
            .set_allowed_origins(Some(strings(origins)))
            .set_allowed_methods(Some(strings(methods)))
    }

    /// GetBucketCors's rules for the bucket as PutBucketCors left it: rules and methods in
    /// another order, empty lists left out.
    fn rules() -> Vec<S3CorsRule> {
        vec![
            rule(&["https://app.example.com"], &["GET"])
                .build()
                .unwrap(),
            rule(&["*"], &["HEAD", "DELETE", "POST", "PUT", "GET"])
                .allowed_headers("*")
                .expose_headers("ETag")
                .max_age_seconds(3000)
                .build()
                .unwrap(),
        ]
    }

    /// GetBucketTagging's tag set: ours, another team's, and one AWS adds itself.
    fn tag_set(tags: &Tags) -> Vec<Tag> {
        let mut set: Vec<Tag> = tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build().unwrap())
            .collect();
        set.push(
            Tag::builder()
                .key("aws:cloudformation:stack-name")
                .value("other")
                .build()
                .unwrap(),
        );
        set
    }

    fn observe(sp: &Spec, rules: &[S3CorsRule], tags: &Tags, owner: Option<Owner>) -> Observed {
        let tags = tags_of(&tag_set(tags));
        observed(sp, BUCKET, ARN.into(), &tags, cors_of(rules), owner)
    }

    #[test]
    fn a_bucket_as_created_matches_its_spec() {
        let sp = spec();
        let obs = observe(&sp, &rules(), &ours_and_others(), None);
        let attrs = [("name", BUCKET), ("arn", ARN)];
        assert_ours_as_specified(&obs, Bucket::state(&sp), BUCKET, &attrs);
    }

    #[test]
    fn no_cors_configuration_is_no_rules() {
        // read_cors turns NoSuchCORSConfiguration into no rules.
        let sp = Spec {
            cors: Vec::new(),
            ..spec()
        };
        let obs = observe(&sp, &[], &ours(), None);
        assert_eq!(obs.state, Bucket::state(&sp));
        assert_eq!(drift(&Bucket::state(&spec()), &obs.state), ["cors"]);
    }

    #[test]
    fn a_changed_rule_is_drift_in_cors() {
        let sp = spec();
        let mut fewer_methods = rules();
        fewer_methods[1].allowed_methods.retain(|m| m != "DELETE");
        let mut cached_longer = rules();
        cached_longer[1].max_age_seconds = Some(86400);
        let mut extra = rules();
        extra.push(
            rule(&["https://evil.example.com"], &["GET"])
                .build()
                .unwrap(),
        );
        let mut another_origin = rules();
        another_origin[0].allowed_origins = strings(&["https://old.example.com"]);
        for rules in [fewer_methods, cached_longer, extra, another_origin] {
            let obs = observe(&sp, &rules, &ours(), None);
            assert_eq!(
                drift(&Bucket::state(&sp), &obs.state),
                ["cors"],
                "{rules:?}"
            );
        }
    }

    #[test]
    fn ownership_by_tags_unless_adopted() {
        let sp = spec();
        let mut other_stage = ours();
        other_stage.insert(super::super::TAG_STAGE.into(), "prod".into());
        let obs = observe(&sp, &rules(), &other_stage, None);
        assert_eq!(obs.owner, Owner::Foreign);
        assert_eq!(drift(&Bucket::state(&sp), &obs.state), ["tags"]);
        let untagged = observe(&sp, &rules(), &Tags::new(), Some(Owner::Adopted));
        assert_eq!(untagged.owner, Owner::Adopted);
        assert_eq!(untagged.state["tags"], json!({}));
    }
}
