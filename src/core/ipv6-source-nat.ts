import { Annotations, list, reject, UserError } from './annotations.ts';
import type { SubnetInfo } from './model.ts';
import type { IpAddressType } from './subnet-mappings.ts';
import { sourceNatPrefixProblem } from './validation/source-nat.ts';

type AnnotationMap = Record<string, string> | undefined;

export type EnablePrefixForIpv6SourceNat = 'on' | 'off';

/**
 * `enable-prefix-for-ipv6-source-nat` as the LBC's buildLoadBalancerEnablePrefixForIpv6SourceNat and
 * ValidateEnablePrefixForIpv6SourceNat (pkg/networking/utils.go) read it: `on` or `off`; `on` only on a dualstack
 * NLB whose subnets all have an IPv6 CIDR block (subnets whose blocks were not read are not judged). Undefined
 * when absent: ELBv2's default, off, and nothing sent. The LBC's messages, so its users know them.
 */
export function enablePrefixForIpv6SourceNatOf(annotations: AnnotationMap, ipAddressType: IpAddressType, subnets: SubnetInfo[]): EnablePrefixForIpv6SourceNat | undefined {
  const key = Annotations.enablePrefixForIpv6SourceNat;
  const raw = annotations?.[key];
  if (raw === undefined) return undefined;
  const field = `annotation ${key}`;
  if (raw !== 'on' && raw !== 'off') throw new UserError(field, raw, "Valid values are ['on', 'off'].");
  if (raw === 'off') return raw;
  if (ipAddressType !== 'dualstack') {
    throw new UserError(field, raw, `enable-prefix-for-ipv6-source-nat annotation is only applicable to Network Load Balancers using Dualstack IP address type (${Annotations.ipAddressType}: dualstack).`);
  }
  const without = subnets.filter((s) => s.ipv6CidrBlocks !== undefined && s.ipv6CidrBlocks.length === 0).map((s) => s.id);
  if (without.length > 0) throw new UserError(field, raw, `To enable prefix for source NAT, all associated subnets must have an IPv6 CIDR. Subnets without IPv6 CIDR: [${without.join(' ')}].`);
  return raw;
}

/**
 * `source-nat-ipv6-prefixes`, one per subnet in the subnets' order, as the LBC's ValidateSourceNatPrefixes: only on
 * a dualstack NLB with `enable-prefix-for-ipv6-source-nat: on`, as many as subnets, each `auto_assigned` or a /80
 * inside its subnet's IPv6 blocks (validation/source-nat.ts). Undefined when absent: with prefixes on, ELBv2
 * assigns each subnet's itself.
 */
export function sourceNatIpv6PrefixesOf(annotations: AnnotationMap, ipAddressType: IpAddressType, enablePrefix: EnablePrefixForIpv6SourceNat | undefined, subnets: SubnetInfo[]): string[] | undefined {
  const key = Annotations.sourceNatIpv6Prefixes;
  const prefixes = list(annotations, key);
  if (!prefixes) return undefined;
  const field = `annotation ${key}`;
  const raw = annotations![key]!;
  if (ipAddressType !== 'dualstack') throw new UserError(field, raw, 'source-nat-ipv6-prefixes annotation can only be set for Network Load Balancers using Dualstack IP address type.');
  if (enablePrefix !== 'on') throw new UserError(field, raw, `source-nat-ipv6-prefixes annotation is only applicable if ${Annotations.enablePrefixForIpv6SourceNat} annotation is set to on.`);
  if (prefixes.length !== subnets.length) throw new UserError(field, raw, `Number of values in source-nat-ipv6-prefixes (${prefixes.length}) must match the number of subnets (${subnets.length}).`);
  prefixes.forEach((prefix, index) => reject(key, sourceNatPrefixProblem(prefix, subnets[index]!)));
  return prefixes;
}
