"""The notebooks' shared demo data: made once, reused, redrawn when it is stale."""

from __future__ import annotations

import json

from leafdl.course import demo_data


def test_demo_data_is_made_once_and_redrawn_when_stale(tmp_path):
    leaves, split = demo_data(per_class=5, data_dir=tmp_path)
    assert sorted(p.name for p in (split / "valid").iterdir()) == ["Apple_scab", "Black_rot", "Cedar_apple_rust",
                                                                     "Healthy"]
    first = (leaves / "Healthy" / "healthy_0000.jpg").stat().st_mtime_ns
    demo_data(per_class=5, data_dir=tmp_path)                       # reused as it is
    assert (leaves / "Healthy" / "healthy_0000.jpg").stat().st_mtime_ns == first

    marker = leaves / ".leafdl-demo.json"
    old = json.loads(marker.read_text())
    old["version"] = 0                                               # drawn by an older generator
    marker.write_text(json.dumps(old))
    demo_data(per_class=5, data_dir=tmp_path)
    assert json.loads(marker.read_text())["version"] != 0
    assert len(list((split / "train").rglob("*.jpg"))) == 16         # the split was made again too


def test_print_tree_shows_each_split_folder_with_its_image_count(tmp_path, capsys):
    from leafdl.course import print_tree

    leaves, split = demo_data(per_class=5, data_dir=tmp_path)
    print_tree(split)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "demo-split/"
    assert lines[1] == "├── .leafdl-split.json"
    assert lines[2] == "├── train/"
    assert lines[3].startswith("│   ├── Apple_scab/") and "  4 images (" in lines[3]
    valid = lines.index("└── valid/")
    assert lines[valid + 1].startswith("    ├── Apple_scab/") and "  1 images (" in lines[valid + 1]
    assert lines[-1].startswith("    └── Healthy/")
