"""Target health as ELBv2 reports it for network load balancers, where moto reports every target healthy.

- A target group that no listener forwards to is not health-checked: its targets are `unused`
  (`Target.NotInUse`). "Before the load balancer sends a health check request to a target, you must register it
  with a target group, specify its target group in a listener rule, ..." (NLB guide, target-group-health-checks).
- A deregistered target is `draining` (`Target.DeregistrationInProgress`) for the group's
  `deregistration_delay.timeout_seconds` (default 300) and is listed while it drains; then it is gone.
- A registered target of a group in use reports what the data plane measured and pushed (control.py,
  `POST /_cpl/target-health`); before its first push it is `initial` (`Elb.RegistrationInProgress`), as on AWS
  while registration completes. With CPL_EMULATOR_HEALTH=instant (no data plane runs) it is `healthy` at once
  instead, moto's behaviour; pushes, if any come, still win.
"""
from __future__ import annotations

import os
import threading
import time
from typing import Any, Callable

from moto.elbv2 import models

NOT_IN_USE = ("unused", "Target.NotInUse", "Target group is not configured to receive traffic from the load balancer")
DRAINING = ("draining", "Target.DeregistrationInProgress", "Target deregistration is in progress")

REGISTRATION_IN_PROGRESS = ("initial", "Elb.RegistrationInProgress", "Target registration is in progress")
PUSHABLE_STATES = {"initial", "healthy", "unhealthy", "unhealthy.draining", "unavailable"}
MODES = ("data-plane", "instant")

Clock = Callable[[], float]
State = tuple[str, str | None, str | None]


def health_mode(environ: dict[str, str] = os.environ) -> str:  # type: ignore[assignment]
    mode = environ.get("CPL_EMULATOR_HEALTH", "") or "data-plane"
    if mode not in MODES:
        raise ValueError(f"CPL_EMULATOR_HEALTH={mode!r}: expected one of {', '.join(MODES)}")
    return mode


# moto's server answers each request on a thread of its own: pushes and reads of them take this lock.
_push_lock = threading.RLock()


def _pushes(target_group: Any) -> dict[str, State]:
    """What the data plane pushed for this group: "id:port" → (state, reason, description)."""
    return target_group.__dict__.setdefault("_cpl_pushed", {})


def _forget(target_group: Any, target_ids: set[str] | None = None) -> None:
    """Forgets the pushes of these targets, or of the whole group."""
    with _push_lock:
        book = _pushes(target_group)
        for key in [k for k in book if target_ids is None or k.rsplit(":", 1)[0] in target_ids]:
            del book[key]


def _pushed(target_group: Any, key: str) -> State | None:
    with _push_lock:
        return _pushes(target_group).get(key)


def _pushed_state(key: str, value: Any) -> State:
    if not isinstance(value, dict) or value.get("state") not in PUSHABLE_STATES:
        raise ValueError(f"target {key}: state must be one of {sorted(PUSHABLE_STATES)}, got {value!r}")
    reason, description = value.get("reason"), value.get("description")
    return (value["state"], str(reason) if reason else None, str(description) if description else None)


def _target_group_by_arn(arn: str) -> Any:
    # arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>
    parts = arn.split(":")
    if len(parts) < 6 or not parts[5].startswith("targetgroup/"):
        raise ValueError(f"not a target group ARN: {arn!r}")
    region, account = parts[3], parts[4]
    if account not in models.elbv2_backends or region not in models.elbv2_backends[account]:
        return None
    return models.elbv2_backends[account][region].target_groups.get(arn)


def store_pushes(pushed: Any) -> tuple[int, list[str]]:
    """Stores a push (control.py's format); returns (targets stored, ARNs of groups the emulator does not have)."""
    if not isinstance(pushed, dict):
        raise ValueError("expected an object {targetGroupArn: {\"id:port\": {state, reason, description}}}")
    parsed: list[tuple[Any, str, dict[str, State | None] | None]] = []
    unknown: list[str] = []
    for arn, targets in pushed.items():
        target_group = _target_group_by_arn(arn)
        if target_group is None:
            unknown.append(arn)
            continue
        if targets is None:
            parsed.append((target_group, arn, None))
            continue
        if not isinstance(targets, dict):
            raise ValueError(f"{arn}: expected an object of \"id:port\" keys")
        states: dict[str, State | None] = {}
        for key, value in targets.items():
            if ":" not in key:
                raise ValueError(f"{arn}: target key {key!r} is not \"id:port\"")
            states[key] = None if value is None else _pushed_state(key, value)
        parsed.append((target_group, arn, states))
    stored = 0
    with _push_lock:
        for target_group, _, states in parsed:  # all checked first: a bad push stores nothing
            book = _pushes(target_group)
            if states is None:
                book.clear()
                continue
            for key, state in states.items():
                if state is None:
                    book.pop(key, None)
                else:
                    book[key] = state
                    stored += 1
    return stored, unknown


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


def _status(target: dict[str, Any], health_port: Any, state: State | None) -> Any:
    if state is None:
        return models.FakeHealthStatus(target["Id"], target["Port"], health_port, "healthy")
    return models.FakeHealthStatus(target["Id"], target["Port"], health_port, *state)


def install(clock: Clock = time.monotonic, mode: str | None = None) -> None:
    """Patches moto's target groups and backend (idempotent)."""
    instant = (mode or health_mode()) == "instant"
    models.FakeTargetGroup._cpl_instant = instant
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
        new = {t["Id"] for t in targets if t["Id"] not in self.targets}
        original_register(self, targets)
        book = draining(self)
        for target in targets:
            book.pop(target["Id"], None)
        _forget(self, new)  # a registration starts over (a target registered again is a no-op on AWS)

    def deregister(self: Any, targets: list[dict[str, Any]]) -> None:
        kept = {t["Id"]: self.targets.get(t["Id"]) for t in targets}
        original_deregister(self, targets)
        _forget(self, set(kept))
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
        if status.status != "healthy" or target["Id"] not in self.targets:
            return status  # moto's own truths (not registered, stopped or terminated instance)
        registered = self.targets[target["Id"]]
        if not self.__dict__.get("_cpl_in_use", True):
            return _status(registered, self.health_check_port, NOT_IN_USE)
        pushed = _pushed(self, f"{registered['Id']}:{registered['Port']}")
        if pushed is not None:
            return _status(registered, self.health_check_port, pushed)
        if self._cpl_instant:
            return status
        return _status(registered, self.health_check_port, REGISTRATION_IN_PROGRESS)

    original_describe = models.ELBv2Backend.describe_target_health

    def describe_target_health(self: Any, target_group_arn: str, targets: list[dict[str, Any]]) -> list[Any]:
        target_group = self.target_groups.get(target_group_arn)
        if target_group is not None:
            target_group._cpl_in_use = target_group_arn in target_groups_in_use(self)
            if not target_group._cpl_in_use:
                _forget(target_group)  # checks stop with the last listener; they start over when one returns
            if not targets:
                # AWS lists draining targets too when no target is named.
                targets = list(target_group.targets.values()) + [t for t, _ in draining(target_group).values() if t["Id"] not in target_group.targets]
        return original_describe(self, target_group_arn, targets)

    models.FakeTargetGroup.register = register
    models.FakeTargetGroup.deregister = deregister
    models.FakeTargetGroup.health_for = health_for
    models.ELBv2Backend.describe_target_health = describe_target_health
    models.FakeTargetGroup._cpl_patched = True
