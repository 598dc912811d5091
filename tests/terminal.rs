//! What a person sees on a terminal: `stackwatch apply` and a `stackwatch watch` session run on
//! a real pseudo-terminal, the screen read back through a terminal emulator (vt100),
//! snapshot-tested with colour (each coloured run marked) and with `NO_COLOR` (no colour at
//! all): plans, progress and outputs, no log lines but short warnings unless `-v`, no spinner
//! left behind. Also: the shell completions.

mod common;

use std::io::Read;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::pty::{COLS, Pty, ROWS};
use common::{Emulator, PASSWORD_ENV, command, example_config, with_s3_actions};

/// Runs `stackwatch <args>` with stdout and stderr on a pseudo-terminal, `RUST_LOG=off` unless
/// `extra` sets it (`""`: the default logs); returns the exit code and every byte the terminal
/// received.
fn on_a_terminal(
    env: &[(&'static str, String)],
    dir: &std::path::Path,
    args: &[&str],
    extra: &[(&str, &str)],
) -> (i32, Vec<u8>) {
    let mut pty = Pty::open();
    let slave = pty.slave.take().unwrap();
    let mut child = command(env, dir, args)
        .env_remove("NO_COLOR")
        .env("RUST_LOG", "off")
        .envs(extra.iter().copied())
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave))
        .spawn()
        .unwrap();
    let mut master = pty.master;
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let mut buf = [0u8; 4096];
        // Ends with EIO once the child (the last holder of the slave side) has exited.
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            bytes.extend_from_slice(&buf[..n]);
        }
        bytes
    });
    let status = child.wait().unwrap();
    (status.code().unwrap_or(-1), reader.join().unwrap())
}

/// The screen the bytes leave, one string per line, with each change of foreground colour
/// marked as `<green>`…`</>`, so a snapshot shows the colours too.
fn screen(bytes: &[u8], marked: bool) -> String {
    let size = |n: u16| std::num::NonZeroU16::new(n).unwrap();
    let mut parser = vt100::Parser::new(size(ROWS), size(COLS), 0);
    parser.process(bytes);
    let screen = parser.screen();
    let (rows, cols) = screen.size();
    let mut out = Vec::new();
    for row in 0..rows.get() {
        let mut line = String::new();
        let mut current = vt100::Color::Default;
        for col in 0..cols.get() {
            let Some(cell) = screen.cell(row, col) else {
                continue;
            };
            let fg = cell.fgcolor();
            if marked && fg != current {
                if current != vt100::Color::Default {
                    line.push_str("</>");
                }
                if fg != vt100::Color::Default {
                    line.push_str(&format!("<{}>", colour_name(fg)));
                }
                current = fg;
            }
            line.push_str(if cell.has_contents() {
                cell.contents()
            } else {
                " "
            });
        }
        if marked && current != vt100::Color::Default {
            line.push_str("</>");
        }
        out.push(line.trim_end().to_string());
    }
    while out.last().is_some_and(String::is_empty) {
        out.pop();
    }
    out.join("\n")
}

fn colour_name(c: vt100::Color) -> String {
    match c {
        vt100::Color::Idx(1) => "red".into(),
        vt100::Color::Idx(2) => "green".into(),
        vt100::Color::Idx(3) => "yellow".into(),
        vt100::Color::Idx(5) => "magenta".into(),
        other => format!("{other:?}"),
    }
}

/// Whether `text` holds an SGR escape (colour, bold: `ESC [ digits m`); the spinner's cursor
/// movements (`ESC [ 2 A`) are not one.
fn has_sgr(text: &str) -> bool {
    text.split("\x1b[").skip(1).any(|rest| {
        let params = rest
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .map(|end| &rest[end..]);
        params.is_some_and(|tail| tail.starts_with('m'))
    })
}

/// The screen without what differs between runs: the ids AWS chose (from outputs.json), the
/// seconds things took, and the order of resources that deployed side by side.
fn normalized(text: &str, dir: &std::path::Path) -> String {
    let outputs: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(".stackwatch/outputs.json")).unwrap(),
    )
    .unwrap();
    let mut text = text.to_string();
    for values in outputs.as_object().unwrap().values() {
        for (name, value) in values.as_object().unwrap() {
            let value = value.as_str().unwrap();
            if name != "Region" {
                text = text.replace(value, &format!("<{name}>"));
            }
            // The API's id, in the ARNs of a policy (`https://<id>.execute-api…`).
            let api_id = value.split("://").nth(1).and_then(|h| h.split('.').next());
            if let Some(id) = api_id.filter(|_| name == "ApiEndpoint") {
                text = text.replace(id, "<ApiId>");
            }
        }
    }
    let mut lines: Vec<String> = text.lines().map(seconds_hidden).collect();
    // Progress lines of one deploy finish in any order: sorted.
    let mut i = 0;
    while i < lines.len() {
        let mut j = i;
        while j < lines.len() && lines[j].contains("✓") {
            j += 1;
        }
        lines[i..j].sort();
        i = j.max(i + 1);
    }
    lines.join("\n")
}

/// `(0.3 s)` and `in 1.2 s` become `(N s)` and `in N s`.
fn seconds_hidden(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find(" s") {
        let head = &rest[..at];
        let digits = head
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_digit() || *c == '.')
            .last()
            .map(|(i, _)| i);
        match digits {
            Some(start) if head[start..].contains('.') => {
                out.push_str(&head[..start]);
                out.push('N');
            }
            _ => out.push_str(head),
        }
        out.push_str(" s");
        rest = &rest[at + 2..];
    }
    out.push_str(rest);
    out
}

#[test]
fn apply_on_a_terminal_reads_like_sst_with_colour() {
    let emu = Emulator::start();
    let dir = example_config();
    let (code, bytes) = on_a_terminal(&emu.env(), dir.path(), &["apply", "--yes"], &[]);
    let raw = String::from_utf8_lossy(&bytes);
    assert_eq!(code, 0, "{raw}");
    // Colour reached the terminal: green for what is created, and for the closing line.
    assert!(raw.contains("\x1b[32m+\x1b[0m"), "{raw:?}");
    assert!(has_sgr(&raw) && !has_sgr("\x1b[2A\x1b[2K"));
    let marked = normalized(&screen(&bytes, true), dir.path());
    insta::assert_snapshot!(marked);
}

#[test]
fn apply_with_no_color_has_no_colour_and_the_same_text() {
    let emu = Emulator::start();
    let dir = example_config();
    let (code, bytes) = on_a_terminal(
        &emu.env(),
        dir.path(),
        &["apply", "--yes"],
        &[("NO_COLOR", "1")],
    );
    let raw = String::from_utf8_lossy(&bytes);
    assert_eq!(code, 0, "{raw}");
    assert!(!has_sgr(&raw), "a colour or bold escape: {raw:?}");
    let plain = normalized(&screen(&bytes, false), dir.path());
    insta::assert_snapshot!(plain);

    // A second apply: nothing changes, and the plan says so and lists nothing.
    let (code, bytes) = on_a_terminal(&emu.env(), dir.path(), &["plan"], &[("NO_COLOR", "1")]);
    assert_eq!(code, 0);
    let text = screen(&bytes, false);
    assert_eq!(
        text.trim(),
        "No changes. 9 resources match the stack files.",
        "{text}"
    );
    // --verbose lists every resource.
    let (_, bytes) = on_a_terminal(
        &emu.env(),
        dir.path(),
        &["plan", "--verbose"],
        &[("NO_COLOR", "1")],
    );
    let text = screen(&bytes, false);
    assert_eq!(text.matches(" no change").count(), 9, "{text}");
}

/// `stackwatch watch` with stdout and stderr on a pseudo-terminal and stdin closed (so: approval
/// auto, no console), the bytes the terminal receives collected as they arrive.
struct Watching {
    child: std::process::Child,
    bytes: Arc<Mutex<Vec<u8>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

/// How long a [`Watching::wait_for`] polls at most.
const WAIT: Duration = Duration::from_secs(60);

impl Watching {
    fn start(env: &[(&'static str, String)], dir: &std::path::Path) -> Watching {
        let mut pty = Pty::open();
        let slave = pty.slave.take().unwrap();
        let listen = format!("127.0.0.1:{}", common::free_port());
        let child = command(env, dir, &["watch", "--listen", &listen])
            .env_remove("NO_COLOR")
            .env(PASSWORD_ENV, "Watch-terminal-pw-1!")
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave))
            .spawn()
            .unwrap();
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let sink = bytes.clone();
        let mut master = pty.master;
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Ends with EIO once the child (the last holder of the slave side) has exited.
            while let Ok(n) = master.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Watching {
            child,
            bytes,
            reader: Some(reader),
        }
    }

    fn bytes(&self) -> Vec<u8> {
        self.bytes.lock().unwrap().clone()
    }

    /// Polls the screen (without colour) until `done` holds; panics with it after [`WAIT`].
    fn wait_for(&self, what: &str, done: impl Fn(&str) -> bool) {
        let what = format!("{what} on the screen");
        let shown = || screen(&self.bytes(), false);
        common::wait_until(&what, WAIT, shown, || done(&shown()).then_some(()));
    }

    /// SIGTERM, then every byte once it has exited; its exit code.
    fn stop(mut self) -> (i32, Vec<u8>) {
        // SAFETY: kill(2) on our own child's pid.
        assert_eq!(
            unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) },
            0
        );
        let status = self.child.wait().unwrap();
        self.reader.take().unwrap().join().unwrap();
        (status.code().unwrap_or(-1), self.bytes())
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether the screen shows a log line as `tracing`'s formatter writes it: a timestamp, a level
/// in capitals, a module path.
fn has_tracing_lines(text: &str) -> bool {
    text.lines().any(|l| {
        l.contains("stackwatch::")
            || ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]
                .iter()
                .any(|level| l.contains(&format!(" {level} ")))
            || l.split_whitespace()
                .next()
                .is_some_and(|w| w.len() > 20 && w.ends_with('Z') && w.starts_with("20"))
    })
}

/// Whether a spinner frame (indicatif's braille dots) is left on the screen.
fn has_spinner_residue(text: &str) -> bool {
    text.chars().any(|c| ('\u{2800}'..='\u{28ff}').contains(&c))
}

#[test]
fn watch_on_a_terminal_shows_the_plans_and_progress_and_short_warnings_only() {
    let emu = Emulator::start();
    let dir = example_config();
    let watching = Watching::start(&emu.env(), dir.path());
    let deploys = |n: usize| move |t: &str| t.matches("Deployed in").count() >= n;
    watching.wait_for("the first deploy", deploys(1));
    watching.wait_for("the outputs", |t| t.contains("IdentityPoolId:"));

    // Narrowed to one action, spelled as AWS documents it.
    let auth = dir.path().join("stacks/auth.yaml");
    let original = std::fs::read_to_string(&auth).unwrap();
    std::fs::write(&auth, with_s3_actions(&original, r#"["s3:GetObject"]"#)).unwrap();
    watching.wait_for("the edit deployed", deploys(2));

    // A broken save: reported as short lines, and nothing changes.
    let broken = original.replace("StorageStack.Uploads.arn", "StorageStack.Missing.arn");
    assert_ne!(broken, original);
    std::fs::write(&auth, broken).unwrap();
    watching.wait_for("the warning", |t| {
        t.contains("warning: the stack files are invalid")
    });

    let (code, bytes) = watching.stop();
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&bytes));
    let text = screen(&bytes, false);
    assert!(!has_tracing_lines(&text), "{text}");
    assert!(!has_spinner_residue(&text), "{text}");
    assert!(text.contains("\"s3:GetObject\""), "{text}");
    assert!(!text.contains("s3:getobject"), "{text}");
    assert!(
        text.contains("error: invalid config: ") && text.contains("stacks/auth.yaml:"),
        "{text}"
    );
    insta::assert_snapshot!(normalized(&text, dir.path()));
}

#[test]
fn apply_is_quiet_on_a_terminal_and_verbose_brings_the_full_logs_back() {
    let emu = Emulator::start();
    let dir = example_config();
    let default_logs = [
        (PASSWORD_ENV, "Apply-terminal-pw-1!"),
        ("NO_COLOR", "1"),
        ("RUST_LOG", ""),
    ];
    // Without a terminal this deploy logs a line per created resource; on one, none.
    let (code, bytes) = on_a_terminal(&emu.env(), dir.path(), &["apply", "--yes"], &default_logs);
    let text = screen(&bytes, false);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("Deployed in"), "{text}");
    assert!(!has_tracing_lines(&text), "{text}");

    let auth = dir.path().join("stacks/auth.yaml");
    let original = std::fs::read_to_string(&auth).unwrap();
    std::fs::write(&auth, with_s3_actions(&original, r#"["s3:GetObject"]"#)).unwrap();
    let (code, bytes) = on_a_terminal(
        &emu.env(),
        dir.path(),
        &["-v", "apply", "--yes"],
        &default_logs,
    );
    let text = screen(&bytes, false);
    assert_eq!(code, 0, "{text}");
    assert!(has_tracing_lines(&text), "{text}");
}

#[test]
fn completions_are_generated_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F _stackwatch"),
        ("zsh", "#compdef stackwatch"),
        ("fish", "complete -c stackwatch"),
    ] {
        let out = std::process::Command::new(common::bin())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(marker), "{shell}: {text}");
        // Every subcommand is offered.
        for sub in ["init", "apply", "watch", "users", "verify", "completions"] {
            assert!(text.contains(sub), "{shell} lacks {sub}");
        }
    }
}
