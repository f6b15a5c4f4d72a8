"""Every command explains itself: a description for users and worked examples, and the exit codes."""

from __future__ import annotations

import argparse

import pytest

from pipeline.cli import build_parser, errors, main, subparsers


def _all_commands(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = []
    for child in subparsers(parser):
        found.append(child)
        found.extend(_all_commands(child))
    return found


COMMANDS = _all_commands(build_parser())


def test_every_top_level_command_is_there():
    names = {p.prog.split()[1] for p in COMMANDS}
    assert {"tag", "index", "ingest", "kibana", "es", "feeds", "extract", "search", "watch", "demo"} <= names


@pytest.mark.parametrize("parser", COMMANDS, ids=[p.prog for p in COMMANDS])
def test_each_command_has_a_description_and_an_example(parser):
    help_text = parser.format_help()
    assert parser.description and len(parser.description) > 30, parser.prog
    assert "examples:" in help_text
    examples = help_text.split("examples:", 1)[1]
    assert "newswatch " in examples  # a command line someone can copy


def test_top_level_help_is_for_users_and_lists_the_exit_codes(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "news" in out.split("positional arguments")[0] and "pipeline/" not in out  # no code layout
    for code in (errors.OK, errors.ITEMS_FAILED, errors.USAGE, errors.UNAVAILABLE, errors.INTERNAL):
        assert f"\n  {code} " in out
    assert "--debug" in out


def test_a_bad_argument_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["index", "frobnicate"])
    assert exited.value.code == errors.USAGE
    assert "invalid choice" in capsys.readouterr().err
