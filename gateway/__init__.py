"""The civic-iot gateway: MQTT in, validated readings out to InfluxDB."""
