"""Wi-Fi health and usage at a facility: is the Wi-Fi working, and how much is it used?

The collector is in collector.py, its config schema in config.py (no hardware
library), a sample in sample.yaml."""
