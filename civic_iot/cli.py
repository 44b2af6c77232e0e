"""The one console script: ``civic-iot <command>``; each command group is a module
of its own (cli_<group>.py) with an ``add_parser``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from civic_iot import (
    __version__,
    cli_alerts,
    cli_backup,
    cli_dashboards,
    cli_demo,
    cli_devices,
    cli_edge,
    cli_fleet,
    cli_gateway,
    cli_inventory,
    cli_provision,
    cli_release,
    cli_reports,
)
from civic_iot.localparser import argparse_words, lang_in, localize
from civic_iot.words import config_error, default_lang
from common.yamlconf import ConfigError
from gateway.errors import GatewayError

GROUPS = (
    cli_edge,
    cli_gateway,
    cli_devices,
    cli_alerts,
    cli_reports,
    cli_dashboards,
    cli_inventory,
    cli_provision,
    cli_release,
    cli_fleet,
    cli_backup,
    cli_demo,
)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    lang = lang_in(argv)
    with argparse_words(lang):
        parser = _parser()
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="civic-iot", description="Public Wi-Fi, watch-over and smart facilities for a city."
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning"],
                        help="how much the log says (default: info)")  # fmt: skip
    parser.add_argument("--version", action="version", version=f"civic-iot {__version__}")
    parser.add_argument("--lang", choices=["ja", "en"], default=default_lang(),
                        help="language of the output (default: the locale)")  # fmt: skip
    commands = parser.add_subparsers(title="commands")
    for group in GROUPS:
        group.add_parser(commands)
    return parser
