"""A generator run one step ahead in a thread of its own: `flask reindex` reads the next batch
of source documents from the engine while the bulk workers write the current one."""
from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["read_ahead"]


def read_ahead(source: Iterator[Any], depth: int = 2) -> Iterator[Any]:
    """`source` run in a thread of its own, at most `depth` items ahead; its errors re-raised
    here, and it stops when the consumer does (an error, a kill, the generator closed)."""
    box: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                box.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for x in source:
                if not put(("item", x)):
                    return
            put(("end", None))
        except BaseException as exc:  # handed to the consumer, which raises it
            put(("error", exc))

    reader = threading.Thread(target=run, name="reindex-read", daemon=True)
    reader.start()
    try:
        while True:
            kind, x = box.get()
            if kind == "end":
                return
            if kind == "error":
                raise x
            yield x
    finally:
        stop.set()
        reader.join(timeout=10)  # a read in flight finishes (harmless) or is abandoned
