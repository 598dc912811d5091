//! Validation: the raw files → the model, checking what serde cannot (names, references,
//! `uses`, cycles, IAM action shapes), kind by kind, reporting every problem found.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use serde_saphyr::Spanned;

use super::raw::{self, Authorizer, Kind, Removal};
use super::template::{Ref, Template};
use super::*;

/// Validates what was read (the app file and each stack file, with the problems reading them
/// already found): the model, or every problem.
pub(super) fn validate(
    dir: &Path,
    app_file: raw::AppFile,
    stack_files: Vec<(Arc<Path>, raw::StackFile)>,
    stage: Option<&str>,
    diags: Vec<Diagnostic>,
) -> Result<Config, ConfigError> {
    let mut v = Validator {
        diags,
        names: HashMap::new(),
        stacks: BTreeSet::new(),
        iam_defaults: RoleIam::default(),
    };
    let config = v.validate(dir, app_file, stack_files, stage);
    if v.diags.is_empty() {
        Ok(config)
    } else {
        Err(ConfigError(v.diags))
    }
}

struct Validator {
    diags: Vec<Diagnostic>,
    /// Resource kinds by (stack, resource), for reference checks.
    names: HashMap<(String, String), Kind>,
    /// Every stack name defined in some file.
    stacks: BTreeSet<String>,
    /// `defaults.iam` of stackwatch.yaml, checked.
    iam_defaults: RoleIam,
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
        self.app_file(&app_path, &app_file, stage);
        let default_removal = app_file.defaults.removal;
        if let Some(iam) = app_file.defaults.iam {
            let defaults = RoleIam::default();
            self.iam_defaults = self.role_iam(&app_path, &defaults, iam.value);
        }

        self.stack_names(&stack_files);

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
                    kind.name(),
                    allowed.name()
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
        mut def: raw::ResourceDef,
        default_removal: Option<Removal>,
    ) -> Option<Resource> {
        let kind = def.kind.value;
        let loc = at(file, &def.kind.referenced);
        let cors = self.only_for(file, "cors", kind, Kind::Bucket, def.cors.take());
        let authorizer = self.only_for(file, "authorizer", kind, Kind::Api, def.authorizer.take());
        let routes = self.only_for(file, "routes", kind, Kind::Api, def.routes.take());
        let login = self.only_for(file, "login", kind, Kind::Auth, def.login.take());
        let allow_unauth = self.only_for(
            file,
            "allowUnauthenticated",
            kind,
            Kind::Auth,
            def.allow_unauthenticated.take(),
        );
        let permissions = self.only_for(
            file,
            "permissions",
            kind,
            Kind::Auth,
            def.permissions.take(),
        );
        let users = self.only_for(file, "users", kind, Kind::Auth, def.users.take());
        let iam = self.only_for(file, "iam", kind, Kind::Auth, Option::take(&mut def.iam));

        let table = self.table_fields(file, kind, &mut def);

        let info = kind.info();
        let removal = def.removal.map(|r| r.value).unwrap_or(if info.holds_data {
            default_removal.unwrap_or(Removal::Retain)
        } else {
            Removal::Destroy
        });
        let adopt = def
            .adopt
            .map(|a| self.adopt(file, info, a))
            .unwrap_or_default();

        let spec = match kind {
            Kind::Table => self.table(file, &loc, table),
            Kind::Bucket => ResourceSpec::Bucket {
                cors: cors.map(|c| c.value).unwrap_or_default(),
            },
            Kind::Api => self.api(file, stack, uses, authorizer, routes),
            Kind::Auth => {
                let defaults = self.iam_defaults.clone();
                let role_iam = iam.map_or(defaults.clone(), |i| {
                    self.role_iam(file, &defaults, i.value)
                });
                let mut spec =
                    self.auth(file, stack, uses, login, allow_unauth, permissions, users);
                if let ResourceSpec::Auth { iam, .. } = &mut spec {
                    *iam = role_iam;
                }
                spec
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

    /// The `table` kind's fields, taken out of `def` (each an error on another kind).
    fn table_fields(
        &mut self,
        file: &Arc<Path>,
        kind: Kind,
        def: &mut raw::ResourceDef,
    ) -> raw::TableFields {
        raw::TableFields {
            partition_key: self.only_for(
                file,
                "partitionKey",
                kind,
                Kind::Table,
                def.partition_key.take(),
            ),
            sort_key: self.only_for(file, "sortKey", kind, Kind::Table, def.sort_key.take()),
            billing_mode: self.only_for(
                file,
                "billingMode",
                kind,
                Kind::Table,
                def.billing_mode.take(),
            ),
            capacity: self.only_for(file, "capacity", kind, Kind::Table, def.capacity.take()),
            point_in_time_recovery: self.only_for(
                file,
                "pointInTimeRecovery",
                kind,
                Kind::Table,
                def.point_in_time_recovery.take(),
            ),
            ttl_attribute: self.only_for(
                file,
                "ttlAttribute",
                kind,
                Kind::Table,
                def.ttl_attribute.take(),
            ),
            stream: self.only_for(file, "stream", kind, Kind::Table, def.stream.take()),
        }
    }

    /// `billingMode` and `capacity`: capacity exactly with `provisioned`, at least 1 unit each.
    fn billing(
        &mut self,
        file: &Arc<Path>,
        loc: &Loc,
        billing_mode: Option<Spanned<raw::BillingMode>>,
        capacity: Option<Spanned<raw::Capacity>>,
    ) -> Billing {
        let provisioned = billing_mode
            .as_ref()
            .is_some_and(|b| b.value == raw::BillingMode::Provisioned);
        match (provisioned, capacity) {
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
                let bloc = billing_mode
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
        }
    }

    /// `stackwatch.yaml`'s app, stage (or `--stage`) and region.
    fn app_file(&mut self, app_path: &Arc<Path>, app_file: &raw::AppFile, stage: Option<&str>) {
        for (what, s) in [("app", &app_file.app), ("stage", &app_file.stage)] {
            if !ident_ok(&s.value) {
                self.err(
                    at(app_path, &s.referenced),
                    format!("expected {what} to be letters and digits starting with a letter, found `{}`", s.value),
                );
            }
        }
        if let Some(st) = stage
            && !ident_ok(st)
        {
            self.err(
                whole_file(app_path, String::new()).loc,
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
                at(app_path, &r.referenced),
                format!(
                    "expected an AWS region such as `us-east-1`, found `{}`",
                    r.value
                ),
            );
        }
    }

    /// Stack names (letters and digits, each once) and every stack's resource kinds, for the
    /// checks of references and `uses`.
    fn stack_names(&mut self, stack_files: &[(Arc<Path>, raw::StackFile)]) {
        let mut seen: HashMap<String, Loc> = HashMap::new();
        for (file, sf) in stack_files {
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
    }

    /// `adopt:`: one physical id, or for a kind of several parts (an `auth`) a map of its
    /// adopt keys to ids.
    fn adopt(
        &mut self,
        file: &Arc<Path>,
        info: &raw::KindInfo,
        a: Spanned<raw::Adopt>,
    ) -> BTreeMap<String, String> {
        let aloc = at(file, &a.referenced);
        let mut adopt = BTreeMap::new();
        match (info.adopt_keys, a.value) {
            (Some(keys), raw::Adopt::Many(m)) => {
                for k in m.keys() {
                    if !keys.contains(&k.as_str()) {
                        self.err(
                            aloc.clone(),
                            format!("expected `adopt` keys {}, found `{k}`", or_list(keys)),
                        );
                    }
                }
                adopt = m;
            }
            (Some(keys), raw::Adopt::One(_)) => self.err(
                aloc,
                format!(
                    "expected `adopt` of kind `{}` to be a map of {}, such as `{{{}: …}}`",
                    info.name,
                    or_list(keys),
                    keys[0]
                ),
            ),
            (None, raw::Adopt::One(id)) => {
                adopt.insert("id".to_string(), id);
            }
            (None, raw::Adopt::Many(_)) => self.err(aloc, "expected `adopt` to be one physical id"),
        }
        adopt
    }

    /// The `api` kind: route keys such as `GET /notes/{id}`, each to an integration (an
    /// http(s) URL or a Lambda function ARN, or a reference that renders to one).
    fn api(
        &mut self,
        file: &Arc<Path>,
        stack: &str,
        uses: &[String],
        authorizer: Option<Spanned<Authorizer>>,
        routes: Option<Spanned<BTreeMap<String, raw::SString>>>,
    ) -> ResourceSpec {
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

    /// The `auth` kind: how users sign in, guest access and its permissions, test users.
    #[allow(clippy::too_many_arguments)]
    fn auth(
        &mut self,
        file: &Arc<Path>,
        stack: &str,
        uses: &[String],
        login: Option<Spanned<Vec<raw::SString>>>,
        allow_unauth: Option<Spanned<bool>>,
        permissions: Option<Spanned<raw::Permissions>>,
        users: Option<Spanned<Vec<raw::TestUser>>>,
    ) -> ResourceSpec {
        let login_v: Vec<String> = match login {
            Some(l) => {
                let values: Vec<&str> = l.value.iter().map(|s| s.value.as_str()).collect();
                for s in &l.value {
                    if !matches!(s.value.as_str(), "email" | "phone" | "username") {
                        self.err(
                            at(file, &s.referenced),
                            format!(
                                "expected `email`, `phone` or `username` in `login`, found `{}`",
                                s.value
                            ),
                        );
                    }
                }
                if values.is_empty() || (values.contains(&"username") && values.len() > 1) {
                    self.err(
                        at(file, &l.referenced),
                        "expected `login` to be [email], [phone], [email, phone] or [username]",
                    );
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
            iam: RoleIam::default(),
        }
    }

    /// `iam:` settings over `base`: a boundary must be an IAM managed policy's ARN, a path
    /// keep IAM's rule for paths.
    fn role_iam(&mut self, file: &Arc<Path>, base: &RoleIam, raw: raw::IamSettings) -> RoleIam {
        let mut out = base.clone();
        if let Some(b) = raw.permissions_boundary {
            match check_boundary_arn(&b.value) {
                Ok(()) => out.permissions_boundary = Some(b.value),
                Err(m) => self.err(at(file, &b.referenced), m),
            }
        }
        if let Some(p) = raw.path {
            match check_role_path(&p.value) {
                Ok(()) => out.path = p.value,
                Err(m) => self.err(at(file, &p.referenced), m),
            }
        }
        out
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
        let billing = self.billing(file, loc, t.billing_mode, t.capacity);
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
                    Some(kind) if !kind.info().attributes.contains(&attr.as_str()) => {
                        Some(format!(
                            "`{r}`: a resource of kind `{}` has no attribute `{attr}`; expected one of {}",
                            kind.name(),
                            kind.info().attributes.join(", ")
                        ))
                    }
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

/// A permissions boundary: the ARN of an IAM managed policy (`arn:aws:iam::123456789012:policy/Name`
/// or an AWS managed one, `arn:aws:iam::aws:policy/Name`).
fn check_boundary_arn(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = match parts.as_slice() {
        ["arn", partition, "iam", "", account, resource] => {
            partition.starts_with("aws")
                && (*account == "aws"
                    || (account.len() == 12 && account.chars().all(|c| c.is_ascii_digit())))
                && resource.len() > "policy/".len()
                && resource.starts_with("policy/")
                && arn.len() <= 2048
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "expected `permissionsBoundary` to be an IAM managed policy's ARN such as \
             `arn:aws:iam::123456789012:policy/Boundary`, found `{arn}`"
        ))
    }
}

/// An IAM path: `/`, or `/` + printable ASCII (no spaces) + `/`, at most 512 characters.
fn check_role_path(path: &str) -> Result<(), String> {
    let ok = path.len() <= 512
        && path.starts_with('/')
        && path.ends_with('/')
        && path.chars().all(|c| ('!'..='~').contains(&c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "expected an IAM `path` that begins and ends with `/` (such as `/stackwatch/`), of \
             at most 512 printable characters without spaces, found `{path}`"
        ))
    }
}

fn is_integration(s: &str) -> bool {
    s.starts_with("https://")
        || s.starts_with("http://")
        || (s.starts_with("arn:aws") && s.contains(":lambda:") && s.contains(":function:"))
}

/// `a, b or c`.
fn or_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
