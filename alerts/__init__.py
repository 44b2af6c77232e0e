"""Watch-over and facility alerts: rules on the MQTT stream, escalation, notifications."""
