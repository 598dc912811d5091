"""The Dockerfile: hadolint-clean, and the runtime contract the README and tests/container.rs
rely on (non-root fixed UID, no shell, CA certificates, state dir, listen address, CMD)."""

import json
import subprocess

from conftest import REPO, tool

DOCKERFILE = REPO / "Dockerfile"


def instructions():
    """(INSTRUCTION, arguments) per logical line, continuation lines joined."""
    out, buf = [], []
    for line in DOCKERFILE.read_text().splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        cont = s.endswith("\\")
        buf.append(s[:-1].strip() if cont else s)
        if not cont:
            word, _, rest = " ".join(buf).partition(" ")
            out.append((word.upper(), rest.strip()))
            buf = []
    return out


def runtime_stage():
    ins = instructions()
    last_from = max(i for i, (w, _) in enumerate(ins) if w == "FROM")
    return ins[last_from:]


def test_hadolint_passes():
    r = subprocess.run([tool("hadolint"), "--failure-threshold", "info", str(DOCKERFILE)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_multi_stage_with_a_cached_dependency_layer():
    froms = [a for w, a in instructions() if w == "FROM"]
    assert len(froms) == 2, froms
    assert froms[0].startswith("rust:") and froms[0].endswith(" AS builder"), froms[0]
    text = DOCKERFILE.read_text()
    # Dependencies are built before the sources are copied.
    assert text.index("COPY Cargo.toml Cargo.lock") < text.index("cargo build") < text.index("COPY src")


def test_runtime_is_scratch_non_root_with_certificates_and_no_shell():
    stage = runtime_stage()
    assert stage[0] == ("FROM", "scratch")
    users = [a for w, a in stage if w == "USER"]
    assert users == ["10001:10001"], users
    copies = " ".join(a for w, a in stage if w == "COPY")
    assert "/rootfs/etc /etc" in copies  # passwd, group, ssl/certs/ca-certificates.crt
    assert "ca-certificates.crt" in DOCKERFILE.read_text()
    assert "/bin/sh" not in copies and "busybox" not in copies
    assert not [a for w, a in stage if w == "RUN"], "a RUN in the runtime stage needs a shell"


def test_defaults_entrypoint_cmd_port_and_environment():
    stage = runtime_stage()
    get = lambda word: [a for w, a in stage if w == word]
    assert [json.loads(a) for a in get("ENTRYPOINT")] == [["stackwatch"]]
    assert [json.loads(a) for a in get("CMD")] == [
        ["watch", "--config", "/config", "--approve", "auto", "--console", "off", "--log-format", "json"]
    ]
    assert get("EXPOSE") == ["9464"]
    env = " ".join(get("ENV"))
    assert "STACKWATCH_STATE_DIR=/state" in env
    assert "STACKWATCH_LISTEN=0.0.0.0:9464" in env
    assert "--chown=10001:10001 /rootfs/state /state" in " ".join(get("COPY"))


def test_dockerignore_sends_only_what_the_build_needs():
    lines = [l for l in (REPO / ".dockerignore").read_text().splitlines() if l and not l.startswith("#")]
    assert lines[0] == "*"
    assert set(lines[1:]) == {"!Cargo.toml", "!Cargo.lock", "!src/"}
