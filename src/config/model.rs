//! The validated model: what the files ask for, references checked, stacks in `uses` order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::Loc;
use super::raw::{Authorizer, CorsRule, Effect, Kind, Removal};
use super::template::Template;

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
    pub spec: ResourceSpec,
}

impl ResourceSpec {
    pub fn kind(&self) -> Kind {
        match self {
            ResourceSpec::Bucket { .. } => Kind::Bucket,
            ResourceSpec::Api { .. } => Kind::Api,
            ResourceSpec::Auth { .. } => Kind::Auth,
            ResourceSpec::Table { .. } => Kind::Table,
        }
    }
}

#[derive(Debug, Clone)]
pub enum ResourceSpec {
    Bucket {
        cors: Vec<CorsRule>,
    },
    Api {
        authorizer: Authorizer,
        routes: Vec<Route>,
    },
    Auth {
        login: Vec<String>,
        allow_unauthenticated: bool,
        authenticated: Vec<Statement>,
        unauthenticated: Vec<Statement>,
        /// Test users, in every stage they were declared for (filtered by stage later).
        users: Vec<TestUser>,
        /// The boundary and path its roles carry.
        iam: RoleIam,
    },
    Table {
        partition_key: TableKey,
        sort_key: Option<TableKey>,
        billing: Billing,
        point_in_time_recovery: bool,
        ttl_attribute: Option<String>,
        /// The stream's view type as DynamoDB spells it (`NEW_AND_OLD_IMAGES`).
        stream: Option<String>,
    },
}

/// The permissions boundary and path of an `auth` resource's roles (`defaults.iam`, each field
/// overridden by the resource's own `iam`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleIam {
    pub permissions_boundary: Option<String>,
    pub path: String,
}

/// The path of stackwatch's roles unless `iam.path` says otherwise.
pub const DEFAULT_ROLE_PATH: &str = "/stackwatch/";

impl Default for RoleIam {
    fn default() -> RoleIam {
        RoleIam {
            permissions_boundary: None,
            path: DEFAULT_ROLE_PATH.to_string(),
        }
    }
}

/// A table key: attribute name and DynamoDB type (`S`, `N` or `B`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableKey {
    pub name: String,
    pub kind: String,
}

/// How a table is billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Billing {
    OnDemand,
    Provisioned { read: i64, write: i64 },
}

/// A declared test user: who, where the password comes from, and in which stages.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub email: String,
    /// The environment variable holding the password (never the password).
    pub password_env: String,
    /// Where `passwordEnv` was written, for the error when the variable is not set.
    pub loc: Loc,
    /// The stages this user exists in; `[dev]` unless written.
    pub stages: Vec<String>,
}

impl TestUser {
    pub fn in_stage(&self, stage: &str) -> bool {
        self.stages.iter().any(|s| s == stage)
    }
}

/// Test users exist only in these stages unless a `users` entry lists others.
pub const DEFAULT_TEST_USER_STAGES: &[&str] = &["dev"];

#[derive(Debug, Clone)]
pub struct Route {
    /// `GET /notes/{id}`.
    pub key: String,
    pub target: Template,
    pub loc: Loc,
}

#[derive(Debug, Clone)]
pub struct Statement {
    pub effect: Effect,
    pub actions: Vec<String>,
    pub resources: Vec<Template>,
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
