"""EC2 tags of one resource read from its own entry, not by scanning every tag of the account.

moto's TaggedEC2Resource.get_tags asks describe_tags with a resource-id filter, which walks every tag of every
EC2 resource and matches regexes against each: a DescribeSecurityGroups with a tag filter is then O(groups x all
tags). With 200 Services (a managed group each, instances, ENIs, subnets) one such call took seconds and the
emulator, busy with them, answered the NLB data plane's reads minutes late. The answer is the same list, in the
same shape, from the resource's own dict.
"""
from __future__ import annotations

from moto.ec2.models.core import TaggedEC2Resource
from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix


def _own_tags(self: TaggedEC2Resource) -> list[dict[str, str]]:
    resource_id = getattr(self, "id", None)
    if not resource_id:
        return []
    own = self.ec2_backend.tags.get(resource_id, {})  # type: ignore[attr-defined]  # a defaultdict: .get adds nothing
    resource_type = EC2_PREFIX_TO_RESOURCE.get(get_prefix(resource_id), "")
    return [{"resource_id": resource_id, "key": key, "value": value, "resource_type": resource_type} for key, value in own.items()]


def install() -> None:
    TaggedEC2Resource.get_tags = _own_tags  # type: ignore[method-assign]
