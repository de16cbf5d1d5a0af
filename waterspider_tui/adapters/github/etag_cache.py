"""A bounded per-URL store of ETags and the bodies they validate, for conditional GETs."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CachedResponse:
    """What a 200 said, kept so a later 304 can be answered from it."""

    etag: str
    """Sent back exactly as received, weak (`W/"…"`) or strong."""
    data: Any
    next_url: str | None
    """The response's `Link: rel="next"`, since a 304 need not repeat it."""


class EtagCache:
    """Least-recently-used map from URL to its last validated response.

    One cache belongs to one client and so to one token: GitHub's ETags are per
    credential, and the client clears the cache when its token changes.
    """

    def __init__(self, max_entries: int = 4096) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, CachedResponse] = OrderedDict()

    def get(self, url: str) -> CachedResponse | None:
        entry = self._entries.get(url)
        if entry is not None:
            self._entries.move_to_end(url)
        return entry

    def put(self, url: str, entry: CachedResponse) -> None:
        self._entries[url] = entry
        self._entries.move_to_end(url)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
