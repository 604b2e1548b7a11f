import { BlockList, isIP } from 'node:net';
import { Annotations, list, oneOf, UserError } from './annotations.ts';
import { sourceNatIpv6PrefixesOf, type EnablePrefixForIpv6SourceNat } from './ipv6-source-nat.ts';
import type { Scheme, SubnetInfo } from './model.ts';

type AnnotationMap = Record<string, string> | undefined;

export type IpAddressType = 'ipv4' | 'dualstack';

/** CreateLoadBalancer's SubnetMapping: the subnet, and the fixed addresses the Service asks for in it. */
export interface SubnetMapping {
  subnetId: string;
  allocationId?: string;
  privateIPv4Address?: string;
  ipv6Address?: string;
  /** `auto_assigned` or a /80 of the subnet, with enable-prefix-for-ipv6-source-nat on (ipv6-source-nat.ts). */
  sourceNatIpv6Prefix?: string;
}

/** `ip-address-type`: ipv4 (default) or dualstack, exactly as written (the LBC refuses `DualStack`). */
export const ipAddressTypeOf = (annotations: AnnotationMap): IpAddressType => oneOf(annotations, Annotations.ipAddressType, ['ipv4', 'dualstack'] as const, 'ipv4');

/**
 * A dualstack NLB needs an IPv6 CIDR block in each of its subnets (ELBv2's CreateLoadBalancer; the LBC's
 * validateSubnetsIPv6CIDR says so before the call): a UserError naming ip-address-type otherwise. Subnets whose
 * IPv6 blocks were not read (undefined) are not judged.
 */
export function requireIpv6Subnets(annotations: AnnotationMap, ipAddressType: IpAddressType, subnets: SubnetInfo[]): void {
  if (ipAddressType !== 'dualstack') return;
  const without = subnets.filter((s) => s.ipv6CidrBlocks !== undefined && s.ipv6CidrBlocks.length === 0).map((s) => s.id);
  if (without.length > 0) {
    throw new UserError(`annotation ${Annotations.ipAddressType}`, annotations![Annotations.ipAddressType]!, `subnets [${without.join(' ')}] do not have an associated IPv6 CIDR block, which is required for dualstack load balancers`);
  }
}

/**
 * The NLB's subnet mappings as the LBC's buildLoadBalancerSubnetMappings builds them
 * (model_build_load_balancer.go): `eip-allocations` only on an internet-facing NLB, `private-ipv4-addresses`
 * only on an internal one, `ipv6-addresses` only on a dualstack one; each list as long as the subnets, and each
 * address inside exactly one of them (given in any order, placed by CIDR); `source-nat-ipv6-prefixes` in the
 * subnets' order. Undefined when none is set, so CreateLoadBalancer gets plain Subnets as before.
 *
 * ELBv2 fixes these addresses when it creates the NLB; the LBC never replaces an NLB for them (only a scheme
 * or type change does, load_balancer_synthesizer.go) and calls SetSubnets only when the set of subnets
 * changes, so a changed list on a live NLB has no effect until the NLB is created again. We do the same, and
 * make no SetSubnets at all (ADR 0016), so changed source NAT prefixes also wait for a new NLB.
 */
export function subnetMappingsOf(
  annotations: AnnotationMap,
  scheme: Scheme,
  ipAddressType: IpAddressType,
  subnets: SubnetInfo[],
  enablePrefixForIpv6SourceNat?: EnablePrefixForIpv6SourceNat,
): SubnetMapping[] | undefined {
  const field = (key: string) => `annotation ${key}`;
  const counted = (key: string, what: string, values: string[] | undefined) => {
    if (values && values.length !== subnets.length) {
      throw new UserError(field(key), annotations![key]!, `count of ${what} (${values.length}) and subnets (${subnets.length}) must match`);
    }
    return values;
  };
  const eips = list(annotations, Annotations.eipAllocations);
  if (eips && scheme !== 'internet-facing') throw new UserError(field(Annotations.eipAllocations), annotations![Annotations.eipAllocations]!, 'EIP allocations can only be set for internet facing load balancers');
  counted(Annotations.eipAllocations, 'EIP allocations', eips);

  const ipv4 = list(annotations, Annotations.privateIpv4Addresses);
  if (ipv4 && scheme !== 'internal') throw new UserError(field(Annotations.privateIpv4Addresses), annotations![Annotations.privateIpv4Addresses]!, 'private IPv4 addresses can only be set for internal load balancers');
  counted(Annotations.privateIpv4Addresses, 'private IPv4 addresses', ipv4);
  for (const address of ipv4 ?? []) addressOf(Annotations.privateIpv4Addresses, 'private IPv4 addresses', address, 4);

  const ipv6 = list(annotations, Annotations.ipv6Addresses);
  if (ipv6 && ipAddressType !== 'dualstack') throw new UserError(field(Annotations.ipv6Addresses), annotations![Annotations.ipv6Addresses]!, 'IPv6 addresses can only be set for dualstack load balancers');
  counted(Annotations.ipv6Addresses, 'IPv6 addresses', ipv6);
  for (const address of ipv6 ?? []) addressOf(Annotations.ipv6Addresses, 'IPv6 addresses', address, 6);

  const sourceNat = sourceNatIpv6PrefixesOf(annotations, ipAddressType, enablePrefixForIpv6SourceNat, subnets);

  if (!eips && !ipv4 && !ipv6 && !sourceNat) return undefined;
  return subnets.map((subnet, index) => {
    const mapping: SubnetMapping = { subnetId: subnet.id };
    if (eips) mapping.allocationId = eips[index]!;
    if (sourceNat) mapping.sourceNatIpv6Prefix = sourceNat[index]!;
    if (ipv4) mapping.privateIPv4Address = oneInside(Annotations.privateIpv4Addresses, 'private IPv4 address', ipv4, subnet.cidrBlock ? [subnet.cidrBlock] : [], subnet.id, 'ipv4');
    if (ipv6) mapping.ipv6Address = oneInside(Annotations.ipv6Addresses, 'IPv6 address', ipv6, subnet.ipv6CidrBlocks ?? [], subnet.id, 'ipv6');
    return mapping;
  });
}

function addressOf(key: string, what: string, address: string, family: 4 | 6): void {
  const found = isIP(address);
  if (found === 0) throw new UserError(`annotation ${key}`, address, `${what} must be valid IP address`);
  if (found !== family) throw new UserError(`annotation ${key}`, address, `${what} must be valid IPv${family} address`);
}

/** The one address of the list inside the subnet's CIDRs (the LBC's FilterIPsWithinCIDRs, exactly one expected). */
function oneInside(key: string, what: string, addresses: string[], cidrs: string[], subnetId: string, family: 'ipv4' | 'ipv6'): string {
  const inside = new BlockList();
  for (const cidr of cidrs) {
    const [network, prefix] = cidr.split('/');
    inside.addSubnet(network!, Number(prefix), family);
  }
  const matching = addresses.filter((address) => inside.check(address, family));
  if (matching.length !== 1) throw new UserError(`annotation ${key}`, addresses.join(', '), `expect one ${what} configured for subnet: ${subnetId}`);
  return matching[0]!;
}
