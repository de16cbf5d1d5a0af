"""Worktrees for a host's sessions made in batches: sessions that start together share one command and one fetch.

Why: git's own locks make concurrent `git worktree add` in one clone fail, so a host prepares one
worktree at a time. Done as one SSH command each (check the clone, fetch, add), 200 sessions
placed at once waited up to 29 s for their turn (benchmarks/README.md, "Remote dispatch");
gathered into one script per turn, the clone is checked and fetched once for all of them.
"""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

BATCH_MAX = 16
"""Worktrees per command: enough to spread one fetch widely, few enough that the first sessions start soon."""

Item = tuple[str, str]
"""(worktree, branch) of one session."""
RunBatch = Callable[[list[Item]], Awaitable[list[list[str]]]]
"""Prepares the items in order on the host; the output lines that concern each."""


def split_items(text: str, count: int) -> list[list[str]]:
    """Each item's lines from the batch script's output: the lines before the first `ITEM` (warnings,
    a refusal of the whole clone) belong to every item, the rest to the `ITEM i` above them."""
    shared: list[str] = []
    items: list[list[str]] = [[] for _ in range(count)]
    current: list[str] = shared
    for line in text.splitlines():
        if line.startswith("ITEM ") and line[5:].strip().isdigit() and int(line[5:]) < count:
            current = items[int(line[5:])]
        else:
            current.append(line)
    return [shared + lines for lines in items]


class PrepareBatches:
    """One host's turns: whoever has the turn prepares everything queued so far (up to BATCH_MAX)."""

    def __init__(self, run_batch: RunBatch) -> None:
        self.run_batch = run_batch
        self._queue: list[tuple[Item, asyncio.Future[list[str]]]] = []
        self._turn = asyncio.Lock()

    async def prepare(self, worktree: str, branch: str) -> list[str]:
        """The output lines about this worktree once it is made (or refused)."""
        future: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()
        self._queue.append(((worktree, branch), future))
        while not future.done():
            async with self._turn:
                if future.done():
                    break
                batch, self._queue = self._queue[:BATCH_MAX], self._queue[BATCH_MAX:]
                await self._run(batch, future)
        return future.result()

    async def _run(self, batch: list[tuple[Item, asyncio.Future[list[str]]]], mine: asyncio.Future[list[str]]) -> None:
        try:
            answers = await self.run_batch([item for item, _ in batch])
        except asyncio.CancelledError:
            # The caller running the batch went away: the others' worktrees wait for the next turn.
            mine.cancel()
            self._queue[:0] = [entry for entry in batch if not entry[1].done()]
            raise
        except Exception as error:  # every session of the batch learns why, none is left waiting
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for (_, future), lines in zip(batch, answers):
            if not future.done():
                future.set_result(lines)
