//! API Gateway HTTP API: routes to HTTP(S) URLs or Lambda functions, IAM or no authorization,
//! an auto-deployed `$default` stage, and tags.
//!
//! CreateApi sets the tags atomically, so a crash part-way through create leaves an API the
//! next run finds (by name, then tags) and owns; its missing routes and stage are then
//! ordinary drift that update fixes. Routes are reconciled as a set keyed by route key:
//! missing ones are created, changed ones updated (or their integration replaced), removed
//! ones deleted together with their integration.

use super::naming::{self, NameRule};
use super::{Hint, Owned, Resolve, ResourceKind, Scope};
use crate::source::template::Template;
use std::collections::{BTreeMap, HashMap};

use aws_sdk_apigatewayv2::operation::get_api::GetApiOutput;
use aws_sdk_apigatewayv2::types::{Api, ProtocolType};
use serde_json::{Value, json};

use super::{Attrs, Detail, Observed, Owner, State, Tags, owner_from_tags, tags_state};
use aws_sdk_apigatewayv2::Config;

use crate::aws::{self, Aws, AwsError, OrNotFound, OrRefused};
use declared::Authorizer;

pub mod declared;
mod routes;
use routes::{
    add_route, authorization, create_stage, read_live, route_state, stage_state, to_object,
    update_routes,
};

pub const KIND: &str = "API Gateway HTTP API";
/// CreateApi's `Name`: 1-128 characters.
pub const NAME: NameRule = NameRule::new("an API Gateway API name", 1, 128, naming::ANY_CHARS);
/// The stage stackwatch keeps on every API: served at the API endpoint's root.
pub const STAGE: &str = "$default";

/// What the config asks for: the name, the authorizer and the routes with their targets.
#[derive(Debug, Clone)]
pub struct Def {
    pub name: String,
    pub authorizer: Authorizer,
    pub routes: Vec<(String, Template)>,
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub name: String,
    pub authorizer: Authorizer,
    /// (route key such as `GET /notes/{id}`, integration URL or Lambda ARN)
    pub routes: Vec<(String, String)>,
    pub tags: Tags,
}

/// Live ids an update needs: routes, integrations, stage.
#[derive(Debug, Clone, Default)]
pub struct Live {
    /// By route key.
    pub routes: BTreeMap<String, LiveRoute>,
    /// Integrations no route targets (left by an interrupted create or update): deleted by
    /// the next update.
    pub unused_integrations: Vec<String>,
    /// Whether the `$default` stage exists.
    pub stage: bool,
}

/// One route as found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveRoute {
    pub route_id: String,
    /// The integration the route targets (`integrations/ID`), when it exists.
    pub integration_id: Option<String>,
    /// Its type (`HTTP_PROXY`, `AWS_PROXY`, …).
    pub integration_type: Option<String>,
}

fn api_arn(aws: &Aws, id: &str) -> String {
    format!(
        "arn:{}:apigateway:{}::/apis/{id}",
        super::partition(&aws.region),
        aws.region
    )
}

/// API Gateway's code for an API, a route or an integration that is not there.
const NOT_FOUND: &[&str] = &["NotFoundException"];

fn is_not_found(e: &AwsError) -> bool {
    NOT_FOUND.iter().any(|c| e.is(c))
}

/// The API as GetApi/GetApis/CreateApi describe it.
struct Head {
    id: String,
    endpoint: String,
    tags: Tags,
}

impl Head {
    /// From GetApi's answer for the API `id`.
    fn got(id: &str, out: &GetApiOutput) -> Head {
        Head {
            id: id.to_string(),
            endpoint: out.api_endpoint().unwrap_or_default().to_string(),
            tags: tags_of(out.tags()),
        }
    }
}

fn observed_head(spec: &Spec, head: &Head, owner: Owner) -> Observed {
    Observed::new(
        head.id.clone(),
        owner,
        State::from([("tags", tags_state(&head.tags, &spec.tags))]),
        Attrs::from([("id", head.id.clone()), ("url", head.endpoint.clone())]),
    )
}

fn tags_of(tags: Option<&HashMap<String, String>>) -> Tags {
    tags.map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// One item of GetApis as a candidate for the spec, owned by its tags: `None` unless it has
/// our name (and an id).
fn candidate(spec: &Spec, a: &Api) -> Option<Observed> {
    let id = a.api_id()?;
    if a.name() != Some(spec.name.as_str()) {
        return None;
    }
    let head = Head {
        id: id.to_string(),
        endpoint: a.api_endpoint().unwrap_or_default().to_string(),
        tags: tags_of(a.tags()),
    };
    let owner = owner_from_tags(&head.tags, &spec.tags);
    Some(observed_head(spec, &head, owner))
}

/// An observation made from the API alone, with the routes, stage and live ids read.
fn completed(mut obs: Observed, (routes, stage, live): (Value, Value, Live)) -> Observed {
    obs.state.insert("routes", routes);
    obs.state.insert("stage", stage);
    obs.detail = Detail::Api(live);
    obs
}

/// Adds routes, stage and live ids to an observation made from the API alone.
async fn complete(aws: &Aws, obs: Observed) -> Result<Option<Observed>, AwsError> {
    Ok(read_live(aws, &obs.id)
        .await?
        .map(|read| completed(obs, read)))
}

/// Reads the API by the id an earlier read found (GetApi instead of GetApis): only an owned
/// HTTP API that still has our name counts.
async fn read_known(aws: &Aws, spec: &Spec, id: &str) -> Result<Option<Observed>, AwsError> {
    match aws.apigw.get_api().api_id(id).send().await {
        Ok(out)
            if out.name() == Some(spec.name.as_str())
                && out.protocol_type() == Some(&ProtocolType::Http) =>
        {
            let head = Head::got(id, &out);
            if owner_from_tags(&head.tags, &spec.tags) == Owner::Ours
                && let Some(o) = complete(aws, observed_head(spec, &head, Owner::Ours)).await?
            {
                return Ok(Some(o));
            }
        }
        Ok(_) => {}
        Err(e) => {
            let e = AwsError::new("reading", KIND, id, e);
            if !is_not_found(&e) {
                return Err(e);
            }
        }
    }
    Ok(None)
}

/// Every HTTP API (WebSocket APIs are skipped): all pages of GetApis. `label` names the
/// listing in errors.
async fn list_http_apis(aws: &Aws, label: &str) -> Result<Vec<Api>, AwsError> {
    let apis = aws::all_pages(KIND, label, |token| async move {
        let out = aws
            .apigw
            .get_apis()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsError::new("listing", KIND, label, e))?;
        Ok((out.items.unwrap_or_default(), out.next_token))
    })
    .await?;
    Ok(apis
        .into_iter()
        .filter(|a| a.protocol_type() == Some(&ProtocolType::Http))
        .collect())
}

/// The HTTP API kind; a leftover one (no file declares it) is deleted.
pub struct HttpApi;

impl ResourceKind for HttpApi {
    crate::kind_basics!();
    const FOUND_BY_LISTING: bool = true;
    const FINDS_LEFTOVERS: bool = true;

    /// Its page in the AWS web console.
    const CONSOLE_URL: Option<&'static str> =
        Some("{home}/apigateway/main/api-detail?api={id}&region={region}");
    fn templates(def: &Def) -> Vec<&Template> {
        def.routes.iter().map(|(_, t)| t).collect()
    }
    fn resolve(def: &Def, cx: &mut Resolve<'_>) -> Spec {
        Spec {
            name: def.name.clone(),
            authorizer: def.authorizer,
            routes: def
                .routes
                .iter()
                .map(|(k, t)| (k.clone(), cx.text(t)))
                .collect(),
            tags: cx.tags.clone(),
        }
    }
    fn name(spec: &Spec) -> String {
        spec.name.clone()
    }
    fn state(spec: &Spec) -> State {
        let auth = authorization(spec.authorizer);
        let routes: BTreeMap<&str, Value> = spec
            .routes
            .iter()
            .map(|(key, target)| (key.as_str(), route_state(json!(target), auth.as_str())))
            .collect();
        State::from([
            ("routes", to_object(routes)),
            ("stage", stage_state(true)),
            ("tags", serde_json::to_value(&spec.tags).unwrap_or_default()),
        ])
    }
    /// The `adopt` id, taken over tags or not; else the id an earlier read found, while it
    /// still names our own; else by exact name: two owned matches are an error (see
    /// `resource::pick`), a same-named one without our tags is Foreign.
    async fn find(aws: &Aws, spec: &Spec, hint: Hint<'_>) -> Result<Option<Observed>, AwsError> {
        if let Some(id) = hint.adopt {
            let out = match aws.apigw.get_api().api_id(id).send().await {
                Ok(out) => out,
                Err(e) => {
                    let e = AwsError::new("reading", KIND, id, e);
                    return if is_not_found(&e) { Ok(None) } else { Err(e) };
                }
            };
            if out.protocol_type() != Some(&ProtocolType::Http) {
                return Err(AwsError::refused(
                    "adopting",
                    KIND,
                    id,
                    format!(
                        "it is a {} API; only HTTP APIs can be adopted",
                        out.protocol_type().map_or("?", ProtocolType::as_str)
                    ),
                ));
            }
            let head = Head::got(id, &out);
            return complete(aws, observed_head(spec, &head, Owner::Adopted)).await;
        }
        if let Some(id) = hint.known
            && let Some(o) = read_known(aws, spec, id).await?
        {
            return Ok(Some(o));
        }
        let found: Vec<Observed> = list_http_apis(aws, &spec.name)
            .await?
            .iter()
            .filter_map(|a| candidate(spec, a))
            .collect();
        match super::pick(found, KIND, &spec.name)? {
            Some(obs) => complete(aws, obs).await,
            None => Ok(None),
        }
    }
    async fn create(aws: &Aws, spec: &Spec) -> Result<Observed, AwsError> {
        let send = || async {
            aws.apigw
                .create_api()
                .name(&spec.name)
                .protocol_type(ProtocolType::Http)
                .set_tags(Some(spec.tags.clone().into_iter().collect()))
                .customize()
                .config_override(Config::builder().retry_config(aws::no_retry()))
                .send()
                .await
                .map(Ok)
                .map_err(|e| AwsError::new("creating", KIND, &spec.name, e))
        };
        // An API a lost CreateApi made is completed (routes, stage) by an update.
        let recover = || async {
            Ok(Self::find(aws, spec, Hint::default())
                .await?
                .filter(|o| o.owner == Owner::Ours)
                .map(Err))
        };
        let out = match aws::create_once(send, recover).await? {
            Ok(out) => out,
            Err(found) => {
                let all: Vec<&'static str> = Self::state(spec).keys().copied().collect();
                return Self::update(aws, spec, &found, &all).await;
            }
        };
        let id = out.api_id.clone().or_refused(
            "creating",
            KIND,
            &spec.name,
            "CreateApi returned no id",
        )?;
        let mut live = Live::default();
        for (key, target) in &spec.routes {
            let route = add_route(aws, spec, &id, key, target).await?;
            live.routes.insert(key.clone(), route);
        }
        create_stage(aws, &id).await?;
        live.stage = true;
        let head = Head {
            id: id.clone(),
            endpoint: out.api_endpoint.unwrap_or_default(),
            tags: spec.tags.clone(),
        };
        let mut obs = observed_head(spec, &head, Owner::Ours);
        obs.state = Self::state(spec);
        obs.detail = Detail::Api(live);
        Ok(obs)
    }
    async fn update(
        aws: &Aws,
        spec: &Spec,
        obs: &Observed,
        changed: &[&'static str],
    ) -> Result<Observed, AwsError> {
        let api = obs.id.as_str();
        let read;
        let (found, live) = match &obs.detail {
            Detail::Api(live) => (obs.state.get("routes"), live),
            // An observation without live ids (not made by `find`): read them now.
            _ => {
                read = read_live(aws, api).await?.or_refused(
                    "updating",
                    KIND,
                    api,
                    "the API disappeared during update",
                )?;
                (Some(&read.0), &read.2)
            }
        };
        if changed.contains(&"routes") || !live.unused_integrations.is_empty() {
            update_routes(aws, spec, api, found.and_then(Value::as_object), live).await?;
        }
        if changed.contains(&"stage") {
            if live.stage {
                aws.apigw
                    .update_stage()
                    .api_id(api)
                    .stage_name(STAGE)
                    .auto_deploy(true)
                    .send()
                    .await
                    .map_err(|e| AwsError::new("updating the $default stage of", KIND, api, e))?;
            } else {
                create_stage(aws, api).await?;
            }
        }
        if changed.contains(&"tags") {
            aws.apigw
                .tag_resource()
                .resource_arn(api_arn(aws, api))
                .set_tags(Some(spec.tags.clone().into_iter().collect()))
                .send()
                .await
                .map_err(|e| AwsError::new("tagging", KIND, api, e))?;
        }
        let mut obs = obs.clone();
        obs.owner = Owner::Ours;
        obs.state
            .insert("tags", Self::state(spec).remove("tags").unwrap_or_default());
        complete(aws, obs).await?.or_refused(
            "updating",
            KIND,
            api,
            "the API disappeared during update",
        )
    }
    async fn delete(aws: &Aws, _: &Spec, obs: &Observed) -> Result<(), AwsError> {
        Self::delete_owned(aws, obs).await
    }
    /// By tags alone: API names need not be unique, so no name prefix narrows the listing.
    /// HTTP APIs whose tags mark this app and stage.
    async fn list_owned(aws: &Aws, scope: Scope<'_>) -> Result<Vec<Owned>, AwsError> {
        let (app, stage) = (scope.app, scope.stage);
        let apis = list_http_apis(aws, &format!("{stage}-{app}")).await?;
        Ok(apis
            .iter()
            .filter_map(|a| {
                let tags = tags_of(a.tags());
                let id = a.api_id()?;
                super::is_app_stage(&tags, app, stage).then(|| super::Owned {
                    id: id.to_string(),
                    tags,
                })
            })
            .collect())
    }
    async fn delete_owned(aws: &Aws, obs: &Observed) -> Result<(), AwsError> {
        aws.apigw
            .delete_api()
            .api_id(&obs.id)
            .send()
            .await
            .map_err(|e| AwsError::new("deleting", KIND, &obs.id, e))
            .or_gone(NOT_FOUND)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{drift, ours, ours_and_others};
    use super::routes::live_state;
    use super::*;
    use aws_sdk_apigatewayv2::types::{
        AuthorizationType, Integration, IntegrationType, Route, Stage,
    };

    const CREATE: &str = "arn:aws:lambda:us-east-1:123456789012:function:dev-notes-create";
    const ENDPOINT: &str = "https://a1b2c3.execute-api.us-east-1.amazonaws.com";

    fn spec() -> Spec {
        Spec {
            name: "dev-notes-ApiStack-Api".into(),
            authorizer: Authorizer::Iam,
            routes: vec![
                ("GET /notes".into(), "https://example.com/notes".into()),
                ("POST /notes".into(), CREATE.into()),
            ],
            tags: ours(),
        }
    }

    fn integration(id: &str, kind: IntegrationType, uri: &str) -> Integration {
        Integration::builder()
            .integration_id(id)
            .integration_type(kind)
            .integration_uri(uri)
            .build()
    }

    fn route(id: &str, key: &str, target: &str, auth: Option<AuthorizationType>) -> Route {
        Route::builder()
            .route_id(id)
            .route_key(key)
            .target(target)
            .set_authorization_type(auth)
            .api_key_required(false)
            .build()
    }

    fn stage(name: &str, auto_deploy: Option<bool>) -> Stage {
        Stage::builder()
            .stage_name(name)
            .set_auto_deploy(auto_deploy)
            .build()
    }

    /// GetIntegrations, GetRoutes and GetStages for the API as create made it, in AWS's
    /// order; the Lambda integration's URI as API Gateway's invocation URI.
    fn listed() -> (Vec<Integration>, Vec<Route>, Vec<Stage>) {
        let invocation = format!(
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{CREATE}/invocations"
        );
        let iam = Some(AuthorizationType::AwsIam);
        (
            vec![
                integration("i2", IntegrationType::AwsProxy, &invocation),
                integration(
                    "i1",
                    IntegrationType::HttpProxy,
                    "https://example.com/notes",
                ),
            ],
            vec![
                route("r2", "POST /notes", "integrations/i2", iam.clone()),
                route("r1", "GET /notes", "integrations/i1", iam),
            ],
            vec![stage("$default", Some(true))],
        )
    }

    fn got_api() -> GetApiOutput {
        let mut out = GetApiOutput::builder()
            .api_id("a1b2c3")
            .name("dev-notes-ApiStack-Api")
            .protocol_type(ProtocolType::Http)
            .route_selection_expression("$request.method $request.path")
            .api_endpoint(ENDPOINT);
        for (k, v) in ours_and_others() {
            out = out.tags(k, v);
        }
        out.build()
    }

    /// The whole observation: the API's head, completed with what the three listings say.
    fn observe(items: (Vec<Integration>, Vec<Route>, Vec<Stage>)) -> Observed {
        let head = observed_head(&spec(), &Head::got("a1b2c3", &got_api()), Owner::Ours);
        completed(head, live_state(&items.0, &items.1, &items.2))
    }

    #[test]
    fn an_api_as_created_matches_its_spec() {
        let obs = observe(listed());
        assert_eq!(obs.state, HttpApi::state(&spec()));
        assert_eq!(obs.id, "a1b2c3");
        assert_eq!(
            obs.attrs,
            Attrs::from([("id", "a1b2c3".to_string()), ("url", ENDPOINT.to_string())])
        );
        let Detail::Api(live) = &obs.detail else {
            panic!("{:?}", obs.detail)
        };
        assert_eq!(
            live.routes["POST /notes"],
            LiveRoute {
                route_id: "r2".into(),
                integration_id: Some("i2".into()),
                integration_type: Some("AWS_PROXY".into()),
            }
        );
        assert_eq!(live.routes["GET /notes"].route_id, "r1");
        assert!(live.stage);
        assert!(live.unused_integrations.is_empty());
    }

    #[test]
    fn each_drift_is_in_routes_or_stage() {
        let (i, r, s) = listed();
        let only = |n: usize| vec![r[n].clone()];
        let unauthorized = route("r1", "GET /notes", "integrations/i1", None);
        let moved = integration("i1", IntegrationType::HttpProxy, "https://example.com/old");
        let extra = route("r3", "DELETE /notes", "integrations/i1", None);
        let cases = [
            (
                (i.clone(), vec![r[0].clone(), unauthorized], s.clone()),
                "routes",
            ),
            ((vec![i[0].clone(), moved], r.clone(), s.clone()), "routes"),
            ((i.clone(), only(0), s.clone()), "routes"),
            (
                (i.clone(), [r.clone(), vec![extra]].concat(), s.clone()),
                "routes",
            ),
            (
                (i.clone(), r.clone(), vec![stage("$default", Some(false))]),
                "stage",
            ),
            (
                (i.clone(), r.clone(), vec![stage("$default", None)]),
                "stage",
            ),
            (
                (i.clone(), r.clone(), vec![stage("prod", Some(true))]),
                "stage",
            ),
        ];
        for (items, field) in cases {
            let obs = observe(items);
            assert_eq!(drift(&HttpApi::state(&spec()), &obs.state), [field]);
        }
    }

    #[test]
    fn a_missing_stage_and_dangling_integrations_are_live_facts() {
        let (mut i, mut r, _) = listed();
        i.push(integration("left", IntegrationType::HttpProxy, "https://x"));
        r[1] = route(
            "r1",
            "GET /notes",
            "integrations/gone",
            Some(AuthorizationType::AwsIam),
        );
        let (routes, stage, live) = live_state(&i, &r, &[]);
        assert_eq!(stage, Value::Null);
        assert!(!live.stage);
        assert_eq!(routes["GET /notes"]["target"], Value::Null);
        assert_eq!(live.routes["GET /notes"].integration_id, None);
        // i1 is no longer targeted either: both are deleted by the next update.
        assert_eq!(live.unused_integrations, ["i1", "left"]);
    }

    #[test]
    fn listed_apis_are_candidates_by_name_owned_by_tags() {
        let api = |name: &str, tags: Tags| {
            let mut a = Api::builder()
                .api_id("a1b2c3")
                .name(name)
                .protocol_type(ProtocolType::Http)
                .route_selection_expression("$request.method $request.path")
                .api_endpoint(ENDPOINT);
            for (k, v) in tags {
                a = a.tags(k, v);
            }
            a
        };
        let sp = spec();
        let ours_found = candidate(&sp, &api(&sp.name, ours_and_others()).build()).unwrap();
        assert_eq!(ours_found.owner, Owner::Ours);
        assert_eq!(ours_found.state["tags"], HttpApi::state(&sp)["tags"]);
        assert_eq!(ours_found.attrs["url"], ENDPOINT);
        let foreign = candidate(&sp, &api(&sp.name, Tags::new()).build()).unwrap();
        assert_eq!(foreign.owner, Owner::Foreign);
        assert_eq!(foreign.state["tags"], json!({}));
        assert!(candidate(&sp, &api("dev-notes-Other", ours()).build()).is_none());
        let no_id = api(&sp.name, ours()).set_api_id(None).build();
        assert!(candidate(&sp, &no_id).is_none());
    }
}
