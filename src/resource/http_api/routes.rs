//! The API's routes, their integrations and its `$default` stage: how each is read, made and
//! reconciled as a set keyed by route key.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_apigatewayv2::types::{
    AuthorizationType, Integration as SdkIntegration, IntegrationType, Route, Stage,
};
use serde_json::{Map, Value, json};

use super::declared::Authorizer;
use super::{KIND, Live, LiveRoute, NOT_FOUND, STAGE, Spec, is_not_found};
use crate::aws::{self, Aws, AwsError, OrNotFound, OrRefused};

pub(super) fn authorization(a: Authorizer) -> AuthorizationType {
    match a {
        Authorizer::Iam => AuthorizationType::AwsIam,
        Authorizer::None => AuthorizationType::None,
    }
}

pub(super) fn route_state(target: Value, authorization_type: &str) -> Value {
    json!({"target": target, "authorizationType": authorization_type})
}

pub(super) fn stage_state(auto_deploy: bool) -> Value {
    json!({"name": STAGE, "autoDeploy": auto_deploy})
}

/// A JSON object with its keys in sorted order.
pub(super) fn to_object<K: Into<String>>(m: BTreeMap<K, Value>) -> Value {
    Value::Object(
        m.into_iter()
            .map(|(k, v)| (k.into(), v))
            .collect::<Map<_, _>>(),
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
pub(super) async fn read_live(
    aws: &Aws,
    id: &str,
) -> Result<Option<(Value, Value, Live)>, AwsError> {
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
    Ok(Some(live_state(
        &integration_items,
        &route_items,
        &stage_items,
    )))
}

/// The `routes` and `stage` state and the live ids, from what GetIntegrations, GetRoutes and
/// GetStages list.
pub(super) fn live_state(
    integration_items: &[SdkIntegration],
    route_items: &[Route],
    stage_items: &[Stage],
) -> (Value, Value, Live) {
    let mut integrations: BTreeMap<String, (String, Option<String>)> = BTreeMap::new();
    for i in integration_items {
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
    for r in route_items {
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
    for s in stage_items {
        if s.stage_name() == Some(STAGE) {
            live.stage = true;
            stage = stage_state(s.auto_deploy().unwrap_or(false));
        }
    }
    (to_object(routes), stage, live)
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
    let id = out.integration_id.or_refused(
        "creating an integration of",
        KIND,
        api,
        "CreateIntegration returned no id",
    )?;
    Ok((id, i.kind))
}

async fn delete_integration(aws: &Aws, api: &str, id: &str) -> Result<(), AwsError> {
    aws.apigw
        .delete_integration()
        .api_id(api)
        .integration_id(id)
        .send()
        .await
        .map_err(|e| AwsError::new("deleting an integration of", KIND, api, e))
        .or_gone(NOT_FOUND)
}

/// Creates the integration and the route that targets it.
pub(super) async fn add_route(
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
    let route_id = out.route_id.or_refused(
        "creating a route of",
        KIND,
        api,
        "CreateRoute returned no id",
    )?;
    Ok(LiveRoute {
        route_id,
        integration_id: Some(integration_id),
        integration_type: Some(kind.as_str().to_string()),
    })
}

pub(super) async fn create_stage(aws: &Aws, api: &str) -> Result<(), AwsError> {
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

/// Reconciles the routes as a set: create missing, update changed, delete removed. An
/// integration is updated in place when only this route uses it and its type stays;
/// otherwise a new one is created, the route pointed at it, and the old one deleted once no
/// route uses it.
pub(super) async fn update_routes(
    aws: &Aws,
    spec: &Spec,
    api: &str,
    found: Option<&Map<String, Value>>,
    live: &Live,
) -> Result<(), AwsError> {
    let desired: BTreeMap<&str, &str> = spec
        .routes
        .iter()
        .map(|(k, t)| (k.as_str(), t.as_str()))
        .collect();
    let mut wiring = Wiring {
        targets: live
            .routes
            .iter()
            .map(|(k, r)| (k.clone(), r.integration_id.clone()))
            .collect(),
        detached: live.unused_integrations.clone(),
    };
    for (key, r) in &live.routes {
        if !desired.contains_key(key.as_str()) {
            delete_route(aws, api, r).await?;
            wiring.targets.remove(key);
            wiring.detached.extend(r.integration_id.clone());
        }
    }
    for (key, target) in &desired {
        match live.routes.get(*key) {
            None => {
                let route = add_route(aws, spec, api, key, target).await?;
                wiring.targets.insert(key.to_string(), route.integration_id);
            }
            Some(r) => {
                let was = found.and_then(|m| m.get(*key));
                let want = Wanted {
                    key,
                    target,
                    auth: authorization(spec.authorizer),
                };
                change_route(aws, api, want, r, was, &mut wiring).await?;
            }
        }
    }
    wiring.delete_unused(aws, api).await
}

/// Which integration each route targets, kept current as routes change, and the
/// integrations no route may target any more.
struct Wiring {
    targets: BTreeMap<String, Option<String>>,
    detached: Vec<String>,
}

impl Wiring {
    /// Whether another route than `key` targets integration `i`.
    fn shared(&self, key: &str, i: &str) -> bool {
        self.targets
            .iter()
            .any(|(k, t)| k != key && t.as_deref() == Some(i))
    }

    /// Deletes the detached integrations that no route targets.
    async fn delete_unused(&self, aws: &Aws, api: &str) -> Result<(), AwsError> {
        let used: BTreeSet<&String> = self.targets.values().flatten().collect();
        let mut gone = BTreeSet::new();
        for i in &self.detached {
            if !used.contains(i) && gone.insert(i) {
                delete_integration(aws, api, i).await?;
            }
        }
        Ok(())
    }
}

/// What one route should be.
struct Wanted<'a> {
    key: &'a str,
    target: &'a str,
    auth: AuthorizationType,
}

/// Deletes a route; one already gone is fine.
async fn delete_route(aws: &Aws, api: &str, r: &LiveRoute) -> Result<(), AwsError> {
    aws.apigw
        .delete_route()
        .api_id(api)
        .route_id(&r.route_id)
        .send()
        .await
        .map_err(|e| AwsError::new("deleting a route of", KIND, api, e))
        .or_gone(NOT_FOUND)
}

/// Brings an existing route to its target and authorization: its integration is updated in
/// place when no other route shares it and its type stays, else a new one is made.
async fn change_route(
    aws: &Aws,
    api: &str,
    want: Wanted<'_>,
    r: &LiveRoute,
    was: Option<&Value>,
    wiring: &mut Wiring,
) -> Result<(), AwsError> {
    let target_ok = was.and_then(|w| w.get("target")) == Some(&json!(want.target));
    let auth_ok = was
        .and_then(|w| w.get("authorizationType"))
        .and_then(Value::as_str)
        == Some(want.auth.as_str());
    if target_ok && auth_ok {
        return Ok(());
    }
    let integration = integration_for(want.key, want.target);
    let shared = r
        .integration_id
        .as_ref()
        .is_some_and(|i| wiring.shared(want.key, i));
    let same_type = r.integration_type.as_deref() == Some(integration.kind.as_str());
    let mut new_target = None;
    if !target_ok {
        match &r.integration_id {
            Some(i) if !shared && same_type => {
                aws.apigw
                    .update_integration()
                    .api_id(api)
                    .integration_id(i)
                    .integration_uri(&integration.uri)
                    .set_integration_method(integration.method.clone())
                    .payload_format_version(integration.payload)
                    .send()
                    .await
                    .map_err(|e| AwsError::new("updating an integration of", KIND, api, e))?;
            }
            _ => {
                let (i, _) = create_integration(aws, api, want.key, want.target).await?;
                wiring.detached.extend(r.integration_id.clone());
                wiring.targets.insert(want.key.to_string(), Some(i.clone()));
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
            .authorization_type(want.auth)
            .send()
            .await
            .map_err(|e| AwsError::new("updating a route of", KIND, api, e))?;
    }
    Ok(())
}
