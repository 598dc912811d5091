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
