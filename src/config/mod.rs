//! Config: the YAML files under the config directory → a validated [`Config`].
//!
//! `raw` mirrors the files (serde, unknown keys refused, spans kept); this module reads the
//! files, turns parse errors into [`Diagnostic`]s with file, line and column, and checks what
//! serde cannot: names, references, `uses`, cycles, IAM action shapes. Every problem found is
//! reported, not just the first. Nothing here talks to AWS.

mod model;
pub mod raw;
mod read;
mod validate;

pub use crate::source::template;
pub use crate::source::{ConfigError, Diagnostic, Loc};
use crate::source::{at, whole_file, yaml_message};
pub use model::*;
pub use raw::Removal;
pub use read::{Document, digest, from_documents, is_stack_file, load};

/// What the unit tests of the layers above build configs with.
#[cfg(test)]
pub(crate) mod testing {
    /// A config directory: stackwatch.yaml for app `notes`, stage `dev`, us-east-1, with
    /// `app_tail` appended, and `stacks/` holding `stacks` (file name, text).
    pub(crate) fn app_dir(app_tail: &str, stacks: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("stackwatch.yaml"),
            format!("app: notes\nstage: dev\nregion: us-east-1\n{app_tail}"),
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("stacks")).unwrap();
        for (name, text) in stacks {
            std::fs::write(dir.path().join("stacks").join(name), text).unwrap();
        }
        dir
    }

    /// The desired graph of one stack file with `app_tail` appended to stackwatch.yaml.
    pub(crate) fn desired(app_tail: &str, stack: &str) -> crate::desired::Desired {
        let dir = app_dir(app_tail, &[("app.yaml", stack)]);
        crate::desired::Desired::build(super::load(dir.path(), None).unwrap()).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::auth::AuthKind;
    use crate::resource::role::RoleIam;
    use std::path::Path;

    fn dir_with(stacks: &[(&str, &str)]) -> tempfile::TempDir {
        testing::app_dir("", stacks)
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

    /// The `auth` resource's role settings when stackwatch.yaml ends with `app_tail`.
    fn role_iam(app_tail: &str, auth_tail: &str) -> Result<RoleIam, Vec<String>> {
        let stack = format!("stack: A\nresources:\n  Auth:\n    kind: auth\n{auth_tail}");
        let dir = testing::app_dir(app_tail, &[("a.yaml", &stack)]);
        match load(dir.path(), None) {
            Ok(c) => match c.stacks[0].resources[0].spec.get::<AuthKind>() {
                Some(auth) => Ok(RoleIam::clone(&auth.iam)),
                None => panic!("{:?}", c.stacks[0].resources[0].spec),
            },
            Err(e) => Err(e
                .0
                .iter()
                .map(|d| {
                    format!(
                        "{}:{}:{}: {}",
                        d.loc.file.display().to_string().rsplit('/').next().unwrap(),
                        d.loc.line,
                        d.loc.col,
                        d.message
                    )
                })
                .collect()),
        }
    }

    #[test]
    fn iam_defaults_reach_auth_and_its_own_iam_overrides_each_field() {
        assert_eq!(role_iam("", ""), Ok(RoleIam::default()));
        let b = "arn:aws:iam::123456789012:policy/Boundary";
        let defaults =
            format!("defaults:\n  iam:\n    permissionsBoundary: {b}\n    path: /app/\n");
        assert_eq!(
            role_iam(&defaults, ""),
            Ok(RoleIam {
                permissions_boundary: Some(b.into()),
                path: "/app/".into()
            })
        );
        assert_eq!(
            role_iam(&defaults, "    iam:\n      path: /\n"),
            Ok(RoleIam {
                permissions_boundary: Some(b.into()),
                path: "/".into()
            })
        );
        let aws_managed = "arn:aws:iam::aws:policy/PowerUserAccess";
        let own = format!("    iam:\n      permissionsBoundary: {aws_managed}\n");
        assert_eq!(
            role_iam("", &own).unwrap().permissions_boundary.as_deref(),
            Some(aws_managed)
        );
    }

    #[test]
    fn a_bad_boundary_or_path_is_an_error_at_its_value() {
        let e = role_iam(
            "defaults:\n  iam:\n    permissionsBoundary: arn:aws:iam::123:role/x\n",
            "    iam:\n      path: app\n",
        )
        .unwrap_err();
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].starts_with("stackwatch.yaml:6:26: expected `permissionsBoundary` to be an IAM managed policy's ARN"), "{e:?}");
        assert!(
            e[1].starts_with("a.yaml:6:13: expected an IAM `path` that begins and ends with `/`"),
            "{e:?}"
        );
        let e = role_iam("", "    iam:\n      path: /with space/\n").unwrap_err();
        assert_eq!(e.len(), 1, "{e:?}");
        let e = errors(&[(
            "a.yaml",
            "stack: A\nresources:\n  B:\n    kind: bucket\n    iam:\n      path: /x/\n",
        )]);
        assert_eq!(
            e,
            ["5:5: `iam` is not a field of kind `bucket`; it belongs to kind `auth`"]
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
            ["5:5: `login` is not a field of kind `bucket`; it belongs to kind `auth`"]
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
    fn adopt_takes_the_shape_its_kind_says() {
        let e = errors(&[(
            "a.yaml",
            "stack: A\nresources:\n  Auth:\n    kind: auth\n    adopt: us-east-1_abc\n  T:\n    kind: table\n    partitionKey: {name: id, type: string}\n    adopt: {table: x}\n  Auth2:\n    kind: auth\n    adopt: {pool: x}\n",
        )]);
        assert_eq!(
            e,
            [
                "5:12: expected `adopt` of kind `auth` to be a map of userPool, identityPool, authenticatedRole or unauthenticatedRole, such as `{userPool: …}`",
                "12:12: expected `adopt` keys userPool, identityPool, authenticatedRole or unauthenticatedRole, found `pool`",
                "9:12: expected `adopt` to be one physical id",
            ]
        );
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
