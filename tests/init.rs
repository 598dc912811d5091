//! `stackwatch init`: the app it writes into a new directory validates and deploys against the
//! emulator as written, and a second `init` there refuses and changes nothing.

mod common;

use common::{Emulator, PASSWORD_ENV, repo_root, run};

#[test]
fn an_initialized_app_validates_and_applies_and_init_never_overwrites() {
    let root = tempfile::tempdir().unwrap();
    let (code, out, err) = run(&[], root.path(), &["init", "notes"], &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    let app = root.path().join("notes");
    for file in [
        "stackwatch.yaml",
        "stacks/auth.yaml",
        "schema/stack.schema.json",
    ] {
        assert!(out.contains(&format!("notes/{file}")), "{out}");
        assert_eq!(
            std::fs::read_to_string(app.join(file)).unwrap(),
            std::fs::read_to_string(repo_root().join("config").join(file)).unwrap(),
            "{file}"
        );
    }
    assert!(out.contains("stackwatch --config notes validate"), "{out}");
    assert!(out.contains("stackwatch --config notes apply"), "{out}");

    // Again: refused, naming the file, with nothing changed.
    let auth = app.join("stacks/auth.yaml");
    std::fs::write(&auth, "# mine\n").unwrap();
    let (code, out, err) = run(&[], root.path(), &["init", "notes"], &[]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        err.contains("notes/stackwatch.yaml already exists"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&auth).unwrap(), "# mine\n");
    std::fs::write(
        &auth,
        std::fs::read(repo_root().join("config/stacks/auth.yaml")).unwrap(),
    )
    .unwrap();

    let pw = [(PASSWORD_ENV, "Init-test-pw-1!")];
    let (code, out, err) = run(&[], &app, &["validate"], &pw);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("valid (3 stacks"), "{out}");
    let emu = Emulator::start();
    let (code, out, err) = run(&emu.env(), &app, &["apply", "--yes"], &pw);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("Deployed in") && out.contains("UserPoolId:"),
        "{out}"
    );
}
