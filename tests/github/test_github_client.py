"""The REST client against the fake: ETags, Link pages, rate limits, retries, paced writes, token discovery."""

from __future__ import annotations

import asyncio
import subprocess

import pytest

from waterspider_tui.adapters.github.client import GitHubClient
from waterspider_tui.adapters.github.errors import GitHubError, GitHubUnavailable, RateLimited
from waterspider_tui.adapters.github.rate_limit import rate_limit_wait_s, retry_backoff_s
from waterspider_tui.adapters.github.token import TokenNotFound, discover_token

from .fake_github import FakeGitHub

REPO = "octo/app"


def seed(github: FakeGitHub, count: int = 7) -> None:
    github.add_repo(REPO)
    for number in range(count):
        github.add_issue(REPO, f"Issue {number}", labels=["trigger:agent-execute"], labeled_by="octo")


async def test_sends_the_github_headers(github: FakeGitHub, make_client) -> None:
    seed(github, 1)
    await make_client().get(f"/repos/{REPO}/issues/1")
    headers = github.requests[-1].headers
    assert headers["accept"] == "application/vnd.github+json"
    assert headers["x-github-api-version"] == "2022-11-28"
    assert headers["authorization"] == "Bearer test-token"
    assert headers["user-agent"].startswith("waterspider")


async def test_a_304_reuses_the_cached_body_and_costs_no_rate_limit(github: FakeGitHub, make_client) -> None:
    seed(github, 2)
    client = make_client()
    first = await client.get(f"/repos/{REPO}/issues", {"per_page": 100})
    remaining = client.rate_limit.remaining
    second = await client.get(f"/repos/{REPO}/issues", {"per_page": 100})
    assert second.not_modified and second.data == first.data
    assert github.requests[-1].status == 304 and github.requests[-1].conditional
    assert client.rate_limit.remaining == remaining == github.rate_remaining
    assert (client.stats.total, client.stats.not_modified) == (2, 1)


async def test_pagination_follows_link_urls_exactly(github: FakeGitHub, make_client) -> None:
    seed(github, 7)
    client = make_client()
    items, unchanged = await client.paginate(f"/repos/{REPO}/issues", {"per_page": 3})
    assert [item["number"] for item in items] == [7, 6, 5, 4, 3, 2, 1] and not unchanged
    repo_id = github.repo(REPO).id
    assert [r.path for r in github.requests] == [
        f"/repos/{REPO}/issues?per_page=3",
        f"/repositories/{repo_id}/issues?per_page=3&page=2",
        f"/repositories/{repo_id}/issues?per_page=3&page=3",
    ]
    again, unchanged = await client.paginate(f"/repos/{REPO}/issues", {"per_page": 3})
    assert again == items and unchanged
    assert github.count(status=304) == 3


async def test_a_new_token_starts_the_etag_cache_over(github: FakeGitHub, make_client) -> None:
    seed(github, 1)
    github.tokens["rotated-token"] = "waterspider-bot"
    client = make_client()
    await client.get(f"/repos/{REPO}/issues/1")
    client.set_token("rotated-token")
    await client.get(f"/repos/{REPO}/issues/1")
    assert not github.requests[-1].conditional and github.requests[-1].status == 200


async def test_secondary_limit_obeys_retry_after(github: FakeGitHub, make_client, fake_time) -> None:
    seed(github, 1)
    github.inject(403, retry_after=7)
    client = make_client()
    response = await client.get(f"/repos/{REPO}/issues/1")
    assert response.data["number"] == 1
    assert fake_time.sleeps == [7.0]
    assert client.stats.rate_limited == 1


async def test_secondary_limit_without_retry_after_waits_a_minute_then_longer(github: FakeGitHub, make_client, fake_time) -> None:
    seed(github, 1)
    github.inject(429, times=2)
    await make_client(max_wait_s=300).get(f"/repos/{REPO}/issues/1")
    assert fake_time.sleeps == [60.0, 120.0]


async def test_exhausted_quota_waits_until_reset(github: FakeGitHub, make_client, fake_time) -> None:
    seed(github, 1)
    github.inject(403, remaining_zero=True, reset_in_s=30)
    await make_client().get(f"/repos/{REPO}/issues/1")
    assert fake_time.sleeps == [31.0]


async def test_a_long_limit_fails_fast_and_tells_until_when(github: FakeGitHub, make_client, fake_time) -> None:
    seed(github, 1)
    github.inject(403, remaining_zero=True, reset_in_s=3600)
    client = make_client()
    with pytest.raises(RateLimited) as raised:
        await client.get(f"/repos/{REPO}/issues/1")
    assert raised.value.until == pytest.approx(fake_time.now + 3601)
    assert client.waiting_until() == raised.value.until
    sent = github.count()
    with pytest.raises(RateLimited):
        await client.get(f"/repos/{REPO}/issues/1")
    assert github.count() == sent, "no request is sent while GitHub told us to wait"
    fake_time.advance(3602)
    assert client.waiting_until() is None
    assert (await client.get(f"/repos/{REPO}/issues/1")).data["number"] == 1


async def test_server_errors_retry_with_backoff_then_succeed(github: FakeGitHub, make_client, fake_time) -> None:
    seed(github, 1)
    github.inject(502, times=2)
    client = make_client()
    assert (await client.get(f"/repos/{REPO}/issues/1")).data["number"] == 1
    assert fake_time.sleeps == [0.75, 1.5]
    assert client.stats.retries == 2


async def test_persistent_server_errors_give_up_after_bounded_retries(github: FakeGitHub, make_client) -> None:
    seed(github, 1)
    github.inject(500, times=10)
    with pytest.raises(GitHubUnavailable) as raised:
        await make_client(max_retries=3).get(f"/repos/{REPO}/issues/1")
    assert raised.value.status == 500
    assert github.count() == 4


async def test_dropped_connection_and_slow_answer_are_retried(github: FakeGitHub, make_client) -> None:
    seed(github, 1)
    github.inject(None, disconnect=True)
    github.inject(None, delay_s=0.6)
    client = make_client(timeout_s=0.2)
    assert (await client.get(f"/repos/{REPO}/issues/1")).data["number"] == 1
    assert client.stats.retries == 2


async def test_client_errors_raise_with_status_and_body(github: FakeGitHub, make_client) -> None:
    seed(github, 1)
    client = make_client()
    with pytest.raises(GitHubError) as raised:
        await client.get(f"/repos/{REPO}/issues/99")
    assert raised.value.status == 404
    await client.post(f"/repos/{REPO}/labels", {"name": "agent:queued", "color": "c5def5"})
    with pytest.raises(GitHubError) as raised:
        await client.post(f"/repos/{REPO}/labels", {"name": "agent:queued", "color": "c5def5"})
    assert raised.value.status == 422 and raised.value.has_code("already_exists")


async def test_writes_are_serialized_and_spaced(github: FakeGitHub, make_client, fake_time) -> None:
    seed(github, 1)
    client = make_client(min_write_interval=1.0)
    bodies = [f"comment {n}" for n in range(3)]
    await asyncio.gather(*(client.post(f"/repos/{REPO}/issues/1/comments", {"body": b}) for b in bodies))
    assert fake_time.sleeps == [1.0, 1.0]
    assert [c.body for c in github.comments_on(REPO, 1)] == bodies
    assert client.stats.writes == 3


def test_rate_limit_wait_follows_githubs_order() -> None:
    assert rate_limit_wait_s({"retry-after": "5", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "999"}, now=0, attempt=1) == 5
    assert rate_limit_wait_s({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "100"}, now=40, attempt=1) == 61
    assert rate_limit_wait_s({"x-ratelimit-remaining": "12"}, now=0, attempt=3) == 240
    assert retry_backoff_s(10, base_s=1, cap_s=30, jitter=0.99) <= 30


def test_token_from_env_then_gh_then_a_clear_error() -> None:
    assert discover_token({"GH_TOKEN": " abc "}, which=lambda _: None) == "abc"

    def gh_run(argv, **_):
        assert argv[1:] == ["auth", "token"]
        return subprocess.CompletedProcess(argv, 0, stdout="gho_x\n", stderr="")

    assert discover_token({}, which=lambda _: "/usr/bin/gh", run=gh_run) == "gho_x"
    with pytest.raises(TokenNotFound, match="GITHUB_TOKEN.*gh auth login"):
        discover_token({}, which=lambda _: None)


async def test_client_is_constructible_with_the_documented_signature() -> None:
    client = GitHubClient("https://ghe.example/api/v3/", "t", min_write_interval=1.0, sleep=asyncio.sleep)
    assert client.url("/repos/o/r/issues") == "https://ghe.example/api/v3/repos/o/r/issues"
    await client.aclose()
