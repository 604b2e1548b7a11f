"""EC2 tag reads per resource (cpl_emulator/fast_tags.py) answer as moto's scan did, against moto in-process."""
from __future__ import annotations

import unittest

import boto3
from moto import mock_aws
from moto.ec2.models.core import TaggedEC2Resource

from cpl_emulator import fast_tags

SCANNING_GET_TAGS = TaggedEC2Resource.get_tags


@mock_aws
class FastTagsTest(unittest.TestCase):
    def setUp(self) -> None:
        self.ec2 = boto3.client("ec2", region_name="us-east-1")
        self.vpc = self.ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        self.groups = []
        for i in range(30):
            tags = [{"Key": "service.k8s.aws/stack", "Value": f"ns/svc-{i}"}, {"Key": "elbv2.k8s.aws/cluster", "Value": "c1"}]
            group = self.ec2.create_security_group(GroupName=f"g-{i}", Description="d", VpcId=self.vpc, TagSpecifications=[{"ResourceType": "security-group", "Tags": tags}])
            self.groups.append(group["GroupId"])
        self.ec2.create_tags(Resources=[self.vpc], Tags=[{"Key": "Name", "Value": "vpc"}])

    def answers(self) -> tuple[list, list, list]:
        by_stack = self.ec2.describe_security_groups(Filters=[{"Name": "tag:service.k8s.aws/stack", "Values": ["ns/svc-7"]}])["SecurityGroups"]
        by_cluster = self.ec2.describe_security_groups(Filters=[{"Name": "tag:elbv2.k8s.aws/cluster", "Values": ["c1"]}])["SecurityGroups"]
        vpc = self.ec2.describe_vpcs(VpcIds=[self.vpc])["Vpcs"][0]
        return [g["GroupId"] for g in by_stack], sorted(g["GroupId"] for g in by_cluster), sorted((t["Key"], t["Value"]) for t in vpc.get("Tags", []))

    def test_same_answers_as_the_scan(self) -> None:
        TaggedEC2Resource.get_tags = SCANNING_GET_TAGS  # type: ignore[method-assign]
        scanned = self.answers()
        fast_tags.install()
        try:
            self.assertEqual(self.answers(), scanned)
            self.assertEqual(scanned[0], [self.groups[7]])
            self.assertEqual(len(scanned[1]), 30)
            group = self.ec2.describe_security_groups(GroupIds=[self.groups[3]])["SecurityGroups"][0]
            self.assertEqual(sorted(t["Value"] for t in group["Tags"]), ["c1", "ns/svc-3"])
        finally:
            TaggedEC2Resource.get_tags = SCANNING_GET_TAGS  # type: ignore[method-assign]


if __name__ == "__main__":
    unittest.main()
