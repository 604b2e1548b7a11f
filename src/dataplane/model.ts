/**
 * What the NLB data plane should forward (ADR 0012), as a pure function of what the ELBv2/EC2 APIs say and which
 * targets are healthy. No I/O: poller.ts reads the state, nft.ts renders the result, dns.ts answers from it.
 *
 * AWS's documented behaviour (research note nlb-data-plane.md §2-§5): a listener forwards to the healthy targets
 * of its group in the LB node's own zone (cross-zone off by default), to every registered target when none is
 * healthy in any zone (fail-open); draining targets take no new flows; an LB address leaves DNS while its zone
 * has no healthy target, unless no zone has one.
 */
import type { SecureVersion } from 'node:tls';
import type { HealthCheckSpec } from './health/checker.ts';

export type Protocol = 'tcp' | 'udp';

/** A target as DescribeTargetHealth lists it. */
export interface RegisteredTarget {
  id: string;
  port: number;
  /** `all`, a zone name, or absent (instance targets, ip targets in the VPC). */
  availabilityZone?: string;
  state: string;
  reason?: string;
}

export interface TargetGroupState {
  arn: string;
  targetType: string;
  protocol: string;
  port: number;
  attributes: Record<string, string>;
  targets: RegisteredTarget[];
  /** The group's health check (health/spec.ts), for the checker. */
  healthCheck?: HealthCheckSpec;
}

export interface ListenerState {
  arn: string;
  port: number;
  protocol: string;
  /** The group of the default forward action (NLB listeners have no rules). */
  targetGroupArn?: string;
  /** DescribeListenerAttributes (`tcp.idle_timeout.seconds`), when the emulator serves it. */
  attributes?: Record<string, string>;
  /** A TLS listener's certificate ARNs, its default one first (DescribeListenerCertificates). */
  certificates?: string[];
  /** A TLS listener's ALPN policy (`None` or absent: no ALPN). */
  alpnPolicy?: string;
  /** A TLS listener's security policy (ELBSecurityPolicy-…). */
  sslPolicy?: string;
  /** That policy's protocols and ciphers (DescribeSSLPolicies), when read. */
  sslPolicyTerms?: SslPolicyTerms;
}

/** What ELBv2 says a security policy accepts: its protocols (`TLSv1` … `TLSv1.3`) and OpenSSL cipher names. */
export interface SslPolicyTerms {
  protocols: string[];
  ciphers: string[];
}

export interface LoadBalancerState {
  arn: string;
  name: string;
  dnsName: string;
  state: string;
  type: string;
  /** The LB's subnets with their zones, and the private address a subnet mapping fixed (private-ipv4-addresses). */
  subnets: { subnetId: string; zone: string; fixedAddress?: string }[];
  attributes: Record<string, string>;
  listeners: ListenerState[];
  /** The NLB's security groups (DescribeLoadBalancers); none: it filters nothing (security-groups.ts). */
  securityGroups?: string[];
}

/** One address of an NLB: its ENI in one of its subnets. */
export interface LoadBalancerAddress {
  subnetId: string;
  zone: string;
  address: string;
}

export interface NetworkFacts {
  /** Instance id → primary private IP and zone. */
  instances: ReadonlyMap<string, { address: string; zone: string }>;
  /** The VPC's subnets (to find an ip target's zone). */
  subnets: readonly { id: string; cidr: string; zone: string }[];
}

export interface Endpoint {
  address: string;
  port: number;
}

/** A target resolved to where packets go, with its health key ("id:port", as DescribeTargetHealth names it). */
export interface ResolvedTarget extends Endpoint {
  /** The registered id: an instance id or an IP address. */
  id: string;
  key: string;
  /** A zone name, or `all` (an ip target outside the VPC: eligible from every zone). */
  zone: string;
}

/** One forwarding rule: packets to address:port/protocol go to one of `targets` (flow hash). */
export interface ForwardedListener {
  loadBalancerArn: string;
  listenerArn: string;
  targetGroupArn: string;
  address: string;
  zone: string;
  port: number;
  protocol: Protocol;
  targets: Endpoint[];
  /** false: the target sees the LB address as the source (SNAT). */
  preserveClientIp: boolean;
  /** true: served by the userspace proxy with a PPv2 header, not by nftables. */
  proxyProtocolV2: boolean;
  idleTimeoutSeconds: number;
  /** A TLS listener: terminated by the userspace proxy (tls-proxy.ts) with these certificates (default first). */
  tls?: ForwardedTls;
}

export interface ForwardedTls {
  certificateArns: string[];
  /** The target group is TLS (`backend-protocol: ssl`): re-encrypted to the target, its certificate not verified. */
  backendTls: boolean;
  /** The protocols ALPN offers, in ELBv2's order of preference for the listener's policy; empty: no ALPN. */
  alpnProtocols: string[];
  /** The security policy's versions and ciphers as Node's TLS options; absent: Node's defaults. */
  policy?: TlsPolicy;
}

export interface TlsPolicy {
  minVersion: SecureVersion;
  maxVersion: SecureVersion;
  /** OpenSSL's cipher list (TLS 1.3 suites included), with the security level TLS 1.0/1.1 need in OpenSSL 3. */
  ciphers: string;
}

const TLS_VERSIONS: readonly SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** A policy's terms as Node's TLS options; undefined when it names no version Node knows. */
export function tlsPolicy(terms: SslPolicyTerms): TlsPolicy | undefined {
  const versions = TLS_VERSIONS.filter((version) => terms.protocols.includes(version));
  if (versions.length === 0) return undefined;
  const minVersion = versions[0]!;
  // OpenSSL 3's default security level refuses TLS 1.0/1.1 and SHA-1 suites: the policies that allow them need 0.
  const level = TLS_VERSIONS.indexOf(minVersion) < 2 ? ':@SECLEVEL=0' : '';
  return { minVersion, maxVersion: versions.at(-1)!, ciphers: `${terms.ciphers.join(':')}${level}` };
}

/** Listeners the userspace proxy serves (PPv2, TLS termination); nftables forwards the others. */
export const inUserspace = (listener: ForwardedListener): boolean => listener.proxyProtocolV2 || listener.tls !== undefined;

/** ELBv2's ALPN policies as the protocols a TLS server offers (NLB guide, "ALPN policies"). */
const ALPN_PROTOCOLS: Record<string, string[]> = {
  HTTP1Only: ['http/1.1'],
  HTTP2Only: ['h2'],
  HTTP2Optional: ['http/1.1', 'h2'],
  HTTP2Preferred: ['h2', 'http/1.1'],
};

/** A group some listener uses, with its targets resolved: what health checks run against. */
export interface UsedGroup {
  arn: string;
  targets: ResolvedTarget[];
  /** The port of (the first) listener forwarding to it: AWS's HTTP checks send Host LB address:this port. */
  listenerPort: number;
}

export interface DesiredDataPlane {
  listeners: ForwardedListener[];
  /** Lower-case DNS name → the addresses DNS answers with. */
  dns: Map<string, string[]>;
  groups: UsedGroup[];
}

/** Health as seen by the data plane: the "id:port" keys of a group's healthy targets. */
export type HealthyTargets = (targetGroupArn: string) => ReadonlySet<string>;

export const TCP_IDLE_SECONDS = 350;
export const UDP_IDLE_SECONDS = 120;
const TCP_IDLE_RANGE = [60, 6000] as const;

/**
 * The transport protocols of an NLB listener's protocol (TLS is TCP, terminated in userspace). QUIC is forwarded
 * as the UDP it rides on, by flow hash: AWS routes QUIC by connection ID, which survives a client's address change;
 * here a migrated connection may land on another target.
 */
const PROTOCOLS: Record<string, Protocol[]> = { TCP: ['tcp'], UDP: ['udp'], TCP_UDP: ['tcp', 'udp'], TLS: ['tcp'], QUIC: ['udp'], TCP_QUIC: ['tcp', 'udp'] };

/** States of a registered target that may take new flows (draining and not-registered ones may not). */
const takesNewFlows = (target: RegisteredTarget): boolean =>
  target.state !== 'draining' && !(target.state === 'unused' && target.reason !== 'Target.NotInUse');

export const targetKey = (target: { id: string; port: number }): string => `${target.id}:${target.port}`;

const ipv4ToNumber = (address: string): number | undefined => {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255)) return undefined;
  return parts.reduce((value, part) => value * 256 + part, 0);
};

const inCidr = (cidr: string, address: string): boolean => {
  const [base = '', prefixText = ''] = cidr.split('/');
  const start = ipv4ToNumber(base);
  const value = ipv4ToNumber(address);
  const size = 2 ** (32 - Number(prefixText));
  return start !== undefined && value !== undefined && value >= start && value < start + size;
};

/** Where a registered target's packets go and which zone it counts in; undefined while its instance is unknown. */
export function resolveTarget(group: Pick<TargetGroupState, 'targetType'>, target: RegisteredTarget, facts: NetworkFacts): ResolvedTarget | undefined {
  const key = targetKey(target);
  if (group.targetType === 'instance') {
    const instance = facts.instances.get(target.id);
    return instance && { id: target.id, key, address: instance.address, port: target.port, zone: instance.zone };
  }
  if (group.targetType !== 'ip' || ipv4ToNumber(target.id) === undefined) return undefined;
  const zone =
    target.availabilityZone && target.availabilityZone !== 'all'
      ? target.availabilityZone
      : (facts.subnets.find((subnet) => inCidr(subnet.cidr, target.id))?.zone ?? 'all');
  return { id: target.id, key, address: target.id, port: target.port, zone };
}

const isTrue = (value: string | undefined): boolean => value?.toLowerCase() === 'true';

/** The group's cross-zone setting, falling back to the load balancer's (NLB default: off). */
export const crossZoneEnabled = (group: TargetGroupState, loadBalancer: LoadBalancerState): boolean => {
  const own = group.attributes['load_balancing.cross_zone.enabled'];
  if (own === 'true' || own === 'false') return own === 'true';
  return isTrue(loadBalancer.attributes['load_balancing.cross_zone.enabled']);
};

/**
 * `preserve_client_ip.enabled` if set; else AWS's default: off for ip targets over TCP/TLS, on otherwise.
 * UDP, TCP_UDP, QUIC and TCP_QUIC groups always preserve it (AWS refuses to turn it off for them).
 */
export const preservesClientIp = (group: TargetGroupState): boolean => {
  if (['UDP', 'TCP_UDP', 'QUIC', 'TCP_QUIC'].includes(group.protocol)) return true;
  const set = group.attributes['preserve_client_ip.enabled'];
  if (set !== undefined) return isTrue(set);
  return !(group.targetType === 'ip' && (group.protocol === 'TCP' || group.protocol === 'TLS'));
};

const idleTimeoutSeconds = (protocol: Protocol, attributes: Record<string, string>): number => {
  if (protocol === 'udp') return UDP_IDLE_SECONDS;
  const set = Number(attributes['tcp.idle_timeout.seconds']);
  return Number.isInteger(set) && set >= TCP_IDLE_RANGE[0] && set <= TCP_IDLE_RANGE[1] ? set : TCP_IDLE_SECONDS;
};

/** The targets a zone's LB node sends new flows to. */
export function candidates(targets: readonly ResolvedTarget[], healthy: ReadonlySet<string>, zone: string, crossZone: boolean): ResolvedTarget[] {
  const eligible = crossZone ? [...targets] : targets.filter((target) => target.zone === zone || target.zone === 'all');
  const anyHealthy = targets.some((target) => healthy.has(target.key));
  // Fail-open: no healthy target in any zone → every registered target (AWS: "routes to all targets").
  if (!anyHealthy) return eligible;
  return eligible.filter((target) => healthy.has(target.key));
}

const endpointOrder = (a: Endpoint, b: Endpoint): number =>
  ipv4ToNumber(a.address)! - ipv4ToNumber(b.address)! || a.port - b.port;

/** Same address:port once (an instance registered twice on one port would otherwise weigh double). */
const uniqueEndpoints = (targets: readonly Endpoint[]): Endpoint[] => {
  const seen = new Map<string, Endpoint>();
  for (const target of targets) seen.set(`${target.address}:${target.port}`, { address: target.address, port: target.port });
  return [...seen.values()].sort(endpointOrder);
};

const forwardedTls = (listener: ListenerState, group: TargetGroupState): ForwardedTls => ({
  certificateArns: listener.certificates ?? [],
  backendTls: group.protocol === 'TLS',
  alpnProtocols: ALPN_PROTOCOLS[listener.alpnPolicy ?? ''] ?? [],
  ...withPolicy(listener.sslPolicyTerms ? tlsPolicy(listener.sslPolicyTerms) : undefined),
});

const withPolicy = (policy: TlsPolicy | undefined): { policy?: TlsPolicy } => (policy ? { policy } : {});

export function desiredDataPlane(
  loadBalancers: readonly LoadBalancerState[],
  groups: readonly TargetGroupState[],
  addresses: ReadonlyMap<string, readonly LoadBalancerAddress[]>,
  facts: NetworkFacts,
  healthyTargets: HealthyTargets,
): DesiredDataPlane {
  const groupByArn = new Map(groups.map((group) => [group.arn, group]));
  const used = new Map<string, UsedGroup>();
  const listeners: ForwardedListener[] = [];
  const dns = new Map<string, string[]>();

  for (const loadBalancer of loadBalancers) {
    if (loadBalancer.type !== 'network' || loadBalancer.state !== 'active') continue;
    const lbAddresses = [...(addresses.get(loadBalancer.arn) ?? [])].sort((a, b) => ipv4ToNumber(a.address)! - ipv4ToNumber(b.address)!);
    // Zones with a healthy target in some listener's group: their addresses stay in DNS.
    const zonesWithHealthy = new Set<string>();
    let anyHealthy = false;
    for (const listener of loadBalancer.listeners) {
      const group = listener.targetGroupArn ? groupByArn.get(listener.targetGroupArn) : undefined;
      const protocols = PROTOCOLS[listener.protocol];
      if (!group || !protocols) continue;
      const resolved = group.targets.filter(takesNewFlows).flatMap((target) => resolveTarget(group, target, facts) ?? []);
      if (!used.has(group.arn)) used.set(group.arn, { arn: group.arn, targets: resolved, listenerPort: listener.port });
      const healthy = healthyTargets(group.arn);
      const crossZone = crossZoneEnabled(group, loadBalancer);
      for (const target of resolved) {
        if (!healthy.has(target.key)) continue;
        anyHealthy = true;
        if (crossZone || target.zone === 'all') for (const { zone } of lbAddresses) zonesWithHealthy.add(zone);
        else zonesWithHealthy.add(target.zone);
      }
      for (const lbAddress of lbAddresses) {
        const targets = uniqueEndpoints(candidates(resolved, healthy, lbAddress.zone, crossZone));
        for (const protocol of protocols) {
          listeners.push({
            loadBalancerArn: loadBalancer.arn,
            listenerArn: listener.arn,
            targetGroupArn: group.arn,
            address: lbAddress.address,
            zone: lbAddress.zone,
            port: listener.port,
            protocol,
            targets,
            preserveClientIp: preservesClientIp(group),
            proxyProtocolV2: isTrue(group.attributes['proxy_protocol_v2.enabled']),
            idleTimeoutSeconds: idleTimeoutSeconds(protocol, listener.attributes ?? {}),
            ...(listener.protocol === 'TLS' ? { tls: forwardedTls(listener, group) } : {}),
          });
        }
      }
    }
    if (lbAddresses.length === 0) continue;
    // DNS failover: only zones with a healthy target; every address when none is healthy anywhere.
    const answered = anyHealthy ? lbAddresses.filter(({ zone }) => zonesWithHealthy.has(zone)) : lbAddresses;
    dns.set(loadBalancer.dnsName.toLowerCase(), answered.map(({ address }) => address));
  }
  return { listeners, dns, groups: [...used.values()] };
}
