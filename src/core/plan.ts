import { Tags } from './annotations.ts';
import { isRegistered } from './target-health.ts';
import { ownsTarget } from './multi-cluster.ts';
import { describeLoadBalancerSetting, planLoadBalancerSettings, type LoadBalancerSettingAction } from './load-balancer-plan.ts';
import type { IpAddressType } from './subnet-mappings.ts';
import type { DesiredListener, DesiredLoadBalancer, DesiredStack, DesiredTargetGroup, HealthCheck, Protocol, Scheme, Target, TargetGroupIpAddressType, TargetType } from './model.ts';
import { TARGET_GROUP_DEFAULT_ATTRIBUTES } from './model.ts';
import { describeListenerSettings, listenerCertificateActions, listenerSettingsChange, modifiableInPlace, type ListenerSettings } from './tls-plan.ts';
import type { ListenerTls } from './tls.ts';
import { privateLinkChange, type PrivateLinkEnforcement } from './private-link.ts';
import { nodeRulesFor, portRuleKey } from './security-groups.ts';
import {
  describeSecurityGroupAction,
  planSecurityGroupDeletion,
  planSecurityGroups,
  SECURITY_GROUP_ACTION_KINDS,
  type ActualSecurityGroups,
  type GroupRef,
  type SecurityGroupAction,
} from './security-group-plan.ts';

/**
 * The plan: the ordered AWS actions that turn what exists (the actual stack, found by our tags) into the
 * desired stack. Pure and level-triggered: the controller observes, plans and applies until the plan is
 * empty, so a crash anywhere is repaired by the next pass and a plan can be printed as a dry run.
 *
 * The target-type flip never leaves a listener without a healthy target: a listener is pointed at a new
 * target group only once every desired target in it reports healthy. ELBv2 health-checks only groups that a
 * listener forwards to (an unattached group's targets stay `unused`), so while the listener stays on the old
 * group the new one is served by a staging listener on a free port of the same NLB; the staging listener is
 * deleted in the pass that switches (ADR 0010).
 */

export interface ActualTarget {
  id: string;
  port: number;
  /** ELBv2 TargetHealth.State: initial, healthy, unhealthy, unused, draining, unavailable. */
  state: string;
  /** TargetHealth.Reason, e.g. Target.NotInUse (registered, group unattached) or Target.NotRegistered. */
  reason?: string;
}

export interface ActualTargetGroup {
  arn: string;
  name: string;
  resourceId: string;
  protocol: Protocol;
  port: number;
  targetType: TargetType;
  /** DescribeTargetGroups' IpAddressType; undefined when not known (then not compared). */
  ipAddressType?: TargetGroupIpAddressType;
  healthCheck: HealthCheck;
  /** Only the keys the desired model names are compared; undefined when not read. */
  attributes?: Record<string, string>;
  targets: ActualTarget[];
  loadBalancerArns: string[];
}

export interface ActualListener {
  arn: string;
  loadBalancerArn: string;
  port: number;
  protocol: Protocol;
  targetGroupArn?: string;
  /** Undefined when not read (they are read only when the Service has additional tags): no tag change then. */
  tags?: Record<string, string>;
  /** A TLS listener's default certificate, policy and ALPN (DescribeListeners). */
  defaultCertificate?: string;
  sslPolicy?: string;
  alpnPolicy?: string[];
  /** Its listed (non-default) certificates (DescribeListenerCertificates); undefined when not read. */
  listedCertificates?: string[];
  /** Its attributes (DescribeListenerAttributes), read only when the Service sets some; undefined when not read. */
  attributes?: Record<string, string>;
}

export interface ActualLoadBalancer {
  arn: string;
  name: string;
  scheme: Scheme;
  dnsName: string;
  state: string;
  createdAt: number;
  attributes?: Record<string, string>;
  /** The NLB's security group IDs (DescribeLoadBalancers); empty for one created without. */
  securityGroups?: string[];
  /** DescribeLoadBalancers' IpAddressType; undefined when not known (then never changed). */
  ipAddressType?: IpAddressType;
  /** The reserved capacity units, read only when the Service asks for some; undefined when unread. */
  minimumCapacityUnits?: number;
  /** DescribeLoadBalancers' EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic (private-link.ts). */
  securityGroupsInboundRulesOnPrivateLink?: string;
}

export interface ActualStack {
  loadBalancers: ActualLoadBalancer[];
  listeners: ActualListener[];
  targetGroups: ActualTargetGroup[];
  /** Undefined when not read: then no security-group action is planned. */
  securityGroups?: ActualSecurityGroups;
}

/** A reference to a resource that exists (arn) or is created earlier in the same plan (key). */
export type Ref = { arn: string } | { key: string };

export type Action =
  | { kind: 'CreateLoadBalancer'; key: 'lb'; spec: DesiredLoadBalancer; securityGroups?: GroupRef[] }
  | { kind: 'SetSecurityGroups'; arn: string; securityGroups: GroupRef[]; enforcePrivateLink?: PrivateLinkEnforcement }
  | LoadBalancerSettingAction
  | { kind: 'ModifyLoadBalancerAttributes'; loadBalancer: Ref; attributes: Record<string, string> }
  | { kind: 'DeleteLoadBalancer'; arn: string; reason: string }
  | { kind: 'CreateTargetGroup'; key: string; spec: DesiredTargetGroup }
  | { kind: 'ModifyTargetGroup'; arn: string; healthCheck: HealthCheck }
  | { kind: 'ModifyTargetGroupAttributes'; targetGroup: Ref; attributes: Record<string, string> }
  | { kind: 'RegisterTargets'; targetGroup: Ref; targets: Target[] }
  | { kind: 'DeregisterTargets'; arn: string; targets: Target[] }
  | { kind: 'CreateListener'; loadBalancer: Ref; port: number; protocol: Protocol; targetGroup: Ref; staging?: true; tags?: Record<string, string>; tls?: ListenerTls; attributes?: Record<string, string> }
  | { kind: 'ModifyListener'; arn: string; port: number; targetGroup?: Ref; settings?: ListenerSettings }
  | { kind: 'AddListenerCertificates'; arn: string; port: number; certificates: string[] }
  | { kind: 'RemoveListenerCertificates'; arn: string; port: number; certificates: string[] }
  | { kind: 'DeleteListener'; arn: string; port: number }
  | { kind: 'AddListenerTags'; arn: string; port: number; tags: Record<string, string> }
  | { kind: 'ModifyListenerAttributes'; arn: string; port: number; attributes: Record<string, string> }
  | { kind: 'DeleteTargetGroup'; arn: string; reason: string }
  | SecurityGroupAction;

/** Actions the EC2 security-group adapter applies; every other kind is ELBv2's. */
export const isSecurityGroupAction = (action: Action): action is SecurityGroupAction => SECURITY_GROUP_ACTION_KINDS.has(action.kind);
export type LoadBalancerAction = Exclude<Action, SecurityGroupAction>;

export interface Plan {
  actions: Action[];
  /** Why the stack is not converged although no action can be taken now (e.g. waiting for target health). */
  waiting: string[];
  /** What the Service asks that cannot be done, for a Warning event (absent when nothing). */
  conflicts?: string[];
}

const HEALTHY = 'healthy';
const targetKey = (t: { id: string; port: number }) => `${t.id}:${t.port}`;

function sameHealthCheck(a: HealthCheck, b: HealthCheck): boolean {
  return (
    a.protocol === b.protocol &&
    a.port === b.port &&
    a.intervalSeconds === b.intervalSeconds &&
    a.timeoutSeconds === b.timeoutSeconds &&
    a.healthyThreshold === b.healthyThreshold &&
    a.unhealthyThreshold === b.unhealthyThreshold &&
    (a.protocol === 'TCP' || (a.path === b.path && a.successCodes === b.successCodes))
  );
}

/** The keys of `desired` whose value differs in `actual` (only keys we were asked to manage). */
function attributeChanges(desired: Record<string, string>, actual: Record<string, string> | undefined): Record<string, string> {
  const changes: Record<string, string> = {};
  for (const [key, value] of Object.entries(desired)) if (actual?.[key] !== value) changes[key] = value;
  return changes;
}

/** A target group that can serve `desired` as it is: the properties ELBv2 cannot modify match. */
const compatible = (tg: ActualTargetGroup, desired: DesiredTargetGroup) =>
  tg.resourceId === desired.resourceId &&
  tg.protocol === desired.protocol &&
  tg.port === desired.port &&
  tg.targetType === desired.targetType &&
  (tg.ipAddressType === undefined || tg.ipAddressType === (desired.ipAddressType ?? 'ipv4'));

const registered = (tg: ActualTargetGroup) => tg.targets.filter(isRegistered);

/** Every desired target is registered and healthy (and there is at least one). */
function readyToServe(tg: ActualTargetGroup, desired: DesiredTargetGroup): boolean {
  if (desired.targets.length === 0) return false;
  const health = new Map(tg.targets.map((t) => [targetKey(t), t.state]));
  return desired.targets.every((t) => health.get(targetKey(t)) === HEALTHY);
}

const hasHealthy = (tg: ActualTargetGroup | undefined) => tg?.targets.some((t) => t.state === HEALTHY) ?? false;

export function plan(desired: DesiredStack, actual: ActualStack): Plan {
  const creates: Action[] = [];
  const listenerChanges: Action[] = [];
  /** After the listeners' own changes: a TLS listener turned TCP takes attributes only once it is TCP. */
  const listenerAttributeChanges: Action[] = [];
  const deletes: Action[] = [];
  const waiting: string[] = [];

  // The load balancer: keep one of ours with the desired scheme (the one with most listeners, then the
  // oldest); any other of ours is a duplicate (the emulator lets names repeat) or has the wrong scheme.
  const listenersOf = (arn: string) => actual.listeners.filter((l) => l.loadBalancerArn === arn);
  const keepable = actual.loadBalancers
    .filter((lb) => lb.scheme === desired.loadBalancer.scheme)
    .sort((a, b) => listenersOf(b.arn).length - listenersOf(a.arn).length || a.createdAt - b.createdAt);
  const kept = keepable[0];
  const removedLbs = actual.loadBalancers.filter((lb) => lb !== kept);
  for (const lb of removedLbs) {
    creates.push({ kind: 'DeleteLoadBalancer', arn: lb.arn, reason: lb.scheme !== desired.loadBalancer.scheme ? `scheme changed to ${desired.loadBalancer.scheme}` : 'duplicate of ours' });
  }
  const lbRef: Ref = kept ? { arn: kept.arn } : { key: 'lb' };
  const groups = actual.securityGroups ? planSecurityGroups(withServingNodeRules(desired, actual), actual.securityGroups, kept ? (kept.securityGroups ?? []) : undefined, desired.legacyNodeRules) : undefined;
  if (!kept) {
    const securityGroups = groups?.loadBalancerGroups?.length ? { securityGroups: groups.loadBalancerGroups } : {};
    creates.push({ kind: 'CreateLoadBalancer', key: 'lb', spec: desired.loadBalancer, ...securityGroups });
  }
  const privateLink = privateLinkChange(desired.loadBalancer.securityGroupsInboundRulesOnPrivateLink, kept);
  if (kept && (groups?.setGroups || privateLink)) {
    // The private-link setting travels only in SetSecurityGroups, with the groups the NLB keeps.
    const securityGroups = groups?.setGroups ?? (kept.securityGroups ?? []).map((id) => ({ id }));
    creates.push({ kind: 'SetSecurityGroups', arn: kept.arn, securityGroups, ...(privateLink ? { enforcePrivateLink: privateLink } : {}) });
  }
  creates.push(...planLoadBalancerSettings(desired.loadBalancer, kept, lbRef));
  const lbAttributes = attributeChanges(desired.loadBalancer.attributes, kept?.attributes);
  if (Object.keys(lbAttributes).length > 0) creates.push({ kind: 'ModifyLoadBalancerAttributes', loadBalancer: lbRef, attributes: lbAttributes });

  const liveListeners = kept ? listenersOf(kept.arn) : [];
  const keptTargetGroups = new Set<string>();
  const tgRefByResource = new Map<string, Ref>();
  const currentByResource = new Map<string, ActualTargetGroup>();
  const ours = ownsTarget(desired.ownTargets);

  // Target groups: reuse a compatible one (prefer the one a listener forwards to), else create and fill one.
  for (const tg of desired.targetGroups) {
    const candidates = actual.targetGroups
      .filter((candidate) => compatible(candidate, tg))
      .sort((a, b) => Number(liveListeners.some((l) => l.targetGroupArn === b.arn)) - Number(liveListeners.some((l) => l.targetGroupArn === a.arn)) || a.arn.localeCompare(b.arn));
    const current = candidates[0];
    if (!current) {
      creates.push({ kind: 'CreateTargetGroup', key: tg.resourceId, spec: tg });
      const ref = { key: tg.resourceId };
      // A new group already has ELBv2's defaults: set only what differs from them.
      const attributes = attributeChanges(tg.attributes, TARGET_GROUP_DEFAULT_ATTRIBUTES);
      if (Object.keys(attributes).length > 0) creates.push({ kind: 'ModifyTargetGroupAttributes', targetGroup: ref, attributes });
      if (tg.targets.length > 0) creates.push({ kind: 'RegisterTargets', targetGroup: ref, targets: tg.targets });
      tgRefByResource.set(tg.resourceId, ref);
      continue;
    }
    keptTargetGroups.add(current.arn);
    currentByResource.set(tg.resourceId, current);
    tgRefByResource.set(tg.resourceId, { arn: current.arn });
    if (!sameHealthCheck(current.healthCheck, tg.healthCheck)) creates.push({ kind: 'ModifyTargetGroup', arn: current.arn, healthCheck: tg.healthCheck });
    const tgAttributes = attributeChanges(tg.attributes, current.attributes);
    if (Object.keys(tgAttributes).length > 0) creates.push({ kind: 'ModifyTargetGroupAttributes', targetGroup: { arn: current.arn }, attributes: tgAttributes });
    const have = new Set(registered(current).map(targetKey));
    const want = new Set(tg.targets.map(targetKey));
    const missing = tg.targets.filter((t) => !have.has(targetKey(t)));
    // In a group shared with other clusters, a target that is not ours is theirs to deregister.
    const extra = registered(current)
      .filter((t) => !want.has(targetKey(t)) && (!tg.multiCluster || ours(t.id)))
      .map(({ id, port }) => ({ id, port }));
    if (missing.length > 0) creates.push({ kind: 'RegisterTargets', targetGroup: { arn: current.arn }, targets: missing });
    if (extra.length > 0) deletes.push({ kind: 'DeregisterTargets', arn: current.arn, targets: extra });
  }

  // Listeners: create missing ones, delete extra ones, and switch a listener to its new target group only
  // when that group can serve (or the old one could not anyway); meanwhile a staging listener gets the new
  // group health-checked.
  const desiredPorts = new Set(desired.listeners.map((l) => l.port));
  const keptStagingListeners = new Set<string>();
  const takenPorts = new Set([...desiredPorts, ...liveListeners.map((l) => l.port)]);
  for (const listener of desired.listeners) {
    const tgRef = tgRefByResource.get(listener.targetGroupResourceId)!;
    const live = liveListeners.find((l) => l.port === listener.port);
    const tags = listener.tags ? { tags: listener.tags } : {};
    const tls = listener.tls ? { tls: listener.tls } : {};
    // A new listener gets its attributes right after CreateListener (its applier), as the LBC's Create does.
    const attributes = listener.attributes ? { attributes: listener.attributes } : {};
    if (!live) {
      listenerChanges.push({ kind: 'CreateListener', loadBalancer: lbRef, port: listener.port, protocol: listener.protocol, targetGroup: tgRef, ...tags, ...tls, ...attributes });
      continue;
    }
    if (live.protocol !== listener.protocol && !modifiableInPlace(live.protocol, listener.protocol)) {
      // ELBv2 cannot change a listener to UDP or TCP_UDP in place: replace it.
      listenerChanges.push({ kind: 'DeleteListener', arn: live.arn, port: live.port });
      listenerChanges.push({ kind: 'CreateListener', loadBalancer: lbRef, port: listener.port, protocol: listener.protocol, targetGroup: tgRef, ...tags, ...tls, ...attributes });
      continue;
    }
    // Only the keys the Service sets, as the LBC's listener attributes reconciler (a removed key keeps its value).
    const attributeChange = listener.attributes && live.attributes ? attributeChanges(listener.attributes, live.attributes) : {};
    if (Object.keys(attributeChange).length > 0) listenerAttributeChanges.push({ kind: 'ModifyListenerAttributes', arn: live.arn, port: live.port, attributes: attributeChange });
    // TCP ⇄ TLS, certificates, policy and ALPN change in place (the LBC's ModifyListener), then the listed certificates.
    const settings = listenerSettingsChange(listener, live);
    const settingsChange = settings ? { settings } : {};
    const certificateChanges = listenerCertificateActions(listener, live);
    // Tags are added, never removed: a tag someone else put on our listener is theirs.
    const missingTags = listener.tags && live.tags ? attributeChanges(listener.tags, live.tags) : {};
    if (Object.keys(missingTags).length > 0) listenerChanges.push({ kind: 'AddListenerTags', arn: live.arn, port: live.port, tags: missingTags });
    const current = currentByResource.get(listener.targetGroupResourceId);
    if (current && live.targetGroupArn === current.arn) {
      if (settings) listenerChanges.push({ kind: 'ModifyListener', arn: live.arn, port: live.port, settings });
      listenerChanges.push(...certificateChanges);
      continue;
    }
    const desiredTg = desired.targetGroups.find((tg) => tg.resourceId === listener.targetGroupResourceId)!;
    const oldTg = actual.targetGroups.find((tg) => tg.arn === live.targetGroupArn);
    if ((current && readyToServe(current, desiredTg)) || !hasHealthy(oldTg)) {
      listenerChanges.push({ kind: 'ModifyListener', arn: live.arn, port: live.port, targetGroup: tgRef, ...settingsChange }, ...certificateChanges);
    } else {
      if (settings) listenerChanges.push({ kind: 'ModifyListener', arn: live.arn, port: live.port, settings });
      listenerChanges.push(...certificateChanges);
      if (oldTg) keptTargetGroups.add(oldTg.arn);
      const staging = current && liveListeners.find((l) => !desiredPorts.has(l.port) && l.targetGroupArn === current.arn);
      if (staging) keptStagingListeners.add(staging.arn);
      else if (desiredTg.targets.length > 0) {
        const port = stagingPort(takenPorts);
        takenPorts.add(port);
        // Ours like any listener (cluster and stack tags), its resource tag saying what it is for.
        const stagingTags = listener.tags ? { tags: { ...listener.tags, [Tags.resource]: `staging:${listener.port}` } } : {};
        listenerChanges.push({ kind: 'CreateListener', loadBalancer: lbRef, port, protocol: listener.protocol, targetGroup: tgRef, staging: true, ...stagingTags, ...tls });
      }
      waiting.push(waitReason(listener, desiredTg, current));
    }
  }
  for (const live of liveListeners) {
    if (!desiredPorts.has(live.port) && !keptStagingListeners.has(live.arn)) listenerChanges.push({ kind: 'DeleteListener', arn: live.arn, port: live.port });
  }

  // Whatever of ours is no longer needed goes last, after the listeners stopped using it.
  const deletedLbArns = new Set(removedLbs.map((lb) => lb.arn));
  for (const tg of actual.targetGroups) {
    if (keptTargetGroups.has(tg.arn)) continue;
    const live = registered(tg).map(({ id, port }) => ({ id, port }));
    const stillUsedByRemovedLbOnly = tg.loadBalancerArns.every((arn) => deletedLbArns.has(arn) || arn === kept?.arn);
    if (!stillUsedByRemovedLbOnly) continue;
    if (live.length > 0) deletes.push({ kind: 'DeregisterTargets', arn: tg.arn, targets: live });
    deletes.push({ kind: 'DeleteTargetGroup', arn: tg.arn, reason: desired.targetGroups.some((d) => d.resourceId === tg.resourceId) ? 'replaced' : 'port removed' });
  }

  const actions = [...(groups?.before ?? []), ...creates, ...(groups?.nodeRules ?? []), ...listenerChanges, ...listenerAttributeChanges, ...deletes, ...(groups?.last ?? [])];
  return { actions, waiting, ...(groups?.conflict ? { conflicts: [groups.conflict] } : {}) };
}

/**
 * The port of a staging listener: the highest one the NLB does not use and no Service port wants. High ports
 * keep clear of the ports Services use; the listener lives only while a flip waits for health.
 */
export function stagingPort(taken: ReadonlySet<number>): number {
  for (let port = 65535; port > 0; port--) if (!taken.has(port)) return port;
  throw new Error('no free listener port for a staging listener');
}

function waitReason(listener: DesiredListener, desired: DesiredTargetGroup, current: ActualTargetGroup | undefined): string {
  if (!current) return `listener ${listener.port}: waiting for target group ${desired.name} to be created and health-checked`;
  if (desired.targets.length === 0) return `listener ${listener.port}: stays on its old target group until ${desired.name} has targets`;
  const healthy = current.targets.filter((t) => t.state === HEALTHY).length;
  return `listener ${listener.port}: waiting for ${desired.name} to have all ${desired.targets.length} targets healthy (${healthy} now)`;
}

/**
 * A plan that only registers targets in groups that exist, with nothing waited for: once it is applied the
 * next plan is empty, so the controller need not read the stack again to confirm it (the next resync does).
 * Deregistrations are not such a plan: the re-read is what shows a deregistered address still draining.
 */
export function onlyRegistersTargets(p: Plan): boolean {
  return p.waiting.length === 0 && p.actions.length > 0 && p.actions.every((a) => a.kind === 'RegisterTargets' && 'arn' in a.targetGroup);
}

/**
 * Everything of ours for a Service that is gone or no longer a LoadBalancer: LBs first, then target groups,
 * then its security groups (and the backend group when no Service of ours needs it any more).
 */
export function planDeletion(actual: ActualStack, backendStillNeeded = true, first: Action[] = []): Plan {
  return {
    actions: [
      // What must precede the deletion (deletion protection turned off, deletion-protection.ts).
      ...first,
      ...actual.loadBalancers.map((lb): Action => ({ kind: 'DeleteLoadBalancer', arn: lb.arn, reason: 'Service deleted or no longer a LoadBalancer' })),
      ...actual.targetGroups.map((tg): Action => ({ kind: 'DeleteTargetGroup', arn: tg.arn, reason: 'Service deleted or no longer a LoadBalancer' })),
      ...(actual.securityGroups ? planSecurityGroupDeletion(actual.securityGroups, backendStillNeeded) : []),
    ],
    waiting: [],
  };
}

/**
 * Target groups a listener of ours still forwards to that the desired stack no longer has: during a flip, the
 * old group serves until the listener moves (ADR 0010), so its node rules must stay until then (no gap).
 */
export function servingTargetGroups(desired: DesiredStack, actual: ActualStack): ActualTargetGroup[] {
  const wanted = new Set(desired.targetGroups.map((tg) => tg.name));
  const forwardedTo = new Set(actual.listeners.flatMap((l) => l.targetGroupArn ?? []));
  return actual.targetGroups.filter((tg) => forwardedTo.has(tg.arn) && !wanted.has(tg.name));
}

/** The desired security groups with the node rules of the groups still serving (servingTargetGroups) added. */
export function withServingNodeRules(desired: DesiredStack, actual: ActualStack): DesiredStack['securityGroups'] {
  const groups = desired.securityGroups;
  const serving = servingTargetGroups(desired, actual);
  if (!groups || serving.length === 0) return groups;
  const rules = new Map([...groups.nodeRules, ...nodeRulesFor(serving)].map((rule) => [portRuleKey(rule), rule]));
  return { ...groups, nodeRules: [...rules.values()] };
}

/** One line per action, for logs and `plan` (dry run). */
export function describeAction(action: Action): string {
  const ref = (r: Ref) => ('arn' in r ? r.arn : `<new ${r.key}>`);
  const groupRefs = (refs: GroupRef[]) => refs.map((r) => ('id' in r ? r.id : `<new ${r.key}>`)).join(', ');
  if (isSecurityGroupAction(action)) return describeSecurityGroupAction(action);
  switch (action.kind) {
    case 'CreateLoadBalancer':
      return `create NLB ${action.spec.name} (${action.spec.scheme}) in ${action.spec.subnetIds.join(', ')}${action.securityGroups ? ` with security groups ${groupRefs(action.securityGroups)}` : ''}`;
    case 'SetSecurityGroups':
      return `set security groups ${groupRefs(action.securityGroups)} on ${action.arn}${action.enforcePrivateLink ? ` (inbound rules on PrivateLink traffic: ${action.enforcePrivateLink})` : ''}`;
    case 'ModifyListenerAttributes':
      return `set listener attributes ${JSON.stringify(action.attributes)} on listener ${action.port} (${action.arn})`;
    case 'SetIpAddressType':
    case 'ModifyCapacityReservation':
      return describeLoadBalancerSetting(action, ref);
    case 'ModifyLoadBalancerAttributes':
      return `set NLB attributes ${JSON.stringify(action.attributes)} on ${ref(action.loadBalancer)}`;
    case 'DeleteLoadBalancer':
      return `delete NLB ${action.arn} (${action.reason})`;
    case 'CreateTargetGroup':
      return `create target group ${action.spec.name} (${action.spec.targetType}, ${action.spec.protocol}:${action.spec.port}) for ${action.spec.resourceId}`;
    case 'ModifyTargetGroup':
      return `set health check ${action.healthCheck.protocol}:${action.healthCheck.port} on ${action.arn}`;
    case 'ModifyTargetGroupAttributes':
      return `set target group attributes ${JSON.stringify(action.attributes)} on ${ref(action.targetGroup)}`;
    case 'RegisterTargets':
      return `register ${action.targets.map(targetKey).join(', ')} in ${ref(action.targetGroup)}`;
    case 'DeregisterTargets':
      return `deregister ${action.targets.map(targetKey).join(', ')} from ${action.arn}`;
    case 'CreateListener':
      return `create ${action.staging ? 'staging listener (health checks of a new target group before the switch)' : 'listener'} ${action.protocol}:${action.port} → ${ref(action.targetGroup)}`;
    case 'ModifyListener':
      return [
        action.targetGroup ? `switch listener ${action.port} → ${ref(action.targetGroup)}` : `modify listener ${action.port}`,
        ...(action.settings ? [describeListenerSettings(action.settings)] : []),
      ].join(': ');
    case 'AddListenerCertificates':
      return `add certificates ${action.certificates.join(', ')} to listener ${action.port} (${action.arn})`;
    case 'RemoveListenerCertificates':
      return `remove certificates ${action.certificates.join(', ')} from listener ${action.port} (${action.arn})`;
    case 'DeleteListener':
      return `delete listener ${action.port} (${action.arn})`;
    case 'AddListenerTags':
      return `tag listener ${action.port} with ${JSON.stringify(action.tags)} (${action.arn})`;
    case 'DeleteTargetGroup':
      return `delete target group ${action.arn} (${action.reason})`;
  }
}
