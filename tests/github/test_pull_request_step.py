"""The pull-request step against the loopback GitHub, with branches pushed to a real bare remote."""

from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator, Callable

import pytest

from tests.pipeline.worktree_session import World, make_world
from waterspider_tui.adapters.github.client import GitHubClient
from waterspider_tui.adapters.github.pull_requests import PullRequests
from waterspider_tui.adapters.pipeline.pull_request import OpenPullRequest, PullRequestOptions
from waterspider_tui.adapters.pipeline.push import PushBranch

from .fake_github import FakeGitHub
from .fake_github_pulls import add_pull, open_pulls


@pytest.fixture
async def world(tmp_path: Path, github: FakeGitHub) -> AsyncIterator[World]:
    github.add_repo("octo/app", collaborators={"reviewer": "write"})
    made = await make_world(tmp_path, number=7, repo_name="octo/app", title="Greet the user")
    yield made
    await made.executor.close()


def _step(make_client: Callable[..., GitHubClient], **options: object) -> OpenPullRequest:
    return OpenPullRequest(make_client(), PullRequestOptions.model_validate(options))


async def _pushed(world: World) -> None:
    assert (await PushBranch().run(world.context())).ok


async def test_a_pull_request_is_opened_once_and_updated_by_the_retry(world: World, github: FakeGitHub, make_client: Callable[..., GitHubClient]) -> None:
    world.commit()
    await _pushed(world)
    step = _step(make_client, draft=True, labels=["agent"], reviewers=["reviewer"])
    gate_facts = {"gate": "passed", "gate_checks": "commits ok (1 commit); tests ok (2.0s)"}
    first = await step.run(world.context(facts=gate_facts))
    assert first.ok and first.facts["pr"] == "opened", first.summary
    [(issue, pull)] = open_pulls(github, "octo/app")
    assert issue.title == "Greet the user" and pull.head == world.session.branch and pull.base == "main" and pull.draft
    assert issue.body.startswith("Closes #7") and "Added the greeting." in issue.body
    assert "- [x] Write the greeting" in issue.body and "- [ ] Document it" in issue.body
    assert "| Cost | $0.25 |" in issue.body and "tests ok (2.0s)" in issue.body
    assert issue.labels == ["agent"] and pull.requested_reviewers == ["reviewer"]
    assert first.facts["pr_url"] == f"https://github.com/octo/app/pull/{issue.number}"

    world.next_attempt()
    world.commit("more.txt")
    await _pushed(world)
    second = await step.run(world.context())
    assert second.ok and second.facts == {"pr_number": issue.number, "pr_url": first.facts["pr_url"], "pr_repo": "octo/app", "pr": "updated"}
    assert len(open_pulls(github, "octo/app")) == 1
    assert "| Attempt | 2 |" in github.issue("octo/app", issue.number).body
    assert github.count("POST", r"/pulls$") == 1 and github.count("PATCH", r"/pulls/\d+$") == 1
    assert github.count("POST", r"requested_reviewers") == 1, "a reviewer already asked is not asked again"


async def test_a_pull_request_opened_just_before_a_crash_is_found_and_not_duplicated(world: World, github: FakeGitHub, make_client: Callable[..., GitHubClient]) -> None:
    world.commit()
    await _pushed(world)
    earlier = add_pull(github, "octo/app", world.session.branch, title="Greet the user", body="Closes #7")
    outcome = await _step(make_client).run(world.context())
    assert outcome.ok and outcome.facts["pr"] == "updated" and outcome.facts["pr_number"] == earlier.number
    assert github.count("POST", r"/pulls$") == 0 and len(open_pulls(github, "octo/app")) == 1


async def test_losing_the_race_to_open_it_updates_the_one_that_won(world: World, github: FakeGitHub, make_client: Callable[..., GitHubClient], monkeypatch: pytest.MonkeyPatch) -> None:
    world.commit()
    await _pushed(world)
    winner = add_pull(github, "octo/app", world.session.branch)
    real_find = PullRequests.find_open
    calls: list[int] = []

    async def blind_once(self: PullRequests, repo: str, branch: str) -> object:
        calls.append(1)
        return None if len(calls) == 1 else await real_find(self, repo, branch)

    monkeypatch.setattr(PullRequests, "find_open", blind_once)
    outcome = await _step(make_client).run(world.context())
    assert outcome.ok and outcome.facts["pr_number"] == winner.number
    assert github.count("POST", r"/pulls$", status=422) == 1 and len(open_pulls(github, "octo/app")) == 1


async def test_a_reviewer_github_refuses_is_a_note_not_a_failure(world: World, github: FakeGitHub, make_client: Callable[..., GitHubClient]) -> None:
    world.commit()
    await _pushed(world)
    outcome = await _step(make_client, reviewers=["stranger"]).run(world.context())
    assert outcome.ok and "reviewers not requested" in outcome.summary


async def test_without_a_github_repository_the_step_fails_with_what_to_set(tmp_path: Path, make_client: Callable[..., GitHubClient]) -> None:
    local = await make_world(tmp_path)
    try:
        local.commit()
        outcome = await _step(make_client).run(local.context())
        assert not outcome.ok and outcome.error_class == "pr_failed" and "[pipeline.pull_request] repo" in outcome.summary
    finally:
        await local.executor.close()


async def test_a_branch_without_commits_opens_nothing(world: World, github: FakeGitHub, make_client: Callable[..., GitHubClient]) -> None:
    outcome = await _step(make_client).run(world.context())
    assert outcome.ok and "no pull request" in outcome.summary and github.count("POST") == 0
