//! `stackwatch verify` against the emulator: it passes on the example app, and fails, naming
//! the leaking statement, when a stack grants `private/*` instead of the per-identity folder,
//! and when a trust policy loses its `aud` condition out of band.

mod common;

use std::path::Path;

use common::{AUTH_ROLE, Emulator, PASSWORD_ENV, example_config, run};

/// The test user's password in its variable, for every run here.
const PW: (&str, &str) = (PASSWORD_ENV, "Vf9!verify-Secret");

fn apply(emu: &Emulator, dir: &Path) {
    let (code, out, err) = run(&emu.env(), dir, &["apply", "--yes"], &[PW]);
    assert_eq!(code, 0, "apply failed:\n{out}\n{err}");
}

/// The rows of the table marked ✗.
fn failed(out: &str) -> Vec<&str> {
    out.lines().filter(|l| l.starts_with('✗')).collect()
}

#[tokio::test]
async fn verify_passes_on_the_example_app() {
    let emu = Emulator::start();
    let dir = example_config();
    apply(&emu, dir.path());
    let (code, out, err) = run(
        &emu.env(),
        dir.path(),
        &["verify", "--stack", "AuthStack"],
        &[PW],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(failed(&out).is_empty(), "{out}");
    for row in [
        "✓ admin@example.com: sign in (InitiateAuth, GetId, GetCredentialsForIdentity)",
        "✓ admin@example.com: Get/Put/Delete private/<own id>/… in StorageStack.Uploads",
        "✓ admin@example.com: Get/Put/Delete another identity's folder in StorageStack.Uploads",
        "✓ admin@example.com: Get/Put/Delete the root of StorageStack.Uploads",
        "✓ admin@example.com: invoke GET /notes on ApiStack.Api",
        "✓ admin@example.com: invoke DELETE /notes/{id} on ApiStack.Api",
        "✓ AuthStack.Auth: guest role",
        "✓ dev-notes-AuthStack-Auth-AuthRole trust: aud, amr, principal",
    ] {
        assert!(out.contains(row), "missing `{row}` in:\n{out}");
    }
    assert!(out.contains(" 0 failed"), "{out}");

    // The front end's settings.
    let (code, env, err) = run(
        &emu.env(),
        dir.path(),
        &[
            "outputs", "--format", "env", "--prefix", "VITE_", "--out", "app.env",
        ],
        &[PW],
    );
    assert_eq!(code, 0, "{env}\n{err}");
    let env = std::fs::read_to_string(dir.path().join("app.env")).unwrap();
    let outputs: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join(".stackwatch/outputs.json")).unwrap(),
    )
    .unwrap();
    let auth = &outputs["dev-notes-AuthStack"];
    for line in [
        "VITE_REGION=us-east-1".to_string(),
        format!("VITE_USER_POOL_ID={}", auth["UserPoolId"].as_str().unwrap()),
        format!(
            "VITE_USER_POOL_CLIENT_ID={}",
            auth["UserPoolClientId"].as_str().unwrap()
        ),
        format!(
            "VITE_IDENTITY_POOL_ID={}",
            auth["IdentityPoolId"].as_str().unwrap()
        ),
        format!(
            "VITE_API_URL={}",
            outputs["dev-notes-ApiStack"]["ApiEndpoint"]
                .as_str()
                .unwrap()
        ),
        "VITE_BUCKET=dev-notes-storagestack-uploads-".to_string(),
    ] {
        assert!(env.contains(&line), "missing `{line}` in:\n{env}");
    }
    // --json still works.
    let (code, json, _) = run(&emu.env(), dir.path(), &["outputs", "--json"], &[PW]);
    assert_eq!(code, 0);
    assert!(
        serde_json::from_str::<serde_json::Value>(&json).is_ok(),
        "{json}"
    );
}

#[tokio::test]
async fn verify_names_the_statement_that_grants_every_private_folder() {
    let emu = Emulator::start();
    let dir = example_config();
    let auth = dir.path().join("stacks/auth.yaml");
    let text = std::fs::read_to_string(&auth).unwrap();
    let leaky = text.replace(
        "/private/${cognito-identity.amazonaws.com:sub}/*",
        "/private/*",
    );
    assert_ne!(text, leaky);
    std::fs::write(&auth, leaky).unwrap();
    apply(&emu, dir.path());
    let (code, out, err) = run(&emu.env(), dir.path(), &["verify"], &[PW]);
    assert_eq!(code, 1, "{out}\n{err}");
    let failed = failed(&out);
    assert_eq!(failed.len(), 1, "{out}");
    let row = failed[0];
    assert!(
        row.contains(
            "admin@example.com: Get/Put/Delete another identity's folder in StorageStack.Uploads"
        ),
        "{row}"
    );
    // The leaking statement: the inline policy, its index, and the resource it grants.
    assert!(
        row.contains("allowed by policy `stackwatch` Statement["),
        "{row}"
    );
    assert!(row.contains("/private/*"), "{row}");
    // The user's own folder still works.
    assert!(
        out.contains("✓ admin@example.com: Get/Put/Delete private/<own id>/…"),
        "{out}"
    );
}

#[tokio::test]
async fn verify_fails_when_the_trust_policy_lacks_aud() {
    let emu = Emulator::start();
    let dir = example_config();
    apply(&emu, dir.path());
    // stackwatch always writes `aud`, so remove it out of band.
    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": "cognito-identity.amazonaws.com"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"}}
        }]
    });
    let aws = emu.aws().await;
    aws.iam
        .update_assume_role_policy()
        .role_name(AUTH_ROLE)
        .policy_document(trust.to_string())
        .send()
        .await
        .unwrap();
    let (code, out, err) = run(&emu.env(), dir.path(), &["verify"], &[PW]);
    assert_eq!(code, 1, "{out}\n{err}");
    let failed = failed(&out);
    assert_eq!(failed.len(), 1, "{out}");
    assert!(
        failed[0].contains("dev-notes-AuthStack-Auth-AuthRole trust: aud condition"),
        "{out}"
    );
    assert!(
        failed[0].contains("Statement[0] has no `cognito-identity.amazonaws.com:aud` condition"),
        "{out}"
    );
}

#[tokio::test]
async fn guests_get_nothing_beyond_what_is_declared() {
    let emu = Emulator::start();
    let dir = example_config();
    let auth = dir.path().join("stacks/auth.yaml");
    let text = std::fs::read_to_string(&auth).unwrap().replace(
        "    permissions:\n",
        "    allowUnauthenticated: true\n    permissions:\n      unauthenticated:\n        - actions: [\"s3:GetObject\"]\n          resources: [\"${StorageStack.Uploads.arn}/public/*\"]\n",
    );
    std::fs::write(&auth, text).unwrap();
    apply(&emu, dir.path());
    let (code, out, err) = run(&emu.env(), dir.path(), &["verify"], &[PW]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("✓ guest: Get/Put/Delete another identity's folder"),
        "{out}"
    );

    // Out of band, the guest role gains write access to every private folder.
    let aws = emu.aws().await;
    let leak = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::*"}]
    });
    aws.iam
        .put_role_policy()
        .role_name("dev-notes-AuthStack-Auth-UnauthRole")
        .policy_name("extra")
        .policy_document(leak.to_string())
        .send()
        .await
        .unwrap();
    let (code, out, _) = run(&emu.env(), dir.path(), &["verify"], &[PW]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.lines().any(
            |l| l.starts_with("✗ guest: Get/Put/Delete another identity's folder")
                && l.contains("policy `extra` Statement[0]")
        ),
        "{out}"
    );
    assert!(
        out.contains("! dev-notes-AuthStack-Auth-UnauthRole: guest write access"),
        "{out}"
    );
}

#[tokio::test]
async fn signing_in_as_one_user_shows_its_identity_and_reach_but_never_its_keys() {
    let emu = Emulator::start();
    let dir = example_config();
    apply(&emu, dir.path());
    // A user made by hand, as the console's Create User does.
    let new_pw = ("NEW_USER_PW", "Nw7!another-Secret");
    let (code, out, err) = run(
        &emu.env(),
        dir.path(),
        &[
            "users",
            "create",
            "--email",
            "someone@example.com",
            "--password-env",
            "NEW_USER_PW",
        ],
        &[PW, new_pw],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let args = [
        "verify",
        "--user",
        "someone@example.com",
        "--password-env",
        "NEW_USER_PW",
    ];
    let (code, out, err) = run(&emu.env(), dir.path(), &args, &[PW, new_pw]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("AuthStack.Auth as someone@example.com"),
        "{out}"
    );
    assert!(out.contains("  identity: us-east-1:"), "{out}");
    assert!(out.contains("  credentials expire: 20"), "{out}");
    for row in [
        "✓ someone@example.com: Get/Put/Delete private/<own id>/… in StorageStack.Uploads",
        "✓ someone@example.com: Get/Put/Delete another identity's folder in StorageStack.Uploads",
        "✓ someone@example.com: invoke GET /notes on ApiStack.Api",
    ] {
        assert!(out.contains(row), "missing `{row}` in:\n{out}");
    }
    // The keys the emulator hands out (moto's fixed TESTACCESSKEY12345 / ABCSECRETKEY for
    // every identity) never show.
    for secret in ["TESTACCESSKEY12345", "ABCSECRETKEY", "SessionToken"] {
        assert!(!out.contains(secret), "{secret} in:\n{out}");
    }
    assert!(!out.contains(new_pw.1), "the password in:\n{out}");

    // A wrong password: Cognito's reason, exit 1.
    let (code, out, _) = run(
        &emu.env(),
        dir.path(),
        &args,
        &[PW, ("NEW_USER_PW", "Wr0ng!password")],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("cannot sign in: InitiateAuth:"), "{out}");
}
