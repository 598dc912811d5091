//! Config: the YAML files under the config directory → a validated [`Config`].
//!
//! `raw` mirrors the files (serde, unknown keys refused, spans kept); this module reads the
//! files, turns parse errors into [`Diagnostic`]s with file, line and column, and checks what
//! serde cannot: names, references, `uses`, cycles, IAM action shapes. Every problem found is
//! reported, not just the first. Nothing here talks to AWS.

pub mod raw;
pub mod template;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_saphyr::Spanned;

pub use raw::{Authorizer, CorsRule, Effect, Kind, Removal};
use template::{Ref, Template};

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

/// The attributes a kind exposes to `${Stack.Resource.attribute}`.
pub fn attributes(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Bucket => &["name", "arn"],
        Kind::Api => &["id", "url"],
        Kind::Table => &["name", "arn", "streamArn"],
        Kind::Auth => &[
            "userPoolId",
            "userPoolArn",
            "userPoolClientId",
            "identityPoolId",
            "authenticatedRoleArn",
            "unauthenticatedRoleArn",
        ],
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
    let mut v = Validator {
        diags,
        names: HashMap::new(),
        stacks: BTreeSet::new(),
    };
    let config = v.validate(dir, app_file, stack_files, stage);
    if v.diags.is_empty() {
        Ok(config)
    } else {
        Err(ConfigError(v.diags))
    }
}

/// A stack file is `*.yaml` or `*.yml`, not hidden (editors' swap and backup files are not).
pub fn is_stack_file(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    !name.starts_with('.') && (name.ends_with(".yaml") || name.ends_with(".yml"))
}

fn whole_file(path: &Path, message: String) -> Diagnostic {
    Diagnostic {
        loc: Loc {
            file: path.into(),
            line: 0,
            col: 0,
        },
        message,
    }
}

fn at(file: &Arc<Path>, l: &serde_saphyr::Location) -> Loc {
    Loc {
        file: file.clone(),
        line: l.line(),
        col: l.column(),
    }
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

/// serde-saphyr's message without its source snippet and location suffix (we print our own).
fn yaml_message(e: &serde_saphyr::Error) -> String {
    let plain = e.without_snippet().to_string();
    let first = plain.lines().next().unwrap_or("invalid YAML").trim();
    match first.find(" at line ") {
        Some(i) => first[..i].to_string(),
        None => first.to_string(),
    }
}

struct Validator {
    diags: Vec<Diagnostic>,
    /// Resource kinds by (stack, resource), for reference checks.
    names: HashMap<(String, String), Kind>,
    /// Every stack name defined in some file.
    stacks: BTreeSet<String>,
}

fn ident_ok(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric())
}

impl Validator {
    fn err(&mut self, loc: Loc, message: impl Into<String>) {
        self.diags.push(Diagnostic {
            loc,
            message: message.into(),
        });
    }

    fn validate(
        &mut self,
        dir: &Path,
        app_file: raw::AppFile,
        stack_files: Vec<(Arc<Path>, raw::StackFile)>,
        stage: Option<&str>,
    ) -> Config {
        let app_path: Arc<Path> = dir.join("stackwatch.yaml").into();
        for (what, s) in [("app", &app_file.app), ("stage", &app_file.stage)] {
            if !ident_ok(&s.value) {
                self.err(
                    at(&app_path, &s.referenced),
                    format!("expected {what} to be letters and digits starting with a letter, found `{}`", s.value),
                );
            }
        }
        if let Some(st) = stage
            && !ident_ok(st)
        {
            self.err(
                whole_file(&app_path, String::new()).loc,
                format!(
                    "expected --stage to be letters and digits starting with a letter, found `{st}`"
                ),
            );
        }
        let r = &app_file.region;
        let region_ok = r.value.split('-').count() >= 3
            && r.value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !region_ok {
            self.err(
                at(&app_path, &r.referenced),
                format!(
                    "expected an AWS region such as `us-east-1`, found `{}`",
                    r.value
                ),
            );
        }
        let default_removal = app_file.defaults.removal;

        // Stack names, duplicates, resource kinds.
        let mut seen: HashMap<String, Loc> = HashMap::new();
        for (file, sf) in &stack_files {
            let loc = at(file, &sf.stack.referenced);
            if !ident_ok(&sf.stack.value) {
                self.err(
                    loc.clone(),
                    format!(
                        "expected a stack name of letters and digits, found `{}`",
                        sf.stack.value
                    ),
                );
            }
            if let Some(prev) = seen.get(&sf.stack.value) {
                self.err(
                    loc,
                    format!("stack `{}` is already defined at {prev}", sf.stack.value),
                );
                continue;
            }
            seen.insert(sf.stack.value.clone(), loc);
            self.stacks.insert(sf.stack.value.clone());
            for (name, def) in &sf.resources {
                self.names
                    .insert((sf.stack.value.clone(), name.clone()), def.kind.value);
            }
        }

        let mut stacks = Vec::new();
        for (file, sf) in stack_files {
            if stacks.iter().any(|s: &Stack| s.name == sf.stack.value) {
                continue;
            }
            let stack = self.stack(&file, sf, default_removal);
            stacks.push(stack);
        }
        let stacks = self.order_stacks(stacks);
        Config {
            dir: dir.to_path_buf(),
            app: app_file.app.value,
            stage: stage.map_or(app_file.stage.value, str::to_string),
            region: app_file.region.value,
            stacks,
        }
    }

    fn stack(
        &mut self,
        file: &Arc<Path>,
        sf: raw::StackFile,
        default_removal: Option<Removal>,
    ) -> Stack {
        let name = sf.stack.value.clone();
        let mut uses = Vec::new();
        let mut uses_at = Vec::new();
        for u in &sf.uses {
            if u.value == name {
                self.err(
                    at(file, &u.referenced),
                    format!("stack `{name}` cannot use itself"),
                );
            } else if !self.names.keys().any(|(s, _)| *s == u.value)
                && !self.stack_declared(&u.value)
            {
                self.err(
                    at(file, &u.referenced),
                    format!(
                        "expected the name of another stack in `uses`, found `{}`",
                        u.value
                    ),
                );
            } else {
                uses.push(u.value.clone());
                uses_at.push(at(file, &u.referenced));
            }
        }
        let mut resources = Vec::new();
        for (rname, def) in sf.resources {
            let loc = at(file, &def.kind.referenced);
            if !ident_ok(&rname) {
                self.err(
                    loc.clone(),
                    format!("expected a resource name of letters and digits, found `{rname}`"),
                );
            }
            if let Some(r) = self.resource(file, &name, &uses, rname, def, default_removal) {
                resources.push(r);
            }
        }
        let mut outputs = Vec::new();
        for (oname, value) in sf.outputs {
            let loc = at(file, &value.referenced);
            if let Some(t) = self.template(&loc, &value.value, &name, &uses) {
                outputs.push(Output {
                    name: oname,
                    value: t,
                    loc,
                });
            }
        }
        Stack {
            name,
            file: file.clone(),
            uses,
            uses_at,
            resources,
            outputs,
        }
    }

    fn stack_declared(&self, name: &str) -> bool {
        self.stacks.contains(name)
    }

    /// Checks that a field belongs to the kind; returns its value if so.
    fn only_for<T>(
        &mut self,
        file: &Arc<Path>,
        field: &str,
        kind: Kind,
        allowed: Kind,
        v: Option<Spanned<T>>,
    ) -> Option<Spanned<T>> {
        let v = v?;
        if kind != allowed {
            self.err(
                at(file, &v.referenced),
                format!(
                    "`{field}` is not a field of kind `{}`; it belongs to kind `{}`",
                    kind_name(kind),
                    kind_name(allowed)
                ),
            );
            return None;
        }
        Some(v)
    }

    fn resource(
        &mut self,
        file: &Arc<Path>,
        stack: &str,
        uses: &[String],
        name: String,
        def: raw::ResourceDef,
        default_removal: Option<Removal>,
    ) -> Option<Resource> {
        let kind = def.kind.value;
        let loc = at(file, &def.kind.referenced);
        let cors = self.only_for(file, "cors", kind, Kind::Bucket, def.cors);
        let authorizer = self.only_for(file, "authorizer", kind, Kind::Api, def.authorizer);
        let routes = self.only_for(file, "routes", kind, Kind::Api, def.routes);
        let login = self.only_for(file, "login", kind, Kind::Auth, def.login);
        let allow_unauth = self.only_for(
            file,
            "allowUnauthenticated",
            kind,
            Kind::Auth,
            def.allow_unauthenticated,
        );
        let permissions = self.only_for(file, "permissions", kind, Kind::Auth, def.permissions);
        let users = self.only_for(file, "users", kind, Kind::Auth, def.users);
        let table = raw::TableFields {
            partition_key: self.only_for(
                file,
                "partitionKey",
                kind,
                Kind::Table,
                def.partition_key,
            ),
            sort_key: self.only_for(file, "sortKey", kind, Kind::Table, def.sort_key),
            billing_mode: self.only_for(file, "billingMode", kind, Kind::Table, def.billing_mode),
            capacity: self.only_for(file, "capacity", kind, Kind::Table, def.capacity),
            point_in_time_recovery: self.only_for(
                file,
                "pointInTimeRecovery",
                kind,
                Kind::Table,
                def.point_in_time_recovery,
            ),
            ttl_attribute: self.only_for(
                file,
                "ttlAttribute",
                kind,
                Kind::Table,
                def.ttl_attribute,
            ),
            stream: self.only_for(file, "stream", kind, Kind::Table, def.stream),
        };

        let removal = def.removal.map(|r| r.value).unwrap_or(match kind {
            Kind::Api => Removal::Destroy,
            Kind::Bucket | Kind::Auth | Kind::Table => default_removal.unwrap_or(Removal::Retain),
        });
        let mut adopt = BTreeMap::new();
        if let Some(a) = def.adopt {
            let aloc = at(file, &a.referenced);
            match (kind, a.value) {
                (Kind::Auth, raw::Adopt::Many(m)) => {
                    for k in m.keys() {
                        if !matches!(k.as_str(), "userPool" | "identityPool" | "authenticatedRole" | "unauthenticatedRole") {
                            self.err(aloc.clone(), format!("expected `adopt` keys userPool, identityPool, authenticatedRole or unauthenticatedRole, found `{k}`"));
                        }
                    }
                    adopt = m;
                }
                (Kind::Auth, raw::Adopt::One(_)) => self.err(aloc, "expected `adopt` of an auth resource to be a map such as `{userPool: us-east-1_abc}`"),
                (_, raw::Adopt::One(id)) => {
                    adopt.insert("id".to_string(), id);
                }
                (_, raw::Adopt::Many(_)) => self.err(aloc, "expected `adopt` to be one physical id"),
            }
        }

        let spec = match kind {
            Kind::Table => self.table(file, &loc, table),
            Kind::Bucket => ResourceSpec::Bucket {
                cors: cors.map(|c| c.value).unwrap_or_default(),
            },
            Kind::Api => {
                let mut out = Vec::new();
                if let Some(routes) = routes {
                    for (key, target) in routes.value {
                        let rloc = at(file, &target.referenced);
                        if let Err(m) = check_route_key(&key) {
                            self.err(rloc.clone(), m);
                        }
                        if let Some(t) = self.template(&rloc, &target.value, stack, uses) {
                            let lit = t.refs().next().is_none();
                            if lit && !is_integration(&target.value) {
                                self.err(rloc.clone(), format!("expected an integration: an http(s):// URL or a Lambda function ARN, found `{}`", target.value));
                            }
                            out.push(Route {
                                key,
                                target: t,
                                loc: rloc,
                            });
                        }
                    }
                }
                ResourceSpec::Api {
                    authorizer: authorizer.map_or(Authorizer::Iam, |a| a.value),
                    routes: out,
                }
            }
            Kind::Auth => {
                let login_v: Vec<String> = match login {
                    Some(l) => {
                        let values: Vec<&str> = l.value.iter().map(|s| s.value.as_str()).collect();
                        for s in &l.value {
                            if !matches!(s.value.as_str(), "email" | "phone" | "username") {
                                self.err(at(file, &s.referenced), format!("expected `email`, `phone` or `username` in `login`, found `{}`", s.value));
                            }
                        }
                        if values.is_empty() || (values.contains(&"username") && values.len() > 1) {
                            self.err(at(file, &l.referenced), "expected `login` to be [email], [phone], [email, phone] or [username]");
                        }
                        l.value.into_iter().map(|s| s.value).collect()
                    }
                    None => vec!["email".to_string()],
                };
                let allow = allow_unauth.is_some_and(|a| a.value);
                let (authn, unauthn) = match permissions {
                    Some(p) => {
                        let ploc = at(file, &p.referenced);
                        if !allow && !p.value.unauthenticated.is_empty() {
                            self.err(
                                ploc,
                                "`permissions.unauthenticated` needs `allowUnauthenticated: true`",
                            );
                        }
                        (
                            self.statements(file, stack, uses, p.value.authenticated),
                            self.statements(file, stack, uses, p.value.unauthenticated),
                        )
                    }
                    None => (Vec::new(), Vec::new()),
                };
                let users = match users {
                    Some(u) => self.test_users(file, &login_v, u),
                    None => Vec::new(),
                };
                ResourceSpec::Auth {
                    login: login_v,
                    allow_unauthenticated: allow,
                    authenticated: authn,
                    unauthenticated: unauthn,
                    users,
                }
            }
        };
        Some(Resource {
            stack: stack.to_string(),
            name,
            loc,
            removal,
            adopt,
            spec,
        })
    }

    /// The `table` kind's fields: a partition key (required), an optional sort key with another
    /// name, key and TTL attribute names of 1-255 characters, `capacity` exactly with
    /// `billingMode: provisioned` and at least 1 unit each.
    fn table(&mut self, file: &Arc<Path>, loc: &Loc, t: raw::TableFields) -> ResourceSpec {
        let key = |v: &mut Validator, k: Spanned<raw::TableKey>| {
            let n = k.value.name.chars().count();
            if !(1..=255).contains(&n) {
                v.err(
                    at(file, &k.referenced),
                    format!(
                        "expected a key attribute name of 1-255 characters, found `{}`",
                        k.value.name
                    ),
                );
            }
            let kind = match k.value.kind {
                raw::KeyType::String => "S",
                raw::KeyType::Number => "N",
                raw::KeyType::Binary => "B",
            };
            (
                TableKey {
                    name: k.value.name,
                    kind: kind.to_string(),
                },
                at(file, &k.referenced),
            )
        };
        let partition_key = match t.partition_key {
            Some(k) => key(self, k).0,
            None => {
                self.err(
                    loc.clone(),
                    "expected `partitionKey: {name: …, type: string | number | binary}` on a table",
                );
                TableKey {
                    name: String::new(),
                    kind: "S".into(),
                }
            }
        };
        let sort_key = t.sort_key.map(|k| {
            let (k, kloc) = key(self, k);
            if k.name == partition_key.name {
                self.err(kloc, "expected a sort key other than the partition key");
            }
            k
        });
        let provisioned = t
            .billing_mode
            .as_ref()
            .is_some_and(|b| b.value == raw::BillingMode::Provisioned);
        let billing = match (provisioned, t.capacity) {
            (true, Some(c)) => {
                if c.value.read < 1 || c.value.write < 1 {
                    self.err(
                        at(file, &c.referenced),
                        "expected `capacity` of at least 1 read and 1 write unit",
                    );
                }
                Billing::Provisioned {
                    read: c.value.read,
                    write: c.value.write,
                }
            }
            (true, None) => {
                let bloc = t
                    .billing_mode
                    .as_ref()
                    .map_or(loc.clone(), |b| at(file, &b.referenced));
                self.err(
                    bloc,
                    "expected `capacity: {read: N, write: N}` with `billingMode: provisioned`",
                );
                Billing::OnDemand
            }
            (false, Some(c)) => {
                self.err(
                    at(file, &c.referenced),
                    "`capacity` needs `billingMode: provisioned` (on-demand tables have no capacity)",
                );
                Billing::OnDemand
            }
            (false, None) => Billing::OnDemand,
        };
        let ttl_attribute = t.ttl_attribute.map(|a| {
            let n = a.value.chars().count();
            if !(1..=255).contains(&n) {
                self.err(
                    at(file, &a.referenced),
                    format!(
                        "expected a TTL attribute name of 1-255 characters, found `{}`",
                        a.value
                    ),
                );
            }
            a.value
        });
        let stream = t.stream.map(|s| {
            match s.value {
                raw::StreamView::KeysOnly => "KEYS_ONLY",
                raw::StreamView::NewImage => "NEW_IMAGE",
                raw::StreamView::OldImage => "OLD_IMAGE",
                raw::StreamView::NewAndOldImages => "NEW_AND_OLD_IMAGES",
            }
            .to_string()
        });
        ResourceSpec::Table {
            partition_key,
            sort_key,
            billing,
            point_in_time_recovery: t.point_in_time_recovery.is_some_and(|p| p.value),
            ttl_attribute,
            stream,
        }
    }

    /// Checks `users:` entries: an email, an environment variable name, stage names, no
    /// duplicates, and a pool that signs in with email.
    fn test_users(
        &mut self,
        file: &Arc<Path>,
        login: &[String],
        raw: Spanned<Vec<raw::TestUser>>,
    ) -> Vec<TestUser> {
        if !raw.value.is_empty() && !login.iter().any(|l| l == "email") {
            self.err(
                at(file, &raw.referenced),
                "`users` needs `login` to include `email`: test users sign in with their email",
            );
        }
        let mut out: Vec<TestUser> = Vec::new();
        for u in raw.value {
            let eloc = at(file, &u.email.referenced);
            let email = u.email.value;
            let (local, domain) = email.split_once('@').unwrap_or(("", ""));
            if local.is_empty() || !domain.contains('.') || email.contains(char::is_whitespace) {
                self.err(
                    eloc.clone(),
                    format!("expected an email address such as `dev@example.com`, found `{email}`"),
                );
            }
            if out.iter().any(|o| o.email.eq_ignore_ascii_case(&email)) {
                self.err(eloc, format!("test user `{email}` is declared twice"));
            }
            let ploc = at(file, &u.password_env.referenced);
            let var = u.password_env.value;
            let var_ok = var
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !var_ok {
                self.err(
                    ploc.clone(),
                    format!(
                        "expected `passwordEnv` to name an environment variable such as `STACKWATCH_TEST_PASSWORD`, found `{var}`"
                    ),
                );
            }
            let stages = match u.stages {
                Some(list) => {
                    for st in &list {
                        if !ident_ok(&st.value) {
                            self.err(
                                at(file, &st.referenced),
                                format!(
                                    "expected a stage name of letters and digits, found `{}`",
                                    st.value
                                ),
                            );
                        }
                    }
                    list.into_iter().map(|s| s.value).collect()
                }
                None => DEFAULT_TEST_USER_STAGES
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            };
            out.push(TestUser {
                email,
                password_env: var,
                loc: ploc,
                stages,
            });
        }
        out
    }

    fn statements(
        &mut self,
        file: &Arc<Path>,
        stack: &str,
        uses: &[String],
        raw: Vec<raw::Statement>,
    ) -> Vec<Statement> {
        let mut out = Vec::new();
        for st in raw {
            let mut actions = Vec::new();
            for a in st.actions {
                if let Err(m) = crate::policy::validate_action(&a.value) {
                    self.err(at(file, &a.referenced), m);
                }
                actions.push(a.value);
            }
            let mut resources = Vec::new();
            for r in st.resources {
                let loc = at(file, &r.referenced);
                if let Some(t) = self.template(&loc, &r.value, stack, uses) {
                    resources.push(t);
                }
            }
            out.push(Statement {
                effect: st.effect,
                actions,
                resources,
            });
        }
        out
    }

    /// Parses a template and checks each reference: stack used, resource and attribute exist.
    fn template(
        &mut self,
        loc: &Loc,
        text: &str,
        stack: &str,
        uses: &[String],
    ) -> Option<Template> {
        let t = match Template::parse(text) {
            Ok(t) => t,
            Err(m) => {
                self.err(loc.clone(), m);
                return None;
            }
        };
        let mut ok = true;
        for r in t.refs() {
            let Ref::Attr {
                stack: s,
                resource,
                attr,
            } = r
            else {
                continue;
            };
            let msg = if s != stack && !uses.contains(s) {
                if self.stack_declared(s) {
                    Some(format!(
                        "`{r}` refers to stack `{s}`, which stack `{stack}` does not list in `uses`"
                    ))
                } else {
                    Some(format!("`{r}` refers to stack `{s}`, which is not defined"))
                }
            } else {
                match self.names.get(&(s.clone(), resource.clone())) {
                    None => Some(format!(
                        "`{r}` refers to resource `{resource}`, which stack `{s}` does not define"
                    )),
                    Some(kind) if !attributes(*kind).contains(&attr.as_str()) => Some(format!(
                        "`{r}`: a resource of kind `{}` has no attribute `{attr}`; expected one of {}",
                        kind_name(*kind),
                        attributes(*kind).join(", ")
                    )),
                    Some(_) => None,
                }
            };
            if let Some(m) = msg {
                ok = false;
                self.diags.push(Diagnostic {
                    loc: loc.clone(),
                    message: m,
                });
            }
        }
        ok.then_some(t)
    }

    /// Orders stacks so that used stacks come first; a cycle in `uses` is an error.
    fn order_stacks(&mut self, stacks: Vec<Stack>) -> Vec<Stack> {
        let mut done: BTreeSet<String> = BTreeSet::new();
        let mut out = Vec::new();
        let mut pending = stacks;
        while !pending.is_empty() {
            let (ready, rest): (Vec<Stack>, Vec<Stack>) = pending
                .into_iter()
                .partition(|s| s.uses.iter().all(|u| done.contains(u)));
            if ready.is_empty() {
                let names: Vec<&str> = rest.iter().map(|s| s.name.as_str()).collect();
                for s in &rest {
                    let pos = s.uses.iter().position(|u| !done.contains(u)).unwrap_or(0);
                    let loc = s
                        .uses_at
                        .get(pos)
                        .cloned()
                        .unwrap_or_else(|| whole_file(&s.file, String::new()).loc);
                    self.err(
                        loc,
                        format!("expected `uses` without cycles; stack `{}` is part of a cycle among {}", s.name, names.join(", ")),
                    );
                }
                return out;
            }
            for s in ready {
                done.insert(s.name.clone());
                out.push(s);
            }
            pending = rest;
        }
        out
    }
}

pub fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Bucket => "bucket",
        Kind::Api => "api",
        Kind::Auth => "auth",
        Kind::Table => "table",
    }
}

fn check_route_key(key: &str) -> Result<(), String> {
    let mut it = key.splitn(2, ' ');
    let method = it.next().unwrap_or("");
    let path = it.next().unwrap_or("");
    let methods = [
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY",
    ];
    if !methods.contains(&method) || !path.starts_with('/') {
        return Err(format!(
            "expected a route key such as `GET /notes/{{id}}`, found `{key}`"
        ));
    }
    Ok(())
}

fn is_integration(s: &str) -> bool {
    s.starts_with("https://")
        || s.starts_with("http://")
        || (s.starts_with("arn:aws") && s.contains(":lambda:") && s.contains(":function:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(stacks: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("stackwatch.yaml"),
            "app: notes\nstage: dev\nregion: us-east-1\n",
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("stacks")).unwrap();
        for (name, text) in stacks {
            std::fs::write(dir.path().join("stacks").join(name), text).unwrap();
        }
        dir
    }

    fn errors(stacks: &[(&str, &str)]) -> Vec<String> {
        let dir = dir_with(stacks);
        match load(dir.path(), None) {
            Ok(_) => Vec::new(),
            Err(e) => {
                e.0.iter()
                    .map(|d| format!("{}:{}: {}", d.loc.line, d.loc.col, d.message))
                    .collect()
            }
        }
    }

    #[test]
    fn the_example_app_is_valid() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let c = load(&dir, None).unwrap();
        let names: Vec<&str> = c.stacks.iter().map(|s| s.name.as_str()).collect();
        // AuthStack uses the other two, so it comes last.
        assert_eq!(names.last(), Some(&"AuthStack"));
        assert_eq!(
            (c.app.as_str(), c.stage.as_str(), c.region.as_str()),
            ("notes", "dev", "us-east-1")
        );
        let c = load(&dir, Some("prod")).unwrap();
        assert_eq!(c.stage, "prod");
    }

    #[test]
    fn a_reference_to_a_stack_not_in_uses_is_an_error() {
        let e = errors(&[
            ("a.yaml", "stack: A\nresources:\n  B:\n    kind: bucket\n"),
            ("b.yaml", "stack: Other\noutputs:\n  X: ${A.B.arn}\n"),
        ]);
        assert_eq!(
            e,
            ["3:6: `${A.B.arn}` refers to stack `A`, which stack `Other` does not list in `uses`"]
        );
    }

    #[test]
    fn a_field_of_another_kind_is_an_error() {
        let e = errors(&[(
            "a.yaml",
            "stack: A\nresources:\n  B:\n    kind: bucket\n    login: [email]\n",
        )]);
        assert_eq!(
            e,
            ["5:12: `login` is not a field of kind `bucket`; it belongs to kind `auth`"]
        );
    }

    #[test]
    fn duplicate_stacks_and_bad_routes_are_errors() {
        let e = errors(&[
            ("a.yaml", "stack: A\n"),
            ("b.yaml", "stack: A\n"),
            (
                "c.yaml",
                "stack: C\nresources:\n  Api:\n    kind: api\n    routes:\n      FETCH /x: https://e.com\n      GET /y: ftp://e.com\n",
            ),
        ]);
        assert_eq!(e.len(), 3, "{e:?}");
        assert!(
            e[0].starts_with("1:8: stack `A` is already defined at"),
            "{e:?}"
        );
        assert!(
            e[1].contains("expected a route key such as `GET /notes/{id}`, found `FETCH /x`"),
            "{e:?}"
        );
        assert!(e[2].contains("expected an integration"), "{e:?}");
    }

    #[test]
    fn unauthenticated_permissions_need_guest_access() {
        let e = errors(&[(
            "a.yaml",
            "stack: A\nresources:\n  Auth:\n    kind: auth\n    permissions:\n      unauthenticated:\n        - actions: [\"s3:GetObject\"]\n          resources: [\"*\"]\n",
        )]);
        assert_eq!(
            e,
            ["6:7: `permissions.unauthenticated` needs `allowUnauthenticated: true`"]
        );
    }

    #[test]
    fn the_digest_follows_the_files_load_reads_and_nothing_else() {
        let dir = dir_with(&[("a.yaml", "stack: A\n")]);
        let d0 = digest(dir.path());
        assert_eq!(d0, digest(dir.path()));
        std::fs::write(dir.path().join("stacks/.a.yaml.swp"), "junk").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "junk").unwrap();
        assert_eq!(d0, digest(dir.path()), "swap and other files do not count");
        std::fs::write(dir.path().join("stacks/a.yaml"), "stack: B\n").unwrap();
        let d1 = digest(dir.path());
        assert_ne!(d0, d1);
        std::fs::rename(
            dir.path().join("stacks/a.yaml"),
            dir.path().join("stacks/b.yaml"),
        )
        .unwrap();
        assert_ne!(d1, digest(dir.path()), "a rename is a change");
    }

    #[test]
    fn swap_and_backup_files_are_not_stack_files() {
        for name in [
            ".auth.yaml.swp",
            "auth.yaml~",
            "4913",
            ".#auth.yaml",
            "notes.txt",
        ] {
            assert!(!is_stack_file(Path::new(name)), "{name}");
        }
        assert!(is_stack_file(Path::new("stacks/auth.yaml")));
        assert!(is_stack_file(Path::new("auth.yml")));
    }
}
