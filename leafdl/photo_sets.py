"""Real leaf photos shipped with leafdl: two small sets, copied out and checked, offline.

The course trains on real photos without downloading anything. Two sets ship inside the
package (package data, see ``pyproject.toml``), each with its README, licence and a
manifest of SHA-256 checksums:

``APPLE_PHOTOS`` (``leafdl/apple-photos/``)
    240 PlantVillage photos of apple leaves, 60 per class, in the document's four
    classes (``Apple_scab``, ``Black_rot``, ``Cedar_apple_rust``, ``Healthy``): one
    detached leaf on a plain board, 256 x 256 px, byte for byte the originals
    (CC BY-SA 3.0). The document's own task; lessons 02 to 11 train on it.
``FIELD_PHOTOS`` (``leafdl/field-photos/``)
    240 smartphone photos of bean leaves from fields in Uganda, 80 per class
    (``Angular_leaf_spot``, ``Bean_rust``, ``Healthy``): leaves among other leaves,
    soil and hands, downsized to a short side of 288 px (iBeans, MIT). Harder than lab
    photos; notebook 12 fine-tunes on it.

The photos inside the package are never trained on directly: :func:`copy_photo_set`
copies a set out (checking every checksum), and you train on the copy.

Example:
    >>> from leafdl.photo_sets import APPLE_PHOTOS, copy_photo_set      # doctest: +SKIP
    >>> copy_photo_set(APPLE_PHOTOS, "data/apple-photos")                # doctest: +SKIP
    PosixPath('data/apple-photos')
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from leafdl.errors import LeafdlError
from leafdl.files import remove_stale_temporaries, staging_folder
from leafdl.locks import output_lock

PACKAGE = Path(__file__).resolve().parent
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class PhotoSet:
    """One shipped set: where it lives in the package and how to describe it to a user."""

    name: str           # the manifest's name, also written into every copy's marker
    folder: Path        # the shipped photos, README and manifest inside the package
    description: str    # "240 real apple-leaf photos (4 classes, 60 each)"
    marker_file: str    # written into every copy: "this folder is a copy of the set, it may be replaced"
    notes: tuple[str, ...] = ("README.md",)   # text files copied out with the photos


APPLE_PHOTOS = PhotoSet(name="plantvillage-apple-photos", folder=PACKAGE / "apple-photos",
                        description="240 real apple-leaf photos (PlantVillage; 4 classes, 60 each)",
                        marker_file=".leafdl-apple-photos.json", notes=("README.md", "LICENCE.md"))
FIELD_PHOTOS = PhotoSet(name="ibeans-field-photos", folder=PACKAGE / "field-photos",
                        description="240 real bean-leaf field photos (iBeans; 3 classes, 80 each)",
                        marker_file=".leafdl-field-photos.json")


class PhotoSetError(LeafdlError, ValueError):
    """A shipped set is damaged, or the target folder cannot be written safely."""


def read_manifest(photo_set: PhotoSet) -> dict:
    """The set's manifest: ``{"name", "classes", "files": [{"class", "file", "sha256", ...}], ...}``."""
    path = photo_set.folder / MANIFEST
    if not path.is_file():
        raise PhotoSetError(f"{path} is missing: the photos are not installed with leafdl. "
                            "Reinstall leafdl (pip install -e .) from a complete copy of the project.")
    return json.loads(path.read_text(encoding="utf-8"))


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def verify(folder: Path, manifest: dict) -> None:
    """Raise :class:`PhotoSetError` unless every file of ``manifest`` is in ``folder`` unchanged."""
    for entry in manifest["files"]:
        path = Path(folder) / entry["class"] / entry["file"]
        if not path.is_file():
            raise PhotoSetError(f"{path} is missing from the {manifest['name']} set.")
        if sha256(path) != entry["sha256"]:
            raise PhotoSetError(f"{path} does not match its SHA-256 in {MANIFEST}: the file is damaged.")


def _has_marker(photo_set: PhotoSet, folder: Path) -> bool:
    marker = folder / photo_set.marker_file
    if not marker.is_file():
        return False
    try:
        return json.loads(marker.read_text(encoding="utf-8")).get("name") == photo_set.name
    except (json.JSONDecodeError, AttributeError):
        return False


def is_intact_copy(photo_set: PhotoSet, folder: str | Path) -> bool:
    """True when ``folder`` is a copy made by :func:`copy_photo_set` with every photo unchanged."""
    folder = Path(folder)
    if not _has_marker(photo_set, folder):
        return False
    try:
        verify(folder, read_manifest(photo_set))
    except PhotoSetError:
        return False
    return True


def is_copy(photo_set: PhotoSet, folder: str | Path) -> bool:
    """True when ``folder`` carries the set's marker: leafdl made it, intact or not."""
    return _has_marker(photo_set, Path(folder))


def copy_photo_set(photo_set: PhotoSet, out_dir: str | Path) -> Path:
    """Copy a shipped set into ``out_dir`` (one folder per class), checking every file.

    The copy is written into a folder beside ``out_dir``, checked against the manifest,
    and only then renamed into place (:func:`leafdl.files.staging_folder`), so an
    interrupted copy never leaves half a dataset. ``out_dir`` may be missing or empty; if
    it already holds an intact copy, it is kept as it is. Any other non-empty folder is
    refused: leafdl never writes over your files.

    Returns:
        ``out_dir`` as a :class:`~pathlib.Path`.

    Raises:
        PhotoSetError: ``out_dir`` holds other files, or the shipped set is damaged.
    """
    out_dir = Path(out_dir)
    manifest = read_manifest(photo_set)
    if out_dir.exists() and not out_dir.is_dir():
        raise PhotoSetError(f"{out_dir} is a file, not a folder: choose a folder for the photos.")
    with output_lock(out_dir):   # one copy at a time; a second one stops with a clear error
        remove_stale_temporaries(out_dir.parent, (out_dir.name,))   # what a copy killed with -9 left
        return _copy_checked(photo_set, manifest, out_dir)


def _copy_checked(photo_set: PhotoSet, manifest: dict, out_dir: Path) -> Path:
    """Copy the set into a missing or empty ``out_dir``; keep an intact copy; refuse anything else."""
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if is_intact_copy(photo_set, out_dir):
            return out_dir
        raise PhotoSetError(
            f"{out_dir} is not empty and is not an intact copy of the {photo_set.name} set (it has no "
            f"{photo_set.marker_file}, or its photos were changed). To protect your files nothing was written. "
            "Choose a new or empty folder, or delete this one yourself.")
    with staging_folder(out_dir) as staging:
        for entry in manifest["files"]:
            (staging / entry["class"]).mkdir(exist_ok=True)
            shutil.copyfile(photo_set.folder / entry["class"] / entry["file"],
                            staging / entry["class"] / entry["file"])
        for note in photo_set.notes:
            shutil.copyfile(photo_set.folder / note, staging / note)
        verify(staging, manifest)
        marker = {"name": manifest["name"], "files": len(manifest["files"])}
        (staging / photo_set.marker_file).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    return out_dir
