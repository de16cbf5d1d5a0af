"""One `[[hosts]]` entry: how to reach an SSH host and where its clone, worktrees and sessions live."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class HostConfig(BaseModel):
    """A machine that runs sessions over SSH (a Mac mini, a Linux box).

    Paths on the host may start with `~/`; they are taken relative to the remote user's home.
    The connection settings left unset (address, port, user, identity) come from
    `~/.ssh/config` as `ssh` would take them, so a `Host mini-1` alias there is enough.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    """How the host is shown and pinned (`host:NAME`); also the SSH address when `address` is empty."""
    address: str = ""
    """Host name, IP address or `~/.ssh/config` alias; defaults to `name`."""
    port: int | None = Field(None, ge=1, le=65535)
    """SSH port; unset means `~/.ssh/config`'s, else 22."""
    user: str | None = None
    """Remote login; unset means `~/.ssh/config`'s, else the local user."""
    identity_file: str | None = None
    """A private key file; unset means ssh-agent and the default keys (`~/.ssh/id_*`, `IdentityFile`)."""
    use_agent: bool = True
    """Offer the keys in ssh-agent (`SSH_AUTH_SOCK`)."""
    known_hosts: str = "~/.ssh/known_hosts"
    """The known_hosts file the host key is checked against; a host missing there or with a changed key is refused."""
    ssh_config: list[str] = []
    """OpenSSH client config files to read; empty means `~/.ssh/config` when it exists."""
    slots: int = Field(2, ge=0, le=256)
    """Sessions at once on this host."""
    labels: list[str] = []
    """What the host offers (`macos`, `linux`, `gpu`, ...), matched against an issue's `needs:LABEL`."""
    agents: list[str] = []
    """Agent kinds installed there (`claude`, `codex`, `command`); empty means any."""
    repo_path: str
    """The host's clone of the repository (a checkout, not bare)."""
    worktrees_dir: str = ".worktrees"
    """Where issue worktrees go: relative to `repo_path`, or absolute."""
    sessions_dir: str = "~/.waterspider/sessions"
    """Where each session's folder (pid, heartbeat, exit and output files) goes."""
    cache_dir: str = "~/.cache/waterspider"
    """Where the session runner is copied, once per version."""
    base_branch: str = ""
    """The branch new issue branches start from (its remote-tracking copy when there is one); empty: the clone's current branch."""
    python: str = "python3"
    """The interpreter that runs the session runner (standard library only, Python 3.9 or newer)."""
    path_prepend: list[str] = ["~/.local/bin", "/opt/homebrew/bin", "/usr/local/bin"]
    """Folders put in front of the host's PATH for agents: a non-interactive SSH login has a short PATH."""
    env: dict[str, str] = {}
    """Variables set for agents on this host only (on top of the agent's allowlisted environment)."""
    niceness: int = Field(0, ge=0, le=19)
    """How much nicer than normal sessions run there (0: a host given over to agents needs none)."""
    connect_timeout_s: float = Field(8.0, gt=0)
    """Connecting and logging in must finish within this."""
    command_timeout_s: float = Field(20.0, gt=0)
    """A short remote command (read, state, probe) that takes longer marks the host down."""
    keepalive_interval_s: float = Field(10.0, gt=0)
    """SSH keepalives: a connection silent for `keepalive_interval_s * 3` is taken as lost."""
    max_channels: int = Field(8, ge=1, le=64)
    """Commands in flight on the one connection (sshd's `MaxSessions` defaults to 10)."""
    lost_after_s: float = Field(900.0, gt=0)
    """A host unreachable this long makes `wait` give up on its sessions (`host_down`): they are
    placed again elsewhere. Must be longer than `orphan_stop_after_s` (checked)."""
    orphan_stop_after_s: float = Field(600.0, gt=0)
    """A session whose orchestrator has not looked at it this long stops itself. Shorter than
    `lost_after_s`, so a session the orchestrator gave up on has stopped before its issue runs
    again elsewhere: two copies of an issue never overlap. An orchestrator stopped for longer
    than this finds its sessions on hosts stopped (and retried) instead of reattached."""

    @field_validator("labels", "agents")
    @classmethod
    def _no_blank(cls, values: list[str]) -> list[str]:
        return [value.strip() for value in values if value.strip()]

    @model_validator(mode="after")
    def _stops_before_requeue(self) -> HostConfig:
        if self.orphan_stop_after_s >= self.lost_after_s:
            raise ValueError(
                f"host {self.name}: orphan_stop_after_s ({self.orphan_stop_after_s:g}) must be shorter than lost_after_s "
                f"({self.lost_after_s:g}), or an issue could run on two hosts at once"
            )
        return self

    @model_validator(mode="after")
    def _relative_paths(self) -> HostConfig:
        for field_name in ("repo_path", "sessions_dir", "cache_dir"):
            value = getattr(self, field_name)
            if not (value.startswith("/") or value.startswith("~/") or value == "~"):
                raise ValueError(f"host {self.name}: {field_name} {value!r} must be absolute or start with ~/")
        return self

    @property
    def ssh_address(self) -> str:
        return self.address or self.name

    @property
    def worktrees_path(self) -> str:
        """The worktrees folder on the host (may start with `~/`)."""
        if self.worktrees_dir.startswith(("/", "~/")):
            return self.worktrees_dir.rstrip("/")
        return f"{self.repo_path.rstrip('/')}/{self.worktrees_dir.strip('/')}"

    def local_path(self, path: str) -> str:
        """A path on this machine (identity file, known_hosts), with `~` expanded."""
        return os.path.expanduser(path)

    def known_hosts_path(self) -> Path:
        return Path(self.local_path(self.known_hosts))
