"""Git worktrees per issue: `.worktrees/issue-N` on branch `feature/issue-N`, via GitPython."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import git


class WorkspaceError(RuntimeError):
    """The worktree or branch could not be prepared; the message says why."""


@dataclass(frozen=True)
class Workspace:
    path: Path
    branch: str
    base: str
    reused: bool


def branch_name(number: int, repo: str = "", multi_repo: bool = False) -> str:
    if multi_repo and repo:
        return f"feature/{repo.replace('/', '-')}-issue-{number}"
    return f"feature/issue-{number}"


def _head_ref(worktree: Path) -> str | None:
    """The worktree's HEAD as git stores it (`ref: refs/heads/...` or a commit), read from its files.

    Why not `git rev-parse`: a retry or a restart asks this of every worktree it reuses, and a git
    process costs tens of milliseconds on a machine busy with starting sessions. A linked
    worktree's `.git` is a file naming its admin folder, which holds its HEAD (gitrepository-layout).
    """
    dot_git = worktree / ".git"
    try:
        if dot_git.is_dir():
            return (dot_git / "HEAD").read_text().strip()
        pointer = dot_git.read_text().strip()
        if not pointer.startswith("gitdir: "):
            return None
        admin = Path(pointer[len("gitdir: "):])
        return ((admin if admin.is_absolute() else worktree / admin) / "HEAD").read_text().strip()
    except OSError:
        return None


class WorkspaceManager:
    """Creates, reuses and removes issue worktrees; never touches the operator's checkout.

    Everything goes through `git worktree` on the repository, so the operator's own
    working tree, index and current branch are left as they are.
    """

    def __init__(self, repo_path: Path | str, *, base_branch: str | None = None, worktrees_dir: str = ".worktrees", warm_pool: int = 0) -> None:
        try:
            self.repo = git.Repo(repo_path, search_parent_directories=False)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError) as error:
            raise WorkspaceError(f"{repo_path} is not a git repository: {error}") from error
        if self.repo.bare:
            raise WorkspaceError(f"{repo_path} is a bare repository; point waterspider at a checkout")
        self.root = Path(self.repo.working_tree_dir or repo_path).resolve()
        self.worktrees = self.root / worktrees_dir
        self.base_branch = base_branch or self._current_branch()
        self._lock = threading.Lock()
        """git's own ref and config locks make concurrent `worktree add` calls fail at random."""
        self.warm_pool = warm_pool
        """How many checked-out worktrees to keep ready, so a dispatch skips the slow checkout."""
        self.pool_dir = self.worktrees / ".pool"
        self._refill_lock = threading.Lock()

    def _current_branch(self) -> str:
        try:
            return self.repo.active_branch.name
        except TypeError:
            return self.repo.head.commit.hexsha

    def path_for(self, number: int, repo: str = "", multi_repo: bool = False) -> Path:
        name = f"{repo.replace('/', '-')}-issue-{number}" if multi_repo and repo else f"issue-{number}"
        return self.worktrees / name

    def prepare(self, number: int, repo: str = "", multi_repo: bool = False) -> Workspace:
        """The issue's worktree: reused as it was left, taken from the warm pool, or created.

        A worktree that already exists is returned without waiting for the lock, so a retry
        never queues behind another issue's slow checkout.
        """
        path = self.path_for(number, repo, multi_repo)
        branch = branch_name(number, repo, multi_repo)
        if (path / ".git").exists() and self._on_branch(path, branch):
            return Workspace(path, branch, self.base_branch, reused=True)
        with self._lock:
            if (path / ".git").exists():
                self._switch_to(path, branch)
                return Workspace(path, branch, self.base_branch, reused=True)
            self.ignore(self.worktrees)
            try:
                if not self._from_pool(path, branch):
                    self.repo.git.worktree("prune")
                    if branch in self.repo.heads:
                        self.repo.git.worktree("add", str(path), branch)
                    else:
                        self.repo.git.worktree("add", "-b", branch, str(path), self.base_branch)
            except git.GitCommandError as error:
                detail = (error.stderr or str(error)).strip().replace("\n", " ")
                raise WorkspaceError(f"git worktree add {path.name} on {branch} failed: {detail}") from error
        return Workspace(path, branch, self.base_branch, reused=False)

    @staticmethod
    def _on_branch(path: Path, branch: str) -> bool:
        head = _head_ref(path)
        if head is not None:
            return head == f"ref: refs/heads/{branch}"
        try:
            return git.Git(str(path)).rev_parse("--abbrev-ref", "HEAD").strip() == branch
        except git.GitCommandError:
            return False

    def _switch_to(self, path: Path, branch: str) -> None:
        """Put a worktree left off its branch (a stop between moving a pool worktree in and
        switching it) back on the branch, so the agent's commits land where they belong."""
        if self._on_branch(path, branch):
            return
        worktree = git.Git(str(path))
        try:
            if branch in self.repo.heads:
                worktree.checkout("-q", branch)
            else:
                worktree.checkout("-q", "-b", branch)
        except git.GitCommandError as error:
            detail = (error.stderr or str(error)).strip().replace("\n", " ")
            raise WorkspaceError(f"worktree {path.name} is not on {branch} and cannot be switched: {detail}") from error

    def _pool_slots(self) -> list[Path]:
        if not self.pool_dir.exists():
            return []
        return sorted(slot for slot in self.pool_dir.iterdir() if (slot / ".git").exists())

    def _from_pool(self, path: Path, branch: str) -> bool:
        """Move a prepared worktree into place and switch it to the branch (only changed files move)."""
        for slot in self._pool_slots():
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self.repo.git.worktree("move", str(slot), str(path))
            except git.GitCommandError:
                continue
            worktree = git.Git(str(path))
            if branch in self.repo.heads:
                worktree.checkout("-q", branch)
            elif (base := self._base_commit()) is not None and _head_ref(path) == base:
                # The slot already holds the base's files and index: the new branch only needs
                # HEAD pointed at it, which spares a checkout that reads the whole tree (~80 ms
                # for 10,000 files, under the lock every dispatch waits on).
                self.repo.git.branch(branch, base)
                worktree.symbolic_ref("HEAD", f"refs/heads/{branch}")
            else:
                worktree.checkout("-q", "-b", branch, self.base_branch)
            return True
        return False

    def _base_commit(self) -> str | None:
        try:
            return self.repo.commit(self.base_branch).hexsha
        except (ValueError, git.BadName):
            return None

    def refill(self) -> int:
        """Check out worktrees for the pool until it holds `warm_pool`; returns how many were made.

        Runs outside the dispatch lock (a detached `worktree add` touches no branch), one
        refill at a time, so dispatch never waits for it.
        """
        made = 0
        with self._refill_lock:
            while len(self._pool_slots()) < self.warm_pool:
                slot = self.pool_dir / f"slot-{uuid.uuid4().hex[:8]}"
                self.pool_dir.mkdir(parents=True, exist_ok=True)
                self.ignore(self.worktrees)
                try:
                    self.repo.git.worktree("add", "--detach", str(slot), self.base_branch)
                except git.GitCommandError:
                    return made
                made += 1
        return made

    def drain_pool(self) -> None:
        """Remove the prepared worktrees (clean-up)."""
        with self._refill_lock, self._lock:
            for slot in self._pool_slots():
                self.repo.git.worktree("remove", "--force", str(slot))
            self.repo.git.worktree("prune")

    def ignore(self, folder: Path) -> None:
        """Keep a folder of ours (worktrees, state) out of the operator's `git status`.

        It goes in `.git/info/exclude`, so no tracked file of the operator's is edited.
        """
        exclude = Path(self.repo.git_dir) / "info" / "exclude"
        try:
            entry = f"/{folder.resolve().relative_to(self.root)}/"
        except ValueError:
            return
        try:
            text = exclude.read_text() if exclude.exists() else ""
            if entry not in text.splitlines():
                exclude.parent.mkdir(parents=True, exist_ok=True)
                exclude.write_text(text + ("" if text.endswith("\n") or not text else "\n") + entry + "\n")
        except (OSError, ValueError):
            pass

    def commits_since_base(self, branch: str) -> tuple[int, int]:
        """Commits on the branch beyond the base, and files they changed."""
        try:
            count = int(self.repo.git.rev_list("--count", f"{self.base_branch}..{branch}"))
            names = self.repo.git.diff("--name-only", f"{self.base_branch}...{branch}")
        except git.GitCommandError:
            return 0, 0
        return count, len([line for line in names.splitlines() if line.strip()])

    def remove(self, number: int, repo: str = "", multi_repo: bool = False, *, delete_branch: bool = False) -> bool:
        """Remove the issue's worktree (and its branch if asked); True if something was removed."""
        path = self.path_for(number, repo, multi_repo)
        removed = False
        with self._lock:
            if path.exists():
                self.repo.git.worktree("remove", "--force", str(path))
                removed = True
            self.repo.git.worktree("prune")
            branch = branch_name(number, repo, multi_repo)
            if delete_branch and branch in self.repo.heads:
                self.repo.git.branch("-D", branch)
                removed = True
        return removed

    def existing(self) -> list[Path]:
        if not self.worktrees.exists():
            return []
        return sorted(path for path in self.worktrees.iterdir() if (path / ".git").exists())
