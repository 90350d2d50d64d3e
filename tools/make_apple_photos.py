"""Make the course's apple-photo set: the 240 PlantVillage photos, unchanged, as package data.

Run from the repository root (it needs the PlantVillage sample beside the repository):

    python tools/make_apple_photos.py                 write leafdl/apple-photos/

It reads ``../shared/data/plantvillage-apple-sample`` (or ``--source``), checks every
photo against that folder's ``manifest.json`` (md5 and size), and writes into
``leafdl/apple-photos/``:

    Apple_scab/  Black_rot/  Cedar_apple_rust/  Healthy/   the photos, byte for byte
    README.md                                             the sample's own README, unchanged
    LICENCE.md                                            CC BY-SA 3.0: attribution and terms
    manifest.json                                         per file: sha256, source path and md5

Nothing is resized or re-encoded: the photos are 256 x 256 JPEGs, 3.9 MB in all, small
enough to ship as they are. Only this tool reads the source folder; the library reads the
shipped copy (``leafdl.photo_sets``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "plantvillage-apple-sample"
DEFAULT_OUT = REPO / "leafdl" / "apple-photos"
CLASSES = ("Apple_scab", "Black_rot", "Cedar_apple_rust", "Healthy")

LICENCE = """\
# Licence of the apple photos

The 240 photos in this folder come from the **PlantVillage** dataset (Hughes, D. P. and
Salathé, M. (2015), *An open access repository of images on plant health to enable the
development of mobile disease diagnostics*, arXiv:1511.08060), as mirrored in the public
repository `ai-agriculture-circuits-and-systems/plant_Village_Apple`.

They are licensed under the **Creative Commons Attribution-ShareAlike 3.0** licence
(CC BY-SA 3.0, https://creativecommons.org/licenses/by-sa/3.0/). You may copy, share and
adapt them, also commercially, if you give this attribution and share what you make from
the photos themselves under the same licence.

Attribution: "PlantVillage apple leaf photos, Hughes and Salathé (2015), CC BY-SA 3.0;
240-photo sample shipped unchanged by leafdl."

The licence applies to the photos only, not to leafdl's code (MIT). The photos are byte
for byte the originals (file names unchanged; they carry PlantVillage's photo ids);
`manifest.json` gives each file's SHA-256, its MD5 and its path in the source repository.
`README.md` is the sample's own description, unchanged.
"""


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_apple_photos(source: Path, out: Path) -> dict:
    """Copy and check the sample, write README, LICENCE and manifest; return the manifest."""
    entries = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    files = []
    for entry in sorted(entries, key=lambda e: (e["class"], e["file"])):
        if entry["class"] not in CLASSES:
            sys.exit(f"{entry['class']!r} is not one of the guide's four classes")
        photo = source / entry["class"] / entry["file"]
        if md5(photo) != entry["md5"] or photo.stat().st_size != entry["bytes"]:
            sys.exit(f"{photo} does not match its md5 or size in the source manifest")
        (out / entry["class"]).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(photo, out / entry["class"] / entry["file"])
        files.append({"class": entry["class"], "file": entry["file"], "bytes": entry["bytes"],
                      "sha256": sha256(photo), "source_path": entry["src_path"], "source_md5": entry["md5"]})
    manifest = {"name": "plantvillage-apple-photos", "classes": list(CLASSES),
                "total_bytes": sum(f["bytes"] for f in files), "files": files}
    shutil.copyfile(source / "README.md", out / "README.md")
    (out / "LICENCE.md").write_text(LICENCE, encoding="utf-8")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    if args.out.exists():
        sys.exit(f"{args.out} exists: delete it first (it is made whole by this tool)")
    manifest = make_apple_photos(args.source, args.out)
    print(f"wrote {len(manifest['files'])} photos, {manifest['total_bytes'] / 1e6:.2f} MB, to {args.out}")


if __name__ == "__main__":
    main()
