"""Every BLE format the collector understands: one module each, exporting one
``FORMAT`` record; this table is what the config schema, the collector and passive
scanning read. A new format is a module here and one line below."""

from __future__ import annotations

from edge.collectors.ble.advertisement import BleFormat
from edge.collectors.ble.formats import atc, bthome, eddystone, ibeacon, mibeacon, switchbot

FORMATS: dict[str, BleFormat] = {
    module.FORMAT.name: module.FORMAT
    for module in (bthome, mibeacon, atc, switchbot, ibeacon, eddystone)
}
TAG_FORMATS = tuple(f for f in FORMATS.values() if f.is_tag)
