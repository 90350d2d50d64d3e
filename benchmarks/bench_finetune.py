"""Frozen features against the fine-tuning recipe, on real field photos.

Run:  .venv/bin/python benchmarks/bench_finetune.py [DATA_DIR] [--recipes frozen,finetune]

DATA_DIR is a folder of class folders; by default the iBeans sample that sits beside the
repository in ../shared/data/ibeans-sample (240 smartphone photos of bean leaves in the
field, 3 classes, 500x500). Each recipe trains from the same split and prints its best
validation accuracy and its CPU time. Nothing is asserted: these are measurements.

Recipes (224 px, batch 32, EfficientNet-Lite0 with its bundled ImageNet weights):
    frozen      the document's method: features frozen, 10 epochs
    finetune    leafdl's recipe: 5 frozen epochs, then the last 8 blocks unfrozen for up
                to 12 more epochs (backbone lr 3e-4, classifier lr 1e-3)
    finetune12  the same with the last 12 blocks unfrozen
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

RECIPES = {
    "frozen": dict(epochs=10),
    "finetune": dict(epochs=5, unfreeze=8, finetune_epochs=12, backbone_lr=3e-4),
    "finetune12": dict(epochs=5, unfreeze=12, finetune_epochs=12, backbone_lr=3e-4),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "ibeans-sample"
    parser.add_argument("data_dir", type=Path, nargs="?", default=default)
    parser.add_argument("--recipes", default=",".join(RECIPES), help="comma-separated: " + ", ".join(RECIPES))
    parser.add_argument("--img-size", type=int, default=224)
    args = parser.parse_args()
    if not args.data_dir.is_dir():
        raise SystemExit(f"No dataset at {args.data_dir}; pass a folder of class folders.")

    import torch

    from leafdl.config import TrainConfig
    from leafdl.pipeline import train_from_folder

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; data: {args.data_dir.name}")
    print(f"{'recipe':<10}{'epochs':>8}{'best valid acc':>16}{'best epoch':>12}{'CPU time s':>12}{'wall s':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.recipes.split(","):
            config = TrainConfig(arch="efficientnet_lite0", img_size=args.img_size, num_workers=0, **RECIPES[name])
            cpu_started, wall_started = time.process_time(), time.perf_counter()
            result = train_from_folder(args.data_dir, Path(tmp) / name, config, device="cpu",
                                       progress=False, log=lambda *_: None)
            cpu, wall = time.process_time() - cpu_started, time.perf_counter() - wall_started
            history = result.history
            print(f"{name:<10}{history.epochs:>8}{history.best_valid_acc:>16.3f}{history.best_epoch:>12}"
                  f"{cpu:>12.0f}{wall:>9.0f}", flush=True)


if __name__ == "__main__":
    main()
