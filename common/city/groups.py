"""Groups of devices from firmware-config, as IT names them on the command line:
``all``, ``kind:home``, ``site:lib-central``, ``district:潮見``, ``tag:pilot``,
``profile:wifi-probe`` or ``device:home-a001-hub``; several terms joined with ``,``
must all hold (``kind:home,district:潮見``)."""

from __future__ import annotations

from collections.abc import Callable

from common.city.inventory import DevicePlacement, Inventory

_MATCHERS: dict[str, Callable[[DevicePlacement, str], bool]] = {
    "kind": lambda p, v: p.site.kind == v,
    "site": lambda p, v: p.site.id == v,
    "district": lambda p, v: p.site.district == v,
    "tag": lambda p, v: v in p.site.tags,
    "profile": lambda p, v: p.profile.id == v,
    "device": lambda p, v: p.device.id == v,
}


class GroupError(Exception):
    """A group that names no device, or is not written as a group; says how to write it."""


def select(inventory: Inventory, group: str) -> list[str]:
    """The IDs of the devices in ``group``, sorted; GroupError when there are none."""
    terms = [term.strip() for term in group.split(",") if term.strip()]
    if not terms:
        raise GroupError("--group: expected e.g. all, kind:home or district:潮見, found nothing")
    chosen = sorted(inventory.devices)
    for term in terms:
        if term == "all":
            continue
        key, sep, value = term.partition(":")
        matcher = _MATCHERS.get(key)
        if not sep or matcher is None or not value:
            known = ", ".join(f"{k}:…" for k in _MATCHERS)
            raise GroupError(f"--group: {term!r} is not a group; expected all, {known}")
        chosen = [d for d in chosen if matcher(inventory.devices[d], value)]
    if not chosen:
        raise GroupError(f"--group {group!r}: no device in firmware-config is in it")
    return chosen
