"""The field photos: 240 real smartphone photos of bean leaves, shipped with leafdl.

The demo leaves are easy: one drawn leaf on a plain board. Real field photos are not:
leaves among other leaves, soil, stems, hands and sky. leafdl ships a small set of them
(the iBeans dataset, Makerere AI Lab, MIT licence; downsized to a short side of 288 px,
about 6 MB) so that the course can show, offline, where the document's frozen recipe
falls short. Three classes, 80 photos each::

    Angular_leaf_spot/   Bean_rust/   Healthy/

``leafdl/field-photos/README.md`` gives the source, licence and how the copy was made;
``manifest.json`` the SHA-256 of every file. The photos inside the package are never
trained on directly: :func:`copy_field_photos` copies them out (checking every
checksum), and you train on the copy.

Example:
    >>> from leafdl.field_photos import copy_field_photos      # doctest: +SKIP
    >>> copy_field_photos("data/field-photos")                  # doctest: +SKIP
    PosixPath('data/field-photos')
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from leafdl.errors import LeafdlError
from leafdl.files import staging_folder

# The set inside the installed package (package data, see pyproject.toml).
SHIPPED = Path(__file__).resolve().parent / "field-photos"
MANIFEST = "manifest.json"
# Written into every copy: "this folder is a copy of the field photos, it may be replaced".
MARKER_FILE = ".leafdl-field-photos.json"


class FieldPhotosError(LeafdlError, ValueError):
    """The shipped set is damaged, or the target folder cannot be written safely."""


def read_manifest(folder: Path = SHIPPED) -> dict:
    """The manifest of the shipped set: ``{"files": [{"class", "file", "sha256", ...}], ...}``."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise FieldPhotosError(f"{path} is missing: the field photos are not installed with leafdl. "
                               "Reinstall leafdl (pip install -e .) from a complete copy of the project.")
    return json.loads(path.read_text(encoding="utf-8"))


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def verify(folder: Path, manifest: dict) -> None:
    """Raise :class:`FieldPhotosError` unless every file of ``manifest`` is in ``folder`` unchanged."""
    for entry in manifest["files"]:
        path = Path(folder) / entry["class"] / entry["file"]
        if not path.is_file():
            raise FieldPhotosError(f"{path} is missing from the field photos.")
        if sha256(path) != entry["sha256"]:
            raise FieldPhotosError(f"{path} does not match its SHA-256 in {MANIFEST}: the file is damaged.")


def _is_previous_copy(folder: Path, manifest: dict) -> bool:
    marker = folder / MARKER_FILE
    if not marker.is_file():
        return False
    try:
        return json.loads(marker.read_text(encoding="utf-8")).get("name") == manifest["name"]
    except (json.JSONDecodeError, AttributeError):
        return False


def is_intact_copy(folder: str | Path) -> bool:
    """True when ``folder`` is a copy made by :func:`copy_field_photos` with every photo unchanged."""
    folder, manifest = Path(folder), read_manifest()
    if not _is_previous_copy(folder, manifest):
        return False
    try:
        verify(folder, manifest)
    except FieldPhotosError:
        return False
    return True


def copy_field_photos(out_dir: str | Path) -> Path:
    """Copy the shipped field photos into ``out_dir`` (class folders), checking every file.

    The copy is written into a folder beside ``out_dir``, checked against the manifest,
    and only then renamed into place (:func:`leafdl.files.staging_folder`), so an
    interrupted copy never leaves half a dataset. ``out_dir`` may be missing or empty; if
    it already holds an intact copy, it is kept as it is. Any other non-empty folder is
    refused: leafdl never writes over your files.

    Returns:
        ``out_dir`` as a :class:`~pathlib.Path`.

    Raises:
        FieldPhotosError: ``out_dir`` holds other files, or the shipped set is damaged.
    """
    out_dir = Path(out_dir)
    manifest = read_manifest()
    if out_dir.exists() and not out_dir.is_dir():
        raise FieldPhotosError(f"{out_dir} is a file, not a folder: choose a folder for the field photos.")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if is_intact_copy(out_dir):
            return out_dir
        raise FieldPhotosError(
            f"{out_dir} is not empty and is not an intact copy of the field photos (it has no {MARKER_FILE}, "
            "or its photos were changed). To protect your files nothing was written. Choose a new or "
            "empty folder, for example data/field-photos, or delete this one yourself.")
    with staging_folder(out_dir) as staging:
        for entry in manifest["files"]:
            (staging / entry["class"]).mkdir(exist_ok=True)
            shutil.copyfile(SHIPPED / entry["class"] / entry["file"], staging / entry["class"] / entry["file"])
        shutil.copyfile(SHIPPED / "README.md", staging / "README.md")
        verify(staging, manifest)
        marker = {"name": manifest["name"], "files": len(manifest["files"])}
        (staging / MARKER_FILE).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    return out_dir
