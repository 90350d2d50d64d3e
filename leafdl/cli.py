"""The ``leafdl`` command: the document's Train.py, with sub-commands.

    leafdl data demo OUT_DIR [--per-class N] [--seed S]       draw the demo leaf dataset
    leafdl data field OUT_DIR                                 copy out the 240 real field photos
    leafdl data split SRC OUT_DIR [--valid 0.2] [--seed 42]   copy into train/ and valid/
    leafdl weights download                                   fetch MobileNetV2's ImageNet weights
    leafdl train DATA_DIR --out RUN_DIR [--epochs 10 ...]     train, save, plot
    leafdl predict RUN_DIR IMAGE...                           classify new photos
    leafdl export RUN_DIR                                     zip model, metadata and plots

Every hyperparameter of the document's summary table is an option with the document's
default; ``leafdl train --help`` lists them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from leafdl.config import TrainConfig

DEFAULTS = TrainConfig()


def _add_data_commands(commands) -> None:
    data = commands.add_parser("data", help="make or split a dataset").add_subparsers(dest="data_command", required=True)

    demo = data.add_parser("demo", help="draw the synthetic demo leaf dataset (no download)")
    demo.add_argument("out_dir", type=Path)
    demo.add_argument("--per-class", type=int, default=100, help="images per class (default: 100)")
    demo.add_argument("--seed", type=int, default=0, help="random seed; same seed, same files (default: 0)")
    demo.set_defaults(handler=_demo)

    field = data.add_parser("field", help="copy out the shipped field photos (240 real bean-leaf photos)")
    field.add_argument("out_dir", type=Path)
    field.set_defaults(handler=_field)

    split = data.add_parser("split", help="split class folders into train/ and valid/ (copies)")
    split.add_argument("source", type=Path)
    split.add_argument("out_dir", type=Path)
    split.add_argument("--valid", type=float, default=DEFAULTS.valid_split, help="validation share (default: 0.2)")
    split.add_argument("--seed", type=int, default=DEFAULTS.seed, help="random_state (default: 42)")
    split.add_argument("--skip-bad-images", action="store_true", help="leave unreadable images out instead of stopping")
    split.set_defaults(handler=_split)


def _add_train_command(commands) -> None:
    train = commands.add_parser("train", help="train a classifier on a folder of class folders",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    train.add_argument("data_dir", type=Path, help="class folders, or a folder with train/ and valid/")
    train.add_argument("--out", type=Path, default=Path("runs/latest"), help="run folder to write")
    train.add_argument("--epochs", type=int, default=DEFAULTS.epochs)
    train.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size)
    train.add_argument("--lr", type=float, default=DEFAULTS.lr)
    train.add_argument("--patience", type=int, default=DEFAULTS.max_patience, help="early-stopping patience")
    train.add_argument("--valid", type=float, default=DEFAULTS.valid_split, help="validation share when splitting")
    train.add_argument("--seed", type=int, default=DEFAULTS.seed)
    train.add_argument("--arch", default=DEFAULTS.arch, choices=["auto", "mobilenet_v2", "efficientnet_lite0"])
    train.add_argument("--img-size", type=int, default=DEFAULTS.img_size)
    train.add_argument("--crop-scale-min", type=float, default=DEFAULTS.crop_scale_min,
                       help="smallest share of a photo's area a training crop keeps (0.35 for field photos)")
    train.add_argument("--no-pretrained", action="store_true", help="start from random weights (to compare)")
    train.add_argument("--unfreeze", type=int, default=DEFAULTS.unfreeze,
                       help="fine-tune: unfreeze the last N backbone blocks after the frozen stage")
    train.add_argument("--finetune-epochs", type=int, default=DEFAULTS.finetune_epochs,
                       help="fine-tune: epochs with the last N blocks unfrozen")
    train.add_argument("--backbone-lr", type=float, default=DEFAULTS.backbone_lr,
                       help="fine-tune: learning rate of the unfrozen blocks")
    train.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:1, mps")
    train.add_argument("--workers", type=int, default=None, help="DataLoader worker processes (default: per OS)")
    train.add_argument("--resume", action="store_true", help="continue the run in --out from its last.ckpt")
    train.add_argument("--skip-bad-images", action="store_true", help="leave unreadable images out instead of stopping")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.set_defaults(handler=_train)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="leafdl", description="Train a leaf-disease classifier with transfer learning.")
    from leafdl import __version__
    parser.add_argument("--version", action="version", version=f"leafdl {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    _add_data_commands(commands)

    weights = commands.add_parser("weights", help="pretrained weights").add_subparsers(dest="weights_command", required=True)
    download = weights.add_parser("download", help="download MobileNetV2's ImageNet weights into torch's cache")
    download.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the server")
    download.set_defaults(handler=_weights_download)
    status = weights.add_parser("status", help="say which pretrained weights are on this machine")
    status.set_defaults(handler=_weights_status)

    _add_train_command(commands)

    predict = commands.add_parser("predict", help="classify photos with a trained run")
    predict.add_argument("run_dir", type=Path)
    predict.add_argument("images", type=Path, nargs="+")
    predict.add_argument("--top", type=int, default=3, help="how many classes to show per image")
    predict.set_defaults(handler=_predict)

    export = commands.add_parser("export", help="zip a run's model, metadata and plots")
    export.add_argument("run_dir", type=Path)
    export.set_defaults(handler=_export)
    return parser


def _demo(args) -> None:
    from leafdl.demo_data import make_demo_dataset

    out = make_demo_dataset(args.out_dir, per_class=args.per_class, seed=args.seed)
    print(f"Wrote {args.per_class} images per class to {out}")


def _field(args) -> None:
    from leafdl.field_photos import copy_field_photos

    print(f"Copied 240 field photos (3 classes, 80 each) to {copy_field_photos(args.out_dir)}")


def _split(args) -> None:
    from leafdl.data import split_dataset

    summary = split_dataset(args.source, args.out_dir, args.valid, args.seed, skip_bad=args.skip_bad_images)
    print(summary)
    print(f"Wrote {args.out_dir / 'train'} and {args.out_dir / 'valid'}")


def _weights_download(args) -> None:
    from leafdl.weights import download_mobilenet_v2_weights

    path = download_mobilenet_v2_weights(timeout=args.timeout)
    print(f"MobileNetV2 ImageNet weights are in {path}; training now works offline with --arch mobilenet_v2.")


def _weights_status(args) -> None:
    from leafdl.weights import bundled_efficientnet_lite0_path, mobilenet_v2_weights_path

    mobilenet = mobilenet_v2_weights_path()
    print(f"mobilenet_v2:      {'cached' if mobilenet.exists() else 'not downloaded'} ({mobilenet})")
    print(f"efficientnet_lite0: bundled ({bundled_efficientnet_lite0_path()})")


def _train(args) -> None:
    from leafdl.pipeline import train_from_folder

    config = TrainConfig(
        img_size=args.img_size, batch_size=args.batch_size, epochs=args.epochs, valid_split=args.valid,
        lr=args.lr, max_patience=args.patience, seed=args.seed, arch=args.arch,
        pretrained=not args.no_pretrained, num_workers=args.workers, unfreeze=args.unfreeze,
        finetune_epochs=args.finetune_epochs, backbone_lr=args.backbone_lr, crop_scale_min=args.crop_scale_min,
    )
    train_from_folder(args.data_dir, args.out, config, device=args.device, resume=args.resume,
                      skip_bad=args.skip_bad_images, progress=not args.quiet)


def _predict(args) -> None:
    from leafdl.data import readable_class_name
    from leafdl.predict import Predictor

    predictor = Predictor.from_run(args.run_dir)
    for image in args.images:
        ranked = predictor.predict(image, top_k=args.top)
        print(f"{image}:")
        for name, probability in ranked:
            print(f"  {probability:6.1%}  {readable_class_name(name)}")


def _export(args) -> None:
    from leafdl.checkpoint import export_run

    print(f"Wrote {export_run(args.run_dir)}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``leafdl`` command; returns the exit status."""
    from leafdl.checkpoint import CheckpointError
    from leafdl.data import DatasetError
    from leafdl.weights import WeightsUnavailableError

    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except (DatasetError, CheckpointError, WeightsUnavailableError, FileNotFoundError, ValueError) as error:
        print(f"leafdl {args.command}: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
