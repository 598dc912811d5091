//! The config side of a kind: what a stack file may declare as `kind: NAME`.
//!
//! Each kind's file declares its YAML fields with [`kind_fields!`] (spans kept, unknown keys
//! refused), checks them into its spec, lists its attributes and adopt keys, and expands the
//! spec into primitive nodes. The config loader keeps the shared parts (the file structure,
//! `uses`, references, `removal`, `adopt`) and reaches a kind only through [`Check`]; the
//! desired graph reaches it only through [`Expand`]. Neither names a kind.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::DeserializeOwned;
use serde_saphyr::Location;

use super::Def;
use super::naming::NameRule;
use crate::source::template::{Part, Ref, Template};
use crate::source::{Diagnostic, Loc};

/// A kind a stack file can declare. One implementation per kind, in the kind's own file; one
/// line in the registry makes the config loader, the schema and expansion know it.
pub trait ConfigKind: 'static {
    /// As written in the files: `kind: queue`.
    const NAME: &'static str;
    /// One line for the JSON Schema: what it is.
    const ABOUT: &'static str;
    /// What it exports to `${Stack.Resource.attribute}`.
    const ATTRIBUTES: &'static [&'static str];
    /// Whether it holds data: then `removal` defaults to the app's default (else `retain`); a
    /// kind that holds none defaults to `destroy`.
    const HOLDS_DATA: bool;
    /// `adopt:` takes one physical id (`None`), or a map with these keys.
    const ADOPT_KEYS: Option<&'static [&'static str]> = None;
    /// Its YAML fields, declared with [`kind_fields!`].
    type Fields: DeserializeOwned + JsonSchema + Send + 'static;
    /// The checked fields.
    type Spec: fmt::Debug + Clone + Send + Sync + 'static;

    /// Checks the fields, reporting every problem to `cx`; the spec is used only when none was
    /// reported.
    fn check(fields: Self::Fields, cx: &mut dyn Check) -> Self::Spec;
    /// The spec's primitive nodes.
    fn expand(spec: &Self::Spec, b: &mut dyn Expand);
}

/// What the config loader and the schema know of a declared kind, from its [`ConfigKind`].
#[derive(Debug)]
pub struct KindInfo {
    pub name: &'static str,
    pub about: &'static str,
    pub attributes: &'static [&'static str],
    pub holds_data: bool,
    pub adopt_keys: Option<&'static [&'static str]>,
    /// The JSON Schema of its own fields (an object; `kind`, `removal` and `adopt` are added
    /// by the config's schema).
    pub schema: fn(&mut SchemaGenerator) -> Schema,
}

impl KindInfo {
    pub const fn of<K: ConfigKind>() -> KindInfo {
        KindInfo {
            name: K::NAME,
            about: K::ABOUT,
            attributes: K::ATTRIBUTES,
            holds_data: K::HOLDS_DATA,
            adopt_keys: K::ADOPT_KEYS,
            schema: <K::Fields as JsonSchema>::json_schema,
        }
    }

    /// Its own field names as written (camelCase), for "belongs to kind" messages.
    pub fn fields(&self) -> Vec<String> {
        let schema = (self.schema)(&mut SchemaGenerator::default());
        schema
            .get("properties")
            .and_then(|p| p.as_object())
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }
}

/// What a kind's check asks of the config loader.
pub trait Check {
    /// The file, line and column of a span in the file being checked.
    fn loc(&self, at: &Location) -> Loc;
    /// Where the resource is declared (its `kind:`).
    fn here(&self) -> Loc;
    /// Reports a problem.
    fn err(&mut self, loc: Loc, message: String);
    /// Parses a string holding `${…}` references and checks each (stack used, resource and
    /// attribute exist); `None` after reporting what is wrong.
    fn template(&mut self, loc: &Loc, text: &str) -> Option<Template>;
    /// The declared kind of `stack.resource` (`queue`), for a field that must refer to a
    /// resource of one kind.
    fn kind_of(&self, stack: &str, resource: &str) -> Option<&'static str>;
    /// The app file's `defaults`, for a kind that takes one (`defaults.iam`).
    fn defaults(&self) -> &Defaults;
}

/// The app file's defaults that kinds read, checked.
#[derive(Debug, Clone, Default)]
pub struct Defaults {
    pub iam: super::role::RoleIam,
}

impl dyn Check + '_ {
    /// Reports a problem at a span of the file.
    pub fn err_at(&mut self, at: &Location, message: impl Into<String>) {
        let loc = self.loc(at);
        self.err(loc, message.into());
    }
}

/// The names a kind derives physical names from.
#[derive(Debug, Clone, Copy)]
pub struct Names<'a> {
    pub app: &'a str,
    pub stage: &'a str,
    pub region: &'a str,
    pub stack: &'a str,
    pub resource: &'a str,
}

impl Names<'_> {
    /// `{stage}-{app}-{stack}-{resource}`: the physical name of a kind of one node (before it
    /// is fitted to the kind's rule). The IAM policy's resource patterns rely on its head.
    pub fn qualified(&self) -> String {
        let Names {
            stage,
            app,
            stack,
            resource,
            ..
        } = *self;
        format!("{stage}-{app}-{stack}-{resource}")
    }
}

/// One primitive node of a declared resource.
pub struct NodeDef<'a> {
    /// The part of a composite (`UserPool` of an `auth`); `None` for a kind of one node.
    pub component: Option<String>,
    pub def: Def,
    /// The resource's attributes this node exports: (attribute, the node's attribute).
    pub exports: &'a [(&'static str, &'static str)],
    /// The `adopt:` key that names this node (`id` for a kind adopted by one id).
    pub adopt_key: Option<&'static str>,
}

/// What expansion offers a kind: the names, the place of the resource, and the nodes.
pub trait Expand {
    fn names(&self) -> Names<'_>;
    /// Where the resource is declared.
    fn here(&self) -> Loc;
    /// Reports a problem.
    fn diag(&mut self, d: Diagnostic);
    /// Adds one node.
    fn push(&mut self, node: NodeDef<'_>);
}

impl dyn Expand + '_ {
    /// A derived physical name fitted to its kind's rule (shortened with a hash when too
    /// long); what shortening cannot fix is reported at the resource.
    pub fn fit(&mut self, rule: &NameRule, derived: String) -> String {
        let name = rule.fit(&derived, 0);
        if let Err(message) = rule.check(&name) {
            let loc = self.here();
            self.diag(Diagnostic { loc, message });
        }
        name
    }

    /// The one node of a kind of one node (a bucket, a table): adopted by `adopt: <id>`.
    pub fn push_one(&mut self, def: Def, exports: &[(&'static str, &'static str)]) {
        self.push(NodeDef {
            component: None,
            def,
            exports,
            adopt_key: Some("id"),
        });
    }

    /// A reference to this resource's `attr`, as the parts of a composite refer to each other.
    pub fn own(&self, attr: &str) -> Template {
        let n = self.names();
        Template {
            parts: vec![Part::Ref(Ref::Attr {
                stack: n.stack.into(),
                resource: n.resource.into(),
                attr: attr.into(),
            })],
        }
    }
}

/// A declared resource's checked fields, of whichever kind.
#[derive(Clone)]
pub struct Declared {
    kind: &'static str,
    spec: Arc<dyn Any + Send + Sync>,
    expand: fn(&(dyn Any + Send + Sync), &mut dyn Expand),
    debug: fn(&(dyn Any + Send + Sync), &mut fmt::Formatter<'_>) -> fmt::Result,
}

impl Declared {
    pub fn new<K: ConfigKind>(spec: K::Spec) -> Declared {
        Declared {
            kind: K::NAME,
            spec: Arc::new(spec),
            expand: |s, b| {
                if let Some(s) = s.downcast_ref::<K::Spec>() {
                    K::expand(s, b);
                }
            },
            debug: |s, f| match s.downcast_ref::<K::Spec>() {
                Some(s) => fmt::Debug::fmt(s, f),
                None => f.write_str("?"),
            },
        }
    }

    /// The kind as written: `queue`.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The spec, when it is of kind `K`.
    pub fn get<K: ConfigKind>(&self) -> Option<&K::Spec> {
        self.spec.downcast_ref::<K::Spec>()
    }

    /// Its primitive nodes.
    pub fn expand(&self, b: &mut dyn Expand) {
        (self.expand)(self.spec.as_ref(), b)
    }
}

impl fmt::Debug for Declared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.kind)?;
        (self.debug)(self.spec.as_ref(), f)
    }
}

/// A resource's fields as read, not yet checked, of whichever kind.
pub trait Unchecked: Send {
    fn check(self: Box<Self>, cx: &mut dyn Check) -> Declared;
}

/// The fields of kind `K`, as read.
pub struct Read<K: ConfigKind>(pub K::Fields);

impl<K: ConfigKind> Unchecked for Read<K> {
    fn check(self: Box<Self>, cx: &mut dyn Check) -> Declared {
        Declared::new::<K>(K::check(self.0, cx))
    }
}

/// Declares a kind's YAML fields: a struct that serde reads with unknown keys refused and that
/// the JSON Schema is generated from. The fields every kind shares (`kind`, `removal`,
/// `adopt`) are added here, read by the config loader, and skipped by the kind.
#[macro_export]
macro_rules! kind_fields {
    ($(#[$meta:meta])* $vis:vis struct $name:ident { $($body:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
        #[serde(deny_unknown_fields, rename_all = "camelCase")]
        $vis struct $name {
            #[serde(rename = "kind")]
            #[schemars(skip)]
            #[allow(dead_code)]
            _kind: Option<serde::de::IgnoredAny>,
            #[serde(rename = "removal")]
            #[schemars(skip)]
            #[allow(dead_code)]
            _removal: Option<serde::de::IgnoredAny>,
            #[serde(rename = "adopt")]
            #[schemars(skip)]
            #[allow(dead_code)]
            _adopt: Option<serde::de::IgnoredAny>,
            $($body)*
        }
    };
}
