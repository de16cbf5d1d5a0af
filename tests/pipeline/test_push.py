"""Pushing the issue branch to a real bare remote on disk: once, again, after new commits, and what fails."""

from __future__ import annotations

import pytest

from tests.pipeline.worktree_session import World, git
from waterspider_tui.adapters.pipeline.push import PushBranch, PushOptions, compare_url


async def test_the_branch_lands_on_the_remote_and_pushing_again_changes_nothing(world: World) -> None:
    head = world.commit()
    step = PushBranch()
    first = await step.run(world.context())
    assert first.ok, first.summary
    assert git(world.remote, "rev-parse", world.session.branch) == head
    assert first.facts == {"pushed": head, "remote": "origin"}, "a remote on disk has no compare page"
    again = await step.run(world.context())
    assert again.ok and again.facts["pushed"] == head


async def test_a_retry_with_new_commits_pushes_them(world: World) -> None:
    world.commit()
    await PushBranch().run(world.context())
    newer = world.commit("second.txt")
    outcome = await PushBranch().run(world.context())
    assert outcome.ok and git(world.remote, "rev-parse", world.session.branch) == newer


async def test_a_rewritten_branch_needs_force(world: World) -> None:
    world.commit()
    await PushBranch().run(world.context())
    git(world.worktree, "commit", "-q", "--amend", "-m", "rewritten")
    refused = await PushBranch().run(world.context())
    assert not refused.ok and refused.error_class == "push_failed" and "failed" in refused.summary
    forced = await PushBranch(PushOptions(force=True)).run(world.context())
    assert forced.ok and git(world.remote, "log", "-1", "--format=%s", world.session.branch) == "rewritten"


async def test_a_missing_remote_fails_and_no_remote_keeps_the_branch(world: World) -> None:
    world.commit()
    missing = await PushBranch(PushOptions(remote="upstream")).run(world.context())
    assert not missing.ok and missing.error_class == "push_failed" and "no remote 'upstream'" in missing.summary
    kept = await PushBranch(PushOptions(remote="")).run(world.context())
    assert kept.ok and "kept" in kept.summary


@pytest.mark.parametrize("url", [
    "git@github.com:acme/widgets.git", "https://github.com/acme/widgets.git", "https://x-token@github.com/acme/widgets",
    "ssh://git@github.com/acme/widgets.git",
])
def test_the_compare_page_of_a_forge_remote(url: str) -> None:
    assert compare_url(url, "main", "feature/issue-3") == "https://github.com/acme/widgets/compare/main...feature/issue-3"


def test_a_remote_on_disk_has_no_compare_page() -> None:
    assert compare_url("/srv/git/widgets.git", "main", "b") == ""
    assert compare_url("file:///srv/git/widgets.git", "main", "b") == ""
