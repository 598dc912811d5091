//! Expansion: each resource of the files becomes its primitive nodes. Every kind expands
//! itself (`ConfigKind::expand`, in its own file: a bucket, an API and a table are one node
//! each, plus an API's Lambda permissions; an `auth` is six, plus its test users); this module
//! only offers them the names, the place to report a problem, and the node list, through
//! [`Expand`]. Physical names are derived and fitted to AWS's rules by the kinds, with a
//! diagnostic at the resource for what cannot be fitted.

use std::collections::HashMap;

use super::{Node, tags};
use crate::config::{Config, Diagnostic, Loc, Resource};
use crate::resource::declare::{Expand, Names, NodeDef};

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
}

/// One resource of the files → its nodes: its kind expands it.
pub(super) fn resource(b: &mut Builder<'_>, stack: &str, res: &Resource) {
    res.spec.expand(&mut One { b, stack, res });
}

/// The expansion of one resource.
struct One<'b, 'a> {
    b: &'b mut Builder<'a>,
    stack: &'b str,
    res: &'b Resource,
}

impl Expand for One<'_, '_> {
    fn names(&self) -> Names<'_> {
        let c = self.b.config;
        Names {
            app: &c.app,
            stage: &c.stage,
            region: &c.region,
            stack: self.stack,
            resource: &self.res.name,
        }
    }

    fn here(&self) -> Loc {
        self.res.loc.clone()
    }

    fn diag(&mut self, d: Diagnostic) {
        self.b.diags.push(d);
    }

    /// Adds the node `{stack}.{resource}[.{component}]`, exporting the resource's attributes
    /// it holds, adopted when `adopt:` names it by its key.
    fn push(&mut self, node: NodeDef<'_>) {
        let (s, res) = (self.stack, self.res);
        let rn = res.name.as_str();
        let adopt = node.adopt_key.and_then(|k| res.adopt.get(k).cloned());
        let id = match &node.component {
            Some(c) => format!("{s}.{rn}.{c}"),
            None => format!("{s}.{rn}"),
        };
        let tag_id = id
            .split_once('.')
            .map_or(id.clone(), |(_, t)| t.to_string());
        let index = self.b.nodes.len();
        for (user_attr, node_attr) in node.exports {
            self.b.attr_map.insert(
                (s.to_string(), rn.to_string(), user_attr.to_string()),
                (index, *node_attr),
            );
        }
        self.b.nodes.push(Node {
            tags: tags(self.b.config, s, &tag_id),
            id,
            stack: s.to_string(),
            loc: res.loc.clone(),
            removal: res.removal,
            adopt,
            adopt_key: node.adopt_key,
            def: node.def,
            deps: Vec::new(),
            soft_deps: Vec::new(),
            level: 0,
        });
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
