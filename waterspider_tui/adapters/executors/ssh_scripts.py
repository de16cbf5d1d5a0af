"""The sh scripts an SSH host runs for its sessions: prepare a worktree, install the runner, stop, git.

Each script is POSIX sh with the tools both Linux and macOS have (git, kill, ps, sleep), so one
text serves both; paths arrive quoted by `remote_path`. Reading output and watching liveness
is the pump's (`ssh_pump.py`), which answers without starting a process per question.
"""

from __future__ import annotations

import shlex
from typing import Mapping

from waterspider_tui.adapters.executors.ssh_connection import remote_path

PREPARE = r"""
set -u
repo=%(repo)s; base=%(base)s; exclude=%(exclude)s
%(git_env)s
refuse() { printf 'REFUSE %%s\n' "$*"; exit 3; }
one_line() { printf '%%s' "$1" | tr '\n' ' '; }
cd "$repo" 2>/dev/null || refuse "no clone at $repo: git clone the repository there, or set repo_path"
[ "$(git rev-parse --is-bare-repository 2>/dev/null)" = false ] || refuse "$repo is not a git checkout"
common=$(cd "$(git rev-parse --git-common-dir)" && pwd -P)
remote=$(git remote | grep -x origin || git remote | head -n 1)
if [ -n "$remote" ]; then
  out=$(git fetch --quiet "$remote" 2>&1) || printf 'WARN git fetch %%s failed: %%s\n' "$remote" "$(one_line "$out")"
fi
[ -n "$base" ] || base=$(git symbolic-ref --short -q HEAD) || base=$(git rev-parse HEAD)
baseref=$base
if [ -n "$remote" ] && git rev-parse -q --verify "refs/remotes/$remote/$base^{commit}" >/dev/null; then baseref=$remote/$base; fi
git rev-parse -q --verify "$baseref^{commit}" >/dev/null || refuse "base branch $base not found in $repo"
git worktree prune
if [ -n "$exclude" ]; then
  ignore=$(git rev-parse --git-path info/exclude)
  mkdir -p "$(dirname "$ignore")"
  grep -qxF "$exclude" "$ignore" 2>/dev/null || printf '%%s\n' "$exclude" >> "$ignore"
fi
# One worktree; a subshell, so that its refusal (exit) ends only this one. A stacked one's branch
# starts from $3 (a blocker's branch) and each (ref, message) pair after it is merged in, as the
# local executor stacks; a conflict is undone and told (CONFLICT, FILE, TOUCH lines), exit 4.
prepare_one() (
  wt=$1; branch=$2; start=${3:-}
  if [ $# -ge 3 ]; then shift 3; else shift $#; fi
  from=$baseref; [ -z "$start" ] || from=$start
  git rev-parse -q --verify "$from^{commit}" >/dev/null || refuse "blocker branch $from not found in $repo"
  printf 'PATH %%s\n' "$wt"
  [ -L "$wt" ] && refuse "$wt is a symbolic link: remove it (its target is left alone)"
  if [ -e "$wt" ]; then
    [ -d "$wt" ] && [ -e "$wt/.git" ] || refuse "$wt is in the way and is not a git worktree: move it away"
    top=$(cd "$wt" && git rev-parse --show-toplevel 2>/dev/null) || refuse "$wt is not a git worktree: move it away"
    [ "$(cd "$top" && pwd -P)" = "$(cd "$wt" && pwd -P)" ] || refuse "$wt is a folder inside $top, not a worktree: move it away"
    theirs=$(cd "$wt" && cd "$(git rev-parse --git-common-dir)" && pwd -P)
    [ "$theirs" = "$common" ] || refuse "$wt is a checkout of another repository ($theirs): move it away"
    admin=$(cd "$wt" && git rev-parse --absolute-git-dir)
    if [ -f "$admin/locked" ] && grep -q initializing "$admin/locked"; then
      refuse "$wt was left half made (locked: initializing): git -C $repo worktree remove --force $wt"
    fi
    head=$(cd "$wt" && git symbolic-ref -q HEAD) || head="a detached HEAD"
    [ "$head" = "refs/heads/$branch" ] || refuse "$wt is on $head, not $branch: switch it back or remove it"
    how=reused; made=no
  else
    mkdir -p "$(dirname "$wt")"
    how=created; made=no
    if git show-ref --verify -q "refs/heads/$branch"; then
      out=$(git worktree add -q "$wt" "$branch" 2>&1) || refuse "git worktree add $wt failed: $(one_line "$out")"
    else
      out=$(git worktree add -q --no-track -b "$branch" "$wt" "$from" 2>&1) || refuse "git worktree add $wt failed: $(one_line "$out")"
      made=yes
    fi
  fi
  git config user.name >/dev/null 2>&1 || export GIT_AUTHOR_NAME=waterspider GIT_COMMITTER_NAME=waterspider
  git config user.email >/dev/null 2>&1 || export GIT_AUTHOR_EMAIL=waterspider@localhost GIT_COMMITTER_EMAIL=waterspider@localhost
  before=$start
  while [ $# -ge 2 ]; do
    ref=$1; message=$2; shift 2
    git rev-parse -q --verify "$ref^{commit}" >/dev/null || refuse "blocker branch $ref not found in $repo"
    if ! git merge-base --is-ancestor "$ref" "refs/heads/$branch" 2>/dev/null; then
      if ! out=$(cd "$wt" && git merge -q --no-ff --no-edit -m "$message" "$ref" 2>&1); then
        files=$(cd "$wt" && git diff --name-only --diff-filter=U)
        (cd "$wt" && git merge --abort) >/dev/null 2>&1
        [ -n "$files" ] || refuse "merging $ref into $branch failed: $(one_line "$out")"
        printf 'CONFLICT %%s\n' "$ref"
        printf '%%s\n' "$files" | while IFS= read -r file; do
          printf 'FILE %%s\n' "$file"
          for earlier in $before; do
            git diff --quiet "$baseref...$earlier" -- "$file" 2>/dev/null || printf 'TOUCH %%s %%s\n' "$earlier" "$file"
          done
        done
        if [ "$made" = yes ]; then
          # Nothing but its blockers' work is on it: the next try starts clean.
          git worktree remove --force "$wt" >/dev/null 2>&1; git worktree prune; git branch -D "$branch" >/dev/null 2>&1
        fi
        exit 4
      fi
    fi
    before="$before $ref"
  done
  printf 'OK %%s %%s\n' "$how" "$from"
)
"""
"""Prepares the worktrees of one batch of sessions of a host: the clone checked and fetched once,
then each worktree in turn (`prepare_script` adds one `ITEM i` line and call per worktree)."""

INSTALL = r"""
set -e
dir=%(dir)s
if [ ! -f "$dir/ready" ]; then
  mkdir -p "$dir"
  tmp="$dir/upload.$$"
  cat > "$tmp"
  python=%(python)s
  "$python" -I -S -c 'import sys, json; files = json.load(open(sys.argv[1])); [open(sys.argv[2] + "/" + n, "w").write(t) for n, t in files.items()]' "$tmp" "$dir"
  rm -f "$tmp"
  : > "$dir/ready"
fi
printf '%%s\n' "$dir"
"""

STOP = r"""
d=%(dir)s; grace=%(grace_tenths)d
pid=$(cat "$d/runner.pid" 2>/dev/null)
case "$pid" in ''|*[!0-9]*) echo none; exit 0;; esac
if [ ! -f "$d/exit.json" ]; then
  if [ -r "/proc/$pid/cmdline" ]; then cmd=$(tr '\0' ' ' < "/proc/$pid/cmdline"); else cmd=$(ps -o command= -p "$pid" 2>/dev/null); fi
  case " $cmd " in *" $d "*) ;; *) echo gone; exit 0;; esac
fi
kill -TERM -"$pid" 2>/dev/null || { echo gone; exit 0; }
i=0
while [ "$i" -lt "$grace" ] && kill -0 -"$pid" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
kill -KILL -"$pid" 2>/dev/null
echo stopped
"""


GIT_ENV = 'export GIT_TERMINAL_PROMPT=0; [ -n "${GIT_SSH_COMMAND:-}" ] || export GIT_SSH_COMMAND="ssh -o BatchMode=yes"'
"""Git on a host never waits for a password or a host-key question nobody can answer."""


def prepare_script(repo: str, items: list[tuple[str, str]], base: str, exclude: str, stacks: Mapping[str, str] | None = None) -> str:
    """The batch script for `items` (worktree, branch); each item's lines follow its `ITEM i` line.
    `stacks`: by worktree, the arguments of a stacked one (`ssh_stacking.stack_arguments`)."""
    script = PREPARE % {
        "repo": remote_path(repo), "base": remote_path(base) if base else "''", "exclude": remote_path(exclude) if exclude else "''",
        "git_env": GIT_ENV,
    }
    stacks = stacks or {}
    calls = "".join(
        f"printf 'ITEM {index}\\n'; prepare_one {remote_path(worktree)} {shlex.quote(branch)} {stacks.get(worktree, '')}".rstrip() + "\n"
        for index, (worktree, branch) in enumerate(items)
    )
    return script + calls + "exit 0\n"


def git_script(worktree: str, repo: str, args: tuple[str, ...]) -> str:
    """git ARGS in the worktree (in the clone when the worktree is gone)."""
    quoted = " ".join(shlex.quote(arg) for arg in args)
    return f"{GIT_ENV}\ncd {remote_path(worktree)} 2>/dev/null || cd {remote_path(repo)} || exit 128\nexec git {quoted}\n"


def install_script(folder: str, python: str) -> str:
    return INSTALL % {"dir": remote_path(folder), "python": remote_path(python)}


def stop_script(session_dir: str, grace_s: float) -> str:
    return STOP % {"dir": remote_path(session_dir), "grace_tenths": max(0, round(grace_s * 10))}


RUN_COMMAND = r'''
import json, os, signal, subprocess, sys, time
spec = json.loads(sys.stdin.read())
env = {k: os.environ[k] for k in ("HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TMPDIR") if k in os.environ}
extra = [os.path.expanduser(entry) for entry in spec["path"].split(":") if entry]
env["PATH"] = os.pathsep.join(extra + [os.environ.get("PATH", "/usr/bin:/bin")])
env.update(spec["env"])
try:
    child = subprocess.Popen(spec["argv"], cwd=os.path.expanduser(spec["cwd"]), env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
except OSError as error:
    print(json.dumps({"returncode": 127, "timed_out": False, "output": f"{spec['argv'][0]}: {error}"})); sys.exit(0)
timed_out = False
try:
    output, _ = child.communicate(timeout=spec["timeout_s"])
except subprocess.TimeoutExpired:
    timed_out = True
    os.killpg(child.pid, signal.SIGKILL)
    output, _ = child.communicate()
try:
    os.killpg(child.pid, signal.SIGKILL)  # what the command left behind ends with it
except OSError:
    pass
tail = output[-spec["limit"]:].decode("utf-8", "replace")
print(json.dumps({"returncode": 124 if timed_out else child.returncode, "timed_out": timed_out, "output": tail}))
'''
"""A command in the worktree with its own process group, a timeout and only the tail of its output,
run by the host's Python (the runner needs it anyway; macOS has no `timeout` or `setsid`)."""


def run_command_script(python: str) -> str:
    return f"exec {remote_path(python)} -c {shlex.quote(RUN_COMMAND)}\n"
