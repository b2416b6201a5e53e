"""``s2crnet evaluate``."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import MissingDependencyError
from .common import (
    InputError,
    backend_option,
    check_output,
    device_option,
    harmonizer_for,
    reports_errors,
    strength_option,
    weights_option,
)
from .group import cli


@cli.command()
@click.option(
    "--data",
    required=True,
    type=click.Path(path_type=Path),
    help="iHarmony4-layout root (subset folders with composite_images/ etc.).",
)
@click.option("--subsets", multiple=True, help="Subsets to use (repeat or comma-separate).")
@click.option("--split", default="test", show_default=True, help="Which lists: test or train.")
@click.option(
    "--method",
    type=click.Choice(["model", "identity", "reinhard"]),
    default="model",
    show_default=True,
)
@weights_option
@click.option("--protocol", type=click.Choice(["256", "full"]), default="256", show_default=True)
@click.option("--labels", type=click.Path(path_type=Path), help="Semantic label list: NAME LABEL.")
@click.option(
    "--published",
    type=click.Path(path_type=Path),
    help="Folder of published per-image scores (evaluation_<system>.csv, as PCT-Net's): "
    "put our per-image MSE beside each system's (use --protocol full).",
)
@click.option("--json", "json_file", type=click.Path(path_type=Path), help="Write results here.")
@click.option("--save-images", type=click.Path(path_type=Path), help="Save results (PNG) here.")
@click.option("--lpips", is_flag=True, help="Also compute LPIPS (AlexNet).")
@click.option("--no-ssim", is_flag=True, help="Skip SSIM (the slowest metric at full size).")
@click.option(
    "--harmonious",
    is_flag=True,
    help="Feed the real image instead of the composite (should come back unchanged).",
)
@strength_option("Apply the model's curves at this strength (as harmonize --strength).")
@click.option(
    "--lpips-weights",
    type=click.Path(path_type=Path),
    help="torchvision-format AlexNet weights for LPIPS (default: torchvision's cache).",
)
@device_option
@backend_option
@reports_errors
def evaluate(
    data: Path,
    subsets: tuple[str, ...],
    split: str,
    method: str,
    weights: Path | None,
    protocol: str,
    labels: Path | None,
    published: Path | None,
    json_file: Path | None,
    save_images: Path | None,
    lpips: bool,
    lpips_weights: Path | None,
    no_ssim: bool,
    harmonious: bool,
    strength: float,
    device: str,
    backend: str,
) -> None:
    """Measure a method on an iHarmony4-layout folder: MSE, fMSE, PSNR, fPSNR, SSIM (LPIPS)."""
    from ..evaluation import evaluate as run_evaluation
    from ..evaluation import format_table, write_json
    from ..triplets import read_label_list

    label_list = read_label_list(labels) if labels is not None else None  # before the model
    published_scores = None
    if published is not None:
        from ..published import read_published

        if harmonious:
            raise InputError(
                "--published compares results on the composites: leave out --harmonious"
            )
        try:
            published_scores = read_published(published)
        except (FileNotFoundError, ValueError) as exc:
            raise InputError(str(exc)) from None
    session = None
    if method == "model":
        session = harmonizer_for(weights, device, backend)
    elif weights is not None or strength != 1.0 or backend != "auto":
        raise InputError(
            f"--weights, --backend and --strength are only for --method model, not {method}"
        )
    if json_file is not None:
        inputs = tuple(p for p in (data, labels, published, weights, lpips_weights) if p)
        check_output(json_file, inputs, "--json", suffixes=())
    metric = None
    if lpips or lpips_weights:
        from ..metrics import LPIPS

        try:
            metric = LPIPS(lpips_weights, device)
        except MissingDependencyError as exc:
            raise InputError(str(exc)) from None
        except Exception as exc:  # the lpips package or its backbone weights unavailable
            raise InputError(f"LPIPS unavailable ({exc}); pass --lpips-weights PATH") from None
    subset_list = [s for item in subsets for s in item.split(",") if s] or None
    try:
        results = run_evaluation(
            data,
            method,
            session,
            protocol,
            subset_list,
            split,
            label_list,
            metric,
            save_images,
            ssim=not no_ssim,
            harmonious=harmonious,
            strength=strength,
        )
    except (FileNotFoundError, ValueError) as exc:
        raise InputError(str(exc)) from None
    click.echo(format_table(results))
    if published_scores is not None:
        from ..published import compare, format_comparison

        comparison = compare(results["images"], published_scores)
        click.echo(format_comparison(comparison))
        results["published"] = comparison.to_json()
    if json_file is not None:
        write_json(results, json_file)
        click.echo(f"wrote {json_file}", err=True)
