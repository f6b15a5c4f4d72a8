"""Progress for long commands: a bar on stderr while stderr is a terminal, nothing otherwise (pipes,
logs, cron). Per-item lines go to stdout as items finish, above the bar, from any thread.

    with Progress(len(items), "ingesting") as progress:
        ...
        progress.echo(item.line())      # stdout, at once
        progress.advance(item.source)   # the bar, with what just finished
"""

from __future__ import annotations

import sys
import threading
from types import TracebackType
from typing import Any, TextIO


class Progress:
    def __init__(self, total: int | None, description: str, *, stream: TextIO | None = None) -> None:
        self.total = total
        self.description = description
        self.stream = stream  # default: sys.stderr when entered (tests replace it)
        self.done = 0
        self._bar: Any = None
        self._task: Any = None
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self._bar is not None

    def __enter__(self) -> Progress:
        stream = self.stream or sys.stderr
        if _is_terminal(stream):
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), TextColumn("{task.fields[label]}", style="dim"),
                console=Console(file=stream), transient=True, redirect_stdout=False, redirect_stderr=False)
            self._bar.start()
            self._task = self._bar.add_task(self.description, total=self.total, label="")
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def advance(self, label: str = "", n: int = 1) -> None:
        """Count `n` items as finished; `label` says which (shortened to fit)."""
        with self._lock:
            self.done += n
            if self._bar is not None:
                self._bar.update(self._task, advance=n, label=label if len(label) <= 48 else "…" + label[-47:])

    def echo(self, line: str) -> None:
        """Print a line to stdout now; while the bar shows on the same terminal, above it."""
        with self._lock:
            if self._bar is not None and _is_terminal(sys.stdout):
                self._bar.console.print(line, markup=False, highlight=False, emoji=False, soft_wrap=True)
            else:
                print(line, flush=True)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real stream
        return False
