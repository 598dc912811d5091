//! Property test of the config loader: arbitrary bytes and mutated copies of the example app's
//! valid files never make it panic, and every problem it reports has a location (line and
//! column >= 1), except whole-file problems (a file or directory that cannot be read).
//!
//! Seeded and bounded: `STACKWATCH_FUZZ_CASES` (default 1500) and `STACKWATCH_FUZZ_SEED` change
//! the run. A failing case prints its seed and the files, to be kept as a regression test
//! beside these; none has been found so far.

#[path = "common/fault_proxy.rs"]
mod fault_proxy;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use fault_proxy::Rng;
use stackwatch::Error;
use stackwatch::session;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn example(file: &str) -> Vec<u8> {
    std::fs::read(repo().join("config").join(file)).unwrap()
}

const FILES: [&str; 4] = [
    "stackwatch.yaml",
    "stacks/storage.yaml",
    "stacks/api.yaml",
    "stacks/auth.yaml",
];

/// Fragments that mean something to YAML or to the loader.
const TOKENS: &[&str] = &[
    ":",
    ": ",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "\n",
    "\n  ",
    "\t",
    "#",
    "&a ",
    "*a",
    "!!str ",
    "!!binary ",
    "'",
    "\"",
    "${",
    "}",
    "${app.account}",
    "${AuthStack.Auth.userPoolId}",
    "${a:b}",
    "${*}",
    "|\n",
    ">-\n",
    "---\n",
    "...\n",
    "? ",
    "~",
    "null",
    "0x1F",
    "1e400",
    "\u{feff}",
    "\u{0}",
    "é",
    "<<: *a\n",
    "uses: [AuthStack]\n",
    "kind: auth\n",
    "\r",
    "%YAML 1.2\n",
    "\\u0000",
];

fn mutate(rng: &mut Rng, data: &mut Vec<u8>) {
    let len = data.len() as u64;
    match rng.below(8) {
        0 if !data.is_empty() => {
            let i = rng.below(len) as usize;
            data[i] ^= 1 << rng.below(8);
        }
        1 if !data.is_empty() => {
            let i = rng.below(len) as usize;
            let n = (rng.below(16) as usize).min(data.len() - i);
            data.drain(i..i + n);
        }
        2 => {
            let i = rng.below(len + 1) as usize;
            let t = TOKENS[rng.below(TOKENS.len() as u64) as usize];
            data.splice(i..i, t.bytes());
        }
        3 => {
            let i = rng.below(len + 1) as usize;
            data.truncate(i);
        }
        4 => {
            // Duplicate a line.
            let text = String::from_utf8_lossy(data).into_owned();
            let mut lines: Vec<&str> = text.split('\n').collect();
            let i = rng.below(lines.len() as u64) as usize;
            lines.insert(i, lines[i]);
            *data = lines.join("\n").into_bytes();
        }
        5 => {
            // Swap two lines.
            let text = String::from_utf8_lossy(data).into_owned();
            let mut lines: Vec<&str> = text.split('\n').collect();
            let a = rng.below(lines.len() as u64) as usize;
            let b = rng.below(lines.len() as u64) as usize;
            lines.swap(a, b);
            *data = lines.join("\n").into_bytes();
        }
        6 => {
            // Change indentation of a line.
            let text = String::from_utf8_lossy(data).into_owned();
            let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
            let i = rng.below(lines.len() as u64) as usize;
            if rng.below(2) == 0 {
                lines[i].insert_str(0, "  ");
            } else {
                lines[i] = lines[i].trim_start().to_string();
            }
            *data = lines.join("\n").into_bytes();
        }
        _ => {
            let i = rng.below(len + 1) as usize;
            let b = rng.next_u64() as u8;
            data.insert(i, b);
        }
    }
}

/// Writes the files, loads them, and checks the property; returns a description on failure.
fn check(dir: &Path, files: &[(&str, Vec<u8>)]) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.join("stacks")).unwrap();
    for (name, data) in files {
        std::fs::write(dir.join(name), data).unwrap();
    }
    let loaded = catch_unwind(AssertUnwindSafe(|| session::load(dir, None)));
    let result = loaded.map_err(|p| {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        format!("the loader panicked: {msg}")
    })?;
    match result {
        Ok(_) => Ok(()),
        Err(Error::Config(e)) => {
            if e.0.is_empty() {
                return Err("an error without any problem in it".into());
            }
            for d in &e.0 {
                let whole_file = d.message.starts_with("cannot read");
                if !whole_file && (d.loc.line < 1 || d.loc.col < 1) {
                    return Err(format!("a problem without a location: {d}"));
                }
                if d.message.trim().is_empty() {
                    return Err(format!("a problem without a message: {d}"));
                }
            }
            Ok(())
        }
        Err(other) => Err(format!("not a config error: {other}")),
    }
}

fn report(seed: u64, case: usize, files: &[(&str, Vec<u8>)], why: &str) -> String {
    let mut s = format!("seed {seed}, case {case}: {why}\n");
    for (name, data) in files {
        s.push_str(&format!(
            "--- {name}: {:?}\n",
            String::from_utf8_lossy(data)
        ));
    }
    s
}

#[test]
fn arbitrary_and_mutated_files_never_panic_and_every_problem_has_a_location() {
    let seed = std::env::var("STACKWATCH_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6);
    let cases: usize = std::env::var("STACKWATCH_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1500);
    let mut rng = Rng::new(seed);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("config");
    let valid: Vec<(&str, Vec<u8>)> = FILES.iter().map(|f| (*f, example(f))).collect();
    assert_eq!(check(&dir, &valid), Ok(()), "the example app must load");

    let (mut ok, mut rejected) = (0, 0);
    for case in 0..cases {
        let mut files = valid.clone();
        if case % 5 == 0 {
            // Arbitrary bytes in place of one file.
            let target = rng.below(files.len() as u64) as usize;
            let n = rng.below(300) as usize;
            files[target].1 = (0..n).map(|_| rng.next_u64() as u8).collect();
        } else {
            let target = rng.below(files.len() as u64) as usize;
            for _ in 0..=rng.below(4) {
                mutate(&mut rng, &mut files[target].1);
            }
        }
        if let Err(why) = check(&dir, &files) {
            panic!("{}", report(seed, case, &files, &why));
        }
        if session::load(&dir, None).is_ok() {
            ok += 1;
        } else {
            rejected += 1;
        }
    }
    eprintln!("{cases} cases: {ok} loaded, {rejected} rejected with located problems");
    assert!(
        rejected > cases / 2,
        "mutations should mostly break the files"
    );
}

#[test]
fn missing_files_are_whole_file_problems() {
    let tmp = tempfile::tempdir().unwrap();
    let Err(err) = session::load(tmp.path(), None) else {
        panic!("an empty dir is invalid")
    };
    let Error::Config(e) = err else {
        panic!("not a config error: {err}")
    };
    assert!(
        e.0.iter()
            .any(|d| d.loc.line == 0 && d.loc.file.ends_with("stackwatch.yaml")),
        "{e}"
    );
}
