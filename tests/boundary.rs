//! `defaults.iam` in stackwatch.yaml: every role stackwatch creates carries the permissions
//! boundary and the path; a boundary removed or swapped out of band is put back; a new path
//! is a replacement held by the guard; and `verify` reports an action the permissions allow
//! but the boundary does not as ✗, naming the boundary.

mod common;

use std::path::Path;

use stackwatch::aws::Aws;

use common::{Emulator, GUEST, apply_yes, edit, example_config, stackwatch};

const ACCOUNT: &str = "123456789012";
const ROLES: [&str; 2] = [
    "dev-notes-AuthStack-Auth-AuthRole",
    "dev-notes-AuthStack-Auth-UnauthRole",
];

fn boundary_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:policy/{name}")
}

/// A managed policy as the account's administrators would make it.
async fn policy(aws: &Aws, name: &str, actions: &str) {
    let doc = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":{actions},"Resource":"*"}}]}}"#
    );
    aws.iam
        .create_policy()
        .policy_name(name)
        .policy_document(doc)
        .send()
        .await
        .expect("create boundary policy");
}

/// (path, boundary ARN) of a role.
async fn role(aws: &Aws, name: &str) -> (String, Option<String>) {
    let out = aws.iam.get_role().role_name(name).send().await.unwrap();
    let r = out.role().unwrap();
    (
        r.path().to_string(),
        r.permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn())
            .map(str::to_string),
    )
}

fn with_iam(dir: &Path, boundary: &str, path: &str) {
    edit(
        dir,
        "stackwatch.yaml",
        "  removal: retain\n",
        &format!(
            "  removal: retain\n  iam:\n    permissionsBoundary: {boundary}\n    path: {path}\n"
        ),
    );
}

#[tokio::test]
async fn a_boundary_reaches_every_role_and_its_drift_is_reverted() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    policy(&aws, "Boundary", r#"["s3:*","execute-api:Invoke"]"#).await;
    policy(&aws, "Other", r#""s3:GetObject""#).await;
    let dir = example_config();
    edit(
        dir.path(),
        "stacks/auth.yaml",
        "    login: [email]\n",
        GUEST,
    );
    with_iam(dir.path(), &boundary_arn("Boundary"), "/app/notes/");
    apply_yes(&emu, dir.path(), &[]);
    for name in ROLES {
        assert_eq!(
            role(&aws, name).await,
            ("/app/notes/".to_string(), Some(boundary_arn("Boundary"))),
            "{name}"
        );
    }

    // Removed from one role and swapped on the other: both are put back.
    aws.iam
        .delete_role_permissions_boundary()
        .role_name(ROLES[0])
        .send()
        .await
        .unwrap();
    aws.iam
        .put_role_permissions_boundary()
        .role_name(ROLES[1])
        .permissions_boundary(boundary_arn("Other"))
        .send()
        .await
        .unwrap();
    let (code, out, err) = stackwatch(&emu, dir.path(), &["plan"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("~ permissionsBoundary"), "{out}");
    assert!(out.contains("Plan: 0 to create, 2 to update"), "{out}");
    apply_yes(&emu, dir.path(), &[]);
    for name in ROLES {
        assert_eq!(
            role(&aws, name).await.1,
            Some(boundary_arn("Boundary")),
            "{name}"
        );
    }

    // A boundary dropped from the config is removed from the roles.
    let text = std::fs::read_to_string(dir.path().join("stackwatch.yaml")).unwrap();
    let without: String = text
        .lines()
        .filter(|l| !l.contains("permissionsBoundary"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(dir.path().join("stackwatch.yaml"), without).unwrap();
    apply_yes(&emu, dir.path(), &[]);
    for name in ROLES {
        assert_eq!(role(&aws, name).await, ("/app/notes/".to_string(), None));
    }
    emu.assert_no_validation_refusals();
}

#[tokio::test]
async fn a_new_path_replaces_the_roles_only_with_allow_replace() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let dir = example_config();
    apply_yes(&emu, dir.path(), &[]);
    assert_eq!(role(&aws, ROLES[0]).await.0, "/stackwatch/");

    edit(
        dir.path(),
        "stackwatch.yaml",
        "  removal: retain\n",
        "  removal: retain\n  iam:\n    path: /teams/notes/\n",
    );
    let (code, out, err) = stackwatch(&emu, dir.path(), &["plan"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("AuthStack.Auth.AuthenticatedRole"), "{out}");
    assert!(out.contains("must be replaced"), "{out}");
    assert!(out.contains("# forces replacement"), "{out}");
    let (_, out, err) = stackwatch(&emu, dir.path(), &["apply", "--yes"]);
    assert!(
        format!("{out}\n{err}").contains("--allow-replace"),
        "{out}\n{err}"
    );
    assert_eq!(role(&aws, ROLES[0]).await.0, "/stackwatch/", "held");

    apply_yes(&emu, dir.path(), &["--allow-replace"]);
    assert_eq!(role(&aws, ROLES[0]).await.0, "/teams/notes/");
    // The identity pool hands out the new role.
    let (code, out, err) = stackwatch(&emu, dir.path(), &["verify", "--stack", "AuthStack"]);
    assert_eq!(code, 0, "{out}\n{err}");
}

#[tokio::test]
async fn verify_reports_what_the_boundary_denies_naming_it() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    // The boundary lets the API be invoked, and nothing in S3.
    policy(&aws, "ApiOnly", r#""execute-api:Invoke""#).await;
    let dir = example_config();
    with_iam(dir.path(), &boundary_arn("ApiOnly"), "/stackwatch/");
    apply_yes(&emu, dir.path(), &[]);
    let (code, out, err) = stackwatch(&emu, dir.path(), &["verify", "--stack", "AuthStack"]);
    assert_ne!(code, 0, "{out}\n{err}");
    let failed: Vec<&str> = out.lines().filter(|l| l.starts_with('✗')).collect();
    let own = failed
        .iter()
        .find(|l| l.contains("private/<own id>/"))
        .unwrap_or_else(|| panic!("no ✗ for the own folder:\n{out}"));
    assert!(own.contains("permissions boundary"), "{own}");
    assert!(own.contains(&boundary_arn("ApiOnly")), "{own}");
    assert!(
        out.contains("✓ admin@example.com: invoke GET /notes on ApiStack.Api"),
        "{out}"
    );
}
