"""Progress shows on a terminal and stays out of pipes and logs; item lines go out as they come."""

from __future__ import annotations

import io
import threading

from pipeline.cli.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_bar_when_stderr_is_not_a_terminal(capsys):
    stream = io.StringIO()
    with Progress(3, "ingesting", stream=stream) as progress:
        assert not progress.enabled
        for name in ("a", "b", "c"):
            progress.echo(f"ok {name}")
            progress.advance(name)
    assert stream.getvalue() == ""
    assert capsys.readouterr().out == "ok a\nok b\nok c\n"
    assert progress.done == 3


def test_a_bar_on_a_terminal_that_goes_away_at_the_end(capsys):
    stream = Terminal()
    with Progress(2, "polling", stream=stream) as progress:
        assert progress.enabled
        progress.advance("feed-one")
        progress.advance("feed-two")
    drawn = stream.getvalue()
    assert "polling" in drawn and "2/2" in drawn
    assert capsys.readouterr().out == ""  # the bar never goes to stdout


def test_lines_from_many_threads_arrive_whole(capsys):
    with Progress(40, "ingesting", stream=io.StringIO()) as progress:
        threads = [threading.Thread(target=lambda i=i: (progress.echo(f"line {i}"), progress.advance())) for i in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    lines = capsys.readouterr().out.splitlines()
    assert sorted(lines) == sorted(f"line {i}" for i in range(40)) and progress.done == 40
