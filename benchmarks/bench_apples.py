"""How well does a classifier trained only on the shipped apple photos do on other photos?

Run:  .venv/bin/python benchmarks/bench_apples.py [--seeds 42,1,2] [--reference PNG] [--no-demo]

Trains the document's frozen recipe (EfficientNet-Lite0 with its bundled ImageNet weights,
features frozen, batch 32, Adam at 0.001) at the course's 128 px for 10 epochs on the 240
PlantVillage apple photos shipped with leafdl (leafdl/apple-photos; split 192/48,
random_state=42), once per seed, with ``leafdl train`` as a user runs it. Then it
classifies photos the model never saw:

* the 48 validation photos of the split (the run's own report);
* the 12 photos of ``plantvillage-apple-reference.png`` (a contact sheet of 12 other
  PlantVillage apple photos, 3 per class, 128 px each, in ../shared/data beside the
  repository; none of them is in the shipped sample: the nearest shipped photo differs by
  17 to 44 grey levels per pixel on average). Skipped when the sheet is not there.

For contrast (unless --no-demo) it trains the same recipe on 240 drawn demo leaves and
classifies all 240 real apple photos with it: what the drawn leaves teach about the real
task. Nothing is asserted: these are measurements. One reference photo is 8.3 points.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_REFERENCE = REPO.parent / "shared" / "data" / "plantvillage-apple-reference.png"
REFERENCE_ROWS = ("Apple_scab", "Black_rot", "Cedar_apple_rust", "Healthy")   # 3 photos per row
RECIPE = ["--img-size", "128", "--epochs", "10", "--arch", "efficientnet_lite0", "--precision", "fp32",
          "--device", "cpu", "--quiet"]


def train(data_dir: Path, run_dir: Path, seed: int) -> float:
    """``leafdl train`` with the recipe; returns the wall time in seconds."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "leafdl", "train", str(data_dir), "--out", str(run_dir),
                    "--seed", str(seed), *RECIPE], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def reference_photos(sheet: Path, out_dir: Path) -> list[tuple[Path, str]]:
    """Cut the contact sheet into its 12 photos (128 px tiles), saved as PNG files."""
    from PIL import Image

    photos = []
    with Image.open(sheet) as image:
        image = image.convert("RGB")
        for row, label in enumerate(REFERENCE_ROWS):
            for column in range(3):
                tile = image.crop((column * 128, row * 128, (column + 1) * 128, (row + 1) * 128))
                path = out_dir / f"{label}_{column}.png"
                tile.save(path)
                photos.append((path, label))
    return photos


def accuracy(run_dir: Path, photos: list[tuple[Path, str]]) -> tuple[int, int]:
    """(right, total) of the run's model on labelled photos."""
    from leafdl.predict import Predictor

    predictor = Predictor.from_run(run_dir)
    right = sum(predictor.predict(path, top_k=1)[0][0] == label for path, label in photos)
    return right, len(photos)


def best_valid_acc(run_dir: Path) -> float:
    import json

    return json.loads((run_dir / "metadata.json").read_text())["best_valid_acc"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="42", help="comma-separated training seeds (default: 42)")
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    parser.add_argument("--no-demo", action="store_true", help="skip the demo-leaves contrast")
    args = parser.parse_args()

    from leafdl.demo_data import make_demo_dataset
    from leafdl.photo_sets import APPLE_PHOTOS, copy_photo_set

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        apples = copy_photo_set(APPLE_PHOTOS, tmp / "apples")
        all_apples = [(path, path.parent.name) for path in sorted(apples.glob("*/*.JPG"))]
        reference = reference_photos(args.reference, tmp) if args.reference.is_file() else []
        if not reference:
            print(f"(no reference sheet at {args.reference}: only the validation split is measured)")
        print("trained on       seed  best valid acc (48)  12 reference photos  time")
        scores = []
        for seed in [int(s) for s in args.seeds.split(",")]:
            run = tmp / f"apples-{seed}"
            seconds = train(apples, run, seed)
            right, total = accuracy(run, reference) if reference else (0, 0)
            scores.append(right / total if total else float("nan"))
            print(f"apple photos     {seed:4d}  {best_valid_acc(run):19.3f}  {right:>9d}/{total:<2d} ({right / max(total, 1):.2f})"
                  f"  {seconds:.0f} s")
        if len(scores) > 1 and reference:
            print(f"reference photos: mean {np.mean(scores):.3f} over {len(scores)} seeds")
        if not args.no_demo:
            demo = make_demo_dataset(tmp / "demo", per_class=60, seed=0, progress=False)
            run = tmp / "demo-run"
            seconds = train(demo, run, 42)
            right, total = accuracy(run, all_apples)
            print(f"demo leaves        42  {best_valid_acc(run):19.3f}  (on all 240 apple photos: {right}/{total}"
                  f" = {right / total:.3f})  {seconds:.0f} s")


if __name__ == "__main__":
    main()
