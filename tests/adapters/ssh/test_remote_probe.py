"""Host probes and host checks parsed from recorded outputs of macOS and Linux (no SSH server needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from waterspider_tui.adapters.executors.host_check import judge
from waterspider_tui.adapters.executors.remote_probe import disk_free_gb, mac_memory, parse_probe
from waterspider_tui.adapters.executors.ssh_config import HostConfig

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "hosts"
MAC_PROBE = (FIXTURES / "macos-apple-silicon.probe").read_text()
INTEL_MAC_PROBE = (FIXTURES / "macos-intel.probe").read_text()
LINUX_PROBE = (FIXTURES / "linux.probe").read_text()


def test_a_mac_probe_reads_sysctl_vm_stat_and_df() -> None:
    reading = parse_probe(MAC_PROBE)
    assert (reading.os, reading.load1, reading.cores) == ("Darwin", 2.39, 10)
    # App memory (anonymous less purgeable), wired and compressed, as Activity Monitor counts "Memory Used".
    assert reading.mem_percent == round(100 * (247311 - 630 + 159117 + 454496) * 16384 / 17179869184, 1) == 82.0
    assert reading.mem_pressure == "warning"
    assert reading.disk_free_gb == 148.2 and reading.sessions_running == 3


def test_an_apple_silicon_mac_counts_16384_byte_pages_and_an_intel_mac_4096() -> None:
    silicon = parse_probe(MAC_PROBE)
    assert "page size of 16384 bytes" in MAC_PROBE and silicon.mem_percent == 82.0
    four_k_pages = parse_probe(MAC_PROBE.replace("page size of 16384", "page size of 4096"))
    assert four_k_pages.mem_percent == round(100 * (247311 - 630 + 159117 + 454496) * 4096 / 17179869184, 1) == 20.5, "the page size is read, not assumed"
    intel = parse_probe(INTEL_MAC_PROBE)
    assert (intel.os, intel.load1, intel.cores, intel.mem_pressure) == ("Darwin", 4.12, 6, "normal")
    assert intel.mem_percent == round(100 * (1968242 - 40211 + 712004 + 310402) * 4096 / 17179869184, 1) == 70.3
    assert intel.disk_free_gb == 267.1 and intel.sessions_running == 1


def test_an_older_mac_without_anonymous_pages_counts_active_memory() -> None:
    vm_stat = "Mach Virtual Memory Statistics: (page size of 4096 bytes)\nPages active:  500000.\nPages wired down:  300000.\nPages occupied by compressor:  100000.\n"
    assert mac_memory(vm_stat, 16 * 1024**3) == round(100 * 900000 * 4096 / (16 * 1024**3), 1)
    assert mac_memory(vm_stat, None) is None


def test_a_linux_probe_reads_proc_and_df() -> None:
    reading = parse_probe(LINUX_PROBE)
    assert (reading.os, reading.load1, reading.cores) == ("Linux", 0.52, 8)
    assert reading.mem_percent == 39.4 and reading.mem_pressure == "warning"
    assert reading.disk_free_gb == 366.1 and reading.sessions_running == 0


def test_a_probe_cut_short_reports_what_it_has() -> None:
    reading = parse_probe("== os\nLinux\n== loadavg\n1.5 1.0 0.5 1/2 3\n")
    assert reading.load1 == 1.5 and reading.cores is None and reading.mem_percent is None and reading.disk_free_gb is None


@pytest.mark.parametrize(("df", "free"), [
    ("Filesystem 1024-blocks Used Available Capacity Mounted on\nmap auto_home 0 0 0 100% /System/Volumes/Data/home\n", 0.0),
    ("Filesystem     1K-blocks  Used Available Use% Mounted on\n/dev/mapper/a-very-long-volume-name\n  1048576 0 2097152   0% /data\n", 2.0),
    ("Filesystem 1024-blocks Used Available Capacity iused ifree %iused Mounted on\n/dev/disk1s1 976490576 10 1048576 1% 488 4882452 0% /\n", 1.0),
    ("", None),
])
def test_free_disk_is_the_column_before_the_capacity(df: str, free: float | None) -> None:
    assert disk_free_gb(df) == free


def _mac_host(**values: object) -> HostConfig:
    return HostConfig.model_validate({"name": "mini-1", "repo_path": "~/src/app", "agents": ["claude", "codex"], **values})


CHECK = """== os
Darwin
== git
git version 2.39.5 (Apple Git-154)
== python
3.9
== agent claude
2.0.14 (Claude Code)
== agent codex
codex-cli 0.46.0
== auth claude
keychain
== auth codex
no
== clone
bare false
remote origin
base ok main
== writable
yes
== df
Filesystem     1024-blocks      Used Available Capacity  Mounted on
/dev/disk3s5     482797652 478597652   3145728    99%    /System/Volumes/Data
"""


def test_hosts_check_reads_a_macs_answers_into_problems_and_fixes() -> None:
    check = judge(_mac_host(), CHECK, ["claude", "codex"])
    assert not check.ok
    assert check.facts == ("git 2.39.5", "claude 2.0.14", "codex 0.46.0", "3 GB free")
    assert any("codex is not logged in" in problem and "codex login" in problem for problem in check.problems)
    assert any("only 3.0 GB free" in problem for problem in check.problems)
    assert any("keychain" in warning and "CLAUDE_CODE_OAUTH_TOKEN" in warning for warning in check.warnings)
    fine = judge(_mac_host(env={"CLAUDE_CODE_OAUTH_TOKEN": "x", "OPENAI_API_KEY": "y"}), CHECK.replace("3145728", "104857600"), ["claude", "codex"])
    assert fine.ok and fine.line.startswith("mini-1: ok (git 2.39.5")


def test_a_token_the_orchestrator_forwards_to_agents_counts_as_the_hosts_login() -> None:
    roomy = CHECK.replace("3145728", "104857600").replace("== auth claude\nkeychain", "== auth claude\nnone")
    assert "claude has no login on the host" in "; ".join(judge(_mac_host(agents=["claude"]), roomy, ["claude"]).problems)
    forwarded = judge(_mac_host(agents=["claude"]), roomy, ["claude"], forwarded={"CLAUDE_CODE_OAUTH_TOKEN"})
    assert forwarded.ok and not forwarded.warnings


def test_a_mac_without_the_command_line_tools_is_told_to_install_them() -> None:
    check = judge(_mac_host(agents=[]), "== os\nDarwin\n== git\nmissing\n== python\nmissing\n== clone\nmissing\n== writable\nyes\n", [])
    assert check.problems[0] == "git not found: xcode-select --install"
    assert "xcode-select --install" in check.problems[1] and "no clone at ~/src/app" in check.problems[2]


def test_host_paths_must_be_absolute_or_in_the_home() -> None:
    with pytest.raises(ValidationError, match="repo_path"):
        HostConfig(name="mini-1", repo_path="src/app")
    host = HostConfig(name="mini-1", repo_path="~/src/app/", worktrees_dir=".trees")
    assert host.worktrees_path == "~/src/app/.trees" and host.ssh_address == "mini-1"
    with pytest.raises(ValidationError, match="extra"):
        HostConfig.model_validate({"name": "mini-1", "repo_path": "/src", "strict_host_key_checking": False})


def test_a_session_given_up_on_stops_itself_before_its_issue_is_placed_again() -> None:
    with pytest.raises(ValueError, match="orphan_stop_after_s .* must be shorter than lost_after_s"):
        HostConfig(name="mini-1", repo_path="~/src/app", lost_after_s=300, orphan_stop_after_s=600)
    assert HostConfig(name="mini-1", repo_path="~/src/app").orphan_stop_after_s < HostConfig(name="mini-1", repo_path="~/src/app").lost_after_s
