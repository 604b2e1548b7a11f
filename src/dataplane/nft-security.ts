/**
 * The NLBs' security groups in the router's nftables (ADR 0014): table `ip cpl_nlb_sg`, rendered as the text
 * `nft -f` reads and applied in the same transaction as `ip cpl_nlb` (main.ts). Pure.
 *
 * Only a flow's first packet is judged (`ct state new`): as EC2 tracks connections, removing the rule that let
 * a flow in does not cut it, and replacing the table never touches an open flow. Everything is a set lookup, so
 * 200 NLBs cost set elements, not rules.
 * - frontend (prerouting, before the DNAT): a new flow to a guarded listener address . protocol . port is
 *   dropped unless its source is in that listener's allowed intervals (no RST: AWS drops).
 * - backend (forward, after the DNAT): a new flow through a listener address to a guarded target is dropped
 *   unless its source (the client; the SNAT comes later) is in that target's allowed intervals.
 * - local (output): the NLB's own connections (health checks, the userspace proxy) to targets whose groups
 *   refuse the NLB address are dropped.
 */
import { normalizeCidrs, type BackendFilter, type FrontendFilter, type LocalConnection } from './security-groups.ts';

export const SECURITY_TABLE = 'cpl_nlb_sg';

const set = (name: string, type: string, elements: readonly string[], interval = false): string[] => [
  `  set ${name} {`,
  `    type ${type}`,
  ...(interval ? ['    flags interval'] : []),
  ...(elements.length > 0 ? [`    elements = { ${[...new Set(elements)].sort().join(', ')} }`] : []),
  '  }',
];

/** `key . cidr` elements, the CIDRs of one key merged: nftables refuses overlapping intervals. */
const intervals = <T>(filters: readonly T[], key: (filter: T) => string, sources: (filter: T) => readonly string[]): string[] => {
  const byKey = new Map<string, string[]>();
  for (const filter of filters) byKey.set(key(filter), [...(byKey.get(key(filter)) ?? []), ...sources(filter)]);
  return [...byKey].flatMap(([k, cidrs]) => normalizeCidrs(cidrs).map((cidr) => `${k} . ${cidr}`));
};

const FRONTEND_KEY = 'ip daddr . meta l4proto . th dport';
// No listener port: nft cannot concatenate `ct original proto-dst` (variable-sized). Two listeners of one address
// forwarding to the same target port therefore share one key (their sources are merged).
const BACKEND_KEY = 'ct original ip daddr . meta l4proto . ip daddr . th dport';

export function renderSecurityRuleset(frontend: readonly FrontendFilter[], backend: readonly BackendFilter[], blocked: readonly LocalConnection[]): string {
  const frontendKey = (f: FrontendFilter): string => `${f.address} . ${f.protocol} . ${f.port}`;
  const backendKey = (f: BackendFilter): string => `${f.address} . ${f.protocol} . ${f.targetAddress} . ${f.targetPort}`;
  const lines = [
    `table ip ${SECURITY_TABLE}`,
    `delete table ip ${SECURITY_TABLE}`,
    `table ip ${SECURITY_TABLE} {`,
    ...set('frontend_guarded', 'ipv4_addr . inet_proto . inet_service', frontend.map(frontendKey)),
    ...set('frontend_allowed', 'ipv4_addr . inet_proto . inet_service . ipv4_addr', intervals(frontend, frontendKey, (f) => f.sources), true),
    ...set('backend_guarded', 'ipv4_addr . inet_proto . ipv4_addr . inet_service', backend.map(backendKey)),
    ...set(
      'backend_allowed',
      'ipv4_addr . inet_proto . ipv4_addr . inet_service . ipv4_addr',
      intervals(backend, backendKey, (f) => f.sources),
      true,
    ),
    ...set('local_blocked', 'ipv4_addr . ipv4_addr . inet_service', blocked.map((c) => `${c.source} . ${c.targetAddress} . ${c.port}`)),
    '  chain frontend {',
    // Before the NAT's dstnat (-100): the listener address is still the destination.
    '    type filter hook prerouting priority dstnat - 10; policy accept;',
    `    ct state new ${FRONTEND_KEY} @frontend_guarded ${FRONTEND_KEY} . ip saddr != @frontend_allowed drop`,
    '  }',
    '  chain backend {',
    '    type filter hook forward priority filter; policy accept;',
    `    ct state new ct status dnat ${BACKEND_KEY} @backend_guarded ${BACKEND_KEY} . ip saddr != @backend_allowed drop`,
    '  }',
    '  chain local {',
    '    type filter hook output priority filter; policy accept;',
    '    ct state new ip saddr . ip daddr . tcp dport @local_blocked drop',
    '  }',
    '}',
  ];
  return `${lines.join('\n')}\n`;
}
