//! Reading: which files the config directory holds, their YAML, and a digest of them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};

use super::raw;
use super::validate;
use super::{Config, ConfigError, Diagnostic, Loc, whole_file, yaml_message};
use crate::resource::{self, Unchecked};

/// One stack file as read: the shared structure, and each resource's own fields as its kind
/// declares them (a resource of an unknown kind has none).
pub(super) struct StackSource {
    pub path: Arc<Path>,
    pub file: raw::StackFile,
    pub fields: BTreeMap<String, Box<dyn Unchecked>>,
}

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

/// One document to load: where it came from (a file, or an object named like a path) and its
/// text, which should hold a YAML mapping (JSON is YAML too).
#[derive(Debug, Clone)]
pub struct Document {
    pub path: Arc<Path>,
    pub text: String,
}

/// Reads and validates `dir/stackwatch.yaml` and `dir/stacks/*.yaml`. `stage` overrides the file's.
pub fn load(dir: &Path, stage: Option<&str>) -> Result<Config, ConfigError> {
    let mut diags = Vec::new();
    let app_path: Arc<Path> = dir.join("stackwatch.yaml").into();
    let app = read_text(&app_path, &mut diags).map(|text| Document {
        path: app_path,
        text,
    });

    let stacks_dir = dir.join("stacks");
    let mut stacks = Vec::new();
    match std::fs::read_dir(&stacks_dir) {
        Ok(entries) => {
            let mut paths: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| is_stack_file(p))
                .collect();
            paths.sort();
            for p in paths {
                let path: Arc<Path> = p.into();
                if let Some(text) = read_text(&path, &mut diags) {
                    stacks.push(Document { path, text });
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => diags.push(whole_file(
            &stacks_dir,
            format!("cannot read directory: {e}"),
        )),
    }
    validated(dir, app, stacks, stage, diags)
}

/// Validates an app document and its stack documents that came from elsewhere than files (the
/// Kubernetes objects): the same checks, with each diagnostic at its document's line and column.
pub fn from_documents(
    dir: &Path,
    app: Document,
    stacks: Vec<Document>,
    stage: Option<&str>,
) -> Result<Config, ConfigError> {
    let mut diags = Vec::new();
    let app = non_empty(app, &mut diags);
    let stacks = stacks
        .into_iter()
        .filter_map(|d| non_empty(d, &mut diags))
        .collect();
    validated(dir, app, stacks, stage, diags)
}

fn validated(
    dir: &Path,
    app: Option<Document>,
    stacks: Vec<Document>,
    stage: Option<&str>,
    mut diags: Vec<Diagnostic>,
) -> Result<Config, ConfigError> {
    let app_file: Option<raw::AppFile> =
        app.and_then(|d| parsed(&d.path, serde_saphyr::from_str(&d.text), &mut diags));
    let stack_files = stacks
        .into_iter()
        .filter_map(|d| read_stack(d, &mut diags))
        .collect();
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

/// Reads a stack file in two passes: the structure with each resource's kind, then each
/// resource's value again as its kind declares it (unknown keys refused, spans kept).
fn read_stack(doc: Document, diags: &mut Vec<Diagnostic>) -> Option<StackSource> {
    let Document { path, text } = doc;
    let file: raw::StackFile = parsed(&path, serde_saphyr::from_str(&text), diags)?;
    let kinds: BTreeMap<&str, &str> = file
        .resources
        .iter()
        .map(|(name, head)| (name.as_str(), head.kind.value.as_str()))
        .collect();
    let fields = serde_saphyr::with_deserializer_from_str(&text, |de| {
        serde::Deserializer::deserialize_map(de, StackVisitor { kinds: &kinds })
    });
    // On an error, the file's structure and kinds are still checked; its resources are not.
    let fields = match fields {
        Ok(f) => f,
        Err(e) => {
            let (line, col) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
            let kind = kind_at(&file, line);
            diags.push(Diagnostic {
                loc: Loc {
                    file: path.clone(),
                    line,
                    col,
                },
                message: field_message(&e, kind),
            });
            BTreeMap::new()
        }
    };
    Some(StackSource { path, file, fields })
}

/// The kind of the resource declared last before `line`: the one a field error is in.
fn kind_at(file: &raw::StackFile, line: u64) -> Option<&str> {
    file.resources
        .values()
        .filter(|h| h.kind.referenced.line() <= line)
        .max_by_key(|h| h.kind.referenced.line())
        .map(|h| h.kind.value.as_str())
}

/// A field error of the second pass; a field of another kind says which kind it belongs to.
fn field_message(e: &serde_saphyr::Error, kind: Option<&str>) -> String {
    let message = yaml_message(e);
    let text = e.to_string();
    let field = text
        .split_once("unknown field `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(f, _)| f);
    let (Some(field), Some(kind)) = (field, kind) else {
        return message;
    };
    let owners: Vec<&str> = resource::DECLARED
        .iter()
        .filter(|k| k.name != kind && k.fields().iter().any(|f| f == field))
        .map(|k| k.name)
        .collect();
    match owners.as_slice() {
        [] => message,
        owners => format!(
            "`{field}` is not a field of kind `{kind}`; it belongs to kind `{}`",
            owners.join("` or `")
        ),
    }
}

/// The second pass over a stack file: its `resources` map, each value read as its kind.
struct StackVisitor<'a> {
    kinds: &'a BTreeMap<&'a str, &'a str>,
}

impl<'de> Visitor<'de> for StackVisitor<'_> {
    type Value = BTreeMap<String, Box<dyn Unchecked>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a stack file")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == "resources" {
                out = map.next_value_seed(ResourcesSeed { kinds: self.kinds })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(out)
    }
}

/// `resources:`: each value read as the kind the first pass found for its name.
struct ResourcesSeed<'a> {
    kinds: &'a BTreeMap<&'a str, &'a str>,
}

impl<'de> DeserializeSeed<'de> for ResourcesSeed<'_> {
    type Value = BTreeMap<String, Box<dyn Unchecked>>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ResourcesSeed<'_> {
    type Value = BTreeMap<String, Box<dyn Unchecked>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of resources")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(name) = map.next_key::<String>()? {
            let kind = self.kinds.get(name.as_str()).copied().unwrap_or("");
            if let Some(fields) = map.next_value_seed(KindSeed(kind))? {
                out.insert(name, fields);
            }
        }
        Ok(out)
    }
}

/// One resource's value, read as `kind` declares its fields.
struct KindSeed<'a>(&'a str);

impl<'de> DeserializeSeed<'de> for KindSeed<'_> {
    type Value = Option<Box<dyn Unchecked>>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        resource::read_declared(self.0, d)
    }
}

/// The text of a file that should hold a YAML mapping, or why not.
fn read_text(path: &Arc<Path>, diags: &mut Vec<Diagnostic>) -> Option<String> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            diags.push(whole_file(path, format!("cannot read file: {e}")));
            return None;
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let bytes = e.into_bytes();
            let valid = std::str::from_utf8(&bytes).map_or_else(|e| e.valid_up_to(), |_| 0);
            let good = &bytes[..valid];
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
                    bytes[valid]
                ),
            });
            return None;
        }
    };
    non_empty(
        Document {
            path: path.clone(),
            text,
        },
        diags,
    )
    .map(|d| d.text)
}

/// The document, unless it holds nothing but blank lines and comments (then why not).
fn non_empty(doc: Document, diags: &mut Vec<Diagnostic>) -> Option<Document> {
    if doc
        .text
        .trim()
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        diags.push(Diagnostic {
            loc: Loc {
                file: doc.path.clone(),
                line: 1,
                col: 1,
            },
            message: "expected a YAML mapping, found an empty file".into(),
        });
        return None;
    }
    Some(doc)
}

/// A parse's value, or its error recorded with line and column.
fn parsed<T>(
    path: &Arc<Path>,
    result: Result<T, serde_saphyr::Error>,
    diags: &mut Vec<Diagnostic>,
) -> Option<T> {
    match result {
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
