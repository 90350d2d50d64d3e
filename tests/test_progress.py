"""Tests for leafdl.progress: a normal bar in a terminal, one plain line in a notebook kernel.

The kernel test runs real code in a real ipykernel (as JupyterLab, RISE and nbval do) and
reads the outputs a notebook would store: no widget, no ``0%|`` line, no redraws.
"""

from __future__ import annotations

import io

import nbformat
import pytest
from nbclient import NotebookClient

from leafdl.progress import NotebookBar, TerminalBar, in_notebook_kernel, tqdm


def test_outside_a_kernel_it_is_tqdms_own_bar_redrawn_in_place() -> None:
    assert not in_notebook_kernel()
    stream = io.StringIO()
    with tqdm(total=4, desc="draw", file=stream, mininterval=0) as bar:
        for _ in range(4):
            bar.update(1)

    assert type(bar) is TerminalBar
    written = stream.getvalue()
    assert "draw:   0%|" in written and "4/4" in written  # the live bar, from 0% to the end
    assert "\r" in written  # redrawn in place


def test_a_notebook_bar_writes_nothing_while_it_runs_and_one_line_at_the_end() -> None:
    stream = io.StringIO()
    bar = NotebookBar(range(6), desc="epoch 1", file=stream, mininterval=0)
    for index, _ in enumerate(bar):
        if index == 3:
            assert stream.getvalue() == ""
    assert stream.getvalue() == "epoch 1: 100%|██████████| 6/6\n"
    bar.close()  # a second close (a `with` block after the loop, or __del__) adds nothing
    assert stream.getvalue() == "epoch 1: 100%|██████████| 6/6\n"


def test_a_notebook_bar_left_early_shows_where_it_stopped() -> None:
    stream = io.StringIO()
    with NotebookBar(total=10, desc="copy", file=stream) as bar:
        bar.update(4)
    assert stream.getvalue() == "copy:  40%|████      | 4/10\n"


@pytest.mark.parametrize("settings", [{"leave": False}, {"disable": True}])
def test_a_hidden_or_disabled_notebook_bar_writes_nothing(settings: dict) -> None:
    stream = io.StringIO()
    for _ in NotebookBar(range(5), desc="valid", file=stream, **settings):
        pass
    assert stream.getvalue() == ""


def test_a_notebook_bar_without_a_total_counts() -> None:
    stream = io.StringIO()
    for _ in NotebookBar((n for n in range(3)), desc="photos", unit="photo", file=stream):
        pass
    assert stream.getvalue() == "photos: 3 photo\n"


def run_in_a_kernel(*sources: str) -> list[list[dict]]:
    """Execute one cell per source in a fresh ipykernel; the outputs each cell stores."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    return [cell.outputs for cell in notebook.cells]


@pytest.mark.slow
def test_in_a_kernel_the_librarys_bars_leave_plain_text_only(tmp_path) -> None:
    """What a notebook stores: an epoch's batches (leave=False) leave nothing, a drawing leaves one line."""
    batches, drawing = run_in_a_kernel(
        "import torch\n"
        "from torch import nn\n"
        "from leafdl.engine import run_phase\n"
        "data = [(torch.randn(2, 3, 4, 4), torch.tensor([0, 1])) for _ in range(3)]\n"
        "model = nn.Sequential(nn.Flatten(), nn.Linear(48, 2)).eval()\n"
        "result = run_phase(model, data, nn.CrossEntropyLoss(), torch.device('cpu'), 'valid')",
        "from leafdl.demo_data import make_demo_dataset\n"
        f"make_demo_dataset({str(tmp_path / 'leaves')!r}, per_class=2, seed=0, progress=True);",
    )

    assert batches == []
    assert [output["output_type"] for output in drawing] == ["stream"]
    assert drawing[0]["name"] == "stdout"
    assert drawing[0]["text"] == "Drawing demo leaves: 100%|██████████| 8/8\n"


@pytest.mark.parametrize("bar_class", [TerminalBar, NotebookBar])
def test_training_draws_the_same_random_numbers_as_with_tqdm_auto(bar_class) -> None:
    """A bar opens its DataLoader once when made, as tqdm.auto's does: the course's results stay as they were."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset
    from tqdm.auto import tqdm as auto_bar

    loader = DataLoader(TensorDataset(torch.arange(10.0)), batch_size=4, shuffle=True)

    def next_draw_after_an_epoch(make_bar) -> int:
        torch.manual_seed(0)
        for _ in make_bar(loader, disable=True):
            pass
        return int(torch.randint(0, 10**6, (1,)))

    assert next_draw_after_an_epoch(bar_class) == next_draw_after_an_epoch(auto_bar)
