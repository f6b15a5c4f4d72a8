"""`newswatch search` argument handling (no cluster needed for these paths)."""

from __future__ import annotations

import pytest

from pipeline.cli import main


def test_bad_dates_are_rejected_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["search", "x", "--since", "last tuesday"])
    assert exit_info.value.code == 2
    assert "not a date: 'last tuesday'" in capsys.readouterr().err


def test_unknown_field_message_without_a_cluster(monkeypatch, capsys):
    # the field check runs before any request, so a dead URL is never contacted
    monkeypatch.setenv("NEWSWATCH_ES_URL", "http://127.0.0.1:1")
    monkeypatch.setattr("pipeline.search.api.detect_features", lambda es: type("F", (), {"english_analyzer": False}))
    assert main(["search", "colour:red"]) == 2
    err = capsys.readouterr().err
    assert "unknown field(s) 'colour'" in err and "Traceback" not in err


def test_unreachable_cluster_is_one_clear_line(monkeypatch, capsys, free_port):
    monkeypatch.setenv("NEWSWATCH_ES_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("NEWSWATCH_ES_REQUEST_TIMEOUT", "3")
    assert main(["search", "anything"]) == 3  # infrastructure unreachable (pipeline/cli/errors.py)
    err = capsys.readouterr().err
    assert "cannot reach Elasticsearch" in err and "Traceback" not in err


def test_an_unknown_sort_is_rejected_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["search", "x", "--sort", "popular"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'popular'" in capsys.readouterr().err


def test_a_claims_only_sort_on_articles_says_so_without_a_cluster(monkeypatch, capsys):
    monkeypatch.setenv("NEWSWATCH_ES_URL", "http://127.0.0.1:1")
    monkeypatch.setattr("pipeline.search.api.detect_features", lambda es: type("F", (), {"english_analyzer": False}))
    assert main(["search", "x", "--sort", "speaker"]) == 2
    err = capsys.readouterr().err
    assert "sort 'speaker' orders claims only" in err and "Traceback" not in err
