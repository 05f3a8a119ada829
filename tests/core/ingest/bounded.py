"""Run a call that must finish: hostile inputs make quadratic code take minutes to hours,
linear code well under a second. The bound is generous (shared, busy machines); a test
fails at it instead of hanging."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

GENEROUS_S = 20.0


def finishes(call: Callable[[], T], within_s: float = GENEROUS_S) -> T:
    """call()'s result, or an AssertionError once `within_s` have passed (the call is left
    to finish in a daemon thread)."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:  # noqa: BLE001 (re-raised in the test's thread)
            failure.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(within_s)
    if worker.is_alive():
        raise AssertionError(f"still running after {within_s:g} s: not linear")
    if failure:
        raise failure[0]
    return outcome[0]
