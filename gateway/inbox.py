"""Messages received and not yet handled, bounded in messages and in payload bytes.

paho's network thread puts what one read brought; the ingest thread takes it. When the
inbox is full the network thread waits, so TCP slows the broker down instead of memory
growing, whatever the broker makes of our receive window (a broker configured with a
fixed in-flight limit may send far more than MQTT v5's Receive Maximum asked for).
Messages dropped after ``close`` were never acknowledged: the broker sends them again.

Each side wakes the other only when it matters: the network thread once the inbox is
down to half (it then puts several reads in a row), the ingest thread when the inbox
was empty. Waking the network thread after every take cost the ingest thread about a
tenth of its time under load, mostly in handing the GIL back and forth.
"""

from __future__ import annotations

import queue
import threading
from collections import deque

from common.serviceclient import Inbound


class Inbox:
    def __init__(self, max_messages: int, max_bytes: int = 2**62) -> None:
        self._max = max_messages
        self._max_bytes = max_bytes
        self._lists: deque[tuple[list[Inbound], int]] = deque()  # with their payload bytes
        self._count = 0
        self._bytes = 0
        self._closed = False
        self._producer_waits = False
        self._changed = threading.Condition()

    def put(self, received: list[Inbound]) -> None:
        size = sum(len(message.payload) for message in received)
        with self._changed:
            while self._full() and not self._closed:
                self._producer_waits = True
                self._changed.wait()
            self._producer_waits = False
            if self._closed:
                return
            was_empty = not self._lists
            self._lists.append((received, size))
            self._count += len(received)
            self._bytes += size
            if was_empty:  # the ingest thread waits only for an empty inbox
                self._changed.notify_all()

    def get(self, timeout: float) -> list[Inbound]:
        """The oldest list; queue.Empty after ``timeout`` seconds without one."""
        with self._changed:
            if not self._lists and not self._changed.wait_for(lambda: self._lists, timeout):
                raise queue.Empty
            return self._take()

    def get_nowait(self) -> list[Inbound]:
        with self._changed:
            if not self._lists:
                raise queue.Empty
            return self._take()

    def close(self) -> None:
        """From now on ``put`` drops what it is given (and never waits)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def qsize(self) -> int:
        """Messages waiting."""
        return self._count

    def _full(self) -> bool:
        return self._count >= self._max or self._bytes >= self._max_bytes

    def _take(self) -> list[Inbound]:
        received, size = self._lists.popleft()
        self._count -= len(received)
        self._bytes -= size
        if self._producer_waits and self._count <= self._max // 2 and (
                self._bytes <= self._max_bytes // 2):  # fmt: skip
            self._changed.notify_all()
        return received
