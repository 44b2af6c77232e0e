"""What every role shares, below them all: config loading (yamlconf), SQLite with
migrations (sqlitedb), the MQTT client conventions (mqttlink), atomic files, state
logging, signal handling, the message catalogue and the city's inventory (city/).
It imports only ``wire``; nothing here knows a role or the command line."""

__version__ = "0.1.0"
