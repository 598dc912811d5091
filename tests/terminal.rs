//! What a person sees on a terminal: `stackwatch apply` run on a real pseudo-terminal, its
//! screen read back through a terminal emulator (vt100), snapshot-tested with colour (each
//! coloured run marked) and with `NO_COLOR` (no colour at all). Also: the shell completions.

mod common;

use std::io::Read;
use std::process::Stdio;

use common::pty::{COLS, Pty, ROWS};
use common::{Emulator, command, example_config};

/// Runs `stackwatch <args>` with stdout and stderr on a pseudo-terminal; returns the exit code
/// and every byte the terminal received.
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
        .envs(extra.iter().copied())
        .env("RUST_LOG", "off")
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
        for sub in ["apply", "watch", "users", "verify", "completions"] {
            assert!(text.contains(sub), "{shell} lacks {sub}");
        }
    }
}
