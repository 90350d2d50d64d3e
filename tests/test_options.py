"""TrainConfig is the one home of every training option; settings are checked before anything runs."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import MISSING, fields

import pytest

from leafdl.cli import build_parser, train_config_from
from leafdl.config import FEATURE_BLOCKS, OPTION_NAMES, TrainConfig, check_for_backbone, options
from leafdl.errors import OptionError
from leafdl.models import build_model, feature_blocks


def train_action(flag: str):
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    return next(action for action in train._actions if flag in action.option_strings)


def test_every_setting_has_one_option_with_help_and_one_default():
    flags = [option.flag for option in options().values()]
    assert len(set(flags)) == len(flags) == len(fields(TrainConfig))
    defaults = build_parser().parse_args(["train", "data"])
    for setting in fields(TrainConfig):
        option = setting.metadata["option"]
        action = train_action(option.flag)
        assert action.dest == setting.name and action.help.startswith(option.help), setting.name
        assert setting.default is not MISSING, setting.name
        expected = setting.default if option.command_line_default is None else option.command_line_default
        assert getattr(defaults, setting.name) == expected, setting.name
    # The one setting with a command-line default of its own, declared beside its field with the reason.
    assert {name for name, option in options().items() if option.command_line_default is not None} == {"precision"}
    assert OPTION_NAMES["max_patience"] == "--patience"


def test_a_command_line_becomes_the_config_it_spells():
    args = build_parser().parse_args(["train", "data", "--epochs", "3", "--patience", "2", "--valid", "0.25",
                                      "--no-pretrained", "--workers", "0", "--scheduler-factor", "0.1",
                                      "--precision", "fp32", "--arch", "efficientnet_lite0"])
    config = train_config_from(args)
    assert config == TrainConfig(epochs=3, max_patience=2, valid_split=0.25, pretrained=False, num_workers=0,
                                 scheduler_factor=0.1, precision="fp32", arch="efficientnet_lite0")
    assert train_config_from(build_parser().parse_args(["train", "data"])) == TrainConfig(precision="auto")


@pytest.mark.parametrize("arch", sorted(FEATURE_BLOCKS))
def test_the_block_counts_are_those_of_the_built_models(arch):
    model, _ = build_model(4, arch=arch, pretrained=False, verbose=False)
    assert len(feature_blocks(model)) == FEATURE_BLOCKS[arch]


def test_unfreeze_is_checked_against_the_backbone():
    with pytest.raises(OptionError, match=r"unfreeze \(command line: --unfreeze\) must be at most 19"):
        TrainConfig(unfreeze=99)
    assert TrainConfig(unfreeze=19).unfreeze == 19                       # "auto" may become MobileNetV2 (19)
    with pytest.raises(OptionError, match="at most 18: efficientnet_lite0"):
        TrainConfig(unfreeze=19, arch="efficientnet_lite0")
    with pytest.raises(OptionError, match="at most 18"):
        check_for_backbone(TrainConfig(unfreeze=19), "efficientnet_lite0")  # what "auto" became here
    check_for_backbone(TrainConfig(unfreeze=19), "mobilenet_v2")


def test_leafdl_train_refuses_unfreeze_99_at_once_and_writes_nothing(demo_leaves, tmp_path):
    before = sorted(path.name for path in tmp_path.iterdir())
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "leafdl", "train", str(demo_leaves), "--unfreeze", "99"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    seconds = time.perf_counter() - started
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("leafdl train: error: unfreeze (command line: --unfreeze)")
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert sorted(path.name for path in tmp_path.iterdir()) == before     # no runs/latest, nothing
    assert seconds < 3, f"took {seconds:.1f} s"


def test_a_resolved_backbone_refuses_before_the_split(demo_leaves, tmp_path):
    from leafdl.pipeline import train_from_folder

    lines = []
    with pytest.raises(OptionError, match="at most 18"):
        train_from_folder(demo_leaves, tmp_path / "run", TrainConfig(unfreeze=19, epochs=1, img_size=64),
                          device="cpu", log=lines.append)   # no MobileNetV2 weights here: auto -> efficientnet_lite0
    assert lines == [] and not (tmp_path / "run").exists()
