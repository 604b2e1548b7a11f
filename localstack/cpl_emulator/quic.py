"""QUIC and TCP_QUIC listeners and target groups, which ELBv2 has had since 2025 and moto 5.2.5 refuses
(docs/emulator.md): CreateTargetGroup and CreateListener take them on a network load balancer, as moto takes
UDP and TCP_UDP (the same checks and defaults), and answer the protocol asked for. Nothing forwards them: the
data plane (ADR 0012) forwards TCP, UDP, TCP_UDP and TLS only.
"""
from __future__ import annotations

from typing import Any

from moto.elbv2 import models

# Each QUIC protocol is checked and defaulted by moto as the protocol it rides on.
CARRIER = {"QUIC": "UDP", "TCP_QUIC": "TCP_UDP"}


def install() -> None:
    if getattr(models.ELBv2Backend, "_cpl_quic_patched", False):
        return
    original_validate = models.ELBv2Backend._validate_port_and_protocol
    original_create_target_group = models.ELBv2Backend.create_target_group

    def validate_port_and_protocol(self: Any, loadbalancer_type: str, port: str | None, protocol: str | None) -> None:
        if loadbalancer_type == "network" and protocol in CARRIER:
            protocol = CARRIER[protocol]
        original_validate(self, loadbalancer_type, port, protocol)

    def create_target_group(self: Any, name: str, **kwargs: Any) -> Any:
        protocol = kwargs.get("protocol")
        if protocol not in CARRIER:
            return original_create_target_group(self, name, **kwargs)
        target_group = original_create_target_group(self, name, **{**kwargs, "protocol": CARRIER[protocol]})
        target_group.protocol = protocol
        return target_group

    models.ELBv2Backend._validate_port_and_protocol = validate_port_and_protocol
    models.ELBv2Backend.create_target_group = create_target_group
    models.ELBv2Backend._cpl_quic_patched = True
