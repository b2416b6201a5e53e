"""The package's shape: no import cycles (type-only imports included), the layers in
order, one home per idea, and no deprecated aliases (nothing is released yet)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import s2crnet

PACKAGE = Path(s2crnet.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the s2crnet modules it imports anywhere: top level, inside functions, and
    under ``if TYPE_CHECKING:`` (a type-only import is a dependency too)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                candidates = [target] + [f"{target}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                candidates = [a.name for a in node.names]
            else:
                continue
            targets |= {c for c in candidates if c in modules and c != name}
        graph[name] = targets
    return graph


def test_no_import_cycles():
    graph = import_graph()
    # a package's __init__ that re-exports lazily imports nothing; everything else must be
    # a DAG, so that each module can be read knowing only what it imports
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, stack: list[str]) -> bool:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                start = stack[stack.index(nxt) :] if nxt in stack else []
                cycle.extend([*start, node, nxt])
                return True
            if state.get(nxt) is None and visit(nxt, [*stack, node]):
                return True
        state[node] = 2
        return False

    for node in sorted(graph):
        if state.get(node) is None and visit(node, []):
            break
    assert not cycle, " -> ".join(cycle)


def test_the_cycle_check_finds_a_cycle(tmp_path, monkeypatch):
    (tmp_path / "s2crnet").mkdir()
    (tmp_path / "s2crnet" / "__init__.py").write_text("")
    (tmp_path / "s2crnet" / "a.py").write_text("def f():\n    from .b import g\n")
    (tmp_path / "s2crnet" / "b.py").write_text("from .a import f\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", tmp_path / "s2crnet")
    with pytest.raises(AssertionError, match=r"s2crnet\.a -> s2crnet\.b|s2crnet\.b -> s2crnet\.a"):
        test_no_import_cycles()


def test_lower_layers_do_not_import_higher_ones():
    graph = import_graph()
    # lowest first; the value types (labels, configs, curves) sit below what makes them
    order = ["errors", "strength", "atomic", "images", "inputs", "thumbnails", "labels",
             "config", "curves.files", "curves.value", "curves.op", "weights", "model",
             "labeler", "loading", "predict", "render", "session", "api", "compose",
             "video.options", "video.boxes", "video.streams", "video.masks", "video.smoothing",
             "video.loop", "batch.manifest", "batch.worker", "batch.run", "evaluation", "demo",
             "cli.common"]  # fmt: skip
    rank = {f"s2crnet.{m}": i for i, m in enumerate(order)}
    for module, targets in graph.items():
        for target in targets:
            if module in rank and target in rank:
                assert rank[target] < rank[module], f"{module} imports {target}"


def test_every_error_class_lives_in_errors_py():
    homes = {}
    for path in PACKAGE.rglob("*.py"):
        for match in re.finditer(r"^class (\w+(?:Error|Exception))\b", path.read_text(), re.M):
            homes[match.group(1)] = path.name
    assert homes and set(homes.values()) == {"errors.py"}, homes


def _strength_products(source: str) -> list[int]:
    """Lines where a strength or a calibration is multiplied by another plain value (a
    name, an attribute, a call): ``strength * calibration``, ``c.strength * scale``,
    ``x *= curve_strength``. Curve arithmetic (``strength * (y - x)``) is not one."""

    def named(node: ast.AST) -> bool:
        text = ast.unparse(node).lower()
        return "strength" in text or "calibration" in text

    def plain(node: ast.AST) -> bool:
        return isinstance(node, ast.Name | ast.Attribute | ast.Call | ast.Subscript)

    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            pair = (node.left, node.right)
        elif isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Mult):
            pair = (node.target, node.value)
        else:
            continue
        if all(plain(side) for side in pair) and any(named(side) for side in pair):
            lines.append(node.lineno)
    return lines


def test_the_strength_product_is_made_in_one_place():
    # data/: the synthetic composites' own "strength" (how far colours move) is another idea
    users = {
        p.relative_to(PACKAGE).as_posix(): lines
        for p in PACKAGE.rglob("*.py")
        if p.parent.name != "data" and (lines := _strength_products(p.read_text()))
    }
    assert list(users) == ["strength.py"], users


@pytest.mark.parametrize(
    "source",
    [
        "applied = strength * model.config.curve_strength",
        "fixed = c.with_strength(c.strength * scale)",
        "loaded = loaded.with_strength(strength * calibration)",
        "s = requested\ns *= calibration",
    ],
)
def test_the_strength_check_finds_a_product(source):
    assert _strength_products(source)


def test_the_strength_check_leaves_curve_arithmetic_alone():
    assert not _strength_products("y = identity + self.strength * (base - identity)")


def test_no_deprecated_aliases():
    for name in ("lut", "curvefile", "batch"):
        assert not (PACKAGE / f"{name}.py").exists(), name
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        assert "DeprecationWarning" not in text and "deprecated_aliases" not in text, path


def test_type_only_imports_count_in_the_cycle_check(tmp_path, monkeypatch):
    (tmp_path / "s2crnet").mkdir()
    (tmp_path / "s2crnet" / "__init__.py").write_text("")
    (tmp_path / "s2crnet" / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import g\n"
    )
    (tmp_path / "s2crnet" / "b.py").write_text("from .a import f\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", tmp_path / "s2crnet")
    with pytest.raises(AssertionError, match=r"s2crnet\.a -> s2crnet\.b|s2crnet\.b -> s2crnet\.a"):
        test_no_import_cycles()
