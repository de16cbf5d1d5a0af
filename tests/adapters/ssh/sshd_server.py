"""A real OpenSSH server on 127.0.0.1 standing for a remote host, with its own home and clone.

`SshServer` runs Debian's `/usr/sbin/sshd -D` on a free port with a host key, an authorized
client key and a home folder (`SetEnv HOME`) made in tmp. The host logs in as the user running
the tests, so sshd needs root. Its port is outside the kernel's ephemeral range (`tests.ports`),
so nothing else takes it while a test has the host down, and it counts as started only once this
sshd itself listens there.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from waterspider_tui.adapters.executors.ssh_config import HostConfig

from tests.ports import reserve_port

SSHD = "/usr/sbin/sshd"
GIT_IDENTITY = "[user]\n\tname = waterspider host\n\temail = host@waterspider.invalid\n"


def unavailable() -> str:
    """Why sshd cannot run here, or ''."""
    if not os.path.exists(SSHD):
        return f"{SSHD} is missing (apt-get install openssh-server)"
    if os.geteuid() != 0:
        return "sshd on 127.0.0.1 needs root to log in"
    if shutil.which("ssh-keygen") is None:
        return "ssh-keygen is missing (apt-get install openssh-client)"
    return ""


class PortTaken(RuntimeError):
    """sshd could not bind its port: someone else listens there."""


def listening_socket_inodes(port: int) -> set[int]:
    """The inodes of the sockets listening on 127.0.0.1:`port` (from /proc/net/tcp)."""
    wanted = f"0100007F:{port:04X}"
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == wanted and fields[3] == "0A":  # 0A: LISTEN
            inodes.add(int(fields[9]))
    return inodes


def socket_inodes_of(pid: int) -> set[int]:
    inodes = set()
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:  # gone already
        return inodes
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def keygen(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@dataclass
class SshServer:
    """One sshd standing for one host, with its home, clone and the client's known_hosts."""

    root: Path
    client_key: Path
    port: int = field(default_factory=reserve_port)
    process: subprocess.Popen[bytes] | None = None
    max_sessions: int | None = None
    """sshd's MaxSessions (channels per connection); None keeps its default, 10."""
    started_once: bool = False
    """Once started, the port is the host's for good: the test's host configs name it."""

    def __post_init__(self) -> None:
        self.home = self.root / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / ".gitconfig").write_text(GIT_IDENTITY)
        self.host_key = keygen(self.root / "host_key")
        (self.root / "authorized_keys").write_text(Path(f"{self.client_key}.pub").read_text())
        self.known_hosts = self.root / "known_hosts"
        self.trust_host_key()
        self.log = self.root / "sshd.log"

    def trust_host_key(self) -> None:
        kind, key = Path(f"{self.host_key}.pub").read_text().split()[:2]
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {kind} {key}\n")

    def write_config(self) -> Path:
        config = self.root / "sshd_config"
        config.write_text("\n".join([
            f"Port {self.port}", "ListenAddress 127.0.0.1", f"HostKey {self.host_key}",
            f"AuthorizedKeysFile {self.root / 'authorized_keys'}", f"PidFile {self.root / 'sshd.pid'}",
            "StrictModes no", "UsePAM no", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
            "PubkeyAuthentication yes", "PermitRootLogin prohibit-password", f"SetEnv HOME={self.home}",
            "MaxStartups 50", "LogLevel INFO", *([f"MaxSessions {self.max_sessions}"] if self.max_sessions else []), "",
        ]))
        return config

    def start(self) -> None:
        for _ in range(5):
            try:
                self._start_listening()
            except PortTaken:
                if self.started_once:
                    raise
                self.port = reserve_port()  # nobody knows this port yet: take another
                self.trust_host_key()
                continue
            self.started_once = True
            return
        raise RuntimeError("sshd found its port taken five times")

    def _start_listening(self) -> None:
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # sshd's privilege separation folder
        logged_before = self.log.stat().st_size if self.log.exists() else 0
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(self.write_config())], stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                said = self.log.read_bytes()[logged_before:].decode(errors="replace")
                self.process = None
                if "Address already in use" in said:
                    raise PortTaken(f"port {self.port} is taken: {said[-500:]}")
                raise RuntimeError(f"sshd exited: {said[-2000:]}")
            # A connection that succeeds may reach someone else's listener; this sshd's own socket is proof.
            if listening_socket_inodes(self.port) & socket_inodes_of(self.process.pid):
                return
            time.sleep(0.02)
        raise RuntimeError(f"sshd did not listen on {self.port}: {self.log.read_text()[-2000:]}")

    def connection_processes(self) -> list[int]:
        """The per-connection sshd processes (children of the listener)."""
        if self.process is None:
            return []
        children = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                children.append(int(entry.name))
        return children

    def drop_connections(self) -> None:
        """Cut every client connection, as a network failure would; sessions on the host go on."""
        for pid in self.connection_processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def stop(self) -> None:
        self.drop_connections()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def kill_sessions(self) -> None:
        """End every session started on this host (a failed test may leave an agent waiting)."""
        for pid_file in self.home.glob(".waterspider/sessions/*/*/runner.pid"):
            try:
                os.killpg(int(pid_file.read_text().strip()), signal.SIGKILL)
            except (ValueError, ProcessLookupError, PermissionError):
                pass

    def restart(self) -> None:
        self.stop()
        self.start()

    def make_clone(self, origin: Path) -> Path:
        clone = self.home / "src" / "repo"
        git("clone", "-q", str(origin), str(clone))
        return clone

    def host(self, name: str = "mini-1", **overrides: object) -> HostConfig:
        values: dict[str, object] = {
            "name": name, "address": "127.0.0.1", "port": self.port, "user": "root", "identity_file": str(self.client_key),
            "use_agent": False, "known_hosts": str(self.known_hosts), "ssh_config": [str(self.root / "no_ssh_config")],
            "repo_path": str(self.home / "src" / "repo"), "sessions_dir": "~/.waterspider/sessions", "cache_dir": "~/.cache/waterspider",
            "slots": 2, "labels": ["linux"], "connect_timeout_s": 3.0, "command_timeout_s": 8.0,
        }
        values.update(overrides)
        (self.root / "no_ssh_config").touch()
        return HostConfig.model_validate(values)
