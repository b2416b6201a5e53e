"""What harmonizing adds to a video's decode and encode: frames per second of
``harmonize_video`` against decode + encode alone (the floor), same encoder settings.

For each size it makes a clip (a textured background moving under a still object with
a colour cast, plus camera-like noise, H.264 at CRF 18), then prints:

* ``floor``: decode every frame and encode it again (libx264, CRF 18, the same pixel
  format), no colour conversion: the least any tool that re-encodes must spend;
* ``harmonize``: :func:`s2crnet.harmonize_video` with the shipped model (YUV -> RGB once,
  thumbnails, curves, smoothing, lookup table, RGB -> YUV once, encode), on PyTorch and
  on ONNX Runtime (the model exported first);
* the ratio of the times (target: at most 1.30 on 2 cores); each the median of
  ``--repeats`` runs, the floor and the backends taking turns and each taking each place
  in the order in turn, so that a slow moment of the machine does not fall on one of
  them only; and the ratio of the CPU seconds (every thread of the process), which a
  machine shared with others disturbs less;
* the loop's own CPU seconds (the thread that decodes, converts, runs the network and
  renders; the encoder has threads of its own): what harmonizing itself costs, and
  the steadiest figure to compare two versions by; and how many frames the network ran
  on (``VideoResult.predictions``);

then the flicker (:class:`s2crnet.video.VideoResult`) of the shipped model on a small
clip of the same kind (320x240, 144 frames) at several ``smooth`` settings, 0 being none,
on one whose object stays put while the background pans behind it, on one whose
background's light dims and warms (a cloud passing) and on one from a still camera (the
noise only), with the network on every frame, on every 4th, and by the default rule
(every 4th where the colours moved by more than ``predict_change``): the flicker, how
many frames the network ran on, and how far the curves are from those of every frame
(mean absolute, 0-255); and the peak resident memory of a fresh process (the shipped
model, ONNX Runtime) harmonizing a 720p clip of 48 and of 192 frames: frames stream
through, so a clip four times as long needs no more memory.

Run: ``python benchmarks/video.py [--sizes 720p 1080p] [--frames 96] [--repeats 3]``;
``--sizes`` alone skips the timing, ``--no-memory`` the memory, ``--changes 0.5 2``
adds columns for other ``predict_change`` values.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import torch
from PIL import Image

from s2crnet import harmonize_video
from s2crnet.curves.value import read_curve_file
from s2crnet.loading import default_model
from s2crnet.video import DEFAULT_PREDICT_EVERY

SIZES = {"720p": (1280, 720), "1080p": (1920, 1080), "4k": (3840, 2160)}


def make_clip(
    path: Path,
    size: tuple[int, int],
    frames: int,
    fade: bool = False,
    speed: int = 4,
    pasted: bool = False,
) -> np.ndarray:
    """An H.264 clip of ``frames`` frames at 25 fps; returns the object's (still) mask.
    The picture moves ``speed`` pixels a frame (0: a still camera, the noise only);
    ``fade``: the light on the background (not on the pasted object) dims and warms over
    frames 24 to 72, as when a cloud passes; ``pasted``: the object's texture stays
    where it is while the background moves behind it."""
    w, h = size
    rng = np.random.default_rng(0)
    small = Image.fromarray(rng.integers(30, 220, (h // 16, w // 16, 3), np.uint8))
    background = np.asarray(small.resize((w, h), Image.BILINEAR))
    mask = np.zeros((h, w), np.uint8)
    mask[h // 4 : h * 3 // 4, w // 3 : w * 2 // 3] = 255
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25, options={"crf": "18"})
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        grain = rng.normal(0, 4, (h, w, 3)).astype(np.float32)  # a camera's noise, 8 variants
        for i in range(frames):
            img = np.roll(background, speed * i, axis=1).astype(np.float32)
            if fade:
                t = min(max((i - 24) / 48, 0.0), 1.0)
                img[mask == 0] *= 1 - t + t * np.array([0.6, 0.5, 0.4], np.float32)
            if pasted:
                img[mask > 0] = background[mask > 0]
            img[mask > 0] *= np.array([1.3, 1.0, 0.7], np.float32)
            img += np.roll(grain, 37 * i, axis=0)
            img = img.clip(0, 255).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, 25)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return mask


def floor(source: Path, target: Path) -> None:
    """Decode and re-encode every frame with the same settings, nothing else."""
    with av.open(str(source)) as container, av.open(str(target), "w") as out:
        stream = container.streams.video[0]
        encoder = out.add_stream("libx264", rate=stream.average_rate, options={"crf": "18"})
        encoder.width, encoder.height, encoder.pix_fmt = stream.width, stream.height, "yuv420p"
        encoder.time_base = encoder.codec_context.time_base = stream.time_base
        for frame in container.decode(stream):
            out.mux(encoder.encode(frame))
        out.mux(encoder.encode(None))


def peak_mb(clip: Path, mask: Path, out: Path) -> float:
    """Peak resident memory (MB) of a fresh process that harmonizes ``clip``."""
    import subprocess
    import sys

    # VmHWM, not ru_maxrss: on Linux the latter keeps the forking parent's peak across exec
    code = (
        "import sys\n"
        "from s2crnet import harmonize_video\n"
        "harmonize_video(sys.argv[1], sys.argv[2], sys.argv[3])\n"
        "status = open('/proc/self/status').read().split('VmHWM:')[1]\n"
        "print(status.split()[0])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(clip), str(mask), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.split()[-1]) / 1024


def seconds(fn) -> tuple[float, float, float]:
    """Wall-clock, CPU (every thread of this process) and this thread's CPU seconds of
    ``fn()``."""
    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    own = time.thread_time()
    fn()
    wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, time.thread_time() - own


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="*", default=["720p", "1080p"], choices=list(SIZES),
                        help="sizes to time (none: no timing)")  # fmt: skip
    parser.add_argument("--frames", type=int, default=96)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--changes", nargs="*", type=float, default=[],
                        help="more predict_change values for the flicker table")  # fmt: skip
    parser.add_argument("--memory", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"{'size':>6} {'frames':>6} {'backend':>8} {'floor fps':>10} {'harmonize fps':>14} "
          "ratio  CPU ratio  loop CPU s  network runs")  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        models = {"torch": default_model()}
        try:
            from s2crnet.export.onnx import export_onnx
            from s2crnet.runtime import OnnxModel

            export_onnx(models["torch"], folder / "m.onnx")
            models["onnx"] = OnnxModel(folder / "m.onnx", threads=args.threads)
        except ImportError:
            print("onnx not installed: PyTorch only")
        for name in args.sizes:
            clip, mask = folder / f"{name}.mp4", folder / f"{name}.png"
            Image.fromarray(make_clip(clip, SIZES[name], args.frames)).save(mask)
            jobs = {"floor": lambda c=clip: floor(c, folder / "floor.mp4")}
            for backend, model in models.items():
                jobs[backend] = lambda c=clip, m=mask, n=model: harmonize_video(
                    c, m, folder / "o.mp4", model=n
                )
            times: dict[str, list[tuple[float, float, float]]] = {k: [] for k in jobs}
            order = list(jobs)
            for _ in range(args.repeats):
                for key in order:
                    times[key].append(seconds(jobs[key]))
                order = order[1:] + order[:1]  # each takes each place in turn
            base = statistics.median(t[0] for t in times["floor"])
            base_cpu = statistics.median(t[1] for t in times["floor"])
            for backend, model in models.items():
                full = statistics.median(t[0] for t in times[backend])
                cpu = statistics.median(t[1] for t in times[backend])
                loop = statistics.median(t[2] for t in times[backend])
                runs = harmonize_video(clip, mask, folder / "o.mp4", model=model).predictions
                print(
                    f"{name:>6} {args.frames:>6} {backend:>8} {args.frames / base:10.2f} "
                    f"{args.frames / full:14.2f} {full / base:6.2f} {cpu / base_cpu:10.2f} "
                    f"{loop:11.2f} {runs:13d}"
                )
        every = DEFAULT_PREDICT_EVERY
        rules = {"every frame": {"predict_every": 1, "predict_change": 0.0},
                 f"every {every}th": {"predict_every": every, "predict_change": 0.0},
                 "default": {}}  # fmt: skip
        for change in args.changes:
            rules[f"every {every}th, change {change:g}"] = {"predict_change": change}
        print(
            f"flicker (levels, 0-255), network runs, curves apart from every frame's "
            f"(mean absolute, 0-255); default: every {every}th where the colours moved"
        )
        print(f"{'clip':>6} {'smooth':>6} " + " ".join(f"{k:>24}" for k in rules))
        kinds = {"pan": {}, "pasted": {"pasted": True}, "fade": {"fade": True},
                 "still": {"speed": 0}}  # fmt: skip
        for kind, made in kinds.items():
            clip, mask = folder / f"{kind}.mp4", folder / f"{kind}.png"
            Image.fromarray(make_clip(clip, (320, 240), 144, **made)).save(mask)
            for smooth in (0.0, 0.5, 0.8, 0.95) if kind == "pan" else (0.8,):
                cells, tables = [], []
                for rule in rules.values():
                    lines = folder / "curves.jsonl"
                    result = harmonize_video(clip, mask, folder / "o.mp4", smooth=smooth,
                                             save_curves=lines, **rule)  # fmt: skip
                    text = lines.read_text().splitlines()
                    tables.append(np.stack([read_curve_file(x, "c")[0].lut(256) for x in text]))
                    apart = np.abs(tables[0].astype(np.float64) - tables[-1]).mean()
                    cells.append(f"{result.flicker:.3f} {result.predictions:4d} {apart:.2f}")
                print(f"{kind:>6} {smooth:6.2f} " + " ".join(f"{c:>24}" for c in cells))
        if not args.memory:
            return
        print("frames  peak memory of the process (720p)")
        for frames in (48, 192):
            clip = folder / f"long{frames}.mp4"
            Image.fromarray(make_clip(clip, SIZES["720p"], frames)).save(mask)
            print(f"{frames:6d}  {peak_mb(clip, mask, folder / 'o.mp4'):.0f} MB")


if __name__ == "__main__":
    main()
