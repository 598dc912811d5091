//! The stack files exactly as written: serde types that mirror the YAML, with source spans.
//!
//! Nothing here is checked beyond shape: unknown keys are refused, and every value that a later
//! check may complain about keeps its line and column (`Spanned`). A resource's own fields are
//! its kind's (`resource::declare`): the file is read once for each resource's kind and the
//! fields every kind shares ([`ResourceHead`]), then each resource's value again as its kind
//! declares it (`read.rs`). `validate.rs` turns these into the model. The JSON Schema for
//! editors is generated from these same types and each kind's.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::resource::role::IamSettings;

/// A string that remembers where it was written.
pub type SString = Spanned<String>;

/// `stackwatch.yaml`: the app, its stage and region, and defaults for every stack.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AppFile {
    /// The app's name, used in every physical name (`{stage}-{app}-…`).
    #[schemars(with = "String", regex(pattern = r"^[A-Za-z][A-Za-z0-9]*$"))]
    pub app: SString,
    /// The default stage (overridden by `--stage`).
    #[schemars(with = "String", regex(pattern = r"^[A-Za-z][A-Za-z0-9]*$"))]
    pub stage: SString,
    /// The AWS region, such as `us-east-1`.
    #[schemars(with = "String")]
    pub region: SString,
    /// Defaults applied to every stack.
    #[serde(default)]
    pub defaults: Defaults,
}

/// Defaults applied to every stack unless a resource says otherwise.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Defaults {
    /// Removal policy for resources that hold data (user pools, buckets). Default `retain`.
    pub removal: Option<Removal>,
    /// The permissions boundary and path of every IAM role stackwatch creates (an `auth`
    /// resource's own `iam` overrides each field).
    #[schemars(with = "Option<IamSettings>")]
    pub iam: Option<Spanned<IamSettings>>,
}

/// What `destroy` (or removing a resource from the files) does with a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Removal {
    /// Leave it in AWS; stackwatch stops managing it.
    Retain,
    /// Delete it.
    Destroy,
}

/// One stack file under `stacks/`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StackFile {
    /// The stack's name, such as `AuthStack`.
    #[schemars(with = "String", regex(pattern = r"^[A-Za-z][A-Za-z0-9]*$"))]
    pub stack: SString,
    /// Stacks whose resources this stack references.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub uses: Vec<SString>,
    /// The stack's resources, by logical name.
    #[serde(default)]
    pub resources: BTreeMap<String, ResourceHead>,
    /// Values printed after deploy, such as `UserPoolId: ${AuthStack.Auth.userPoolId}`.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub outputs: BTreeMap<String, SString>,
}

/// What every resource has, whatever its kind: the kind, `removal` and `adopt`. The rest of
/// its fields are its kind's, read in a second pass (`read.rs`), where unknown keys are refused.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceHead {
    /// The resource kind.
    pub kind: SString,
    /// Removal policy; default `retain` for kinds that hold data, `destroy` for the others.
    pub removal: Option<Spanned<Removal>>,
    /// Take over an existing resource that lacks stackwatch's tags: its physical id, or for a
    /// kind of several parts (`auth`) a map of part to id.
    pub adopt: Option<Spanned<Adopt>>,
}

/// The schema of a resource: one of the declared kinds, each with its own fields and the
/// shared ones (`kind`, `removal`, `adopt`), unknown keys refused.
impl JsonSchema for ResourceHead {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Resource".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let removal = generator.subschema_for::<Removal>();
        let adopt = generator.subschema_for::<Adopt>();
        let kinds: Vec<serde_json::Value> = crate::resource::DECLARED
            .iter()
            .map(|k| {
                let mut schema = (k.schema)(generator);
                let obj = schema.ensure_object();
                obj.insert("description".into(), k.about.into());
                obj.remove("title");
                let props = obj
                    .entry("properties")
                    .or_insert_with(|| serde_json::json!({}));
                if let Some(props) = props.as_object_mut() {
                    props.insert(
                        "kind".into(),
                        serde_json::json!({"description": "The resource kind.", "const": k.name}),
                    );
                    props.insert("removal".into(), removal.clone().into());
                    props.insert("adopt".into(), adopt.clone().into());
                }
                let required = obj
                    .entry("required")
                    .or_insert_with(|| serde_json::json!([]));
                if let Some(r) = required.as_array_mut() {
                    r.insert(0, "kind".into());
                }
                schema.into()
            })
            .collect();
        schemars::json_schema!({ "oneOf": kinds })
    }
}

/// `adopt:` — one physical id, or a map of auth component to physical id.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Adopt {
    /// The physical id of a kind of one part.
    One(String),
    /// For `auth`: `userPool`, `identityPool`, `authenticatedRole`, `unauthenticatedRole`.
    Many(BTreeMap<String, String>),
}
