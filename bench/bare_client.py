"""The peer for bench_agent.py: a bare paho-mqtt client publishing like the agent.

Usage: bare_client.py PORT MESSAGES_PER_SECOND PAYLOAD_BYTES
"""

from __future__ import annotations

import sys
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


def main() -> None:
    port, rate, size = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bare", protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", port)
    client.loop_start()
    payload = b"x" * size
    while True:
        if rate:
            client.publish("bench/bare", payload, qos=1)
            time.sleep(1 / rate)
        else:
            time.sleep(1)


if __name__ == "__main__":
    main()
