//! `stackwatch init`'s starting app: the serverless guide's notes app (storage, API and auth
//! stacks) as the files in `config/` hold it, embedded so the two cannot drift, with the JSON
//! Schemas its `$schema` comments point at. Written only into an empty or new directory.

use std::path::{Path, PathBuf};

/// The files `init` writes, relative to the directory, and their text.
pub const FILES: [(&str, &str); 6] = [
    ("stackwatch.yaml", include_str!("../config/stackwatch.yaml")),
    (
        "stacks/storage.yaml",
        include_str!("../config/stacks/storage.yaml"),
    ),
    ("stacks/api.yaml", include_str!("../config/stacks/api.yaml")),
    (
        "stacks/auth.yaml",
        include_str!("../config/stacks/auth.yaml"),
    ),
    (
        "schema/stackwatch.schema.json",
        include_str!("../config/schema/stackwatch.schema.json"),
    ),
    (
        "schema/stack.schema.json",
        include_str!("../config/schema/stack.schema.json"),
    ),
];

/// Why `init` wrote nothing, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("{0} already exists; stackwatch init never overwrites a file")]
    Exists(PathBuf),
    #[error(
        "{0} is not empty; stackwatch init writes only into an empty or new directory \
         (choose another, such as `stackwatch init notes`)"
    )]
    NotEmpty(PathBuf),
    #[error("{what} {path}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Writes [`FILES`] into `dir` (created if missing); the paths written, in order. When any of
/// them exists or `dir` holds anything, refuses before writing anything.
pub fn write(dir: &Path) -> Result<Vec<PathBuf>, InitError> {
    let targets: Vec<PathBuf> = FILES.iter().map(|(rel, _)| dir.join(rel)).collect();
    if let Some(existing) = targets.iter().find(|p| p.exists()) {
        return Err(InitError::Exists(existing.clone()));
    }
    let io = |what, path: &Path| {
        let path = path.to_path_buf();
        move |source| InitError::Io { what, path, source }
    };
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(io("reading", dir))?;
        if entries.next().is_some() {
            return Err(InitError::NotEmpty(dir.to_path_buf()));
        }
    }
    for (path, (_, text)) in targets.iter().zip(FILES) {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io("creating", parent))?;
        }
        std::fs::write(path, text).map_err(io("writing", path))?;
    }
    Ok(targets)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file under `dir` with its text, sorted.
    fn tree(dir: &Path) -> Vec<(PathBuf, String)> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                out.extend(tree(&path));
            } else {
                out.push((path.clone(), std::fs::read_to_string(&path).unwrap()));
            }
        }
        out.sort();
        out
    }

    #[test]
    fn writes_the_example_app_into_a_new_directory_and_never_over_it() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("notes");
        let written = write(&dir).unwrap();
        assert_eq!(written.len(), FILES.len());
        let auth = std::fs::read_to_string(dir.join("stacks/auth.yaml")).unwrap();
        assert!(auth.starts_with("# yaml-language-server: $schema=../schema/stack.schema.json"));
        assert!(auth.contains("stack: AuthStack"));
        assert!(dir.join("schema/stack.schema.json").is_file());
        let before = tree(&dir);
        assert_eq!(before.len(), FILES.len());

        // A second run refuses, naming the file, and changes nothing.
        match write(&dir) {
            Err(InitError::Exists(path)) => assert_eq!(path, dir.join("stackwatch.yaml")),
            other => panic!("{other:?}"),
        }
        assert_eq!(tree(&dir), before);
    }

    #[test]
    fn a_directory_holding_anything_else_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
        let err = write(dir.path()).unwrap_err();
        assert!(
            matches!(&err, InitError::NotEmpty(p) if p == dir.path()),
            "{err:?}"
        );
        assert!(err.to_string().contains(&dir.path().display().to_string()));
        assert_eq!(tree(dir.path()).len(), 1);
        // An empty one is fine.
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(write(empty.path()).unwrap().len(), FILES.len());
    }
}
