"""The layers of ``lib/salesaudit`` (docs/architecture.md), checked on the source of every module.

foundations ← data ← steps ← report ← cli: a module imports only its own layer or the ones below; a step
never imports another step; no module uses another module's private (``_``) names; module-level imports
form no cycle; the package never imports itself through the 0.1 flat names (``salesaudit.funnel``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import salesaudit

PKG = Path(salesaudit.__file__).resolve().parent
LAYERS = {"foundations": 0, "data": 1, "steps": 2, "report": 3, "cli": 4}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str:
    """``salesaudit.steps.process.funnel`` → steps; ``salesaudit.cli_validate`` → cli; ``salesaudit.stats`` → foundations."""
    parts = module.split(".")
    if len(parts) == 1:
        return "foundations"
    if parts[1] in ("data", "steps", "report"):
        return parts[1]
    if parts[1].startswith("cli") or parts[1] == "__main__":
        return "cli"
    return "foundations"


def _step_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "steps" else None


def _imports(path: Path) -> list[tuple[str, list[str], int, bool]]:
    """(module, names, line, at module level) for every ``salesaudit`` import of one file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(n) for n in tree.body}
    me = _module_name(path)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = me.split(".") if path.name == "__init__.py" else me.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] == "salesaudit":
                out.append((mod, [a.name for a in node.names], node.lineno, id(node) in top))
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "salesaudit":
                    out.append((a.name, [], node.lineno, id(node) in top))
    return out


def _target(mod: str, name: str) -> str:
    """The module an ``from mod import name`` reaches (the submodule when ``name`` is one)."""
    candidate = f"{mod}.{name}"
    rel = candidate.split(".")[1:]
    if (PKG.joinpath(*rel).with_suffix(".py")).exists() or (PKG.joinpath(*rel) / "__init__.py").exists():
        return candidate
    return mod


FILES = sorted(PKG.rglob("*.py"))


def test_every_module_has_a_layer():
    names = {_module_name(p) for p in FILES}
    assert {layer_of(n) for n in names} == set(LAYERS)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(PKG).as_posix())
def test_imports_go_down_the_layers(path):
    me = _module_name(path)
    if me == "salesaudit":
        return  # the package's own __init__ maps the 0.1 names and imports nothing of the package
    problems = []
    for mod, names, line, _ in _imports(path):
        targets = [_target(mod, n) for n in names] or [mod]
        for t in targets:
            if t.split(".")[1:2] and t.split(".")[1] in salesaudit.MOVED:
                problems.append(
                    f"line {line}: {t} is a 0.1 name; import salesaudit.{salesaudit.MOVED[t.split('.')[1]]}"
                )
                continue
            if LAYERS[layer_of(t)] > LAYERS[layer_of(me)]:
                problems.append(f"line {line}: {layer_of(me)} module imports {t} ({layer_of(t)}, a layer above)")
            if _step_of(me) and _step_of(t) and _step_of(t) != _step_of(me):
                problems.append(f"line {line}: step {_step_of(me)} imports step {_step_of(t)} ({t})")
        private = [n for n in names if n.startswith("_") and n != "__version__"]
        if private and _target(mod, private[0]) == mod and mod != me:
            problems.append(f"line {line}: private name(s) {', '.join(private)} of {mod}")
    assert problems == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(PKG).as_posix())
def test_no_private_attribute_of_another_module(path):
    """``stats._z(...)`` after ``from salesaudit import stats`` is a private name used across modules."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("salesaudit"):
            for a in node.names:
                if _target(node.module, a.name) != node.module:
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    used = sorted(
        f"line {n.lineno}: {n.value.id}.{n.attr}"
        for n in ast.walk(tree)
        if isinstance(n, ast.Attribute)
        and isinstance(n.value, ast.Name)
        and n.value.id in aliases
        and n.attr.startswith("_")
        and not n.attr.startswith("__")
    )
    assert used == []


def test_module_level_imports_have_no_cycle():
    graph: dict[str, set[str]] = {}
    for p in FILES:
        me = _module_name(p)
        deps = set()
        for mod, names, _, top in _imports(p):
            if top:
                deps |= {_target(mod, n) for n in names} or {mod}
        graph[me] = {d for d in deps if d != me}
    seen: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(n: str) -> None:
        seen[n] = 1
        stack.append(n)
        for d in sorted(graph.get(n, ())):
            if seen.get(d) == 1:
                cycles.append(" → ".join(stack[stack.index(d) :] + [d]))
            elif d not in seen:
                visit(d)
        stack.pop()
        seen[n] = 2

    for n in sorted(graph):
        if n not in seen:
            visit(n)
    assert cycles == []


def test_the_checker_catches_what_it_should(tmp_path):
    """The rules bite: an upward import, a step importing a step and a private name are all found."""
    assert layer_of("salesaudit.steps.sales.metrics") == "steps" and layer_of("salesaudit.report.nb") == "report"
    assert LAYERS[layer_of("salesaudit.report.record")] > LAYERS[layer_of("salesaudit.steps.reporting.metrics")]
    assert _step_of("salesaudit.steps.tools.metrics") != _step_of("salesaudit.steps.sales.metrics")
    assert _target("salesaudit", "stats") == "salesaudit.stats"
    assert _target("salesaudit.stats", "wilson") == "salesaudit.stats"


NOTEBOOKS = sorted((PKG.parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_use_only_names_the_library_has(path):
    """``reps.next_quarter_forecast`` after the function moved to ``capacity`` fails here in a second, not after
    a notebook run: every ``module.name`` a notebook uses on an imported salesaudit module must exist."""
    import importlib

    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    code = "\n".join(
        "\n".join(line for line in c.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for c in nb.cells
        if c.cell_type == "code"
    )
    tree = ast.parse(code)
    modules = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("salesaudit"):
            for a in node.names:
                target = _target(node.module, a.name)
                if target != node.module:
                    modules[a.asname or a.name] = importlib.import_module(target)
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("salesaudit") and a.asname:
                    modules[a.asname] = importlib.import_module(a.name)
    missing = sorted(
        {
            f"{n.value.id}.{n.attr}"
            for n in ast.walk(tree)
            if isinstance(n, ast.Attribute)
            and isinstance(n.value, ast.Name)
            and n.value.id in modules
            and not hasattr(modules[n.value.id], n.attr)
        }
    )
    assert missing == []
