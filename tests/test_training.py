"""Training: a smoke run on tiny data, resume, configs, and a 2-process data-parallel run."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from _helpers import make_iharmony4_tree, make_photo_folder, run_cli, shared_path
from s2crnet import load_model
from s2crnet.evaluation import evaluate
from s2crnet.training import TrainingError, load_yaml, merge, train
from s2crnet.training.losses import pixel_loss

ROOT = Path(__file__).resolve().parents[1]
# fmt: off
TINY = ["--image-size", "80", "--thumbnail", "48", "--batch-size", "2", "--workers", "0",
        "--from-scratch", "--log-every", "2", "--save-every", "3"]
# fmt: on


def run_train(*args: object) -> tuple[int, str]:
    """``s2crnet train ARGS...``: exit code and stderr (see :func:`_helpers.run_cli`)."""
    code, _, err = run_cli("train", *args)
    return code, err


def read_log(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_smoke_train_then_resume(tmp_path):
    photos = make_photo_folder(tmp_path / "photos")
    out = tmp_path / "run"
    code, err = run_train("--photos", photos, "--out", out, "--steps", 4, "--keep-every", 2, *TINY)
    assert code == 0, err
    for name in ("last.safetensors", "state.pt", "log.csv", "config.yaml"):
        assert (out / name).is_file(), name
    kept = sorted(p.name for p in out.glob("step-*"))
    assert kept == ["step-000002.safetensors", "step-000004.safetensors"]
    assert load_file(str(out / kept[-1])).keys() == load_file(str(out / "last.safetensors")).keys()
    rows = read_log(out / "log.csv")
    assert [int(r["step"]) for r in rows] == [2, 4]
    assert all(torch.isfinite(torch.tensor(float(r["loss"]))) for r in rows)
    assert float(rows[0]["images_per_s"]) > 0
    first = load_file(str(out / "last.safetensors"))
    torch.manual_seed(0)
    fresh = load_model(out / "last.safetensors")
    assert fresh.config.thumbnail == 48

    code, err = run_train("--out", out, "--steps", 7, "--resume")
    assert code == 0, err
    rows = read_log(out / "log.csv")
    assert [int(r["step"]) for r in rows] == [2, 4, 6, 7]  # appended, continued at step 5
    assert torch.load(out / "state.pt", weights_only=True)["step"] == 7
    assert (out / "step-000006.safetensors").is_file()  # --keep-every is kept on resume
    assert not (out / "step-000007.safetensors").exists()
    second = load_file(str(out / "last.safetensors"))
    assert any(not torch.equal(first[k], second[k]) for k in first)  # weights changed


def test_several_photo_folders_and_the_chosen_pixel_loss(tmp_path, monkeypatch):
    import s2crnet.training.trainer as trainer

    chosen = []

    def spy(name):
        chosen.append(name)
        return pixel_loss(name)

    monkeypatch.setattr(trainer, "pixel_loss", spy)
    a = make_photo_folder(tmp_path / "a")
    b = make_photo_folder(tmp_path / "b", count=3, labels=False)
    out = tmp_path / "run"
    code, err = run_train(
        "--photos", f"{a},{b}", "--pixel-loss", "mse", "--out", out, "--steps", 2, *TINY
    )
    assert code == 0, err
    assert chosen == ["mse"]
    assert load_yaml(out / "config.yaml")["photos"] == [str(a), str(b)]


@pytest.mark.parametrize(
    "schedule",
    [[], ["--warmup-steps", "4", "--backbone-lr-scale", "0.1"]],  # cosine depends on --steps
)
def test_resumed_run_equals_uninterrupted_run(tmp_path, schedule):
    photos = make_photo_folder(tmp_path / "photos")
    common = ["--photos", photos, *TINY, "--adv-weight", "0", "--seed", "3", *schedule]
    assert run_train("--out", tmp_path / "a", "--steps", 6, *common)[0] == 0
    assert run_train("--out", tmp_path / "b", "--steps", 3, *common)[0] == 0
    assert run_train("--out", tmp_path / "b", "--steps", 6, "--resume")[0] == 0
    a, b = (
        load_file(str(tmp_path / "a" / "last.safetensors")),
        load_file(str(tmp_path / "b" / "last.safetensors")),
    )
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6)


def test_training_weights_change_every_parameter(tmp_path):
    config = merge(
        {
            "photos": str(make_photo_folder(tmp_path / "p")),
            "out": str(tmp_path / "o"),
            "steps": 2,
            "image_size": 80,
            "thumbnail": 48,
            "batch_size": 2,
            "workers": 0,
            "from_scratch": True,
            "semantic": True,
        }
    )
    torch.manual_seed(config.seed)
    from s2crnet import S2CRNet

    initial = S2CRNet(config.model_config()).state_dict()
    train(config)
    trained = load_file(str(tmp_path / "o" / "last.safetensors"))
    changed = [k for k in initial if not torch.equal(initial[k], trained[k])]
    assert len(changed) == len(initial)


def test_evaluation_during_training_keeps_the_best(tmp_path):
    photos = make_photo_folder(tmp_path / "photos")
    dev = make_iharmony4_tree(tmp_path / "dev")
    out = tmp_path / "run"
    code, err = run_train(
        "--photos", photos, "--out", out, "--steps", 4, "--eval-data", dev, "--eval-every", 2, *TINY
    )
    assert code == 0, err
    assert (out / "best.safetensors").is_file()
    rows = read_log(out / "eval.csv")
    assert [int(r["step"]) for r in rows] == [2, 4]
    # harmonious_mse is the dev MSE with the real images as inputs, for the saved weights
    final = evaluate(dev, "model", load_model(out / "last.safetensors"), "256", harmonious=True)
    expected = final["subsets"]["All"]["mse"]
    assert float(rows[-1]["harmonious_mse"]) == pytest.approx(expected, rel=1e-4)
    assert float(rows[-1]["mse"]) != pytest.approx(expected, rel=1e-4)  # composites differ


def test_iharmony4_training(tmp_path):
    root = make_iharmony4_tree(tmp_path / "ih")
    code, err = run_train(
        "--iharmony4", root, "--subsets", "HFlickr", "--out", tmp_path / "o", "--steps", 2, *TINY
    )
    assert code == 0, err
    assert [int(r["step"]) for r in read_log(tmp_path / "o" / "log.csv")] == [2]
    assert (
        load_model(tmp_path / "o" / "last.safetensors").config
        == merge(load_yaml(tmp_path / "o" / "config.yaml")).model_config()
    )


def test_configuration_errors_are_one_line(tmp_path):
    photos = make_photo_folder(tmp_path / "photos")
    cases = [
        ([], "--photos DIR or --iharmony4 DIR"),
        (["--photos", photos], "--steps"),
        (["--photos", photos, "--steps", 2, "--backbone", "resnet"], "backbone"),
        (
            ["--photos", photos, "--steps", 2, "--from-scratch", "--backbone-weights", "x"],
            "contradict",
        ),
        (["--photos", tmp_path / "none", "--steps", 2, "--from-scratch"], "none"),
        (
            ["--out", tmp_path / "nothing", "--resume", "--photos", photos, "--steps", 2],
            "nothing to resume",
        ),
        (["--config", tmp_path / "missing.yaml"], "no such config"),
        (["--photos", photos, "--steps", 2, "--keep-every", -1], "--keep-every"),
    ]
    for args, message in cases:
        code, err = (
            run_train(*args, "--out", tmp_path / "o") if "--out" not in args else run_train(*args)
        )
        assert code == 2, (args, err)
        assert message in err and "Traceback" not in err, (args, err)
        assert not (tmp_path / "o").exists(), args  # a failed start leaves no output folder


def test_missing_imagenet_weights_stop_with_a_clear_message(tmp_path, monkeypatch):
    import torchvision.models._api as api

    def offline(self, *args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(api.WeightsEnum, "get_state_dict", offline)
    photos = make_photo_folder(tmp_path / "photos")
    config = merge({"photos": str(photos), "out": str(tmp_path / "o"), "steps": 1})
    with pytest.raises(TrainingError, match=r"--backbone-weights PATH .* or --from-scratch"):
        train(config)


def test_backbone_weights_file_is_used(tmp_path):
    from safetensors.torch import save_file

    from s2crnet import S2CRNet

    torch.manual_seed(7)
    reference = S2CRNet.from_name("s2crnet-alexnet").backbone.state_dict()
    path = tmp_path / "alexnet.safetensors"
    save_file({f"features.{k}": v for k, v in reference.items()}, str(path))
    config = merge(
        {
            "photos": str(make_photo_folder(tmp_path / "p")),
            "out": str(tmp_path / "o"),
            "steps": 1,
            "backbone": "alexnet",
            "backbone_weights": str(path),
            "image_size": 80,
            "thumbnail": 64,
            "batch_size": 2,
            "workers": 0,
            "lr": 0.0,
        }
    )
    train(config)
    trained = load_file(str(tmp_path / "o" / "last.safetensors"))
    torch.testing.assert_close(trained["backbone.0.weight"], reference["0.weight"])
    path.unlink()  # resuming needs only the saved state, not the starting weights
    train(merge(config.to_dict(), {"steps": 2}), resume=True)
    assert torch.load(tmp_path / "o" / "state.pt", weights_only=True)["step"] == 2


@pytest.mark.parametrize("name", ["paper-squeezenet", "paper-vgg16"])
def test_paper_configs_load(name):
    values = load_yaml(ROOT / "configs" / f"{name}.yaml")
    config = merge(values)
    config.validate()
    assert config.epochs in (20, 50) and config.batch_size == 8 and config.lr == 2e-4
    assert config.total_steps(65_742) == -(-config.epochs * 65_742 // 8)


def test_paper_recipe_loads_the_imagenet_squeezenet_into_the_released_architecture():
    path = shared_path("weights", "squeezenet1_1-features-imagenet.safetensors")
    values = load_yaml(ROOT / "configs" / "paper-squeezenet.yaml")
    assert Path(values["backbone_weights"]).name == path.name
    from safetensors.torch import load_file

    from s2crnet import S2CRNet, S2CRNetConfig
    from s2crnet.weights import load_backbone_weights

    model = S2CRNet(S2CRNetConfig())  # the released configuration: features[:12]
    load_backbone_weights(model, path)
    state = load_file(str(path))
    for key, value in model.backbone.state_dict().items():
        torch.testing.assert_close(value, state[f"features.{key}"])
    assert len(model.backbone.state_dict()) == len([k for k in state if not k.startswith(
        "features.12.")])  # fmt: skip


def test_yaml_rejects_unknown_fields(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("stepz: 3\n")
    with pytest.raises(ValueError, match="stepz"):
        load_yaml(path)


def test_two_process_data_parallel_run(tmp_path):
    photos = make_photo_folder(tmp_path / "photos", count=8)
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node=2",
            "--master_port=29517",
            "-m",
            "s2crnet",
            "train",
            "--photos",
            str(photos),
            "--out",
            str(out),
            "--steps",
            "3",
            *map(str, TINY),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = read_log(out / "log.csv")
    assert int(rows[-1]["step"]) == 3
    assert torch.load(out / "state.pt", weights_only=True)["step"] == 3


def test_ema_weights_are_saved_and_resumed(tmp_path):
    photos = make_photo_folder(tmp_path / "photos")
    out = tmp_path / "ema"
    code, err = run_train("--photos", photos, "--out", out, "--steps", 3, "--ema", "0.9", *TINY)
    assert code == 0, err
    state = torch.load(out / "state.pt", weights_only=True)
    shipped = load_file(str(out / "last.safetensors"))
    raw = state["model"]
    assert any(not torch.equal(shipped[k], raw[k]) for k in raw)  # the average, not the raw
    code, err = run_train("--out", out, "--steps", 5, "--resume")
    assert code == 0, err
    code, err = run_train("--out", out, "--steps", 6, "--resume", "--ema", "0")
    assert code == 0, err  # the average can be dropped on resume


def test_init_weights_start_from_a_whole_model(tmp_path):
    photos = make_photo_folder(tmp_path / "photos")
    code, err = run_train("--photos", photos, "--out", tmp_path / "a", "--steps", 2, *TINY)
    assert code == 0, err
    start = tmp_path / "a" / "last.safetensors"
    args = ("--photos", photos, "--steps", 1, "--lr", 0, "--init-weights", start, *TINY)
    code, err = run_train(*args, "--out", tmp_path / "b")
    assert code == 0, err
    a, b = load_file(str(start)), load_file(str(tmp_path / "b" / "last.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)  # lr 0: unchanged
    code, err = run_train(*args, "--curve-strength", 0.5, "--out", tmp_path / "s")
    assert code == 0, err  # not architecture: the run's own strength is recorded
    assert load_model(tmp_path / "s" / "last.safetensors").config.curve_strength == 0.5
    code, err = run_train(*args, "--stages", 1, "--out", tmp_path / "c")
    assert code == 2 and "differs from this run's" in err and "Traceback" not in err, err
    code, err = run_train(*args, "--head-hidden", 8, "--out", tmp_path / "g")
    assert code == 0, err  # a model may grow the hidden head: it starts as the given model
    grown = load_file(str(tmp_path / "g" / "last.safetensors"))
    assert set(grown) - set(a) == {
        f"heads.{i}.{n}.{k}" for i in (0, 1) for n in ("fc_in", "fc_h") for k in ("weight", "bias")
    }
    assert all(torch.equal(a[k], grown[k]) for k in a)
    assert not grown["heads.0.fc_h.weight"].any() and not grown["heads.1.fc_h.bias"].any()
    grown_path = tmp_path / "g" / "last.safetensors"
    start_model, grown_model = load_model(start).eval(), load_model(grown_path).eval()
    fg, bg = torch.rand(2, 1, 3, 64, 64).unbind(0)
    with torch.no_grad():
        torch.testing.assert_close(grown_model(fg, bg), start_model(fg, bg))
    code, err = run_train(*args, "--init-weights", grown_path, "--out", tmp_path / "d")
    assert code == 2 and "differs from this run's" in err, err  # but not drop it


def test_warmup_and_schedules():
    from s2crnet.training.trainer import lr_schedule

    warm = lr_schedule(merge({"photos": "p", "steps": 10, "warmup_steps": 4}), 10)
    assert [warm(s) for s in range(5)] == [0.25, 0.5, 0.75, 1.0, 1.0]
    cosine = lr_schedule(merge({"photos": "p", "steps": 10, "lr_schedule": "cosine"}), 10)
    assert cosine(0) == 1.0 and cosine(5) == pytest.approx(0.5) and cosine(10) == 0.0


def test_backbone_learning_rate_scale():
    from s2crnet import S2CRNet
    from s2crnet.training.trainer import make_optimizer

    model = S2CRNet.from_name("s2crnet-squeezenet")
    config = merge({"photos": "p", "steps": 1, "lr": 1e-3, "backbone_lr_scale": 0.1})
    backbone, heads = make_optimizer(model, config).param_groups
    assert backbone["lr"] == pytest.approx(1e-4) and heads["lr"] == 1e-3
    assert len(backbone["params"]) + len(heads["params"]) == len(list(model.parameters()))
    assert {id(p) for p in backbone["params"]} == {id(p) for p in model.backbone.parameters()}
    assert len(make_optimizer(model, merge({"photos": "p", "steps": 1})).param_groups) == 1
