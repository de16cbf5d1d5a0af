"""Milestone integration: the issues' branches merged, in dependency order, into `integration/<milestone>`.

This package does the git work (merging, finding who conflicts with whom, the gate on the
result) and the publishing (one pull request, or the milestone's description). It is kept
apart from the sink that decides *when* (`adapters/sinks/milestones.py`), because the same
work is what a command run by hand would do for one milestone, and because it is the long,
blocking part: every git call is an async subprocess, so the outbox that runs it never holds
up the engine.
"""

from __future__ import annotations

from waterspider_tui.adapters.integration.branches import BranchIntegrator
from waterspider_tui.adapters.integration.gate_hook import GateVerdict, IntegrationGate, PipelineGate
from waterspider_tui.adapters.integration.members import MemberBranch, branch_slug, member_branches
from waterspider_tui.adapters.integration.outcome import Conflict, Integration

__all__ = [
    "BranchIntegrator", "Conflict", "GateVerdict", "Integration", "IntegrationGate", "MemberBranch", "PipelineGate",
    "branch_slug", "member_branches",
]
