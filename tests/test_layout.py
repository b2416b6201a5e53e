"""The package's shape: no import cycles, one home per idea, and the names that moved
still working (with a warning) for one release."""

from __future__ import annotations

import ast
import importlib
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import s2crnet

PACKAGE = Path(s2crnet.__file__).parent
#: Modules kept only as deprecated aliases of the new homes.
DEPRECATED_MODULES = {"s2crnet.lut": "s2crnet.curves", "s2crnet.curvefile": "s2crnet.curves",
                      "s2crnet.batch": "s2crnet.folders"}  # fmt: skip


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_nodes(tree: ast.AST):
    """Every node except those under ``if TYPE_CHECKING:`` (imports for type hints only)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            yield from (n for child in node.orelse for n in _runtime_nodes(child))
            continue
        yield node
        yield from _runtime_nodes(node)


def import_graph() -> dict[str, set[str]]:
    """Module -> the s2crnet modules it imports anywhere (top level or inside functions)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        targets = set()
        for node in _runtime_nodes(ast.parse(path.read_text())):
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
    order = ["errors", "atomic", "images", "inputs", "thumbnails", "labels", "config",
             "curves.files", "curves.value", "curves.op", "weights", "model", "labeler",
             "loading", "predict", "render", "api", "compose", "video", "evaluation"]  # fmt: skip
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


def test_the_strength_product_is_made_in_one_place():
    users = [
        p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*.py")
        if re.search(r"\*\s*[\w.]*curve_strength\b|\bcurve_strength\s*\*", p.read_text())
    ]
    assert users == ["config.py"], users


@pytest.mark.parametrize(
    "module, name, new",
    [
        ("s2crnet.lut", "Curves", "s2crnet.curves"),
        ("s2crnet.curvefile", "read_curve_file", "s2crnet.curves"),
        ("s2crnet.batch", "pair_images", "s2crnet.folders"),
        ("s2crnet.weights", "load_model", "s2crnet.loading"),
        ("s2crnet.weights", "save_model", "s2crnet.loading"),
        ("s2crnet.api", "default_model", "s2crnet.loading"),
        ("s2crnet.api", "resolve_model", "s2crnet.loading"),
        ("s2crnet.api", "NoDefaultModelError", "s2crnet.errors"),
        ("s2crnet.api", "load_inputs", "s2crnet.inputs"),
        ("s2crnet.api", "masks_from_label_map", "s2crnet.inputs"),
        ("s2crnet.labeler", "default_labeler", "s2crnet.loading"),
    ],
)
def test_moved_names_keep_a_deprecated_alias(module, name, new):
    import sys

    sys.modules.pop(module, None) if module in DEPRECATED_MODULES else None
    with pytest.warns(DeprecationWarning, match=re.escape(new)):
        old = getattr(importlib.import_module(module), name)
    assert old is getattr(importlib.import_module(new), name)


def test_renamed_methods_and_functions_keep_a_deprecated_alias(model):
    import torch

    from s2crnet import S2CRNet
    from s2crnet.api import predict_curves
    from s2crnet.predict import image_curves

    composite, mask = torch.rand(1, 3, 16, 16), torch.ones(1, 1, 16, 16)
    params = torch.rand(1, 2, 3, 8)  # (B, stages, 3, L)
    with pytest.warns(DeprecationWarning, match="render_stages"):
        old = S2CRNet.render(composite, mask, params)
    for a, b in zip(old, S2CRNet.render_stages(composite, mask, params), strict=True):
        assert torch.equal(a, b)
    rgb = np.random.default_rng(0).integers(0, 256, (40, 50, 3), np.uint8)
    values = np.zeros((40, 50), np.uint8)
    values[10:30, 10:30] = 255
    with pytest.warns(DeprecationWarning, match="image_curves"):
        old_curves = predict_curves(model, rgb, values, None)
    new_curves = image_curves(model, rgb, values)
    np.testing.assert_array_equal(old_curves.params, new_curves.params)
    assert old_curves.strength == new_curves.strength


def test_no_module_imports_a_deprecated_alias():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        for name in import_graph():
            if name not in DEPRECATED_MODULES and name != "s2crnet.__main__":
                importlib.import_module(name)
    for name, targets in import_graph().items():
        assert not targets & set(DEPRECATED_MODULES), f"{name} imports {targets}"
