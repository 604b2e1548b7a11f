"""SetSecurityGroups' EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic, which moto 5.2.5 ignores
(docs/emulator.md): kept on the NLB, answered by SetSecurityGroups and DescribeLoadBalancers, `on` for an NLB
created with security groups until set (AWS's default), absent for one created without; a value other than
`on` or `off` is refused as AWS refuses it (ValidationError), before anything changes.
"""
from __future__ import annotations

from typing import Any

from moto.elbv2 import models, responses
from moto.elbv2.exceptions import ELBClientError as RESTError

FIELD = "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic"
ATTRIBUTE = "enforce_security_group_inbound_rules_on_private_link_traffic"


def install() -> None:
    if getattr(models.FakeLoadBalancer, "_cpl_private_link_patched", False):
        return
    original_create = models.ELBv2Backend.create_load_balancer

    def create_load_balancer(self: Any, *args: Any, **kwargs: Any) -> Any:
        load_balancer = original_create(self, *args, **kwargs)
        if load_balancer.type == "network" and load_balancer.security_groups:
            setattr(load_balancer, ATTRIBUTE, "on")
        return load_balancer

    def set_security_groups(self: Any) -> Any:
        arn = self._get_param("LoadBalancerArn")
        groups = self._get_param("SecurityGroups", [])
        enforce = self._get_param(FIELD)
        if enforce is not None and enforce not in ("on", "off"):
            raise RESTError("ValidationError", f"1 validation error detected: Value '{enforce}' at '{FIELD[0].lower()}{FIELD[1:]}' failed to satisfy constraint: Member must satisfy enum value set: [on, off]")
        self.elbv2_backend.set_security_groups(arn, groups)
        load_balancer = self.elbv2_backend.describe_load_balancers(arns=[arn], names=None)[0]
        if enforce is not None:
            setattr(load_balancer, ATTRIBUTE, enforce)
        result: dict[str, Any] = {"SecurityGroupIds": groups}
        current = getattr(load_balancer, ATTRIBUTE, None)
        if current is not None:
            result[FIELD] = current
        return responses.ActionResult(result)

    models.ELBv2Backend.create_load_balancer = create_load_balancer
    responses.ELBV2Response.set_security_groups = set_security_groups
    models.FakeLoadBalancer._cpl_private_link_patched = True
