//! The validated model: what the files ask for, references checked, stacks in `uses` order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::Loc;
use super::raw::Removal;
use super::template::Template;
use crate::resource::Declared;

/// The validated config: what the user asked for, references checked, stacks in `uses` order.
#[derive(Debug, Clone)]
pub struct Config {
    pub dir: PathBuf,
    pub app: String,
    pub stage: String,
    pub region: String,
    /// Stacks ordered so that every stack comes after the stacks it uses.
    pub stacks: Vec<Stack>,
}

#[derive(Debug, Clone)]
pub struct Stack {
    pub name: String,
    pub file: Arc<Path>,
    pub uses: Vec<String>,
    /// Where each `uses` entry was written, for cycle errors.
    pub uses_at: Vec<Loc>,
    pub resources: Vec<Resource>,
    pub outputs: Vec<Output>,
}

#[derive(Debug, Clone)]
pub struct Output {
    pub name: String,
    pub value: Template,
    pub loc: Loc,
}

#[derive(Debug, Clone)]
pub struct Resource {
    pub stack: String,
    pub name: String,
    pub loc: Loc,
    pub removal: Removal,
    pub adopt: BTreeMap<String, String>,
    /// Its own fields, checked by its kind.
    pub spec: Declared,
}

impl Resource {
    /// Its kind as written: `auth`.
    pub fn kind(&self) -> &'static str {
        self.spec.kind()
    }
}

impl Config {
    pub fn stack(&self, name: &str) -> Option<&Stack> {
        self.stacks.iter().find(|s| s.name == name)
    }

    /// Stack name as deployed: `{stage}-{app}-{Stack}`.
    pub fn stack_full_name(&self, stack: &str) -> String {
        format!("{}-{}-{}", self.stage, self.app, stack)
    }
}
