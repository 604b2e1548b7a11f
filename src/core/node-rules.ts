import type { PortRule } from './security-groups.ts';

/**
 * Node rules, aggregated as the LBC does (pkg/networking/networking_manager.go,
 * computeRestrictedIngressPermissionsPerSG): on each node group, ONE rule per protocol from the backend group,
 * spanning the lowest to the highest port any Service of the cluster needs there. One rule per port would reach
 * EC2's 60 inbound rules per group at the 60th NodePort (a 200-Service burst stopped there).
 * CIDR rules (NLBs without security groups, legacy-node-rules.ts) stay one per port and CIDR, unmerged, as the
 * LBC keeps them (its permsFromIPRangeRulesPerSG): a range from 0.0.0.0/0 would open every port in between to
 * the world, not just to NLBs carrying the backend group.
 * With --disable-restricted-sg-rules every need from the backend group is already the whole range 0-65535, so
 * the aggregate is that one rule per node group and protocol (the LBC's computeUnrestrictedIngressPermissionsPerSG);
 * switching the flag on a restart is the same authorize-then-revoke as any change of span.
 */

/** Ports of one protocol, as a security-group rule holds them. */
export interface PortRange {
  protocol: 'tcp' | 'udp';
  fromPort: number;
  toPort: number;
}

/** A rule of ours on a node group: a port range from the backend group, or (with `cidr`) one port from a CIDR. */
export interface NodeRule extends PortRange {
  groupId: string;
  cidr?: string;
}

/** A port one Service needs open on one node group. */
export interface NodeNeed {
  groupId: string;
  rule: PortRule;
}

export interface NodeRulePlan {
  authorize: NodeRule[];
  revoke: NodeRule[];
}

const pairKey = (groupId: string, protocol: string) => `${groupId}/${protocol}`;
export const nodeRuleKey = (r: NodeRule) => `${pairKey(r.groupId, r.protocol)}:${r.fromPort}-${r.toPort}${r.cidr ? `<${r.cidr}` : ''}`;

/** The one rule per node group and protocol that covers every port needed there from the backend group; CIDR rules as they are. */
export function aggregateNodeRules(needs: readonly NodeNeed[]): NodeRule[] {
  const spans = new Map<string, NodeRule>();
  for (const { groupId, rule } of needs) {
    if (rule.cidr) {
      const cidrRule = { groupId, protocol: rule.protocol, fromPort: rule.port, toPort: rule.port, cidr: rule.cidr };
      spans.set(nodeRuleKey(cidrRule), cidrRule);
      continue;
    }
    const key = pairKey(groupId, rule.protocol);
    const span = spans.get(key);
    const toPort = rule.toPort ?? rule.port;
    if (span) spans.set(key, { ...span, fromPort: Math.min(span.fromPort, rule.port), toPort: Math.max(span.toPort, toPort) });
    else spans.set(key, { groupId, protocol: rule.protocol, fromPort: rule.port, toPort });
  }
  return [...spans.values()].sort((a, b) => nodeRuleKey(a).localeCompare(nodeRuleKey(b)));
}

/**
 * What to change on the node groups. With every Service's needs known (`othersNeed` defined), the rules become
 * exactly the aggregate: the wider or narrower rule is authorized first, the old one revoked after (no gap).
 * While some Service has not been observed since start, rules are only ever widened: a port it needs may sit in
 * a range we cannot see the reason for (the LBC's WithAuthorizeOnly).
 */
export function planNodeRules(wanted: readonly NodeNeed[], othersNeed: readonly NodeNeed[] | undefined, actual: readonly NodeRule[]): NodeRulePlan {
  if (othersNeed) {
    const desired = aggregateNodeRules([...wanted, ...othersNeed]);
    const want = new Set(desired.map(nodeRuleKey));
    const have = new Set(actual.map(nodeRuleKey));
    return { authorize: desired.filter((r) => !have.has(nodeRuleKey(r))), revoke: actual.filter((r) => !want.has(nodeRuleKey(r))) };
  }
  const covered = (need: NodeNeed) =>
    actual.some((r) => r.groupId === need.groupId && r.protocol === need.rule.protocol && r.cidr === need.rule.cidr && r.fromPort <= need.rule.port && (need.rule.toPort ?? need.rule.port) <= r.toPort);
  const uncovered = wanted.filter((need) => !covered(need));
  if (uncovered.length === 0) return { authorize: [], revoke: [] };
  // Widen: the span of what is uncovered and what already stands on the same group and protocol (CIDR rules are not spans).
  const pairs = new Set(uncovered.filter((n) => !n.rule.cidr).map((n) => pairKey(n.groupId, n.rule.protocol)));
  const standing = actual
    .filter((r) => !r.cidr && pairs.has(pairKey(r.groupId, r.protocol)))
    .flatMap((r): NodeNeed[] => [r.fromPort, r.toPort].map((port) => ({ groupId: r.groupId, rule: { protocol: r.protocol, port } })));
  return { authorize: aggregateNodeRules([...uncovered, ...standing]), revoke: [] };
}
