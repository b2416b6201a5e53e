"""``harmonize-batch`` on Ray Data, against real parts: the manifest (CSV, Parquet,
folders), each worker's rows (equal to ``harmonize``, bad rows as error rows, resume), a
local job, a two-node cluster started here (``ray start``) with a worker killed in the
middle, and a job whose manifest and images live on an S3 server on localhost (moto)."""

from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from _helpers import assert_user_error, run_cli
from s2crnet.errors import InputError

pa = pytest.importorskip("pyarrow", reason="PyArrow (the [ray] extra) is not installed")

from pyarrow import parquet  # noqa: E402

from s2crnet.batch import read_manifest  # noqa: E402
from s2crnet.batch.worker import BatchHarmonizer  # noqa: E402


def make_rows(folder: Path, count: int, size: int = 96) -> list[tuple[Path, Path]]:
    """``count`` composites with a cast object and their masks, in ``folder``/c and /m."""
    rng = np.random.default_rng(0)
    (folder / "c").mkdir(parents=True, exist_ok=True)
    (folder / "m").mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(count):
        img = rng.integers(30, 220, (size, size, 3)).astype(np.float64)
        mask = np.zeros((size, size), np.uint8)
        mask[size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = 255
        img[mask > 0] *= [1.3, 1.0, 0.6]
        Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(folder / "c" / f"p{i:03d}.png")
        Image.fromarray(mask).save(folder / "m" / f"p{i:03d}.png")
        rows.append((folder / "c" / f"p{i:03d}.png", folder / "m" / f"p{i:03d}.png"))
    return rows


def write_csv(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_manifest_from_csv_parquet_and_folders(tmp_path):
    rows = make_rows(tmp_path, 3)
    table = read_manifest(write_csv(tmp_path / "m.csv", [
        {"composite": str(c), "mask": str(m), "strength": "0.5" if i == 0 else ""}
        for i, (c, m) in enumerate(rows)
    ]))  # fmt: skip
    assert table.column_names == ["composite", "mask", "label", "strength", "output"]
    assert table["strength"].to_pylist() == [0.5, None, None]
    parquet.write_table(table, tmp_path / "m.parquet")
    assert read_manifest(tmp_path / "m.parquet").equals(table)
    folders = read_manifest(tmp_path / "c", tmp_path / "m")
    assert folders["composite"].to_pylist() == [str(c) for c, _ in rows]
    write_csv(tmp_path / "bad.csv", [{"image": "a.png", "mask": "b.png"}])
    with pytest.raises(InputError, match=r"bad\.csv: the manifest has no composite column"):
        read_manifest(tmp_path / "bad.csv")
    with pytest.raises(InputError, match="no such manifest"):
        read_manifest(tmp_path / "none.csv")
    with pytest.raises(InputError, match="needs a folder of masks"):
        read_manifest(tmp_path / "c")


def test_a_worker_matches_harmonize_and_turns_bad_rows_into_error_rows(tmp_path):
    rows = make_rows(tmp_path, 2)
    (tmp_path / "junk.png").write_bytes(b"not a picture")
    Image.fromarray(np.zeros((50, 60), np.uint8)).save(tmp_path / "small.png")
    worker = BatchHarmonizer(str(tmp_path / "out"), strength=None)
    (tmp_path / "out").mkdir()
    good = {"composite": str(rows[0][0]), "mask": str(rows[0][1])}
    columns = ("composite", "mask", "label", "strength", "output")
    batch = pa.Table.from_pylist([{k: r.get(k) for k in columns} for r in [
        good,
        {"composite": str(rows[1][0]), "mask": str(rows[1][1]), "strength": 0.5,
         "output": "half.png"},
        {"composite": str(tmp_path / "gone.png"), "mask": str(rows[0][1])},
        {"composite": str(tmp_path / "junk.png"), "mask": str(rows[0][1])},
        {"composite": str(rows[0][0]), "mask": str(tmp_path / "small.png")},
        {"composite": str(rows[0][0]), "mask": None},
        {"composite": str(rows[0][0]), "mask": str(rows[0][1]), "label": "giraffe"},
    ]])  # fmt: skip
    result = worker(batch).to_pylist()
    status = [r["status"] for r in result]
    assert status[:2] == ["ok", "ok"]
    assert "gone.png: no such composite file" in status[2]
    assert "junk.png" in status[3] and "not" in status[3]
    assert "small.png" in status[4] and "60x50" in status[4]
    assert "names no mask" in status[5]
    assert "label" in status[6] and "giraffe" in status[6]
    assert all("\n" not in s for s in status)
    assert result[1]["output"] == str(tmp_path / "out" / "half.png")
    assert len(result[0]["curves"]) == 3 and len(result[0]["curves"][0]) == 256
    assert result[0]["strength"] == pytest.approx(2 * result[1]["strength"])
    code, _, err = run_cli("harmonize", rows[0][0], rows[0][1], "-o", tmp_path / "cli.png")
    assert code == 0, err
    ours = np.asarray(Image.open(tmp_path / "out" / "p000.png")).astype(int)
    theirs = np.asarray(Image.open(tmp_path / "cli.png")).astype(int)
    assert np.abs(ours - theirs).max() <= 1
    # resume: a row whose output decodes is skipped, a damaged one is done again
    (tmp_path / "out" / "half.png").write_bytes(b"cut")
    again = BatchHarmonizer(str(tmp_path / "out"), resume=True)(batch.slice(0, 2)).to_pylist()
    assert [r["resumed"] for r in again] == [True, False]
    assert [r["status"] for r in again] == ["ok", "ok"]


def test_label_auto_on_a_semantic_model_is_guessed_and_recorded(tmp_path, semantic_model):
    pytest.importorskip("onnx", reason="onnx (the [torch] extra) is not installed")
    from s2crnet.export.onnx import export_labeler_onnx, export_onnx
    from s2crnet.labels import LABELS
    from s2crnet.loading import default_labeler
    from s2crnet.runtime import labeler_path

    path = tmp_path / "semantic.onnx"
    export_onnx(semantic_model, path)
    export_labeler_onnx(default_labeler(), labeler_path(path))  # what label="auto" uses
    ((c, m),) = make_rows(tmp_path, 1)
    (tmp_path / "out").mkdir()
    worker = BatchHarmonizer(str(tmp_path / "out"), weights=str(path))
    batch = pa.Table.from_pylist([
        {"composite": str(c), "mask": str(m), "label": label, "output": f"{i}.png"}
        for i, label in enumerate(["auto", "food", None])
    ])  # fmt: skip
    result = worker(batch).to_pylist()
    assert [r["status"] for r in result] == ["ok"] * 3
    assert [r["label_source"] for r in result] == ["guessed", "given", "guessed"]
    assert result[0]["label"] in LABELS and result[1]["label"] == "food"
    assert result[2]["label"] == result[0]["label"]  # a semantic model guesses by default
    if result[0]["label"] != "food":  # the class changes the curves
        assert result[0]["curves"] != result[1]["curves"]


def test_local_job_writes_every_row_once_and_exits_2_on_failures(tmp_path):
    pytest.importorskip("ray", reason="Ray (the [ray] extra) is not installed")
    rows = make_rows(tmp_path, 6)
    manifest = write_csv(tmp_path / "m.csv", [
        *({"composite": str(c), "mask": str(m)} for c, m in rows),
        {"composite": str(tmp_path / "gone.png"), "mask": str(rows[0][1])},
    ])  # fmt: skip
    done = _cli("harmonize-batch", manifest, "-o", tmp_path / "out", "--workers", "2",
                "--batch-size", "2")  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "harmonized 6 of 7 rows" in done.stderr
    assert "1 of 7 rows failed" in done.stderr and "Traceback" not in done.stderr
    results = parquet.read_table(tmp_path / "out" / "results.parquet").to_pylist()
    assert sorted(r["composite"] for r in results) == sorted(
        [str(c) for c, _ in rows] + [str(tmp_path / "gone.png")]
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        [c.name for c, _ in rows] + ["results.parquet"]
    )
    again = _cli("harmonize-batch", tmp_path / "c", tmp_path / "m", "-o", tmp_path / "out",
                 "--resume")  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "(6 already done)" in again.stderr


def _cli(*args: object, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    """``s2crnet ARGS`` in a process of its own (Ray started there, stopped at its end)."""
    command = [sys.executable, "-m", "s2crnet", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600,
                          **kwargs)  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def cluster(tmp_path):
    """A two-node Ray cluster on this machine: a head and a second node joining it."""
    pytest.importorskip("ray", reason="Ray (the [ray] extra) is not installed")
    ray = str(Path(sys.executable).parent / "ray")
    port = _free_port()
    # on this machine only: no cluster token (a token file an earlier local run left in
    # ~/.ray would otherwise be required of the second node)
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
    common = ["--num-cpus", "1", "--disable-usage-stats"]
    head = [ray, "start", "--head", "--port", str(port), "--include-dashboard", "false",
            "--temp-dir", "/tmp/s2crnet-ray-test", *common]  # fmt: skip
    subprocess.run(head, check=True, capture_output=True, env=env, timeout=120)
    try:
        subprocess.run([ray, "start", "--address", f"127.0.0.1:{port}", *common], check=True,
                       capture_output=True, env=env, timeout=120)  # fmt: skip
        yield f"127.0.0.1:{port}", env
    finally:
        subprocess.run([ray, "stop", "--force"], capture_output=True, env=env, timeout=120)


def _workers() -> list[int]:
    found = subprocess.run(["pgrep", "-f", "BatchHarmonizer"], capture_output=True, text=True)
    return [int(p) for p in found.stdout.split()]


def test_two_node_cluster_survives_a_killed_worker(tmp_path, cluster):
    rows = make_rows(tmp_path, 48, size=384)
    manifest = write_csv(tmp_path / "m.csv", [{"composite": str(c), "mask": str(m)}
                                              for c, m in rows])  # fmt: skip
    address, env = cluster
    job = subprocess.Popen([sys.executable, "-m", "s2crnet", "harmonize-batch", str(manifest),
                            "-o", str(tmp_path / "out"), "--address", address, "--workers", "2",
                            "--batch-size", "2"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    killed = None
    deadline = time.monotonic() + 120
    while killed is None and time.monotonic() < deadline and job.poll() is None:
        out = tmp_path / "out"
        if out.is_dir() and len(list(out.glob("*.png"))) >= 4 and _workers():
            killed = _workers()[0]
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.05)
    _, err = job.communicate(timeout=600)
    assert killed is not None, "the job ended before a worker could be killed"
    assert job.returncode == 0, err
    results = parquet.read_table(tmp_path / "out" / "results.parquet").to_pylist()
    assert sorted(r["composite"] for r in results) == sorted(str(c) for c, _ in rows)  # once
    assert {r["status"] for r in results} == {"ok"}
    left = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert left == sorted([c.name for c, _ in rows] + ["results.parquet"])  # no temporaries
    for c, _ in rows:
        with Image.open(tmp_path / "out" / c.name) as img:
            img.load()  # whole


@pytest.fixture
def s3(tmp_path):
    """An S3-compatible server (moto) on a free local port, and the environment that
    points PyArrow and Ray's workers at it."""
    pytest.importorskip("moto", reason="moto (the [dev] extra) is not installed")
    pytest.importorskip("ray", reason="Ray (the [ray] extra) is not installed")
    port = _free_port()
    server = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-p",
                               str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
           "RAY_USAGE_STATS_ENABLED": "0"}  # fmt: skip
    try:
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield env
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_job_on_object_storage(tmp_path, s3):
    import boto3

    rows = make_rows(tmp_path, 4)
    client = boto3.client("s3", endpoint_url=s3["AWS_ENDPOINT_URL"], aws_access_key_id="test",
                          aws_secret_access_key="test", region_name="us-east-1")  # fmt: skip
    client.create_bucket(Bucket="shop")
    for c, m in rows:
        client.upload_file(str(c), "shop", f"in/{c.name}")
        client.upload_file(str(m), "shop", f"masks/{m.name}")
    manifest = write_csv(tmp_path / "m.csv", [
        {"composite": f"s3://shop/in/{c.name}", "mask": f"s3://shop/masks/{m.name}"}
        for c, m in rows
    ])  # fmt: skip
    client.upload_file(str(manifest), "shop", "manifest.csv")
    done = _cli("harmonize-batch", "s3://shop/manifest.csv", "-o", "s3://shop/out",
                env=s3)  # fmt: skip
    assert done.returncode == 0, done.stderr
    keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket="shop",
                                                           Prefix="out/")["Contents"])  # fmt: skip
    assert keys == sorted([f"out/{c.name}" for c, _ in rows] + ["out/results.parquet"])
    client.download_file("shop", "out/p000.png", str(tmp_path / "from-s3.png"))
    code, _, err = run_cli("harmonize", rows[0][0], rows[0][1], "-o", tmp_path / "cli.png")
    assert code == 0, err
    ours = np.asarray(Image.open(tmp_path / "from-s3.png")).astype(int)
    assert np.abs(ours - np.asarray(Image.open(tmp_path / "cli.png"))).max() <= 1


def test_bad_invocations_are_one_line(tmp_path):
    make_rows(tmp_path, 1)
    code, _, err = run_cli("harmonize-batch", tmp_path / "c", "-o", tmp_path / "out")
    assert_user_error(code, err, "needs a folder of masks")
    code, _, err = run_cli("harmonize-batch", tmp_path / "none.csv", "-o", tmp_path / "out")
    assert_user_error(code, err, "none.csv: no such manifest")
