"""Make the course's field-photo set: the 240 iBeans photos, downsized, as package data.

Run from the repository root (it needs the iBeans sample beside the repository):

    python tools/make_field_photos.py                 write leafdl/field-photos/ (side 288, quality 85)
    python tools/make_field_photos.py --measure       print the size/quality table used to choose
    python tools/make_field_photos.py --contact-sheet sheet.png   one row per setting, to look at

It reads ``../shared/data/ibeans-sample`` (or ``--source``), checks every photo against
that folder's ``manifest.json`` (md5), and writes into ``leafdl/field-photos/``:

    Angular_leaf_spot/*.jpg  Bean_rust/*.jpg  Healthy/*.jpg   the photos, same file names
    manifest.json                                             per file: sha256, source name and md5
    README.md                                                 source, licence, what was changed

Each photo is resized so that its short side is ``--side`` pixels (Lanczos filter),
converted to RGB and saved as a baseline JPEG at ``--quality`` with no metadata. The
output is the same on every run with the same Pillow. Only this tool reads the source
folder; the library reads the shipped copy (``leafdl.field_photos``).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "ibeans-sample"
DEFAULT_OUT = REPO / "leafdl" / "field-photos"
CLASSES = ("Angular_leaf_spot", "Bean_rust", "Healthy")
SIDE, QUALITY = 288, 85
BUDGET_BYTES = 8 * 1000 * 1000

README = """\
# Field photos: 240 bean-leaf photos from fields in Uganda

The course's real-photo set (notebook 12; `leafdl data field OUT_DIR` copies it out).
80 smartphone photos per class: `Angular_leaf_spot/`, `Bean_rust/`, `Healthy/`; leaves
among other leaves, soil, stems and hands.

## Source and licence

- **iBeans** dataset, Makerere University AI Lab (Kampala, Uganda), images annotated by
  experts of the National Crops Resources Research Institute (NaCRRI). Upstream licence:
  **MIT** (https://github.com/AI-Lab-Makerere/ibeans).
- Taken from the copy redistributed in the public repository
  `ai-agriculture-circuits-and-systems/plant_leaves` under **CC BY 4.0**
  (https://creativecommons.org/licenses/by/4.0/): 240 files of its `train/` split,
  80 per class (`source_file` in `manifest.json` names each).
- Attribution: "iBeans, Makerere AI Lab / NaCRRI (MIT); redistributed by
  ai-agriculture-circuits-and-systems/plant_leaves (CC BY 4.0); downsized by leafdl."
- The MIT licence asks that its copyright and permission notice travel with copies: the
  upstream repository's `LICENSE` file is that notice; keep this README with the photos.

## What was changed

The source files are 500 x 500 RGB JPEGs (138 KB each on average, 33.1 MB in all). Each
was resized so that its short side is **{side} px** (Lanczos filter) and saved again as a
baseline JPEG at **quality {quality}** with no metadata: {total_mb:.2f} MB in all, {mean_kb:.1f} KB per
photo. File names are unchanged. Nothing else was changed (no crop, no colour change:
no channel's mean over a photo moves by more than {colour_shift:.2f} of 255). `manifest.json` gives, per
file, the SHA-256 of the file shipped here and the source file's name and MD5, so every
photo can be traced back. Made by `tools/make_field_photos.py`.

## How the size and quality were chosen

The limit is 8 MB for the whole set. `python tools/make_field_photos.py --measure`
prints, for each short side and JPEG quality, the set's size and the mean PSNR against
the same resize without JPEG loss (higher is closer to it):

{table}

Three checks decided between the settings that fit:

- **Lesions stay visible.** `--contact-sheet` puts the centre of one photo per class
  side by side: original, 320 px q85, 288 px q85, 256 px q75 (scaled back up). Angular
  spots and rust pustules stay clear at 320 and 288 px; at 256 px q75 they are visibly
  softer.
- **What a frozen network sees is kept.** `--accuracy`: EfficientNet-Lite0's frozen
  features at 224 px and a logistic regression, 5-fold cross-validation on the 240 photos:
  original 0.879 (fold-to-fold spread +-0.036), 320 px q85 0.896 (+-0.023), 288 px q85
  0.867 (+-0.054), 256 px q75 0.896 (+-0.029): the same within the spread.
- **Pixels for lesions.** A rust pustule 8 px wide in the original keeps 4.6 px at
  288 px; training at 224 px (the document's size) sees it at the same 3.6 px as it
  would from the original. The field recipe's 320 px enlarges the stored photo by 1.11.

288 px at quality 85 keeps that detail at 6.2 MB, leaving room under the 8 MB limit;
320 px at quality 85 (7.55 MB) gains little and leaves almost none; quality 90 buys
about 1.7 dB for 25% more bytes.
"""


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def source_photos(source: Path) -> list[tuple[str, Path, str]]:
    """``(class, path, md5)`` for every photo of the source manifest, each checked."""
    manifest_path = source / "manifest.json"
    if not manifest_path.is_file():
        raise SystemExit(f"No manifest.json in {source}: pass --source, the iBeans sample folder.")
    photos = []
    for entry in json.loads(manifest_path.read_text()):
        path = source / entry["class"] / entry["file"]
        if entry["class"] not in CLASSES:
            raise SystemExit(f"{path}: class {entry['class']!r} is not one of {CLASSES}.")
        if md5(path) != entry["md5"]:
            raise SystemExit(f"{path} does not match the md5 in {manifest_path}: the source changed.")
        photos.append((entry["class"], path, entry["md5"]))
    return sorted(photos, key=lambda photo: (photo[0], photo[1].name))


def resize(path: Path, side: int) -> Image.Image:
    """The photo with its short side at ``side`` px, RGB."""
    with Image.open(path) as image:
        image = image.convert("RGB")
        scale = side / min(image.size)
        size = (round(image.width * scale), round(image.height * scale))
        return image.resize(size, Image.Resampling.LANCZOS)


def encode(image: Image.Image, quality: int) -> bytes:
    """Baseline JPEG bytes, no EXIF or other metadata."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def psnr(reference: Image.Image, jpeg: bytes) -> float:
    a = np.asarray(reference, dtype=np.float64)
    b = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"), dtype=np.float64)
    return float(10 * np.log10(255 ** 2 / np.mean((a - b) ** 2)))


def measure(photos, sides=(256, 288, 320), qualities=(75, 80, 85, 90)) -> str:
    """A Markdown table: set size and mean PSNR for each short side and quality."""
    lines = ["| short side | JPEG quality | set size | per photo | mean PSNR | fits 8 MB |",
             "|---|---|---|---|---|---|"]
    for side in sides:
        resized = [resize(path, side) for _, path, _ in photos]
        for quality in qualities:
            encoded = [encode(image, quality) for image in resized]
            total = sum(len(data) for data in encoded)
            mean_psnr = np.mean([psnr(image, data) for image, data in zip(resized, encoded)])
            lines.append(f"| {side} px | {quality} | {total / 1e6:.2f} MB | {total / len(photos) / 1e3:.1f} KB "
                         f"| {mean_psnr:.1f} dB | {'yes' if total <= BUDGET_BYTES else 'no'} |")
            print(lines[-1], flush=True)
    return "\n".join(lines)


def frozen_feature_accuracy(photos, settings=((320, 85), (288, 85), (256, 75))) -> None:
    """Frozen EfficientNet-Lite0 features at 224 px + logistic regression, 5-fold CV:
    does the downsized set keep what the document's frozen recipe can see?"""
    import torch
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    from leafdl.data import eval_transforms
    from leafdl.models import build_model

    torch.manual_seed(0)
    model, spec = build_model(len(CLASSES), arch="efficientnet_lite0", img_size=224, verbose=False)
    model.eval()
    transform = eval_transforms(spec)
    labels = np.array([CLASSES.index(class_name) for class_name, _, _ in photos])
    folds = StratifiedKFold(5, shuffle=True, random_state=42)
    for setting in (None, *settings):
        if setting is None:
            images = [Image.open(path).convert("RGB") for _, path, _ in photos]
        else:
            images = [Image.open(io.BytesIO(encode(resize(path, setting[0]), setting[1]))).convert("RGB")
                      for _, path, _ in photos]
        with torch.no_grad():
            batch = torch.stack([transform(image) for image in images])
            features = torch.cat([model.features(part).mean(dim=(2, 3)) for part in batch.split(48)]).numpy()
        scores = cross_val_score(LogisticRegression(max_iter=2000), features, labels, cv=folds)
        name = "original 500 px" if setting is None else f"{setting[0]} px q{setting[1]}"
        print(f"{name:<16} frozen-feature accuracy (5-fold CV) {scores.mean():.3f} +- {scores.std():.3f}", flush=True)


def contact_sheet(photos, out: Path, settings=((320, 85), (288, 85), (256, 75))) -> None:
    """Per class, the centre 160 px of one photo: original, then each setting scaled back to 500 px."""
    rows = []
    for class_name in CLASSES:
        _, path, _ = next(photo for photo in photos if photo[0] == class_name)
        original = Image.open(path).convert("RGB")
        tiles = [original]
        for side, quality in settings:
            small = Image.open(io.BytesIO(encode(resize(path, side), quality))).convert("RGB")
            tiles.append(small.resize(original.size, Image.Resampling.BICUBIC))
        box = (170, 170, 330, 330)
        rows.append([tile.crop(box).resize((320, 320), Image.Resampling.NEAREST) for tile in tiles])
    sheet = Image.new("RGB", (320 * len(rows[0]), 320 * len(rows)), "white")
    for y, row in enumerate(rows):
        for x, tile in enumerate(row):
            sheet.paste(tile, (320 * x, 320 * y))
    sheet.save(out)
    print(f"Wrote {out}: rows {', '.join(CLASSES)}; columns original, "
          + ", ".join(f"{side} px q{quality}" for side, quality in settings))


def write_set(photos, out: Path, side: int, quality: int, table: str) -> None:
    """Write the photos, manifest.json and README.md into ``out`` (replacing what was there)."""
    if out.exists():
        shutil.rmtree(out)
    entries, colour_shift = [], 0.0
    for class_name, path, source_md5 in photos:
        data = encode(resize(path, side), quality)
        with Image.open(path) as original, Image.open(io.BytesIO(data)) as copy:
            means = [np.asarray(image.convert("RGB"), dtype=np.float64).mean(axis=(0, 1)) for image in (original, copy)]
        colour_shift = max(colour_shift, float(np.abs(means[0] - means[1]).max()))
        target = out / class_name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        entries.append({"class": class_name, "file": path.name, "bytes": len(data),
                        "sha256": hashlib.sha256(data).hexdigest(),
                        "source_file": path.name, "source_md5": source_md5})
    total = sum(entry["bytes"] for entry in entries)
    if total > BUDGET_BYTES:
        raise SystemExit(f"The set is {total / 1e6:.2f} MB, over the 8 MB budget: lower --side or --quality.")
    manifest = {"name": "ibeans-field-photos", "short_side": side, "quality": quality, "classes": list(CLASSES),
                "total_bytes": total, "files": entries}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    (out / "README.md").write_text(README.format(side=side, quality=quality, total_mb=total / 1e6,
                                                 mean_kb=total / len(entries) / 1e3, table=table,
                                                 colour_shift=colour_shift), encoding="utf-8")
    print(f"Wrote {len(entries)} photos, {total / 1e6:.2f} MB, to {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--side", type=int, default=SIDE, help=f"short side in pixels (default: {SIDE})")
    parser.add_argument("--quality", type=int, default=QUALITY, help=f"JPEG quality (default: {QUALITY})")
    parser.add_argument("--measure", action="store_true", help="print the size/quality table; write nothing")
    parser.add_argument("--accuracy", action="store_true",
                        help="compare frozen-feature accuracy on originals and downsized copies; write nothing")
    parser.add_argument("--contact-sheet", type=Path, help="write a PNG comparing original and downsized crops")
    args = parser.parse_args()
    photos = source_photos(args.source)
    if args.measure:
        measure(photos)
    elif args.accuracy:
        frozen_feature_accuracy(photos)
    elif args.contact_sheet:
        contact_sheet(photos, args.contact_sheet)
    else:
        table = measure(photos, sides=(256, args.side, 320) if args.side not in (256, 320) else (256, 320))
        write_set(photos, args.out, args.side, args.quality, table)


if __name__ == "__main__":
    sys.exit(main())
