//! Reading: which files the config directory holds, their YAML, and a digest of them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::raw;
use super::validate;
use super::{Config, ConfigError, Diagnostic, Loc, whole_file, yaml_message};

/// A digest of exactly the files [`load`] reads (`stackwatch.yaml` and the stack files, by
/// relative path and content; a missing or unreadable file counts as absent): SHA-256 in hex.
/// The daemon reports the digest of the files each reconcile read, so anyone can tell which
/// version of the files is deployed.
pub fn digest(dir: &Path) -> String {
    use sha2::{Digest, Sha256};
    let mut files = vec![(
        PathBuf::from("stackwatch.yaml"),
        dir.join("stackwatch.yaml"),
    )];
    if let Ok(entries) = std::fs::read_dir(dir.join("stacks")) {
        let mut stacks: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| is_stack_file(p))
            .collect();
        stacks.sort();
        files.extend(stacks.into_iter().map(|p| {
            let rel = Path::new("stacks").join(p.file_name().unwrap_or_default());
            (rel, p)
        }));
    }
    let mut h = Sha256::new();
    for (rel, path) in files {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let rel = rel.to_string_lossy();
        h.update((rel.len() as u64).to_le_bytes());
        h.update(rel.as_bytes());
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads and validates `dir/stackwatch.yaml` and `dir/stacks/*.yaml`. `stage` overrides the file's.
pub fn load(dir: &Path, stage: Option<&str>) -> Result<Config, ConfigError> {
    let mut diags = Vec::new();
    let app_path: Arc<Path> = dir.join("stackwatch.yaml").into();
    let app_file: Option<raw::AppFile> = read_yaml(&app_path, &mut diags);

    let stacks_dir = dir.join("stacks");
    let mut stack_files = Vec::new();
    match std::fs::read_dir(&stacks_dir) {
        Ok(entries) => {
            let mut paths: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| is_stack_file(p))
                .collect();
            paths.sort();
            for p in paths {
                let p: Arc<Path> = p.into();
                if let Some(s) = read_yaml::<raw::StackFile>(&p, &mut diags) {
                    stack_files.push((p, s));
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => diags.push(whole_file(
            &stacks_dir,
            format!("cannot read directory: {e}"),
        )),
    }

    let Some(app_file) = app_file else {
        return Err(ConfigError(diags));
    };
    validate::validate(dir, app_file, stack_files, stage, diags)
}

/// A stack file is `*.yaml` or `*.yml`, not hidden (editors' swap and backup files are not).
pub fn is_stack_file(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    !name.starts_with('.') && (name.ends_with(".yaml") || name.ends_with(".yml"))
}

/// Reads one YAML file into `T`, or records why not (with line and column) and returns None.
fn read_yaml<T: serde::de::DeserializeOwned>(
    path: &Arc<Path>,
    diags: &mut Vec<Diagnostic>,
) -> Option<T> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            diags.push(whole_file(path, format!("cannot read file: {e}")));
            return None;
        }
    };
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => t,
        Err(e) => {
            let good = &bytes[..e.valid_up_to()];
            let line = good.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
            let line_start = good.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let col = String::from_utf8_lossy(&good[line_start..]).chars().count() as u64 + 1;
            diags.push(Diagnostic {
                loc: Loc {
                    file: path.clone(),
                    line,
                    col,
                },
                message: format!(
                    "expected UTF-8 text, found the invalid byte 0x{:02x}",
                    bytes[e.valid_up_to()]
                ),
            });
            return None;
        }
    };
    if text
        .trim()
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        diags.push(Diagnostic {
            loc: Loc {
                file: path.clone(),
                line: 1,
                col: 1,
            },
            message: "expected a YAML mapping, found an empty file".into(),
        });
        return None;
    }
    match serde_saphyr::from_str::<T>(text) {
        Ok(v) => Some(v),
        Err(e) => {
            let (line, col) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
            diags.push(Diagnostic {
                loc: Loc {
                    file: path.clone(),
                    line,
                    col,
                },
                message: yaml_message(&e),
            });
            None
        }
    }
}
