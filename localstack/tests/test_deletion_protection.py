"""Deletion protection on the emulator (cpl_emulator/deletion_protection.py) against moto in-process."""
from __future__ import annotations

import unittest

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws

from cpl_emulator import deletion_protection

deletion_protection.install()


@mock_aws
class DeletionProtectionTest(unittest.TestCase):
    def setUp(self) -> None:
        ec2 = boto3.client("ec2", region_name="us-east-1")
        self.elbv2 = boto3.client("elbv2", region_name="us-east-1")
        vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        subnet = next(s["SubnetId"] for s in ec2.describe_subnets()["Subnets"] if s["VpcId"] == vpc)
        self.arn = self.elbv2.create_load_balancer(Name="lb", Type="network", Subnets=[subnet])["LoadBalancers"][0]["LoadBalancerArn"]

    def protect(self, on: bool) -> None:
        self.elbv2.modify_load_balancer_attributes(LoadBalancerArn=self.arn, Attributes=[{"Key": "deletion_protection.enabled", "Value": str(on).lower()}])

    def test_a_protected_load_balancer_is_not_deleted(self) -> None:
        self.protect(True)
        with self.assertRaises(ClientError) as raised:
            self.elbv2.delete_load_balancer(LoadBalancerArn=self.arn)
        self.assertEqual(raised.exception.response["Error"]["Code"], "OperationNotPermitted")
        self.assertEqual(len(self.elbv2.describe_load_balancers()["LoadBalancers"]), 1)

    def test_protection_turned_off_lets_it_go(self) -> None:
        self.protect(True)
        self.protect(False)
        self.elbv2.delete_load_balancer(LoadBalancerArn=self.arn)
        self.assertEqual(self.elbv2.describe_load_balancers()["LoadBalancers"], [])


if __name__ == "__main__":
    unittest.main()
