"""Keep the garbage collector off the long-lived part of the heap.

A loaded index, the tokenizer's vocabulary and the risk lists are several hundred thousand
objects that live as long as the process. Every full collection walked all of them while
holding the GIL: measured under load (benchmarks/load.py, gc callbacks) 120-130 ms pauses of
the whole service, 24-40 ms once they were frozen. ``gc.freeze()`` moves what is alive into a
permanent generation; reference counting still frees a replaced index (it holds no cycles).
"""

from __future__ import annotations

import gc
import logging

from assist.core.engine import Engine

log = logging.getLogger(__name__)
WARM_UP_TEXT = "你好,这款还有货吗?什么时候发货"


def warm_and_freeze(engine: Engine) -> None:
    """Load what the first message would load lazily (model weights), then freeze the heap.

    Called once by ``assist serve`` before it accepts connections, so the first buyer does not
    wait for the model either.
    """
    engine.suggest(WARM_UP_TEXT)
    gc.collect()
    gc.freeze()
    log.info("heap frozen: %d long-lived objects out of the collector's reach", gc.get_freeze_count())


def refreeze() -> None:
    """After a hot re-index: freeze the new index too, if this process froze at start-up."""
    if gc.get_freeze_count():
        gc.freeze()
