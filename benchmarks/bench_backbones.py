"""How fast is each backbone on a CPU? Forward passes only (prediction), printed, not asserted.

Measures images per second at 224 px, batch 32, on 2 threads (a small laptop), in eval
mode inside ``torch.inference_mode()``, with the default memory layout and with
``channels_last``. MobileNetV2 uses random weights (speed does not depend on the values).

Run:  python benchmarks/bench_backbones.py [--threads 2] [--batches 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from leafdl.models import ARCHITECTURES, build_model


def images_per_second(model: torch.nn.Module, batch: torch.Tensor, batches: int) -> float:
    with torch.inference_mode():
        for _ in range(2):  # warm-up: first calls allocate memory and pick kernels
            model(batch)
        seconds = []
        for _ in range(batches):
            start = time.perf_counter()
            model(batch)
            seconds.append(time.perf_counter() - start)
    # The median batch: a shared machine's hiccups do not move it much.
    return len(batch) / statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--size", type=int, default=224)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"batch {args.batch_size} x 3 x {args.size} x {args.size}, {args.batches} timed batches")
    print(f"{'backbone':<20}{'memory layout':<16}{'images/s':>10}")
    for arch in ARCHITECTURES:
        model, _ = build_model(num_classes=4, arch=arch, pretrained=(arch == "efficientnet_lite0"),
                               verbose=False)
        model.eval()
        for layout in ("contiguous", "channels_last"):
            batch = torch.randn(args.batch_size, 3, args.size, args.size)
            if layout == "channels_last":
                model = model.to(memory_format=torch.channels_last)
                batch = batch.to(memory_format=torch.channels_last)
            speed = images_per_second(model, batch, args.batches)
            print(f"{arch:<20}{layout:<16}{speed:>10.1f}")


if __name__ == "__main__":
    main()
