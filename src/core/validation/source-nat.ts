import { BlockList, isIPv6 } from 'node:net';
import type { Problem } from './problem.ts';

/** SubnetMapping.SourceNatIpv6Prefix's value that lets ELBv2 pick the subnet's prefix itself. */
export const AUTO_ASSIGNED = 'auto_assigned';

/** The prefix length ELBv2 takes for a source NAT prefix ("an IPv6 prefix (/80 netmask) from the subnet CIDR block"). */
const PREFIX_LENGTH = '80';

/**
 * One entry of `source-nat-ipv6-prefixes` against its subnet, as the LBC's ValidateSourceNatPrefixForSubnetPair
 * (pkg/networking/utils.go) and ELBv2's SubnetMapping.SourceNatIpv6Prefix take it: `auto_assigned`, or an IPv6
 * address with length /80 inside one of the subnet's IPv6 CIDR blocks. The LBC's messages, so its users know them.
 * Blocks not read (undefined) are not judged, as requireIpv6Subnets does not judge them.
 */
export function sourceNatPrefixProblem(prefix: string, subnet: { id: string; ipv6CidrBlocks?: readonly string[] | undefined }): Problem | undefined {
  if (prefix === AUTO_ASSIGNED) return undefined;
  const parts = prefix.split('/');
  if (parts.length < 2) return { value: prefix, problem: `must be ${AUTO_ASSIGNED} or an IPv6 prefix of length /${PREFIX_LENGTH}` };
  const [address, length] = parts as [string, string];
  if (length !== PREFIX_LENGTH) return { value: prefix, problem: `Prefix length must be ${PREFIX_LENGTH}, but ${length} is specified.` };
  if (!isIPv6(address)) return { value: prefix, problem: 'Value must be a valid IPv6 CIDR.' };
  const blocks = subnet.ipv6CidrBlocks;
  if (blocks === undefined) return undefined;
  const inside = new BlockList();
  for (const cidr of blocks) {
    const [network, bits] = cidr.split('/');
    inside.addSubnet(network!, Number(bits), 'ipv6');
  }
  if (!inside.check(address, 'ipv6')) return { value: prefix, problem: `Value must be within subnet CIDR range: [${blocks.join(' ')}] (${subnet.id}).` };
  return undefined;
}
