"""Settings: one `waterspider.toml`, overridable by `WATERSPIDER_SECTION__FIELD` and CLI flags."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, SettingsError, TomlConfigSettingsSource,
)

from waterspider_tui.adapters.executors.ssh_config import HostConfig
from waterspider_tui.config_errors import explain
from waterspider_tui.config_strict import loose_number, unknown_env_section
from waterspider_tui.core.priority import DEFAULT_LABEL_WEIGHTS, PriorityConfig
from waterspider_tui.core.scheduler import SchedulerConfig


class _Section(BaseModel):
    """A table of the file: an unknown key is an error, so a typo is not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class IssuesSection(_Section):
    dir: Path | None = None
    """A folder of Markdown issues (the embedded source); used when no GitHub repo is set."""
    repo_name: str = "local"
    """The name local issues are known by (`local#12`)."""
    poll_interval_s: float = Field(5.0, gt=0)
    """How often the folder is read again."""


class GitHubSection(_Section):
    repos: list[str] = []
    """`owner/name` repositories polled for labeled issues."""
    api_url: str = "https://api.github.com"
    """The REST API root; for GitHub Enterprise Server `https://HOST/api/v3`."""
    trigger_label: str = "trigger:agent-execute"
    poll_interval_s: float = Field(10.0, gt=0)
    operators: list[str] = []
    """Logins @mentioned when a session fails; the issue's assignees when empty."""
    trusted_logins: list[str] = []
    """Logins whose labels and edits are trusted without a permission check."""
    include_sub_issues: bool = True
    """A parent issue waits for its sub-issues."""
    comment_interval_s: float = Field(20.0, ge=0)
    min_write_interval_s: float = Field(1.0, ge=0)
    labels: dict[str, str] = {"queued": "agent:queued", "running": "agent:running", "done": "agent:done", "failed": "agent:failed"}

    @field_validator("repos")
    @classmethod
    def _repo_names(cls, repos: list[str]) -> list[str]:
        for repo in repos:
            if repo.count("/") != 1 or not all(repo.split("/")):
                raise ValueError(f"repository {repo!r} is not owner/name")
        return repos


class SchedulerSection(_Section):
    capacity: int = Field(5, ge=1, le=1000)
    """Sessions running at once."""
    weight_label: float = Field(0.5, ge=0)
    weight_time: float = Field(0.2, ge=0)
    weight_deps: float = Field(0.2, ge=0)
    weight_age: float = Field(0.1, ge=0)
    label_weights: dict[str, float] = dict(DEFAULT_LABEL_WEIGHTS)
    """Weight per priority level (`P0`..`P9`)."""
    default_label_weight: float = Field(0.25, ge=0)
    default_estimate_min: float = Field(60.0, gt=0)
    critical_share: float = Field(0.5, ge=0, le=1)
    """A ready issue is a long pole (it starts soon) once its chain is this share of what is left of the run (0: off)."""
    pole_margin: float = Field(1.15, ge=1, le=10)
    """A long pole's own estimate counts at least this many times (estimates run over)."""
    pole_margin_max: float = Field(1.65, ge=1, le=10)
    """And at most this many times, when finished sessions show estimates missing by far."""
    learn_pole_margin: bool = True
    """Count a long pole's estimate by how far estimates missed (between the two above), not always `pole_margin` times."""
    pole_margin_samples: int = Field(20, ge=1)
    """Sessions (finished, or running past their estimate) it takes before that margin moves."""
    pole_hold_share: float = Field(0.8, ge=0, le=1)
    """P0 work goes before a long pole until the pole's chain is this share of what is left of the run."""
    other_share: float = Field(0.125, ge=0, le=1)
    """While P0 work waits, other ready work keeps this share of the slots (at least one from two on; 0: off)."""
    inherit_share: float = Field(0.7, ge=0, le=1)
    """An issue that a higher-priority issue waits on counts at this share of its weight."""
    first_level: str = "P0"
    """Issues of this level and what they wait on go ahead of other work, the soonest done first ('' turns it off)."""
    longest_first_level: str = "P3"
    """Issues of this level go longest first, so that the run ends on short ones ('' turns it off)."""
    ordering: Literal["ours", "seed", "priority", "fifo", "critical-path"] = "ours"
    """How ready issues are ordered; the others are there to compare (`waterspider simulate`)."""
    learn_estimates: bool = True
    """Correct estimates by how long finished issues took against theirs (per level and size)."""

    @field_validator("pole_margin_max")
    @classmethod
    def _margin_range(cls, ceiling: float, info: ValidationInfo) -> float:
        floor = info.data.get("pole_margin", 1.0)
        if ceiling < floor:
            raise ValueError(f"must be at least pole_margin ({floor:g})")
        return ceiling

    def to_core(self) -> SchedulerConfig:
        return SchedulerConfig(
            capacity=self.capacity,
            critical_share=self.critical_share,
            pole_margin=self.pole_margin,
            pole_margin_max=self.pole_margin_max,
            learn_pole_margin=self.learn_pole_margin,
            pole_margin_samples=self.pole_margin_samples,
            pole_hold_share=self.pole_hold_share,
            other_share=self.other_share,
            ordering=self.ordering,
            learn_estimates=self.learn_estimates,
            priority=PriorityConfig(
                weight_label=self.weight_label, weight_time=self.weight_time,
                weight_deps=self.weight_deps, weight_age=self.weight_age,
                label_weights=dict(self.label_weights), default_label_weight=self.default_label_weight,
                default_estimate_min=self.default_estimate_min, inherit_share=self.inherit_share,
                first_level=self.first_level, longest_first_level=self.longest_first_level,
            ),
        )


class AgentSection(_Section):
    kind: Literal["claude", "codex", "command", "simulated"] = "claude"
    options: dict[str, Any] = {}
    """Options of the agent kind (model, max_turns, argv for `command`, duration_s for `simulated`...)."""
    env_allow: list[str] = []
    """Extra variable names passed through from the orchestrator's environment."""
    env: dict[str, str] = {}
    """Variables set for the agent on purpose."""


class SessionsSection(_Section):
    stall_timeout_s: float = Field(600.0, gt=0)
    """A session with no output for this long is stopped as stalled."""
    start_timeout_s: float = Field(600.0, gt=0)
    """One step of a start (its worktree, the agent's launch, its process) taking longer is given up
    on: the attempt ends crashed, uncharged (its agent never ran), and is tried again."""
    timeout_s: float = Field(3 * 3600.0, gt=0)
    """Wall-clock limit of one session."""
    grace_s: float = Field(10.0, ge=0)
    """Between SIGTERM and SIGKILL."""
    max_attempts: int = Field(3, ge=1)
    retry_backoff_s: float = Field(30.0, ge=0)
    per_issue_budget_usd: float | None = Field(None, gt=0)
    daily_budget_usd: float | None = Field(None, gt=0)
    on_exit: Literal["leave", "stop"] = "leave"
    """On Ctrl-C or SIGTERM: leave sessions running to reattach, or stop them."""
    on_issue_gone: Literal["finish", "stop"] = "finish"
    """When a running issue is closed or unlabeled: let it finish, or stop it."""
    niceness: int = Field(15, ge=0, le=19)
    """How much nicer than the orchestrator local sessions run (0: the same). Agents are batch
    work; this keeps dispatch, stream reading and the screen quick when many start at once."""
    launcher: Literal["direct", "runner"] = "direct"
    """How a local session starts: `direct`, the agent under a small shell wrapper (one
    interpreter per session); `runner`, under the Python runner, which also ends what an agent
    started in a session of its own (`setsid`) and left running after it exited (Linux)."""


class WorkspaceSection(_Section):
    repo_path: Path = Path(".")
    base_branch: str | None = None
    """Branch the issue branches start from; the repository's current branch when unset."""
    worktrees_dir: str = ".worktrees"
    warm_pool: int = Field(2, ge=0, le=64)
    """Worktrees kept checked out and ready, so starting a session skips the slow checkout."""
    local_slots: int | None = Field(None, ge=0, le=1000)
    """Sessions on this machine; default: the capacity without [[hosts]], none with them."""


class PipelineSection(_Section):
    """`[pipeline]`: the steps after the agent, in order, and each step's own table."""

    steps: list[str] = ["commits"]
    """Any of `commits`, `gate`, `push`, `pull_request`, in the order they run."""
    dependants_wait_for: Literal["merged", "gate_passed"] | None = None
    """When an issue that depends on another may start: `merged` once the other's pull request is
    merged, `gate_passed` as soon as its gate passed, stacked on its branch. Unset: `merged` when
    `pull_request` is a step, else `gate_passed`."""
    gate: dict[str, Any] = {}
    """`[pipeline.gate]`: commands (name, run, timeout_s), require_commit, max_diff_lines,
    max_files_changed, protected_paths, max_rounds, output_tail_chars, env, enabled."""
    push: dict[str, Any] = {}
    """`[pipeline.push]`: remote (empty keeps the branch), force, timeout_s."""
    pull_request: dict[str, Any] = {}
    """`[pipeline.pull_request]`: repo, draft, title, labels, reviewers, team_reviewers."""

    def waits_for(self) -> Literal["merged", "gate_passed"]:
        """`dependants_wait_for`, or what it means when unset."""
        if self.dependants_wait_for is not None:
            return self.dependants_wait_for
        return "merged" if "pull_request" in self.steps else "gate_passed"

    def step_options(self) -> dict[str, dict[str, Any]]:
        """Each step's options by its name, as the pipeline registry takes them (it validates them)."""
        return {"gate": dict(self.gate), "push": dict(self.push), "pull_request": dict(self.pull_request)}


NoticeKindName = Literal["failed", "operator", "milestone", "paused", "host_down", "idle", "digest"]
ALL_NOTICE_KINDS: list[NoticeKindName] = ["failed", "operator", "milestone", "paused", "host_down", "idle", "digest"]


class WebhookChannelSection(_Section):
    """A webhook channel. Its URL is a secret: it comes from `webhook_url_env` or `webhook_url_file`, never from this file."""

    enabled: bool = True
    """The channel is on when this is true and its webhook URL is found."""
    webhook_url_env: str = ""
    """The environment variable holding the webhook URL."""
    webhook_url_file: Path | None = None
    """A file holding the webhook URL (a mounted secret), read when the variable is not set."""
    events: list[NoticeKindName] = list(ALL_NOTICE_KINDS)
    """Which notices go to this channel: failed, operator, milestone, paused, host_down, idle, digest."""
    mention: list[str] = []
    """Mentions added when someone must act, in the service's own syntax (`<@U024BE7LH>`, `<!here>`, `<@&1234>`)."""


class SlackNotifySection(WebhookChannelSection):
    webhook_url_env: str = "WATERSPIDER_SLACK_WEBHOOK_URL"


class DiscordNotifySection(WebhookChannelSection):
    webhook_url_env: str = "WATERSPIDER_DISCORD_WEBHOOK_URL"
    username: str = "waterspider"
    """The name the messages are posted under."""


class TerminalNotifySection(_Section):
    enabled: bool = False
    """A bell and a desktop notification on the orchestrator's terminal."""
    bell: bool = True
    desktop: Literal["osc9", "osc777", "off"] = "osc9"
    """The escape sequence for a desktop notification (OSC 9: iTerm2, Windows Terminal, WezTerm; OSC 777: foot, urxvt, Ghostty)."""
    events: list[NoticeKindName] = ["failed", "operator", "milestone", "paused", "host_down", "idle"]


class NotifySection(_Section):
    """`[notify]`: messages about the run, batched, to Slack, Discord and the terminal."""

    gather_s: float = Field(5.0, ge=0)
    """The first notice after a quiet spell waits this long, so a burst travels in one message."""
    min_interval_s: float = Field(60.0, ge=0)
    """At most one message per channel this often; what comes meanwhile waits for the next."""
    stale_after_s: float = Field(6 * 3600.0, gt=0)
    """Notices older than this are not sent (a new channel on an old store does not tell its history)."""
    digest_at_utc: str = "08:00"
    """When the daily digest goes out (HH:MM, UTC); empty for none."""
    max_lines: int = Field(15, ge=1, le=40)
    """Notices listed per kind in one message; the rest are counted."""
    slack: SlackNotifySection = SlackNotifySection()
    discord: DiscordNotifySection = DiscordNotifySection()
    terminal: TerminalNotifySection = TerminalNotifySection()

    @field_validator("digest_at_utc")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        hours, _, minutes = value.strip().partition(":")
        if value.strip() and not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
            raise ValueError(f"{value!r} is not a time of day as HH:MM")
        return value.strip()


class MilestonesSection(_Section):
    """`[milestones]`: when every issue of a milestone is done, merge their branches into one and publish it."""

    enabled: bool = False
    done_when: Literal["succeeded", "closed"] = "succeeded"
    """An issue counts as done when its session succeeded here (gate passed), or when it is closed upstream (PR merged)."""
    branch_prefix: str = "integration/"
    """The integration branch is this followed by the milestone's name."""
    base_branch: str | None = None
    """The branch to integrate onto; `[workspace] base_branch` when unset."""
    remote: str = ""
    """Fetch the issue branches from this remote and push the integration branch to it; empty: local branches only."""
    gate: bool = True
    """Run the `[pipeline.gate]` commands on the integrated branch before publishing it."""
    publish: Literal["pull_request", "milestone", "none"] = "pull_request"
    """One pull request listing every issue, or the list in the GitHub milestone's description, or nothing."""
    draft: bool = False
    """Open the milestone pull request as a draft."""
    labels: list[str] = []
    """Labels put on the milestone pull request."""
    close_when_merged: bool = False
    """Close the GitHub milestone once its integration pull request is merged (checked at the [github] poll pace)."""
    on_conflict: Literal["report", "requeue_rebased"] = "report"
    """On a conflict: only report it, or also requeue the later issue on top of the integration branch with the
    conflict in its prompt (the agent resolves it; nothing is resolved silently)."""


class ReportSection(_Section):
    """`[report]`: the results report a run writes when it ends (`--report FILE` overrides `out`)."""

    out: Path | None = None
    """Where to write it; the format follows the suffix (`.html`, `.json`, `.md`). Unset: no file."""


class StoreSection(_Section):
    path: Path | None = None
    """SQLite file; `.waterspider/state.db` in the repository by default."""


class UISection(_Section):
    theme: str = "waterspider-dark"
    theme_dir: Path | None = None
    keymap: dict[str, str] = {}
    """Binding id (the help screen's last column) -> keys, e.g. `{ pause_dispatcher = "P" }`; checked before a run starts."""


class ActionsSection(_Section):
    """`[actions]`: sessions as GitHub Actions runs on self-hosted runners (one workflow_dispatch run each)."""

    enabled: bool = False
    repo: str = ""
    """`owner/name` holding the workflow; its runs use the [github] token."""
    workflow: str = "agent-execute.yml"
    """The workflow's file name (or id) under `.github/workflows/`."""
    ref: str = "main"
    """The branch the workflow is dispatched on (and the issue branches start from)."""
    slots: int = Field(5, ge=0)
    """Runs in flight at once through this executor."""
    runner_labels: list[str] = ["self-hosted"]
    """The labels of the workflow's `runs-on`; the runners probed for the Hosts panel are those with all of them."""
    queued_deadline_s: float = Field(900.0, gt=0)
    """A run still queued this long (no runner online) is cancelled and the session fails as host_down."""
    poll_interval_s: float = Field(15.0, gt=0)
    """How often a run is asked about (conditional GETs: unchanged answers are free)."""
    live_log: bool = True
    """Follow a running job's log for the agent's output, at the same pace (github.com serves it while
    the job runs). Off: the output arrives with the `stream` artifact at the end, and no stall is judged."""

    @field_validator("repo")
    @classmethod
    def _repo_name(cls, repo: str) -> str:
        if repo and (repo.count("/") != 1 or not all(repo.split("/"))):
            raise ValueError(f"repository {repo!r} is not owner/name")
        return repo


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WATERSPIDER_", env_nested_delimiter="__", extra="forbid")

    issues: IssuesSection = IssuesSection()
    github: GitHubSection = GitHubSection()
    scheduler: SchedulerSection = SchedulerSection()
    agent: AgentSection = AgentSection()
    sessions: SessionsSection = SessionsSection()
    workspace: WorkspaceSection = WorkspaceSection()
    store: StoreSection = StoreSection()
    pipeline: PipelineSection = PipelineSection()
    report: ReportSection = ReportSection()
    notify: NotifySection = NotifySection()
    milestones: MilestonesSection = MilestonesSection()
    ui: UISection = UISection()
    actions: ActionsSection = ActionsSection()
    hosts: list[HostConfig] = []
    """`[[hosts]]`: machines that run sessions over SSH (name, address, user, slots, labels, ...)."""

    _toml_file: Path | None = None

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if _CONFIG_FILE[0] is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=_CONFIG_FILE[0]))
        return tuple(sources)

    def store_path(self) -> Path:
        return self.store.path or (self.workspace.repo_path / ".waterspider" / "state.db")


_CONFIG_FILE: list[Path | None] = [None]


class ConfigError(ValueError):
    """A bad config file or value, phrased in one line."""


def load_settings(config_file: Path | None, overrides: dict[str, Any] | None = None) -> Settings:
    """Settings from init overrides, then env, then the TOML file (`waterspider.toml` if present)."""
    if config_file is None and Path("waterspider.toml").is_file():
        config_file = Path("waterspider.toml")
    if config_file is not None and not config_file.is_file():
        raise ConfigError(f"config file {config_file} does not exist")
    _CONFIG_FILE[0] = config_file
    try:
        _check_strictly(config_file)
        settings = Settings(**(overrides or {}))
        _check_step_options(settings.pipeline, config_file)
        return settings
    except ConfigError:
        raise
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"bad setting {where}{_origin(first['loc'], config_file)}: {explain(first, Settings)}") from error
    except SettingsError as error:  # an environment value that is not JSON where a list or table is expected
        raise ConfigError(f"bad setting: {error}") from error
    except Exception as error:  # a TOML syntax error arrives as the parser's own exception
        raise ConfigError(f"cannot read {config_file}: {error}") from error
    finally:
        _CONFIG_FILE[0] = None


def _check_strictly(config_file: Path | None) -> None:
    """Refuse what pydantic would let through: a misspelled section in the environment, and a
    boolean or quoted string in the file where a number belongs (`capacity = true`)."""
    import tomllib

    problem = unknown_env_section(os.environ, list(Settings.model_fields))
    if problem:
        raise ConfigError(f"bad setting: {problem}")
    if config_file is None:
        return
    try:
        data = tomllib.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return  # reading it again below reports the problem in the usual words
    found = loose_number(data, Settings)
    if found:
        loc, value, wanted = found
        kind = "int_type" if wanted == "a whole number" else "float_type"
        where = ".".join(str(part) for part in loc)
        raise ConfigError(f"bad setting {where} in {config_file}: {explain({'type': kind, 'input': value, 'loc': loc}, Settings)}")


def check_agent_options(settings: Settings, config_file: Path | None) -> None:
    """The agent's options as `run` checks them, for a command that builds no agent (`plan`)."""
    from waterspider_tui.adapters.agents.registry import build_options

    try:
        build_options(settings.agent.kind, dict(settings.agent.options))
    except ValueError as error:
        raise ConfigError(f"bad setting agent.options{_origin(('agent', 'options'), config_file)}: {error}") from error


def _check_step_options(pipeline: PipelineSection, config_file: Path | None) -> None:
    """The steps' own tables (`[pipeline.gate]`, ...), checked when the file is read, so every
    command refuses a bad one the same way, naming the setting, the value and where it came from."""
    from waterspider_tui.adapters.pipeline.gate import GateOptions
    from waterspider_tui.adapters.pipeline.push import PushOptions

    models: dict[str, type[BaseModel]] = {"gate": GateOptions, "push": PushOptions}
    if pipeline.pull_request:  # the pull-request step brings the GitHub client: only when it is set
        from waterspider_tui.adapters.pipeline.pull_request import PullRequestOptions

        models["pull_request"] = PullRequestOptions
    for step, model in models.items():
        try:
            model.model_validate(dict(getattr(pipeline, step)))
        except ValidationError as error:
            first = error.errors()[0]
            loc = ("pipeline", step, *first["loc"])
            where = ".".join(str(part) for part in loc)
            raise ConfigError(f"bad setting {where}{_origin(loc, config_file)}: {explain(first, model, ('pipeline', step))}") from error


def _origin(loc: tuple[int | str, ...], config_file: Path | None) -> str:
    """Where a bad value came from: the environment variable that sets it, else the file."""
    present = {name.upper() for name in os.environ}
    for length in range(len(loc), 0, -1):
        name = "WATERSPIDER_" + "__".join(str(part) for part in loc[:length]).upper()
        if name in present:
            return f" from {name}"
    return f" in {config_file}" if config_file else ""
