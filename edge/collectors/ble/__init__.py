"""BLE sensors and tags in a watch-over home: room climate, doors, motion, buttons, and

The collector is in collector.py, its config schema in config.py (no hardware
library), a sample in sample.yaml."""
