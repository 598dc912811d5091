"""The crate's modules form layers with no way back up: the graph of `crate::<module>` uses
between top-level modules (outside test code) has no cycle, clap stays in cli/, and nothing
below the CLI reaches into cli/ or verify/ or the daemon."""

import re

from conftest import REPO

SRC = REPO / "src"
USE = re.compile(r"crate::([a-z_]+)")


def top_level(path):
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".rs")


def non_test_text(path):
    """The code outside test modules, without comment lines (a doc comment that names a module
    is not a use of it)."""
    text = path.read_text().split("#[cfg(test)]", 1)[0]
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))


def graph():
    deps = {}
    for path in SRC.rglob("*.rs"):
        top = top_level(path)
        if top in ("main", "lib"):
            continue
        uses = {m for m in USE.findall(non_test_text(path)) if m != top}
        deps.setdefault(top, set()).update(uses)
    return deps


def cycles(deps):
    found, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(deps.get(node, ())):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = "done"

    for node in sorted(deps):
        if node not in state:
            visit(node, [])
    return found


def test_the_module_graph_has_no_cycle():
    deps = graph()
    assert "engine" in deps and "resource" in deps, deps
    assert cycles(deps) == []


def test_the_cycle_finder_finds_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


def test_lower_layers_never_reach_up():
    deps = graph()
    for low in ("aws", "config", "resource", "desired", "engine", "plan", "policy", "render"):
        assert not deps.get(low, set()) & {"cli", "daemon", "verify", "session"}, (low, deps[low])


def test_clap_stays_in_cli():
    for path in SRC.rglob("*.rs"):
        if top_level(path) in ("cli", "main"):
            continue
        assert "clap" not in non_test_text(path), path


def test_the_console_knows_neither_the_daemon_nor_the_cli():
    deps = graph()
    assert "console" in deps, deps
    assert not deps["console"] & {"cli", "daemon"}, deps["console"]


def console_graph():
    """The uses between the console's own modules (`console::pages`, `users`, `access`, ...),
    outside test code; its mod.rs is the root that wires them and is left out."""
    console = SRC / "console"
    deps = {}
    for path in console.rglob("*.rs"):
        rel = path.relative_to(console)
        if rel.parts == ("mod.rs",):
            continue
        node = rel.parts[0].removesuffix(".rs")
        text = non_test_text(path)
        uses = set(re.findall(r"crate::console::([a-z_]+)", text))
        if len(rel.parts) == 1:
            uses |= set(re.findall(r"(?<![\w:])super::([a-z_]+)", text))
        deps.setdefault(node, set()).update(uses - {node})
    return deps


def test_the_consoles_modules_have_no_cycle():
    deps = console_graph()
    assert {"users", "access", "events"} <= deps["pages"], deps
    assert cycles(deps) == []
