"""TLS listeners as ELBv2 treats them, where moto 5.2.5 falls short (docs/emulator.md):

- ModifyListener may change a network listener between TCP and TLS in place (moto allows HTTP, HTTPS, TCP only),
  with Certificates (the default one), SslPolicy and AlpnPolicy (moto ignores AlpnPolicy on ModifyListener).
  A new default certificate replaces the old default and keeps the listener's other certificates, as on AWS; a
  TLS listener needs one. Changing to TCP drops certificates, policy and ALPN (AWS answers none for TCP).
- CreateListener of a TLS listener and AddListenerCertificates need certificates ACM (or IAM) has
  (`CertificateNotFound`, as AWS; moto takes any ARN).
- RemoveListenerCertificates never removes the default certificate (AWS: change it with ModifyListener), even when
  the same ARN is also listed as an additional one (the LBC adds the default there too).
- `certificate_material(arn)` reads an imported certificate, its chain and private key from moto's ACM, for the
  data plane's door (`GET /_cpl/certificate`, control.py): the NLB data plane is the cloud's side and terminates
  TLS with it (ADR 0014).
"""
from __future__ import annotations

from typing import Any

from moto.elbv2.exceptions import ELBClientError as RESTError
from moto.elbv2 import models, responses

ALPN_POLICIES = ("None", "HTTP1Only", "HTTP2Only", "HTTP2Optional", "HTTP2Preferred")
TLS_PROTOCOLS = ("TLS", "HTTPS")


def _modify_tls_listener(backend: Any, arn: str, protocol: str | None, ssl_policy: str | None, certificates: list[dict[str, Any]],
                         alpn_policy: list[str] | None, actions: list[dict[str, Any]]) -> Any:
    """ModifyListener for a listener that is or becomes TLS, or leaves TLS; None when moto's own handles it."""
    listener = backend.describe_listeners(load_balancer_arn=None, listener_arns=[arn])[0]
    becomes = protocol if protocol is not None else listener.protocol
    if listener.protocol != "TLS" and becomes != "TLS":
        return None
    if alpn_policy and (len(alpn_policy) != 1 or alpn_policy[0] not in ALPN_POLICIES):
        raise RESTError("ValidationError", f"AlpnPolicy {alpn_policy} is not one of {', '.join(ALPN_POLICIES)}")
    if becomes == "TLS":
        if certificates:
            default_arn = certificates[0]["CertificateArn"]
            if not backend._certificate_exists(certificate_arn=default_arn):
                raise RESTError("CertificateNotFound", f"Certificate {default_arn} not found")
            extra = listener.certificates[1:] if listener.protocol == "TLS" else []
            listener.certificate = default_arn
            listener.certificates = [default_arn, *extra]
        elif not listener.certificates:
            raise RESTError("ValidationError", "A certificate must be specified for TLS listeners")
        if ssl_policy is not None:
            listener.ssl_policy = ssl_policy
        elif listener.protocol != "TLS":
            listener.ssl_policy = "ELBSecurityPolicy-2016-08"
        if alpn_policy:
            listener.alpn_policy = [] if alpn_policy == ["None"] else list(alpn_policy)
    else:
        listener.certificate = None
        listener.certificates = []
        listener.ssl_policy = None
        listener.alpn_policy = []
    listener.protocol = becomes
    default_actions = [models.FakeAction(action) for action in actions or []]
    if default_actions:
        listener.default_actions = default_actions
        listener._default_rule[0].actions = default_actions
    return listener


def certificate_material(arn: str) -> dict[str, str]:
    """The PEM certificate, chain and private key of an ACM certificate; KeyError when there is none."""
    from moto.acm.models import CertificateNotFound, acm_backends

    parts = arn.split(":")
    if len(parts) < 6 or parts[2] != "acm":
        raise KeyError(f"{arn} is not an ACM certificate ARN")
    region, account = parts[3], parts[4]
    try:
        bundle = acm_backends[account][region].get_certificate(arn)
    except CertificateNotFound as error:
        raise KeyError(f"no certificate {arn}") from error
    text = lambda value: value.decode() if isinstance(value, bytes) else (value or "")  # noqa: E731
    return {"certificate": text(bundle.cert), "chain": text(bundle.chain), "privateKey": text(bundle.key)}


def install() -> None:
    """Patches moto's ModifyListener and RemoveListenerCertificates (idempotent)."""
    if getattr(models.ELBv2Backend, "_cpl_tls_patched", False):
        return
    original_modify = models.ELBv2Backend.modify_listener
    original_remove = models.ELBv2Backend.remove_listener_certificates
    original_create = models.ELBv2Backend.create_listener
    original_add = models.ELBv2Backend.add_listener_certificates

    def require_certificates(backend: Any, arns: list[str]) -> None:
        for arn in arns:
            if not backend._certificate_exists(certificate_arn=arn):
                raise RESTError("CertificateNotFound", f"Certificate '{arn}' not found")

    def create_listener(self: Any, load_balancer_arn: str, protocol: str, port: str, ssl_policy: str, certificate: str | None,
                        actions: list[dict[str, Any]], alpn_policy: list[str] | None = None, tags: list[dict[str, str]] | None = None) -> Any:
        if (protocol or "").upper() == "TLS":
            if not certificate:
                raise RESTError("ValidationError", "A certificate must be specified for TLS listeners")
            require_certificates(self, [certificate])
        return original_create(self, load_balancer_arn, protocol, port, ssl_policy, certificate, actions, alpn_policy=alpn_policy, tags=tags)

    def add_listener_certificates(self: Any, arn: str, certificates: list[dict[str, Any]]) -> list[str]:
        require_certificates(self, [c["CertificateArn"] for c in certificates])
        return original_add(self, arn, certificates)
    original_response = responses.ELBV2Response.modify_listener

    def modify_listener(self: Any, arn: str, port: str | None = None, protocol: str | None = None, ssl_policy: str | None = None,
                        certificates: list[dict[str, Any]] | None = None, actions: list[dict[str, Any]] | None = None,
                        alpn_policy: list[str] | None = None) -> Any:
        listener = _modify_tls_listener(self, arn, protocol, ssl_policy, certificates or [], alpn_policy, actions or [])
        if listener is None:
            return original_modify(self, arn, port, protocol, ssl_policy, certificates, actions)
        if port is not None:
            listener.port = port
        return listener

    def remove_listener_certificates(self: Any, arn: str, certificates: list[dict[str, Any]]) -> None:
        listener = self.describe_listeners(load_balancer_arn=None, listener_arns=[arn])[0]
        if not listener.certificates:
            return original_remove(self, arn, certificates)
        default, *extra = listener.certificates
        removed = {c["CertificateArn"] for c in certificates}
        listener.certificates = [default, *[c for c in extra if c not in removed]]
        return None

    def modify_listener_response(self: Any) -> Any:
        alpn = self._get_params().get("AlpnPolicy")
        if not alpn:
            return original_response(self)
        ssl_policy = self._get_param("SslPolicy")
        if ssl_policy is not None and ssl_policy not in responses.SSL_POLICIES:
            raise RESTError("SSLPolicyNotFound", f"Policy {ssl_policy} not found")
        listener = self.elbv2_backend.modify_listener(
            self._get_param("ListenerArn"), self._get_param("Port"), self._get_param("Protocol"), ssl_policy,
            self._get_param("Certificates", []), self._get_param("DefaultActions", []), alpn_policy=list(alpn),
        )
        return responses.ActionResult({"Listeners": [listener]})

    models.ELBv2Backend.modify_listener = modify_listener
    models.ELBv2Backend.remove_listener_certificates = remove_listener_certificates
    models.ELBv2Backend.create_listener = create_listener
    models.ELBv2Backend.add_listener_certificates = add_listener_certificates
    responses.ELBV2Response.modify_listener = modify_listener_response
    models.ELBv2Backend._cpl_tls_patched = True
