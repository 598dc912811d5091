//! The JSON Schema of the config files, generated from the serde types in `config::raw` so it
//! cannot drift. `stackwatch schema` prints it; `config/schema/` holds the checked-in copies.

use crate::config::raw::{AppFile, StackFile};

/// JSON Schema for `stacks/*.yaml`.
pub fn stack_file() -> String {
    serde_json::to_string_pretty(&schemars::schema_for!(StackFile)).unwrap_or_default() + "\n"
}

/// JSON Schema for `stackwatch.yaml`.
pub fn app_file() -> String {
    serde_json::to_string_pretty(&schemars::schema_for!(AppFile)).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    /// The checked-in schemas in config/schema/ must match the config types.
    #[test]
    fn checked_in_schemas_match_the_types() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/schema");
        let stack = std::fs::read_to_string(dir.join("stack.schema.json")).unwrap_or_default();
        let app = std::fs::read_to_string(dir.join("stackwatch.schema.json")).unwrap_or_default();
        assert!(
            stack == super::stack_file(),
            "stale: run `stackwatch schema > config/schema/stack.schema.json`"
        );
        assert!(
            app == super::app_file(),
            "stale: run `stackwatch schema --app > config/schema/stackwatch.schema.json`"
        );
    }
}
