"""GitHub API cost of polling: requests counted against the primary rate limit per hour, ours against a naive poller.

Against the loopback fake GitHub (tests/github/fake_github.py) in simulated time: one FakeTime clock drives the
client, the source and the server, so an hour of polls at a 10 s interval (360 polls) runs in seconds. The
backlog is `seed_backlog` (every third issue blocked by the one before it). 1% of the open labeled issues change
per minute, edited through the fake between polls (seeded: comments, body edits, renames, label changes).
Counted = charged by the server to the primary limit; a 304 is free, as on GitHub. The fake's limit is raised
so the naive poller is never refused, and the share of a 5,000/h token is computed here.
Usage: python benchmarks/bench_github_cost.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sys
import time
from collections import Counter
from multiprocessing import Pool
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.github.conftest import FakeTime  # noqa: E402
from tests.github.fake_github import DEFAULT_TOKEN, TRIGGER_LABEL, FakeGitHub, seed_backlog, start_fake_github  # noqa: E402
from waterspider_tui.adapters.github.client import GitHubClient  # noqa: E402
from waterspider_tui.adapters.github.source import GitHubIssueSource  # noqa: E402

REPO = "octo/app"
POLL_S = 10.0
CHANGE_SHARE_PER_MIN = 0.01
BUDGET_PER_H = 5000
ENDPOINTS = (
    ("issue list pages", re.compile(r"/issues\?")),
    ("issue events (trust)", re.compile(r"/issues/\d+/events")),
    ("blocked-by lists", re.compile(r"/dependencies/blocked_by")),
    ("sub-issue lists", re.compile(r"/sub_issues")),
    ("collaborator permission", re.compile(r"/permission")),
    ("single issues (references)", re.compile(r"/issues/\d+(\?|$)")),
)


def endpoint(path: str) -> str:
    return next((name for name, pattern in ENDPOINTS if pattern.search(path)), "other")


class NaivePoller:
    """Remembers nothing between polls and sends no ETags, but produces what our source produces.

    Per poll: every page of the labeled list; per issue its events (who applied the label,
    who renamed it), its blocked-by and sub-issue lists where the listing's counters say
    there are any; one permission check per distinct labeler, renamer and author.
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.AsyncClient(headers={"Authorization": f"Bearer {DEFAULT_TOKEN}", "Accept": "application/vnd.github+json"}, timeout=30)

    async def pages(self, url: str) -> list[dict]:
        items: list[dict] = []
        next_url: str | None = url
        while next_url:
            response = await self.http.get(next_url)
            response.raise_for_status()
            items += response.json()
            next_url = response.links.get("next", {}).get("url")
        return items

    async def poll(self) -> int:
        repo_url = f"{self.base_url}/repos/{REPO}"
        listed = await self.pages(f"{repo_url}/issues?labels={TRIGGER_LABEL}&state=open&sort=updated&direction=desc&per_page=100")
        people: set[str] = set()
        for item in listed:
            number = item["number"]
            events = await self.pages(f"{repo_url}/issues/{number}/events?per_page=100")
            people |= {event["actor"]["login"] for event in events if event["event"] in ("labeled", "renamed")}
            people.add(item["user"]["login"])
            if item["issue_dependencies_summary"]["total_blocked_by"]:
                await self.pages(f"{repo_url}/issues/{number}/dependencies/blocked_by?per_page=100")
            if item["sub_issues_summary"]["total"]:
                await self.pages(f"{repo_url}/issues/{number}/sub_issues?per_page=100")
        for login in sorted(people):
            (await self.http.get(f"{repo_url}/collaborators/{login}/permission")).raise_for_status()
        return len(listed)

    async def aclose(self) -> None:
        await self.http.aclose()


def change_one(github: FakeGitHub, rng: random.Random, numbers: list[int], serial: int) -> str:
    """One change as people make them: a comment, a body edit, a rename, or a priority label on or off."""
    number = rng.choice(numbers)
    kind = rng.choices(("comment", "body", "rename", "label"), weights=(50, 25, 10, 15))[0]
    if kind == "comment":
        github.add_comment(REPO, number, f"Note {serial}", user="maintainer")
    elif kind == "body":
        github.edit_issue(REPO, number, actor="maintainer", body=f"Estimate: 30m\n\nRevision {serial}")
    elif kind == "rename":
        github.edit_issue(REPO, number, actor="maintainer", title=f"Task {number}, revision {serial}")
    elif not github.unlabel_issue(REPO, number, "P2-Medium", actor="maintainer"):
        github.label_issue(REPO, number, "P2-Medium", actor="maintainer")
    return kind


def counted_since(github: FakeGitHub, start: int) -> Counter[str]:
    """Requests charged to the primary limit since record `start`, by endpoint."""
    with github.lock:
        records = github.requests[start:]
    return Counter(endpoint(record.path) for record in records if record.status not in (0, 304) and record.login)


async def measure(poller: str, size: int, polls: int, seed: int) -> dict:
    """`polls` polls 10 simulated seconds apart, with the backlog changing in between."""
    fake_time = FakeTime()
    base_url, github = start_fake_github(real_time=fake_time.clock, rate_limit=10**9)
    numbers = [issue.number for issue in seed_backlog(github, REPO, size)]
    rng = random.Random(seed)
    client = GitHubClient(base_url, DEFAULT_TOKEN, sleep=fake_time.sleep, clock=fake_time.clock, jitter=lambda: 0.5)
    if poller == "naive":
        naive = NaivePoller(base_url)
        poll = naive.poll
    else:
        source = GitHubIssueSource(client, [REPO], clock=fake_time.clock)

        async def poll() -> int:
            result = await source.poll()
            assert result.ok and not result.held, result.message
            return len(result.issues)

    started, changes, failures = fake_time.now, Counter[str](), 0
    wall_started = time.perf_counter()
    first: Counter[str] = Counter()
    steady: Counter[str] = Counter()
    for index in range(polls):
        due = int((fake_time.now - started) / 60.0 * size * CHANGE_SHARE_PER_MIN)  # changes at an even rate
        while sum(changes.values()) < due:
            changes[change_one(github, rng, numbers, sum(changes.values()))] += 1
        mark = len(github.requests)
        failures += (await poll()) != size
        (first if index == 0 else steady).update(counted_since(github, mark))
        fake_time.advance(POLL_S)
    await client.aclose()
    if poller == "naive":
        await naive.aclose()
    github.stop()
    return {"poller": poller, "size": size, "polls": polls, "first": first, "steady": steady, "changes": changes,
            "failures": failures, "wall_s": time.perf_counter() - wall_started}


def run_job(job: tuple[str, int, int, int]) -> dict:
    return asyncio.run(measure(*job))


def per_hour(result: dict) -> tuple[float, float]:
    """(steady counted requests per hour, counted in the first hour including the cold first poll)."""
    polls_per_h = 3600 / POLL_S
    steady_polls = result["polls"] - 1
    steady_h = sum(result["steady"].values()) / steady_polls * polls_per_h if steady_polls else float("nan")
    return steady_h, sum(result["first"].values()) + steady_h * (polls_per_h - 1) / polls_per_h


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer simulated minutes (for a smoke run)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    full_hour = 360
    ours_1000 = 13 if args.quick else 25
    jobs = [
        ("ours", 1000, ours_1000, args.seed), ("naive", 1000, 3, args.seed),
        ("ours", 100, 61 if args.quick else full_hour, args.seed), ("naive", 100, 7, args.seed),
    ]
    started = time.perf_counter()
    with Pool(2) as pool:
        results = pool.map(run_job, jobs, chunksize=1)
    elapsed = time.perf_counter() - started
    print("## GitHub API cost (loopback fake GitHub, simulated time, 10 s polls, 1% of issues changing per minute)\n")
    print("| open labeled issues | poller | simulated | changes | counted first poll | counted / h, steady | first hour incl. first poll | × naive (steady) | share of 5,000/h (steady) |")
    print("|---|---|---|---|---|---|---|---|---|")
    naive_h = {r["size"]: per_hour(r)[0] for r in results if r["poller"] == "naive"}
    for result in results:
        steady_h, first_hour = per_hour(result)
        span = result["polls"] * POLL_S
        simulated = f"{result['polls']} polls ({span / 60:.0f} min)" if span >= 60 else f"{result['polls']} polls ({span:.0f} s)"
        simulated += "" if result["polls"] >= full_hour else ", per hour extrapolated"
        ratio = naive_h[result["size"]] / steady_h if steady_h else float("inf")
        print(f"| {result['size']:,} | {result['poller']} | {simulated} | {sum(result['changes'].values())} | {sum(result['first'].values()):,}"
              f" | {steady_h:,.0f} | {first_hour:,.0f} | {'—' if result['poller'] == 'naive' else f'{ratio:,.1f}x fewer'}"
              f" | {steady_h / BUDGET_PER_H:.1%} |")
    print("\nCounted requests per hour by endpoint (steady state):\n")
    for result in results:
        polls_per_h, steady_polls = 3600 / POLL_S, result["polls"] - 1
        parts = ", ".join(f"{name} {count / steady_polls * polls_per_h:,.0f}" for name, count in result["steady"].most_common())
        print(f"- {result['size']:,} issues, {result['poller']}: {parts or 'none'}")
    print()
    for size in sorted(naive_h):
        ours_h = next(per_hour(r)[0] for r in results if r["size"] == size and r["poller"] == "ours")
        naive = next(r for r in results if r["size"] == size and r["poller"] == "naive")
        list_only_h = naive["steady"]["issue list pages"] / (naive["polls"] - 1) * 3600 / POLL_S
        tenfold = "met" if naive_h[size] / ours_h >= 10 else "NOT met"
        share = "met" if ours_h <= 0.2 * BUDGET_PER_H else "NOT met"
        print(f"- {size:,} issues: ≥ 10x fewer than naive {tenfold} ({naive_h[size] / ours_h:,.1f}x); ≤ 20% of 5,000/h {share}"
              f" ({ours_h / BUDGET_PER_H:.1%}). Against the naive list pages alone ({list_only_h:,.0f}/h, a poller that"
              f" checks neither trust nor dependencies): {list_only_h / ours_h:,.1f}x fewer.")
    changes = sum((r["changes"] for r in results), Counter[str]())
    made = ", ".join(f"{kind} {count}" for kind, count in changes.most_common())
    walls = ", ".join(f"{r['size']:,} {r['poller']} {r['wall_s']:.0f} s" for r in results)
    print(f"\nChanges made: {made}. Polls that did not offer every issue: {sum(r['failures'] for r in results)}."
          f" {len(jobs)} runs in {elapsed:.0f} s on 2 processes ({walls}).")
    if any(r["failures"] for r in results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
