"""An NLB's fixed addresses and capacity reservation as ELBv2 keeps them, where moto 5.2.5 drops them (docs/emulator.md):

- CreateLoadBalancer's SubnetMappings keep their AllocationId (an Elastic IP of the account: its public address
  becomes the zone's IpAddress), PrivateIPv4Address (inside the subnet, internal NLBs only) and IPv6Address, and
  DescribeLoadBalancers answers them as each zone's LoadBalancerAddresses. Refused as AWS refuses them: an EIP
  that does not exist (AllocationIdNotFound), an EIP on an internal NLB or a private address on an internet-facing
  one, an address outside its subnet or one a network interface holds (InvalidConfigurationRequest).
- ModifyCapacityReservation keeps MinimumLoadBalancerCapacity (ResetCapacityReservation clears it) and
  DescribeCapacityReservation answers it (moto answers a fixed `provisioned` and has no Modify).
"""
from __future__ import annotations

import ipaddress
from typing import Any

from moto.elbv2 import models, responses
from moto.elbv2.exceptions import ELBClientError as RESTError


def _zone_addresses(backend: Any, mapping: dict[str, Any], scheme: str, cidr: str) -> list[dict[str, str]]:
    addresses: list[dict[str, str]] = []
    allocation = mapping.get("AllocationId")
    if allocation:
        if scheme != "internet-facing":
            raise RESTError("InvalidConfigurationRequest", "Elastic IP addresses can only be used with internet-facing load balancers")
        found = [a for a in backend.ec2_backend.describe_addresses() if a.allocation_id == allocation]
        if not found:
            raise RESTError("AllocationIdNotFound", f"Elastic IP allocation '{allocation}' not found")
        addresses.append({"IpAddress": found[0].public_ip, "AllocationId": allocation})
    private = mapping.get("PrivateIPv4Address")
    if private:
        if scheme != "internal":
            raise RESTError("InvalidConfigurationRequest", "Private IPv4 addresses can only be used with internal load balancers")
        if ipaddress.ip_address(private) not in ipaddress.ip_network(cidr):
            raise RESTError("InvalidConfigurationRequest", f"Private IPv4 address '{private}' is not in subnet {mapping['SubnetId']} ({cidr})")
        if _address_in_use(backend, private):
            raise RESTError("InvalidConfigurationRequest", f"Private IPv4 address '{private}' is already in use")
        addresses.append({"PrivateIPv4Address": private})
    ipv6 = mapping.get("IPv6Address")
    if ipv6:
        addresses.append({"IPv6Address": ipv6})
    return addresses


def _address_in_use(backend: Any, address: str) -> bool:
    """Whether a network interface holds the address, as primary or secondary (AWS refuses such a mapping)."""
    for eni in backend.ec2_backend.enis.values():
        held = {eni.private_ip_address, *(entry.get("PrivateIpAddress") for entry in eni.private_ip_addresses)}
        if address in held:
            return True
    return False


def install() -> None:
    if getattr(models.FakeLoadBalancer, "_cpl_addresses_patched", False):
        return
    original_create = models.ELBv2Backend.create_load_balancer

    def create_load_balancer(self: Any, *args: Any, **kwargs: Any) -> Any:
        mappings = kwargs.get("subnet_mappings") or []
        scheme = kwargs.get("scheme") or "internet-facing"
        # Checked before moto creates anything, so a refused request leaves no NLB behind (as on AWS).
        by_subnet = {m["SubnetId"]: _zone_addresses(self, m, scheme, self.ec2_backend.get_subnet(m["SubnetId"]).cidr_block) for m in mappings}
        load_balancer = original_create(self, *args, **kwargs)
        load_balancer._cpl_addresses = by_subnet
        return load_balancer

    def availability_zones(self: Any) -> list[Any]:
        zones = [models.AvailabilityZone(subnet) for subnet in self.subnets]
        for zone in zones:
            addresses = getattr(self, "_cpl_addresses", {}).get(zone.subnet_id)
            if addresses:
                zone.load_balancer_addresses = addresses
        return zones

    def modify_capacity_reservation(self: Any) -> Any:
        params = self._get_params()
        load_balancer = self.elbv2_backend.describe_load_balancers(arns=[params["LoadBalancerArn"]], names=None)[0]
        if params.get("ResetCapacityReservation"):
            load_balancer._cpl_capacity_units = None
        else:
            load_balancer._cpl_capacity_units = int(params["MinimumLoadBalancerCapacity"]["CapacityUnits"])
        return describe_capacity_reservation(self)

    def describe_capacity_reservation(self: Any) -> Any:
        params = self._get_params()
        load_balancer = self.elbv2_backend.describe_load_balancers(arns=[params["LoadBalancerArn"]], names=None)[0]
        units = getattr(load_balancer, "_cpl_capacity_units", None)
        result: dict[str, Any] = {"CapacityReservationState": [{"State": {"Code": "provisioned"}}]}
        if units is not None:
            result["MinimumLoadBalancerCapacity"] = {"CapacityUnits": units}
        return responses.ActionResult(result)

    models.ELBv2Backend.create_load_balancer = create_load_balancer
    models.FakeLoadBalancer.availability_zones = property(availability_zones)
    responses.ELBV2Response.modify_capacity_reservation = modify_capacity_reservation
    responses.ELBV2Response.describe_capacity_reservation = describe_capacity_reservation
    models.FakeLoadBalancer._cpl_addresses_patched = True
