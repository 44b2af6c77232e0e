"""`civic-iot release`: build, sign and check the agent releases the city installs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    release = commands.add_parser("release", help="build and check signed agent releases (IT)")
    actions = release.add_subparsers(title="actions")
    build = actions.add_parser(
        "build",
        help="wheels of the agent and its dependencies for the Pi's machines, with a "
        "manifest signed by the city's release key",
    )
    build.add_argument("--state-dir", type=Path, default=Path(".state/provision"),
                       help="provisioning's state directory (holds the release key)")  # fmt: skip
    build.add_argument("--out", type=Path, required=True,
                       help="the release directory to serve (a web server's or a path)",
                       )  # fmt: skip
    build.add_argument("--machine", action="append",
                       choices=["aarch64", "armv7l", "x86_64"],
                       help="repeatable; default: aarch64 and armv7l")  # fmt: skip
    build.add_argument("--version", help="build as this version (default: the project's)")
    build.add_argument("--extra-index-url", action="append", default=[],
                       help="another package index, e.g. https://www.piwheels.org/simple "
                       "for armv7l")  # fmt: skip
    build.add_argument("--dependencies-from", type=Path, metavar="OUT/VERSION",
                       help="take the dependency wheels of an earlier release instead of "
                       "downloading (a patch built offline)")  # fmt: skip
    build.set_defaults(handler=_build)
    verify = actions.add_parser("verify", help="check a built release's signature and hashes")
    verify.add_argument("release", type=Path, help="OUT/VERSION")
    verify.add_argument("--key", type=Path, required=True, help="the city's release-key.pub")
    verify.set_defaults(handler=_verify)


def _build(args: argparse.Namespace) -> int:
    from common.releases import ReleaseError
    from provisioning.release import MACHINES, BuildRequest, build

    request = BuildRequest(out=args.out, key_dir=args.state_dir / "release",
                           machines=tuple(args.machine or MACHINES), version=args.version,
                           index_urls=tuple(args.extra_index_url),
                           dependencies_from=args.dependencies_from)  # fmt: skip
    try:
        manifest = build(request)
    except ReleaseError as exc:
        print(f"civic-iot release build: {exc}", file=sys.stderr)
        return 1
    for machine, files in sorted(manifest.machines.items()):
        print(f"{machine}: {len(files)} wheels")
    print(f"release {manifest.version} signed in {args.out / manifest.version}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from common.releases import ReleaseError
    from provisioning.release import verify

    try:
        manifest = verify(args.release, args.key)
    except ReleaseError as exc:
        print(f"civic-iot release verify: {exc}", file=sys.stderr)
        return 1
    print(f"release {manifest.version}: signature and {len(manifest.sha256)} files OK")
    return 0
