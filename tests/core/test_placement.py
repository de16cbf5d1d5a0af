"""The load balancer's rule: healthy, fitting, least loaded per core, deterministic, and why."""

from __future__ import annotations

from waterspider_tui.core.placement import HostCandidate, NoPlace, Placement, choose_host


def host(name: str, *, slots: int = 4, used: int = 0, load: float | None = None, cores: int | None = 4, **facts: object) -> HostCandidate:
    return HostCandidate(executor="ssh", host=name, slots=slots, used=used, load=load, cores=cores, **facts)  # type: ignore[arg-type]


def test_least_loaded_per_core_wins_and_says_why() -> None:
    chosen = choose_host([host("mini-1", used=4), host("mini-2", used=1, load=1.2), host("mini-3", load=3.6)], labels=(), agent="claude")
    assert isinstance(chosen, Placement) and chosen.host == "mini-2"
    assert chosen.reason.startswith("on mini-2: 1/4 slots, load 0.3/core") and "mini-1 full" in chosen.reason


def test_same_facts_same_host() -> None:
    hosts = [host("b"), host("a"), host("c")]
    picks = {choose_host(list(order), labels=(), agent="claude").host for order in (hosts, hosts[::-1], hosts[1:] + hosts[:1])}  # type: ignore[union-attr]
    assert picks == {"a"}


def test_pins_needs_agents_drains_and_dead_hosts() -> None:
    hosts = [host("mini-1", labels=("macos",)), host("box", labels=("linux", "gpu"), agents=("codex",)), host("mini-2", draining=True), host("mini-3", reachable=False)]
    assert choose_host(hosts, labels=("host:mini-1",), agent="claude").host == "mini-1"  # type: ignore[union-attr]
    refused = choose_host(hosts, labels=("needs:gpu",), agent="claude")
    assert isinstance(refused, NoPlace) and "box has no claude" in refused.reason
    assert choose_host(hosts, labels=("needs:gpu",), agent="codex").host == "box"  # type: ignore[union-attr]
    assert isinstance(choose_host(hosts, labels=("host:nowhere",), agent="claude"), NoPlace)
    only_bad = choose_host(hosts[2:], labels=(), agent="claude")
    assert isinstance(only_bad, NoPlace) and "mini-2 draining" in only_bad.reason and "mini-3 unreachable" in only_bad.reason


def test_a_host_not_checked_yet_takes_no_session_and_says_so() -> None:
    unchecked = choose_host([host("mini-1", reachable=False, checked=False)], labels=(), agent="claude")
    assert isinstance(unchecked, NoPlace) and unchecked.reason == "no host fits: mini-1 not checked yet"
    chosen = choose_host([host("mini-1", reachable=False, checked=False), host("mini-2")], labels=(), agent="claude")
    assert isinstance(chosen, Placement) and chosen.host == "mini-2"
