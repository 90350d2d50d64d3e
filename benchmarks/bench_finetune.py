"""Frozen features against the fine-tuning recipe, on real field photos.

Run:  .venv/bin/python benchmarks/bench_finetune.py [DATA_DIR] [--recipes frozen,finetune] [--seeds 42,1,2]
                                                   [--split-seed 42]

DATA_DIR is a folder of class folders; by default the field photos shipped with leafdl
(leafdl/field-photos: 240 smartphone photos of bean leaves in the field, 3 classes,
downsized to 288x288; only read). The photos are split once (20% for validation,
random_state=42 unless --split-seed says otherwise); each recipe then trains on that
split once per seed and prints its best and last validation accuracy, and its CPU and
wall time. Nothing is asserted: these are measurements. With 48 validation photos one
photo is 2.1 points, so run a few seeds before believing a difference.

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
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = Path(__file__).resolve().parents[1] / "leafdl" / "field-photos"
    parser.add_argument("data_dir", type=Path, nargs="?", default=default)
    parser.add_argument("--recipes", default=",".join(RECIPES), help="comma-separated: " + ", ".join(RECIPES))
    parser.add_argument("--seeds", default="42", help="comma-separated training seeds (default: 42)")
    parser.add_argument("--split-seed", type=int, default=42, help="random_state of the split (default: 42)")
    args = parser.parse_args()
    if not args.data_dir.is_dir():
        raise SystemExit(f"No dataset at {args.data_dir}; pass a folder of class folders.")

    import torch

    from leafdl.config import TrainConfig
    from leafdl.pipeline import prepare_data, train_from_folder

    quiet = lambda *_: None  # noqa: E731
    seeds = [int(seed) for seed in args.seeds.split(",")]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; data: {args.data_dir.name}; "
          f"split random_state={args.split_seed}; training seeds {seeds}")
    print(f"{'recipe':<12}{'seed':>5}{'epochs':>7}{'best acc':>9}{'@epoch':>7}{'last acc':>9}"
          f"{'CPU s':>7}{'wall s':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        split = prepare_data(args.data_dir, Path(tmp) / "split-run", TrainConfig(seed=args.split_seed), log=quiet)
        for name in args.recipes.split(","):
            best, last = [], []
            for seed in seeds:
                config = TrainConfig(arch="efficientnet_lite0", num_workers=0, seed=seed, **RECIPES[name])
                cpu_started, wall_started = time.process_time(), time.perf_counter()
                result = train_from_folder(split, Path(tmp) / f"{name}-{seed}", config, device="cpu",
                                           progress=False, log=quiet)
                cpu, wall = time.process_time() - cpu_started, time.perf_counter() - wall_started
                history = result.history
                best.append(history.best_valid_acc)
                last.append(history.valid_acc[-1])
                print(f"{name:<12}{seed:>5}{history.epochs:>7}{history.best_valid_acc:>9.3f}"
                      f"{history.best_epoch:>7}{history.valid_acc[-1]:>9.3f}{cpu:>7.0f}{wall:>7.0f}", flush=True)
            if len(seeds) > 1:
                print(f"{name:<12}{'mean':>5}{'':>7}{statistics.mean(best):>9.3f}{'':>7}"
                      f"{statistics.mean(last):>9.3f}", flush=True)


if __name__ == "__main__":
    main()
