"""EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic on the emulator (cpl_emulator/private_link.py) against moto in-process."""
from __future__ import annotations

import unittest

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws

from cpl_emulator import private_link

private_link.install()

FIELD = "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic"


@mock_aws
class PrivateLinkTest(unittest.TestCase):
    def setUp(self) -> None:
        ec2 = boto3.client("ec2", region_name="us-east-1")
        self.elbv2 = boto3.client("elbv2", region_name="us-east-1")
        vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        self.subnet = next(s["SubnetId"] for s in ec2.describe_subnets()["Subnets"] if s["VpcId"] == vpc)
        self.group = ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]

    def describe(self, arn: str) -> dict:
        return self.elbv2.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]

    def test_on_by_default_with_groups_then_set_and_read_back(self) -> None:
        arn = self.elbv2.create_load_balancer(Name="lb", Type="network", Subnets=[self.subnet], SecurityGroups=[self.group])["LoadBalancers"][0]["LoadBalancerArn"]
        self.assertEqual(self.describe(arn)[FIELD], "on")
        answer = self.elbv2.set_security_groups(LoadBalancerArn=arn, SecurityGroups=[self.group], EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic="off")
        self.assertEqual(answer[FIELD], "off")
        self.assertEqual(answer["SecurityGroupIds"], [self.group])
        self.assertEqual(self.describe(arn)[FIELD], "off")
        # Without the field the setting stays as it was.
        self.elbv2.set_security_groups(LoadBalancerArn=arn, SecurityGroups=[self.group])
        self.assertEqual(self.describe(arn)[FIELD], "off")

    def test_absent_without_groups(self) -> None:
        arn = self.elbv2.create_load_balancer(Name="bare", Type="network", Subnets=[self.subnet])["LoadBalancers"][0]["LoadBalancerArn"]
        self.assertNotIn(FIELD, self.describe(arn))

    def test_other_values_refused_before_any_change(self) -> None:
        arn = self.elbv2.create_load_balancer(Name="lb2", Type="network", Subnets=[self.subnet], SecurityGroups=[self.group])["LoadBalancers"][0]["LoadBalancerArn"]
        with self.assertRaises(ClientError) as refused:
            self.elbv2.set_security_groups(LoadBalancerArn=arn, SecurityGroups=[self.group], EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic="maybe")
        self.assertEqual(refused.exception.response["Error"]["Code"], "ValidationError")
        self.assertEqual(self.describe(arn)[FIELD], "on")


if __name__ == "__main__":
    unittest.main()
