"""The Pi's own health: CPU, load, memory, disk, SoC temperature, uptime, clock sync.

The collector is in collector.py, its config schema in config.py (no hardware
library), a sample in sample.yaml."""
