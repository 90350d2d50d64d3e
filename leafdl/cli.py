"""The ``leafdl`` command: the document's Train.py, with sub-commands.

    leafdl data demo OUT_DIR [--per-class N] [--seed S]       draw the demo leaf dataset
    leafdl data apples OUT_DIR                                copy out the 240 real apple photos
    leafdl data field OUT_DIR                                 copy out the 240 real field photos
    leafdl data split SRC OUT_DIR [--valid 0.2] [--seed 42]   copy into train/ and valid/
    leafdl weights download                                   fetch MobileNetV2's ImageNet weights
    leafdl train DATA_DIR --out RUN_DIR [--epochs 10 ...]     train, save, plot
    leafdl predict RUN_DIR IMAGE...                           classify new photos
    leafdl export RUN_DIR [--overwrite]                       zip model, metadata and plots

Every hyperparameter of the document's summary table is an option with the document's
default; ``leafdl train --help`` lists them.

Errors a user can fix (a :class:`~leafdl.errors.LeafdlError`: a missing folder, a bad
option, a broken photo, a full disk) are printed as one line, ``leafdl <command>: error:
...``, with exit status 2. Ctrl-C exits with 130 after saying how to continue. Anything
else is a bug and keeps its traceback.

This module imports only the standard library and leafdl's light modules: torch,
torchvision and scikit-learn take seconds to import, so each sub-command imports what it
needs inside its handler, and ``leafdl --help`` answers at once.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from pathlib import Path

from leafdl import __version__
from leafdl.config import PRECISIONS, TrainConfig
from leafdl.errors import LeafdlError

DEFAULTS = TrainConfig()
EXIT_ERROR = 2          # the user's input cannot be used
EXIT_INTERRUPTED = 130  # Ctrl-C, by the shell's convention (128 + SIGINT)


def whole_number(minimum: int):
    """An argparse ``type`` that accepts whole numbers from ``minimum`` up."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value
    return parse


def positive_number(text: str) -> float:
    """An argparse ``type`` for a number above zero (a timeout, a learning rate)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def seed_number(text: str) -> int:
    """An argparse ``type`` for a random seed: numpy and scikit-learn take 0 to 2**32 - 1."""
    value = whole_number(0)(text)
    if value >= 2**32:
        raise argparse.ArgumentTypeError(f"must be below 2**32 (4294967296), got {value}")
    return value


def _add_data_commands(commands) -> None:
    data = commands.add_parser("data", help="make or split a dataset").add_subparsers(dest="data_command", required=True)

    demo = data.add_parser("demo", help="draw the synthetic demo leaf dataset (no download)")
    demo.add_argument("out_dir", type=Path)
    demo.add_argument("--per-class", type=whole_number(1), default=100, help="images per class (default: 100)")
    demo.add_argument("--seed", type=seed_number, default=0, help="random seed; same seed, same files (default: 0)")
    demo.set_defaults(handler=_demo)

    apples = data.add_parser("apples", help="copy out the shipped apple photos (240 real PlantVillage photos)")
    apples.add_argument("out_dir", type=Path)
    apples.set_defaults(handler=_apples)

    field = data.add_parser("field", help="copy out the shipped field photos (240 real bean-leaf photos)")
    field.add_argument("out_dir", type=Path)
    field.set_defaults(handler=_field)

    split = data.add_parser("split", help="split class folders into train/ and valid/ (copies)")
    split.add_argument("source", type=Path)
    split.add_argument("out_dir", type=Path)
    split.add_argument("--valid", type=float, default=DEFAULTS.valid_split, help="validation share (default: 0.2)")
    split.add_argument("--seed", type=seed_number, default=DEFAULTS.seed, help="random_state (default: 42)")
    split.add_argument("--skip-bad-images", action="store_true", help="leave unreadable images out instead of stopping")
    split.set_defaults(handler=_split)


def _add_train_command(commands) -> None:
    """``leafdl train``: one option per :class:`TrainConfig` field (:func:`leafdl.config.options`), then the run's own."""
    train = commands.add_parser("train", help="train a classifier on a folder of class folders",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    train.add_argument("data_dir", type=Path, help="class folders, or a folder with train/ and valid/")
    train.add_argument("--out", type=Path, default=Path("runs/latest"), help="run folder to write")
    for setting in fields(TrainConfig):
        _add_setting(train, setting)
    train.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:1, mps")
    train.add_argument("--resume", action="store_true", help="continue the run in --out from its last.ckpt")
    train.add_argument("--skip-bad-images", action="store_true", help="leave unreadable images out instead of stopping")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.set_defaults(handler=_train)


# How a setting's text becomes its value, by the field's type; TrainConfig checks the value itself.
_SETTING_TYPES = {"int": int, "float": float, "str": str, "int | None": whole_number(0)}


def _add_setting(parser: argparse.ArgumentParser, setting) -> None:
    """The option of one TrainConfig field, with the field's name as its ``dest``."""
    option = setting.metadata["option"]
    if setting.type == "bool":   # a switch that turns the default off (--no-pretrained)
        parser.add_argument(option.flag, dest=setting.name, action="store_const", const=not setting.default,
                            default=setting.default, help=f"{option.help} ({setting.name} %(const)s; else %(default)s)")
        return
    default = setting.default if option.command_line_default is None else option.command_line_default
    parser.add_argument(option.flag, dest=setting.name, type=_SETTING_TYPES[setting.type], default=default,
                        choices=option.choices or None, help=option.help,
                        metavar=None if option.choices else option.flag.lstrip("-").upper().replace("-", "_"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="leafdl", description="Train a leaf-disease classifier with transfer learning.")
    parser.add_argument("--version", action="version", version=f"leafdl {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    _add_data_commands(commands)

    weights = commands.add_parser("weights", help="pretrained weights").add_subparsers(dest="weights_command", required=True)
    download = weights.add_parser("download", help="download MobileNetV2's ImageNet weights into torch's cache")
    download.add_argument("--timeout", type=positive_number, default=10.0, help="seconds to wait for the server")
    download.set_defaults(handler=_weights_download)
    status = weights.add_parser("status", help="say which pretrained weights are on this machine")
    status.set_defaults(handler=_weights_status)

    _add_train_command(commands)

    predict = commands.add_parser("predict", help="classify photos with a trained run")
    predict.add_argument("run_dir", type=Path)
    predict.add_argument("images", type=Path, nargs="+")
    predict.add_argument("--top", type=whole_number(1), default=3, help="how many classes to show per image")
    predict.add_argument("--precision", default="auto", choices=PRECISIONS,
                         help="auto: as the model was validated, in bf16 only on CPUs that compute it natively")
    predict.set_defaults(handler=_predict)

    export = commands.add_parser("export", help="zip a run's model, metadata and plots")
    export.add_argument("run_dir", type=Path)
    export.add_argument("--overwrite", action="store_true", help="replace an existing zip of that name")
    export.set_defaults(handler=_export)
    return parser


# Each handler imports what it needs when it runs (see the module docstring): that keeps
# `leafdl --help` instant. It returns the exit status.


def _demo(args) -> int:
    from leafdl.demo_data import make_demo_dataset

    out = make_demo_dataset(args.out_dir, per_class=args.per_class, seed=args.seed)
    print(f"Wrote {args.per_class} images per class to {out}")
    return 0


def _apples(args) -> int:
    from leafdl.photo_sets import APPLE_PHOTOS

    return _copy_photos(APPLE_PHOTOS, args.out_dir)


def _field(args) -> int:
    from leafdl.photo_sets import FIELD_PHOTOS

    return _copy_photos(FIELD_PHOTOS, args.out_dir)


def _copy_photos(photo_set, out_dir: Path) -> int:
    from leafdl.photo_sets import copy_photo_set, is_intact_copy

    if is_intact_copy(photo_set, out_dir):
        print(f"{out_dir} already holds an intact copy of the {photo_set.description}; nothing was copied.")
        return 0
    print(f"Copied {photo_set.description} to {copy_photo_set(photo_set, out_dir)}")
    return 0


def _split(args) -> int:
    from leafdl.data import split_dataset

    summary = split_dataset(args.source, args.out_dir, args.valid, args.seed, skip_bad=args.skip_bad_images)
    if summary.reused:
        print(f"{args.out_dir} already holds this split (same images, share and seed); nothing to do.")
    print(summary)
    print(f"Wrote {args.out_dir / 'train'} and {args.out_dir / 'valid'}")
    return 0


def _weights_download(args) -> int:
    from leafdl.weights import download_mobilenet_v2_weights

    path = download_mobilenet_v2_weights(timeout=args.timeout)
    print(f"MobileNetV2 ImageNet weights are in {path}; training now works offline with --arch mobilenet_v2.")
    return 0


def _weights_status(args) -> int:
    from leafdl.weights import bundled_efficientnet_lite0_path, mobilenet_v2_weights_path

    mobilenet = mobilenet_v2_weights_path()
    print(f"mobilenet_v2:      {'cached' if mobilenet.exists() else 'not downloaded'} ({mobilenet})")
    print(f"efficientnet_lite0: bundled ({bundled_efficientnet_lite0_path()})")
    return 0


def train_config_from(args) -> TrainConfig:
    """The :class:`TrainConfig` a ``leafdl train`` command line asks for; checked as it is built."""
    return TrainConfig(**{setting.name: getattr(args, setting.name) for setting in fields(TrainConfig)})


def _train(args) -> int:
    config = train_config_from(args)   # every option checked before anything is read or written
    from leafdl.run_folder import check_run_folder

    check_run_folder(args.out, args.resume)   # at once, before torch loads; again under the run's lock
    from leafdl.pipeline import train_from_folder

    try:
        train_from_folder(args.data_dir, args.out, config, device=args.device, resume=args.resume,
                          skip_bad=args.skip_bad_images, progress=not args.quiet)
    except KeyboardInterrupt:
        from leafdl.run_folder import interrupted_note

        print(f"\nleafdl train: interrupted. {interrupted_note(args.out)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def _predict(args) -> int:
    from leafdl.data import readable_class_name
    from leafdl.predict import Predictor

    predictor = Predictor.from_run(args.run_dir, precision=args.precision)
    failed = 0
    for image in args.images:
        try:
            ranked = predictor.predict(image, top_k=args.top)
        except LeafdlError as error:
            print(f"leafdl predict: error: {error}", file=sys.stderr)
            failed += 1
            continue
        print(f"{printable(str(image))}:")
        for name, probability in ranked:
            print(f"  {probability:6.1%}  {printable(readable_class_name(name))}")
    if failed:
        print(f"leafdl predict: {failed} of {len(args.images)} image(s) could not be classified (named above).",
              file=sys.stderr)
        return EXIT_ERROR
    return 0


def printable(text: str) -> str:
    """``text`` with control characters shown as escapes (``\\x1b``), so a class name in a
    metadata file cannot move the cursor or recolour the terminal to fake an output."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def _export(args) -> int:
    from leafdl.checkpoint import export_run

    print(f"Wrote {export_run(args.run_dir, overwrite=args.overwrite)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``leafdl`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except LeafdlError as error:
        print(f"leafdl {args.command}: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"\nleafdl {args.command}: interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
