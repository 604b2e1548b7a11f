"""moto's server finds a request's backend by listing its own package directory (os.listdir plus an isdir per
entry, ~150 system calls) on every request, under the lock that every request takes: at a few hundred NLBs that
lock is where most requests wait. The list never changes while the server runs, so it is read once.
"""
from __future__ import annotations

import functools
from typing import Iterable

from moto import backends


def install() -> None:
    if getattr(backends, "_cpl_routing_cached", False):
        return
    listed = backends.list_of_moto_modules

    @functools.cache
    def list_of_moto_modules() -> Iterable[str]:
        return tuple(listed())

    backends.list_of_moto_modules = list_of_moto_modules  # type: ignore[assignment]
    backends._cpl_routing_cached = True  # type: ignore[attr-defined]
