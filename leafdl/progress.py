"""Progress bars that read well in a terminal, a notebook, a stored notebook and a slide.

leafdl's long loops (the batches of an epoch, drawing the demo leaves, a download) show
a `tqdm <https://tqdm.github.io>`_ bar. ``tqdm.auto`` would draw a widget in a notebook,
and a widget needs a live widget manager: a RISE slide, GitHub and nbconvert have none,
so they show the widget's first text line instead, ``epoch 1:   0%|  | 0/6``, long
after the loop finished. So leafdl picks the bar itself:

* in a **terminal** (``leafdl train``, a script): tqdm's normal bar, redrawn in place
  on stderr;
* in a **Jupyter kernel** (JupyterLab, RISE, nbclient, nbval): nothing while the loop
  runs, then one plain line of text on stdout when it ends, the bar's final state
  (``Drawing demo leaves: 100%|██████████| 400/400``). A bar made with ``leave=False``
  (the batches inside an epoch) leaves no line at all. The line holds no timing, so a
  stored notebook shows the same text on every machine.

Use it exactly like tqdm::

    from leafdl.progress import tqdm

    for inputs, labels in tqdm(loader, desc="train", leave=False):
        ...
    with tqdm(total=400, desc="Drawing demo leaves") as bar:
        bar.update(1)
"""

from __future__ import annotations

import math
import sys
from typing import Any

# tqdm.auto's bar outside a notebook, and the base of its notebook bar: tqdm's bar plus
# async iteration. It opens the iterable once when the bar is made (``iter(loader)``: a
# DataLoader draws a seed from torch's generator then), so leafdl's training runs draw the
# same random numbers, and give the same results, as they did with ``tqdm.auto``.
from tqdm.asyncio import tqdm as TerminalBar

# The final line in a notebook: description, percentage, a 10-character bar and the count.
# No elapsed time or rate, which differ from one run (and machine) to the next.
FINAL_LINE_FORMAT = "{l_bar}{bar:10}| {n_fmt}/{total_fmt}"
# The same when the total is not known (a generator without len()).
FINAL_LINE_FORMAT_NO_TOTAL = "{desc}: {n_fmt} {unit}"


def in_notebook_kernel() -> bool:
    """True when this code runs in a Jupyter kernel (JupyterLab, RISE, nbclient, nbval).

    The test tqdm itself uses: IPython is loaded and its shell was started by
    ipykernel's ``IPKernelApp``. A plain ``ipython`` in a terminal is not a kernel.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


class NotebookBar(TerminalBar):
    """A tqdm bar that draws nothing while it runs and one line of text when it closes.

    Nothing is written while the loop runs: no ``\\r`` redraws that a stored notebook
    would keep, no widget. (tqdm draws once ``delay`` seconds have passed, which an
    infinite delay makes never, and :meth:`display`, which ``set_postfix`` calls too,
    draws nothing.) :meth:`close` then writes the final state once, to stdout, unless
    the bar was made with ``leave=False`` or ``disable=True``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("file", sys.stdout)
        kwargs.setdefault("ascii", False)  # a notebook shows Unicode: "█", not "#"
        kwargs["delay"] = math.inf
        super().__init__(*args, **kwargs)

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:
        """Draw nothing while the bar runs; :meth:`close` writes the one line."""
        return True

    def close(self) -> None:
        """Close the bar as tqdm does, then write its final line (once, even if closed twice)."""
        still_open = not getattr(self, "disable", True)
        super().close()
        if still_open and self.leave is not False:
            self.fp.write(self.final_line() + "\n")
            self.fp.flush()

    def final_line(self) -> str:
        """The bar's state as one line of text, without timings."""
        line_format = FINAL_LINE_FORMAT if self.total else FINAL_LINE_FORMAT_NO_TOTAL
        return self.format_meter(**{**self.format_dict, "bar_format": self.bar_format or line_format})


def tqdm(*args: Any, **kwargs: Any) -> TerminalBar:
    """A progress bar with tqdm's arguments: a :class:`NotebookBar` in a Jupyter kernel, tqdm's own elsewhere.

    Example:
        >>> bar = tqdm(range(3), desc="demo", disable=True)
        >>> sum(bar)
        3
    """
    bar_class = NotebookBar if in_notebook_kernel() else TerminalBar
    return bar_class(*args, **kwargs)
