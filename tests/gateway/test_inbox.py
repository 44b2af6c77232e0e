"""The gateway's inbox holds a bounded number of messages: paho's network thread waits
when it is full (TCP then slows the broker), and nothing waits once it is closed."""

from __future__ import annotations

import queue
import threading

import pytest

from common.serviceclient import Inbound
from gateway.inbox import Inbox


def messages(count: int) -> list[Inbound]:
    return [Inbound("t", b"x", mid, 1) for mid in range(count)]


def test_a_full_inbox_makes_the_network_thread_wait_until_the_gateway_takes_some() -> None:
    inbox = Inbox(max_messages=100)
    inbox.put(messages(100))
    done = threading.Event()
    waiting = threading.Thread(target=lambda: (inbox.put(messages(5)), done.set()))
    waiting.start()
    assert not done.wait(0.3), "a full inbox took more"
    assert inbox.qsize() == 100
    assert len(inbox.get(timeout=1)) == 100
    assert done.wait(5)
    assert len(inbox.get(timeout=1)) == 5
    waiting.join()


def test_a_waiting_network_thread_goes_on_once_the_inbox_is_down_to_half() -> None:
    inbox = Inbox(max_messages=100)
    for _ in range(10):
        inbox.put(messages(10))
    done = threading.Event()
    waiting = threading.Thread(target=lambda: (inbox.put(messages(5)), done.set()))
    waiting.start()
    for _ in range(4):  # 60 left: still more than half
        inbox.get(timeout=1)
    assert not done.wait(0.3), "the network thread was let go above half"
    inbox.get(timeout=1)  # 50 left
    assert done.wait(5)
    assert inbox.qsize() == 55
    waiting.join()


def test_an_empty_inbox_says_so_after_the_timeout() -> None:
    with pytest.raises(queue.Empty):
        Inbox(10).get(timeout=0.05)
    with pytest.raises(queue.Empty):
        Inbox(10).get_nowait()


def test_closing_lets_a_waiting_network_thread_go_and_drops_what_comes_later() -> None:
    inbox = Inbox(max_messages=10)
    inbox.put(messages(10))
    waiting = threading.Thread(target=inbox.put, args=(messages(3),))
    waiting.start()
    inbox.close()
    waiting.join(5)
    assert not waiting.is_alive()
    inbox.put(messages(2))
    assert inbox.qsize() == 10  # unacknowledged: the broker sends them again later
