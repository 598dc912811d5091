//! The namespace's `App` and `Stack` objects as the watcher last saw them: what the daemon
//! loads instead of a config directory. Loading renders each spec as a document
//! ([`super::document`]) and runs the config loader's own checks; a problem is reported at its
//! object and field path (`Stack authstack, spec.resources.Auth.login[0]`), never at a line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::crd::object_name;
use super::document::Rendered;
use crate::config::{self, Config, ConfigError, Document};
use crate::source::{Diagnostic, Loc, whole_file};

/// One object: its name, spec generation and spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub name: String,
    pub uid: Option<String>,
    pub generation: Option<i64>,
    pub spec: Value,
    /// `metadata.deletionTimestamp` is set: it waits for its finalizers.
    pub deleting: bool,
    pub finalizers: Vec<String>,
}

impl Object {
    /// A `Stack`'s `spec.stack`.
    pub fn stack(&self) -> Option<&str> {
        self.spec.get("stack").and_then(Value::as_str)
    }

    /// A `Stack`'s `spec.uses`.
    pub fn uses(&self) -> impl Iterator<Item = &str> {
        self.spec
            .get("uses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    }
}

#[derive(Debug, Default)]
struct Objects {
    apps: BTreeMap<String, Object>,
    stacks: BTreeMap<String, Object>,
    /// The generation of each object (by `App/name`, `Stack/name`) at the last load.
    loaded: BTreeMap<String, Option<i64>>,
    /// What each recent load read, by the digest of the objects then (oldest first).
    by_digest: std::collections::VecDeque<(String, BTreeMap<String, Option<i64>>)>,
    /// `{stage}-{app}-` of the last good load: a stack's deployed name is this and its name.
    prefix: Option<String>,
    /// Whether each kind (App, Stack) was listed whole once: until both were, a load would
    /// miss objects (and take their stacks for removed ones), so it refuses.
    listed: (bool, bool),
}

/// The objects of one namespace, shared by the watcher (the writer) and the reconciles.
#[derive(Debug, Clone)]
pub struct Store {
    namespace: String,
    objects: Arc<Mutex<Objects>>,
}

impl Store {
    pub fn new(namespace: &str) -> Store {
        Store {
            namespace: namespace.to_string(),
            objects: Arc::default(),
        }
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    fn objects(&self) -> std::sync::MutexGuard<'_, Objects> {
        self.objects.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An `App` was added or changed; false when it is as it was.
    pub fn put_app(&self, o: Object) -> bool {
        let mut m = self.objects();
        m.apps.insert(o.name.clone(), o.clone()) != Some(o)
    }

    /// A `Stack` was added or changed; false when it is as it was.
    pub fn put_stack(&self, o: Object) -> bool {
        let mut m = self.objects();
        m.stacks.insert(o.name.clone(), o.clone()) != Some(o)
    }

    pub fn remove_app(&self, name: &str) -> Option<Object> {
        self.objects().apps.remove(name)
    }

    pub fn remove_stack(&self, name: &str) -> Option<Object> {
        self.objects().stacks.remove(name)
    }

    /// The `Stack` object named `name`.
    pub fn stack(&self, name: &str) -> Option<Object> {
        self.objects().stacks.get(name).cloned()
    }

    /// Every `Stack` object.
    pub fn stacks(&self) -> Vec<Object> {
        self.objects().stacks.values().cloned().collect()
    }

    /// The stacks (by `spec.stack`) of the `Stack` objects that `uses` `stack`, those being
    /// deleted too: while any exists, a deleted `Stack` keeps its resources and finalizer.
    pub fn users_of(&self, stack: &str) -> Vec<String> {
        self.users(stack, true)
    }

    fn users(&self, stack: &str, deleting_too: bool) -> Vec<String> {
        let m = self.objects();
        m.stacks
            .values()
            .filter(|o| (deleting_too || !o.deleting) && o.uses().any(|u| u == stack))
            .filter_map(|o| o.stack().map(str::to_string))
            .collect()
    }

    /// Every `App` object.
    pub fn apps(&self) -> Vec<Object> {
        self.objects().apps.values().cloned().collect()
    }

    /// Every object of `kind` (`App` or `Stack`) is in the store now (a watcher's first list
    /// ended).
    pub fn set_listed(&self, kind: &str) {
        let mut m = self.objects();
        match kind {
            "App" => m.listed.0 = true,
            _ => m.listed.1 = true,
        }
    }

    /// Both kinds were listed whole: a load sees every object.
    pub fn synced(&self) -> bool {
        let m = self.objects();
        m.listed.0 && m.listed.1
    }

    /// The generation of `kind/name` that the last load read.
    pub fn loaded_generation(&self, kind: &str, name: &str) -> Option<i64> {
        self.objects()
            .loaded
            .get(&format!("{kind}/{name}"))
            .copied()
            .flatten()
    }

    /// A stack's deployed name (`{stage}-{app}-{stack}`), once a load succeeded.
    pub fn full_name(&self, stack: &str) -> Option<String> {
        self.objects()
            .prefix
            .as_ref()
            .map(|p| format!("{p}{stack}"))
    }

    /// SHA-256 of every spec, by kind, name and generation: changes exactly when a load would
    /// read something else, or read the same spec as a new generation (its status must say it
    /// observed that generation).
    pub fn digest(&self) -> String {
        digest_of(&self.objects())
    }

    /// The generation of `Stack` `name` that the load of the objects with `digest` read: None
    /// when that load left it out, or is too old to be remembered.
    pub fn generation_in(&self, digest: &str, name: &str) -> Option<Option<i64>> {
        let m = self.objects();
        let (_, loaded) = m.by_digest.iter().rev().find(|(d, _)| d == digest)?;
        loaded.get(&format!("Stack/{name}")).copied()
    }

    /// Loads the objects as a config, with the config loader's checks; the config's directory
    /// is `namespace/<ns>`. A `Stack` being deleted is left out (as a deleted file would be),
    /// unless another stack still `uses` it.
    pub fn load(&self, stage: Option<&str>) -> Result<Config, ConfigError> {
        self.load_as(stage, false)
    }

    /// The config with every `Stack`, those being deleted too: what destroying one reads.
    pub fn load_all(&self, stage: Option<&str>) -> Result<Config, ConfigError> {
        self.load_as(stage, true)
    }

    fn load_as(&self, stage: Option<&str>, all: bool) -> Result<Config, ConfigError> {
        let dir = PathBuf::from(format!("namespace/{}", self.namespace));
        let kept: Vec<String> = self
            .stacks()
            .into_iter()
            .filter(|o| {
                // Kept while a stack that is not being deleted uses it (its references hold).
                all || !o.deleting || o.stack().is_some_and(|s| !self.users(s, false).is_empty())
            })
            .map(|o| o.name)
            .collect();
        let mut m = self.objects();
        if !(m.listed.0 && m.listed.1) {
            let why = "waiting for the first list of the namespace's App and Stack objects";
            return Err(ConfigError(vec![whole_file(&dir, why.into())]));
        }
        m.loaded = m
            .apps
            .values()
            .map(|o| (format!("App/{}", o.name), o.generation))
            .chain(
                m.stacks
                    .values()
                    .filter(|o| kept.contains(&o.name))
                    .map(|o| (format!("Stack/{}", o.name), o.generation)),
            )
            .collect();
        if !all {
            let digest = digest_of(&m);
            let loaded = m.loaded.clone();
            m.by_digest.push_back((digest, loaded));
            if m.by_digest.len() > REMEMBERED_LOADS {
                m.by_digest.pop_front();
            }
        }
        let app = match m.apps.values().collect::<Vec<_>>().as_slice() {
            [one] => (*one).clone(),
            found => return Err(ConfigError(vec![no_single_app(&dir, found)])),
        };
        let mut renders = BTreeMap::new();
        let mut diags = Vec::new();
        let mut app_spec = app.spec.clone();
        if let Some(map) = app_spec.as_object_mut() {
            map.remove("approval");
        }
        let app_doc = document("App", &app.name, &app_spec, &mut renders);
        let mut stacks = Vec::new();
        for o in m.stacks.values().filter(|o| kept.contains(&o.name)) {
            if let Some(d) = named_after_its_stack(o) {
                diags.push(d);
            }
            stacks.push(document("Stack", &o.name, &o.spec, &mut renders));
        }
        drop(m);
        let result = config::from_documents(&dir, app_doc, stacks, stage);
        let mut errors = match result {
            Ok(c) if diags.is_empty() => {
                self.objects().prefix = Some(format!("{}-{}-", c.stage, c.app));
                return Ok(c);
            }
            Ok(_) => Vec::new(),
            Err(e) => e.0,
        };
        errors.extend(diags);
        Err(ConfigError(
            errors.into_iter().map(|d| at_field(d, &renders)).collect(),
        ))
    }
}

/// SHA-256 of every object's kind, name, generation, deletion and spec.
fn digest_of(m: &Objects) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for (kind, objects) in [("App", &m.apps), ("Stack", &m.stacks)] {
        for o in objects.values() {
            let text = o.spec.to_string();
            let generation = format!("{:?} {}", o.generation, o.deleting);
            for part in [kind, &o.name, &generation, &text] {
                h.update((part.len() as u64).to_le_bytes());
                h.update(part.as_bytes());
            }
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// How many loads [`Store::generation_in`] remembers.
const REMEMBERED_LOADS: usize = 64;

/// The document of one object, remembering its rendering by the document's path.
fn document(
    kind: &str,
    name: &str,
    spec: &Value,
    renders: &mut BTreeMap<PathBuf, Rendered>,
) -> Document {
    let path = PathBuf::from(format!("{kind}/{name}"));
    let rendered = Rendered::of(spec);
    let text = rendered.text.clone();
    renders.insert(path.clone(), rendered);
    Document {
        path: path.into(),
        text,
    }
}

/// A diagnostic at a line of a rendered spec, moved to its object and field path.
fn at_field(d: Diagnostic, renders: &BTreeMap<PathBuf, Rendered>) -> Diagnostic {
    let Some(r) = renders.get(d.loc.file.as_ref()) else {
        return d;
    };
    let object = d.loc.file.display().to_string().replacen('/', " ", 1);
    let path = if d.loc.line == 0 {
        "spec"
    } else {
        r.path_at(d.loc.line)
    };
    Diagnostic {
        loc: Loc {
            file: Path::new(&format!("{object}, {path}")).into(),
            line: 0,
            col: 0,
        },
        message: d.message,
    }
}

/// A namespace holds exactly one `App`.
fn no_single_app(dir: &Path, found: &[&Object]) -> Diagnostic {
    let message = if found.is_empty() {
        "expected one App object in the namespace (what stackwatch.yaml holds), found none"
            .to_string()
    } else {
        let names: Vec<&str> = found.iter().map(|o| o.name.as_str()).collect();
        format!(
            "expected one App object in the namespace, found {}: {}",
            names.len(),
            names.join(", ")
        )
    };
    whole_file(dir, message)
}

/// A `Stack` is named after its `spec.stack` lowercased, so that one stack is one object.
fn named_after_its_stack(o: &Object) -> Option<Diagnostic> {
    let stack = o.stack()?;
    let want = object_name(stack);
    (o.name != want).then(|| {
        whole_file(
            Path::new(&format!("Stack {}, metadata.name", o.name)),
            format!("expected `{want}`, the name of stack `{stack}` lowercased"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn store(stacks: &[Value]) -> Store {
        let s = Store::new("notes");
        s.set_listed("App");
        s.set_listed("Stack");
        s.put_app(Object {
            name: "notes".into(),
            uid: None,
            generation: Some(1),
            spec: json!({"app": "notes", "stage": "dev", "region": "us-east-1", "approval": "auto"}),
            deleting: false,
            finalizers: vec![],
        });
        for (i, spec) in stacks.iter().enumerate() {
            let name = spec["stack"].as_str().map_or(format!("s{i}"), object_name);
            s.put_stack(Object {
                name,
                uid: None,
                generation: Some(3),
                spec: spec.clone(),
                deleting: false,
                finalizers: vec![],
            });
        }
        s
    }

    fn errors(s: &Store) -> Vec<String> {
        s.load(None)
            .unwrap_err()
            .0
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn the_objects_load_as_the_files_would() {
        let s = store(&[
            json!({"stack": "Storage", "resources": {"Uploads": {"kind": "bucket"}}}),
            json!({"stack": "Auth", "uses": ["Storage"],
                   "outputs": {"Bucket": "${Storage.Uploads.name}"}}),
        ]);
        let c = s.load(Some("prod")).unwrap();
        let names: Vec<&str> = c.stacks.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Storage", "Auth"]);
        assert_eq!((c.app.as_str(), c.stage.as_str()), ("notes", "prod"));
        assert_eq!(s.loaded_generation("Stack", "auth"), Some(3));
        assert_eq!(s.loaded_generation("App", "notes"), Some(1));
        assert_eq!(s.generation_in(&s.digest(), "auth"), Some(Some(3)));
    }

    #[test]
    fn a_problem_names_its_object_and_field_path() {
        let s = store(&[json!({"stack": "Auth", "resources": {
            "Auth": {"kind": "auth", "login": ["email", "fax"]}}})]);
        let e = errors(&s);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("Stack auth, spec.resources.Auth.login[1]: "),
            "{e:?}"
        );
        let s = store(&[
            json!({"stack": "A", "resources": {"B": {"kind": "bucket"}}}),
            json!({"stack": "Other", "outputs": {"X": "${A.B.arn}"}}),
        ]);
        assert_eq!(
            errors(&s),
            [
                "Stack other, spec.outputs.X: `${A.B.arn}` refers to stack `A`, which stack \
              `Other` does not list in `uses`"
            ]
        );
    }

    #[test]
    fn nothing_loads_before_both_kinds_were_listed_whole() {
        let s = Store::new("notes");
        s.set_listed("Stack");
        assert!(
            errors(&s)[0].contains("waiting for the first list"),
            "{:?}",
            errors(&s)
        );
        assert!(!s.synced());
        s.set_listed("App");
        assert!(s.synced());
        assert!(errors(&s)[0].contains("found none"), "{:?}", errors(&s));
    }

    #[test]
    fn a_namespace_needs_one_app_and_stacks_named_after_their_stack() {
        let s = store(&[]);
        s.put_stack(Object {
            name: "auth-stack".into(),
            uid: None,
            generation: None,
            spec: json!({"stack": "AuthStack"}),
            deleting: false,
            finalizers: vec![],
        });
        assert_eq!(
            errors(&s),
            [
                "Stack auth-stack, metadata.name: expected `authstack`, the name of stack \
              `AuthStack` lowercased"
            ]
        );
    }

    #[test]
    fn a_deleted_stack_leaves_the_config_unless_another_uses_it() {
        let s = store(&[
            json!({"stack": "Base", "resources": {"Q": {"kind": "queue"}}}),
            json!({"stack": "User", "uses": ["Base"], "outputs": {"Q": "${Base.Q.arn}"}}),
        ]);
        let mark = |name: &str| {
            let mut o = s.stack(name).unwrap();
            o.deleting = true;
            s.put_stack(o);
        };
        mark("base");
        assert_eq!(s.users_of("Base"), ["User"]);
        let names = |c: Config| c.stacks.into_iter().map(|s| s.name).collect::<Vec<_>>();
        assert_eq!(
            names(s.load(None).unwrap()),
            ["Base", "User"],
            "held: User uses it"
        );
        mark("user");
        assert_eq!(
            s.users_of("Base"),
            ["User"],
            "its finalizer waits until User is gone"
        );
        assert!(
            names(s.load(None).unwrap()).is_empty(),
            "both left the config"
        );
        assert_eq!(
            s.generation_in(&s.digest(), "base"),
            None,
            "left out of that load"
        );
        assert_eq!(s.generation_in(&s.digest(), "user"), None);
        assert_eq!(s.generation_in("an unknown digest", "user"), None);
        assert_eq!(names(s.load_all(None).unwrap()), ["Base", "User"]);
        s.remove_stack("user");
        assert!(s.users_of("Base").is_empty(), "User gone: Base may go");
    }

    #[test]
    fn the_digest_moves_with_any_spec_and_only_then() {
        let s = store(&[json!({"stack": "A"})]);
        let d = s.digest();
        assert!(!s.put_stack(Object {
            name: "a".into(),
            uid: None,
            generation: Some(3),
            spec: json!({"stack": "A"}),
            deleting: false,
            finalizers: vec![],
        }));
        assert_eq!(s.digest(), d);
        s.put_stack(Object {
            name: "a".into(),
            uid: None,
            generation: Some(4),
            spec: json!({"stack": "A", "uses": []}),
            deleting: false,
            finalizers: vec![],
        });
        assert_ne!(s.digest(), d);
        let d = s.digest();
        s.put_stack(Object {
            name: "a".into(),
            uid: None,
            generation: Some(5),
            spec: json!({"stack": "A", "uses": []}),
            deleting: false,
            finalizers: vec![],
        });
        assert_ne!(
            s.digest(),
            d,
            "an edit undone is a new generation to observe"
        );
    }
}
