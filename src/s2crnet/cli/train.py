"""``s2crnet train``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .common import InputError, reports_errors
from .group import cli


def _config_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """One flag per TrainConfig field (``--field-name``); unset flags stay None."""
    import dataclasses
    import typing

    from ..training.config import TrainConfig, field_base_types

    bases = field_base_types()
    for field in reversed(dataclasses.fields(TrainConfig)):
        flag = "--" + field.name.replace("_", "-")
        base = bases[field.name]
        default = field.default if field.default is not dataclasses.MISSING else "see docs"
        doc = f"(config field {field.name}; default {default!r})"
        if base is bool:
            option = click.option(f"{flag}/--no-{flag[2:]}", field.name, default=None, help=doc)
        elif typing.get_origin(base) is list:
            option = click.option(
                flag,
                field.name,
                multiple=True,
                default=None,
                help=f"comma-separated or repeated {doc}",
            )
        else:
            option = click.option(flag, field.name, type=base, default=None, help=doc)
        command = option(command)
    return command


@cli.command()
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path),
    help="YAML file of config fields; flags override it.",
)
@click.option("--resume", is_flag=True, help="Continue the run in --out up to --steps.")
@_config_options
@reports_errors
def train(config_file: Path | None, resume: bool, **flags: Any) -> None:
    """Train S2CRNet on photos with masks (--photos) or iHarmony4 (--iharmony4).

    Writes last.safetensors, best.safetensors (with --eval-data), state.pt, log.csv and
    config.yaml to --out. Data-parallel: torchrun --nproc_per_node=N -m s2crnet train ...
    """
    import signal
    import sys

    from ..loading import require_torch

    require_torch("s2crnet train")
    from ..training import TrainingError, load_yaml, merge
    from ..training import train as run_training

    # a polite kill (SIGTERM) unwinds like Ctrl-C, so a write in progress removes its
    # temporary file; what a hard kill leaves is removed when the run starts or resumes
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))

    flags = {k: (list(v) or None) if isinstance(v, tuple) else v for k, v in flags.items()}
    try:
        layers = []
        if config_file is not None:
            if not config_file.is_file():
                raise InputError(f"{config_file}: no such config file")
            layers.append(load_yaml(config_file))
        out = Path(flags.get("out") or (layers[0].get("out") if layers else None) or "runs/s2crnet")
        if resume and (out / "config.yaml").is_file():
            layers.insert(0, load_yaml(out / "config.yaml"))
        config = merge(*layers, flags)
        config.validate()
    except ValueError as exc:
        raise InputError(str(exc)) from None
    try:
        out = run_training(config, resume=resume)
    except TrainingError as exc:
        raise InputError(str(exc)) from None
    click.echo(f"done: weights in {out / 'last.safetensors'}", err=True)


@cli.command("train-labeler")
@click.option(
    "--photos",
    "photos",
    multiple=True,
    required=True,
    help="Folders of photos with masks and labels.csv (semantic_class); repeat or comma-separate.",
)
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Output folder.")
@click.option(
    "--backbone-weights",
    required=True,
    type=click.Path(path_type=Path),
    help="ImageNet SqueezeNet 1.1 features (torchvision names), e.g. ../shared/weights/"
    "squeezenet1_1-features-imagenet.safetensors.",
)
@click.option(
    "--holdout",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.2,
    show_default=True,
    help="Share of each class set aside for the report.",
)
@click.option(
    "--augment",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="Extra views per training photo (crop, flip, colour cast).",
)
@click.option(
    "--balance",
    type=click.Choice(["none", "sqrt", "inverse"]),
    default="sqrt",
    show_default=True,
    help="Class weights against rarity.",
)
@click.option("--epochs", type=click.IntRange(min=1), default=400, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@reports_errors
def train_labeler(
    photos: tuple[str, ...],
    out: Path,
    backbone_weights: Path,
    holdout: float,
    augment: int,
    balance: str,
    epochs: int,
    seed: int,
) -> None:
    """Train the object-class guesser for --label auto: ImageNet SqueezeNet features (kept
    as they are) and one linear layer. Writes OUT/labeler.safetensors (use it with
    harmonize --labeler) and OUT/report.json (held-out accuracy and confusion matrix)."""
    from ..loading import require_torch

    require_torch("s2crnet train-labeler")
    from ..training import TrainingError
    from ..training.labeler import LabelerTrainConfig, format_report
    from ..training.labeler import train_labeler as run

    folders = tuple(f for item in photos for f in item.split(",") if f)
    for path in (*map(Path, folders), backbone_weights):
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
    config = LabelerTrainConfig(
        folders, str(out), str(backbone_weights), holdout=holdout, augment=augment,
        balance=balance, epochs=epochs, seed=seed,
    )  # fmt: skip
    try:
        config.validate()
        report = run(config)
    except (TrainingError, ValueError) as exc:
        raise InputError(str(exc)) from None
    click.echo(format_report(report))
    click.echo(f"wrote {out / 'labeler.safetensors'} and {out / 'report.json'}", err=True)
