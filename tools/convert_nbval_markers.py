"""Move nbval markers out of cell sources and into cell tags (a one-shot conversion).

nbval skips comparing a cell's output when the cell's first line is the comment
``# NBVAL_IGNORE_OUTPUT``, or when the cell carries the tag ``nbval-ignore-output``.
The comment is test plumbing that every student reads; the tag is invisible. This
rewrites a jupytext percent-format source so that

    # %%                                      # %% tags=["nbval-ignore-output"]
    # NBVAL_IGNORE_OUTPUT              ->     train(model, loader)
    train(model, loader)

and leaves every other line as it was. Then rebuild the notebook
(``python tools/build_notebooks.py NN``) so the .ipynb carries the tag too.

    python tools/convert_nbval_markers.py notebooks/src/*.py          # rewrite in place
    python tools/convert_nbval_markers.py --check notebooks/src/*.py  # only report; exit 1 if any marker is left

A marker that is not a cell's first line, or another nbval marker (``NBVAL_SKIP``...),
is not guessed at: the tool stops and names the file and line, to fix by hand.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import jupytext

MARKER = "# NBVAL_IGNORE_OUTPUT"
TAG = "nbval-ignore-output"
ANY_MARKER = re.compile(r"^\s*#\s*(NBVAL_\w+|PYTEST_VALIDATE_IGNORE_OUTPUT)\s*$")
TAGS_IN_HEADER = re.compile(r"tags=(\[[^\]]*\])")


def tagged_header(header: str) -> str:
    """A cell header (``# %% ...``) with the nbval tag added to its ``tags=[...]``."""
    found = TAGS_IN_HEADER.search(header)
    if not found:
        return f'{header} tags=["{TAG}"]'
    tags = json.loads(found.group(1))
    if TAG not in tags:
        tags.append(TAG)
    return header[:found.start(1)] + json.dumps(tags) + header[found.end(1):]


def convert_text(text: str, name: str = "source") -> tuple[str, int]:
    """Return the converted source and how many markers moved. Raises ValueError on a marker it cannot move."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    moved = 0
    index = 0
    while index < len(lines):
        line = lines[index]
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if line.startswith("# %%") and following.strip() == MARKER:
            out.append(tagged_header(line.rstrip("\r\n")) + line[len(line.rstrip("\r\n")):])
            moved += 1
            index += 2
            continue
        if ANY_MARKER.match(line):
            raise ValueError(f"{name}:{index + 1}: {line.strip()!r} is not the first line of a cell, or not "
                             f"{MARKER!r}; move it into the cell's header tags by hand "
                             f'(e.g. # %% tags=["{TAG}"])')
        out.append(line)
        index += 1
    return "".join(out), moved


def verify(before: str, after: str, name: str) -> None:
    """The conversion changed nothing but markers and tags (checked by reading both with jupytext)."""
    old = jupytext.reads(before, fmt="py:percent").cells
    new = jupytext.reads(after, fmt="py:percent").cells
    if len(old) != len(new):
        raise ValueError(f"{name}: the conversion changed the number of cells ({len(old)} -> {len(new)})")
    for number, (a, b) in enumerate(zip(old, new)):
        had_marker = a.source.splitlines()[:1] == [MARKER]
        expected = "\n".join(a.source.splitlines()[1:]) if had_marker else a.source
        if a.cell_type != b.cell_type or expected.strip() != b.source.strip():
            raise ValueError(f"{name}: cell {number} changed beyond its marker")
        if had_marker and TAG not in b.metadata.get("tags", []):
            raise ValueError(f"{name}: cell {number} lost its marker but got no tag")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sources", nargs="+", type=Path, help="jupytext percent-format sources (.py)")
    parser.add_argument("--check", action="store_true", help="only report; write nothing")
    args = parser.parse_args()
    total = 0
    for path in args.sources:
        before = path.read_text(encoding="utf-8")
        try:
            after, moved = convert_text(before, str(path))
            verify(before, after, str(path))
        except ValueError as error:
            sys.exit(f"error: {error}")
        total += moved
        if moved and not args.check:
            path.write_text(after, encoding="utf-8")
        if moved:
            print(f"{path}: {moved} marker(s) {'to move' if args.check else 'moved into tags'}")
    print(f"{total} marker(s) {'left in sources' if args.check else 'moved'}.")
    if args.check and total:
        sys.exit(1)


if __name__ == "__main__":
    main()
