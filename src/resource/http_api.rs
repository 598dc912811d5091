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
use crate::config::template::Template;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_apigatewayv2::types::{Api, AuthorizationType, IntegrationType, ProtocolType};
use serde_json::{Map, Value, json};

use super::{Attrs, Detail, Observed, Owner, State, Tags, owner_from_tags, tags_state};
use aws_sdk_apigatewayv2::Config;

use crate::aws::{self, Aws, AwsError};
use crate::config::Authorizer;

pub const KIND: &str = "API Gateway HTTP API";
/// CreateApi's `Name`: 1-128 characters.
pub const NAME: NameRule = NameRule {
    what: "an API Gateway API name",
    min: 1,
    max: 128,
    allowed: naming::any_char,
    allowed_words: "any characters",
    reserved_prefixes: &[],
    reserved_suffixes: &[],
    alnum_ends: false,
};
pub const FORCE_NEW: &[&str] = &[];
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

impl Spec {
    pub fn name(&self) -> String {
        self.name.clone()
    }

    pub fn state(&self) -> State {
        let auth = authorization(self.authorizer);
        let routes: BTreeMap<&str, Value> = self
            .routes
            .iter()
            .map(|(key, target)| (key.as_str(), route_state(json!(target), auth.as_str())))
            .collect();
        State::from([
            ("routes", to_object(routes)),
            ("stage", stage_state(true)),
            ("tags", serde_json::to_value(&self.tags).unwrap_or_default()),
        ])
    }
}

fn authorization(a: Authorizer) -> AuthorizationType {
    match a {
        Authorizer::Iam => AuthorizationType::AwsIam,
        Authorizer::None => AuthorizationType::None,
    }
}

fn route_state(target: Value, authorization_type: &str) -> Value {
    json!({"target": target, "authorizationType": authorization_type})
}

fn stage_state(auto_deploy: bool) -> Value {
    json!({"name": STAGE, "autoDeploy": auto_deploy})
}

/// A JSON object with its keys in sorted order.
fn to_object<K: Into<String>>(m: BTreeMap<K, Value>) -> Value {
    Value::Object(
        m.into_iter()
            .map(|(k, v)| (k.into(), v))
            .collect::<Map<_, _>>(),
    )
}

fn api_arn(aws: &Aws, id: &str) -> String {
    format!(
        "arn:{}:apigateway:{}::/apis/{id}",
        super::partition(&aws.region),
        aws.region
    )
}

/// How a route reaches its target: a Lambda function ARN is a Lambda proxy (payload 2.0),
/// anything else an HTTP proxy (payload 1.0) with the route's method.
struct Integration {
    kind: IntegrationType,
    uri: String,
    method: Option<String>,
    payload: &'static str,
}

fn is_lambda(target: &str) -> bool {
    target.starts_with("arn:") && target.contains(":lambda:")
}

fn integration_for(route_key: &str, target: &str) -> Integration {
    if is_lambda(target) {
        Integration {
            kind: IntegrationType::AwsProxy,
            uri: target.to_string(),
            method: None,
            payload: "2.0",
        }
    } else {
        // `GET /notes/{id}` → GET; `$default` and `ANY /x` → ANY.
        let method = match route_key.split_once(' ') {
            Some((m, _)) => m.to_string(),
            None => "ANY".to_string(),
        };
        Integration {
            kind: IntegrationType::HttpProxy,
            uri: target.to_string(),
            method: Some(method),
            payload: "1.0",
        }
    }
}

/// A Lambda integration URI may come back as the API Gateway invocation URI
/// (`arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations`);
/// the function ARN is what the config names.
fn normalize_uri(uri: &str) -> String {
    if let Some((_, rest)) = uri.split_once(":lambda:path/2015-03-31/functions/")
        && let Some(function) = rest.strip_suffix("/invocations")
    {
        return function.to_string();
    }
    uri.to_string()
}

fn is_not_found(e: &AwsError) -> bool {
    e.is("NotFoundException")
}

/// The API as GetApi/GetApis/CreateApi describe it.
struct Head {
    id: String,
    endpoint: String,
    tags: Tags,
}

fn observed_head(spec: &Spec, head: &Head, owner: Owner) -> Observed {
    Observed {
        id: head.id.clone(),
        owner,
        state: State::from([("tags", tags_state(&head.tags, &spec.tags))]),
        attrs: Attrs::from([("id", head.id.clone()), ("url", head.endpoint.clone())]),
        detail: Detail::None,
        notes: Vec::new(),
    }
}

fn tags_of(tags: Option<&HashMap<String, String>>) -> Tags {
    tags.map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// Pages through one of GetIntegrations, GetRoutes, GetStages; `None` when the API is gone.
macro_rules! all_pages {
    ($aws:expr, $id:expr, $call:ident, $what:expr) => {{
        let pages = aws::all_pages(KIND, $id, |token| async move {
            let out = $aws
                .apigw
                .$call()
                .api_id($id)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| AwsError::new($what, KIND, $id, e))?;
            Ok((out.items.unwrap_or_default(), out.next_token))
        })
        .await;
        match pages {
            Ok(items) => Ok(Some(items)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }};
}

/// Routes, integrations and stage of the API: the `routes` and `stage` state and the live ids.
/// `None` when the API is gone. The three reads are independent and run concurrently.
async fn read_live(aws: &Aws, id: &str) -> Result<Option<(Value, Value, Live)>, AwsError> {
    let (integration_items, route_items, stage_items) = futures::try_join!(
        async { all_pages!(aws, id, get_integrations, "reading integrations of") },
        async { all_pages!(aws, id, get_routes, "reading routes of") },
        async { all_pages!(aws, id, get_stages, "reading stages of") },
    )?;
    let (Some(integration_items), Some(route_items), Some(stage_items)) =
        (integration_items, route_items, stage_items)
    else {
        return Ok(None);
    };

    let mut integrations: BTreeMap<String, (String, Option<String>)> = BTreeMap::new();
    for i in &integration_items {
        if let Some(iid) = i.integration_id() {
            integrations.insert(
                iid.to_string(),
                (
                    normalize_uri(i.integration_uri().unwrap_or_default()),
                    i.integration_type().map(|t| t.as_str().to_string()),
                ),
            );
        }
    }

    let mut routes = BTreeMap::new();
    let mut live = Live::default();
    for r in &route_items {
        let (Some(key), Some(route_id)) = (r.route_key(), r.route_id()) else {
            continue;
        };
        let integration_id = r
            .target()
            .and_then(|t| t.strip_prefix("integrations/"))
            .filter(|i| integrations.contains_key(*i))
            .map(str::to_string);
        let found = integration_id.as_ref().and_then(|i| integrations.get(i));
        let target = found.map_or(Value::Null, |(uri, _)| json!(uri));
        let auth = r
            .authorization_type()
            .map_or("NONE", AuthorizationType::as_str);
        routes.insert(key.to_string(), route_state(target, auth));
        live.routes.insert(
            key.to_string(),
            LiveRoute {
                route_id: route_id.to_string(),
                integration_type: found.and_then(|(_, t)| t.clone()),
                integration_id,
            },
        );
    }
    let used: BTreeSet<&str> = live
        .routes
        .values()
        .filter_map(|r| r.integration_id.as_deref())
        .collect();
    live.unused_integrations = integrations
        .keys()
        .filter(|i| !used.contains(i.as_str()))
        .cloned()
        .collect();

    let mut stage = Value::Null;
    for s in &stage_items {
        if s.stage_name() == Some(STAGE) {
            live.stage = true;
            stage = stage_state(s.auto_deploy().unwrap_or(false));
        }
    }
    Ok(Some((to_object(routes), stage, live)))
}

/// Adds routes, stage and live ids to an observation made from the API alone.
async fn complete(aws: &Aws, mut obs: Observed) -> Result<Option<Observed>, AwsError> {
    let Some((routes, stage, live)) = read_live(aws, &obs.id).await? else {
        return Ok(None);
    };
    obs.state.insert("routes", routes);
    obs.state.insert("stage", stage);
    obs.detail = Detail::Api(live);
    Ok(Some(obs))
}

/// Reads the API by the id a previous read found (GetApi instead of GetApis); anything but an
/// owned HTTP API with our name falls back to [`find`].
pub async fn find_known(aws: &Aws, spec: &Spec, id: &str) -> Result<Option<Observed>, AwsError> {
    match aws.apigw.get_api().api_id(id).send().await {
        Ok(out)
            if out.name() == Some(spec.name.as_str())
                && out.protocol_type() == Some(&ProtocolType::Http) =>
        {
            let head = Head {
                id: id.to_string(),
                endpoint: out.api_endpoint().unwrap_or_default().to_string(),
                tags: tags_of(out.tags()),
            };
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
    find(aws, spec, None).await
}

/// Finds the API: by `adopt` id if given, else the HTTP APIs with exactly our name, owned
/// by tags; two owned matches are an error (see `user_pool::pick`).
pub async fn find(
    aws: &Aws,
    spec: &Spec,
    adopt: Option<&str>,
) -> Result<Option<Observed>, AwsError> {
    if let Some(id) = adopt {
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
        let head = Head {
            id: id.to_string(),
            endpoint: out.api_endpoint().unwrap_or_default().to_string(),
            tags: tags_of(out.tags()),
        };
        return complete(aws, observed_head(spec, &head, Owner::Adopted)).await;
    }
    let mut found = Vec::new();
    for a in list_http_apis(aws, &spec.name).await? {
        let Some(id) = a.api_id() else { continue };
        if a.name() != Some(spec.name.as_str()) {
            continue;
        }
        let head = Head {
            id: id.to_string(),
            endpoint: a.api_endpoint().unwrap_or_default().to_string(),
            tags: tags_of(a.tags()),
        };
        let owner = owner_from_tags(&head.tags, &spec.tags);
        found.push(observed_head(spec, &head, owner));
    }
    match super::user_pool::pick(found, KIND, &spec.name)? {
        Some(obs) => complete(aws, obs).await,
        None => Ok(None),
    }
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

/// HTTP APIs whose tags mark this app and stage.
pub async fn list_owned(aws: &Aws, app: &str, stage: &str) -> Result<Vec<super::Owned>, AwsError> {
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

async fn create_integration(
    aws: &Aws,
    api: &str,
    route_key: &str,
    target: &str,
) -> Result<(String, IntegrationType), AwsError> {
    let i = integration_for(route_key, target);
    let out = aws
        .apigw
        .create_integration()
        .api_id(api)
        .integration_type(i.kind.clone())
        .integration_uri(&i.uri)
        .set_integration_method(i.method)
        .payload_format_version(i.payload)
        .send()
        .await
        .map_err(|e| AwsError::new("creating an integration of", KIND, api, e))?;
    let id = out.integration_id.ok_or_else(|| {
        AwsError::refused(
            "creating an integration of",
            KIND,
            api,
            "CreateIntegration returned no id",
        )
    })?;
    Ok((id, i.kind))
}

async fn delete_integration(aws: &Aws, api: &str, id: &str) -> Result<(), AwsError> {
    match aws
        .apigw
        .delete_integration()
        .api_id(api)
        .integration_id(id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = AwsError::new("deleting an integration of", KIND, api, e);
            if is_not_found(&e) { Ok(()) } else { Err(e) }
        }
    }
}

/// Creates the integration and the route that targets it.
async fn add_route(
    aws: &Aws,
    spec: &Spec,
    api: &str,
    key: &str,
    target: &str,
) -> Result<LiveRoute, AwsError> {
    let (integration_id, kind) = create_integration(aws, api, key, target).await?;
    let out = aws
        .apigw
        .create_route()
        .api_id(api)
        .route_key(key)
        .target(format!("integrations/{integration_id}"))
        .authorization_type(authorization(spec.authorizer))
        .send()
        .await
        .map_err(|e| AwsError::new("creating a route of", KIND, api, e))?;
    let route_id = out.route_id.ok_or_else(|| {
        AwsError::refused(
            "creating a route of",
            KIND,
            api,
            "CreateRoute returned no id",
        )
    })?;
    Ok(LiveRoute {
        route_id,
        integration_id: Some(integration_id),
        integration_type: Some(kind.as_str().to_string()),
    })
}

async fn create_stage(aws: &Aws, api: &str) -> Result<(), AwsError> {
    aws.apigw
        .create_stage()
        .api_id(api)
        .stage_name(STAGE)
        .auto_deploy(true)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::new("creating the $default stage of", KIND, api, e))
}

pub async fn create(aws: &Aws, spec: &Spec) -> Result<Observed, AwsError> {
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
        Ok(find(aws, spec, None)
            .await?
            .filter(|o| o.owner == Owner::Ours)
            .map(Err))
    };
    let out = match aws::create_once(send, recover).await? {
        Ok(out) => out,
        Err(found) => {
            let all: Vec<&'static str> = spec.state().keys().copied().collect();
            return update(aws, spec, &found, &all).await;
        }
    };
    let id = out.api_id.clone().ok_or_else(|| {
        AwsError::refused("creating", KIND, &spec.name, "CreateApi returned no id")
    })?;
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
    obs.state = spec.state();
    obs.detail = Detail::Api(live);
    Ok(obs)
}

/// Reconciles the routes as a set: create missing, update changed, delete removed. An
/// integration is updated in place when only this route uses it and its type stays;
/// otherwise a new one is created, the route pointed at it, and the old one deleted once no
/// route uses it.
async fn update_routes(
    aws: &Aws,
    spec: &Spec,
    api: &str,
    found: Option<&Map<String, Value>>,
    live: &Live,
) -> Result<(), AwsError> {
    let auth = authorization(spec.authorizer);
    let desired: BTreeMap<&str, &str> = spec
        .routes
        .iter()
        .map(|(k, t)| (k.as_str(), t.as_str()))
        .collect();
    // Which integration each route targets, kept current as routes change.
    let mut targets: BTreeMap<String, Option<String>> = live
        .routes
        .iter()
        .map(|(k, r)| (k.clone(), r.integration_id.clone()))
        .collect();
    let mut detached: Vec<String> = live.unused_integrations.clone();

    for (key, r) in &live.routes {
        if desired.contains_key(key.as_str()) {
            continue;
        }
        match aws
            .apigw
            .delete_route()
            .api_id(api)
            .route_id(&r.route_id)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) => {
                let e = AwsError::new("deleting a route of", KIND, api, e);
                if !is_not_found(&e) {
                    return Err(e);
                }
            }
        }
        targets.remove(key);
        detached.extend(r.integration_id.clone());
    }

    for (key, target) in &desired {
        let Some(r) = live.routes.get(*key) else {
            let route = add_route(aws, spec, api, key, target).await?;
            targets.insert(key.to_string(), route.integration_id);
            continue;
        };
        let was = found.and_then(|m| m.get(*key));
        let target_ok = was.and_then(|w| w.get("target")) == Some(&json!(target));
        let auth_ok = was
            .and_then(|w| w.get("authorizationType"))
            .and_then(Value::as_str)
            == Some(auth.as_str());
        if target_ok && auth_ok {
            continue;
        }
        let want = integration_for(key, target);
        let shared = r.integration_id.as_ref().is_some_and(|i| {
            targets
                .iter()
                .any(|(k, t)| k != *key && t.as_ref() == Some(i))
        });
        let same_type = r.integration_type.as_deref() == Some(want.kind.as_str());
        let mut new_target = None;
        if !target_ok {
            match &r.integration_id {
                Some(i) if !shared && same_type => {
                    aws.apigw
                        .update_integration()
                        .api_id(api)
                        .integration_id(i)
                        .integration_uri(&want.uri)
                        .set_integration_method(want.method.clone())
                        .payload_format_version(want.payload)
                        .send()
                        .await
                        .map_err(|e| AwsError::new("updating an integration of", KIND, api, e))?;
                }
                _ => {
                    let (i, _) = create_integration(aws, api, key, target).await?;
                    detached.extend(r.integration_id.clone());
                    targets.insert(key.to_string(), Some(i.clone()));
                    new_target = Some(i);
                }
            }
        }
        if new_target.is_some() || !auth_ok {
            aws.apigw
                .update_route()
                .api_id(api)
                .route_id(&r.route_id)
                .set_target(new_target.map(|i| format!("integrations/{i}")))
                .authorization_type(auth.clone())
                .send()
                .await
                .map_err(|e| AwsError::new("updating a route of", KIND, api, e))?;
        }
    }

    let used: BTreeSet<&String> = targets.values().flatten().collect();
    let mut gone = BTreeSet::new();
    for i in &detached {
        if !used.contains(i) && gone.insert(i) {
            delete_integration(aws, api, i).await?;
        }
    }
    Ok(())
}

pub async fn update(
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
            read = read_live(aws, api).await?.ok_or_else(|| {
                AwsError::refused("updating", KIND, api, "the API disappeared during update")
            })?;
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
        .insert("tags", spec.state().remove("tags").unwrap_or_default());
    complete(aws, obs).await?.ok_or_else(|| {
        AwsError::refused("updating", KIND, api, "the API disappeared during update")
    })
}

pub async fn delete(aws: &Aws, obs: &Observed) -> Result<(), AwsError> {
    match aws.apigw.delete_api().api_id(&obs.id).send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = AwsError::new("deleting", KIND, &obs.id, e);
            if is_not_found(&e) { Ok(()) } else { Err(e) }
        }
    }
}

/// The HTTP API kind; a leftover one (no file declares it) is deleted.
pub struct HttpApi;

impl ResourceKind for HttpApi {
    type Def = Def;
    type Spec = Spec;
    const KIND: &'static str = KIND;
    const FORCE_NEW: &'static [&'static str] = FORCE_NEW;
    const FOUND_BY_LISTING: bool = true;
    const FINDS_LEFTOVERS: bool = true;

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
                .map(|(k, t)| (k.clone(), cx.render(t)))
                .collect(),
            tags: cx.tags.clone(),
        }
    }
    fn name(spec: &Spec) -> String {
        spec.name()
    }
    fn state(spec: &Spec) -> State {
        spec.state()
    }
    async fn find(aws: &Aws, spec: &Spec, hint: Hint<'_>) -> Result<Option<Observed>, AwsError> {
        match (hint.adopt, hint.known) {
            (None, Some(id)) => find_known(aws, spec, id).await,
            (adopt, _) => find(aws, spec, adopt).await,
        }
    }
    async fn create(aws: &Aws, spec: &Spec) -> Result<Observed, AwsError> {
        create(aws, spec).await
    }
    async fn update(
        aws: &Aws,
        spec: &Spec,
        obs: &Observed,
        changed: &[&'static str],
    ) -> Result<Observed, AwsError> {
        update(aws, spec, obs, changed).await
    }
    async fn delete(aws: &Aws, _: &Spec, obs: &Observed) -> Result<(), AwsError> {
        delete(aws, obs).await
    }
    /// By tags alone: API names need not be unique, so no name prefix narrows the listing.
    async fn list_owned(aws: &Aws, scope: Scope<'_>) -> Result<Vec<Owned>, AwsError> {
        list_owned(aws, scope.app, scope.stage).await
    }
    async fn delete_owned(aws: &Aws, obs: &Observed) -> Result<(), AwsError> {
        delete(aws, obs).await
    }
}
