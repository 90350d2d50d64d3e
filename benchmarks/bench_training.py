"""Training speed: the document's plain loop against leafdl's, on the same data, side by side.

Run:  .venv/bin/python benchmarks/bench_training.py [--per-class 60] [--epochs 3] [--img-size 224]
      [--variants leafdl-fp32 +memory +bf16 bf16-disk]

Each variant runs in a fresh Python process (so one variant's allocator setting cannot
help another) on the same demo dataset and the same pretrained backbone, and prints
seconds per epoch, training images per second, the best validation accuracy and the
CPU time (user+sys) of the whole process, set-up included:

    plain        the document's loop as written: model.train() (BatchNorm statistics
                 of the frozen features drift), default memory layout, default malloc
    +bn-eval     frozen BatchNorm kept in eval mode (leafdl.models.set_train_mode)
    +channels    ... and channels_last memory format
    leafdl-fp32  leafdl.engine.fit in float32, images read from disk every epoch: all of
                 the above, glibc malloc tuning (leafdl.device.tune_cpu_allocator) and the
                 frozen features of the validation images computed once per stage
                 (leafdl.frozen_features)
    +memory      ... and each image decoded once and kept in memory (leafdl.memory_data)
    +bf16        ... and the frozen features in bf16 (leafdl.precision), on a copy with the
                 BatchNorms folded into the convolutions: leafdl's default
                 (precision="auto") on a CPU with avx512_bf16 or AMX
    bf16-disk    bf16 frozen features, images from disk: the precision lever alone

On a CPU without native bf16, the bf16 variants measure emulated bf16 (slower); leafdl's
default there is leafdl-fp32 +memory. Numbers are printed, never asserted: speed depends
on the machine, and on what else runs on it (compare the CPU time on a busy machine).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VARIANTS = ["plain", "+bn-eval", "+channels", "leafdl-fp32", "+memory", "+bf16", "bf16-disk"]
# leafdl's variants: (precision, in_memory)
LEAFDL_VARIANTS = {"leafdl-fp32": ("fp32", False), "+memory": ("fp32", True), "+bf16": ("bf16", True),
                   "bf16-disk": ("bf16", False)}
DOCUMENT_WORKERS = 4  # DataLoader(dataset, batch_size=32, shuffle=True, num_workers=4)


def run_variant(variant: str, data_dir: Path, epochs: int, img_size: int, workers: int | None) -> dict:
    import torch
    from torch import nn, optim

    from leafdl.config import TrainConfig
    from leafdl.data import build_dataloaders, default_num_workers
    from leafdl.engine import fit
    from leafdl.models import build_model, set_train_mode

    torch.manual_seed(0)
    model, spec = build_model(4, arch="efficientnet_lite0", img_size=img_size, verbose=False)
    leafdl = variant in LEAFDL_VARIANTS
    if workers is None:  # each loop's own choice: the document's 4 workers, leafdl's default
        workers = default_num_workers() if leafdl else DOCUMENT_WORKERS
    precision, in_memory = LEAFDL_VARIANTS.get(variant, ("fp32", False))
    loaders = build_dataloaders(data_dir, spec, batch_size=32, num_workers=workers, seed=42, in_memory=in_memory)
    train_images = len(loaders.train.dataset)

    if leafdl:
        config = TrainConfig(epochs=epochs, img_size=img_size, precision=precision)
        history = fit(model, loaders, config, progress=False, log=lambda *_: None)
        return {"train_images": train_images * epochs, "seconds": sum(history.seconds),
                "best_valid_acc": history.best_valid_acc}

    # The document's loop, as written, with the optional levers.
    memory_format = torch.channels_last if variant == "+channels" else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.classifier.parameters(), lr=0.001)
    best, seconds = 0.0, 0.0
    for epoch in range(epochs):
        started = time.perf_counter()
        for phase in ["train", "valid"]:
            if phase == "train":
                set_train_mode(model) if variant != "plain" else model.train()
            else:
                model.eval()
            correct, total = 0, 0
            for inputs, labels in (loaders.train if phase == "train" else loaders.valid):
                inputs = inputs.to(memory_format=memory_format)
                optimizer.zero_grad()
                with torch.set_grad_enabled(phase == "train"):
                    outputs = model(inputs)
                    loss = criterion(outputs, labels)
                    _, preds = torch.max(outputs, 1)
                    if phase == "train":
                        loss.backward()
                        optimizer.step()
                correct += (preds == labels).sum().item()
                total += inputs.size(0)
            if phase == "valid":
                best = max(best, correct / total)
        seconds += time.perf_counter() - started
    return {"train_images": train_images * epochs, "seconds": seconds, "best_valid_acc": best}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-class", type=int, default=60)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--img-size", type=int, default=224)
    parser.add_argument("--workers", type=int, default=None,
                        help="loader workers for every variant (default: 4 as in the document for the "
                             "plain loops, leafdl's own default for leafdl)")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=VARIANTS,
                        help="which variants to run (default: all)")
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.variant:  # child process: run one variant, print JSON
        result = run_variant(args.variant, args.data, args.epochs, args.img_size, args.workers)
        print(json.dumps(result))
        return

    from leafdl.data import split_dataset
    from leafdl.demo_data import make_demo_dataset

    import torch
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores; "
          f"{args.per_class} demo images per class, {args.epochs} epochs at {args.img_size}px, "
          f"batch 32, EfficientNet-Lite0 frozen, loader workers: {args.workers if args.workers is not None else 'own default'}")
    with tempfile.TemporaryDirectory() as tmp:
        leaves = make_demo_dataset(Path(tmp) / "leaves", per_class=args.per_class, progress=False)
        split_dataset(leaves, Path(tmp) / "split")
        print(f"{'variant':<12}{'epoch s':>10}{'train img/s':>14}{'best valid acc':>16}{'speed-up':>10}"
              f"{'CPU s':>8}")
        baseline = None
        for variant in args.variants:
            command = [sys.executable, __file__, "--variant", variant, "--data", str(Path(tmp) / "split"),
                       "--epochs", str(args.epochs), "--img-size", str(args.img_size)]
            if args.workers is not None:
                command += ["--workers", str(args.workers)]
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            result = json.loads(output.strip().splitlines()[-1])
            # Training images per second of whole epochs: the validation pass counts as time spent.
            rate = result["train_images"] / result["seconds"]
            baseline = baseline or rate
            print(f"{variant:<12}{result['seconds'] / args.epochs:>10.1f}{rate:>14.1f}"
                  f"{result['best_valid_acc']:>16.3f}{rate / baseline:>9.2f}x{cpu:>8.0f}", flush=True)


if __name__ == "__main__":
    main()
