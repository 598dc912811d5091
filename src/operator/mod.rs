//! The operator's side of the Kubernetes API: the `App` and `Stack` custom resources of group
//! `stackwatch.dev` ([`crd`]), their CRDs' structural schemas generated from the config types
//! ([`schema`]), and the export of a config directory as those objects.

pub mod crd;
pub mod document;
pub mod schema;
pub mod store;

use std::path::Path;

use serde_json::{Value, json};

use crate::config::{self, ConfigError};
use crate::source::{Diagnostic, whole_file, yaml_message};

/// The CRDs, as `deploy/k8s/crds/` holds them: one YAML document each.
pub fn crds_yaml() -> String {
    [
        serde_json::to_value(crd::app_crd()),
        serde_json::to_value(crd::stack_crd()),
    ]
    .into_iter()
    .filter_map(Result::ok)
    .map(|v| yaml(&v))
    .collect::<Vec<_>>()
    .join("---\n")
}

/// How an exported `App` approves plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    Auto,
    Manual,
}

/// A config directory as the objects `kubectl apply -f -` takes: its `App` and one `Stack`
/// per stack file, in `namespace` (none: the kubeconfig's). Only a config that validates is
/// exported; the specs are the files' own values, keys and all.
pub fn export(
    dir: &Path,
    namespace: Option<&str>,
    approval: Approval,
) -> Result<String, ConfigError> {
    let config = config::load(dir, None)?;
    let mut app = read_value(&dir.join("stackwatch.yaml"))?;
    app["approval"] = json!(match approval {
        Approval::Auto => "auto",
        Approval::Manual => "manual",
    });
    let mut docs = vec![object(
        "App",
        &config.app.to_ascii_lowercase(),
        namespace,
        app,
    )];
    for stack in &config.stacks {
        let spec = read_value(&stack.file)?;
        docs.push(object(
            "Stack",
            &crd::object_name(&stack.name),
            namespace,
            spec,
        ));
    }
    Ok(docs.iter().map(yaml).collect::<Vec<_>>().join("---\n"))
}

fn object(kind: &str, name: &str, namespace: Option<&str>, spec: Value) -> Value {
    let mut metadata = json!({"name": name});
    if let Some(ns) = namespace {
        metadata["namespace"] = json!(ns);
    }
    json!({
        "apiVersion": format!("{}/{}", crd::GROUP, crd::VERSION),
        "kind": kind,
        "metadata": metadata,
        "spec": spec,
    })
}

/// A YAML file's value as JSON (the file validated already).
fn read_value(path: &Path) -> Result<Value, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(vec![whole_file(path, format!("cannot read file: {e}"))]))?;
    serde_saphyr::from_str(&text).map_err(|e| {
        let Diagnostic { loc, .. } = whole_file(path, String::new());
        ConfigError(vec![Diagnostic {
            loc,
            message: yaml_message(&e),
        }])
    })
}

fn yaml(v: &Value) -> String {
    serde_saphyr::to_string(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checked-in CRDs in deploy/k8s/crds/ must be what the code generates.
    #[test]
    fn checked_in_crds_match_the_types() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/k8s/crds/crds.yaml");
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == crds_yaml(),
            "stale: run `stackwatch export --crds > deploy/k8s/crds/crds.yaml`"
        );
    }

    #[test]
    fn the_example_app_exports_as_an_app_and_a_stack_per_file() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let text = export(&dir, Some("notes"), Approval::Manual).unwrap();
        let docs: Vec<Value> = text
            .split("---\n")
            .map(|d| serde_saphyr::from_str(d).unwrap())
            .collect();
        let kinds: Vec<(&str, &str)> = docs
            .iter()
            .map(|d| {
                (
                    d["kind"].as_str().unwrap(),
                    d["metadata"]["name"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            kinds,
            [
                ("App", "notes"),
                ("Stack", "apistack"),
                ("Stack", "storagestack"),
                ("Stack", "authstack")
            ]
        );
        assert_eq!(docs[0]["spec"]["approval"], "manual");
        assert_eq!(docs[3]["metadata"]["namespace"], "notes");
        assert_eq!(docs[3]["spec"]["stack"], "AuthStack");
        assert_eq!(docs[3]["spec"]["resources"]["Auth"]["kind"], "auth");
    }
}
