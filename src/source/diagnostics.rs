//! Diagnostics: where something was written (file, line, column) and what was expected there.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// Where something was written: file, line and column (1-based; 0 when unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loc {
    pub file: Arc<Path>,
    pub line: u64,
    pub col: u64,
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.file.display())
        } else {
            write!(f, "{}:{}:{}", self.file.display(), self.line, self.col)
        }
    }
}

/// One problem in the config, at a place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub loc: Loc,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.loc, self.message)
    }
}

/// Every problem found while loading the config.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ConfigError(pub Vec<Diagnostic>);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid config ({} problem", self.0.len())?;
        if self.0.len() != 1 {
            write!(f, "s")?;
        }
        write!(f, ")")?;
        for d in &self.0 {
            write!(f, "\n  {d}")?;
        }
        Ok(())
    }
}

/// A problem with a whole file or directory (no line or column).
pub fn whole_file(path: &Path, message: String) -> Diagnostic {
    Diagnostic {
        loc: Loc {
            file: path.into(),
            line: 0,
            col: 0,
        },
        message,
    }
}

pub fn at(file: &Arc<Path>, l: &serde_saphyr::Location) -> Loc {
    Loc {
        file: file.clone(),
        line: l.line(),
        col: l.column(),
    }
}

/// serde-saphyr's message without its source snippet and location suffix (we print our own).
pub fn yaml_message(e: &serde_saphyr::Error) -> String {
    let plain = e.without_snippet().to_string();
    let first = plain.lines().next().unwrap_or("invalid YAML").trim();
    match first.find(" at line ") {
        Some(i) => first[..i].to_string(),
        None => first.to_string(),
    }
}
