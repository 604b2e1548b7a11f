import { planNodeRules, type NodeNeed, type NodeRule, type PortRange } from './node-rules.ts';
import { describeIngressRule, ingressKey, type IngressRule, type PortRule, type SecurityGroupSpec } from './security-groups.ts';
import type { DesiredSecurityGroups } from './security-groups.ts';

/**
 * The security-group part of the plan (core/plan.ts places its actions): groups and their ingress before the
 * load balancer that carries them, node rules after the target groups, revocations and deletions last.
 */

/** An existing group (id) or one created earlier in the same plan (key). */
export type GroupRef = { id: string } | { key: string };

export const MANAGED_KEY = 'sg:managed';
export const BACKEND_KEY = 'sg:backend';

/** One port from one CIDR: a node rule of an NLB without security groups (legacy-node-rules.ts). */
export interface CidrRange extends PortRange {
  cidr: string;
}

export type SecurityGroupAction =
  | { kind: 'CreateSecurityGroup'; key: string; spec: SecurityGroupSpec }
  | { kind: 'AuthorizeIngress'; group: GroupRef; rules: IngressRule[] }
  | { kind: 'RevokeIngress'; groupId: string; rules: IngressRule[] }
  | { kind: 'AuthorizeNodeRules'; groupId: string; source: GroupRef; rules: PortRange[] }
  | { kind: 'RevokeNodeRules'; groupId: string; sourceId: string; rules: PortRange[] }
  | { kind: 'AuthorizeNodeCidrRules'; groupId: string; rules: CidrRange[] }
  | { kind: 'RevokeNodeCidrRules'; groupId: string; rules: CidrRange[] }
  | { kind: 'DeleteSecurityGroup'; groupId: string; name: string; reason: string };

export const SECURITY_GROUP_ACTION_KINDS: ReadonlySet<string> = new Set<SecurityGroupAction['kind']>([
  'CreateSecurityGroup',
  'AuthorizeIngress',
  'RevokeIngress',
  'AuthorizeNodeRules',
  'RevokeNodeRules',
  'AuthorizeNodeCidrRules',
  'RevokeNodeCidrRules',
  'DeleteSecurityGroup',
]);

export interface ActualSecurityGroup {
  id: string;
  name: string;
  ingress: IngressRule[];
}

export interface ActualSecurityGroups {
  /** Groups tagged as this Service's managed group (more than one only after a lost create answer). */
  managed: ActualSecurityGroup[];
  /** The cluster's backend group, if it exists. */
  backendId?: string;
  /** The security-groups annotation's entries as group IDs (the reader resolved Name tags). */
  namedIds: string[];
  /** The groups of this Service's targets (instance: the primary ENI's; ip: the pod ENI's). */
  nodeGroupIds: string[];
  /** Every rule of ours (our description): from the backend group on any group, from CIDRs on node groups. */
  nodeRules: NodeRule[];
  /**
   * Ports the cluster's other Services need on node groups; undefined when some are not known yet (after a
   * restart, before each was reconciled): then rules are only widened, so a port another Service needs stays.
   */
  othersNeed?: NodeNeed[];
}

export interface SecurityGroupPlan {
  /** Group creates and ingress changes: before the load balancer that carries them. */
  before: SecurityGroupAction[];
  /** The groups a new load balancer is created with, or undefined for none. */
  loadBalancerGroups?: GroupRef[];
  /** The kept load balancer's groups when they must change (SetSecurityGroups). */
  setGroups?: GroupRef[];
  /** Node rules to add: after the target groups (the LBC adds them with the TargetGroupBinding). */
  nodeRules: SecurityGroupAction[];
  /** Revocations and deletions: last, after the load balancer stopped using them. */
  last: SecurityGroupAction[];
  /** What the Service asks that cannot be done (the LBC's "conflicting security groups configuration"). */
  conflict?: string;
}

/**
 * Plans the security groups. `lbGroups` is the kept load balancer's groups (undefined when a new one is made):
 * an NLB created without security groups can never get any, so it stays without (AWS and the LBC), and its
 * nodes' group then lets `legacyRules` in (CIDR sources, legacy-node-rules.ts).
 */
export function planSecurityGroups(desired: DesiredSecurityGroups | undefined, actual: ActualSecurityGroups, lbGroups: string[] | undefined, legacyRules: PortRule[] = []): SecurityGroupPlan {
  const result: SecurityGroupPlan = { before: [], nodeRules: [], last: [] };
  const effective = lbGroups !== undefined && lbGroups.length === 0 ? undefined : desired;
  const carried = new Set(lbGroups ?? []);
  if (!desired && lbGroups?.length) {
    // The NLB keeps its groups, so its traffic still needs every rule: nothing is changed (the LBC fails the build).
    result.conflict = `conflicting security groups configuration: the NLB has security groups (${lbGroups.join(', ')}), which cannot be removed; security groups stay as they are`;
    return result;
  }

  let managedRef: GroupRef | undefined;
  const [kept, ...duplicates] = effective?.managed ? actual.managed : [];
  if (effective?.managed) {
    if (kept) {
      managedRef = { id: kept.id };
      const want = new Set(effective.managed.ingress.map(ingressKey));
      const have = new Set(kept.ingress.map(ingressKey));
      const missing = effective.managed.ingress.filter((r) => !have.has(ingressKey(r)));
      const extra = kept.ingress.filter((r) => !want.has(ingressKey(r)));
      if (missing.length > 0) result.before.push({ kind: 'AuthorizeIngress', group: managedRef, rules: missing });
      if (extra.length > 0) result.before.push({ kind: 'RevokeIngress', groupId: kept.id, rules: extra });
    } else {
      managedRef = { key: MANAGED_KEY };
      const { ingress, ...spec } = effective.managed;
      result.before.push({ kind: 'CreateSecurityGroup', key: MANAGED_KEY, spec });
      if (ingress.length > 0) result.before.push({ kind: 'AuthorizeIngress', group: managedRef, rules: ingress });
    }
  }
  // Managed groups no longer wanted; one the load balancer still carries stays (it cannot be taken off).
  for (const group of effective?.managed ? duplicates : actual.managed) {
    if (!carried.has(group.id)) result.last.push({ kind: 'DeleteSecurityGroup', groupId: group.id, name: group.name, reason: effective?.managed ? 'duplicate of ours' : 'no longer wanted' });
  }

  let backendRef: GroupRef | undefined;
  if (effective?.backend) {
    backendRef = actual.backendId ? { id: actual.backendId } : { key: BACKEND_KEY };
    if (!actual.backendId) result.before.push({ kind: 'CreateSecurityGroup', key: BACKEND_KEY, spec: effective.backend });
  }

  if (effective) {
    const groups: GroupRef[] = [...(managedRef ? [managedRef] : []), ...actual.namedIds.map((id) => ({ id })), ...(backendRef ? [backendRef] : [])];
    if (lbGroups === undefined) result.loadBalancerGroups = groups;
    else if (!sameIds(groups, lbGroups)) result.setGroups = groups;
  }

  // Node rules: one range per node group and protocol over every Service's ports from the backend group, and
  // the CIDR rules of NLBs without groups, one per port (node-rules.ts).
  const rules = effective ? (backendRef ? effective.nodeRules : []) : legacyRules;
  const wanted: NodeNeed[] = actual.nodeGroupIds.flatMap((groupId) => rules.map((rule) => ({ groupId, rule })));
  const nodeRules = planNodeRules(wanted, actual.othersNeed, actual.nodeRules);
  result.nodeRules.push(...nodeRuleActions('Authorize', nodeRules.authorize, backendRef));
  result.last.unshift(...nodeRuleActions('Revoke', nodeRules.revoke, actual.backendId ? { id: actual.backendId } : undefined));
  return result;
}

/** Node rule changes as actions, per node group: from the backend group (`source`) or from CIDRs. */
function nodeRuleActions(verb: 'Authorize' | 'Revoke', rules: NodeRule[], source: GroupRef | undefined): SecurityGroupAction[] {
  const actions: SecurityGroupAction[] = [];
  const fromGroup = rules.filter((r) => !r.cidr);
  if (fromGroup.length > 0 && !source) throw new Error(`node rules from the backend group planned without it: ${fromGroup.map(describePortRange).join(', ')}`);
  for (const [groupId, ranges] of byGroup(fromGroup)) {
    if (verb === 'Authorize') actions.push({ kind: 'AuthorizeNodeRules', groupId, source: source!, rules: ranges });
    else actions.push({ kind: 'RevokeNodeRules', groupId, sourceId: (source as { id: string }).id, rules: ranges });
  }
  const cidrRanges = new Map<string, CidrRange[]>();
  for (const { groupId, cidr, ...range } of rules) if (cidr) cidrRanges.set(groupId, [...(cidrRanges.get(groupId) ?? []), { ...range, cidr }]);
  for (const [groupId, ranges] of cidrRanges) actions.push({ kind: `${verb}NodeCidrRules`, groupId, rules: ranges });
  return actions;
}

/**
 * Deleting a Service's groups, after its load balancer and target groups: node rules nobody else needs, its
 * managed groups, then the backend group when no Service of ours needs it any more (its rules all revoked first).
 */
export function planSecurityGroupDeletion(actual: ActualSecurityGroups, backendStillNeeded: boolean): SecurityGroupAction[] {
  const actions: SecurityGroupAction[] = [];
  // What the others need, narrowed to their span (or, not all known yet, nothing changed); none from the
  // backend group when it goes.
  const nodeRules = actual.othersNeed ? planNodeRules([], actual.othersNeed, actual.nodeRules) : { authorize: [], revoke: [] };
  const backendGoes = !backendStillNeeded && actual.backendId !== undefined;
  const fromGroup = (r: NodeRule) => !r.cidr;
  const authorize = backendGoes ? nodeRules.authorize.filter((r) => !fromGroup(r)) : nodeRules.authorize;
  const revoke = backendGoes ? [...nodeRules.revoke.filter((r) => !fromGroup(r)), ...actual.nodeRules.filter(fromGroup)] : nodeRules.revoke;
  const backend = actual.backendId ? { id: actual.backendId } : undefined;
  actions.push(...nodeRuleActions('Authorize', authorize, backend), ...nodeRuleActions('Revoke', revoke, backend));
  for (const group of actual.managed) actions.push({ kind: 'DeleteSecurityGroup', groupId: group.id, name: group.name, reason: 'Service deleted or no longer a LoadBalancer' });
  if (!backendStillNeeded && actual.backendId) {
    actions.push({ kind: 'DeleteSecurityGroup', groupId: actual.backendId, name: 'backend', reason: 'no Service of ours needs the backend group' });
  }
  return actions;
}

function sameIds(groups: GroupRef[], ids: string[]): boolean {
  if (groups.some((g) => !('id' in g))) return false;
  const want = new Set(groups.map((g) => (g as { id: string }).id));
  return want.size === new Set(ids).size && ids.every((id) => want.has(id));
}

function byGroup(rules: NodeRule[]): Map<string, PortRange[]> {
  const grouped = new Map<string, PortRange[]>();
  for (const { groupId, ...range } of rules) grouped.set(groupId, [...(grouped.get(groupId) ?? []), range]);
  return grouped;
}

export function describeSecurityGroupAction(action: SecurityGroupAction): string {
  const ref = (r: GroupRef) => ('id' in r ? r.id : `<new ${r.key}>`);
  const ingress = (rules: IngressRule[]) => rules.map(describeIngressRule).join(', ');
  const ports = (rules: PortRange[]) => rules.map(describePortRange).join(', ');
  switch (action.kind) {
    case 'CreateSecurityGroup':
      return `create security group ${action.spec.name}`;
    case 'AuthorizeIngress':
      return `allow ${ingress(action.rules)} into ${ref(action.group)}`;
    case 'RevokeIngress':
      return `revoke ${ingress(action.rules)} from ${action.groupId}`;
    case 'AuthorizeNodeRules':
      return `allow ${ports(action.rules)} from ${ref(action.source)} into node group ${action.groupId}`;
    case 'RevokeNodeRules':
      return `revoke ${ports(action.rules)} from ${action.sourceId} on node group ${action.groupId}`;
    case 'AuthorizeNodeCidrRules':
      return `allow ${ingress(action.rules)} into node group ${action.groupId}`;
    case 'RevokeNodeCidrRules':
      return `revoke ${ingress(action.rules)} on node group ${action.groupId}`;
    case 'DeleteSecurityGroup':
      return `delete security group ${action.name} ${action.groupId} (${action.reason})`;
  }
}

/** `tcp 30080` or `tcp 30080-32000`. */
export const describePortRange = (r: PortRange): string => `${r.protocol} ${r.fromPort === r.toPort ? r.fromPort : `${r.fromPort}-${r.toPort}`}`;
