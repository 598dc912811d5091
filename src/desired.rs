//! The validated config → a graph of primitive resources, in dependency order.
//!
//! Buckets and APIs are one node each; the `auth` kind expands to six: user pool, client,
//! identity pool, authenticated role (and unauthenticated role when allowed), and the identity
//! pool's role attachment. Edges come from references, so independent nodes can be read and
//! written concurrently. Specs stay templates here; `resolve` fills in attributes once known.

use std::collections::{BTreeMap, HashMap};

use crate::config::template::{AppAttr, Ref, Template};
use crate::config::{Config, ConfigError, Diagnostic, Kind, Loc, Removal, ResourceSpec};
use crate::resource::naming::{self, NameRule};
use crate::resource::test_user::Password;
use crate::resource::{self, Attrs, Def, Spec, Tags};

/// App-level values references can use.
#[derive(Debug, Clone)]
pub struct AppCtx {
    pub app: String,
    pub stage: String,
    pub region: String,
    pub account: String,
}

/// One primitive resource.
#[derive(Debug, Clone)]
pub struct Node {
    /// Logical id: `StorageStack.Uploads`, `AuthStack.Auth.UserPool`.
    pub id: String,
    pub stack: String,
    pub loc: Loc,
    pub removal: Removal,
    pub adopt: Option<String>,
    /// The key of `adopt:` that names this node (`id` for a kind adopted by one id, `userPool`,
    /// … for the parts of an `auth`); `None` for what is never adopted (found through a parent).
    pub adopt_key: Option<&'static str>,
    pub tags: Tags,
    pub def: Def,
    /// Indices of the nodes this one needs first.
    pub deps: Vec<usize>,
    /// The deps this node can do without: when one of them fails or is blocked, the node is
    /// still applied, without what that dep would have given it (an identity pool keeps its
    /// authenticated role when the guest role cannot be made). A subset of `deps`.
    pub soft_deps: Vec<usize>,
    /// 0 for nodes without deps; 1 + the deepest dep otherwise.
    pub level: usize,
}

/// The desired graph: nodes in dependency order, and where each referable attribute lives.
#[derive(Debug, Clone)]
pub struct Desired {
    pub config: Config,
    pub nodes: Vec<Node>,
    /// `(stack, resource, attr)` → (node index, node attribute).
    attr_map: HashMap<(String, String, String), (usize, &'static str)>,
    /// Logical ids to replace whatever their diff (`--replace ID`).
    replace: std::collections::BTreeSet<String>,
}

fn tags(config: &Config, stack: &str, id: &str) -> Tags {
    Tags::from([
        (resource::TAG_APP.to_string(), config.app.clone()),
        (resource::TAG_STAGE.to_string(), config.stage.clone()),
        (resource::TAG_STACK.to_string(), stack.to_string()),
        (resource::TAG_ID.to_string(), id.to_string()),
    ])
}

/// A derived physical name fitted to its kind's rule (shortened with a hash when too long);
/// what shortening cannot fix is a diagnostic at the resource.
fn fit(rule: &NameRule, derived: String, loc: &Loc, diags: &mut Vec<Diagnostic>) -> String {
    let name = rule.fit(&derived, 0);
    if let Err(message) = rule.check(&name) {
        diags.push(Diagnostic {
            loc: loc.clone(),
            message,
        });
    }
    name
}

/// The account id every bucket name ends with: 12 digits, known only once connected.
const ACCOUNT_SUFFIX: &str = "-${app.account}";
const ACCOUNT_SUFFIX_LEN: usize = "-123456789012".len();

/// A bucket's name, `{stage}-{app}-{stack}-{resource}-{account}` lowercased, its head fitted so
/// that the whole name keeps S3's rules whatever the (12-digit) account.
fn bucket_name(base: &str, loc: &Loc, diags: &mut Vec<Diagnostic>) -> Template {
    let head = resource::bucket::NAME.fit(base, ACCOUNT_SUFFIX_LEN);
    if let Err(message) = naming::check_bucket(&format!("{head}-000000000000")) {
        diags.push(Diagnostic {
            loc: loc.clone(),
            message,
        });
    }
    let name = format!("{head}{ACCOUNT_SUFFIX}");
    Template::parse(&name).unwrap_or_else(|_| Template::literal(name))
}

fn r(stack: &str, res: &str, attr: &str) -> Template {
    Template {
        parts: vec![crate::config::template::Part::Ref(Ref::Attr {
            stack: stack.into(),
            resource: res.into(),
            attr: attr.into(),
        })],
    }
}

impl Desired {
    /// Expands the config into nodes and orders them; a reference cycle is an error.
    pub fn build(config: Config) -> Result<Desired, ConfigError> {
        let mut nodes = Vec::new();
        let mut attr_map = HashMap::new();
        let mut diags = Vec::new();
        let (stage, app) = (config.stage.clone(), config.app.clone());
        for stack in &config.stacks {
            for res in &stack.resources {
                let s = stack.name.as_str();
                let rn = res.name.as_str();
                let mut push = |component: Option<&str>,
                                def: Def,
                                exports: &[(&str, &'static str)],
                                adopt_key: Option<&'static str>| {
                    let adopt = adopt_key.and_then(|k| res.adopt.get(k).cloned());
                    let id = match component {
                        Some(c) => format!("{s}.{rn}.{c}"),
                        None => format!("{s}.{rn}"),
                    };
                    let tag_id = id
                        .split_once('.')
                        .map_or(id.clone(), |(_, t)| t.to_string());
                    for (user_attr, node_attr) in exports {
                        attr_map.insert(
                            (s.to_string(), rn.to_string(), user_attr.to_string()),
                            (nodes.len(), *node_attr),
                        );
                    }
                    nodes.push(Node {
                        tags: tags(&config, s, &tag_id),
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
                };
                match &res.spec {
                    ResourceSpec::Bucket { cors } => {
                        let name = bucket_name(
                            &format!("{stage}-{app}-{s}-{rn}").to_lowercase(),
                            &res.loc,
                            &mut diags,
                        );
                        push(
                            None,
                            Def::Bucket(resource::bucket::Def {
                                name,
                                cors: cors.clone(),
                            }),
                            &[("name", "name"), ("arn", "arn")],
                            Some("id"),
                        );
                    }
                    ResourceSpec::Table {
                        partition_key,
                        sort_key,
                        billing,
                        point_in_time_recovery,
                        ttl_attribute,
                        stream,
                    } => {
                        let name = fit(
                            &resource::table::NAME,
                            format!("{stage}-{app}-{s}-{rn}"),
                            &res.loc,
                            &mut diags,
                        );
                        push(
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
                    ResourceSpec::Api { authorizer, routes } => {
                        let routes = routes
                            .iter()
                            .map(|rt| (rt.key.clone(), rt.target.clone()))
                            .collect();
                        push(
                            None,
                            Def::HttpApi(resource::http_api::Def {
                                name: fit(
                                    &resource::http_api::NAME,
                                    format!("{stage}-{app}-{rn}"),
                                    &res.loc,
                                    &mut diags,
                                ),
                                authorizer: *authorizer,
                                routes,
                            }),
                            &[("id", "id"), ("url", "url")],
                            Some("id"),
                        );
                    }
                    ResourceSpec::Auth {
                        login,
                        allow_unauthenticated,
                        authenticated,
                        unauthenticated,
                        users,
                    } => {
                        let base = format!("{stage}-{app}-{rn}");
                        let pool_name = fit(
                            &resource::user_pool::NAME,
                            base.clone(),
                            &res.loc,
                            &mut diags,
                        );
                        let client_name = fit(
                            &resource::user_pool_client::NAME,
                            format!("{base}-client"),
                            &res.loc,
                            &mut diags,
                        );
                        let identity_pool_name = fit(
                            &resource::identity_pool::NAME,
                            format!("{stage}_{app}_{rn}"),
                            &res.loc,
                            &mut diags,
                        );
                        let role_names = [
                            format!("{stage}-{app}-{s}-{rn}-AuthRole"),
                            format!("{stage}-{app}-{s}-{rn}-UnauthRole"),
                        ]
                        .map(|n| fit(&resource::role::NAME, n, &res.loc, &mut diags));
                        push(
                            Some("UserPool"),
                            Def::UserPool(resource::user_pool::Def {
                                name: pool_name,
                                login: login.clone(),
                            }),
                            &[("userPoolId", "id"), ("userPoolArn", "arn")],
                            Some("userPool"),
                        );
                        push(
                            Some("UserPoolClient"),
                            Def::UserPoolClient(resource::user_pool_client::Def {
                                name: client_name,
                                user_pool_id: r(s, rn, "userPoolId"),
                            }),
                            &[("userPoolClientId", "id")],
                            None,
                        );
                        push(
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
                            push(
                                Some(component),
                                Def::Role(resource::role::Def {
                                    name,
                                    identity_pool_id: r(s, rn, "identityPoolId"),
                                    amr,
                                    statements: statements.clone(),
                                }),
                                &[(attr, "arn")],
                                Some(adopt_key),
                            );
                        }
                        push(
                            Some("IdentityPoolRoles"),
                            Def::IdentityPoolRoles(resource::identity_pool_roles::Def {
                                identity_pool_id: r(s, rn, "identityPoolId"),
                                authenticated: r(s, rn, "authenticatedRoleArn"),
                                unauthenticated: allow_unauthenticated
                                    .then(|| r(s, rn, "unauthenticatedRoleArn")),
                            }),
                            &[],
                            None,
                        );
                        for u in users.iter().filter(|u| u.in_stage(&stage)) {
                            let Some(password) = password_from_env(u, &mut diags) else {
                                continue;
                            };
                            push(
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
                }
            }
        }
        let mut d = Desired {
            config,
            nodes,
            attr_map,
            replace: Default::default(),
        };
        for i in 0..d.nodes.len() {
            let mut deps: Vec<usize> = d
                .templates(i)
                .iter()
                .flat_map(|t| t.refs())
                .filter_map(|rf| d.node_of(rf))
                .collect();
            deps.sort();
            deps.dedup();
            let mut soft: Vec<usize> = d
                .optional_templates(i)
                .iter()
                .flat_map(|t| t.refs())
                .filter_map(|rf| d.node_of(rf))
                .collect();
            soft.sort();
            soft.dedup();
            d.nodes[i].deps = deps;
            d.nodes[i].soft_deps = soft;
        }
        d.order(&mut diags);
        if diags.is_empty() {
            Ok(d)
        } else {
            Err(ConfigError(diags))
        }
    }

    /// Asks for these resources (logical ids such as `AuthStack.Auth.UserPool`) to be replaced
    /// whatever their diff. An id that names no resource is an error listing the ones there are.
    pub fn force_replace(&mut self, ids: &[String]) -> Result<(), String> {
        for id in ids {
            if !self.nodes.iter().any(|n| n.id == *id) {
                let known: Vec<&str> = self.nodes.iter().map(|n| n.id.as_str()).collect();
                return Err(format!(
                    "--replace {id}: no such resource; expected one of {}",
                    known.join(", ")
                ));
            }
            self.replace.insert(id.clone());
        }
        Ok(())
    }

    /// Whether node `i` is to be replaced whatever its diff.
    pub fn replaces(&self, i: usize) -> bool {
        self.nodes
            .get(i)
            .is_some_and(|n| self.replace.contains(&n.id))
    }

    /// Whether a replacement of node `i` was asked for with `--replace`: it is named, or it
    /// depends (through any chain) on a node that is, so it must be replaced with it (a
    /// client in a replaced pool).
    pub fn replace_consented(&self, i: usize) -> bool {
        self.replaces(i)
            || self
                .nodes
                .get(i)
                .is_some_and(|n| n.deps.iter().any(|&d| self.replace_consented(d)))
    }

    /// [`Desired::replace_consented`] by logical id.
    pub fn replace_consented_id(&self, id: &str) -> bool {
        self.nodes
            .iter()
            .position(|n| n.id == id)
            .is_some_and(|i| self.replace_consented(i))
    }

    /// The node (and its attribute) a reference points at.
    pub fn lookup(&self, r: &Ref) -> Option<(usize, &'static str)> {
        match r {
            Ref::Attr {
                stack,
                resource,
                attr,
            } => self
                .attr_map
                .get(&(stack.clone(), resource.clone(), attr.clone()))
                .copied(),
            Ref::App(_) => None,
        }
    }

    fn node_of(&self, r: &Ref) -> Option<usize> {
        self.lookup(r).map(|(i, _)| i)
    }

    fn templates(&self, i: usize) -> Vec<&Template> {
        self.nodes[i].def.templates()
    }

    /// The templates of `templates(i)` whose values the node can go without.
    fn optional_templates(&self, i: usize) -> Vec<&Template> {
        self.nodes[i].def.optional_templates()
    }

    /// Sorts nodes topologically (stable), computes levels, and reports cycles.
    fn order(&mut self, diags: &mut Vec<Diagnostic>) {
        let n = self.nodes.len();
        let mut placed = vec![false; n];
        let mut order = Vec::with_capacity(n);
        let mut level = vec![0usize; n];
        while order.len() < n {
            let ready: Vec<usize> = (0..n)
                .filter(|&i| !placed[i] && self.nodes[i].deps.iter().all(|&d| placed[d]))
                .collect();
            if ready.is_empty() {
                for i in (0..n).filter(|&i| !placed[i]) {
                    let node = &self.nodes[i];
                    diags.push(Diagnostic {
                        loc: node.loc.clone(),
                        message: format!("expected references without cycles; `{}` depends on itself through its references", node.id),
                    });
                }
                return;
            }
            for i in ready {
                placed[i] = true;
                level[i] = self.nodes[i]
                    .deps
                    .iter()
                    .map(|&d| level[d] + 1)
                    .max()
                    .unwrap_or(0);
                order.push(i);
            }
        }
        // Reindex so nodes are in dependency order.
        let mut new_index = vec![0; n];
        for (new, &old) in order.iter().enumerate() {
            new_index[old] = new;
        }
        let mut nodes: Vec<Option<Node>> = std::mem::take(&mut self.nodes)
            .into_iter()
            .map(Some)
            .collect();
        self.nodes = order
            .iter()
            .map(|&old| {
                let mut node = nodes[old]
                    .take()
                    .unwrap_or_else(|| unreachable!("each node is placed once"));
                node.deps = node.deps.iter().map(|&d| new_index[d]).collect();
                node.soft_deps = node.soft_deps.iter().map(|&d| new_index[d]).collect();
                node.level = level[old];
                node
            })
            .collect();
        for v in self.attr_map.values_mut() {
            v.0 = new_index[v.0];
        }
    }

    /// Resolves one node's spec given the attributes known so far (`attrs[i]` for node i).
    /// Unknown references render as "(known after apply)"; the bool says all were known.
    pub fn resolve(&self, i: usize, app: &AppCtx, attrs: &[Option<Attrs>]) -> (Spec, bool) {
        let mut complete = true;
        let mut render = |t: &Template| {
            let (s, known) = t.render(|rf| match rf {
                Ref::App(a) => Some(match a {
                    AppAttr::Name => app.app.clone(),
                    AppAttr::Stage => app.stage.clone(),
                    AppAttr::Region => app.region.clone(),
                    AppAttr::Account => app.account.clone(),
                }),
                Ref::Attr { .. } => {
                    let (node, attr) = self.lookup(rf)?;
                    attrs.get(node)?.as_ref()?.get(attr).cloned()
                }
            });
            complete &= known;
            s
        };
        let node = &self.nodes[i];
        let spec = node.def.resolve(&mut resource::Resolve {
            region: &app.region,
            tags: &node.tags,
            render: &mut render,
        });
        (spec, complete)
    }

    /// Resolves a stack output with the attributes known so far.
    pub fn output_value(
        &self,
        t: &Template,
        app: &AppCtx,
        attrs: &[Option<Attrs>],
    ) -> (String, bool) {
        t.render(|rf| match rf {
            Ref::App(AppAttr::Name) => Some(app.app.clone()),
            Ref::App(AppAttr::Stage) => Some(app.stage.clone()),
            Ref::App(AppAttr::Region) => Some(app.region.clone()),
            Ref::App(AppAttr::Account) => Some(app.account.clone()),
            Ref::Attr { .. } => {
                let (node, attr) = self.lookup(rf)?;
                attrs.get(node)?.as_ref()?.get(attr).cloned()
            }
        })
    }

    /// Node indices grouped by level, for bounded concurrent walks.
    pub fn levels(&self) -> Vec<Vec<usize>> {
        let mut by: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (i, n) in self.nodes.iter().enumerate() {
            by.entry(n.level).or_default().push(i);
        }
        by.into_values().collect()
    }

    pub fn kind_of(&self, stack: &str, resource: &str) -> Option<Kind> {
        self.config
            .stack(stack)?
            .resources
            .iter()
            .find(|r| r.name == resource)
            .map(|r| match r.spec {
                ResourceSpec::Bucket { .. } => Kind::Bucket,
                ResourceSpec::Api { .. } => Kind::Api,
                ResourceSpec::Auth { .. } => Kind::Auth,
                ResourceSpec::Table { .. } => Kind::Table,
            })
    }
}

/// Reads a test user's password from its `passwordEnv` variable. Unset or empty is a
/// problem at the place `passwordEnv` was written; the message names the variable, never a value.
fn password_from_env(u: &crate::config::TestUser, diags: &mut Vec<Diagnostic>) -> Option<Password> {
    let problem = match std::env::var(&u.password_env) {
        Ok(v) if !v.is_empty() => return Some(Password::new(v)),
        Ok(_) => "is empty",
        Err(std::env::VarError::NotPresent) => "is not set",
        Err(std::env::VarError::NotUnicode(_)) => "is not valid UTF-8",
    };
    diags.push(Diagnostic {
        loc: u.loc.clone(),
        message: format!(
            "test user `{}`: the environment variable `{}` (its `passwordEnv`) {problem}; set it to the user's password",
            u.email, u.password_env
        ),
    });
    None
}
