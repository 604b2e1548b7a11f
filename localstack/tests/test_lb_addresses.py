"""The emulator's NLB addresses and capacity reservation (cpl_emulator/lb_addresses.py) against moto in-process."""
from __future__ import annotations

import ipaddress
import unittest

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws

from cpl_emulator import lb_addresses

lb_addresses.install()


@mock_aws
class LoadBalancerAddressesTest(unittest.TestCase):
    def setUp(self) -> None:
        self.ec2 = boto3.client("ec2", region_name="us-east-1")
        self.elbv2 = boto3.client("elbv2", region_name="us-east-1")
        vpc = self.ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        self.subnets = sorted((s for s in self.ec2.describe_subnets()["Subnets"] if s["VpcId"] == vpc), key=lambda s: s["SubnetId"])[:2]

    def zones(self, arn: str) -> dict[str, list[dict[str, str]]]:
        lb = self.elbv2.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]
        return {z["SubnetId"]: z.get("LoadBalancerAddresses", []) for z in lb["AvailabilityZones"]}

    def test_eip_allocations_answer_their_public_address(self) -> None:
        eips = [self.ec2.allocate_address(Domain="vpc") for _ in self.subnets]
        mappings = [{"SubnetId": s["SubnetId"], "AllocationId": e["AllocationId"]} for s, e in zip(self.subnets, eips)]
        arn = self.elbv2.create_load_balancer(Name="pub", Type="network", Scheme="internet-facing", SubnetMappings=mappings)["LoadBalancers"][0]["LoadBalancerArn"]
        want = {s["SubnetId"]: [{"IpAddress": e["PublicIp"], "AllocationId": e["AllocationId"]}] for s, e in zip(self.subnets, eips)}
        self.assertEqual(self.zones(arn), want)

    def test_private_addresses_inside_their_subnet(self) -> None:
        first = self.subnets[0]
        address = str(ipaddress.ip_network(first["CidrBlock"]).network_address + 10)
        arn = self.elbv2.create_load_balancer(Name="int", Type="network", Scheme="internal", SubnetMappings=[{"SubnetId": first["SubnetId"], "PrivateIPv4Address": address}])["LoadBalancers"][0]["LoadBalancerArn"]
        self.assertEqual(self.zones(arn), {first["SubnetId"]: [{"PrivateIPv4Address": address}]})

    def test_refused_as_aws_refuses_them_and_nothing_is_created(self) -> None:
        first = self.subnets[0]["SubnetId"]
        cases = [
            ("internet-facing", {"SubnetId": first, "AllocationId": "eipalloc-00000000"}, "AllocationIdNotFound"),
            ("internet-facing", {"SubnetId": first, "PrivateIPv4Address": "10.99.0.1"}, "InvalidConfigurationRequest"),
            ("internal", {"SubnetId": first, "PrivateIPv4Address": "10.99.0.1"}, "InvalidConfigurationRequest"),
        ]
        for scheme, mapping, code in cases:
            with self.subTest(code=code, mapping=mapping), self.assertRaises(ClientError) as raised:
                self.elbv2.create_load_balancer(Name="bad", Type="network", Scheme=scheme, SubnetMappings=[mapping])
            self.assertEqual(raised.exception.response["Error"]["Code"], code)
        self.assertEqual(self.elbv2.describe_load_balancers()["LoadBalancers"], [])

    def test_a_private_address_an_interface_holds_is_refused(self) -> None:
        first = self.subnets[0]
        address = str(ipaddress.ip_network(first["CidrBlock"]).network_address + 20)
        self.ec2.create_network_interface(SubnetId=first["SubnetId"], PrivateIpAddress=address)
        with self.assertRaises(ClientError) as raised:
            self.elbv2.create_load_balancer(Name="taken", Type="network", Scheme="internal", SubnetMappings=[{"SubnetId": first["SubnetId"], "PrivateIPv4Address": address}])
        self.assertEqual(raised.exception.response["Error"]["Code"], "InvalidConfigurationRequest")
        self.assertEqual(self.elbv2.describe_load_balancers()["LoadBalancers"], [])

    def test_capacity_reservation_is_kept_and_reset(self) -> None:
        arn = self.elbv2.create_load_balancer(Name="cap", Type="network", Subnets=[self.subnets[0]["SubnetId"]])["LoadBalancers"][0]["LoadBalancerArn"]
        self.assertNotIn("MinimumLoadBalancerCapacity", self.elbv2.describe_capacity_reservation(LoadBalancerArn=arn))
        self.elbv2.modify_capacity_reservation(LoadBalancerArn=arn, MinimumLoadBalancerCapacity={"CapacityUnits": 3000})
        self.assertEqual(self.elbv2.describe_capacity_reservation(LoadBalancerArn=arn)["MinimumLoadBalancerCapacity"], {"CapacityUnits": 3000})
        self.elbv2.modify_capacity_reservation(LoadBalancerArn=arn, ResetCapacityReservation=True)
        self.assertNotIn("MinimumLoadBalancerCapacity", self.elbv2.describe_capacity_reservation(LoadBalancerArn=arn))


if __name__ == "__main__":
    unittest.main()
