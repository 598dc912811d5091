//! S3 bucket and HTTP API resources against the local emulator, through the real SDK:
//! create → find equals the desired state (no-op plan) → change one field → find differs in
//! exactly that field → update → equal again → delete → gone. Plus ownership and refusals.

mod common;

use std::collections::BTreeMap;

use common::Emulator;
use serde_json::{Value, json};
use stackwatch::aws::Aws;
use stackwatch::resource::bucket::CorsRule;
use stackwatch::resource::bucket::{self, Bucket};
use stackwatch::resource::http_api::declared::Authorizer;
use stackwatch::resource::http_api::{self, HttpApi};
use stackwatch::resource::{
    Detail, Hint, Observed, Owner, ResourceKind, State, TAG_APP, TAG_ID, Tags,
};

fn tags(id: &str) -> Tags {
    common::tags("test", "Storage", id)
}

/// The fields whose values differ, as a plan would see them.
fn diff(desired: &State, found: &State) -> Vec<&'static str> {
    common::changed_fields(desired, found).into_iter().collect()
}

fn rule(origins: &[&str], methods: &[&str], max_age: Option<i32>) -> CorsRule {
    CorsRule {
        allowed_origins: origins.iter().map(|s| s.to_string()).collect(),
        allowed_methods: methods.iter().map(|s| s.to_string()).collect(),
        allowed_headers: vec!["*".to_string()],
        exposed_headers: vec!["ETag".to_string()],
        max_age,
    }
}

fn bucket_spec(name: &str) -> bucket::Spec {
    bucket::Spec {
        name: name.to_string(),
        cors: vec![
            // Methods out of order and two rules: state is canonical either way.
            rule(
                &["https://app.example.com"],
                &["PUT", "GET", "POST"],
                Some(3000),
            ),
            rule(&["*"], &["GET"], None),
        ],
        tags: tags("Uploads"),
    }
}

async fn find_bucket(aws: &Aws, spec: &bucket::Spec) -> Option<Observed> {
    Bucket::find(aws, spec, Hint::default())
        .await
        .expect("find bucket")
}

async fn bucket_tags(aws: &Aws, name: &str) -> BTreeMap<String, String> {
    let out = aws
        .s3
        .get_bucket_tagging()
        .bucket(name)
        .send()
        .await
        .expect("GetBucketTagging");
    out.tag_set()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

#[tokio::test]
async fn bucket_lifecycle() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let mut spec = bucket_spec("test-notes-uploads");

    assert!(find_bucket(&aws, &spec).await.is_none());

    let created = Bucket::create(&aws, &spec).await.expect("create");
    assert_eq!(created.id, spec.name);
    assert_eq!(created.attrs["arn"], "arn:aws:s3:::test-notes-uploads");
    assert_eq!(created.attrs["name"], "test-notes-uploads");

    let obs = find_bucket(&aws, &spec).await.expect("found after create");
    assert_eq!(obs.owner, Owner::Ours);
    assert_eq!(obs.state, Bucket::state(&spec), "no-op plan after create");
    assert_eq!(obs.attrs, created.attrs);
    assert_eq!(obs.state["cors"].as_array().map(Vec::len), Some(2));
    // Rule order and list order carry no meaning in the state.
    let mut reordered = spec.clone();
    reordered.cors.reverse();
    reordered.cors[1].allowed_methods.reverse();
    assert_eq!(Bucket::state(&reordered), obs.state);

    // Change one CORS rule: only `cors` differs.
    spec.cors[1] = rule(&["*"], &["GET", "HEAD"], Some(60));
    let obs = find_bucket(&aws, &spec).await.expect("found");
    assert_eq!(diff(&Bucket::state(&spec), &obs.state), vec!["cors"]);

    let updated = Bucket::update(&aws, &spec, &obs, &["cors"])
        .await
        .expect("update");
    assert_eq!(updated.state, Bucket::state(&spec));
    let obs = find_bucket(&aws, &spec).await.expect("found after update");
    assert_eq!(obs.state, Bucket::state(&spec), "no-op plan after update");

    // Remove every rule: the CORS configuration is deleted, and none reads as [].
    spec.cors.clear();
    let obs = find_bucket(&aws, &spec).await.expect("found");
    assert_eq!(diff(&Bucket::state(&spec), &obs.state), vec!["cors"]);
    Bucket::update(&aws, &spec, &obs, &["cors"])
        .await
        .expect("update");
    let obs = find_bucket(&aws, &spec).await.expect("found");
    assert_eq!(obs.state["cors"], json!([]));
    assert_eq!(obs.state, Bucket::state(&spec));
    let err = aws
        .s3
        .get_bucket_cors()
        .bucket(&spec.name)
        .send()
        .await
        .expect_err("no CORS configuration left");
    assert_eq!(
        aws_sdk_s3::error::ProvideErrorMetadata::code(&err),
        Some("NoSuchCORSConfiguration")
    );

    Bucket::delete(&aws, &spec, &obs).await.expect("delete");
    assert!(find_bucket(&aws, &spec).await.is_none());
    // Deleting what is already gone is success.
    Bucket::delete(&aws, &spec, &obs)
        .await
        .expect("delete again");
}

#[tokio::test]
async fn bucket_without_our_tags_is_foreign_and_adopting_keeps_its_tags() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let spec = bucket_spec("test-notes-foreign");
    aws.s3
        .create_bucket()
        .bucket(&spec.name)
        .send()
        .await
        .expect("CreateBucket");

    // No tags at all.
    let obs = find_bucket(&aws, &spec).await.expect("found");
    assert_eq!(obs.owner, Owner::Foreign);
    assert_eq!(obs.state["tags"], json!({}));
    assert_eq!(obs.state["cors"], json!([]));

    // Someone else's tags, one of ours with another value.
    let mut theirs = Tags::from([("team".to_string(), "web".to_string())]);
    theirs.insert(TAG_APP.to_string(), "other".to_string());
    let tagging = aws_sdk_s3::types::Tagging::builder()
        .set_tag_set(Some(
            theirs
                .iter()
                .map(|(k, v)| {
                    aws_sdk_s3::types::Tag::builder()
                        .key(k)
                        .value(v)
                        .build()
                        .expect("tag")
                })
                .collect(),
        ))
        .build()
        .expect("tagging");
    aws.s3
        .put_bucket_tagging()
        .bucket(&spec.name)
        .tagging(tagging)
        .send()
        .await
        .expect("PutBucketTagging");
    let obs = find_bucket(&aws, &spec).await.expect("found");
    assert_eq!(obs.owner, Owner::Foreign);
    assert_eq!(
        obs.state["tags"],
        json!({TAG_APP: "other"}),
        "managed keys only"
    );

    // Adopted: our tags are merged in, `team` stays.
    let obs = Bucket::find(&aws, &spec, Hint::adopt(&spec.name))
        .await
        .expect("find adopted")
        .expect("found");
    assert_eq!(obs.owner, Owner::Adopted);
    let changed = diff(&Bucket::state(&spec), &obs.state);
    assert_eq!(changed, vec!["cors", "tags"]);
    Bucket::update(&aws, &spec, &obs, &changed)
        .await
        .expect("update");
    let obs = find_bucket(&aws, &spec).await.expect("found");
    assert_eq!(obs.owner, Owner::Ours);
    assert_eq!(obs.state, Bucket::state(&spec));
    let mut want = spec.tags.clone();
    want.insert("team".to_string(), "web".to_string());
    assert_eq!(bucket_tags(&aws, &spec.name).await, want);

    // Adopting a bucket that does not exist finds nothing.
    assert!(
        Bucket::find(&aws, &spec, Hint::adopt("test-notes-missing"))
            .await
            .expect("find")
            .is_none()
    );
}

#[tokio::test]
async fn non_empty_bucket_delete_is_an_error_and_the_bucket_remains() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let spec = bucket_spec("test-notes-full");
    let obs = Bucket::create(&aws, &spec).await.expect("create");
    aws.s3
        .put_object()
        .bucket(&spec.name)
        .key("notes/1.txt")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"hello"))
        .send()
        .await
        .expect("PutObject");

    let err = Bucket::delete(&aws, &spec, &obs)
        .await
        .expect_err("non-empty bucket");
    assert!(err.is("BucketNotEmpty"), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("test-notes-full") && text.contains("not empty"),
        "{text}"
    );

    let still = find_bucket(&aws, &spec).await.expect("bucket remains");
    assert_eq!(still.owner, Owner::Ours);
    let listed = aws
        .s3
        .list_objects_v2()
        .bucket(&spec.name)
        .send()
        .await
        .expect("ListObjectsV2");
    assert_eq!(listed.key_count(), Some(1), "the object was not deleted");
}

const LAMBDA: &str = "arn:aws:lambda:us-east-1:123456789012:function:test-notes-list";
const LAMBDA2: &str = "arn:aws:lambda:us-east-1:123456789012:function:test-notes-create";

fn api_spec(name: &str) -> http_api::Spec {
    http_api::Spec {
        name: name.to_string(),
        authorizer: Authorizer::Iam,
        routes: vec![
            (
                "GET /notes/{id}".to_string(),
                "https://backend.example.com/notes/{id}".to_string(),
            ),
            ("GET /notes".to_string(), LAMBDA.to_string()),
            ("POST /notes".to_string(), LAMBDA2.to_string()),
        ],
        tags: tags("Api"),
    }
}

async fn find_api(aws: &Aws, spec: &http_api::Spec) -> Option<Observed> {
    HttpApi::find(aws, spec, Hint::default())
        .await
        .expect("find api")
}

/// Every integration of the API: (type, uri, method, payload format).
async fn integrations(aws: &Aws, id: &str) -> Vec<(String, String, String, String)> {
    let out = aws
        .apigw
        .get_integrations()
        .api_id(id)
        .send()
        .await
        .expect("GetIntegrations");
    let mut v: Vec<_> = out
        .items()
        .iter()
        .map(|i| {
            (
                i.integration_type()
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_default(),
                i.integration_uri().unwrap_or_default().to_string(),
                i.integration_method().unwrap_or_default().to_string(),
                i.payload_format_version().unwrap_or_default().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn route_ids(obs: &Observed) -> BTreeMap<String, String> {
    match &obs.detail {
        Detail::Api(live) => live
            .routes
            .iter()
            .map(|(k, r)| (k.clone(), r.route_id.clone()))
            .collect(),
        other => panic!("expected Detail::Api, found {other:?}"),
    }
}

#[tokio::test]
async fn http_api_lifecycle() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let mut spec = api_spec("test-notes-api");

    assert!(find_api(&aws, &spec).await.is_none());

    let created = HttpApi::create(&aws, &spec).await.expect("create");
    assert!(
        created.attrs["url"].starts_with("https://"),
        "{:?}",
        created.attrs
    );
    assert_eq!(created.attrs["id"], created.id);

    let obs = find_api(&aws, &spec).await.expect("found after create");
    assert_eq!(obs.owner, Owner::Ours);
    assert_eq!(obs.id, created.id);
    assert_eq!(obs.attrs, created.attrs);
    assert_eq!(obs.state, HttpApi::state(&spec), "no-op plan after create");
    assert_eq!(
        obs.state["routes"]["GET /notes/{id}"],
        json!({"target": "https://backend.example.com/notes/{id}", "authorizationType": "AWS_IAM"})
    );
    assert_eq!(
        obs.state["stage"],
        json!({"name": "$default", "autoDeploy": true})
    );
    assert_eq!(route_ids(&obs), route_ids(&created));
    let mut want = vec![
        ("AWS_PROXY", LAMBDA2, "2.0"),
        ("AWS_PROXY", LAMBDA, "2.0"),
        (
            "HTTP_PROXY",
            "https://backend.example.com/notes/{id}",
            "1.0",
        ),
    ];
    want.sort();
    let found = integrations(&aws, &obs.id).await;
    assert_eq!(
        found
            .iter()
            .map(|(t, u, _, p)| (t.as_str(), u.as_str(), p.as_str()))
            .collect::<Vec<_>>(),
        want
    );
    let http = found
        .iter()
        .find(|i| i.0 == "HTTP_PROXY")
        .expect("http integration");
    assert_eq!(http.2, "GET", "IntegrationMethod is the route's method");

    // Change one route's target: only `routes` differs; the route keeps its id.
    spec.routes[0].1 = "https://backend-v2.example.com/notes/{id}".to_string();
    let obs = find_api(&aws, &spec).await.expect("found");
    assert_eq!(diff(&HttpApi::state(&spec), &obs.state), vec!["routes"]);
    let before = route_ids(&obs);
    let updated = HttpApi::update(&aws, &spec, &obs, &["routes"])
        .await
        .expect("update");
    assert_eq!(updated.state, HttpApi::state(&spec));
    let obs = find_api(&aws, &spec).await.expect("found after update");
    assert_eq!(obs.state, HttpApi::state(&spec), "no-op plan after update");
    assert_eq!(route_ids(&obs), before, "changed in place");

    // Remove a route, turn a Lambda route into an HTTP one, and open all routes.
    spec.routes.retain(|(k, _)| k != "POST /notes");
    spec.routes[1].1 = "http://legacy.example.com/notes".to_string();
    spec.authorizer = Authorizer::None;
    let obs = find_api(&aws, &spec).await.expect("found");
    assert_eq!(diff(&HttpApi::state(&spec), &obs.state), vec!["routes"]);
    HttpApi::update(&aws, &spec, &obs, &["routes"])
        .await
        .expect("update");
    let obs = find_api(&aws, &spec).await.expect("found after update");
    assert_eq!(obs.state, HttpApi::state(&spec), "no-op plan after update");
    assert_eq!(
        obs.state["routes"]["GET /notes"],
        json!({"target": "http://legacy.example.com/notes", "authorizationType": "NONE"})
    );
    // The removed route's integration and the replaced Lambda integration are gone.
    let found = integrations(&aws, &obs.id).await;
    assert_eq!(
        found,
        vec![
            (
                "HTTP_PROXY".to_string(),
                "http://legacy.example.com/notes".to_string(),
                "GET".to_string(),
                "1.0".to_string()
            ),
            (
                "HTTP_PROXY".to_string(),
                "https://backend-v2.example.com/notes/{id}".to_string(),
                "GET".to_string(),
                "1.0".to_string()
            ),
        ]
    );

    HttpApi::delete(&aws, &spec, &obs).await.expect("delete");
    assert!(find_api(&aws, &spec).await.is_none());
}

#[tokio::test]
async fn http_api_tags_and_interrupted_create_converge() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let spec = api_spec("test-notes-partial");
    // As if a run crashed right after CreateApi: tagged, but no routes and no stage.
    let out = aws
        .apigw
        .create_api()
        .name(&spec.name)
        .protocol_type(aws_sdk_apigatewayv2::types::ProtocolType::Http)
        .set_tags(Some(spec.tags.clone().into_iter().collect()))
        .send()
        .await
        .expect("CreateApi");
    let id = out.api_id().expect("id").to_string();

    let obs = find_api(&aws, &spec).await.expect("found");
    assert_eq!(obs.owner, Owner::Ours);
    assert_eq!(obs.state["routes"], json!({}));
    assert_eq!(obs.state["stage"], Value::Null);
    assert_eq!(
        diff(&HttpApi::state(&spec), &obs.state),
        vec!["routes", "stage"]
    );
    HttpApi::update(&aws, &spec, &obs, &["routes", "stage"])
        .await
        .expect("update");
    let obs = find_api(&aws, &spec).await.expect("found");
    assert_eq!(obs.id, id);
    assert_eq!(obs.state, HttpApi::state(&spec));

    // A tag changed by hand: only `tags` differs, and TagResource fixes it.
    aws.apigw
        .tag_resource()
        .resource_arn(format!("arn:aws:apigateway:us-east-1::/apis/{id}"))
        .tags(TAG_ID, "Other")
        .tags("team", "web")
        .send()
        .await
        .expect("TagResource");
    let obs = HttpApi::find(&aws, &spec, Hint::adopt(&id))
        .await
        .expect("find adopted")
        .expect("found");
    assert_eq!(obs.owner, Owner::Adopted);
    assert_eq!(diff(&HttpApi::state(&spec), &obs.state), vec!["tags"]);
    HttpApi::update(&aws, &spec, &obs, &["tags"])
        .await
        .expect("update");
    let obs = find_api(&aws, &spec).await.expect("found");
    assert_eq!(obs.owner, Owner::Ours);
    assert_eq!(obs.state, HttpApi::state(&spec));
}

#[tokio::test]
async fn http_api_without_our_tags_is_foreign_and_two_owned_is_an_error() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let spec = api_spec("test-notes-shared");
    let create = |tags: Tags| {
        let aws = aws.clone();
        let name = spec.name.clone();
        async move {
            aws.apigw
                .create_api()
                .name(name)
                .protocol_type(aws_sdk_apigatewayv2::types::ProtocolType::Http)
                .set_tags(Some(tags.into_iter().collect()))
                .send()
                .await
                .expect("CreateApi")
                .api_id()
                .expect("id")
                .to_string()
        }
    };
    // Same name, but not an HTTP API: ignored.
    aws.apigw
        .create_api()
        .name(&spec.name)
        .protocol_type(aws_sdk_apigatewayv2::types::ProtocolType::Websocket)
        .route_selection_expression("$request.body.action")
        .set_tags(Some(spec.tags.clone().into_iter().collect()))
        .send()
        .await
        .expect("CreateApi websocket");
    assert!(find_api(&aws, &spec).await.is_none());

    let foreign = create(Tags::from([("team".to_string(), "web".to_string())])).await;
    let obs = find_api(&aws, &spec).await.expect("found");
    assert_eq!(obs.owner, Owner::Foreign);
    assert_eq!(obs.id, foreign);

    let ours = create(spec.tags.clone()).await;
    let obs = find_api(&aws, &spec).await.expect("found");
    assert_eq!(
        obs.owner,
        Owner::Ours,
        "an owned match wins over a foreign one"
    );
    assert_eq!(obs.id, ours);

    let again = create(spec.tags.clone()).await;
    let err = HttpApi::find(&aws, &spec, Hint::default())
        .await
        .expect_err("two owned APIs");
    let text = err.to_string();
    assert!(text.contains(&ours) && text.contains(&again), "{text}");
}

#[tokio::test]
async fn http_api_shared_integration_is_replaced_not_updated() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let spec = http_api::Spec {
        name: "test-notes-adopted".to_string(),
        authorizer: Authorizer::None,
        routes: vec![
            ("GET /a".to_string(), "https://a.example.com".to_string()),
            ("GET /b".to_string(), "https://a.example.com".to_string()),
            ("POST /c".to_string(), LAMBDA.to_string()),
        ],
        tags: tags("Api"),
    };
    // Built by hand: two routes share one integration; the Lambda one is named by its
    // invocation URI, which reads as the function ARN.
    let id = aws
        .apigw
        .create_api()
        .name(&spec.name)
        .protocol_type(aws_sdk_apigatewayv2::types::ProtocolType::Http)
        .send()
        .await
        .expect("CreateApi")
        .api_id()
        .expect("id")
        .to_string();
    let integration = |uri: String, kind, method: &str, payload: &str| {
        aws.apigw
            .create_integration()
            .api_id(&id)
            .integration_type(kind)
            .integration_uri(uri)
            .integration_method(method)
            .payload_format_version(payload)
            .send()
    };
    use aws_sdk_apigatewayv2::types::IntegrationType;
    let shared = integration(
        "https://a.example.com".to_string(),
        IntegrationType::HttpProxy,
        "GET",
        "1.0",
    )
    .await
    .expect("CreateIntegration")
    .integration_id()
    .expect("id")
    .to_string();
    let lambda = integration(
        format!(
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{LAMBDA}/invocations"
        ),
        IntegrationType::AwsProxy,
        "POST",
        "2.0",
    )
    .await
    .expect("CreateIntegration")
    .integration_id()
    .expect("id")
    .to_string();
    for (key, target) in [
        ("GET /a", &shared),
        ("GET /b", &shared),
        ("POST /c", &lambda),
    ] {
        aws.apigw
            .create_route()
            .api_id(&id)
            .route_key(key)
            .target(format!("integrations/{target}"))
            .send()
            .await
            .expect("CreateRoute");
    }
    aws.apigw
        .create_stage()
        .api_id(&id)
        .stage_name("$default")
        .auto_deploy(true)
        .send()
        .await
        .expect("CreateStage");

    let mut spec = spec;
    let obs = HttpApi::find(&aws, &spec, Hint::adopt(&id))
        .await
        .expect("find")
        .expect("found");
    assert_eq!(obs.owner, Owner::Adopted);
    assert_eq!(diff(&HttpApi::state(&spec), &obs.state), vec!["tags"]);

    // Moving one of the two routes must not move the other.
    spec.routes[1].1 = "https://b.example.com".to_string();
    let obs = HttpApi::find(&aws, &spec, Hint::adopt(&id))
        .await
        .expect("find")
        .expect("found");
    assert_eq!(
        diff(&HttpApi::state(&spec), &obs.state),
        vec!["routes", "tags"]
    );
    HttpApi::update(&aws, &spec, &obs, &["routes", "tags"])
        .await
        .expect("update");
    let obs = find_api(&aws, &spec).await.expect("found");
    assert_eq!(obs.owner, Owner::Ours);
    assert_eq!(obs.state, HttpApi::state(&spec));
    assert_eq!(
        obs.state["routes"]["GET /a"]["target"],
        json!("https://a.example.com")
    );
    let uris: Vec<String> = integrations(&aws, &id)
        .await
        .into_iter()
        .map(|i| i.1)
        .collect();
    assert_eq!(uris.len(), 3, "{uris:?}");
}
