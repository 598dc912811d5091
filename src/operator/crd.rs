//! The custom resources of group `stackwatch.dev`, version `v1alpha1`: a namespace is a config
//! directory. `App` (one per namespace) holds what `stackwatch.yaml` holds, plus `approval`;
//! each `Stack` holds exactly a stack file. Their CRDs' schemas are generated from the same
//! config types as the JSON Schemas in `config/schema/` (see [`super::schema`]), so the three
//! cannot disagree; `deploy/k8s/crds/` holds the generated files (a test keeps them equal).

use std::collections::BTreeMap;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, JSONSchemaProps,
};
use kube::{CustomResource, CustomResourceExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::schema::structural;
use crate::config::raw::{AppFile, StackFile};

pub const GROUP: &str = "stackwatch.dev";
pub const VERSION: &str = "v1alpha1";

/// A stack file as a `Stack` object's spec: `stack`, `uses`, `resources`, `outputs`. Kept as
/// the JSON the API server holds; the daemon reads it with the config loader's own checks.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "stackwatch.dev",
    version = "v1alpha1",
    kind = "Stack",
    namespaced,
    status = "StackStatus",
    schema = "disabled",
    shortname = "sws",
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Synced","type":"string","jsonPath":".status.conditions[?(@.type==\"Synced\")].status"}"#,
    printcolumn = r#"{"name":"Drift","type":"string","jsonPath":".status.conditions[?(@.type==\"Drifted\")].status"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(transparent)]
pub struct StackSpec(pub Value);

/// `stackwatch.yaml` as an `App` object's spec, plus `approval: auto | manual`.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "stackwatch.dev",
    version = "v1alpha1",
    kind = "App",
    namespaced,
    status = "AppStatus",
    schema = "disabled",
    printcolumn = r#"{"name":"Approval","type":"string","jsonPath":".spec.approval"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(transparent)]
pub struct AppSpec(pub Value);

/// One condition, as Kubernetes objects carry them.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// `Ready`, `Synced` or `Drifted`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// One word: `Deployed`, `InvalidSpec`, `ApplyFailed`, `Held`, …
    pub reason: String,
    pub message: String,
    /// RFC 3339.
    pub last_transition_time: String,
    pub observed_generation: Option<i64>,
}

/// One resource of a stack, as the plan sees it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceState {
    /// The logical id: `AuthStack.Auth.UserPool`.
    pub name: String,
    /// `Cognito user pool`.
    pub kind: String,
    /// The physical id, once known.
    pub id: String,
    /// `nochange`, `create`, `update`, `replace`, `delete` or `blocked`.
    pub state: String,
}

/// A plan that waits for `stackwatch.dev/approve=<hash>` (with `approval: manual`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PendingPlan {
    /// `2 to create, 1 to update`.
    pub summary: String,
    /// The plan as the terminal shows it.
    pub text: String,
    /// What the annotation must name to apply exactly this plan.
    pub hash: String,
}

/// What every object's status has: the generation it is about, its conditions, and (with
/// manual approval) the plan that waits.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObjectStatus {
    /// The spec generation this status is about.
    pub observed_generation: Option<i64>,
    #[serde(default)]
    pub conditions: Vec<Condition>,
    pub pending_plan: Option<PendingPlan>,
}

/// What the daemon last found for the `App`.
pub type AppStatus = ObjectStatus;

/// What the daemon last found for a `Stack`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StackStatus {
    #[serde(flatten)]
    pub object: ObjectStatus,
    #[serde(default)]
    pub resources: Vec<ResourceState>,
    /// The stack's outputs (also in the ConfigMap `<name>-outputs`).
    #[serde(default)]
    pub outputs: BTreeMap<String, String>,
    /// The stacks that `uses` this one: while any exists, deleting it is held.
    #[serde(default)]
    pub used_by: Vec<String>,
}

/// The Stack CRD, its schemas generated from the stack file's types and [`StackStatus`].
pub fn stack_crd() -> CustomResourceDefinition {
    let spec = schemars::schema_for!(StackFile).to_value();
    let status = schemars::schema_for!(StackStatus).to_value();
    with_schema(Stack::crd(), structural(&spec), structural(&status))
}

/// The App CRD, its spec's schema generated from `stackwatch.yaml`'s types plus `approval`.
pub fn app_crd() -> CustomResourceDefinition {
    let mut spec = structural(&schemars::schema_for!(AppFile).to_value());
    spec["properties"]["approval"] = json!({
        "description": "`auto`: every plan is applied; `manual`: a plan is applied once \
                        annotated `stackwatch.dev/approve=<its hash>`. Default `auto`.",
        "type": "string",
        "enum": ["auto", "manual"],
    });
    let status = structural(&schemars::schema_for!(AppStatus).to_value());
    with_schema(App::crd(), spec, status)
}

/// The CRD with `spec` and `status` as its only version's schema.
fn with_schema(
    mut crd: CustomResourceDefinition,
    spec: Value,
    status: Value,
) -> CustomResourceDefinition {
    let schema = json!({
        "type": "object",
        "properties": {"spec": spec, "status": status},
        "required": ["spec"],
    });
    if let (Some(v), Ok(props)) = (
        crd.spec.versions.first_mut(),
        serde_json::from_value::<JSONSchemaProps>(schema),
    ) {
        v.schema = Some(k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceValidation {
            open_api_v3_schema: Some(props),
        });
    }
    crd
}

/// The object name of a stack: its name lowercased, DNS-safe (stack names are letters and
/// digits): `AuthStack` → `authstack`.
pub fn object_name(stack: &str) -> String {
    stack.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_objects_are_named_by_their_stack_lowercased() {
        assert_eq!(object_name("AuthStack"), "authstack");
    }

    #[test]
    fn the_stack_crd_is_structural_with_a_status_subresource() {
        let crd = stack_crd();
        assert_eq!(crd.metadata.name.as_deref(), Some("stacks.stackwatch.dev"));
        let v = &crd.spec.versions[0];
        assert!(
            v.subresources
                .as_ref()
                .and_then(|s| s.status.as_ref())
                .is_some()
        );
        let schema = serde_json::to_value(v.schema.as_ref().unwrap()).unwrap();
        let text = schema.to_string();
        for forbidden in ["$ref", "oneOf", "anyOf", "\"const\"", "\"null\""] {
            assert!(!text.contains(forbidden), "{forbidden} in {text}");
        }
        let resource = &schema["openAPIV3Schema"]["properties"]["spec"]["properties"]["resources"]
            ["additionalProperties"];
        let kinds = resource["properties"]["kind"]["enum"].as_array().unwrap();
        assert!(kinds.contains(&json!("auth")) && kinds.contains(&json!("queue")));
        assert_eq!(resource["properties"]["login"]["type"], "array");
        let columns: Vec<&str> = v
            .additional_printer_columns
            .iter()
            .flatten()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(columns, ["Ready", "Synced", "Drift", "Age"]);
    }
}
