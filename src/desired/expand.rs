//! Expansion: each resource of the files becomes its primitive nodes, kind by kind (a bucket,
//! an API and a table are one node each; an `auth` is six, plus its test users). Physical names
//! are derived and fitted to AWS's rules here, with a diagnostic at the resource for what
//! cannot be fitted.

use std::collections::HashMap;

use super::{Node, password_from_env, r, tags};
use crate::config::template::Template;
use crate::config::{Config, Diagnostic, Loc, Resource, ResourceSpec};
use crate::resource::naming::NameRule;
use crate::resource::{self, Def};

/// What expansion builds up: the nodes, where each referable attribute lives, and problems.
pub(super) struct Builder<'a> {
    pub config: &'a Config,
    pub nodes: Vec<Node>,
    /// `(stack, resource, attr)` → (node index, node attribute).
    pub attr_map: HashMap<(String, String, String), (usize, &'static str)>,
    pub diags: Vec<Diagnostic>,
}

impl<'a> Builder<'a> {
    pub fn new(config: &'a Config) -> Builder<'a> {
        Builder {
            config,
            nodes: Vec::new(),
            attr_map: HashMap::new(),
            diags: Vec::new(),
        }
    }

    /// Adds one node of resource `res` in stack `s`: `component` names a part of a composite
    /// (`UserPool` of an `auth`), `exports` maps the resource's attributes to the node's, and
    /// `adopt_key` is the `adopt:` key that names it.
    fn push(
        &mut self,
        s: &str,
        res: &Resource,
        component: Option<&str>,
        def: Def,
        exports: &[(&str, &'static str)],
        adopt_key: Option<&'static str>,
    ) {
        let rn = res.name.as_str();
        let adopt = adopt_key.and_then(|k| res.adopt.get(k).cloned());
        let id = match component {
            Some(c) => format!("{s}.{rn}.{c}"),
            None => format!("{s}.{rn}"),
        };
        let tag_id = id
            .split_once('.')
            .map_or(id.clone(), |(_, t)| t.to_string());
        for (user_attr, node_attr) in exports {
            self.attr_map.insert(
                (s.to_string(), rn.to_string(), user_attr.to_string()),
                (self.nodes.len(), *node_attr),
            );
        }
        self.nodes.push(Node {
            tags: tags(self.config, s, &tag_id),
            id,
            stack: s.to_string(),
            loc: res.loc.clone(),
            removal: res.removal,
            adopt,
            adopt_key,
            def,
            deps: Vec::new(),
            soft_deps: Vec::new(),
            level: 0,
        });
    }

    /// A derived physical name fitted to its kind's rule (shortened with a hash when too
    /// long); what shortening cannot fix is a diagnostic at the resource.
    fn fit(&mut self, rule: &NameRule, derived: String, loc: &Loc) -> String {
        let name = rule.fit(&derived, 0);
        if let Err(message) = rule.check(&name) {
            self.diags.push(Diagnostic {
                loc: loc.clone(),
                message,
            });
        }
        name
    }

    /// A bucket's name, `{stage}-{app}-{stack}-{resource}-{account}` lowercased, its head
    /// fitted so that the whole name keeps S3's rules whatever the (12-digit) account.
    fn bucket_name(&mut self, base: &str, loc: &Loc) -> Template {
        match resource::bucket::head_before_account(base) {
            Ok(head) => {
                // The account id, known only once connected.
                let name = format!("{head}-${{app.account}}");
                Template::parse(&name).unwrap_or_else(|_| Template::literal(name))
            }
            Err(message) => {
                self.diags.push(Diagnostic {
                    loc: loc.clone(),
                    message,
                });
                Template::literal(base)
            }
        }
    }
}

/// One resource of the files → its nodes: each kind expands itself.
pub(super) fn resource(b: &mut Builder<'_>, stack: &str, res: &Resource) {
    match &res.spec {
        ResourceSpec::Bucket { .. } => bucket(b, stack, res),
        ResourceSpec::Table { .. } => table(b, stack, res),
        ResourceSpec::Api { .. } => api(b, stack, res),
        ResourceSpec::Auth { .. } => auth(b, stack, res),
    }
}

/// The `bucket` kind's nodes.
fn bucket(b: &mut Builder<'_>, s: &str, res: &Resource) {
    let ResourceSpec::Bucket { cors } = &res.spec else {
        return;
    };
    let config = b.config;
    let (stage, app, rn) = (&config.stage, &config.app, res.name.as_str());
    let name = b.bucket_name(&format!("{stage}-{app}-{s}-{rn}"), &res.loc);
    b.push(
        s,
        res,
        None,
        Def::Bucket(resource::bucket::Def {
            name,
            cors: cors.clone(),
        }),
        &[("name", "name"), ("arn", "arn")],
        Some("id"),
    );
}

/// The `table` kind's nodes.
fn table(b: &mut Builder<'_>, s: &str, res: &Resource) {
    let ResourceSpec::Table {
        partition_key,
        sort_key,
        billing,
        point_in_time_recovery,
        ttl_attribute,
        stream,
    } = &res.spec
    else {
        return;
    };
    let config = b.config;
    let (stage, app, rn) = (&config.stage, &config.app, res.name.as_str());
    let name = b.fit(
        &resource::table::NAME,
        format!("{stage}-{app}-{s}-{rn}"),
        &res.loc,
    );
    b.push(
        s,
        res,
        None,
        Def::Table(resource::table::Def {
            name,
            partition_key: partition_key.clone(),
            sort_key: sort_key.clone(),
            billing: *billing,
            point_in_time_recovery: *point_in_time_recovery,
            ttl_attribute: ttl_attribute.clone(),
            stream: stream.clone(),
        }),
        &[("name", "name"), ("arn", "arn"), ("streamArn", "streamArn")],
        Some("id"),
    );
}

/// The `api` kind's nodes.
fn api(b: &mut Builder<'_>, s: &str, res: &Resource) {
    let ResourceSpec::Api {
        authorizer,
        routes: declared_routes,
    } = &res.spec
    else {
        return;
    };
    let config = b.config;
    let (stage, app, rn) = (&config.stage, &config.app, res.name.as_str());
    let routes = declared_routes
        .iter()
        .map(|rt| (rt.key.clone(), rt.target.clone()))
        .collect();
    let name = b.fit(
        &resource::http_api::NAME,
        format!("{stage}-{app}-{rn}"),
        &res.loc,
    );
    b.push(
        s,
        res,
        None,
        Def::HttpApi(resource::http_api::Def {
            name,
            authorizer: *authorizer,
            routes,
        }),
        &[("id", "id"), ("url", "url")],
        Some("id"),
    );
    lambda_permissions(b, s, res, declared_routes);
}

/// One `Invoke(fn)` node per distinct Lambda function the API's routes integrate: API
/// Gateway's right to invoke it, for this API's routes only.
fn lambda_permissions(
    b: &mut Builder<'_>,
    s: &str,
    res: &Resource,
    routes: &[crate::config::Route],
) {
    use crate::config::template::{AppAttr, Part, Ref};
    use resource::lambda_permission as lp;
    let config = b.config;
    let rn = res.name.as_str();
    let mut seen: Vec<&Template> = Vec::new();
    for route in routes {
        let text = template_text(&route.target);
        if !(text.starts_with("arn:") && text.contains(":lambda:")) || seen.contains(&&route.target)
        {
            continue;
        }
        seen.push(&route.target);
        let sid = lp::statement_id(&config.stage, &config.app, s, rn);
        if let Err(message) = lp::SID.check(&sid) {
            b.diags.push(Diagnostic {
                loc: res.loc.clone(),
                message,
            });
            continue;
        }
        let source_arn = Template {
            parts: vec![
                Part::Lit(format!(
                    "arn:{}:execute-api:{}:",
                    resource::partition(&config.region),
                    config.region
                )),
                Part::Ref(Ref::App(AppAttr::Account)),
                Part::Lit(":".into()),
                Part::Ref(Ref::Attr {
                    stack: s.into(),
                    resource: rn.into(),
                    attr: "id".into(),
                }),
                Part::Lit("/*/*".into()),
            ],
        };
        b.push(
            s,
            res,
            Some(&format!("Invoke({})", lp::function_name(&text))),
            Def::LambdaPermission(lp::Def {
                function: route.target.clone(),
                statement_id: sid,
                source_arn,
            }),
            &[],
            None,
        );
    }
}

/// A template's text with each reference as written (`${app.region}`).
fn template_text(t: &Template) -> String {
    use crate::config::template::Part;
    t.parts
        .iter()
        .map(|p| match p {
            Part::Lit(l) => l.clone(),
            Part::Ref(r) => r.to_string(),
        })
        .collect()
}

/// The `auth` kind's nodes.
fn auth(b: &mut Builder<'_>, s: &str, res: &Resource) {
    let ResourceSpec::Auth {
        login,
        allow_unauthenticated,
        ..
    } = &res.spec
    else {
        return;
    };
    let config = b.config;
    let (stage, app, rn) = (&config.stage, &config.app, res.name.as_str());
    let base = format!("{stage}-{app}-{rn}");
    let pool_name = b.fit(&resource::user_pool::NAME, base.clone(), &res.loc);
    let client_name = b.fit(
        &resource::user_pool_client::NAME,
        format!("{base}-client"),
        &res.loc,
    );
    let identity_pool_name = b.fit(
        &resource::identity_pool::NAME,
        format!("{stage}_{app}_{rn}"),
        &res.loc,
    );
    let role_names = [
        format!("{stage}-{app}-{s}-{rn}-AuthRole"),
        format!("{stage}-{app}-{s}-{rn}-UnauthRole"),
    ]
    .map(|n| b.fit(&resource::role::NAME, n, &res.loc));
    b.push(
        s,
        res,
        Some("UserPool"),
        Def::UserPool(resource::user_pool::Def {
            name: pool_name,
            login: login.clone(),
        }),
        &[("userPoolId", "id"), ("userPoolArn", "arn")],
        Some("userPool"),
    );
    b.push(
        s,
        res,
        Some("UserPoolClient"),
        Def::UserPoolClient(resource::user_pool_client::Def {
            name: client_name,
            user_pool_id: r(s, rn, "userPoolId"),
        }),
        &[("userPoolClientId", "id")],
        None,
    );
    b.push(
        s,
        res,
        Some("IdentityPool"),
        Def::IdentityPool(resource::identity_pool::Def {
            name: identity_pool_name,
            allow_unauthenticated: *allow_unauthenticated,
            user_pool_id: r(s, rn, "userPoolId"),
            client_id: r(s, rn, "userPoolClientId"),
        }),
        &[("identityPoolId", "id")],
        Some("identityPool"),
    );
    auth_roles(b, s, res, role_names);
    b.push(
        s,
        res,
        Some("IdentityPoolRoles"),
        Def::IdentityPoolRoles(resource::identity_pool_roles::Def {
            identity_pool_id: r(s, rn, "identityPoolId"),
            authenticated: r(s, rn, "authenticatedRoleArn"),
            unauthenticated: allow_unauthenticated.then(|| r(s, rn, "unauthenticatedRoleArn")),
        }),
        &[],
        None,
    );
    test_users(b, s, res);
}

/// An `auth`'s roles: the authenticated one, and the guests' when they are allowed.
fn auth_roles(b: &mut Builder<'_>, s: &str, res: &Resource, role_names: [String; 2]) {
    let ResourceSpec::Auth {
        allow_unauthenticated,
        authenticated,
        unauthenticated,
        iam,
        ..
    } = &res.spec
    else {
        return;
    };
    let rn = res.name.as_str();
    let [auth_role_name, unauth_role_name] = role_names;
    for (component, name, amr, statements, attr) in [
        (
            "AuthenticatedRole",
            auth_role_name,
            "authenticated",
            authenticated,
            "authenticatedRoleArn",
        ),
        (
            "UnauthenticatedRole",
            unauth_role_name,
            "unauthenticated",
            unauthenticated,
            "unauthenticatedRoleArn",
        ),
    ] {
        if amr == "unauthenticated" && !allow_unauthenticated {
            continue;
        }
        let adopt_key = if amr == "authenticated" {
            "authenticatedRole"
        } else {
            "unauthenticatedRole"
        };
        b.push(
            s,
            res,
            Some(component),
            Def::Role(resource::role::Def {
                name,
                identity_pool_id: r(s, rn, "identityPoolId"),
                amr,
                statements: statements.clone(),
                path: iam.path.clone(),
                permissions_boundary: iam.permissions_boundary.clone(),
            }),
            &[(attr, "arn")],
            Some(adopt_key),
        );
    }
}

/// An `auth`'s test users of this stage whose password is set.
fn test_users(b: &mut Builder<'_>, s: &str, res: &Resource) {
    let ResourceSpec::Auth { users, .. } = &res.spec else {
        return;
    };
    let (stage, rn) = (&b.config.stage, res.name.as_str());
    for u in users.iter().filter(|u| u.in_stage(stage)) {
        let Some(password) = password_from_env(u, &mut b.diags) else {
            continue;
        };
        b.push(
            s,
            res,
            Some(&format!("TestUser({})", u.email)),
            Def::TestUser(resource::test_user::Def {
                email: u.email.clone(),
                password,
                user_pool_id: r(s, rn, "userPoolId"),
            }),
            &[],
            None,
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Removal;
    use crate::desired::Desired;
    use crate::resource::{Def, TAG_ID};

    /// The graph of one stack file `App` (app `notes`, stage `dev`, us-east-1), with
    /// `app_tail` appended to stackwatch.yaml.
    fn expand(stack: &str, app_tail: &str) -> Desired {
        crate::config::testing::desired(app_tail, stack)
    }

    fn ids(d: &Desired) -> Vec<&str> {
        let mut ids: Vec<&str> = d.nodes.iter().map(|n| n.id.as_str()).collect();
        ids.sort();
        ids
    }

    const AUTH: &str = "stack: App\nresources:\n  Auth:\n    kind: auth\n";

    #[test]
    fn an_auth_is_five_nodes_and_six_with_guests() {
        let d = expand(AUTH, "");
        assert_eq!(
            ids(&d),
            [
                "App.Auth.AuthenticatedRole",
                "App.Auth.IdentityPool",
                "App.Auth.IdentityPoolRoles",
                "App.Auth.UserPool",
                "App.Auth.UserPoolClient",
            ]
        );
        let guests = expand(&format!("{AUTH}    allowUnauthenticated: true\n"), "");
        assert!(ids(&guests).contains(&"App.Auth.UnauthenticatedRole"));
        assert_eq!(guests.nodes.len(), 6);
        let pool = &d
            .nodes
            .iter()
            .find(|n| n.id == "App.Auth.UserPool")
            .unwrap();
        assert_eq!(pool.tags[TAG_ID], "Auth.UserPool");
        assert_eq!(pool.removal, Removal::Retain, "a pool holds data");
    }

    #[test]
    fn roles_carry_the_iam_defaults_and_the_resources_own() {
        let app = "defaults:\n  iam:\n    permissionsBoundary: arn:aws:iam::123456789012:policy/B\n    path: /app/\n";
        let d = expand(&format!("{AUTH}    allowUnauthenticated: true\n"), app);
        let roles: Vec<&crate::resource::role::Def> = d
            .nodes
            .iter()
            .filter_map(|n| match &n.def {
                Def::Role(r) => Some(r),
                _ => None,
            })
            .collect();
        assert_eq!(roles.len(), 2);
        for r in &roles {
            assert_eq!(r.path, "/app/");
            assert_eq!(
                r.permissions_boundary.as_deref(),
                Some("arn:aws:iam::123456789012:policy/B")
            );
        }
        let own = expand(&format!("{AUTH}    iam:\n      path: /own/\n"), app);
        let role = own.nodes.iter().find_map(|n| match &n.def {
            Def::Role(r) => Some(r),
            _ => None,
        });
        assert_eq!(role.unwrap().path, "/own/");
    }

    #[test]
    fn test_users_exist_only_in_their_stages() {
        // Set for every `cargo test` by .cargo/config.toml.
        let pw = "STACKWATCH_TEST_PASSWORD";
        assert!(std::env::var_os(pw).is_some(), "cargo test sets {pw}");
        let users = format!(
            "    users:\n      - email: a@example.com\n        passwordEnv: {pw}\n      - email: b@example.com\n        passwordEnv: {pw}\n        stages: [prod]\n"
        );
        let d = expand(&format!("{AUTH}{users}"), "");
        let users: Vec<&str> = ids(&d)
            .into_iter()
            .filter(|i| i.contains("TestUser"))
            .collect();
        assert_eq!(users, ["App.Auth.TestUser(a@example.com)"]);
    }

    #[test]
    fn one_invoke_permission_per_distinct_lambda_function_of_an_api() {
        let f = |name: &str| format!("arn:aws:lambda:us-east-1:123456789012:function:{name}");
        let stack = format!(
            "stack: App\nresources:\n  Api:\n    kind: api\n    routes:\n      GET /a: {}\n      POST /a: {}\n      GET /b: {}\n      GET /c: https://e.com/c\n",
            f("list"),
            f("list"),
            f("get")
        );
        let d = expand(&stack, "");
        let invokes: Vec<&str> = ids(&d)
            .into_iter()
            .filter(|i| i.contains("Invoke"))
            .collect();
        assert_eq!(invokes, ["App.Api.Invoke(get)", "App.Api.Invoke(list)"]);
        let api = d.nodes.iter().position(|n| n.id == "App.Api").unwrap();
        for n in d.nodes.iter().filter(|n| n.id.contains("Invoke")) {
            assert_eq!(n.deps, [api], "{}: its SourceArn names the API's id", n.id);
            let Def::LambdaPermission(p) = &n.def else {
                panic!("{:?}", n.def)
            };
            assert_eq!(p.statement_id, "stackwatch-dev-notes-App-Api");
        }
        let http_only = expand(
            "stack: App\nresources:\n  Api:\n    kind: api\n    routes:\n      GET /c: https://e.com/c\n",
            "",
        );
        assert_eq!(ids(&http_only), ["App.Api"]);
    }

    #[test]
    fn long_names_are_shortened_to_fit_and_stay_stable() {
        let long = "A".repeat(60);
        let stack = format!("stack: App\nresources:\n  {long}:\n    kind: api\n");
        let d = expand(&stack, "");
        let Def::HttpApi(api) = &d.nodes[0].def else {
            panic!()
        };
        assert!(api.name.len() <= 128);
        let table = format!(
            "stack: App\nresources:\n  {long}{long}{long}{long}x:\n    kind: table\n    partitionKey: {{name: id, type: string}}\n"
        );
        let t = expand(&table, "");
        let t2 = expand(&table, "");
        let name = |d: &Desired| match &d.nodes[0].def {
            Def::Table(t) => t.name.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(name(&t).len(), 255, "{}", name(&t));
        assert_eq!(name(&t), name(&t2), "the same shortened name every time");
    }
}
