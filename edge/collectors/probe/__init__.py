"""Active probes of a facility's Wi-Fi from the inside: can people get online?

The collector is in collector.py, its config schema in config.py (no hardware
library), a sample in sample.yaml."""
