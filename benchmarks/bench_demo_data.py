"""Demo data set: how fast it is drawn, and how hard it is for a colour-only model.

Run:  .venv/bin/python benchmarks/bench_demo_data.py [--per-class 100] [--seed 0]

Prints:

* images per second on ONE core, for ``make_demo_dataset`` (drawing, JPEG encoding
  and writing the files), as wall-clock time and as CPU time of this process (the CPU
  figure is steadier on a busy machine);
* the validation accuracy of a logistic regression that sees only each image's mean RGB
  colour (train_test_split 80/20, stratified, random_state=42). Chance is 0.25. It must
  stay low: the classes should differ by their lesions, not by their overall tint.

Numbers are printed, never asserted: speed depends on the machine.
"""

from __future__ import annotations

import os

# One core: no thread pools in NumPy's BLAS or anywhere else (set before they load).
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from leafdl.demo_data import DEMO_CLASSES, make_demo_dataset  # noqa: E402


def mean_colour_accuracy(folder: Path) -> tuple[float, np.ndarray, np.ndarray]:
    """Validation accuracy of a logistic regression on each image's mean RGB colour."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    features, labels = [], []
    for label, class_name in enumerate(DEMO_CLASSES):
        for path in sorted((folder / class_name).glob("*.jpg")):
            with Image.open(path) as image:
                features.append(np.asarray(image, dtype=np.float32).mean(axis=(0, 1)))
            labels.append(label)
    x, y = np.array(features), np.array(labels)
    x_train, x_valid, y_train, y_valid = train_test_split(x, y, test_size=0.2, stratify=y, random_state=42)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(x_train, y_train)
    return model.score(x_valid, y_valid), x, y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    try:  # torch is not needed here, but if it is loaded, keep it to one thread too
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass

    count = args.per_class * len(DEMO_CLASSES)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "demo"
        make_demo_dataset(Path(tmp) / "warm-up", per_class=1, progress=False)  # imports, caches
        wall, cpu = time.perf_counter(), time.process_time()
        make_demo_dataset(out, per_class=args.per_class, seed=args.seed, progress=False)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        megabytes = sum(p.stat().st_size for p in out.glob("*/*.jpg")) / 1e6

        print(f"make_demo_dataset: {count} images ({args.per_class} per class), {megabytes:.1f} MB, one core")
        print(f"  wall clock : {wall:6.2f} s  = {count / wall:6.1f} images/s")
        print(f"  CPU time   : {cpu:6.2f} s  = {count / cpu:6.1f} images/s")

        accuracy, x, y = mean_colour_accuracy(out)
        print("\nmean RGB colour per class (0-255), average +- spread over its images:")
        for label, class_name in enumerate(DEMO_CLASSES):
            mean, spread = x[y == label].mean(axis=0), x[y == label].std(axis=0)
            print(f"  {class_name:18s} " + "  ".join(f"{m:5.1f}+-{s:4.1f}" for m, s in zip(mean, spread)))
        print(f"\nlogistic regression on mean RGB: validation accuracy {accuracy:.3f} (chance 0.25)")


if __name__ == "__main__":
    main()
