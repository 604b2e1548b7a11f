"""QUIC and TCP_QUIC on the emulator (cpl_emulator/quic.py) against moto in-process."""
from __future__ import annotations

import unittest

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws

from cpl_emulator import quic

quic.install()


@mock_aws
class QuicTest(unittest.TestCase):
    def setUp(self) -> None:
        ec2 = boto3.client("ec2", region_name="us-east-1")
        self.elbv2 = boto3.client("elbv2", region_name="us-east-1")
        self.vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        subnet = next(s["SubnetId"] for s in ec2.describe_subnets()["Subnets"] if s["VpcId"] == self.vpc)
        self.lb = self.elbv2.create_load_balancer(Name="lb", Type="network", Subnets=[subnet])["LoadBalancers"][0]["LoadBalancerArn"]

    def test_quic_and_tcp_quic_groups_and_listeners_answer_their_protocol(self) -> None:
        for port, protocol in ((443, "QUIC"), (8443, "TCP_QUIC")):
            with self.subTest(protocol=protocol):
                tg = self.elbv2.create_target_group(Name=f"tg-{port}", Protocol=protocol, Port=port, VpcId=self.vpc, TargetType="ip", HealthCheckProtocol="TCP")["TargetGroups"][0]
                self.assertEqual(tg["Protocol"], protocol)
                listener = self.elbv2.create_listener(LoadBalancerArn=self.lb, Protocol=protocol, Port=port, DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
                self.assertEqual(listener["Listeners"][0]["Protocol"], protocol)
                described = self.elbv2.describe_target_groups(TargetGroupArns=[tg["TargetGroupArn"]])["TargetGroups"][0]
                self.assertEqual(described["Protocol"], protocol)

    def test_other_protocols_are_still_refused(self) -> None:
        with self.assertRaises(ClientError):
            self.elbv2.create_target_group(Name="tg-bad", Protocol="SCTP", Port=1, VpcId=self.vpc)


if __name__ == "__main__":
    unittest.main()
