//! Stack outputs on disk: `.stackwatch/outputs.json`, rewritten after every successful deploy.

use std::collections::BTreeMap;
use std::path::Path;

/// Outputs by full stack name, then output name.
pub type Outputs = BTreeMap<String, BTreeMap<String, String>>;

/// Writes `dir/outputs.json` atomically (temp file, then rename).
pub fn write(dir: &Path, outputs: &Outputs) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("outputs.json");
    let tmp = dir.join(".outputs.json.tmp");
    let text = serde_json::to_string_pretty(outputs).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, text + "\n")?;
    std::fs::rename(&tmp, &path)
}

/// Reads `dir/outputs.json`.
pub fn read(dir: &Path) -> std::io::Result<Outputs> {
    let text = std::fs::read_to_string(dir.join("outputs.json"))?;
    serde_json::from_str(&text).map_err(std::io::Error::other)
}
