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
from torch import Tensor, nn
from torch.utils.data import DataLoader

from ..atomic import remove_stale_temporaries, write_atomic
from ..errors import TrainingError
from ..model import S2CRNet, make_thumbnails
from .config import TrainConfig
from .discriminator import Discriminator
from .losses import lsgan_discriminator_loss, lsgan_generator_loss, pixel_loss
from .sampler import StepBatchSampler

__all__ = ["TrainingError", "lr_schedule", "make_optimizer", "train"]

LOG_COLUMNS = ("step", "loss", "loss_pixel", "loss_adv", "loss_d", "lr", "images_per_s", "seconds")


# --------------------------------------------------------------------------- setup
@dataclass(frozen=True)
class Placement:
    device: torch.device
    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def _placement(preference: str) -> Placement:
    if preference == "cuda" and not torch.cuda.is_available():
        raise TrainingError("--device cuda: CUDA is not available on this machine")
    cuda = preference == "cuda" or (preference == "auto" and torch.cuda.is_available())
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Placement(torch.device("cuda" if cuda else "cpu"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        dist.init_process_group("nccl" if cuda else "gloo")
    device = torch.device(f"cuda:{local}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    return Placement(device, dist.get_rank(), dist.get_world_size())


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
            skip_bad=config.skip_bad_photos,
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
        # the calibration is not architecture (this run's applies); a model without the
        # hidden head may grow one (its zero fc_h leaves the start model's curves as they were)
        grow = start.config.head_hidden == 0 < model.config.head_hidden
        theirs = start.config.architecture()
        if grow:
            theirs = dataclasses.replace(theirs, head_hidden=model.config.head_hidden)
        if theirs != model.config.architecture():
            raise TrainingError(
                f"{config.init_weights}: its model config {start.config} differs from "
                f"this run's {model.config}"
            )
        missing, unexpected = model.load_state_dict(start.state_dict(), strict=not grow)
        stray = [k for k in missing if ".fc_in." not in k and ".fc_h." not in k] + unexpected
        if stray:
            raise TrainingError(f"{config.init_weights}: weights do not fit: {', '.join(stray)}")
    elif config.backbone_weights:
        load_backbone_weights(model, config.backbone_weights)
    elif not config.from_scratch:
        load_backbone_weights(model, _imagenet_state_dict(config.backbone))
    return model


def lr_schedule(config: TrainConfig, total: int):
    """The learning-rate factor at each step: a linear warm-up, then constant or cosine."""
    warmup = config.warmup_steps

    def factor(step: int) -> float:
        ramp = min(1.0, (step + 1) / warmup) if warmup else 1.0
        if config.lr_schedule == "cosine":
            return ramp * 0.5 * (1 + math.cos(math.pi * min(step, total) / total))
        return ramp

    return factor


def make_optimizer(model: S2CRNet, config: TrainConfig) -> torch.optim.AdamW:
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


@dataclass
class _Run:
    """Everything one training run holds: what :func:`train` sets up, the loop updates
    and a checkpoint saves."""

    config: TrainConfig
    rt: Placement
    out: Path
    total: int
    model: S2CRNet
    net: nn.Module  # the model, wrapped for data-parallel runs
    disc: Discriminator | None
    critic: nn.Module | None  # the discriminator, wrapped likewise
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer | None
    sched: torch.optim.lr_scheduler.LambdaLR
    ema: Any  # torch.optim.swa_utils.AveragedModel or None
    step: int = 0
    best: float = math.inf

    @property
    def state_path(self) -> Path:
        return self.out / "state.pt"

    @property
    def shipped(self) -> S2CRNet:
        """The weights that are saved and evaluated: the moving average, if any."""
        return self.ema.module if self.ema is not None else self.model


def _setup(config: TrainConfig, resume: bool) -> tuple[_Run, Any]:
    """Check the output folder, build the data, the model and the optimizers; returns the
    run and its dataset."""
    config.validate()
    rt = _placement(config.device)
    out = Path(config.out)
    state_path = out / "state.pt"
    if rt.main and not resume and state_path.exists():
        raise TrainingError(f"{out} already holds a run; use --resume, or another --out")
    if resume and not state_path.is_file():
        raise TrainingError(f"{state_path}: nothing to resume")

    try:
        dataset = _dataset(config)  # every photo checked: bad pairs stop here, listed
    except (ValueError, FileNotFoundError) as exc:
        raise TrainingError(str(exc)) from None
    total = config.total_steps(len(dataset), rt.world)
    model = _build_model(config, init_backbone=not resume).to(rt.device).train()
    if rt.main:  # only once the data and the starting weights are known to be good
        out.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(out)  # what a run killed in the middle of a write left
    disc = Discriminator().to(rt.device).train() if config.adv_weight > 0 else None
    opt_g = make_optimizer(model, config)
    opt_d = torch.optim.RMSprop(disc.parameters(), lr=config.lr) if disc is not None else None
    sched = torch.optim.lr_scheduler.LambdaLR(opt_g, lr_schedule(config, total))
    ema = None
    if config.ema > 0:
        from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

        ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(config.ema))
    net: nn.Module = model
    critic: nn.Module | None = disc
    if rt.world > 1:
        ids = [rt.device.index] if rt.device.type == "cuda" else None
        net = nn.parallel.DistributedDataParallel(model, device_ids=ids)
        if disc is not None:
            critic = nn.parallel.DistributedDataParallel(disc, device_ids=ids)
    run = _Run(config, rt, out, total, model, net, disc, critic, opt_g, opt_d, sched, ema)
    return run, dataset


def _resume(run: _Run) -> None:
    """Load ``state.pt`` into the run: weights, optimizers, schedule, step and best fMSE."""
    state = _load_state(run.state_path, run.rt.device)
    run.model.load_state_dict(state["model"])
    if run.ema is not None:
        if "ema" not in state:
            raise TrainingError(f"{run.state_path}: saved without --ema; resume with --ema 0")
        run.ema.load_state_dict(state["ema"])
    run.opt_g.load_state_dict(state["opt_g"])
    run.sched.load_state_dict(state["sched"])
    if run.disc is not None:
        if "disc" not in state:
            raise TrainingError(
                f"{run.state_path}: saved without a discriminator; resume with --adv-weight 0"
            )
        run.disc.load_state_dict(state["disc"])
        run.opt_d.load_state_dict(state["opt_d"])
    run.step, run.best = int(state["step"]), float(state["best_fmse"])
    run.sched.lr_lambdas = [lr_schedule(run.config, run.total)] * len(run.opt_g.param_groups)


def _checkpoint(run: _Run) -> None:
    """``last.safetensors`` and ``state.pt``."""
    run.shipped.save(run.out / "last.safetensors")
    state = {
        "step": run.step,
        "best_fmse": run.best,
        "model": run.model.state_dict(),
        "opt_g": run.opt_g.state_dict(),
        "sched": run.sched.state_dict(),
        "config": run.config.to_dict(),
    }
    if run.disc is not None:
        state |= {"disc": run.disc.state_dict(), "opt_d": run.opt_d.state_dict()}
    if run.ema is not None:
        state["ema"] = run.ema.state_dict()
    _save_state(run.state_path, state)


def _train_step(run: _Run, batch: dict[str, Tensor], pixel_fn, autocast) -> dict[str, float]:
    """One optimisation step on one batch; returns its losses."""
    config, device = run.config, run.rt.device
    composite = batch["composite"].to(device, non_blocking=True)
    mask = batch["mask"].to(device, non_blocking=True)
    target = batch["target"].to(device, non_blocking=True)
    label = batch["label"].to(device) if config.semantic else None

    with autocast:
        foreground, background = make_thumbnails(composite, mask, config.thumbnail)
        curves = run.net(foreground, background, label).float()  # (B, stages, 3, L)
    outputs = S2CRNet.render_stages(composite, mask, curves)  # per stage (B, 3, H, W)
    loss_pixel = sum(pixel_fn(o, target, mask) for o in outputs)
    losses = {"loss_pixel": loss_pixel.item()}
    loss = loss_pixel
    if run.critic is not None:
        fake = outputs[-1]
        with autocast:
            scores = run.critic(torch.cat([target, fake.detach()]))  # (2B, 1, h, w)
        loss_d = lsgan_discriminator_loss(*scores.float().chunk(2))
        run.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        run.opt_d.step()
        with autocast:
            loss_adv = lsgan_generator_loss(run.critic(fake).float())
        loss = loss + config.adv_weight * loss_adv
        losses |= {"loss_adv": loss_adv.item(), "loss_d": loss_d.item()}
    run.opt_g.zero_grad(set_to_none=True)
    loss.backward()
    run.opt_g.step()
    run.sched.step()
    if run.ema is not None:
        run.ema.update_parameters(run.model)
    losses["loss"] = loss.item()
    if not math.isfinite(losses["loss"]):
        raise TrainingError(
            f"the loss became {losses['loss']} at step {run.step}; "
            "lower --lr or use --activation softplus"
        )
    return losses


EVAL_COLUMNS = ("step", "mse", "fmse", "psnr", "fpsnr", "ssim", "harmonious_mse")


class _Reporter:
    """The main process's side of each step: the progress bar, ``log.csv`` every
    ``log_every`` steps, evaluations (``eval.csv``, ``best.safetensors``) and
    checkpoints."""

    def __init__(self, run: _Run, resume: bool) -> None:
        from tqdm import tqdm

        config = run.config
        self.run = run
        self.log = _CsvLog(run.out / "log.csv", LOG_COLUMNS, resume)
        self.eval_log = (
            _CsvLog(run.out / "eval.csv", EVAL_COLUMNS, resume) if config.eval_data else None
        )
        self.bar = tqdm(
            total=run.total, initial=run.step, desc="training", unit="step", dynamic_ncols=True
        )
        self.sums: dict[str, float] = {}
        self.steps = 0
        self.interval_start = self.t0 = time.perf_counter()

    def after_step(self, losses: dict[str, float]) -> None:
        run, config = self.run, self.run.config
        for k, v in losses.items():
            self.sums[k] = self.sums.get(k, 0.0) + v
        self.steps += 1
        self.bar.update(1)
        last = run.step == run.total
        if run.step % config.log_every == 0 or last:
            self._log()
        if self.eval_log is not None and (
            last or (config.eval_every and run.step % config.eval_every == 0)
        ):
            self._evaluate()
        if run.step % config.save_every == 0 or last:
            _checkpoint(run)
        if config.keep_every and run.step % config.keep_every == 0:
            run.shipped.save(run.out / f"step-{run.step:06d}.safetensors")

    def _log(self) -> None:
        run = self.run
        seconds = time.perf_counter() - self.interval_start
        rate = self.steps * run.config.batch_size * run.rt.world / max(seconds, 1e-9)
        row = {k: f"{v / self.steps:.6g}" for k, v in self.sums.items()}
        row |= {
            "step": run.step,
            "lr": f"{run.sched.get_last_lr()[0]:.6g}",
            "images_per_s": f"{rate:.2f}",
            "seconds": f"{time.perf_counter() - self.t0:.1f}",
        }
        self.log.write(row)
        self.bar.set_postfix(loss=row["loss"], img_s=row["images_per_s"])
        self.sums, self.steps, self.interval_start = {}, 0, time.perf_counter()

    def _evaluate(self) -> None:
        run = self.run
        metrics = _evaluate(run.shipped, run.config)
        shown = ", ".join(f"{k} {metrics[k]:.4g}" for k in EVAL_COLUMNS[1:])
        self.bar.write(f"step {run.step}: eval {shown}")
        self.eval_log.write({"step": run.step, **{k: f"{metrics[k]:.6g}" for k in metrics}})
        if metrics["fmse"] < run.best:
            run.best = metrics["fmse"]
            run.shipped.save(run.out / "best.safetensors")

    def close(self) -> None:
        self.bar.close()


def train(config: TrainConfig, resume: bool = False) -> Path:
    """Run (or resume) training as configured; returns the output folder."""
    run, dataset = _setup(config, resume)
    if resume:
        _resume(run)
    if run.rt.main:
        _save_config(run.out / "config.yaml", config)
    rt = run.rt
    sampler = StepBatchSampler(
        len(dataset), config.batch_size, config.seed, run.step, run.total, rt.rank, rt.world
    )
    loader = DataLoader(
        dataset,
        batch_sampler=sampler,
        num_workers=config.workers,
        worker_init_fn=_quiet_worker,
        pin_memory=rt.device.type == "cuda",
    )
    cuda_amp = config.amp and rt.device.type == "cuda"
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if cuda_amp else nullcontext()
    pixel_fn = pixel_loss(config.pixel_loss)
    reporter = _Reporter(run, resume) if rt.main else None
    for batch in loader:
        run.step += 1
        losses = _train_step(run, batch, pixel_fn, autocast)
        if reporter is not None:
            reporter.after_step(losses)
    if reporter is not None:
        reporter.close()
    if rt.world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return run.out


def _quiet_worker(_: int) -> None:
    """Data workers use one thread each: the main process owns the cores."""
    import cv2

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
