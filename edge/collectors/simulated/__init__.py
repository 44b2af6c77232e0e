"""Plausible readings of every kind civic-iot carries, for demos and load tests.

The collector is in collector.py, its config schema in config.py (no hardware
library), a sample in sample.yaml."""
