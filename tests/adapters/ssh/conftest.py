"""Real OpenSSH servers on 127.0.0.1 standing for remote hosts (see `sshd_server`).

Without root or sshd the tests that need a server are skipped, unless
`WATERSPIDER_REQUIRE_SSH=1` (CI) makes that a failure.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterator

import pytest

from sshd_server import SshServer, git, keygen, unavailable

REQUIRE_SSH = os.environ.get("WATERSPIDER_REQUIRE_SSH") == "1"
"""Read at import: the suite's autouse fixture clears WATERSPIDER_* variables before each test."""


@pytest.fixture(scope="session")
def sshd_available() -> None:
    """Skip a test that needs sshd where it cannot run; fail it instead under WATERSPIDER_REQUIRE_SSH=1."""
    reason = unavailable()
    if reason and REQUIRE_SSH:
        pytest.fail(f"WATERSPIDER_REQUIRE_SSH=1 but {reason}")
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def client_key(sshd_available: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return keygen(tmp_path_factory.mktemp("client") / "id_ed25519")


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    """A bare repository with one commit on main: what the hosts clone and fetch from."""
    work = tmp_path / "seed"
    work.mkdir()
    git("init", "-q", "-b", "main", cwd=work)
    (work / "README.md").write_text("hello\n")
    git("add", "README.md", cwd=work)
    git("commit", "-q", "-m", "first", cwd=work)
    bare = tmp_path / "origin.git"
    git("clone", "-q", "--bare", str(work), str(bare))
    return bare


@pytest.fixture
def make_server(tmp_path: Path, client_key: Path, origin: Path) -> Iterator[Callable[[str], SshServer]]:
    """Start sshd servers (each a host with its own home and clone); all are stopped after the test."""
    servers: list[SshServer] = []

    def make(name: str = "mini-1") -> SshServer:
        server = SshServer(root=tmp_path / f"host-{name}", client_key=client_key)
        server.make_clone(origin)
        server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
        server.kill_sessions()


@pytest.fixture
def server(make_server: Callable[[str], SshServer]) -> SshServer:
    return make_server("mini-1")
