"""Target health as ELBv2 reports it for network load balancers, where moto reports every target healthy.

- A target group that no listener forwards to is not health-checked: its targets are `unused`
  (`Target.NotInUse`). "Before the load balancer sends a health check request to a target, you must register it
  with a target group, specify its target group in a listener rule, ..." (NLB guide, target-group-health-checks).
- A deregistered target is `draining` (`Target.DeregistrationInProgress`) for the group's
  `deregistration_delay.timeout_seconds` (default 300) and is listed while it drains; then it is gone.
- A target of a group in use is `healthy` (moto's behaviour) until a data plane reports real checks.
"""
from __future__ import annotations

import time
from typing import Any, Callable

from moto.elbv2 import models

NOT_IN_USE = ("unused", "Target.NotInUse", "Target group is not configured to receive traffic from the load balancer")
DRAINING = ("draining", "Target.DeregistrationInProgress", "Target deregistration is in progress")

Clock = Callable[[], float]


def _delay_seconds(target_group: Any) -> float:
    try:
        return float(target_group.attributes.get("deregistration_delay.timeout_seconds", 300))
    except (TypeError, ValueError):
        return 300.0


def target_groups_in_use(backend: Any) -> set[str]:
    """ARNs of the target groups some listener (default actions or rules) forwards to."""
    in_use: set[str] = set()
    for load_balancer in backend.load_balancers.values():
        for listener in load_balancer.listeners.values():
            actions = list(listener.default_actions)
            for rule in getattr(listener, "_non_default_rules", {}).values():
                actions.extend(rule.actions)
            for action in actions:
                if getattr(action, "type", None) == "forward":
                    in_use.update(backend._get_target_group_arns_from(action_data=action.data))
    return in_use


def _status(target: dict[str, Any], health_port: Any, state: tuple[str, str, str] | None) -> Any:
    if state is None:
        return models.FakeHealthStatus(target["Id"], target["Port"], health_port, "healthy")
    return models.FakeHealthStatus(target["Id"], target["Port"], health_port, *state)


def install(clock: Clock = time.monotonic) -> None:
    """Patches moto's target groups and backend (idempotent)."""
    if getattr(models.FakeTargetGroup, "_cpl_patched", False):
        return
    original_register = models.FakeTargetGroup.register
    original_deregister = models.FakeTargetGroup.deregister
    original_health_for = models.FakeTargetGroup.health_for

    def draining(self: Any) -> dict[str, tuple[dict[str, Any], float]]:
        """Targets deregistered while their delay runs: id → (target, deadline)."""
        book = self.__dict__.setdefault("_cpl_draining", {})
        now = clock()
        for target_id in [tid for tid, (_, deadline) in book.items() if deadline <= now]:
            del book[target_id]
        return book

    def register(self: Any, targets: list[dict[str, Any]]) -> None:
        original_register(self, targets)
        book = draining(self)
        for target in targets:
            book.pop(target["Id"], None)

    def deregister(self: Any, targets: list[dict[str, Any]]) -> None:
        kept = {t["Id"]: self.targets.get(t["Id"]) for t in targets}
        original_deregister(self, targets)
        delay = _delay_seconds(self)
        if delay <= 0:
            return
        book = draining(self)
        for target_id, target in kept.items():
            if target is not None:
                book[target_id] = (target, clock() + delay)

    def health_for(self: Any, target: dict[str, Any], ec2_backend: Any) -> Any:
        drained = draining(self).get(target["Id"])
        if drained is not None and target["Id"] not in self.targets:
            return _status(drained[0], self.health_check_port, DRAINING)
        status = original_health_for(self, target, ec2_backend)
        if status.status == "healthy" and not self.__dict__.get("_cpl_in_use", True):
            return _status(self.targets[target["Id"]], self.health_check_port, NOT_IN_USE)
        return status

    original_describe = models.ELBv2Backend.describe_target_health

    def describe_target_health(self: Any, target_group_arn: str, targets: list[dict[str, Any]]) -> list[Any]:
        target_group = self.target_groups.get(target_group_arn)
        if target_group is not None:
            target_group._cpl_in_use = target_group_arn in target_groups_in_use(self)
            if not targets:
                # AWS lists draining targets too when no target is named.
                targets = list(target_group.targets.values()) + [t for t, _ in draining(target_group).values() if t["Id"] not in target_group.targets]
        return original_describe(self, target_group_arn, targets)

    models.FakeTargetGroup.register = register
    models.FakeTargetGroup.deregister = deregister
    models.FakeTargetGroup.health_for = health_for
    models.ELBv2Backend.describe_target_health = describe_target_health
    models.FakeTargetGroup._cpl_patched = True
