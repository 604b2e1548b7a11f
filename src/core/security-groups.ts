import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { V1Service } from '@kubernetes/client-node';
import { ANNOTATION_PREFIX, Annotations, goBool, list, oneOf, Tags, UserError } from './annotations.ts';
import type { DesiredTargetGroup, Protocol } from './model.ts';

/**
 * The NLB security groups the aws-load-balancer-controller builds (feature gate NLBSecurityGroup, on by
 * default; pkg/service/model_build_managed_sg.go and model_build_load_balancer.go): a managed frontend group
 * per Service that lets the listener ports in from the source ranges, and the cluster's shared backend group,
 * the source of the rules on the nodes' group for the traffic and health-check ports. Pure: table-tested.
 */

export const MANAGED_SG_RESOURCE = 'ManagedLBSecurityGroup';
export const MANAGED_SG_DESCRIPTION = '[k8s] Managed SecurityGroup for LoadBalancer';
export const BACKEND_SG_RESOURCE_TAG = 'elbv2.k8s.aws/resource';
export const BACKEND_SG_RESOURCE = 'backend-sg';
export const BACKEND_SG_DESCRIPTION = '[k8s] Shared Backend SecurityGroup for LoadBalancer';
/** The description of every node rule we add; only rules with it are ever revoked (networking_manager.go). */
export const NODE_RULE_DESCRIPTION = 'elbv2.k8s.aws/targetGroupBinding=shared';

export type IpProtocol = 'tcp' | 'udp' | 'icmp' | 'icmpv6';

/**
 * security-group-prefix-lists: managed prefix lists (IDs) let in on every listener port of the managed group,
 * instead of 0.0.0.0/0 when no source range is given (the LBC's buildManagedSecurityGroupIngressPermissions).
 */
export const PREFIX_LISTS_ANNOTATION = `${ANNOTATION_PREFIX}security-group-prefix-lists`;

/**
 * One ingress rule of the managed group: a port range (ICMP: FromPort = type, ToPort = code) from one CIDR or
 * from one managed prefix list.
 */
export type IngressRule = { protocol: IpProtocol; fromPort: number; toPort: number } & ({ cidr: string } | { prefixListId: string });

/** A rule's source: its CIDR or its prefix list's ID (they never look alike: IDs start with `pl-`). */
export const ingressSource = (r: IngressRule): string => ('cidr' in r ? r.cidr : r.prefixListId);

/** The prefix lists these rules name, once each. */
export const prefixListIdsOf = (rules: IngressRule[]): string[] => [...new Set(rules.flatMap((r) => ('prefixListId' in r ? [r.prefixListId] : [])))];

/** `tcp 80 from 10.0.0.0/8`, `tcp 80 from pl-…`: for logs, the plan and `describe`. */
export const describeIngressRule = (r: IngressRule): string => `${r.protocol} ${r.fromPort === r.toPort ? r.fromPort : `${r.fromPort}-${r.toPort}`} from ${ingressSource(r)}`;

/**
 * One rule on a node group: a traffic or health-check port, from the backend group, or from `cidr` (an NLB
 * without groups). `toPort` makes it the range port..toPort: every port (0-65535) with --disable-restricted-sg-rules.
 */
export interface PortRule {
  protocol: 'tcp' | 'udp';
  port: number;
  toPort?: number;
  cidr?: string;
}

/** Every port of a protocol, as the LBC writes a networking port without a number (networking_manager.go). */
export const ALL_PORTS = { port: 0, toPort: 65535 } as const;

export interface SecurityGroupSpec {
  name: string;
  description: string;
  tags: Record<string, string>;
}

export interface DesiredSecurityGroups {
  /** The Service's own frontend group; absent when the security-groups annotation names the groups. */
  managed?: SecurityGroupSpec & { ingress: IngressRule[] };
  /** The security-groups annotation's entries (IDs or Name tags), resolved by the reader. */
  named: string[];
  /** The cluster's shared backend group, when the NLB carries it and node rules come from it. */
  backend?: SecurityGroupSpec;
  /** Rules the nodes' group needs from the backend group (empty without one). */
  nodeRules: PortRule[];
}

export const ingressKey = (r: IngressRule) => `${r.protocol}:${r.fromPort}-${r.toPort}:${ingressSource(r)}`;
export const portRuleKey = (r: PortRule) => `${r.protocol}:${r.port}${r.toPort !== undefined ? `-${r.toPort}` : ''}${r.cidr ? `<${r.cidr}` : ''}`;

const sha10 = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 10);
const alnum = (s: string) => s.replace(/[^a-zA-Z0-9]/g, '');

/** `k8s-<ns[:8]>-<name[:8]>-<sha256(cluster name ns uid)[:10]>`, as the LBC's buildManagedSecurityGroupName. */
export function managedGroupName(clusterName: string, namespace: string, name: string, uid: string): string {
  return `k8s-${alnum(namespace).slice(0, 8)}-${alnum(name).slice(0, 8)}-${sha10(clusterName + name + namespace + uid)}`;
}

/** The shared backend group, found by its tags before it is created (backend_sg_provider.go). */
export function backendGroup(clusterName: string, tags: Record<string, string> = {}): SecurityGroupSpec {
  return {
    name: `k8s-traffic-${alnum(clusterName).slice(0, 232)}-${sha10(clusterName)}`,
    description: BACKEND_SG_DESCRIPTION,
    tags: { ...tags, [Tags.cluster]: clusterName, [BACKEND_SG_RESOURCE_TAG]: BACKEND_SG_RESOURCE },
  };
}

export function boolAnnotation(service: V1Service, key: string): boolean | undefined {
  const raw = service.metadata?.annotations?.[key];
  if (raw === undefined) return undefined;
  const value = goBool(raw.trim());
  if (value === undefined) throw new UserError(`annotation ${key}`, raw, 'must be true or false');
  return value;
}

/**
 * Whether the Service's NLB gets the shared backend group: security groups on (disable-nlb-sg not true) and
 * either no security-groups annotation, or manage-backend-security-group-rules true (absent: `manageByDefault`,
 * --enable-manage-backend-security-group-rules). Used for the Service itself and to decide whether any Service
 * still needs the backend group.
 */
export function wantsBackendGroup(service: V1Service, manageByDefault = false): boolean {
  if (boolAnnotation(service, Annotations.disableNlbSecurityGroup) === true) return false;
  if (service.metadata?.annotations?.[Annotations.securityGroups] === undefined) return true;
  return boolAnnotation(service, Annotations.manageBackendSecurityGroupRules) ?? manageByDefault;
}

/**
 * Whether the Service may need node rules: from the backend group, or from CIDRs when its NLB has no groups
 * (unless manage-backend-security-group-rules is false there). Until such a Service has been observed,
 * node rules are only widened.
 */
export function mayNeedNodeRules(service: V1Service, manageByDefault = false): boolean {
  if (wantsBackendGroup(service, manageByDefault)) return true;
  return boolAnnotation(service, Annotations.disableNlbSecurityGroup) === true && boolAnnotation(service, Annotations.manageBackendSecurityGroupRules) !== false;
}

/**
 * The Service's source CIDRs (loadBalancerSourceRanges, else the annotation, else everyone, or no one when
 * prefix lists are the sources), each checked.
 */
export function sourceCidrs(service: V1Service, dualstack: boolean): string[] {
  const everyone = prefixListsOf(service) ? [] : dualstack ? ['0.0.0.0/0', '::/0'] : ['0.0.0.0/0'];
  return declaredSourceRanges(service, dualstack) ?? everyone;
}

/**
 * The security-group-prefix-lists annotation's IDs (comma-separated, as the LBC splits them); undefined when
 * absent. Whether each exists is checked by the reader, before any write (EC2 refuses a rule naming an unknown list).
 */
export function prefixListsOf(service: V1Service): string[] | undefined {
  const ids = list(service.metadata?.annotations, PREFIX_LISTS_ANNOTATION);
  for (const id of ids ?? []) {
    if (!id.startsWith('pl-')) throw new UserError(`annotation ${PREFIX_LISTS_ANNOTATION}`, id, 'is not a managed prefix list ID (pl-…)');
  }
  return ids && [...new Set(ids)];
}

/** loadBalancerSourceRanges, else the annotation, each checked (IPv6 only when allowed); undefined when neither is set. */
export function declaredSourceRanges(service: V1Service, ipv6: boolean): string[] | undefined {
  const fromSpec = service.spec?.loadBalancerSourceRanges?.filter((r) => r.trim() !== '');
  const field = fromSpec?.length ? 'spec.loadBalancerSourceRanges' : `annotation ${Annotations.sourceRanges}`;
  const ranges = fromSpec?.length ? fromSpec.map((r) => r.trim()) : list(service.metadata?.annotations, Annotations.sourceRanges);
  if (!ranges) return undefined;
  for (const cidr of ranges) {
    const family = cidrFamily(cidr);
    if (!family) throw new UserError(field, cidr, 'is not a CIDR (e.g. 203.0.113.0/24 or 2001:db8::/32)');
    if (family === 6 && !ipv6) throw new UserError(field, cidr, `an IPv6 range needs ${Annotations.ipAddressType}: dualstack`);
  }
  return [...new Set(ranges)];
}

/** 4 or 6 for an address/prefix CIDR as Go's net.ParseCIDR accepts it, else undefined. */
export function cidrFamily(cidr: string): 4 | 6 | undefined {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
  if (!match) return undefined;
  const prefix = Number(match[2]);
  if (isIPv4(match[1]!) && prefix <= 32) return 4;
  if (isIPv6(match[1]!) && prefix <= 128) return 6;
  return undefined;
}

/** The IP protocols an ELBv2 protocol carries (the LBC's: UDP and QUIC are udp, TCP_UDP and TCP_QUIC both). */
function ipProtocolsOf(protocol: Protocol): IpProtocol[] {
  if (protocol === 'TCP_UDP' || protocol === 'TCP_QUIC') return ['tcp', 'udp'];
  return protocol === 'UDP' || protocol === 'QUIC' ? ['udp'] : ['tcp'];
}

/**
 * Ingress of the managed group: every listener port × CIDR, and ICMP for path MTU discovery when on; then every
 * listener port × prefix list (no ICMP from those, as in the LBC).
 */
export function managedIngress(service: V1Service, listeners: { port: number; protocol: Protocol }[], cidrs: string[]): IngressRule[] {
  const rules: IngressRule[] = [];
  const icmp = service.metadata?.annotations?.[Annotations.icmpForPathMtuDiscovery]?.trim() === 'on';
  for (const cidr of cidrs) {
    const v6 = cidrFamily(cidr) === 6;
    for (const listener of listeners) {
      const protocols: IpProtocol[] = ipProtocolsOf(listener.protocol);
      for (const protocol of protocols) rules.push({ protocol, fromPort: listener.port, toPort: listener.port, cidr });
    }
    // "Destination unreachable, fragmentation needed" (v4 type 3 code 4) and "packet too big" (v6 type 2 code 0).
    if (icmp) rules.push(v6 ? { protocol: 'icmpv6', fromPort: 2, toPort: 0, cidr } : { protocol: 'icmp', fromPort: 3, toPort: 4, cidr });
  }
  for (const prefixListId of prefixListsOf(service) ?? []) {
    for (const listener of listeners) {
      for (const protocol of ipProtocolsOf(listener.protocol)) rules.push({ protocol, fromPort: listener.port, toPort: listener.port, prefixListId });
    }
  }
  return rules;
}

/**
 * What the nodes' group must let in from the backend group for one target group (the LBC's
 * buildTargetGroupBindingNetworking). Restricted (its default): the traffic port in the group's protocol (TCP
 * too for TCP_UDP, and for UDP when the health check uses the traffic port, by name or by number), and another
 * health-check port over TCP. `unrestricted` (--disable-restricted-sg-rules): every TCP port, and every UDP port
 * for groups that carry UDP (UDP, TCP_UDP, QUIC, TCP_QUIC); health checks are TCP, so covered.
 */
export function nodeRulesFor(targetGroups: Pick<DesiredTargetGroup, 'protocol' | 'port' | 'healthCheck'>[], unrestricted = false): PortRule[] {
  const rules = new Map<string, PortRule>();
  const add = (rule: PortRule) => rules.set(portRuleKey(rule), rule);
  for (const tg of targetGroups) {
    if (unrestricted) {
      add({ protocol: 'tcp', ...ALL_PORTS });
      if (ipProtocolsOf(tg.protocol).includes('udp')) add({ protocol: 'udp', ...ALL_PORTS });
      continue;
    }
    const checksTrafficPort = tg.healthCheck.port === 'traffic-port' || Number(tg.healthCheck.port) === tg.port;
    if (tg.protocol === 'TCP' || tg.protocol === 'TLS') add({ protocol: 'tcp', port: tg.port });
    else {
      add({ protocol: 'udp', port: tg.port });
      if (tg.protocol === 'TCP_UDP' || tg.protocol === 'TCP_QUIC' || checksTrafficPort) add({ protocol: 'tcp', port: tg.port });
    }
    if (!checksTrafficPort) add({ protocol: 'tcp', port: Number(tg.healthCheck.port) });
  }
  return [...rules.values()].sort((a, b) => a.protocol.localeCompare(b.protocol) || a.port - b.port);
}

/**
 * The Service's security groups, or undefined when it wants none (disable-nlb-sg: "true"). The caller has
 * checked the additional tags; they go on the managed group as on every resource of the Service.
 */
export function buildSecurityGroups(input: {
  service: V1Service;
  clusterName: string;
  additionalTags: Record<string, string>;
  listeners: { port: number; protocol: Protocol }[];
  targetGroups: DesiredTargetGroup[];
  /** --enable-manage-backend-security-group-rules and --disable-restricted-sg-rules (both false when absent). */
  flags?: { enableManageBackendSGRules: boolean; disableRestrictedSGRules: boolean };
}): DesiredSecurityGroups | undefined {
  const { service, clusterName } = input;
  const annotations = service.metadata?.annotations;
  const dualstack = oneOf(annotations, Annotations.ipAddressType, ['ipv4', 'dualstack'] as const, 'ipv4') === 'dualstack';
  // Parsed even when unused, so a typo is reported whatever the other annotations say.
  const manageBackend = boolAnnotation(service, Annotations.manageBackendSecurityGroupRules);
  if (boolAnnotation(service, Annotations.disableNlbSecurityGroup) === true) return undefined;
  const named = list(annotations, Annotations.securityGroups);
  const backend = named === undefined || (manageBackend ?? input.flags?.enableManageBackendSGRules === true);
  const result: DesiredSecurityGroups = { named: named ?? [], nodeRules: backend ? nodeRulesFor(input.targetGroups, input.flags?.disableRestrictedSGRules) : [] };
  if (backend) result.backend = backendGroup(clusterName);
  if (named === undefined) {
    const namespace = service.metadata?.namespace ?? 'default';
    const name = service.metadata?.name ?? '';
    result.managed = {
      name: managedGroupName(clusterName, namespace, name, service.metadata?.uid ?? ''),
      description: MANAGED_SG_DESCRIPTION,
      tags: { ...input.additionalTags, [Tags.cluster]: clusterName, [Tags.stack]: `${namespace}/${name}`, [Tags.resource]: MANAGED_SG_RESOURCE },
      ingress: managedIngress(service, input.listeners, sourceCidrs(service, dualstack)),
    };
  }
  return result;
}
