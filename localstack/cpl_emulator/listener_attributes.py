"""ModifyListenerAttributes on a Network Load Balancer's listener as ELBv2 takes it, where moto 5.2.5 stores any key
and value (docs/emulator.md): the one NLB listener attribute, `tcp.idle_timeout.seconds`, a whole number of 60-6000
seconds, on TCP listeners only (TLS listeners' idle timeout is fixed). Anything else is refused whole before any
change (InvalidConfigurationRequest, the error ModifyListenerAttributes documents). Other load balancers' listeners
are left to moto.
"""
from __future__ import annotations

from typing import Any

from moto.elbv2 import models
from moto.elbv2.exceptions import ELBClientError as RESTError

IDLE_TIMEOUT = "tcp.idle_timeout.seconds"


def _problem(protocol: str, key: str, value: str) -> str | None:
    if key != IDLE_TIMEOUT:
        return f"The attribute '{key}' is not supported by Network Load Balancer listeners"
    if protocol != "TCP":
        return f"The attribute '{key}' is not supported on {protocol} listeners"
    if not value.isdigit() or not 60 <= int(value) <= 6000:
        return f"The value of '{key}' must be between 60 and 6000 seconds"
    return None


def install() -> None:
    if getattr(models.ELBv2Backend, "_cpl_listener_attributes_patched", False):
        return
    original = models.ELBv2Backend.modify_listener_attributes

    def modify_listener_attributes(self: Any, listener_arn: str, attrs: list[dict[str, str]]) -> dict[str, str]:
        listener = self.describe_listeners(load_balancer_arn=None, listener_arns=[listener_arn])[0]
        balancer = self.load_balancers.get(listener.load_balancer_arn)
        if balancer is not None and balancer.type == "network":
            for attribute in attrs:
                problem = _problem(listener.protocol, attribute.get("Key", ""), str(attribute.get("Value", "")))
                if problem:
                    raise RESTError("InvalidConfigurationRequest", problem)
        return original(self, listener_arn, attrs)

    models.ELBv2Backend.modify_listener_attributes = modify_listener_attributes
    models.ELBv2Backend._cpl_listener_attributes_patched = True
