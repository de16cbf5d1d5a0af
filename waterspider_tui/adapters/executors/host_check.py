"""`waterspider hosts check`: connect to each SSH host and say, in one line, what is wrong and how to fix it."""

from __future__ import annotations

import asyncio
import re
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Collection, Sequence

from waterspider_tui.adapters.executors.base import ExecutorError
from waterspider_tui.adapters.executors.remote_probe import disk_free_gb, sections
from waterspider_tui.adapters.executors.ssh_connection import HostConnection, remote_path

if TYPE_CHECKING:
    from waterspider_tui.adapters.executors.ssh_config import HostConfig

MIN_FREE_GB = 5.0
AGENT_CLIS = {"claude": "claude", "codex": "codex"}
"""Agent kinds that need a CLI on the host, and its name; `command` and `simulated` need none."""
INSTALL_HINTS = {
    "claude": "npm install -g @anthropic-ai/claude-code",
    "codex": "npm install -g @openai/codex",
}
CLAUDE_AUTH_VARS = ("ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN")
TOKEN_HINT = "export CLAUDE_CODE_OAUTH_TOKEN where waterspider runs and add it to [agent] env_allow (or set it in the host's env)"

CHECKS = r"""
PATH=%(path)s:$PATH; export PATH
echo "== os"; uname -s
echo "== git"; git --version 2>&1 || echo missing
echo "== python"; %(python)s -c 'import sys; print("%%d.%%d" %% sys.version_info[:2])' 2>/dev/null || echo missing
for agent in %(agents)s; do
  echo "== agent $agent"
  if command -v "$agent" >/dev/null 2>&1; then "$agent" --version 2>&1 | head -n 1; else echo missing; fi
done
echo "== auth claude"
if [ -n "${ANTHROPIC_API_KEY:-}${CLAUDE_CODE_OAUTH_TOKEN:-}" ]; then echo env
elif [ -f "$HOME/.claude/.credentials.json" ]; then echo file
elif [ "$(uname -s)" = Darwin ] && security find-generic-password -s "Claude Code-credentials" >/dev/null 2>&1; then echo keychain
else echo none; fi
echo "== auth codex"
if command -v codex >/dev/null 2>&1; then codex login status >/dev/null 2>&1 && echo yes || echo no; else echo no; fi
echo "== clone"
if cd %(repo)s 2>/dev/null; then
  echo "bare $(git rev-parse --is-bare-repository 2>&1)"
  echo "remote $(git remote | head -n 1)"
  base=%(base)s; [ -n "$base" ] || base=$(git symbolic-ref --short -q HEAD)
  git rev-parse -q --verify "$base^{commit}" >/dev/null 2>&1 && echo "base ok $base" || echo "base missing $base"
else echo missing; fi
echo "== writable"
mkdir -p %(sessions)s 2>/dev/null && [ -w %(sessions)s ] && echo yes || echo no
d=%(worktrees)s; while [ ! -d "$d" ] && [ "$d" != / ]; do d=$(dirname "$d"); done
echo "== df"; df -kP "$d"
"""


@dataclass(frozen=True)
class HostCheck:
    """What `hosts check` found on one host."""

    name: str
    problems: tuple[str, ...] = ()
    """Each: what is wrong, then how to fix it. Sessions would fail there."""
    warnings: tuple[str, ...] = ()
    """Worth knowing, but sessions can run."""
    facts: tuple[str, ...] = ()
    """What was found (`git 2.43.0`, `claude 2.0.1`, `120 GB free`)."""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def line(self) -> str:
        if self.ok:
            notes = f"; {'; '.join(self.warnings)}" if self.warnings else ""
            return f"{self.name}: ok ({', '.join(self.facts)}){notes}"
        return f"{self.name}: " + "; ".join(self.problems + self.warnings)


def _script(host: HostConfig, agents: Sequence[str]) -> str:
    clis = [AGENT_CLIS[agent] for agent in agents if agent in AGENT_CLIS]
    return CHECKS % {
        "path": ":".join(remote_path(folder) for folder in host.path_prepend) or "/usr/bin",
        "python": remote_path(host.python), "agents": " ".join(shlex.quote(cli) for cli in clis),
        "repo": remote_path(host.repo_path), "base": shlex.quote(host.base_branch),
        "sessions": remote_path(host.sessions_dir), "worktrees": remote_path(host.worktrees_path),
    }


def judge(host: HostConfig, output: str, agents: Sequence[str], min_free_gb: float = MIN_FREE_GB, forwarded: Collection[str] = ()) -> HostCheck:
    """Turn the check script's output into problems, warnings and facts (pure, tested on samples).

    `forwarded`: variables the orchestrator gives every agent (`[agent] env_allow` that are set, and
    `[agent] env`); a credential among them counts as the agent's login on every host.
    """
    found = sections(output)
    given = set(host.env) | set(forwarded)
    problems: list[str] = []
    warnings: list[str] = []
    facts: list[str] = []
    mac = found.get("os") == "Darwin"
    git = found.get("git", "missing")
    if git.startswith("git version"):
        facts.append(f"git {git.split()[2]}")
    else:
        problems.append("git not found: " + ("xcode-select --install" if mac else "install git (apt-get install git)"))
    python = found.get("python", "missing")
    version = tuple(int(part) for part in python.split(".")[:2] if part.isdigit())
    if len(version) < 2 or version < (3, 9):
        problems.append(f"{host.python} (3.9 or newer) not found: it runs the session runner; " + ("xcode-select --install" if mac else "install python3") + ", or set python")
    for agent in agents:
        cli = AGENT_CLIS.get(agent)
        if cli is None:
            continue
        answer = found.get(f"agent {cli}", "missing")
        if answer == "missing" or not answer:
            problems.append(f"{cli} not found on the host's PATH: {INSTALL_HINTS[agent]}, or add its folder to path_prepend")
            continue
        version = re.search(r"\d+(?:\.\d+)+", answer)
        facts.append(f"{cli} {version.group(0) if version else answer.split()[0]}")
        if agent == "claude":
            auth = found.get("auth claude", "none")
            if auth == "none" and not given.intersection(CLAUDE_AUTH_VARS):
                problems.append(f"claude has no login on the host: run `claude setup-token` and {TOKEN_HINT}")
            elif auth == "keychain" and not given.intersection(CLAUDE_AUTH_VARS):
                warnings.append(f"claude's login is in the macOS keychain, which SSH sessions cannot read while it is locked: {TOKEN_HINT}")
        if agent == "codex" and found.get("auth codex") != "yes" and "OPENAI_API_KEY" not in given:
            problems.append("codex is not logged in on the host: run `codex login` there, or set OPENAI_API_KEY in the host's env")
    clone = dict(line.split(" ", 1) for line in found.get("clone", "").splitlines() if " " in line)
    if found.get("clone", "missing") == "missing":
        problems.append(f"no clone at {host.repo_path}: git clone the repository there, or set repo_path")
    elif clone.get("bare") != "false":
        problems.append(f"{host.repo_path} is not a git checkout: clone it without --bare")
    else:
        if clone.get("base", "").startswith("missing"):
            problems.append(f"base branch {host.base_branch or '(current)'} not found in {host.repo_path}: git fetch, or set base_branch")
        if not clone.get("remote", "").strip():
            warnings.append(f"{host.repo_path} has no remote: branches made there cannot be pushed")
    if found.get("writable") != "yes":
        problems.append(f"cannot write {host.sessions_dir}: create it, or set sessions_dir")
    free = disk_free_gb(found.get("df", ""))
    if free is not None:
        facts.append(f"{free:.0f} GB free")
        if free < min_free_gb:
            problems.append(f"only {free:.1f} GB free where worktrees live ({host.worktrees_path}): free some space")
    return HostCheck(name=host.name, problems=tuple(problems), warnings=tuple(warnings), facts=tuple(facts))


async def check_host(host: HostConfig, agents: Sequence[str] = (), min_free_gb: float = MIN_FREE_GB, forwarded: Collection[str] = ()) -> HostCheck:
    wanted = list(host.agents) or list(agents)
    connection = HostConnection(host)
    try:
        result = await connection.run(_script(host, wanted), timeout_s=max(host.command_timeout_s, 30.0))
    except ExecutorError as error:
        return HostCheck(name=host.name, problems=(str(error).removeprefix(f"{host.name}: "),))
    finally:
        await connection.close()
    return judge(host, result.text, wanted, min_free_gb, forwarded)


async def check_hosts(
    hosts: Sequence[HostConfig], agents: Sequence[str] = (), min_free_gb: float = MIN_FREE_GB, forwarded: Collection[str] = (),
) -> list[HostCheck]:
    """Every host at once, in the configured order; `agents` are checked where a host lists none."""
    return list(await asyncio.gather(*(check_host(host, agents, min_free_gb, forwarded) for host in hosts)))
