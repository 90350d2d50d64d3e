"""Tests for leafdl.weights: the hub-cache location, the downloader, the bundled file.

Nothing here touches the internet: downloads come from an HTTP server on 127.0.0.1,
and TORCH_HOME points at a temporary folder so the real cache is never read or written.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import socket
import threading
from pathlib import Path

import pytest
import torch

from leafdl import weights
from leafdl.weights import (
    WeightsUnavailableError,
    bundled_efficientnet_lite0_path,
    download_mobilenet_v2_weights,
    download_weights,
    load_state_dict_file,
    mobilenet_v2_weights_available,
    mobilenet_v2_weights_path,
    sha256_prefix_from_name,
)


@pytest.fixture
def served_dir(tmp_path):
    """A folder served over HTTP on 127.0.0.1; yields (folder, base_url)."""
    folder = tmp_path / "served"
    folder.mkdir()

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # keep pytest's output clean
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder))
    )
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def serve_file(folder: Path, stem: str, payload: bytes, hash_prefix: str | None = None) -> str:
    """Write payload as '<stem>-<hash prefix>.pth' (the torch.hub naming) and return its name."""
    prefix = hash_prefix or hashlib.sha256(payload).hexdigest()[:8]
    name = f"{stem}-{prefix}.pth"
    (folder / name).write_bytes(payload)
    return name


def closed_port() -> int:
    """A local port nobody listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


PAYLOAD = os.urandom(300_000)


# --- Where MobileNetV2's weights live ---------------------------------------------------------


def test_mobilenet_v2_path_is_torchvisions_hub_cache_under_torch_home(torch_home):
    from torchvision.models import MobileNet_V2_Weights

    expected_name = MobileNet_V2_Weights.DEFAULT.url.rsplit("/", 1)[-1]
    assert mobilenet_v2_weights_path() == torch_home / "hub" / "checkpoints" / expected_name
    assert not mobilenet_v2_weights_available()

    mobilenet_v2_weights_path().parent.mkdir(parents=True)
    mobilenet_v2_weights_path().write_bytes(b"x")
    assert mobilenet_v2_weights_available()


def test_sha256_prefix_follows_torch_hub_file_names():
    assert sha256_prefix_from_name("mobilenet_v2-7ebf99e0.pth") == "7ebf99e0"
    assert sha256_prefix_from_name("efficientnet-lite0-57934424.pth") == "57934424"
    assert sha256_prefix_from_name("weights.pth") is None


# --- The downloader ---------------------------------------------------------------------------


def test_download_lands_the_whole_file_atomically(served_dir, tmp_path, monkeypatch):
    folder, base_url = served_dir
    name = serve_file(folder, "blob", PAYLOAD)
    dest = tmp_path / "cache" / "checkpoints" / name

    real_replace = os.replace
    renames = []

    def watching_replace(src, dst):
        # At the moment of the rename, dest does not exist yet and the temp file is complete.
        assert not Path(dst).exists()
        assert Path(src).parent == Path(dst).parent
        assert Path(src).read_bytes() == PAYLOAD
        renames.append((Path(src), Path(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", watching_replace)
    result = download_weights(f"{base_url}/{name}", dest, progress=False)

    assert result == dest
    assert dest.read_bytes() == PAYLOAD
    assert len(renames) == 1 and renames[0][1] == dest
    assert sorted(p.name for p in dest.parent.iterdir()) == [name]  # no temp file left


def test_download_checks_an_explicit_hash_prefix(served_dir, tmp_path):
    folder, base_url = served_dir
    (folder / "plain.bin").write_bytes(PAYLOAD)
    dest = tmp_path / "plain.bin"
    good = hashlib.sha256(PAYLOAD).hexdigest()[:10]

    download_weights(f"{base_url}/plain.bin", dest, sha256_prefix=good, progress=False)
    assert dest.read_bytes() == PAYLOAD


def test_wrong_hash_raises_and_leaves_no_file(served_dir, tmp_path):
    folder, base_url = served_dir
    name = serve_file(folder, "blob", PAYLOAD, hash_prefix="deadbeef")  # the name lies
    cache = tmp_path / "checkpoints"
    cache.mkdir()
    neighbour = cache / "someone-elses.pth"
    neighbour.write_bytes(b"keep me")
    dest = cache / name

    with pytest.raises(WeightsUnavailableError, match="SHA-256") as caught:
        download_weights(f"{base_url}/{name}", dest, progress=False)

    assert "deadbeef" in str(caught.value)
    assert not dest.exists()
    assert sorted(p.name for p in cache.iterdir()) == ["someone-elses.pth"]
    assert neighbour.read_bytes() == b"keep me"


def test_failed_download_keeps_an_existing_file(served_dir, tmp_path):
    folder, base_url = served_dir
    (folder / "plain.bin").write_bytes(PAYLOAD)
    dest = tmp_path / "plain.bin"
    dest.write_bytes(b"the old, good weights")

    with pytest.raises(WeightsUnavailableError):
        download_weights(f"{base_url}/plain.bin", dest, sha256_prefix="00000000", progress=False)
    assert dest.read_bytes() == b"the old, good weights"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.bin", "served"]  # no temporary left


@pytest.fixture
def dropping_server():
    """A server on 127.0.0.1 that announces 300,000 bytes, sends 1,000 and hangs up; yields its URL."""

    class DroppingHandler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD[:1000])
            self.close_connection = True

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), DroppingHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_dropped_connection_leaves_no_partial_file(dropping_server, tmp_path):
    # No hash in the name, so only the announced length can tell the file is cut short.
    dest = tmp_path / "cache" / "plain.bin"
    with pytest.raises(WeightsUnavailableError, match="stopped after 1,000 of 300,000 bytes") as caught:
        download_weights(f"{dropping_server}/plain.bin", dest, progress=False)
    assert str(dest) in str(caught.value)
    assert list(dest.parent.iterdir()) == []


def test_ctrl_c_during_a_download_leaves_no_partial_file(served_dir, tmp_path, monkeypatch):
    folder, base_url = served_dir
    name = serve_file(folder, "blob", PAYLOAD)
    dest = tmp_path / "cache" / name
    monkeypatch.setattr(weights, "CHUNK_BYTES", 10_000)
    real_open_url = weights.open_url
    seen_mid_way = []

    def open_then_interrupt(url, timeout):
        response = real_open_url(url, timeout)
        real_read, reads = response.read, []

        def read(size):
            reads.append(size)
            if len(reads) == 3:  # two chunks are on disk: press Ctrl-C
                seen_mid_way.extend(path.stat().st_size for path in dest.parent.iterdir())
                raise KeyboardInterrupt
            return real_read(size)

        response.read = read
        return response

    monkeypatch.setattr(weights, "open_url", open_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        download_weights(f"{base_url}/{name}", dest, progress=False)

    assert len(seen_mid_way) == 1  # a partial file existed when the download was stopped...
    assert list(dest.parent.iterdir()) == []  # ...and is gone


def test_an_unwritable_cache_says_where_and_what_to_do(served_dir, tmp_path):
    folder, base_url = served_dir
    name = serve_file(folder, "blob", PAYLOAD)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")

    with pytest.raises(WeightsUnavailableError, match="TORCH_HOME") as caught:
        download_weights(f"{base_url}/{name}", blocker / "checkpoints" / name, progress=False)
    assert "Could not write" in str(caught.value) and str(blocker / "checkpoints" / name) in str(caught.value)
    assert blocker.read_text() == "a file where the cache folder should be"


def test_http_error_is_explained(served_dir, tmp_path):
    _, base_url = served_dir
    with pytest.raises(WeightsUnavailableError, match="HTTP 404"):
        download_weights(f"{base_url}/missing-12345678.pth", tmp_path / "x.pth", progress=False)
    assert list(tmp_path.iterdir()) == [tmp_path / "served"]


def test_refused_connection_says_what_happened_where_and_what_to_do(tmp_path):
    dest = tmp_path / "checkpoints" / "mobilenet_v2-7ebf99e0.pth"
    url = f"http://127.0.0.1:{closed_port()}/mobilenet_v2-7ebf99e0.pth"

    with pytest.raises(WeightsUnavailableError) as caught:
        download_weights(url, dest, timeout=0.5, progress=False)

    message = str(caught.value)
    assert "Could not reach 127.0.0.1" in message
    assert str(dest) in message
    assert "leafdl weights download" in message and "--arch efficientnet_lite0" in message
    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []


def test_a_server_that_never_answers_gives_up_after_timeout(tmp_path):
    # The socket listens (so connecting succeeds) but nobody ever reads or answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/blob-12345678.pth"
        with pytest.raises(WeightsUnavailableError, match="Could not reach 127.0.0.1"):
            download_weights(url, tmp_path / "blob-12345678.pth", timeout=0.5, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_download_mobilenet_v2_fills_the_hub_cache(served_dir, monkeypatch):
    folder, base_url = served_dir
    name = serve_file(folder, "mobilenet_v2", PAYLOAD)

    path = download_mobilenet_v2_weights(url=f"{base_url}/{name}", progress=False)

    assert path == mobilenet_v2_weights_path()
    assert path.read_bytes() == PAYLOAD
    assert mobilenet_v2_weights_available()

    # Once cached, no network is needed: even an unreachable URL is never contacted.
    unreachable = f"http://127.0.0.1:{closed_port()}/{name}"
    assert download_mobilenet_v2_weights(url=unreachable, progress=False) == path


# --- The bundled file and reading weights -----------------------------------------------------


def test_bundled_efficientnet_lite0_file_matches_the_hash_in_its_name():
    path = bundled_efficientnet_lite0_path()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest.startswith(sha256_prefix_from_name(path.name))


def test_load_state_dict_file_reads_tensors_on_cpu(tmp_path):
    path = tmp_path / "tiny.pth"
    torch.save({"w": torch.arange(3.0)}, path)
    assert torch.equal(load_state_dict_file(path)["w"], torch.arange(3.0))


def test_load_state_dict_file_explains_a_damaged_or_missing_file(tmp_path):
    damaged = tmp_path / "damaged.pth"
    torch.save({"w": torch.zeros(1000)}, damaged)
    damaged.write_bytes(damaged.read_bytes()[:100])  # an interrupted copy
    with pytest.raises(WeightsUnavailableError, match="delete it and download it again"):
        load_state_dict_file(damaged)
    with pytest.raises(WeightsUnavailableError, match="No weights file"):
        load_state_dict_file(tmp_path / "nowhere.pth")
