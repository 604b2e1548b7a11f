import type { V1Service } from '@kubernetes/client-node';
import { Annotations, goBool, UserError } from './annotations.ts';
import type { DesiredTargetGroup, Scheme } from './model.ts';
import { boolAnnotation, declaredSourceRanges, portRuleKey, type PortRule } from './security-groups.ts';

/**
 * Node rules for an NLB without security groups (disable-nlb-sg, or one created without any), as the LBC's
 * buildTargetGroupBindingNetworkingLegacy builds them (pkg/service/model_build_target_group.go): with no group
 * to name as the source, the nodes' group lets CIDRs in. Traffic comes from the NLB's subnets, or, when the
 * targets see the client's address (UDP/QUIC/TCP_UDP/TCP_QUIC, or preserve_client_ip on: instance targets by
 * default), from the Service's source ranges, else 0.0.0.0/0, else (internal) the VPC's CIDRs. Health checks
 * always come from the subnets, so they get a rule of their own unless the traffic rule already covers them.
 * An IPv6 target group (an IPv6 Service) takes the IPv6 side of each: the subnets' and the VPC's IPv6 CIDRs, ::/0.
 * Pure: table-tested with the LBC's own cases.
 */

export interface LegacyInput {
  service: V1Service;
  targetGroups: DesiredTargetGroup[];
  scheme: Scheme;
  /** IPv4 CIDRs of the NLB's subnets. */
  subnetCidrs: string[];
  /** IPv6 CIDRs of the NLB's subnets (for IPv6 target groups). */
  subnetIpv6Cidrs?: string[];
  /** The VPC's associated IPv4 CIDRs (the default source of an internal NLB that preserves client IPs). */
  vpcCidrs: string[];
  /** The VPC's associated IPv6 CIDRs (the same for IPv6 target groups). */
  vpcIpv6Cidrs?: string[];
}

const PRESERVE_CLIENT_IP = 'preserve_client_ip.enabled';
const ANYWHERE = new Set(['0.0.0.0/0', '::/0']);

/** The LBC's buildPreserveClientIPFlag: the attribute, else on for instance targets and off for ip targets. */
export function preservesClientIp(tg: DesiredTargetGroup): boolean {
  const value = tg.attributes[PRESERVE_CLIENT_IP];
  return (value === undefined ? undefined : goBool(value)) ?? tg.targetType === 'instance';
}

/**
 * Every CIDR rule the Service's target groups need on their nodes' group, or none with
 * manage-backend-security-group-rules: "false" (the LBC then leaves the nodes' group to the user). A source
 * range that is not a CIDR is a UserError naming it.
 */
export function legacyNodeRules(input: LegacyInput): PortRule[] {
  const { service } = input;
  if (boolAnnotation(service, Annotations.manageBackendSecurityGroupRules) === false) return [];
  const declared = declaredSourceRanges(service, true);
  const rules = new Map<string, PortRule>();
  const add = (protocol: PortRule['protocol'], port: number, cidrs: string[]) => {
    for (const cidr of cidrs) rules.set(portRuleKey({ protocol, port, cidr }), { protocol, port, cidr });
  };
  for (const tg of input.targetGroups) {
    const preserve = preservesClientIp(tg);
    const udpish = tg.protocol === 'UDP' || tg.protocol === 'QUIC' || tg.protocol === 'TCP_UDP' || tg.protocol === 'TCP_QUIC';
    // getLoadBalancerSubnetsSourceRanges and getDefaultIPSourceRanges: the target group's family.
    const ipv6 = tg.ipAddressType === 'ipv6';
    const subnetCidrs = ipv6 ? (input.subnetIpv6Cidrs ?? []) : input.subnetCidrs;
    let traffic = subnetCidrs;
    let defaultUsed = false;
    if (udpish || preserve) {
      traffic = declared ?? (input.scheme === 'internal' ? ((ipv6 ? input.vpcIpv6Cidrs : input.vpcCidrs) ?? []) : [ipv6 ? '::/0' : '0.0.0.0/0']);
      defaultUsed = declared === undefined;
    }
    if (tg.protocol === 'TCP_UDP' || tg.protocol === 'TCP_QUIC') {
      add('tcp', tg.port, traffic);
      add('udp', tg.port, traffic);
    } else add(tg.protocol === 'UDP' || tg.protocol === 'QUIC' ? 'udp' : 'tcp', tg.port, traffic);

    // buildHealthCheckSourceCIDRs: a TCP check on the traffic port is already let in, unless the traffic rule
    // names client ranges that leave the subnets out; UDP and other ports always get the subnets.
    const onTrafficPort = tg.healthCheck.port === 'traffic-port' || Number(tg.healthCheck.port) === tg.port;
    const coveredByTraffic = tg.protocol !== 'UDP' && onTrafficPort && (!preserve || defaultUsed || traffic.some((c) => ANYWHERE.has(c)));
    if (!coveredByTraffic) add('tcp', onTrafficPort ? tg.port : Number(tg.healthCheck.port), subnetCidrs);
  }
  return [...rules.values()];
}

/** For an NLB that has groups unless it was made without: a bad source range there is not an error (the LBC never reads it). */
export function legacyNodeRulesIfValid(input: LegacyInput): PortRule[] {
  try {
    return legacyNodeRules(input);
  } catch (error) {
    if (error instanceof UserError) return [];
    throw error;
  }
}
