"""Helpers for ``test_browser.py``: run the course notebooks in a real JupyterLab.

nbval proves that a notebook executes in a kernel. It does not prove what a
student *sees*: a plot that never reaches the page, a widget that shows
"Error displaying widget", a slider that moves but changes nothing. These
helpers start a private JupyterLab server and a headless Chromium, open one
notebook per page, click **Run -> Run All Cells** like a student would, and
then read the page.

The pieces, in the order a check uses them:

* :func:`browser_unavailable_reason` -- is there a Chromium and Playwright?
* :func:`stage_notebooks` -- copy the notebooks to a temporary folder, so the
  check never writes to the repository's files.
* :class:`JupyterLabServer` -- ``python -m jupyter lab`` on 127.0.0.1 with a
  random token and its own settings, workspaces and runtime folders.
* :class:`ChromiumProcess` -- ``/usr/bin/chromium --headless`` with a fresh
  profile, driven by Playwright over the DevTools protocol.
* :func:`check_notebook` -- open, run all, wait, look, move a slider, take a
  screenshot; returns a :class:`NotebookReport` listing every problem found.

Everything waits for a condition (a kernel that is idle, a prompt that is no
longer ``[*]``) with a time limit, instead of sleeping for a guessed time.

Example (what the test module does)::

    workdir = stage_notebooks(Path("notebooks"), tmp_path / "course")
    with JupyterLabServer(workdir, tmp_path / "lab") as lab, \\
            ChromiumProcess(tmp_path / "profile") as chromium:
        page = chromium.new_page()
        expected = expectations_from_notebook(Path("notebooks/01_intro.ipynb"))
        report = check_notebook(page, lab, "notebooks/01_intro.ipynb", expected)
        assert report.problems == [], report.describe()
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

REPO_ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_PATH = Path("/usr/bin/chromium")
INSTALL_HINT = "install it with `bash .ci/install-browser.sh` (needs root and apt-get)"

# The flags asked of every Chromium we start: headless, no sandbox (containers
# have none), and nothing that talks to the network on its own.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
MAX_SCREENSHOT_HEIGHT = 20_000  # pixels; longer notebooks are cut at the bottom

# Time limits, in seconds. They bound the waits; they are not speed targets.
SERVER_START_TIMEOUT_S = 60
KERNEL_START_TIMEOUT_S = 60
RUN_ALL_TIMEOUT_S = float(os.environ.get("LEAFDL_BROWSER_TIMEOUT", "180"))
WIDGETS_DRAWN_TIMEOUT_S = 30
SLIDER_RESPONSE_TIMEOUT_S = 60

# JupyterLab user settings written for the check. "windowingMode": "none"
# keeps every cell in the page (the default only renders cells near the
# viewport, so a plot further down would not be in the DOM to find);
# "scrollPastEnd": false drops the empty screen below the last cell from the
# screenshots. The notification settings stop the "get Jupyter news?"
# pop-up and its fetch.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "windowingMode": "none",
        "scrollPastEnd": False,
    },
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}

WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"
IMAGE_MIMES = ("image/png", "image/jpeg")
# A line that starts with an exception's name: "ValueError: ...", "KeyboardInterrupt".
EXCEPTION_LINE = re.compile(r"^\w*(Error|Exception|Interrupt)\b", re.MULTILINE)
# A tqdm bar at 0 % shown as text ("epoch 1:   0%|  | 0/6"), as a front end without a
# widget manager (RISE, GitHub, nbconvert) draws tqdm's widget; not the end of "100%|".
PROGRESS_BAR_AS_TEXT = re.compile(r"(?<![0-9])0%\|[^\n]*")


# --------------------------------------------------------------------------
# Is a browser available?
# --------------------------------------------------------------------------


def browser_unavailable_reason() -> str | None:
    """Return why the browser check cannot run here, or ``None`` if it can.

    The check needs Debian's Chromium at ``/usr/bin/chromium`` and the
    ``playwright`` Python package (we never let Playwright download its own
    browser). The returned sentence says how to enable the check.
    """
    if not CHROMIUM_PATH.exists():
        return f"browser check skipped: {CHROMIUM_PATH} not found; {INSTALL_HINT}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as error:
        return (
            f"browser check skipped: cannot import playwright ({error}); "
            "install the test extras with `pip install -e .[test]`"
        )
    return None


# --------------------------------------------------------------------------
# Which notebooks, and what should they show?
# --------------------------------------------------------------------------


def course_notebooks_folder() -> Path:
    """The folder whose ``NN_topic.ipynb`` notebooks are checked.

    ``notebooks/`` of the repository, unless the environment variable
    ``LEAFDL_BROWSER_NOTEBOOKS`` names another folder (handy to try the
    check on a notebook of your own).
    """
    override = os.environ.get("LEAFDL_BROWSER_NOTEBOOKS")
    return Path(override).resolve() if override else REPO_ROOT / "notebooks"


def find_course_notebooks(folder: Path) -> list[Path]:
    """The numbered lessons in ``folder`` (``01_intro.ipynb``, ...), then its appendices (``A1_...``), sorted."""
    return sorted(folder.glob("[0-9][0-9]_*.ipynb")) + sorted(folder.glob("A[0-9]_*.ipynb"))


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, to prove later that the check did not change it."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Expectations:
    """What a notebook's committed outputs promise the page will show.

    ``min_images``: how many PNG/JPEG outputs are stored in the notebook;
    the browser must draw at least that many images.
    ``has_slider``: whether a stored widget output is an explorer with a
    slider, which the check must then find and move.
    """

    min_images: int = 0
    has_slider: bool = False


def expectations_from_notebook(path: Path) -> Expectations:
    """Read a committed notebook's outputs and say what the page must show.

    A slider is recognised from the widget output's plain-text form, which
    ipywidgets stores next to the view, for example
    ``interactive(children=(IntSlider(value=3, ...), Output()), ...)``, or
    from a saved widget state holding a ``...SliderModel``. tqdm progress
    bars are widgets too, but they hold no slider, so they do not count.

    Example::

        expectations_from_notebook(Path("notebooks/05_explore.ipynb"))
        # -> Expectations(min_images=3, has_slider=True)
    """
    notebook = json.loads(path.read_text(encoding="utf-8"))
    images = 0
    has_slider = False
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            images += sum(1 for mime in IMAGE_MIMES if mime in data)
            if WIDGET_VIEW_MIME in data and "Slider(" in _as_text(data.get("text/plain", "")):
                has_slider = True
    widget_state = notebook.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE_MIME, {})
    for model in widget_state.get("state", {}).values():
        if str(model.get("model_name", "")).endswith("SliderModel"):
            has_slider = True
    return Expectations(min_images=images, has_slider=has_slider)


def _as_text(value: str | list[str]) -> str:
    """Notebook JSON stores text either as one string or as a list of lines."""
    return "".join(value) if isinstance(value, list) else value


def stage_notebooks(source: Path, workdir: Path) -> Path:
    """Copy ``source`` to ``workdir/notebooks`` and create an empty ``workdir/data``.

    The notebooks read and write ``../data/...``, so the copy gets a fresh
    data folder beside it, just like the repository. Generated folders
    (``runs/``, caches) are left out, and so are jupytext text files paired
    with a notebook in the same folder (``01_intro.py`` next to
    ``01_intro.ipynb``): the check runs the committed ``.ipynb`` exactly as a
    student opens it. Returns ``workdir``, the folder JupyterLab serves.
    """
    notebook_stems = {path.stem for path in source.glob("*.ipynb")}

    def skipped(folder: str, names: list[str]) -> set[str]:
        generated = {"runs", ".ipynb_checkpoints", "__pycache__"} & set(names)
        if Path(folder) != source:
            return generated
        paired = {
            name for name in names
            if Path(name).suffix in {".py", ".md"} and Path(name).stem in notebook_stems
        }
        return generated | paired

    shutil.copytree(source, workdir / "notebooks", ignore=skipped)
    (workdir / "data").mkdir(exist_ok=True)
    return workdir


# --------------------------------------------------------------------------
# Waiting for a condition
# --------------------------------------------------------------------------


def wait_until(condition: Callable[[], Any], timeout_s: float, what: str, poll_s: float = 0.2) -> Any:
    """Call ``condition`` until it returns something truthy; return that value.

    Raises ``TimeoutError`` naming ``what`` we waited for if ``timeout_s``
    seconds pass first. Polling a real condition (instead of ``sleep(5)``)
    keeps the check both fast and reliable on a slow machine.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout_s:.0f} s for {what}")
        time.sleep(poll_s)


def free_port() -> int:
    """Ask the operating system for a TCP port nobody is listening on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop_process(process: subprocess.Popen, grace_s: float = 20) -> None:
    """Stop one process we started: SIGTERM, wait, and SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=grace_s)


# --------------------------------------------------------------------------
# JupyterLab server
# --------------------------------------------------------------------------


class JupyterLabServer:
    """A private ``jupyter lab`` serving ``root_dir`` on 127.0.0.1.

    Its settings, workspaces, runtime, config and data folders all live under
    ``state_dir``, so the check neither reads nor changes your own JupyterLab
    setup. Use it as a context manager; leaving the block stops the server
    (and with it every kernel) by its process id.
    """

    def __init__(self, root_dir: Path, state_dir: Path) -> None:
        self.root_dir = root_dir
        self.state_dir = state_dir
        self.port = free_port()
        self.token = secrets.token_hex(24)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = state_dir / "jupyterlab.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "JupyterLabServer":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def environment(self) -> dict[str, str]:
        """The server's environment: isolated Jupyter folders, and no MPLBACKEND.

        A CI machine often sets ``MPLBACKEND=Agg``; inside a notebook that
        would hide every plot, which a student never has.
        """
        env = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}
        for variable, folder in {
            "JUPYTERLAB_SETTINGS_DIR": "settings",
            "JUPYTERLAB_WORKSPACES_DIR": "workspaces",
            "JUPYTER_RUNTIME_DIR": "runtime",
            "JUPYTER_CONFIG_DIR": "config",
            "JUPYTER_DATA_DIR": "data",
        }.items():
            env[variable] = str(self.state_dir / folder)
        return env

    def write_settings(self) -> None:
        """Write :data:`LAB_SETTINGS` as user settings files of this server."""
        for relative_path, values in LAB_SETTINGS.items():
            settings_file = self.state_dir / "settings" / relative_path
            settings_file.parent.mkdir(parents=True, exist_ok=True)
            settings_file.write_text(json.dumps(values, indent=2), encoding="utf-8")

    def command(self) -> list[str]:
        """The command line: this Python's JupyterLab, offline, with our token."""
        command = [
            sys.executable, "-m", "jupyter", "lab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={self.root_dir}",
            f"--IdentityProvider.token={self.token}",
            "--LabApp.extension_manager=readonly",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")  # CI containers often run as root
        return command

    def start(self) -> None:
        """Start the server and wait until its REST API answers."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.write_settings()
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                self.command(), env=self.environment(), cwd=self.root_dir,
                stdout=log, stderr=subprocess.STDOUT,
            )

        def answering() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"JupyterLab exited with code {self.process.returncode}; "
                    f"its log ends with:\n{self.log_tail()}"
                )
            try:
                self.api("GET", "/api/status")
                return True
            except OSError:
                return False

        try:
            wait_until(answering, SERVER_START_TIMEOUT_S, "JupyterLab to answer")
        except TimeoutError as error:
            self.stop()
            raise RuntimeError(f"{error}; its log ends with:\n{self.log_tail()}") from None

    def stop(self) -> None:
        """Stop the server by its process id; it shuts its kernels down on SIGTERM."""
        if self.process is not None:
            stop_process(self.process)

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the server's log, for error messages."""
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def api(self, method: str, path: str) -> Any:
        """Call the Jupyter REST API (``/api/...``) and return the decoded JSON."""
        request = urllib.request.Request(
            self.base_url + path, method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def lab_url(self, notebook_path: str, workspace: str) -> str:
        """The URL that opens ``notebook_path`` in a fresh, named workspace.

        A new workspace per notebook stops JupyterLab from reopening the
        notebooks of earlier pages (and starting their kernels again).
        """
        return f"{self.base_url}/lab/workspaces/{workspace}/tree/{notebook_path}?token={self.token}"

    def setting(self, plugin: str) -> dict:
        """The settings JupyterLab actually uses for ``plugin`` (after our overrides)."""
        return self.api("GET", f"/lab/api/settings/{plugin}")["settings"]

    def kernel_of(self, notebook_path: str) -> dict | None:
        """The kernel model (``execution_state``, ``connections``...) of a notebook, if any."""
        for session in self.api("GET", "/api/sessions"):
            if session.get("path") == notebook_path and session.get("kernel"):
                return session["kernel"]
        return None

    def kernel_is_idle(self, notebook_path: str) -> bool:
        """True when the notebook's kernel is idle and the page is connected to it."""
        kernel = self.kernel_of(notebook_path)
        return bool(kernel and kernel["execution_state"] == "idle" and kernel["connections"] >= 1)

    def shut_down_sessions(self, notebook_path: str) -> None:
        """Close the notebook's session, which shuts its kernel down (frees memory)."""
        for session in self.api("GET", "/api/sessions"):
            if session.get("path") == notebook_path:
                self.api("DELETE", f"/api/sessions/{session['id']}")


# --------------------------------------------------------------------------
# Chromium
# --------------------------------------------------------------------------


class ChromiumProcess:
    """Debian's headless Chromium, started by us and driven by Playwright.

    We start ``/usr/bin/chromium`` ourselves (never a browser Playwright
    downloads), with a fresh profile in ``profile_dir`` and a DevTools port,
    and attach Playwright to it. Holding the process lets us stop it by its
    id at the end, whatever state Playwright is in.
    """

    def __init__(self, profile_dir: Path) -> None:
        self.profile_dir = profile_dir
        self.process: subprocess.Popen | None = None
        self._playwright = None
        self.browser = None
        self.context = None

    def __enter__(self) -> "ChromiumProcess":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start Chromium, wait for its DevTools port, and connect Playwright."""
        from playwright.sync_api import sync_playwright

        self.profile_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                str(CHROMIUM_PATH), *CHROMIUM_ARGS,
                f"--user-data-dir={self.profile_dir}",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",  # Chromium picks a free port...
                "about:blank",
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        port_file = self.profile_dir / "DevToolsActivePort"  # ...and writes it here

        def devtools_port() -> int | None:
            if self.process.poll() is not None:
                raise RuntimeError(f"Chromium exited with code {self.process.returncode}")
            lines = port_file.read_text().splitlines() if port_file.exists() else []
            return int(lines[0]) if lines and lines[0].isdigit() else None

        try:
            port = wait_until(devtools_port, 30, "Chromium's DevTools port")
            self._playwright = sync_playwright().start()
            self.browser = self._playwright.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
            self.context = self.browser.new_context(viewport=VIEWPORT)
        except BaseException:
            self.stop()
            raise

    def new_page(self):
        """A new browser tab (Playwright ``Page``) in this check's context."""
        return self.context.new_page()

    def stop(self) -> None:
        """Disconnect Playwright and stop Chromium by its process id."""
        try:
            if self.browser is not None:
                self.browser.close()
        except Exception:  # the browser may already be gone; we stop it below anyway
            pass
        if self._playwright is not None:
            self._playwright.stop()
            self._playwright = None
        if self.process is not None:
            stop_process(self.process)


# --------------------------------------------------------------------------
# Reading the page
# --------------------------------------------------------------------------

# JavaScript run in the page. Each returns plain data that Python checks.

JS_CELLS = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell')).map(cell => ({
    code: cell.classList.contains('jp-CodeCell'),
    prompt: (cell.querySelector('.jp-InputArea-prompt') || {innerText: ''}).innerText.trim(),
    // A cell whose code is collapsed (metadata jupyter.source_hidden) shows no prompt number.
    collapsed: Boolean(cell.querySelector('.jp-InputPlaceholder')),
    outputs: cell.querySelectorAll('.jp-OutputArea-output').length,
}))"""

# JupyterLab 4 draws both stderr text and exceptions with this MIME type.
JS_STDERR_OUTPUTS = """() => Array.from(document.querySelectorAll(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"],' +
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]'))
    .map(node => node.innerText)"""

JS_WIDGET_OUTPUTS = """() => Array.from(document.querySelectorAll('.jp-OutputArea-output'))
    .filter(node => !node.dataset.mimeType && (node.classList.contains('jupyter-widgets')
                    || node.querySelector('.jupyter-widgets') || node.innerText.includes('Loading widget')))
    .map(node => {
        const view = node.querySelector('.jupyter-widgets');
        const box = view ? view.getBoundingClientRect() : {width: 0, height: 0};
        return {text: node.innerText.trim().slice(0, 200), hidden: node.classList.contains('lm-mod-hidden'),
                drawn: Boolean(view) && box.width > 0 && box.height > 0};
    })"""

# Plots shown as outputs, plus pictures inside widgets (an ipywidgets.Image).
JS_IMAGE_COUNT = """() => document.querySelectorAll(
    '.jp-Notebook .jp-RenderedImage img, .jp-Notebook img.widget-image').length"""

# What an explorer shows, minus the slider itself (its readout changes when
# it moves, which must not count as "the output changed").
JS_EXPLORER_SNAPSHOT = """cell => {
    const outputs = cell.querySelector('.jp-OutputArea');
    const copy = outputs.cloneNode(true);
    copy.querySelectorAll('.widget-slider, .widget-readout').forEach(node => node.remove());
    const images = Array.from(outputs.querySelectorAll('img'))
        .filter(img => !img.closest('.widget-slider')).map(img => img.src);
    return {text: copy.textContent, images: images};
}"""


def notebook_cells(page) -> list[dict]:
    """Every cell drawn in the page: ``{"code": bool, "prompt": "[3]:", "collapsed": bool, "outputs": int}``."""
    return page.evaluate(JS_CELLS)


def busy_cells(page) -> list[int]:
    """Indices of the cells showing the ``[*]`` prompt (queued or running)."""
    return [i for i, cell in enumerate(notebook_cells(page)) if "*" in cell["prompt"]]


def looks_like_error(text: str) -> bool:
    """True for a traceback or an exception message, False for a mere warning.

    IPython prints ``ZeroDivisionError   Traceback (most recent call last)``
    for most errors, but a ``SyntaxError`` has no "Traceback" line, only a
    last line such as ``SyntaxError: invalid syntax``.
    """
    return "Traceback" in text or bool(EXCEPTION_LINE.search(text))


def error_outputs(page) -> list[str]:
    """The text of every error or traceback output in the page."""
    return [text for text in page.evaluate(JS_STDERR_OUTPUTS) if looks_like_error(text)]


def widget_outputs(page) -> list[dict]:
    """Every ipywidgets output in the page: its text, and whether it is drawn."""
    return page.evaluate(JS_WIDGET_OUTPUTS)


def widget_problems(page) -> list[str]:
    """Widget outputs that failed: error text, still loading, or not visible."""
    problems = []
    for widget in widget_outputs(page):
        if widget["hidden"]:
            continue  # a widget closed by the kernel (tqdm with leave=False)
        if widget["text"].startswith(("Error displaying widget", "Loading widget")):
            problems.append(f"widget not drawn: {widget['text']!r}")
        elif not widget["drawn"]:
            problems.append(f"widget output has no visible .jupyter-widgets view: {widget['text']!r}")
    return problems


def open_dialog_text(page) -> str:
    """The text of a JupyterLab dialog left open (e.g. 'Select Kernel'), or ''."""
    dialogs = page.locator(".jp-Dialog")
    return dialogs.first.inner_text() if dialogs.count() else ""


def click_menu(page, menu: str, item: str) -> None:
    """Click ``menu`` in JupyterLab's menu bar, then ``item`` in it, like a user."""
    page.get_by_role("menuitem", name=menu, exact=True).click()
    page.get_by_role("menuitem", name=item, exact=True).click()


# --------------------------------------------------------------------------
# Moving a slider
# --------------------------------------------------------------------------


@dataclass
class SliderChange:
    """What moving the first explorer's slider did: its value, and the output."""

    value_before: str
    value_after: str
    output_before: dict
    output_after: dict

    @property
    def output_changed(self) -> bool:
        return self.output_before != self.output_after


def move_first_slider(page, lab: JupyterLabServer, notebook_path: str) -> SliderChange:
    """Move the first slider of the first explorer and wait for its output to change.

    We focus the slider's handle and press one key (``PageUp``: several
    steps at once, as a single change, so the kernel runs the explorer once;
    ``PageDown`` if the slider is at its maximum). Then we wait until the
    kernel is idle again and the explorer's output differs from before, with
    at least as many images as before (a plot is redrawn, not lost) or with
    a new error (which the caller reports).
    """
    cell = page.locator(".jp-Notebook .jp-CodeCell").filter(has=page.locator(".widget-slider")).first
    handle = cell.locator(".widget-slider [role=slider]").first
    handle.scroll_into_view_if_needed()
    value_before = slider_value(handle)
    at_maximum = float(handle.get_attribute("aria-valuenow")) >= float(handle.get_attribute("aria-valuemax"))
    output_before = cell.evaluate(JS_EXPLORER_SNAPSHOT)
    errors_before = len(error_outputs(page))

    handle.focus()
    handle.press("PageDown" if at_maximum else "PageUp")

    def explorer_redrawn() -> dict | None:
        output = cell.evaluate(JS_EXPLORER_SNAPSHOT)
        complete = (len(output["images"]) >= len(output_before["images"])
                    or len(error_outputs(page)) > errors_before)
        settled = output != output_before and complete and lab.kernel_is_idle(notebook_path)
        return output if settled else None

    try:
        output_after = wait_until(explorer_redrawn, SLIDER_RESPONSE_TIMEOUT_S, "the explorer to redraw")
    except TimeoutError:
        output_after = cell.evaluate(JS_EXPLORER_SNAPSHOT)
    return SliderChange(value_before, slider_value(handle), output_before, output_after)


def slider_value(handle) -> str:
    """A slider's value as shown to the user ("0.08"), read from its handle.

    ``aria-valuetext`` holds the formatted value; ``aria-valuenow`` is rounded
    to one decimal by the slider library, too coarse for small steps.
    """
    return handle.get_attribute("aria-valuetext") or handle.get_attribute("aria-valuenow")


# --------------------------------------------------------------------------
# The whole check of one notebook
# --------------------------------------------------------------------------


@dataclass
class NotebookReport:
    """What the browser check of one notebook found, and how long it took."""

    notebook: str
    problems: list[str] = field(default_factory=list)
    images: int = 0
    widgets: int = 0
    slider: SliderChange | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    def describe(self) -> str:
        """A readable summary, used as the assertion message."""
        lines = [f"{self.notebook}: {len(self.problems)} problem(s) seen in JupyterLab"]
        lines += [f"  - {problem}" for problem in self.problems]
        timings = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in self.seconds.items())
        lines.append(f"  images drawn: {self.images}, widgets: {self.widgets}; {timings}")
        return "\n".join(lines)


def check_notebook(
    page,
    lab: JupyterLabServer,
    notebook_path: str,
    expected: Expectations,
    screenshot: Path | None = None,
    run_timeout_s: float = RUN_ALL_TIMEOUT_S,
    keep_kernel: bool = False,
) -> NotebookReport:
    """Run one notebook in JupyterLab from the browser and report what the page shows.

    ``notebook_path`` is relative to the server's root (``notebooks/01_x.ipynb``).
    Steps: open it in a fresh workspace; wait for its kernel; check that all
    cells are in the page; **Edit -> Clear Outputs of All Cells** (so that
    nothing seen afterwards is a stored output); **Run -> Run All Cells**; wait
    until no cell is ``[*]`` and the kernel is idle; then look for errors,
    cells that never ran, widgets that failed, missing images; move a slider
    if there is an explorer. A full-page screenshot is saved even when a step
    fails, and the notebook's kernel is shut down at the end, unless
    ``keep_kernel``: then the notebook is saved and its kernel kept, so that
    :func:`check_slides` presents it with every cell run ahead and this run's
    outputs, as an instructor does before class.
    """
    report = NotebookReport(notebook_path)
    clock = time.monotonic()

    def lap(step: str) -> None:
        nonlocal clock
        report.seconds[step] = time.monotonic() - clock
        clock = time.monotonic()

    workspace = f"check-{secrets.token_hex(4)}"  # new and empty: no other notebook reopens
    try:
        page.goto(lab.lab_url(notebook_path, workspace))
        try:
            wait_until(lambda: lab.kernel_is_idle(notebook_path), KERNEL_START_TIMEOUT_S,
                       "the notebook's kernel to start")
        except TimeoutError as error:
            report.problems.append(f"{error}; dialog on screen: {open_dialog_text(page)!r}")
            return report
        lap("open")
        _check_all_cells_in_page(page, lab, notebook_path, report)

        click_menu(page, "Edit", "Clear Outputs of All Cells")
        click_menu(page, "Run", "Run All Cells")
        finished = _wait_for_run_all(page, lab, notebook_path, run_timeout_s, report)
        lap("run all")
        if not finished:
            return report

        _check_outputs(page, lab, notebook_path, expected, report)
        lap("widgets")
        if expected.has_slider or page.locator(".jp-Notebook .widget-slider").count():
            _check_slider(page, lab, notebook_path, report)
            lap("slider")
        if keep_kernel:
            save_notebook(page, lab, notebook_path)  # as Alt+R does: the deck then shows this run's outputs
        return report
    finally:
        if screenshot is not None:
            try:
                save_notebook_screenshot(page, screenshot)
                lap("screenshot")
            except Exception as error:  # keep the report; a screenshot is only a help
                report.problems.append(f"could not save the screenshot: {error}")
        if not keep_kernel:
            lab.shut_down_sessions(notebook_path)


def _check_all_cells_in_page(page, lab: JupyterLabServer, notebook_path: str, report: NotebookReport) -> None:
    """Every cell of the notebook must be in the DOM (windowing really is off)."""
    stored_count = len(stored_cells(lab, notebook_path))
    try:
        wait_until(lambda: len(notebook_cells(page)) == stored_count, 10, "every cell to be drawn")
    except TimeoutError:
        report.problems.append(
            f"only {len(notebook_cells(page))} of {stored_count} cells are in the page; "
            "is JupyterLab's windowingMode still on?"
        )


def stored_cells(lab: JupyterLabServer, notebook_path: str) -> list[dict]:
    """The cells of the notebook file the server opened (our temporary copy)."""
    return json.loads((lab.root_dir / notebook_path).read_text(encoding="utf-8"))["cells"]


def has_run(cell: dict) -> bool:
    """True if a drawn code cell shows an execution number, like ``[12]:``.

    A cell whose code is collapsed shows no number; outputs were cleared before
    Run All, so an output under it means it ran.
    """
    if cell["code"] and cell.get("collapsed"):
        return cell["outputs"] > 0
    return cell["code"] and cell["prompt"][1:-2].isdigit()


def _wait_for_run_all(page, lab: JupyterLabServer, notebook_path: str, timeout_s: float,
                      report: NotebookReport) -> bool:
    """Wait until no cell is ``[*]`` and the kernel is idle. False if it took too long.

    Right after the click every queued cell shows ``[*]``, and outputs were
    cleared before, so "no ``[*]``, at least one numbered prompt, kernel
    idle" can only mean the run is over.
    """

    def finished() -> bool:
        cells = notebook_cells(page)
        busy = any("*" in cell["prompt"] for cell in cells)
        return any(has_run(cell) for cell in cells) and not busy and lab.kernel_is_idle(notebook_path)

    try:
        wait_until(finished, timeout_s, "Run All Cells to finish", poll_s=0.5)
        return True
    except TimeoutError:
        busy = busy_cells(page)
        report.problems.append(
            f"Run All Cells did not finish within {timeout_s:.0f} s "
            f"(cells still [*]: {busy[:5]}{'...' if len(busy) > 5 else ''}; "
            f"errors so far: {[text[:300] for text in error_outputs(page)]}; "
            f"dialog: {open_dialog_text(page)!r})"
        )
        return False


def _check_outputs(page, lab: JupyterLabServer, notebook_path: str, expected: Expectations,
                   report: NotebookReport) -> None:
    """Errors, cells that never ran, widgets, and images, after Run All."""
    for text in error_outputs(page):
        report.problems.append(f"error output: {text.strip()[-600:]}")
    for index, (cell, stored) in enumerate(zip(notebook_cells(page), stored_cells(lab, notebook_path))):
        if cell["code"] and not has_run(cell) and _as_text(stored["source"]).strip():
            report.problems.append(f"cell {index} never ran (Run All stopped before it?)")

    try:
        wait_until(lambda: not any("Loading widget" in w["text"] for w in widget_outputs(page)),
                   WIDGETS_DRAWN_TIMEOUT_S, "widgets to load")
    except TimeoutError:
        pass  # reported just below as "widget not drawn"
    report.problems += widget_problems(page)
    report.widgets = sum(widget["drawn"] for widget in widget_outputs(page))

    report.images = page.evaluate(JS_IMAGE_COUNT)
    if report.images < expected.min_images:
        report.problems.append(
            f"{report.images} image(s) drawn, but the committed notebook stores {expected.min_images}"
        )


def _check_slider(page, lab: JupyterLabServer, notebook_path: str, report: NotebookReport) -> None:
    """Move the first explorer's slider; its output must change, without errors."""
    if not page.locator(".jp-Notebook .widget-slider").count():
        report.problems.append("the committed notebook has a slider explorer, but none is drawn")
        return
    errors_before = error_outputs(page)
    report.slider = move_first_slider(page, lab, notebook_path)
    if report.slider.value_after == report.slider.value_before:
        report.problems.append(f"the slider did not move (value {report.slider.value_before})")
    elif not report.slider.output_changed:
        report.problems.append(
            f"moving the slider from {report.slider.value_before} to {report.slider.value_after} "
            f"did not change the explorer's output within {SLIDER_RESPONSE_TIMEOUT_S} s"
        )
    for text in [text for text in error_outputs(page) if text not in errors_before]:
        report.problems.append(f"error after moving the slider: {text.strip()[-600:]}")


def save_notebook_screenshot(page, path: Path) -> None:
    """Save a PNG of the whole notebook, not only the part in the window.

    JupyterLab scrolls the notebook inside its own panel (in JupyterLab 4
    the ``.jp-WindowedPanel-outer`` element), so a plain "full page"
    screenshot would stop at the window's bottom edge. We make the window
    tall enough for the whole notebook first, scrolled back to its top.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    hidden_height = page.evaluate(
        """() => Math.max(0, ...Array.from(document.querySelectorAll(
                '.jp-NotebookPanel-notebook, .jp-NotebookPanel .jp-WindowedPanel-outer'))
            .map(scroller => { scroller.scrollTop = 0;
                               return scroller.scrollHeight - scroller.clientHeight; }))"""
    )
    height = min(VIEWPORT["height"] + hidden_height, MAX_SCREENSHOT_HEIGHT)
    page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(VIEWPORT)


# --------------------------------------------------------------------------
# A sample notebook, to check the check itself
# --------------------------------------------------------------------------


def write_sample_notebook(path: Path, failing_cell: bool = False) -> Path:
    """Write a small notebook with what the course uses: print, plot, explorer, progress bar.

    The explorer is an ``ipywidgets.interact`` slider (``continuous_update=False``,
    like ``leafdl.course.widgets``) whose printed text and plot change with its value.
    With ``failing_cell=True`` a ``1 / 0`` cell
    sits before the last cell, so the check must report an error and a cell
    that never ran.
    """
    import nbformat

    code = nbformat.v4.new_code_cell
    cells = [
        nbformat.v4.new_markdown_cell("# Sample\nA notebook to test the browser check."),
        code('print("hello from the kernel")'),
        code("import matplotlib.pyplot as plt\n\nplt.plot([1, 2, 3], [1, 4, 9])\nplt.show()"),
        code(
            "from ipywidgets import IntSlider, interact\n\n"
            "# Like the course's explorers: redraw only when the slider is released.\n"
            "@interact(n=IntSlider(value=3, min=1, max=20, continuous_update=False))\n"
            "def squares(n):\n"
            '    print(f"{n} squared is {n * n}")\n'
            "    plt.plot(range(n), [i * i for i in range(n)])\n"
            "    plt.show()"
        ),
        code("from tqdm.auto import tqdm\n\nfor _ in tqdm(range(50)):\n    pass"),
    ]
    if failing_cell:
        cells.insert(-1, code("1 / 0"))
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {
        "name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(path))
    return path


# --------------------------------------------------------------------------
# Slides: the notebook presented with RISE (jupyterlab-rise)
# --------------------------------------------------------------------------

# A projector's screen. Every slide must fit it: instructors present at 1280x720.
SLIDE_VIEWPORT = {"width": 1280, "height": 720}
DECK_OPEN_TIMEOUT_S = 60
DECK_STEP_TIMEOUT_S = 5
CELL_RUN_TIMEOUT_S = 60

# reveal.js draws each slide as a <section>; a slide with subslides is a
# "stack" section holding one section per subslide. The present one is the
# innermost section with the class "present".
JS_DECK_STATE = """() => {
    const slide = document.querySelector('.reveal .slides section.present:not(.stack)');
    return {hash: location.hash, slide: slide ? slide.id : null,
            fragments: document.querySelectorAll('.reveal .slides .fragment.visible').length,
            total: document.querySelectorAll('.reveal .slides section:not(.stack)').length};
}"""

# The present slide's size on screen (reveal.js may scale the deck), its
# first line of text, and whether it shows a code cell that is not skipped.
JS_PRESENT_SLIDE = """() => {
    const slide = document.querySelector('.reveal .slides section.present:not(.stack)');
    const deck = document.querySelector('.reveal .slides');
    const scale = deck.offsetWidth ? deck.getBoundingClientRect().width / deck.offsetWidth : 1;
    const box = slide.getBoundingClientRect();
    return {id: slide.id, height: Math.round(slide.scrollHeight * scale), width: Math.round(slide.scrollWidth * scale),
            top: Math.round(box.top), left: Math.round(box.left),
            title: slide.innerText.trim().split('\\n')[0].slice(0, 70),
            // code cells whose source shows (a collapsed source cannot be clicked into)
            code_cells: [...slide.querySelectorAll('.jp-CodeCell:not(.reveal-skip) .cm-content')]
                .filter((editor) => editor.offsetParent !== null).length,
            widget_errors: Array.from(slide.querySelectorAll('.jp-OutputArea-output'))
                .map(node => node.innerText.trim())
                .filter(text => text.startsWith('Error displaying widget')).map(text => text.slice(0, 120)),
            widgets_as_text: Array.from(slide.querySelectorAll('.jp-OutputArea-output'))
                .map(node => node.innerText.trim())
                .filter(text => /^(VBox|HBox|interactive|\\w+Slider)\\(/.test(text)).map(text => text.slice(0, 60)),
            // what the audience reads: every output shown, and the errors and stderr among them
            output_texts: shown('.jp-OutputArea-output').map(node => node.innerText),
            error_texts: shown('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"],' +
                               '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]')
                .map(node => node.innerText),
            // font sizes on screen: the first paragraph or list item of prose, the first line of code
            body_px: fontPx('.jp-RenderedMarkdown p, .jp-RenderedMarkdown li'),
            code_px: fontPx('.jp-CodeCell:not(.reveal-skip) .cm-line'),
            output_px: fontPx('.jp-OutputArea-output pre')};
    function shown(selector) {
        return Array.from(slide.querySelectorAll(selector)).filter(node => node.offsetParent !== null);
    }
    function fontPx(selector) {
        const node = shown(selector).find(node => node.innerText.trim());
        return node ? Math.round(10 * parseFloat(getComputedStyle(node).fontSize) * scale) / 10 : null;
    }
}"""

# Watch a cell's prompt: the check knows the cell ran when it once showed [*].
JS_WATCH_PROMPT = """cell => {
    const prompt = cell.querySelector('.jp-InputPrompt');
    cell.dataset.sawBusy = '';
    new MutationObserver(() => { if (prompt.textContent.includes('*')) cell.dataset.sawBusy = 'yes'; })
        .observe(prompt, {childList: true, characterData: true, subtree: true});
}"""

JS_CELL_RUN_STATE = """cell => ({
    sawBusy: cell.dataset.sawBusy === 'yes',
    prompt: cell.querySelector('.jp-InputPrompt').textContent.trim(),
    errors: Array.from(cell.querySelectorAll(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"],' +
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]')).map(node => node.innerText),
    outputs: cell.querySelectorAll('.jp-OutputArea-output').length,
})"""


@dataclass
class SlideView:
    """One slide as the deck drew it: its id (``slide-2-1``), first line, and size on screen."""

    slide_id: str
    title: str
    height: int
    width: int
    body_px: float | None = None  # font size of its prose on screen (None: no prose on the slide)
    code_px: float | None = None  # font size of its code on screen (None: no code shown)
    output_px: float | None = None  # font size of printed output on screen (None: none shown)

    def fits(self, viewport: dict[str, int] = SLIDE_VIEWPORT) -> bool:
        return self.height <= viewport["height"] and self.width <= viewport["width"]


@dataclass
class DeckReport:
    """What stepping through a notebook's slides found."""

    notebook: str
    total: int = 0
    slides: list[SlideView] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    ran_cell_on: str | None = None
    # Explorers (ipywidgets) drawn as their text, not as sliders: jupyterlab-rise 0.43 does
    # not load the widget manager with ipywidgets 8 (jupyterlab-contrib/rise issue 119).
    # Not a failure of the notebook; notebooks/INSTRUCTORS.md says how to present them.
    widgets_as_text: list[str] = field(default_factory=list)
    screenshots: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    def smallest_font_px(self, kind: str) -> float | None:
        """The smallest ``"body"``, ``"code"`` or ``"output"`` font size on any slide, in pixels on screen."""
        sizes = [getattr(view, f"{kind}_px") for view in self.slides if getattr(view, f"{kind}_px")]
        return min(sizes, default=None)

    def describe(self) -> str:
        lines = [f"{self.notebook}: {len(self.slides)} of {self.total} slides seen, "
                 f"{len(self.problems)} problem(s), {self.seconds:.1f} s; smallest font on a slide: "
                 f"text {self.smallest_font_px('body')} px, code {self.smallest_font_px('code')} px, "
                 f"printed output {self.smallest_font_px('output')} px"]
        lines += [f"  - {problem}" for problem in self.problems]
        lines += [f"  (widget shown as text on a slide, jupyterlab-rise issue 119: {text})" for text in self.widgets_as_text]
        lines += [f"  {view.slide_id:<12} {view.height:>5} px  {view.title}" for view in self.slides]
        return "\n".join(lines)


def rise_url(lab: JupyterLabServer, notebook_path: str) -> str:
    """The URL at which jupyterlab-rise serves a notebook's slide deck."""
    return f"{lab.base_url}/rise/{notebook_path}?token={lab.token}"


def check_slides(page, lab: JupyterLabServer, notebook_path: str, screenshot_dir: Path | None = None,
                 screenshot_prefix: str = "slides", screenshot_count: int = 3, run_a_cell: bool = True) -> DeckReport:
    """Present a notebook with RISE at 1280x720 and step through every slide, like an instructor.

    Opens ``/rise/<notebook_path>``, waits for the deck and its kernel (a kernel the
    notebook already has is reused: run the cells ahead with :func:`check_notebook`
    and ``keep_kernel=True``, as instructors run the set-up cells before class), then presses
    **PageDown** (reveal.js's "next": fragments, subslides, then slides) until every
    slide has been seen, or the deck stops moving. On each slide it measures the drawn
    height and width against the screen (hidden fragments included: they take their room
    before they show); on the first slide that shows a code cell it runs that cell
    (click, then **Ctrl+Enter**) and waits for it to finish without an error. Screenshots of the
    first ``screenshot_count`` slides go to ``screenshot_dir/<prefix>-1.png`` ...

    With ``run_a_cell=False`` nothing is run: the deck is measured as stored (the
    outputs of the committed notebook), which is what an instructor sees before running.
    """
    report = DeckReport(notebook_path)
    started = time.monotonic()
    page.set_viewport_size(SLIDE_VIEWPORT)
    try:
        page.goto(rise_url(lab, notebook_path))
        try:
            page.wait_for_selector(".reveal .slides section.present", timeout=DECK_OPEN_TIMEOUT_S * 1000)
            wait_until(lambda: lab.kernel_is_idle(notebook_path), KERNEL_START_TIMEOUT_S, "the deck's kernel to start")
        except Exception as error:  # Playwright's TimeoutError or ours: report it, with the server's view
            report.problems.append(f"the slide deck did not open: {error}; server log:\n{lab.log_tail(8)}")
            return report
        state = page.evaluate(JS_DECK_STATE)
        report.total = state["total"]
        for _ in range(4 * report.total + 10):  # a bound: slides plus their fragments
            if state["slide"] and state["slide"] not in {view.slide_id for view in report.slides}:
                _look_at_slide(page, lab, notebook_path, report, screenshot_dir, screenshot_prefix, screenshot_count,
                               run_a_cell)
            if len(report.slides) == report.total:
                break  # every slide seen and measured (a fragment takes its room before it shows)
            page.evaluate("() => document.activeElement && document.activeElement.blur()")
            page.keyboard.press("PageDown")
            before = state
            try:
                state = wait_until(lambda: (lambda now: now if now != before else None)(page.evaluate(JS_DECK_STATE)),
                                   DECK_STEP_TIMEOUT_S, "the next slide")
            except TimeoutError:
                break  # PageDown on the last slide changes nothing: the deck is done
        if len(report.slides) != report.total:
            report.problems.append(f"stepped through {len(report.slides)} of the deck's {report.total} slides")
        if run_a_cell and report.ran_cell_on is None:
            report.problems.append("no slide shows a code cell to run")
        return report
    finally:
        report.seconds = time.monotonic() - started
        lab.shut_down_sessions(notebook_path)
        page.set_viewport_size(VIEWPORT)


def _look_at_slide(page, lab: JupyterLabServer, notebook_path: str, report: DeckReport,
                   screenshot_dir: Path | None, prefix: str, count: int, run_a_cell: bool = True) -> None:
    """Run the slide's first code cell if none ran yet; then measure the slide; maybe save a screenshot."""
    number = len(report.slides) + 1
    if run_a_cell and report.ran_cell_on is None and page.evaluate(JS_PRESENT_SLIDE)["code_cells"]:
        _run_first_code_cell(page, lab, notebook_path, report, number)
    slide = page.evaluate(JS_PRESENT_SLIDE)  # measured after the run: fresh outputs can be taller
    view = SlideView(slide["id"], slide["title"], slide["height"], slide["width"],
                     slide["body_px"], slide["code_px"], slide["output_px"])
    report.slides.append(view)
    if not view.fits():
        report.problems.append(
            f"slide {number} ({view.slide_id}, {view.title!r}) is {view.width}x{view.height} px, larger than "
            f"the {SLIDE_VIEWPORT['width']}x{SLIDE_VIEWPORT['height']} screen: split it, or move text to notes")
    report.problems += [f"slide {number} ({view.slide_id}): a traceback on the slide: {text.strip()[-300:]}"
                        for text in slide["error_texts"] if looks_like_error(text)]
    report.problems += [f"slide {number} ({view.slide_id}): a progress bar shown as text: "
                        f"{PROGRESS_BAR_AS_TEXT.search(text).group(0)!r} in {text.strip()[:100]!r}"
                        for text in slide["output_texts"] if PROGRESS_BAR_AS_TEXT.search(text)]
    report.problems += [f"slide {number} ({view.slide_id}): {text}" for text in slide["widget_errors"]]
    report.widgets_as_text += [f"slide {number} ({view.slide_id}): {text}" for text in slide["widgets_as_text"]]
    if screenshot_dir is not None and number <= count:
        _wait_for_slide_to_settle(page)
        path = screenshot_dir / f"{prefix}-{number}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path))
        report.screenshots.append(path)


def _wait_for_slide_to_settle(page) -> None:
    """reveal.js slides the new slide in from the side: wait until it stands still at the left edge."""
    last: list[tuple[int, int]] = []

    def settled() -> bool:
        slide = page.evaluate(JS_PRESENT_SLIDE)
        last.append((slide["left"], slide["top"]))
        return len(last) >= 2 and last[-1] == last[-2] and last[-1][0] == 0

    try:
        wait_until(settled, DECK_STEP_TIMEOUT_S, "the slide to settle", poll_s=0.15)
    except TimeoutError:
        pass  # a screenshot taken mid-transition is still a help


def _run_first_code_cell(page, lab: JupyterLabServer, notebook_path: str, report: DeckReport, number: int) -> None:
    """Run the present slide's first code cell from the slide and check that it finished cleanly."""
    cell = page.locator(".reveal .slides section.present:not(.stack) .jp-CodeCell:not(.reveal-skip)"
                        ":has(.cm-content:visible)").first
    report.ran_cell_on = page.evaluate(JS_DECK_STATE)["slide"]
    cell.evaluate(JS_WATCH_PROMPT)
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+Enter")

    def finished() -> dict | None:
        run = cell.evaluate(JS_CELL_RUN_STATE)
        done = run["sawBusy"] and "*" not in run["prompt"] and lab.kernel_is_idle(notebook_path)
        return run if done else None

    try:
        run = wait_until(finished, CELL_RUN_TIMEOUT_S, "the code cell run from the slide to finish")
    except TimeoutError as error:
        report.problems.append(f"slide {number}: {error} (prompt {cell.evaluate(JS_CELL_RUN_STATE)['prompt']!r})")
        return
    report.problems += [f"slide {number}: running its code cell failed: {text.strip()[-400:]}"
                        for text in run["errors"] if looks_like_error(text)]


def write_sample_deck(path: Path, overflowing: bool = False, faulty_outputs: bool = False) -> Path:
    """Write a small notebook with slide metadata of every kind, to test the slide check itself.

    Four slides: a title with a fragment, a code cell (the one the check runs), a slide
    with a subslide, and a last slide. A ``skip`` cell that would fail and a ``notes``
    cell must not show. With ``overflowing=True`` the last slide holds 80 lines, far
    taller than a 720 px screen. With ``faulty_outputs=True`` the subslide's code cell
    stores what a lecture must not show: tqdm's widget as its text (``0%|``) and a
    traceback (stored outputs, so that the check finds them without running anything).
    """
    import nbformat

    def typed(cell, kind: str):
        cell.metadata["slideshow"] = {"slide_type": kind}
        return cell

    markdown, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    last = "\n".join(f"- line {n}" for n in range(80)) if overflowing else "The end."
    cells = [
        typed(markdown("# A sample deck"), "slide"),
        typed(markdown("A point that appears on the next key press."), "fragment"),
        typed(code("raise RuntimeError('a skipped set-up cell must not run in the check')"), "skip"),
        typed(markdown("## Code on a slide"), "slide"),
        typed(code('print("hello from a slide")'), "-"),
        typed(markdown("Speaker notes: long explanations go here, not on the slide."), "notes"),
        typed(markdown("## A slide with a subslide"), "slide"),
        typed(markdown("### The subslide"), "subslide"),
        *([typed(faulty_cell(), "-")] if faulty_outputs else []),
        typed(markdown(f"## The last slide\n\n{last}"), "slide"),
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(path))
    return path


def faulty_cell():
    """A code cell whose stored outputs are a progress bar seen as text and a traceback."""
    import nbformat

    cell = nbformat.v4.new_code_cell("train(model)", execution_count=3)
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"text/plain": "epoch 1:   0%|          | 0/6 [00:00<?, ?it/s]"}),
        nbformat.v4.new_output("error", ename="AssertionError", evalue="untrained: close to ln 4", traceback=[
            "---------------------------------------------------------------------------",
            "AssertionError                            Traceback (most recent call last)",
            "AssertionError: untrained: close to ln 4"]),
    ]
    return cell


def save_notebook(page, lab: JupyterLabServer, notebook_path: str) -> None:
    """Save the notebook (**Ctrl+S**), and wait until the file on disk changed.

    RISE's "Open as Reveal Slideshow" (Alt+R) saves the notebook before it opens the
    deck, and the deck shows the saved outputs: so does the check, after Run All.
    """
    saved = lab.root_dir / notebook_path
    before = saved.stat().st_mtime_ns
    page.locator(".jp-NotebookPanel-notebook").first.click(position={"x": 5, "y": 5})  # focus the notebook
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    wait_until(lambda: saved.stat().st_mtime_ns != before, 30, f"{notebook_path} to be saved")


def has_slides(path: Path) -> bool:
    """True if any cell of the notebook carries RISE slide metadata."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return any(cell.get("metadata", {}).get("slideshow", {}).get("slide_type") for cell in notebook.get("cells", []))
