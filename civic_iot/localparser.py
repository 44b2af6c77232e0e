"""The command line in the reader's language: help texts and argparse's own words
(usage, options, its errors) from the catalogue, chosen before the parser is built."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator, Sequence

from civic_iot.words import Lang, default_lang
from civic_iot.words_help import ARGPARSE_JA, HELP_JA


def lang_in(argv: Sequence[str]) -> Lang:
    """The ``--lang`` the command line asks for (read before parsing, so that the help
    and argparse's errors are in it too), else the locale's."""
    for index, arg in enumerate(argv):
        value = ""
        if arg == "--lang" and index + 1 < len(argv):
            value = argv[index + 1]
        elif arg.startswith("--lang="):
            value = arg.removeprefix("--lang=")
        if value in ("ja", "en"):
            return "ja" if value == "ja" else "en"
    return default_lang()


@contextlib.contextmanager
def argparse_words(lang: Lang) -> Iterator[None]:
    """argparse's words ("usage:", "options", its error messages) in ``lang`` while the
    parser is built and used; argparse looks them up at those times."""
    if lang != "ja":
        yield
        return
    original = argparse._  # type: ignore[attr-defined]
    argparse._ = lambda text: ARGPARSE_JA.get(text, text)  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._ = original  # type: ignore[attr-defined]


def localize(parser: argparse.ArgumentParser, lang: Lang) -> None:
    """Every help text and description of ``parser`` and its subcommands in ``lang``."""
    if lang != "ja":
        return
    for text_parser in help_parsers(parser):
        if text_parser.description:
            text_parser.description = HELP_JA.get(text_parser.description, text_parser.description)
        for action in help_actions(text_parser):
            if isinstance(action.help, str) and action.help != argparse.SUPPRESS:
                action.help = HELP_JA.get(action.help, action.help)


def help_parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """``parser`` and every subcommand's parser below it."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                yield from help_parsers(sub)


def help_actions(parser: argparse.ArgumentParser) -> Iterator[argparse.Action]:
    """The arguments of ``parser`` and the one-line entries of its subcommands."""
    for action in parser._actions:
        yield action
        if isinstance(action, argparse._SubParsersAction):
            yield from action._choices_actions
