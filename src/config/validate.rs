//! Validation: the raw files → the model, checking what serde cannot (names, references,
//! `uses`, cycles, IAM action shapes), kind by kind, reporting every problem found.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use serde_saphyr::Spanned;

use super::raw::{self, Removal};
use super::read::StackSource;
use super::template::{Ref, Template};
use super::*;
use crate::resource::declare::{Check, Defaults};
use crate::resource::role::RoleIam;
use crate::resource::{self, KindInfo, Unchecked};

/// Validates what was read (the app file and each stack file, with the problems reading them
/// already found): the model, or every problem.
pub(super) fn validate(
    dir: &Path,
    app_file: raw::AppFile,
    stack_files: Vec<StackSource>,
    stage: Option<&str>,
    diags: Vec<Diagnostic>,
) -> Result<Config, ConfigError> {
    let mut v = Validator {
        diags,
        names: HashMap::new(),
        stacks: BTreeSet::new(),
        defaults: Defaults::default(),
        default_removal: None,
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
    names: HashMap<(String, String), &'static KindInfo>,
    /// Every stack name defined in some file.
    stacks: BTreeSet<String>,
    /// `defaults` of stackwatch.yaml that kinds read, checked.
    defaults: Defaults,
    /// `defaults.removal` of stackwatch.yaml.
    default_removal: Option<Removal>,
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
        stack_files: Vec<StackSource>,
        stage: Option<&str>,
    ) -> Config {
        let app_path: Arc<Path> = dir.join("stackwatch.yaml").into();
        self.app_file(&app_path, &app_file, stage);
        self.default_removal = app_file.defaults.removal;
        if let Some(iam) = app_file.defaults.iam {
            let here = whole_file(&app_path, String::new()).loc;
            let mut cx = ResourceCheck {
                v: self,
                file: &app_path,
                stack: "",
                uses: &[],
                here,
            };
            let iam = RoleIam::default().with(iam.value, &mut cx);
            self.defaults.iam = iam;
        }

        self.stack_names(&stack_files);

        let mut stacks = Vec::new();
        for src in stack_files {
            if stacks
                .iter()
                .any(|s: &Stack| s.name == src.file.stack.value)
            {
                continue;
            }
            let stack = self.stack(src);
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

    fn stack(&mut self, src: StackSource) -> Stack {
        let StackSource {
            path: file,
            file: sf,
            mut fields,
        } = src;
        let file = &file;
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
            let own = fields.remove(&rname);
            if let Some(r) = self.resource(file, &name, &uses, rname, def, own) {
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

    fn resource(
        &mut self,
        file: &Arc<Path>,
        stack: &str,
        uses: &[String],
        name: String,
        head: raw::ResourceHead,
        fields: Option<Box<dyn Unchecked>>,
    ) -> Option<Resource> {
        let loc = at(file, &head.kind.referenced);
        let Some(info) = resource::declared(&head.kind.value) else {
            let kinds: Vec<&str> = resource::DECLARED.iter().map(|k| k.name).collect();
            self.err(
                loc,
                format!(
                    "expected a kind: {}, found `{}`",
                    or_list(&kinds),
                    head.kind.value
                ),
            );
            return None;
        };
        let removal = head.removal.map(|r| r.value).unwrap_or(if info.holds_data {
            self.default_removal.unwrap_or(Removal::Retain)
        } else {
            Removal::Destroy
        });
        let adopt = head
            .adopt
            .map(|a| self.adopt(file, info, a))
            .unwrap_or_default();
        let mut cx = ResourceCheck {
            v: self,
            file,
            stack,
            uses,
            here: loc.clone(),
        };
        let spec = fields?.check(&mut cx);
        Some(Resource {
            stack: stack.to_string(),
            name,
            loc,
            removal,
            adopt,
            spec,
        })
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
    fn stack_names(&mut self, stack_files: &[StackSource]) {
        let mut seen: HashMap<String, Loc> = HashMap::new();
        for StackSource {
            path: file,
            file: sf,
            ..
        } in stack_files
        {
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
            for (name, head) in &sf.resources {
                if let Some(info) = resource::declared(&head.kind.value) {
                    self.names
                        .insert((sf.stack.value.clone(), name.clone()), info);
                }
            }
        }
    }

    /// `adopt:`: one physical id, or for a kind of several parts (an `auth`) a map of its
    /// adopt keys to ids.
    fn adopt(
        &mut self,
        file: &Arc<Path>,
        info: &KindInfo,
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
                    Some(kind) if !kind.attributes.contains(&attr.as_str()) => Some(format!(
                        "`{r}`: a resource of kind `{}` has no attribute `{attr}`; expected one of {}",
                        kind.name,
                        kind.attributes.join(", ")
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

/// What a kind's check sees of the validator: the resource being checked, its stack and the
/// stacks it uses.
struct ResourceCheck<'a> {
    v: &'a mut Validator,
    file: &'a Arc<Path>,
    stack: &'a str,
    uses: &'a [String],
    here: Loc,
}

impl Check for ResourceCheck<'_> {
    fn loc(&self, l: &serde_saphyr::Location) -> Loc {
        at(self.file, l)
    }

    fn here(&self) -> Loc {
        self.here.clone()
    }

    fn err(&mut self, loc: Loc, message: String) {
        self.v.err(loc, message);
    }

    fn template(&mut self, loc: &Loc, text: &str) -> Option<Template> {
        self.v.template(loc, text, self.stack, self.uses)
    }

    fn kind_of(&self, stack: &str, resource: &str) -> Option<&'static str> {
        let key = (stack.to_string(), resource.to_string());
        self.v.names.get(&key).map(|k| k.name)
    }

    fn defaults(&self) -> &Defaults {
        &self.v.defaults
    }
}

/// `a, b or c`.
fn or_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
