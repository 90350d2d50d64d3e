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
