"""NLB listener attributes on the emulator (cpl_emulator/listener_attributes.py) against moto in-process."""
from __future__ import annotations

import unittest

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws

from cpl_emulator import listener_attributes

listener_attributes.install()

IDLE = "tcp.idle_timeout.seconds"


@mock_aws
class ListenerAttributesTest(unittest.TestCase):
    def setUp(self) -> None:
        ec2 = boto3.client("ec2", region_name="us-east-1")
        self.elbv2 = boto3.client("elbv2", region_name="us-east-1")
        vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        subnet = next(s["SubnetId"] for s in ec2.describe_subnets()["Subnets"] if s["VpcId"] == vpc)
        lb = self.elbv2.create_load_balancer(Name="lb", Type="network", Subnets=[subnet])["LoadBalancers"][0]["LoadBalancerArn"]
        self.listeners = {}
        for port, protocol in ((80, "TCP"), (53, "UDP")):
            tg = self.elbv2.create_target_group(Name=f"tg-{port}", Protocol=protocol, Port=port, VpcId=vpc, TargetType="ip", HealthCheckProtocol="TCP")["TargetGroups"][0]["TargetGroupArn"]
            created = self.elbv2.create_listener(LoadBalancerArn=lb, Protocol=protocol, Port=port, DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
            self.listeners[protocol] = created["Listeners"][0]["ListenerArn"]

    def idle(self, protocol: str) -> str:
        attributes = self.elbv2.describe_listener_attributes(ListenerArn=self.listeners[protocol])["Attributes"]
        return next(a["Value"] for a in attributes if a["Key"] == IDLE)

    def test_a_tcp_listener_takes_the_idle_timeout_within_its_range(self) -> None:
        self.assertEqual(self.idle("TCP"), "350")
        for value in ("60", "6000", "400"):
            self.elbv2.modify_listener_attributes(ListenerArn=self.listeners["TCP"], Attributes=[{"Key": IDLE, "Value": value}])
            self.assertEqual(self.idle("TCP"), value)

    def test_refused_whole_before_any_change(self) -> None:
        cases = [
            ("TCP", [{"Key": IDLE, "Value": "59"}]),
            ("TCP", [{"Key": IDLE, "Value": "6001"}]),
            ("TCP", [{"Key": IDLE, "Value": "ten"}]),
            ("TCP", [{"Key": IDLE, "Value": "500"}, {"Key": "routing.http.response.server.enabled", "Value": "false"}]),
            ("UDP", [{"Key": IDLE, "Value": "500"}]),
        ]
        for protocol, attributes in cases:
            with self.subTest(protocol=protocol, attributes=attributes):
                with self.assertRaises(ClientError) as refused:
                    self.elbv2.modify_listener_attributes(ListenerArn=self.listeners[protocol], Attributes=attributes)
                self.assertEqual(refused.exception.response["Error"]["Code"], "InvalidConfigurationRequest")
                self.assertEqual(self.idle(protocol), "350")


if __name__ == "__main__":
    unittest.main()
