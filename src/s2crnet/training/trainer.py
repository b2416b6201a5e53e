"""The training loop: relative L1 (+ LSGAN), AdamW, resumable, data-parallel.

Outputs in ``config.out``:

* ``last.safetensors``: the latest weights (``s2crnet harmonize --weights``); with
  ``ema`` > 0, the exponential moving average of the weights (also what is evaluated);
* ``best.safetensors``: the weights with the lowest evaluation fMSE (with ``eval_data``);
* ``state.pt``: everything ``--resume`` needs (weights, optimizers, scheduler, step);
* ``log.csv``: ``step, loss, loss_pixel, loss_adv, loss_d, lr, images_per_s, seconds``;
* ``eval.csv``: one row per evaluation (the 256-protocol metrics, and ``harmonious_mse``:
  the real images as inputs); ``config.yaml``: the resolved configuration.

Every file is written atomically, so a run killed at any moment resumes from the last
``state.pt``. Run data-parallel with ``torchrun --nproc_per_node=N -m s2crnet train ...``.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import os
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader

from ..atomic import remove_stale_temporaries, write_atomic
from ..errors import TrainingError
from ..model import S2CRNet, make_thumbnails
from .config import TrainConfig
from .discriminator import Discriminator
from .losses import lsgan_discriminator_loss, lsgan_generator_loss, pixel_loss
from .sampler import StepBatchSampler

__all__ = ["TrainingError", "train"]

LOG_COLUMNS = ("step", "loss", "loss_pixel", "loss_adv", "loss_d", "lr", "images_per_s", "seconds")


# --------------------------------------------------------------------------- setup
@dataclass(frozen=True)
class Runtime:
    device: torch.device
    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def _runtime(preference: str) -> Runtime:
    if preference == "cuda" and not torch.cuda.is_available():
        raise TrainingError("--device cuda: CUDA is not available on this machine")
    cuda = preference == "cuda" or (preference == "auto" and torch.cuda.is_available())
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Runtime(torch.device("cuda" if cuda else "cpu"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        dist.init_process_group("nccl" if cuda else "gloo")
    device = torch.device(f"cuda:{local}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    return Runtime(device, dist.get_rank(), dist.get_world_size())


def _dataset(config: TrainConfig):
    common = dict(
        size=config.image_size,
        seed=config.seed,
        min_scale=config.crop_min_scale,
        flip=config.flip,
        harmonious=config.harmonious_fraction,
    )
    if config.photos:
        from ..data.photos import PhotoComposites

        return PhotoComposites(
            config.photos,
            family=config.colour_family(),
            transfer_from=config.transfer_from,
            jitter=config.photo_jitter,
            **common,
        )
    from ..data.iharmony4 import IHarmony4

    return IHarmony4(config.iharmony4, "train", config.subsets, config.labels, **common)


def _imagenet_state_dict(backbone: str) -> dict[str, torch.Tensor]:
    """torchvision's ImageNet weights for ``backbone``, from its cache or a download."""
    import socket

    from torchvision.models import get_model_weights

    weights = get_model_weights(backbone).DEFAULT
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(20)
    try:
        return weights.get_state_dict(progress=False)
    except Exception as exc:  # URLError, OSError, hash errors: all mean "not available"
        raise TrainingError(
            f"no ImageNet weights for {backbone}: not in torchvision's cache "
            f"({torch.hub.get_dir()}) and the download failed ({exc}); pass "
            "--backbone-weights PATH (torchvision format) or --from-scratch"
        ) from None
    finally:
        socket.setdefaulttimeout(previous)


def _build_model(config: TrainConfig, init_backbone: bool = True) -> S2CRNet:
    from ..loading import load_model
    from ..weights import load_backbone_weights

    torch.manual_seed(config.seed)
    model = S2CRNet(config.model_config())
    if not init_backbone:  # resuming: the saved state replaces every weight
        return model
    if config.init_weights:  # fine-tuning a whole model: its architecture must be this run's
        start = load_model(config.init_weights)
        # not architecture: this run's strength applies; a model without the hidden head
        # may grow one (its zero fc_h leaves the start model's curves exactly as they were)
        grow = start.config.head_hidden == 0 < model.config.head_hidden
        same = dict(curve_strength=model.config.curve_strength)
        if grow:
            same["head_hidden"] = model.config.head_hidden
        if dataclasses.replace(start.config, **same) != model.config:
            raise TrainingError(
                f"{config.init_weights}: its model config {start.config} differs from "
                f"this run's {model.config}"
            )
        missing, _ = model.load_state_dict(start.state_dict(), strict=not grow)
        assert all(".fc_in." in k or ".fc_h." in k for k in missing), missing
    elif config.backbone_weights:
        load_backbone_weights(model, config.backbone_weights)
    elif not config.from_scratch:
        load_backbone_weights(model, _imagenet_state_dict(config.backbone))
    return model


def _schedule(config: TrainConfig, total: int):
    """The learning-rate factor at each step: a linear warm-up, then constant or cosine."""
    warmup = config.warmup_steps

    def factor(step: int) -> float:
        ramp = min(1.0, (step + 1) / warmup) if warmup else 1.0
        if config.lr_schedule == "cosine":
            return ramp * 0.5 * (1 + math.cos(math.pi * min(step, total) / total))
        return ramp

    return factor


def _optimizer(model: S2CRNet, config: TrainConfig) -> torch.optim.AdamW:
    """AdamW; the backbone at ``lr * backbone_lr_scale`` (gentler fine-tuning of
    pretrained features), the curve heads at ``lr`` (one group when the scale is 1)."""
    if config.backbone_lr_scale == 1:
        return torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    backbone = list(model.backbone.parameters())
    ids = {id(p) for p in backbone}
    heads = [p for p in model.parameters() if id(p) not in ids]
    groups = [
        {"params": backbone, "lr": config.lr * config.backbone_lr_scale},
        {"params": heads, "lr": config.lr},
    ]
    return torch.optim.AdamW(groups, lr=config.lr, weight_decay=config.weight_decay)


# --------------------------------------------------------------------------- files
def _save_state(path: Path, state: dict[str, Any]) -> None:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    write_atomic(path, buffer.getvalue())


#: What every ``state.pt`` holds.
STATE_KEYS = ("step", "best_fmse", "model", "opt_g", "sched")


def _load_state(path: Path, device: torch.device) -> dict[str, Any]:
    """``state.pt`` for ``--resume``; a damaged one is a :class:`TrainingError` that says
    how to go on."""
    how = (
        f"it is damaged (truncated by a full disk or a copy?). To go on from the last "
        f"saved weights, start a new run with --init-weights {path.parent / 'last.safetensors'}"
        " and another --out; or delete the folder and start again"
    )
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:  # torch raises several types for a damaged archive
        raise TrainingError(f"{path}: cannot be read ({exc}); {how}") from None
    missing = [k for k in STATE_KEYS if not isinstance(state, dict) or k not in state]
    if missing:
        raise TrainingError(f"{path}: holds no {', '.join(missing)}; {how}")
    return state


def _save_config(path: Path, config: TrainConfig) -> None:
    import yaml

    write_atomic(path, yaml.safe_dump(config.to_dict(), sort_keys=False))


class _CsvLog:
    """Appends rows to a CSV file; on resume, rows for steps already logged are skipped."""

    def __init__(self, path: Path, columns: tuple[str, ...], resume: bool) -> None:
        self.path, self.columns, self.last = path, columns, 0
        if resume and path.is_file():
            with open(path, newline="") as f:
                steps = [int(row["step"]) for row in csv.DictReader(f) if row.get("step")]
            self.last = max(steps, default=0)
        else:
            with open(path, "w", newline="") as f:
                csv.writer(f).writerow(columns)

    def write(self, row: dict[str, Any]) -> None:
        if row["step"] <= self.last:
            return
        with open(self.path, "a", newline="") as f:
            csv.writer(f).writerow([row.get(c, "") for c in self.columns])
            f.flush()
            os.fsync(f.fileno())
        self.last = row["step"]


# --------------------------------------------------------------------------- loop
def _unwrap(module: nn.Module) -> nn.Module:
    return module.module if isinstance(module, nn.parallel.DistributedDataParallel) else module


def _evaluate(model: S2CRNet, config: TrainConfig) -> dict[str, float]:
    """The 256-protocol metrics on ``eval_data``, plus ``harmonious_mse``: the MSE when
    the real image is the input (it should come back unchanged)."""
    from ..evaluation import evaluate

    model.eval()
    try:
        results = evaluate(
            config.eval_data, "model", model, "256", config.eval_subsets, progress=False
        )
        harmonious = evaluate(
            config.eval_data,
            "model",
            model,
            "256",
            config.eval_subsets,
            progress=False,
            ssim=False,
            harmonious=True,
        )
    finally:
        model.train()
    metrics = results["subsets"]["All"]
    return {**metrics, "harmonious_mse": harmonious["subsets"]["All"]["mse"]}


def train(config: TrainConfig, resume: bool = False) -> Path:
    """Run (or resume) training as configured; returns the output folder."""
    config.validate()
    rt = _runtime(config.device)
    out = Path(config.out)
    state_path = out / "state.pt"
    if rt.main and not resume and state_path.exists():
        raise TrainingError(f"{out} already holds a run; use --resume, or another --out")
    if resume and not state_path.is_file():
        raise TrainingError(f"{state_path}: nothing to resume")

    dataset = _dataset(config)
    total = config.total_steps(len(dataset), rt.world)
    model = _build_model(config, init_backbone=not resume).to(rt.device).train()
    if rt.main:  # only once the data and the starting weights are known to be good
        out.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(out)  # what a run killed in the middle of a write left
    disc = Discriminator().to(rt.device).train() if config.adv_weight > 0 else None
    opt_g = _optimizer(model, config)
    opt_d = torch.optim.RMSprop(disc.parameters(), lr=config.lr) if disc is not None else None
    sched = torch.optim.lr_scheduler.LambdaLR(opt_g, _schedule(config, total))
    ema = None
    if config.ema > 0:
        from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

        ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(config.ema))
    step, best = 0, math.inf
    if resume:
        state = _load_state(state_path, rt.device)
        model.load_state_dict(state["model"])
        if ema is not None:
            if "ema" not in state:
                raise TrainingError(f"{state_path}: saved without --ema; resume with --ema 0")
            ema.load_state_dict(state["ema"])
        opt_g.load_state_dict(state["opt_g"])
        sched.load_state_dict(state["sched"])
        if disc is not None:
            if "disc" not in state:
                raise TrainingError(
                    f"{state_path}: saved without a discriminator; resume with --adv-weight 0"
                )
            disc.load_state_dict(state["disc"])
            opt_d.load_state_dict(state["opt_d"])
        step, best = int(state["step"]), float(state["best_fmse"])
        sched.lr_lambdas = [_schedule(config, total)] * len(opt_g.param_groups)
    if rt.main:
        _save_config(out / "config.yaml", config)

    pixel_fn = pixel_loss(config.pixel_loss)
    net: nn.Module = model
    critic: nn.Module | None = disc
    if rt.world > 1:
        ids = [rt.device.index] if rt.device.type == "cuda" else None
        net = nn.parallel.DistributedDataParallel(model, device_ids=ids)
        if disc is not None:
            critic = nn.parallel.DistributedDataParallel(disc, device_ids=ids)

    sampler = StepBatchSampler(
        len(dataset), config.batch_size, config.seed, step, total, rt.rank, rt.world
    )
    loader = DataLoader(
        dataset,
        batch_sampler=sampler,
        num_workers=config.workers,
        worker_init_fn=_quiet_worker,
        pin_memory=rt.device.type == "cuda",
    )
    log = _CsvLog(out / "log.csv", LOG_COLUMNS, resume) if rt.main else None
    eval_log = (
        _CsvLog(
            out / "eval.csv",
            ("step", "mse", "fmse", "psnr", "fpsnr", "ssim", "harmonious_mse"),
            resume,
        )
        if rt.main and config.eval_data
        else None
    )
    autocast = (
        torch.autocast("cuda", dtype=torch.bfloat16)
        if config.amp and rt.device.type == "cuda"
        else nullcontext()
    )

    bar = None
    if rt.main:
        from tqdm import tqdm

        bar = tqdm(total=total, initial=step, desc="training", unit="step", dynamic_ncols=True)
    sums: dict[str, float] = {}
    interval_start, interval_steps, t0 = time.perf_counter(), 0, time.perf_counter()

    shipped = ema.module if ema is not None else model  # the weights that are saved

    def checkpoint() -> None:
        shipped.save(out / "last.safetensors")
        state = {
            "step": step,
            "best_fmse": best,
            "model": model.state_dict(),
            "opt_g": opt_g.state_dict(),
            "sched": sched.state_dict(),
            "config": config.to_dict(),
        }
        if disc is not None:
            state |= {"disc": disc.state_dict(), "opt_d": opt_d.state_dict()}
        if ema is not None:
            state["ema"] = ema.state_dict()
        _save_state(state_path, state)

    for batch in loader:
        step += 1
        composite = batch["composite"].to(rt.device, non_blocking=True)
        mask = batch["mask"].to(rt.device, non_blocking=True)
        target = batch["target"].to(rt.device, non_blocking=True)
        label = batch["label"].to(rt.device) if config.semantic else None

        with autocast:
            foreground, background = make_thumbnails(composite, mask, config.thumbnail)
            curves = net(foreground, background, label).float()  # (B, stages, 3, L)
        outputs = S2CRNet.render_stages(composite, mask, curves)  # per stage (B, 3, H, W)
        loss_pixel = sum(pixel_fn(o, target, mask) for o in outputs)
        losses = {"loss_pixel": loss_pixel.item()}
        loss = loss_pixel
        if critic is not None:
            fake = outputs[-1]
            with autocast:
                scores = critic(torch.cat([target, fake.detach()]))  # (2B, 1, h, w)
            loss_d = lsgan_discriminator_loss(*scores.float().chunk(2))
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            with autocast:
                loss_adv = lsgan_generator_loss(critic(fake).float())
            loss = loss + config.adv_weight * loss_adv
            losses |= {"loss_adv": loss_adv.item(), "loss_d": loss_d.item()}
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        opt_g.step()
        sched.step()
        if ema is not None:
            ema.update_parameters(model)
        losses["loss"] = loss.item()
        if not math.isfinite(losses["loss"]):
            raise TrainingError(
                f"the loss became {losses['loss']} at step {step}; "
                "lower --lr or use --activation softplus"
            )

        for k, v in losses.items():
            sums[k] = sums.get(k, 0.0) + v
        interval_steps += 1
        if bar is not None:
            bar.update(1)
        last = step == total
        if rt.main and (step % config.log_every == 0 or last):
            seconds = time.perf_counter() - interval_start
            rate = interval_steps * config.batch_size * rt.world / max(seconds, 1e-9)
            row = {k: f"{v / interval_steps:.6g}" for k, v in sums.items()}
            row |= {
                "step": step,
                "lr": f"{sched.get_last_lr()[0]:.6g}",
                "images_per_s": f"{rate:.2f}",
                "seconds": f"{time.perf_counter() - t0:.1f}",
            }
            log.write(row)
            bar.set_postfix(loss=row["loss"], img_s=row["images_per_s"])
            sums, interval_steps, interval_start = {}, 0, time.perf_counter()
        if (
            rt.main
            and config.eval_data
            and (last or (config.eval_every and step % config.eval_every == 0))
        ):
            metrics = _evaluate(shipped, config)
            bar.write(
                f"step {step}: eval "
                + ", ".join(
                    f"{k} {metrics[k]:.4g}"
                    for k in ("mse", "fmse", "psnr", "fpsnr", "ssim", "harmonious_mse")
                )
            )
            eval_log.write({"step": step, **{k: f"{metrics[k]:.6g}" for k in metrics}})
            if metrics["fmse"] < best:
                best = metrics["fmse"]
                shipped.save(out / "best.safetensors")
        if rt.main and (step % config.save_every == 0 or last):
            checkpoint()
        if rt.main and config.keep_every and step % config.keep_every == 0:
            shipped.save(out / f"step-{step:06d}.safetensors")
    if bar is not None:
        bar.close()
    if rt.world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return out


def _quiet_worker(_: int) -> None:
    """Data workers use one thread each: the main process owns the cores."""
    import cv2

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
