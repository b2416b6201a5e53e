"""The light install against the full one: environment size on disk, and a cold
``s2crnet harmonize`` of the README example as a whole process (wall time and peak
memory), median of several runs.

The light environment is made here (``pip install ROOT`` into a new virtual environment,
nothing else) unless ``--light ENV`` names one; the full one is the environment running
this script (``pip install -e ".[dev]"``), where the command runs once as it chooses
(``--backend auto``: ONNX Runtime for the shipped model) and once on PyTorch.

Run: ``python benchmarks/light.py [--repeats 7] [--light ENV]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = [str(ROOT / "examples" / "composite.jpg"), str(ROOT / "examples" / "mask.png")]


def size_mb(folder: Path) -> float:
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    return total / 1e6


def run_once(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak resident MB of one process (``wait4``'s own rusage)."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed: {proc.stderr.read().decode()[-2000:]}")
    proc.stderr.close()
    return wall, usage.ru_maxrss / 1024  # KiB on Linux


def measure(command: list[str], repeats: int, env: dict[str, str]) -> tuple[float, float]:
    run_once(command, env)  # the files in the page cache, as for a user's second command
    runs = [run_once(command, env) for _ in range(repeats)]
    return statistics.median(w for w, _ in runs), max(m for _, m in runs)


def make_light(folder: Path, env: dict[str, str]) -> Path:
    venv.EnvBuilder(with_pip=True).create(folder)
    python = folder / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    str(ROOT)], check=True, env=env)  # fmt: skip
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--light", type=Path, help="an existing light environment")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    tmp = Path(tempfile.mkdtemp(prefix="s2crnet-light-"))
    try:
        light = args.light or make_light(tmp / "env", env)
        full = Path(sys.prefix)
        out = str(tmp / "out.png")
        cases = [
            ("light (pip install .)", light, [str(light / "bin" / "s2crnet")], []),
            ("full, --backend auto", full, [shutil.which("s2crnet") or "s2crnet"], []),
            ("full, --backend torch", full, [shutil.which("s2crnet") or "s2crnet"],
             ["--backend", "torch"]),
        ]  # fmt: skip
        print(f"{os.cpu_count()} CPUs; `s2crnet harmonize` of the README example, cold process,")
        print(f"median of {args.repeats} runs (after one to fill the page cache)")
        print("environment | size on disk | wall | peak memory")
        rows = {}
        for name, prefix, command, extra in cases:
            wall, peak = measure([*command, "harmonize", *EXAMPLE, "-o", out, *extra],
                                 args.repeats, env)  # fmt: skip
            rows[name] = (size_mb(prefix), wall, peak)
            print(f"{name} | {rows[name][0]:.0f} MB | {wall:.2f} s | {peak:.0f} MB", flush=True)
        light_row, torch_row = rows[cases[0][0]], rows[cases[2][0]]
        ratios = [light_row[i] / torch_row[i] for i in range(3)]
        print("light / full-torch: size {:.2f}, wall {:.2f}, memory {:.2f}".format(*ratios))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
