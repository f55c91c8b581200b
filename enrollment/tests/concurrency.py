"""Run service calls at the same moment, each in its own thread and database connection
(the PostgreSQL row-lock tests of payments and refunds)."""
from __future__ import annotations

import threading

from django.core.exceptions import ValidationError


def run_together(calls, *, timeout: float = 30) -> list[str | None]:
    """Start every call together (a barrier); per call ``"ok"`` or its refusal's messages."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[str | None] = [None] * len(calls)

    def worker(i, call):
        try:
            barrier.wait()
            call()
            outcomes[i] = "ok"
        except ValidationError as exc:
            outcomes[i] = " ".join(exc.messages)
        finally:
            from django.db import connection as thread_connection
            thread_connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return outcomes
