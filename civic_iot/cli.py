"""The one console script: ``civic-iot <command>``; each command group is a module
of its own (cli_<group>.py) with an ``add_parser``."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable

from civic_iot import __version__
from civic_iot.localparser import argparse_words, lang_in, localize
from civic_iot.words import config_error, default_lang
from common.yamlconf import ConfigError
from gateway.errors import GatewayError

# command -> the module that adds it (in the order --help lists them). A command loads
# only its own module: the agent on a Pi (`edge run`) carries no other command's imports.
COMMANDS = {
    "edge": "cli_edge", "gateway": "cli_gateway", "devices": "cli_devices",
    "alerts": "cli_alerts", "reports": "cli_reports", "dashboards": "cli_dashboards",
    "inventory": "cli_inventory", "residents": "cli_inventory", "provision": "cli_provision",
    "release": "cli_release", "fleet": "cli_fleet", "backup": "cli_backup",
    "restore": "cli_backup", "demo": "cli_demo",
}  # fmt: skip
_GLOBAL_WITH_VALUE = ("--log-level", "--lang")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    lang = lang_in(argv)
    with argparse_words(lang):
        parser = _parser(_command_in(argv))
        localize(parser, lang)
        args = parser.parse_args(argv)
        if getattr(args, "handler", None) is None:
            parser.print_help()
            return 2
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except ConfigError as exc:
        print(f"civic-iot: {config_error(exc, lang)}", file=sys.stderr)
        return 2
    except GatewayError as exc:
        print(f"civic-iot: {exc}", file=sys.stderr)
        return 1


def _command_in(argv: list[str]) -> str | None:
    """The command word, if argv names a known one before any help flag."""
    index = 0
    while index < len(argv):
        word = argv[index]
        if word in _GLOBAL_WITH_VALUE:
            index += 2
        elif word.startswith("--") and "=" in word:
            index += 1
        else:
            return word if word in COMMANDS else None
    return None


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or only ``command``'s part of it."""
    parser = argparse.ArgumentParser(
        prog="civic-iot", description="Public Wi-Fi, watch-over and smart facilities for a city."
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning"],
                        help="how much the log says (default: info)")  # fmt: skip
    parser.add_argument("--version", action="version", version=f"civic-iot {__version__}")
    parser.add_argument("--lang", choices=["ja", "en"], default=default_lang(),
                        help="language of the output (default: the locale)")  # fmt: skip
    commands = parser.add_subparsers(title="commands")
    modules = [COMMANDS[command]] if command else list(dict.fromkeys(COMMANDS.values()))
    for module in modules:
        importlib.import_module(f"civic_iot.{module}").add_parser(commands)
    return parser
