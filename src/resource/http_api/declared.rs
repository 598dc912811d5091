//! What a stack file declares as `kind: api`: an HTTP API's routes and authorizer. It expands
//! to the API itself and, for each distinct Lambda function its routes integrate, API
//! Gateway's permission to invoke it (`Stack.Api.Invoke(fn)`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::{Def, HttpApi, NAME};
use crate::resource::declare::{Check, ConfigKind, Expand, NodeDef};
use crate::resource::lambda_permission as lp;
use crate::source::template::{AppAttr, Part, Ref, Template};
use crate::source::{Diagnostic, Loc};

crate::kind_fields! {
    /// `kind: api`: an API Gateway HTTP API with routes.
    pub struct Fields {
        /// `iam` makes every route use AWS_IAM authorization; `none` leaves them open.
        #[schemars(with = "Option<Authorizer>")]
        authorizer: Option<Spanned<Authorizer>>,
        /// Routes as `"METHOD /path": integration`, where integration is an HTTP(S) URL or a
        /// Lambda ARN.
        #[schemars(with = "Option<BTreeMap<String, String>>")]
        routes: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    }
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

/// The checked `api`.
#[derive(Debug, Clone)]
pub struct Api {
    pub authorizer: Authorizer,
    pub routes: Vec<Route>,
}

/// One route: `GET /notes/{id}` to its integration.
#[derive(Debug, Clone)]
pub struct Route {
    pub key: String,
    pub target: Template,
    pub loc: Loc,
}

impl ConfigKind for HttpApi {
    const NAME: &'static str = "api";
    const ABOUT: &'static str = "An API Gateway HTTP API with routes.";
    const ATTRIBUTES: &'static [&'static str] = &["id", "url"];
    const HOLDS_DATA: bool = false;
    type Fields = Fields;
    type Spec = Api;

    /// Route keys such as `GET /notes/{id}`, each to an integration (an http(s) URL or a
    /// Lambda function ARN, or a reference that renders to one).
    fn check(f: Fields, cx: &mut dyn Check) -> Api {
        let mut routes = Vec::new();
        for (key, target) in f.routes.map(|r| r.value).unwrap_or_default() {
            let loc = cx.loc(&target.referenced);
            if let Err(m) = check_route_key(&key) {
                cx.err(loc.clone(), m);
            }
            let Some(t) = cx.template(&loc, &target.value) else {
                continue;
            };
            if t.refs().next().is_none() && !is_integration(&target.value) {
                let m = format!(
                    "expected an integration: an http(s):// URL or a Lambda function ARN, found `{}`",
                    target.value
                );
                cx.err(loc.clone(), m);
            }
            routes.push(Route {
                key,
                target: t,
                loc,
            });
        }
        Api {
            authorizer: f.authorizer.map_or(Authorizer::Iam, |a| a.value),
            routes,
        }
    }

    /// The API, named `{stage}-{app}-{resource}`, and its Lambda permissions.
    fn expand(api: &Api, b: &mut dyn Expand) {
        let n = b.names();
        let name = b.fit(&NAME, format!("{}-{}-{}", n.stage, n.app, n.resource));
        let routes = api
            .routes
            .iter()
            .map(|rt| (rt.key.clone(), rt.target.clone()))
            .collect();
        b.push_one(
            crate::resource::Def::HttpApi(Def {
                name,
                authorizer: api.authorizer,
                routes,
            }),
            &[("id", "id"), ("url", "url")],
        );
        lambda_permissions(b, &api.routes);
    }
}

/// One `Invoke(fn)` node per distinct Lambda function the API's routes integrate: API
/// Gateway's right to invoke it, for this API's routes only.
fn lambda_permissions(b: &mut dyn Expand, routes: &[Route]) {
    let mut seen: Vec<&Template> = Vec::new();
    for route in routes {
        let text = route.target.to_string();
        if !(text.starts_with("arn:") && text.contains(":lambda:")) || seen.contains(&&route.target)
        {
            continue;
        }
        seen.push(&route.target);
        let n = b.names();
        let sid = lp::statement_id(n.stage, n.app, n.stack, n.resource);
        if let Err(message) = lp::SID.check(&sid) {
            let loc = b.here();
            b.diag(Diagnostic { loc, message });
            continue;
        }
        let source_arn = Template {
            parts: vec![
                Part::Lit(format!(
                    "arn:{}:execute-api:{}:",
                    crate::resource::partition(n.region),
                    n.region
                )),
                Part::Ref(Ref::App(AppAttr::Account)),
                Part::Lit(":".into()),
                Part::Ref(Ref::Attr {
                    stack: n.stack.into(),
                    resource: n.resource.into(),
                    attr: "id".into(),
                }),
                Part::Lit("/*/*".into()),
            ],
        };
        b.push(NodeDef {
            component: Some(format!("Invoke({})", lp::function_name(&text))),
            def: crate::resource::Def::LambdaPermission(lp::Def {
                function: route.target.clone(),
                statement_id: sid,
                source_arn,
            }),
            exports: &[],
            adopt_key: None,
        });
    }
}

fn check_route_key(key: &str) -> Result<(), String> {
    let mut it = key.splitn(2, ' ');
    let method = it.next().unwrap_or("");
    let path = it.next().unwrap_or("");
    let methods = [
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY",
    ];
    if !methods.contains(&method) || !path.starts_with('/') {
        return Err(format!(
            "expected a route key such as `GET /notes/{{id}}`, found `{key}`"
        ));
    }
    Ok(())
}

fn is_integration(s: &str) -> bool {
    s.starts_with("https://")
        || s.starts_with("http://")
        || (s.starts_with("arn:aws") && s.contains(":lambda:") && s.contains(":function:"))
}
