"""The data plane's door into the emulator: a change counter and pushed target health (docs/emulator.md).

- `GET /_cpl/version` → `{"version": N, "boot": "<id>"}`: N grows with every mutating ELBv2 or EC2 request
  (any action but Describe*/Get*/List*, counted once it has been handled, failed ones too), so a poller re-reads
  the APIs only when something may have changed; `boot` changes when the emulator restarts (N starts again).
- `GET /_cpl/changes?since=N` → `{"version", "boot", "complete", "changes": [{"version", "service", "action",
  "arns"}]}`: the mutating requests after version N with the ELBv2 ARNs their parameters named (the NLB data
  plane re-reads only those); `complete` is false when N is older than the log kept (the last 10000), then the
  caller reads everything.
- `POST /_cpl/target-health` with `{targetGroupArn: {"id:port": {"state", "reason", "description"} | null} | null}`
  stores health the data plane measured (target_health.py answers DescribeTargetHealth from it); null forgets a
  target's or a group's pushes. Answers `{"stored": n, "unknownTargetGroups": [...]}`.
- `GET /_cpl/certificate?arn=<ACM ARN>` → `{"certificate", "chain", "privateKey"}` (PEM) of an imported
  certificate, 404 when ACM has none: the NLB data plane terminates TLS listeners with it (tls_listeners.py).
"""
from __future__ import annotations

import collections
import json
import re
import threading
import urllib.parse
import uuid
from typing import Any, Callable, Iterable

from moto.core.responses import BaseResponse
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from . import target_health, tls_listeners

COUNTED_SERVICES = ("elbv2", "ec2")
READ_ONLY_PREFIXES = ("Describe", "Get", "List")


CHANGE_LOG_SIZE = 10000


class ChangeCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.version = 0
        self.boot = uuid.uuid4().hex[:12]
        self.log: collections.deque[dict[str, Any]] = collections.deque(maxlen=CHANGE_LOG_SIZE)

    def bump(self, service: str | None = None, action: str | None = None, arns: list[str] | None = None) -> None:
        with self._lock:
            self.version += 1
            self.log.append({"version": self.version, "service": service, "action": action, "arns": arns or []})

    def since(self, version: int) -> dict[str, Any]:
        with self._lock:
            changes = [change for change in self.log if change["version"] > version]
            oldest = self.log[0]["version"] if self.log else self.version + 1
            complete = version >= self.version or oldest <= version + 1
            return {"version": self.version, "boot": self.boot, "complete": complete, "changes": changes if complete else []}


counter = ChangeCounter()


def is_mutating(service_name: str | None, action: str | None) -> bool:
    return service_name in COUNTED_SERVICES and bool(action) and not str(action).startswith(READ_ONLY_PREFIXES)


def _json(start_response: Callable[..., Any], status: str, body: Any) -> Iterable[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length > 0 else b""


def handle(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes] | None:
    """Serves /_cpl/*; None for any other path (moto's)."""
    path = environ.get("PATH_INFO", "")
    if not path.startswith("/_cpl/"):
        return None
    method = environ.get("REQUEST_METHOD", "GET")
    if path == "/_cpl/version" and method == "GET":
        return _json(start_response, "200 OK", {"version": counter.version, "boot": counter.boot})
    if path == "/_cpl/changes" and method == "GET":
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        try:
            since = int((query.get("since") or ["0"])[0])
        except ValueError:
            return _json(start_response, "400 Bad Request", {"error": "since must be an integer version"})
        return _json(start_response, "200 OK", counter.since(since))
    if path == "/_cpl/target-health" and method == "POST":
        try:
            pushed = json.loads(_read_body(environ) or b"{}")
            stored, unknown = target_health.store_pushes(pushed)
        except (ValueError, TypeError) as error:
            return _json(start_response, "400 Bad Request", {"error": str(error)})
        return _json(start_response, "200 OK", {"stored": stored, "unknownTargetGroups": unknown})
    if path == "/_cpl/certificate" and method == "GET":
        arn = (urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).get("arn") or [""])[0]
        try:
            return _json(start_response, "200 OK", tls_listeners.certificate_material(arn))
        except KeyError as error:
            return _json(start_response, "404 Not Found", {"error": str(error.args[0]) if error.args else arn})
    return _json(start_response, "404 Not Found", {"error": f"no {method} {path}"})


def _named_arns(response: Any) -> list[str]:
    """The ELBv2 ARNs a request's parameters name (LoadBalancerArn, TargetGroupArn, ListenerArn, ...)."""
    try:
        values = [value for values in dict(response.querystring).values() for value in values]
    except Exception:  # noqa: BLE001 (no parsed parameters: the caller treats the change as unknown)
        return []
    return sorted({value for value in values if isinstance(value, str) and value.startswith("arn:aws:elasticloadbalancing:")})


# A create names the new resource only in its answer: without it the data plane would list every NLB again.
CREATED_ARN = re.compile(r"<(?:LoadBalancerArn|TargetGroupArn)>(arn:aws:elasticloadbalancing:[^<]+)</")
CREATES = {"CreateLoadBalancer", "CreateTargetGroup"}


def _created_arns(answer: Any) -> list[str]:
    """The ARNs a create's answer holds (moto answers a body, or (status, headers, body))."""
    body = answer[-1] if isinstance(answer, tuple) else answer
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    return CREATED_ARN.findall(body) if isinstance(body, str) else []


def install() -> None:
    """Counts mutating requests at moto's one action dispatch and serves /_cpl/* before moto's routing (idempotent)."""
    if getattr(BaseResponse, "_cpl_patched", False):
        return
    original_call_action = BaseResponse.call_action

    def call_action(self: Any) -> Any:
        answer = None
        try:
            answer = original_call_action(self)
            return answer
        finally:
            try:
                action = self._get_action()
            except Exception:  # noqa: BLE001 (an unparsable request changed nothing worth counting)
                action = None
            if is_mutating(self.service_name, action):
                created = _created_arns(answer) if action in CREATES and answer is not None else []
                counter.bump(self.service_name, action, sorted(set(_named_arns(self)) | set(created)))

    original_app_call = DomainDispatcherApplication.__call__

    def app_call(self: Any, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        answer = handle(environ, start_response)
        return answer if answer is not None else original_app_call(self, environ, start_response)

    BaseResponse.call_action = call_action
    DomainDispatcherApplication.__call__ = app_call
    BaseResponse._cpl_patched = True
