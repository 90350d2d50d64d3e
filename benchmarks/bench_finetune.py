"""Frozen features against the fine-tuning recipe, on real field photos.

Run:  .venv/bin/python benchmarks/bench_finetune.py [DATA_DIR] [--recipes frozen,finetune] [--seeds 42,1,2]
                                                   [--split-seed 42] [--precisions fp32,auto]
      .venv/bin/python benchmarks/bench_finetune.py --steps [--img-size 320]

DATA_DIR is a folder of class folders; by default the field photos shipped with leafdl
(leafdl/field-photos: 240 smartphone photos of bean leaves in the field, 3 classes,
downsized to 288x288; only read). The photos are split once (20% for validation,
random_state=42 unless --split-seed says otherwise); each recipe then trains on that
split once per seed and prints its best and last validation accuracy, and its CPU and
wall time, once per ``--precisions`` entry (``auto``: bf16 on a CPU that computes it
natively, see leafdl.precision; ``bf16``: forced, emulated where the CPU lacks it). For
runs with a fine-tuning stage, ``ft img/s`` is training images per second of its
epochs (training and validation passes together). Nothing is asserted: these are
measurements. With 48 validation photos one photo is 2.1 points, so run a few seeds
before believing a difference.

``--steps`` measures the fine-tuning computation alone, without loading: one batch of
32 field photos at ``--img-size`` through EfficientNet-Lite0 with its last 12 blocks
unfrozen, a training step (forward, backward, Adam) and a validation forward, in
fp32 and under bf16 autocast as leafdl computes them (median of 5 after a warm-up).

Recipes (batch 32, EfficientNet-Lite0 with its bundled ImageNet weights):
    frozen      the document's method: features frozen, 10 epochs, 224 px, crops of 8-100%
    frozen320   the same at 320 px with crops of 35-100%: is it resolution alone?
    previous    leafdl's first recipe: 5 frozen epochs, then the last 8 blocks for up to
                12 epochs at backbone lr 3e-4, 224 px, crops of 8-100%
    finetune224 the recipe below at 224 px
    finetune-p7 the recipe below with the document's patience of 7
    finetune    the recipe: 5 frozen epochs, then the last 12 blocks for up to 20 epochs
                (backbone lr 3e-4, classifier lr 1e-3, early-stopping patience 10),
                320 px, crops of 35-100%
    short160    the recipe cut to 2 frozen and 6 fine-tuning epochs at 160 px: affordable
                where bf16 is emulated (about 7x slower), to compare accuracy across precisions
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

FIELD_RECIPE = dict(epochs=5, unfreeze=12, finetune_epochs=20, backbone_lr=3e-4, crop_scale_min=0.35, max_patience=10)
RECIPES = {
    "frozen": dict(epochs=10),
    "frozen320": dict(epochs=10, img_size=320, crop_scale_min=0.35),
    "previous": dict(epochs=5, unfreeze=8, finetune_epochs=12, backbone_lr=3e-4),
    "finetune224": dict(FIELD_RECIPE, img_size=224),
    "finetune-p7": dict(FIELD_RECIPE, img_size=320, max_patience=7),
    "finetune": dict(FIELD_RECIPE, img_size=320),
    "short160": dict(FIELD_RECIPE, epochs=2, finetune_epochs=6, img_size=160),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = Path(__file__).resolve().parents[1] / "leafdl" / "field-photos"
    parser.add_argument("data_dir", type=Path, nargs="?", default=default)
    parser.add_argument("--recipes", default=",".join(RECIPES), help="comma-separated: " + ", ".join(RECIPES))
    parser.add_argument("--seeds", default="42", help="comma-separated training seeds (default: 42)")
    parser.add_argument("--split-seed", type=int, default=42, help="random_state of the split (default: 42)")
    parser.add_argument("--precisions", default="fp32,auto", help="comma-separated: fp32, auto, bf16 (default: fp32,auto)")
    parser.add_argument("--steps", action="store_true", help="time one training step and one validation forward")
    parser.add_argument("--img-size", type=int, default=320, help="image size for --steps (default: 320)")
    args = parser.parse_args()
    if not args.data_dir.is_dir():
        raise SystemExit(f"No dataset at {args.data_dir}; pass a folder of class folders.")

    import torch

    from leafdl.device import cpu_bf16_flags

    flags = ", ".join(cpu_bf16_flags()) or "none: bf16 is emulated"
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; CPU bf16 flags: {flags}")
    if args.steps:
        time_steps(args.data_dir, args.img_size)
    else:
        compare_recipes(args)


def compare_recipes(args: argparse.Namespace) -> None:
    """Train each recipe once per precision and seed; print accuracy, fine-tuning speed and time."""
    from leafdl.config import TrainConfig
    from leafdl.pipeline import prepare_data, train_from_folder

    quiet = lambda *_: None  # noqa: E731
    seeds = [int(seed) for seed in args.seeds.split(",")]
    print(f"data: {args.data_dir.name}; split random_state={args.split_seed}; training seeds {seeds}")
    print(f"{'recipe':<12}{'setting':>8}{'seed':>5}{'epochs':>7}{'best acc':>9}{'@epoch':>7}{'last acc':>9}"
          f"{'ft img/s':>9}{'CPU s':>7}{'wall s':>7}  precision per epoch")
    with tempfile.TemporaryDirectory() as tmp:
        split = prepare_data(args.data_dir, Path(tmp) / "split-run", TrainConfig(seed=args.split_seed), log=quiet)
        for name in args.recipes.split(","):
            for setting in args.precisions.split(","):
                best, last = [], []
                for seed in seeds:
                    config = TrainConfig(arch="efficientnet_lite0", num_workers=0, seed=seed, precision=setting,
                                         **RECIPES[name])
                    cpu_started, wall_started = time.process_time(), time.perf_counter()
                    result = train_from_folder(split, Path(tmp) / f"{name}-{setting}-{seed}", config, device="cpu",
                                               progress=False, log=quiet)
                    cpu, wall = time.process_time() - cpu_started, time.perf_counter() - wall_started
                    history = result.history
                    best.append(history.best_valid_acc)
                    last.append(history.valid_acc[-1])
                    print(f"{name:<12}{setting:>8}{seed:>5}{history.epochs:>7}{history.best_valid_acc:>9.3f}"
                          f"{history.best_epoch:>7}{history.valid_acc[-1]:>9.3f}"
                          f"{finetune_speed(history, len(result.loaders.train.dataset)):>9}{cpu:>7.0f}{wall:>7.0f}"
                          f"  {precisions_in_order(history.precision)}", flush=True)
                if len(seeds) > 1:
                    print(f"{name:<12}{setting:>8}{'mean':>5}{'':>7}{statistics.mean(best):>9.3f}{'':>7}"
                          f"{statistics.mean(last):>9.3f}", flush=True)


def finetune_speed(history, train_images: int) -> str:
    """Training images per second over the fine-tuning epochs (their training and validation passes)."""
    seconds = [s for s, stage in zip(history.seconds, history.stage) if stage == "finetune"]
    return f"{train_images * len(seconds) / sum(seconds):.1f}" if seconds else "-"


def precisions_in_order(precisions: list[str]) -> str:
    """``bf16 x5, bf16-autocast x19``: each run of equal entries once, with its length."""
    runs: list[list] = []
    for name in precisions:
        if runs and runs[-1][0] == name:
            runs[-1][1] += 1
        else:
            runs.append([name, 1])
    return ", ".join(f"{name} x{count}" for name, count in runs)


def time_steps(data_dir: Path, img_size: int) -> None:
    """One training step and one validation forward of the fine-tuning stage, fp32 against bf16 autocast."""
    import torch
    from torch import nn

    from leafdl.config import TrainConfig
    from leafdl.data import eval_transforms, image_folder, train_transforms
    from leafdl.engine import make_finetune_optimizer
    from leafdl.models import build_model, set_train_mode, unfreeze_last_blocks
    from leafdl.precision import Computation, choose_precision

    torch.manual_seed(0)
    model, spec = build_model(3, arch="efficientnet_lite0", img_size=img_size, verbose=False)
    unfreeze_last_blocks(model, 12)
    model.to(memory_format=torch.channels_last)
    optimizer = make_finetune_optimizer(model, TrainConfig())
    criterion = nn.CrossEntropyLoss()
    photos = image_folder(data_dir, train_transforms(spec, crop_scale_min=0.35))
    batch = torch.stack([photos[index * 7][0] for index in range(32)])
    labels = torch.tensor([photos[index * 7][1] for index in range(32)])
    eval_photos = image_folder(data_dir, eval_transforms(spec))
    eval_batch = torch.stack([eval_photos[index * 7][0] for index in range(32)])
    print(f"EfficientNet-Lite0, last 12 of 18 blocks unfrozen, {img_size} px, batch 32, channels_last; "
          "images per second, median of 5 after a warm-up")
    print(f"{'precision':<15}{'train step':>11}{'validation':>11}")
    for setting in ("fp32", "bf16"):
        computation = Computation.for_stage(model, torch.device("cpu"), choose_precision(setting, "cpu"))

        def train_step() -> None:
            set_train_mode(model)
            optimizer.zero_grad(set_to_none=True)
            with computation.autocast():
                loss = criterion(computation.outputs(computation.inputs(batch), training=True), labels)
            computation.step(loss, optimizer)

        def validation() -> None:
            model.eval()
            with torch.no_grad(), computation.autocast():
                computation.outputs(computation.inputs(eval_batch), training=False)

        speeds = [32 / median_seconds(step) for step in (train_step, validation)]
        print(f"{computation.precision.name:<15}{speeds[0]:>11.1f}{speeds[1]:>11.1f}", flush=True)


def median_seconds(work, repeats: int = 5) -> float:
    """Median wall time of ``work()`` over ``repeats`` calls, after one to warm up."""
    work()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


if __name__ == "__main__":
    main()
