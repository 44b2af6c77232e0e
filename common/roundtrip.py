"""A paho client that can wait until the broker has read everything sent before.

paho closes the socket as soon as DISCONNECT is written. When messages from the broker
are still unread on it, the kernel answers with a reset instead of an orderly close,
and Mosquitto drops what it had not read yet: acknowledgements queued just before
``disconnect()`` were lost and those messages came again at the next connect (seen as
four PUBACKs of six lost under load). A broker handles a connection's packets in order,
so a PINGRESP says every packet written before its PINGREQ has been handled.
"""

from __future__ import annotations

import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode


class RoundTripClient(mqtt.Client):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._answered = threading.Event()

    def round_trip(self, timeout_s: float) -> bool:
        """True once the broker has handled what was sent before this call; False when
        not connected or no answer came in ``timeout_s``."""
        if not self.is_connected():
            return False
        self._answered.clear()
        if self._send_simple_command(mqtt.PINGREQ) != MQTTErrorCode.MQTT_ERR_SUCCESS:
            return False
        return self._answered.wait(timeout_s)

    def _handle_pingresp(self) -> MQTTErrorCode:
        rc = super()._handle_pingresp()
        self._answered.set()
        return rc
