/**
 * Who may reach an NLB and its targets (ADR 0014), as pure functions of what EC2 and ELBv2 say. No I/O:
 * aws.ts reads the groups and interfaces, nft-security.ts renders the result into the router's nftables.
 *
 * As AWS documents it:
 * - "Security groups for your Network Load Balancer" (docs.aws.amazon.com/elasticloadbalancing/latest/network/
 *   load-balancer-security-groups.html): an NLB's groups filter the client traffic to its listeners; a flow is
 *   let in when some inbound rule of some group allows its source for its protocol and port; an NLB created
 *   without groups filters nothing. Health checks obey only the groups' outbound rules (not modelled: the
 *   default egress allows all).
 * - "Target security groups" (…/network/target-group-register-targets.html#target-security-groups): the
 *   target's own groups see the client's address when client IP preservation is on, else the NLB's private
 *   address; health checks come from the NLB's address; a rule that references one of the NLB's groups allows
 *   both traffic and health checks, with or without client IP preservation.
 * - A source group in a rule stands for the private addresses of the network interfaces in that group (EC2
 *   "Security group rules": "the private IP addresses of the resources associated with the specified group").
 * - A managed prefix list in a rule stands for its entries' CIDRs (aws.ts reads them into the rule's `cidrs`).
 * ICMP rules are ignored (the data plane forwards TCP and UDP only); IPv6 ranges too.
 */
import type { LoadBalancerState, Protocol } from './model.ts';

/** One inbound rule as DescribeSecurityGroups lists it (IpPermissions), IPv4 parts only. */
export interface IngressRule {
  /** `tcp`, `udp`, `icmp`, `-1` (all) or a protocol number. */
  protocol: string;
  fromPort?: number;
  toPort?: number;
  /** Its IPv4 ranges and the entries of the prefix lists it names. */
  cidrs: string[];
  /** Referenced (source) group IDs. */
  groups: string[];
}

/** A network interface in the VPC: its private addresses (primary and secondary) and its groups. */
export interface InterfaceFacts {
  id: string;
  addresses: string[];
  groups: string[];
}

export interface SecurityFacts {
  /** Group ID → its inbound rules. */
  rules: ReadonlyMap<string, readonly IngressRule[]>;
  interfaces: readonly InterfaceFacts[];
}

export const NO_SECURITY_FACTS: SecurityFacts = { rules: new Map(), interfaces: [] };

const PROTOCOL_NUMBERS: Record<string, Protocol> = { '6': 'tcp', '17': 'udp' };

/** Whether a rule covers `protocol` on `port`: `-1` is every protocol and port; tcp/udp by their range. */
export function ruleCovers(rule: IngressRule, protocol: Protocol, port: number): boolean {
  if (rule.protocol === '-1') return true;
  const own = PROTOCOL_NUMBERS[rule.protocol] ?? rule.protocol.toLowerCase();
  if (own !== protocol) return false;
  // AWS: -1 or absent ports with tcp/udp mean all ports (the CLI's `--port all`); else an inclusive range.
  const from = rule.fromPort === undefined || rule.fromPort === -1 ? 0 : rule.fromPort;
  const to = rule.toPort === undefined || rule.toPort === -1 ? 65535 : rule.toPort;
  return port >= from && port <= to;
}

const ipv4 = (address: string): number | undefined => {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255)) return undefined;
  return parts.reduce((value, part) => value * 256 + part, 0);
};

/** `a.b.c.d/n` → [first, size], the base masked to the prefix; undefined when it is not an IPv4 CIDR. */
const cidrRange = (cidr: string): [number, number] | undefined => {
  const [base = '', prefixText] = cidr.split('/');
  const prefix = prefixText === undefined ? 32 : Number(prefixText);
  const start = ipv4(base);
  if (start === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  return [start - (start % size), size];
};

export function cidrContains(cidr: string, address: string): boolean {
  const range = cidrRange(cidr);
  const value = ipv4(address);
  return range !== undefined && value !== undefined && value >= range[0] && value < range[0] + range[1];
}

const toAddress = (value: number): string => [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');

/**
 * The same set of addresses with no CIDR inside another and every base masked (`10.0.0.5/16` → `10.0.0.0/16`),
 * sorted: nftables refuses overlapping intervals in one set element key.
 */
export function normalizeCidrs(cidrs: Iterable<string>): string[] {
  const ranges = [...new Set(cidrs)]
    .map(cidrRange)
    .filter((range): range is [number, number] => range !== undefined)
    .sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const kept: [number, number][] = [];
  for (const range of ranges) {
    const last = kept[kept.length - 1];
    // Prefixes are aligned: two either nest or do not touch, and the sort puts the larger of a nesting pair first.
    if (last && range[0] >= last[0] && range[0] + range[1] <= last[0] + last[1]) continue;
    kept.push(range);
  }
  return kept.map(([start, size]) => `${toAddress(start)}/${32 - Math.log2(size)}`);
}

interface FactsIndex {
  /** Group ID → the private addresses of the interfaces in it. */
  members: Map<string, string[]>;
  /** Private address → the groups of the interface holding it. */
  groupsByAddress: Map<string, string[]>;
}

// One index per read (facts are replaced, never changed): every lookup of an apply is a map hit.
const indexes = new WeakMap<SecurityFacts, FactsIndex>();

function indexOf(facts: SecurityFacts): FactsIndex {
  let index = indexes.get(facts);
  if (!index) {
    index = { members: new Map(), groupsByAddress: new Map() };
    for (const eni of facts.interfaces) {
      for (const group of eni.groups) {
        const members = index.members.get(group) ?? [];
        members.push(...eni.addresses);
        index.members.set(group, members);
      }
      for (const address of eni.addresses) if (!index.groupsByAddress.has(address)) index.groupsByAddress.set(address, eni.groups);
    }
    indexes.set(facts, index);
  }
  return index;
}

/** The sources `groups`' inbound rules let in on protocol/port, as CIDRs (a source group → its members' /32s). */
export function allowedSources(groups: readonly string[], protocol: Protocol, port: number, facts: SecurityFacts): string[] {
  const { members } = indexOf(facts);
  const sources: string[] = [];
  for (const group of groups) {
    for (const rule of facts.rules.get(group) ?? []) {
      if (!ruleCovers(rule, protocol, port)) continue;
      sources.push(...rule.cidrs);
      for (const source of rule.groups) sources.push(...(members.get(source) ?? []).map((address) => `${address}/32`));
    }
  }
  return normalizeCidrs(sources);
}

/**
 * The groups of the interface holding a target's address: for an instance target (its primary private IP) the
 * instance's primary interface, for an ip target the interface with that address; undefined when no interface
 * holds it (a target outside the VPC model: not filtered).
 */
export function interfaceGroups(address: string, facts: SecurityFacts): string[] | undefined {
  return indexOf(facts).groupsByAddress.get(address);
}

/**
 * Whether a target's groups let in a flow from the NLB on protocol/port. `source` is the address the target sees
 * (the client's with client IP preservation, else the NLB's); a rule referencing one of the NLB's groups allows
 * it either way.
 */
export function targetAllows(
  groups: readonly string[],
  loadBalancerGroups: readonly string[],
  protocol: Protocol,
  port: number,
  facts: SecurityFacts,
): { fromLoadBalancer: boolean; sources: string[] } {
  const nlb = new Set(loadBalancerGroups);
  const fromLoadBalancer = groups.some((group) =>
    (facts.rules.get(group) ?? []).some((rule) => ruleCovers(rule, protocol, port) && rule.groups.some((source) => nlb.has(source))),
  );
  return { fromLoadBalancer, sources: fromLoadBalancer ? ['0.0.0.0/0'] : allowedSources(groups, protocol, port, facts) };
}

/** One guarded listener address: new flows to address/protocol/port are let in only from `sources`. */
export interface FrontendFilter {
  address: string;
  protocol: Protocol;
  port: number;
  sources: string[];
}

const LISTENER_PROTOCOLS: Record<string, Protocol[]> = { TCP: ['tcp'], TLS: ['tcp'], UDP: ['udp'], TCP_UDP: ['tcp', 'udp'] };

/** The frontend filters of the NLBs that have security groups (one without any filters nothing). */
export function frontendFilters(
  loadBalancers: readonly LoadBalancerState[],
  addresses: ReadonlyMap<string, readonly { address: string }[]>,
  facts: SecurityFacts,
): FrontendFilter[] {
  const filters: FrontendFilter[] = [];
  for (const lb of loadBalancers) {
    const groups = lb.securityGroups ?? [];
    if (groups.length === 0) continue;
    for (const listener of lb.listeners) {
      for (const protocol of LISTENER_PROTOCOLS[listener.protocol] ?? []) {
        const sources = allowedSources(groups, protocol, listener.port, facts);
        for (const { address } of addresses.get(lb.arn) ?? []) filters.push({ address, protocol, port: listener.port, sources });
      }
    }
  }
  return filters;
}

/** One guarded target of one listener address: new flows through it reach the target only from `sources`. */
export interface BackendFilter {
  address: string;
  protocol: Protocol;
  port: number;
  targetAddress: string;
  targetPort: number;
  /** Client sources let through (before SNAT); `0.0.0.0/0` when the target lets the NLB in whatever the client. */
  sources: string[];
}

/** What a listener address forwards, as the backend filters need it (model.ts's ForwardedListener has it). */
export interface ForwardingFacts {
  loadBalancerArn: string;
  address: string;
  protocol: Protocol;
  port: number;
  targets: readonly { address: string; port: number }[];
  preserveClientIp: boolean;
}

/**
 * The backend filters of the forwarded listeners' targets. The source the target's groups see is the client's
 * address with client IP preservation (so the filter keeps the CIDRs that allow it), else the NLB address (all
 * or nothing); a rule referencing the NLB's groups lets everything through.
 */
export function backendFilters(listeners: readonly ForwardingFacts[], loadBalancers: readonly LoadBalancerState[], facts: SecurityFacts): BackendFilter[] {
  const groupsOf = new Map(loadBalancers.map((lb) => [lb.arn, lb.securityGroups ?? []]));
  const filters: BackendFilter[] = [];
  for (const listener of listeners) {
    for (const target of listener.targets) {
      const groups = interfaceGroups(target.address, facts);
      if (!groups) continue;
      const allowed = targetAllows(groups, groupsOf.get(listener.loadBalancerArn) ?? [], listener.protocol, target.port, facts);
      const sources =
        allowed.fromLoadBalancer || !listener.preserveClientIp
          ? allowed.sources.some((cidr) => cidrContains(cidr, listener.address))
            ? ['0.0.0.0/0']
            : []
          : allowed.sources;
      filters.push({ address: listener.address, protocol: listener.protocol, port: listener.port, targetAddress: target.address, targetPort: target.port, sources });
    }
  }
  return filters;
}

/** A connection the NLB itself opens (a health check, a userspace-proxied flow): from address to target:port. */
export interface LocalConnection {
  loadBalancerArn: string;
  source: string;
  targetAddress: string;
  port: number;
}

/** The connections of `wanted` that the targets' groups refuse (TCP: checks and proxied flows are TCP). */
export function blockedLocalConnections(wanted: readonly LocalConnection[], loadBalancers: readonly LoadBalancerState[], facts: SecurityFacts): LocalConnection[] {
  const groupsOf = new Map(loadBalancers.map((lb) => [lb.arn, lb.securityGroups ?? []]));
  return wanted.filter((connection) => {
    const groups = interfaceGroups(connection.targetAddress, facts);
    if (!groups) return false;
    const allowed = targetAllows(groups, groupsOf.get(connection.loadBalancerArn) ?? [], 'tcp', connection.port, facts);
    return !allowed.sources.some((cidr) => cidrContains(cidr, connection.source));
  });
}
