"""Deletion protection as ELBv2 enforces it, where moto 5.2.5 deletes a protected load balancer (docs/emulator.md):
DeleteLoadBalancer on one with `deletion_protection.enabled=true` is refused with OperationNotPermitted and
changes nothing, so a controller that would delete it learns what it learns on AWS.
"""
from __future__ import annotations

from typing import Any

from moto.elbv2 import models
from moto.elbv2.exceptions import ELBClientError as RESTError


def install() -> None:
    if getattr(models.ELBv2Backend, "_cpl_deletion_protection_patched", False):
        return
    original_delete = models.ELBv2Backend.delete_load_balancer

    def delete_load_balancer(self: Any, arn: str) -> None:
        load_balancer = self.load_balancers.get(arn)
        if load_balancer is not None and load_balancer.attrs.get("deletion_protection.enabled") == "true":
            raise RESTError("OperationNotPermitted", f"Load balancer '{arn}' cannot be deleted because deletion protection is enabled")
        original_delete(self, arn)

    models.ELBv2Backend.delete_load_balancer = delete_load_balancer
    models.ELBv2Backend._cpl_deletion_protection_patched = True
