//! The validated config → a graph of primitive resources, in dependency order.
//!
//! Each resource of the files expands itself (`expand`): buckets, APIs and tables are one
//! node each; the `auth` kind expands to six: user pool, client,
//! identity pool, authenticated role (and unauthenticated role when allowed), and the identity
//! pool's role attachment. Edges come from references, so independent nodes can be read and
//! written concurrently. Specs stay templates here; `resolve` fills in attributes once known.

mod expand;

use std::collections::{BTreeMap, HashMap};

use crate::config::template::{AppAttr, Ref, Resolved, Template};
use crate::config::{Config, ConfigError, Diagnostic, Loc, Removal};
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

impl Desired {
    /// Expands the config into nodes and orders them; a reference cycle is an error.
    pub fn build(config: Config) -> Result<Desired, ConfigError> {
        let mut b = expand::Builder::new(&config);
        for stack in &config.stacks {
            for res in &stack.resources {
                expand::resource(&mut b, &stack.name, res);
            }
        }
        let expand::Builder {
            nodes,
            attr_map,
            mut diags,
            ..
        } = b;
        let mut d = Desired {
            config,
            nodes,
            attr_map,
            replace: Default::default(),
        };
        for i in 0..d.nodes.len() {
            let deps = d.nodes_referenced(&d.templates(i));
            let soft = d.nodes_referenced(&d.optional_templates(i));
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

    /// The nodes these templates reference, sorted, each once.
    fn nodes_referenced(&self, templates: &[&Template]) -> Vec<usize> {
        let mut nodes: Vec<usize> = templates
            .iter()
            .flat_map(|t| t.refs())
            .filter_map(|rf| self.node_of(rf))
            .collect();
        nodes.sort();
        nodes.dedup();
        nodes
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
    /// Unknown references make values known only after apply; the bool says all were known.
    pub fn resolve(&self, i: usize, app: &AppCtx, attrs: &[Option<Attrs>]) -> (Spec, bool) {
        let mut complete = true;
        let mut render = |t: &Template| {
            let r = t.render(|rf| match rf {
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
            complete &= r.is_known();
            r
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
    pub fn output_value(&self, t: &Template, app: &AppCtx, attrs: &[Option<Attrs>]) -> Resolved {
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

    /// The declared kind of `stack.resource`: `bucket`.
    pub fn kind_of(&self, stack: &str, resource: &str) -> Option<&'static str> {
        self.config
            .stack(stack)?
            .resources
            .iter()
            .find(|r| r.name == resource)
            .map(|r| r.spec.kind())
    }
}
