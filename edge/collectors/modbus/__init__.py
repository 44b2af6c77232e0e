"""Modbus meters and sensors (energy, temperature, CO2) over TCP, RTU or RTU-over-TCP.

The collector is in collector.py, its config schema in config.py (no hardware
library), a sample in sample.yaml."""
