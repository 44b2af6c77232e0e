"""Memory that glibc would keep: given back, or never taken into the heap.

Reading the config, compiling the contract's schemas and building collectors leave freed
heap behind that glibc keeps for later; ``malloc_trim`` returns it (about 0.8 MiB of an
idle agent's 30). A service that builds large buffers on several threads (the gateway's
request bodies) would leave each thread's heap arena holding megabytes once glibc's
self-raising mmap threshold has grown past them; ``big_buffers_unmapped`` keeps such
buffers out of the heaps. Elsewhere than glibc both do nothing.
"""

from __future__ import annotations

import ctypes
import gc

_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameters (malloc.h)
_M_ARENA_MAX = -8


def give_back_freed() -> None:
    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (AttributeError, OSError):  # not glibc
        return


def big_buffers_unmapped(threshold: int = 256 * 1024, arenas: int = 2) -> None:
    """Buffers of ``threshold`` bytes or more are mapped and unmapped on their own (a
    fixed threshold: glibc would otherwise raise it after each free), and at most
    ``arenas`` heaps are shared among the threads."""
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(_M_MMAP_THRESHOLD, threshold)
        libc.mallopt(_M_ARENA_MAX, arenas)
    except (AttributeError, OSError):  # not glibc
        return
