//! Test users against the emulator, through the real binary and SDK: a declared user is created
//! on apply and signs in; `users create` makes a confirmed user who signs in, refuses an
//! existing user, reports Cognito's reason for a weak password (leaving no user behind), and
//! refuses to run without a password source; no password ever appears in any output.

mod common;

use std::path::Path;

use common::{Emulator, PASSWORD_ENV, command, example_config, run};
use stackwatch::aws::Aws;

/// The example app's test user.
pub const DECLARED: &str = "admin@example.com";
const PASSWORD: &str = "Xq7!declared-Secret";
/// The test user's password in its variable: the first extra variable of every run here.
const PW: (&str, &str) = (PASSWORD_ENV, PASSWORD);

fn outputs(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join(".stackwatch/outputs.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The guide's flow: InitiateAuth, GetId, GetCredentialsForIdentity. Returns the identity id.
async fn sign_in(aws: &Aws, dir: &Path, email: &str, password: &str) -> Result<String, String> {
    let o = outputs(dir);
    let auth = &o["dev-notes-AuthStack"];
    let (pool, client, ipool) = (
        auth["UserPoolId"].as_str().unwrap(),
        auth["UserPoolClientId"].as_str().unwrap(),
        auth["IdentityPoolId"].as_str().unwrap(),
    );
    let out = aws
        .idp
        .initiate_auth()
        .client_id(client)
        .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", email)
        .auth_parameters("PASSWORD", password)
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    assert!(
        out.challenge_name().is_none(),
        "a confirmed user gets no challenge"
    );
    let token = out.authentication_result().unwrap().id_token().unwrap();
    let provider = format!("cognito-idp.us-east-1.amazonaws.com/{pool}");
    let id = aws
        .identity
        .get_id()
        .identity_pool_id(ipool)
        .logins(&provider, token)
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    let id = id.identity_id().unwrap().to_string();
    let creds = aws
        .identity
        .get_credentials_for_identity()
        .identity_id(&id)
        .logins(&provider, token)
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    assert!(creds.credentials().unwrap().access_key_id().is_some());
    Ok(id)
}

#[tokio::test]
async fn users_are_created_confirmed_and_sign_in() {
    let emu = Emulator::start();
    let env = emu.env();
    let dir = example_config();
    let (code, out, err) = run(&env, dir.path(), &["apply", "--yes"], &[PW]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("✓ AuthStack.Auth.TestUser(admin@example.com) created"),
        "{out}"
    );
    let aws = emu.aws().await;

    // The declared user signs in with the password from its variable.
    let declared = sign_in(&aws, dir.path(), DECLARED, PASSWORD).await.unwrap();
    assert!(declared.starts_with("us-east-1:"), "{declared}");
    assert!(
        sign_in(&aws, dir.path(), DECLARED, "Wrong-passw0rd!")
            .await
            .is_err()
    );

    // A second apply leaves it alone.
    let (code, out, err) = run(&env, dir.path(), &["plan"], &[PW]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("No changes."), "{out}");

    // users create, with the password from a file.
    let file = dir.path().join("pw.txt");
    std::fs::write(&file, "Fil3-based!pw\n").unwrap();
    let (code, out, err) = run(
        &env,
        dir.path(),
        &[
            "users",
            "create",
            "--stack",
            "AuthStack",
            "--email",
            "new@example.com",
            "--password-file",
            "pw.txt",
        ],
        &[PW],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let id = sign_in(&aws, dir.path(), "new@example.com", "Fil3-based!pw")
        .await
        .unwrap();
    assert_ne!(id, declared, "each user has their own identity");

    // An existing user is reported, never reset: the old password still works.
    let (code, _, err) = run(
        &env,
        dir.path(),
        &[
            "users",
            "create",
            "--email",
            "new@example.com",
            "--password-env",
            "OTHER_PW",
        ],
        &[PW, ("OTHER_PW", "0ther-Passw0rd!")],
    );
    assert_eq!(code, 1);
    assert!(err.contains("already exists"), "{err}");
    assert!(
        err.contains("creating Cognito test user (new@example.com in us-east-1_"),
        "{err}"
    );
    sign_in(&aws, dir.path(), "new@example.com", "Fil3-based!pw")
        .await
        .unwrap();

    // A password the pool refuses gets Cognito's reason, and leaves no user behind.
    let (code, _, err) = run(
        &env,
        dir.path(),
        &[
            "users",
            "create",
            "--email",
            "weak@example.com",
            "--password-env",
            "WEAK_PW",
        ],
        &[PW, ("WEAK_PW", "weakpass")],
    );
    assert_eq!(code, 1);
    assert!(err.contains("InvalidPasswordException"), "{err}");
    let (code, out, _) = run(&env, dir.path(), &["users", "list"], &[PW]);
    assert_eq!(code, 0);
    assert!(
        out.lines()
            .any(|l| l.starts_with("new@example.com ") && l.contains("CONFIRMED")),
        "{out}"
    );
    assert!(!out.contains("weak@example.com"), "{out}");

    // No password source and no terminal: refused before any AWS call.
    let (code, _, err) = run(
        &env,
        dir.path(),
        &["users", "create", "--email", "x@example.com"],
        &[PW],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("--password-env VAR or --password-file FILE"),
        "{err}"
    );

    // A missing variable is named, with where it was declared.
    let (code, _, err) = run(&env, dir.path(), &["plan"], &[(PASSWORD_ENV, "")]);
    assert_eq!(code, 1);
    assert!(
        err.contains("stacks/auth.yaml:12:22: test user `admin@example.com`: the environment variable `STACKWATCH_TEST_PASSWORD`"),
        "{err}"
    );

    // users delete.
    let (code, out, err) = run(
        &env,
        dir.path(),
        &["users", "delete", "--email", "new@example.com"],
        &[PW],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        sign_in(&aws, dir.path(), "new@example.com", "Fil3-based!pw")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn test_users_exist_only_in_the_stages_they_are_declared_for() {
    let emu = Emulator::start();
    let env = emu.env();
    let dir = example_config();
    // Another stage: no test user, and no password needed.
    let out = command(&emu.env(), dir.path(), &["--stage", "prod", "plan"])
        .env_remove(PASSWORD_ENV)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!text.contains("TestUser"), "{text}");
    let (code, out, _) = run(&env, dir.path(), &["plan"], &[PW]);
    assert_eq!(code, 0);
    assert!(
        out.contains("+ AuthStack.Auth.TestUser(admin@example.com)"),
        "{out}"
    );
}

#[tokio::test]
async fn passwords_never_appear_in_any_output() {
    let emu = Emulator::start();
    let env = emu.env();
    let dir = example_config();
    let weak = "weakpassword-marker";
    let cli_pw = "Cl1-Secret!marker";
    std::fs::write(dir.path().join("pw.txt"), cli_pw).unwrap();
    let debug = [PW, ("RUST_LOG", "debug")];
    let mut all = String::new();
    let mut record = |what: &str, (code, out, err): (i32, String, String)| {
        all.push_str(&format!("== {what} (exit {code})\n{out}\n{err}\n"));
        code
    };
    let d = dir.path();
    assert_eq!(record("validate", run(&env, d, &["validate"], &[PW])), 0);
    assert_eq!(record("plan", run(&env, d, &["plan"], &[PW])), 0);
    assert_eq!(
        record("plan --json", run(&env, d, &["plan", "--json"], &[PW])),
        0
    );
    assert_eq!(
        record("apply", run(&env, d, &["apply", "--yes"], &debug)),
        0
    );
    assert_eq!(record("plan again", run(&env, d, &["plan"], &debug)), 0);
    let create = [
        "users",
        "create",
        "--email",
        "cli@example.com",
        "--password-file",
        "pw.txt",
    ];
    assert_eq!(record("users create", run(&env, d, &create, &debug)), 0);
    assert_eq!(
        record("users create again", run(&env, d, &create, &debug)),
        1
    );
    let weak_create = [
        "users",
        "create",
        "--email",
        "w@example.com",
        "--password-env",
        "WEAK",
    ];
    assert_eq!(
        record(
            "weak password",
            run(
                &env,
                d,
                &weak_create,
                &[PW, ("WEAK", weak), ("RUST_LOG", "debug")]
            )
        ),
        1
    );
    assert_eq!(
        record("users list", run(&env, d, &["users", "list"], &[PW])),
        0
    );
    assert_eq!(record("verify", run(&env, d, &["verify"], &debug)), 0);
    // A wrong password for the declared user: verify fails, and still says nothing of it.
    let wrong = "Wr0ng!password-marker";
    assert_eq!(
        record(
            "verify, wrong password",
            run(&env, d, &["verify"], &[(PASSWORD_ENV, wrong)])
        ),
        1
    );
    assert_eq!(
        record(
            "outputs",
            run(&env, d, &["outputs", "--format", "env"], &[PW])
        ),
        0
    );
    assert_eq!(
        record("destroy", run(&env, d, &["destroy", "--yes"], &debug)),
        0
    );
    assert!(all.contains("admin@example.com"), "{all}");
    for secret in [PASSWORD, cli_pw, weak, wrong] {
        assert!(!all.contains(secret), "`{secret}` leaked:\n{all}");
    }
    std::fs::write(d.join("captured.txt"), &all).unwrap();
}
