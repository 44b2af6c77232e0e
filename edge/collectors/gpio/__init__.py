"""Doors, motion and call buttons on the Pi's GPIO pins (gpiozero).

The collector is in collector.py, its config schema in config.py (no hardware
library), a sample in sample.yaml."""
