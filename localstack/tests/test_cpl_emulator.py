"""Unit tests of the emulator plugin against moto in-process (mock_aws): `python -m unittest discover -s localstack/tests -t localstack`."""
from __future__ import annotations

import io
import json
import unittest
from typing import Any

import boto3
from moto import mock_aws
from moto.elbv2 import models

from cpl_emulator import control, target_health

target_health.install(mode="data-plane")
control.install()


def wsgi(method: str, path: str, body: Any = None) -> tuple[str, Any]:
    data = b"" if body is None else json.dumps(body).encode()
    environ = {"PATH_INFO": path.partition("?")[0], "QUERY_STRING": path.partition("?")[2], "REQUEST_METHOD": method, "CONTENT_LENGTH": str(len(data)), "wsgi.input": io.BytesIO(data)}
    seen: dict[str, str] = {}
    answer = control.handle(environ, lambda status, headers: seen.setdefault("status", status))
    assert answer is not None
    return seen["status"], json.loads(b"".join(answer))


@mock_aws
class TargetHealthTest(unittest.TestCase):
    def setUp(self) -> None:
        models.FakeTargetGroup._cpl_instant = False
        self.ec2 = boto3.client("ec2", region_name="us-east-1")
        self.elbv2 = boto3.client("elbv2", region_name="us-east-1")
        vpc = self.ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        subnets = [s["SubnetId"] for s in self.ec2.describe_subnets()["Subnets"] if s["VpcId"] == vpc][:2]
        self.lb = self.elbv2.create_load_balancer(Name="lb", Type="network", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
        self.tg = self.elbv2.create_target_group(Name="tg", Protocol="TCP", Port=80, VpcId=vpc, TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
        self.elbv2.register_targets(TargetGroupArn=self.tg, Targets=[{"Id": "127.0.0.2", "Port": 8080, "AvailabilityZone": "all"}])

    def states(self) -> list[tuple[str, str, str | None]]:
        found = self.elbv2.describe_target_health(TargetGroupArn=self.tg)["TargetHealthDescriptions"]
        return [(t["Target"]["Id"], t["TargetHealth"]["State"], t["TargetHealth"].get("Reason")) for t in found]

    def listen(self) -> str:
        listener = self.elbv2.create_listener(LoadBalancerArn=self.lb, Protocol="TCP", Port=80, DefaultActions=[{"Type": "forward", "TargetGroupArn": self.tg}])
        return listener["Listeners"][0]["ListenerArn"]

    def test_group_without_listener_is_unused(self) -> None:
        self.assertEqual(self.states(), [("127.0.0.2", "unused", "Target.NotInUse")])

    def test_in_use_without_push_is_registration_in_progress(self) -> None:
        self.listen()
        self.assertEqual(self.states(), [("127.0.0.2", "initial", "Elb.RegistrationInProgress")])

    def test_instant_mode_is_healthy_at_once(self) -> None:
        models.FakeTargetGroup._cpl_instant = True
        self.listen()
        self.assertEqual(self.states(), [("127.0.0.2", "healthy", None)])

    def test_pushes_answer_describe_and_null_forgets(self) -> None:
        self.listen()
        status, answer = wsgi("POST", "/_cpl/target-health", {self.tg: {"127.0.0.2:8080": {"state": "unhealthy", "reason": "Target.FailedHealthChecks", "description": "Health checks failed"}}})
        self.assertEqual((status, answer), ("200 OK", {"stored": 1, "unknownTargetGroups": []}))
        self.assertEqual(self.states(), [("127.0.0.2", "unhealthy", "Target.FailedHealthChecks")])
        wsgi("POST", "/_cpl/target-health", {self.tg: {"127.0.0.2:8080": {"state": "healthy"}}})
        self.assertEqual(self.states(), [("127.0.0.2", "healthy", None)])
        wsgi("POST", "/_cpl/target-health", {self.tg: None})
        self.assertEqual(self.states(), [("127.0.0.2", "initial", "Elb.RegistrationInProgress")])

    def test_push_for_another_port_does_not_apply(self) -> None:
        self.listen()
        wsgi("POST", "/_cpl/target-health", {self.tg: {"127.0.0.2:9090": {"state": "healthy"}}})
        self.assertEqual(self.states(), [("127.0.0.2", "initial", "Elb.RegistrationInProgress")])

    def test_bad_push_is_refused_whole(self) -> None:
        self.listen()
        status, answer = wsgi("POST", "/_cpl/target-health", {self.tg: {"127.0.0.2:8080": {"state": "healthy"}, "127.0.0.3:1": {"state": "fine"}}})
        self.assertEqual(status, "400 Bad Request")
        self.assertIn("127.0.0.3:1", answer["error"])
        self.assertEqual(self.states(), [("127.0.0.2", "initial", "Elb.RegistrationInProgress")])
        status, answer = wsgi("POST", "/_cpl/target-health", {"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/gone/0": {}})
        self.assertEqual(answer["unknownTargetGroups"], ["arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/gone/0"])

    def test_reregistration_starts_over_and_detach_forgets(self) -> None:
        listener = self.listen()
        wsgi("POST", "/_cpl/target-health", {self.tg: {"127.0.0.2:8080": {"state": "healthy"}}})
        self.elbv2.register_targets(TargetGroupArn=self.tg, Targets=[{"Id": "127.0.0.2", "Port": 8080, "AvailabilityZone": "all"}])
        self.assertEqual(self.states(), [("127.0.0.2", "healthy", None)], "registering a registered target is a no-op")
        self.elbv2.delete_listener(ListenerArn=listener)
        self.assertEqual(self.states(), [("127.0.0.2", "unused", "Target.NotInUse")])
        self.listen()
        self.assertEqual(self.states(), [("127.0.0.2", "initial", "Elb.RegistrationInProgress")])

    def test_deregistered_target_drains_then_returns_new(self) -> None:
        self.listen()
        wsgi("POST", "/_cpl/target-health", {self.tg: {"127.0.0.2:8080": {"state": "healthy"}}})
        self.elbv2.deregister_targets(TargetGroupArn=self.tg, Targets=[{"Id": "127.0.0.2", "Port": 8080}])
        self.assertEqual(self.states(), [("127.0.0.2", "draining", "Target.DeregistrationInProgress")])
        self.elbv2.register_targets(TargetGroupArn=self.tg, Targets=[{"Id": "127.0.0.2", "Port": 8080, "AvailabilityZone": "all"}])
        self.assertEqual(self.states(), [("127.0.0.2", "initial", "Elb.RegistrationInProgress")])

    def test_version_counts_mutations_only(self) -> None:
        _, before = wsgi("GET", "/_cpl/version")
        self.elbv2.describe_target_groups()
        self.ec2.describe_subnets()
        _, after_reads = wsgi("GET", "/_cpl/version")
        self.assertEqual(after_reads["version"], before["version"])
        self.listen()
        self.ec2.create_tags(Resources=[self.ec2.describe_vpcs()["Vpcs"][0]["VpcId"]], Tags=[{"Key": "k", "Value": "v"}])
        _, after_writes = wsgi("GET", "/_cpl/version")
        self.assertEqual(after_writes["version"], before["version"] + 2)
        self.assertEqual(after_writes["boot"], before["boot"])

    def test_changes_since_name_the_arns(self) -> None:
        def changes(since: int) -> Any:
            environ = {"PATH_INFO": "/_cpl/changes", "QUERY_STRING": f"since={since}", "REQUEST_METHOD": "GET", "CONTENT_LENGTH": "0", "wsgi.input": io.BytesIO(b"")}
            answer = control.handle(environ, lambda status, headers: None)
            assert answer is not None
            return json.loads(b"".join(answer))

        _, before = wsgi("GET", "/_cpl/version")
        self.elbv2.describe_load_balancers()
        listener = self.listen()
        self.elbv2.register_targets(TargetGroupArn=self.tg, Targets=[{"Id": "127.0.0.3", "Port": 8080, "AvailabilityZone": "all"}])
        found = changes(before["version"])
        self.assertTrue(found["complete"])
        self.assertEqual([(c["action"], c["arns"]) for c in found["changes"]], [
            ("CreateListener", sorted([self.lb, self.tg])),
            ("RegisterTargets", [self.tg]),
        ])
        self.elbv2.delete_listener(ListenerArn=listener)
        self.assertEqual([c["arns"] for c in changes(found["version"])["changes"]], [[listener]])
        self.assertEqual(changes(found["version"] + 1)["changes"], [])
        self.assertFalse(changes(-control.CHANGE_LOG_SIZE - 5)["complete"])

    def test_a_create_names_what_it_created(self) -> None:
        _, before = wsgi("GET", "/_cpl/version")
        subnets = self.elbv2.describe_load_balancers(LoadBalancerArns=[self.lb])["LoadBalancers"][0]["AvailabilityZones"]
        lb = self.elbv2.create_load_balancer(Name="created", Type="network", Subnets=[z["SubnetId"] for z in subnets])["LoadBalancers"][0]["LoadBalancerArn"]
        environ = {"PATH_INFO": "/_cpl/changes", "QUERY_STRING": f"since={before['version']}", "REQUEST_METHOD": "GET", "CONTENT_LENGTH": "0", "wsgi.input": io.BytesIO(b"")}
        answer = control.handle(environ, lambda status, headers: None)
        assert answer is not None
        self.assertEqual([(c["action"], c["arns"]) for c in json.loads(b"".join(answer))["changes"]], [("CreateLoadBalancer", [lb])])

    def test_changes_list_security_group_calls(self) -> None:
        # The NLB data plane re-reads the VPC's groups and interfaces after any EC2 change (ADR 0014): every
        # security-group mutation must be in the log, and SetSecurityGroups must name its NLB.
        def actions(since: int) -> list[tuple[str | None, str | None, list[str]]]:
            environ = {"PATH_INFO": "/_cpl/changes", "QUERY_STRING": f"since={since}", "REQUEST_METHOD": "GET", "CONTENT_LENGTH": "0", "wsgi.input": io.BytesIO(b"")}
            answer = control.handle(environ, lambda status, headers: None)
            assert answer is not None
            return [(c["service"], c["action"], c["arns"]) for c in json.loads(b"".join(answer))["changes"]]

        _, before = wsgi("GET", "/_cpl/version")
        vpc = self.ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        group = self.ec2.create_security_group(GroupName="g", Description="d", VpcId=vpc)["GroupId"]
        permission = {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "10.0.0.5/32"}]}
        self.ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[permission])
        rule = [r for r in self.ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group]}])["SecurityGroupRules"] if not r["IsEgress"]][0]
        changed = {"IpProtocol": "tcp", "FromPort": 81, "ToPort": 81, "CidrIpv4": "10.0.0.6/32"}
        self.ec2.modify_security_group_rules(GroupId=group, SecurityGroupRules=[{"SecurityGroupRuleId": rule["SecurityGroupRuleId"], "SecurityGroupRule": changed}])
        self.ec2.revoke_security_group_ingress(GroupId=group, IpPermissions=[{**permission, "FromPort": 81, "ToPort": 81, "IpRanges": [{"CidrIp": "10.0.0.6/32"}]}])
        self.elbv2.set_security_groups(LoadBalancerArn=self.lb, SecurityGroups=[group])
        self.assertEqual(actions(before["version"]), [
            ("ec2", "CreateSecurityGroup", []),
            ("ec2", "AuthorizeSecurityGroupIngress", []),
            ("ec2", "ModifySecurityGroupRules", []),
            ("ec2", "RevokeSecurityGroupIngress", []),
            ("elbv2", "SetSecurityGroups", [self.lb]),
        ])

    def test_unknown_path_is_404_and_others_pass(self) -> None:
        self.assertEqual(wsgi("GET", "/_cpl/nothing")[0], "404 Not Found")
        self.assertIsNone(control.handle({"PATH_INFO": "/moto-api/"}, lambda *_: None))


class ModeTest(unittest.TestCase):
    def test_modes(self) -> None:
        self.assertEqual(target_health.health_mode({}), "data-plane")
        self.assertEqual(target_health.health_mode({"CPL_EMULATOR_HEALTH": "instant"}), "instant")
        with self.assertRaisesRegex(ValueError, "CPL_EMULATOR_HEALTH='sometimes'"):
            target_health.health_mode({"CPL_EMULATOR_HEALTH": "sometimes"})


if __name__ == "__main__":
    unittest.main()
