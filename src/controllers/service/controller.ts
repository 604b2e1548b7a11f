import type { KubeConfig, V1EndpointSlice, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { AwsClients } from '../../cloud/clients.ts';
import { NetworkCloud } from '../../cloud/ec2.ts';
import { LoadBalancerCloud } from '../../cloud/elbv2.ts';
import { SecurityGroupCloud } from '../../cloud/security-groups/index.ts';
import { SERVICE_FINALIZER, Tags, UserError } from '../../core/annotations.ts';
import { LBC_DEFAULTS, type ControllerDefaults } from '../../core/controller-defaults.ts';
import { buildModel, namedScheme, stackIdOf, TARGET_GROUP_DEFAULT_ATTRIBUTES, targetTypeOf, wantsLoadBalancer, type DesiredStack, type Scheme } from '../../core/model.ts';
import { POD_IPS_ANNOTATION } from '../../core/ipam/keys.ts';
import { nodeInfo } from '../../core/nodes.ts';
import { DeletionProtectedError, unprotectForDeletion } from '../../core/deletion-protection.ts';
import { describeAction, isSecurityGroupAction, servingTargetGroups, withServingNodeRules, onlyRegistersTargets, plan, planDeletion, type Action, type ActualStack, type LoadBalancerAction, type Plan } from '../../core/plan.ts';
import type { NodeNeed } from '../../core/node-rules.ts';
import type { SecurityGroupAction } from '../../core/security-group-plan.ts';
import { multiClusterOf, type OwnTargets } from '../../core/multi-cluster.ts';
import { EniPoolStore } from '../ipam/crd.ts';
import { clusterAddresses, listPools } from './own-addresses.ts';
import { RememberedTargets } from './remembered-targets.ts';
import { mayNeedNodeRules, nodeRulesFor, prefixListIdsOf, wantsBackendGroup } from '../../core/security-groups.ts';
import type { EventRecorder } from '../../kube/events.ts';
import type { Informer } from '../../kube/informer.ts';
import { addFinalizer, isNotFound, patchServiceStatusIngress, removeFinalizer } from '../../kube/objects.ts';
import { PermanentError, WorkQueue, type ReconcileResult, type WorkQueueObserver } from '../../kube/workqueue.ts';

const SLICE_SERVICE_LABEL = 'kubernetes.io/service-name';
/** Passes of observe → plan → apply in one reconcile (a flip needs two: fill the new group, then switch). */
const MAX_PASSES = 4;
const HEALTH_WAIT_REQUEUE_MS = 2_000;
const OWN_TAGS = new Set<string>(Object.values(Tags));
/** How long target changes (EndpointSlices, pod addresses) of one Service are gathered before it is reconciled. */
export const DEFAULT_TARGET_BATCH_PERIOD_MS = 200;

export interface ServiceControllerOptions {
  kubeconfig: KubeConfig;
  clusterName: string;
  aws: AwsClients;
  vpcId?: string;
  concurrency: number;
  resyncPeriodMs: number;
  /** Target changes of a Service within this period cost one reconcile (default 200 ms; 0 reconciles each). */
  targetBatchPeriodMs?: number;
  log: Logger;
  events: EventRecorder;
  /** Shared with the ENI pool, which asks it which addresses are still registered. */
  loadBalancers?: LoadBalancerCloud;
  informers: {
    services: Informer<V1Service>;
    nodes: Informer<V1Node>;
    endpointSlices: Informer<V1EndpointSlice>;
    pods: Informer<V1Pod>;
  };
  queueObserver?: WorkQueueObserver;
  /** The LBC's controller flags (controller-defaults.ts; the LBC's defaults when absent). */
  defaults?: ControllerDefaults;
}

export interface ReconcileReport {
  key: string;
  actions: string[];
  waiting: string[];
  hostname?: string;
}

/**
 * The Service controller: one NLB per LoadBalancer Service, one listener and target group per port.
 * Each reconcile builds the desired model from the informers' caches (no API reads), observes our
 * resources by tag, plans, applies, and repeats until the plan is empty.
 */
export class ServiceController {
  private readonly options: ServiceControllerOptions;
  private readonly lbCloud: LoadBalancerCloud;
  private readonly network: NetworkCloud;
  private readonly securityGroups: SecurityGroupCloud;
  private readonly pools: EniPoolStore;
  /** What this process wanted in multi-cluster groups and is still registered (ours to deregister). */
  private readonly remembered = new RememberedTargets();
  /**
   * The node rules each Service of ours needs (its targets' node groups × its ports), as last observed: a
   * rule of ours is revoked only when no Service needs it, and only once every Service's needs are known.
   */
  private readonly nodeNeeds = new Map<string, NodeNeed[]>();
  readonly queue: WorkQueue;
  private resyncTimer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: (() => void)[] = [];
  /** The last reconcile's outcome per key, for `describe` and tests. */
  readonly reports = new Map<string, ReconcileReport>();
  private readonly defaults: ControllerDefaults;

  constructor(options: ServiceControllerOptions) {
    this.options = options;
    this.defaults = options.defaults ?? LBC_DEFAULTS;
    this.lbCloud = options.loadBalancers ?? new LoadBalancerCloud(options.aws.elbv2, options.clusterName);
    this.network = new NetworkCloud(options.aws.ec2, options.clusterName, options.vpcId);
    this.securityGroups = new SecurityGroupCloud(options.aws.ec2, options.clusterName);
    this.pools = new EniPoolStore(options.kubeconfig);
    this.queue = new WorkQueue((key) => this.reconcile(key), { name: 'service', concurrency: options.concurrency }, options.queueObserver);
  }

  async start(): Promise<void> {
    const { services, nodes, endpointSlices, pods } = this.options.informers;
    await Promise.all([services.synced, nodes.synced, endpointSlices.synced, pods.synced]);
    await this.lbCloud.loadIndex();
    const batchMs = this.options.targetBatchPeriodMs ?? DEFAULT_TARGET_BATCH_PERIOD_MS;
    this.unsubscribe.push(
      services.onChange((kind, service, old) => {
        if (kind === 'update' && old && !serviceChanged(old, service)) return;
        this.queue.add(stackIdOf(service));
      }),
      endpointSlices.onChange((_kind, slice) => {
        const name = slice.metadata?.labels?.[SLICE_SERVICE_LABEL];
        if (!name) return;
        const service = services.get(name, slice.metadata?.namespace);
        if (service && this.isIpMode(service)) this.queue.addBatched(stackIdOf(service), batchMs);
      }),
      nodes.onChange((kind, node, old) => {
        if (kind === 'update' && old && !nodeChanged(old, node)) return;
        for (const service of services.list()) if (wantsLoadBalancer(service) && !this.isIpMode(service)) this.queue.add(stackIdOf(service));
      }),
      pods.onChange((kind, pod, old) => {
        const ip = pod.metadata?.annotations?.[POD_IPS_ANNOTATION];
        if (kind === 'update' && old?.metadata?.annotations?.[POD_IPS_ANNOTATION] === ip) return;
        if (!ip && kind !== 'delete') return;
        for (const service of services.list(pod.metadata?.namespace)) if (wantsLoadBalancer(service) && this.isIpMode(service)) this.queue.addBatched(stackIdOf(service), batchMs);
      }),
    );
    this.queue.start();
    await this.resync();
    this.resyncTimer = setInterval(() => void this.resync(), this.options.resyncPeriodMs);
    this.resyncTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    for (const off of this.unsubscribe.splice(0)) off();
    await this.queue.stop();
  }

  /** Every Service we own, and every stack of ours whose Service vanished, is reconciled again: drift repair. */
  async resync(): Promise<void> {
    const { services } = this.options.informers;
    const keys = services.list().filter((s) => wantsLoadBalancer(s) || s.metadata?.finalizers?.includes(SERVICE_FINALIZER)).map(stackIdOf);
    // Their load balancers and target groups in calls of 20: each reconcile then reads 2 things, not 4.
    await this.lbCloud.prefetch(keys).catch((error: unknown) => this.options.log.warn({ err: error }, 'could not read our stacks in bulk; each reads its own'));
    // Their security groups in three calls: the groups holding our node rules are the same for every stack.
    await this.network
      .vpc()
      .then((vpcId) => this.securityGroups.prefetch(vpcId, keys))
      .catch((error: unknown) => this.options.log.warn({ err: error }, 'could not read our security groups in bulk; each stack reads its own'));
    for (const key of keys) this.queue.add(key);
    try {
      for (const stackId of await this.lbCloud.knownStacks()) {
        const [namespace, name] = splitKey(stackId);
        if (!services.get(name, namespace)) this.queue.add(stackId);
      }
    } catch (error) {
      this.options.log.warn({ err: error }, 'could not list our stacks for garbage collection');
    }
  }

  private isIpMode(service: V1Service): boolean {
    try {
      return targetTypeOf(service, this.options.defaults?.targetType) === 'ip';
    } catch {
      return false;
    }
  }

  /** The desired stack and the plan for a Service, without changing anything (dry run). */
  async planFor(key: string): Promise<{ desired?: DesiredStack; actual: ActualStack; plan: Plan; warnings: string[] }> {
    const [namespace, name] = splitKey(key);
    const service = this.options.informers.services.get(name, namespace);
    if (!service || !wantsLoadBalancer(service) || service.metadata?.deletionTimestamp) {
      const actual = await this.observeForDeletion(key);
      try {
        return { actual, plan: planDeletion(actual, this.backendStillNeeded(key), unprotectForDeletion(actual, service)), warnings: [] };
      } catch (error) {
        if (!(error instanceof DeletionProtectedError)) throw error;
        return { actual, plan: { actions: [], waiting: [] }, warnings: [error.message] };
      }
    }
    let { stack, warnings } = await this.desired(service);
    let actual = await this.observe(stack);
    const kept = schemeToKeep(service, stack, actual);
    if (kept) {
      ({ stack, warnings } = await this.desired(service, kept));
      actual = await this.observe(stack);
    }
    return { desired: stack, actual, plan: plan(stack, actual), warnings: warnings.map((w) => w.message) };
  }

  private async desired(service: V1Service, existingScheme?: Scheme) {
    const { informers, clusterName } = this.options;
    const stackId = stackIdOf(service);
    const [namespace, name] = splitKey(stackId);
    const slices = informers.endpointSlices.list(namespace).filter((s) => s.metadata?.labels?.[SLICE_SERVICE_LABEL] === name);
    const ownTargets = safely(() => multiClusterOf(service.metadata?.annotations)) ? await this.ownTargets(service, stackId) : undefined;
    return buildModel({
      clusterName,
      vpcId: await this.network.vpc(),
      service,
      nodes: informers.nodes.list().map(nodeInfo),
      endpointSlices: slices,
      podVpcIp: (ns, pod) => firstIp(informers.pods.get(pod, ns)?.metadata?.annotations?.[POD_IPS_ANNOTATION]),
      subnets: await this.network.subnets(),
      vpcCidrs: await this.network.vpcCidrs(),
      vpcIpv6Cidrs: await this.network.vpcIpv6Cidrs(),
      ...(this.options.defaults ? { defaults: this.options.defaults } : {}),
      ...(ownTargets ? { ownTargets } : {}),
      ...(existingScheme ? { existingScheme } : {}),
    });
  }

  /**
   * What is ours in a multi-cluster Service's groups besides its Nodes' instances: for ip targets every address
   * of the cluster (one ENIPool list, no AWS call), and what this process wanted there before (ADR 0017).
   */
  private async ownTargets(service: V1Service, stackId: string): Promise<OwnTargets> {
    const { informers } = this.options;
    const addresses = this.isIpMode(service) ? clusterAddresses(informers.nodes.list(), informers.pods.list(), await listPools(this.pools)) : { ids: [], cidrs: [] };
    return { ids: [...addresses.ids, ...this.remembered.of(stackId)], cidrs: addresses.cidrs };
  }

  /** The stack's ELBv2 resources and its security groups, with the node rules the other Services need. */
  private async observe(stack: DesiredStack): Promise<ActualStack> {
    const actual = await this.observeLoadBalancers(stack);
    const targetIds = [...new Set(stack.targetGroups.flatMap((tg) => tg.targets.map((t) => t.id)))];
    const serving = servingTargetGroups(stack, actual);
    const groups = await this.securityGroups.observe(await this.network.vpc(), {
      stackId: stack.stackId,
      named: stack.securityGroups?.named ?? [],
      targets: { type: stack.targetType, ids: targetIds },
      prefixLists: prefixListIdsOf(stack.securityGroups?.managed?.ingress ?? []),
      ...(serving.length > 0 ? { servingTargets: serving.map((tg) => ({ type: tg.targetType, ids: tg.targets.map((t) => t.id) })) } : {}),
    });
    // An NLB that keeps its groups although the Service turned them off (a conflict) still needs its node rules;
    // one without groups (turned off, or made without them) needs CIDR rules (the plan decides alike).
    const hasGroups = actual.loadBalancers.some((lb) => (lb.securityGroups ?? []).length > 0);
    const withoutGroups = stack.securityGroups ? actual.loadBalancers.length > 0 && !hasGroups : !hasGroups;
    // During a flip the old group's rules stay until the listener leaves it (withServingNodeRules).
    const backendRules = stack.securityGroups?.backend ? withServingNodeRules(stack, actual)!.nodeRules : !stack.securityGroups && hasGroups ? nodeRulesFor(stack.targetGroups, this.defaults.disableRestrictedSGRules) : [];
    const rules = withoutGroups ? (stack.legacyNodeRules ?? []) : backendRules;
    this.nodeNeeds.set(stack.stackId, groups.nodeGroupIds.flatMap((groupId) => rules.map((rule) => ({ groupId, rule }))));
    const othersNeed = this.othersNeed(stack.stackId);
    return { ...actual, securityGroups: { ...groups, ...(othersNeed ? { othersNeed } : {}) } };
  }

  /** What the other Services of ours need, or undefined while one of them has not been observed since start. */
  private othersNeed(stackId: string): NodeNeed[] | undefined {
    const needs: NodeNeed[] = [];
    for (const service of this.options.informers.services.list()) {
      const key = stackIdOf(service);
      if (key === stackId || !wantsLoadBalancer(service) || service.metadata?.deletionTimestamp) continue;
      const known = this.nodeNeeds.get(key);
      if (known) needs.push(...known);
      else if (safely(() => mayNeedNodeRules(service, this.defaults.enableManageBackendSGRules))) return undefined;
    }
    return needs;
  }

  /** Whether a Service of ours other than `stackId` still puts the backend group on its NLB. */
  private backendStillNeeded(stackId: string): boolean {
    return this.options.informers.services
      .list()
      .some((s) => stackIdOf(s) !== stackId && wantsLoadBalancer(s) && !s.metadata?.deletionTimestamp && safely(() => wantsBackendGroup(s, this.defaults.enableManageBackendSGRules)));
  }

  private async observeForDeletion(key: string): Promise<ActualStack> {
    // The NLB's attributes: deletion protection decides what the deletion may do (deletion-protection.ts).
    const actual = await this.lbCloud.observe(key, { loadBalancerAttributes: true, targetGroupAttributes: false });
    this.nodeNeeds.delete(key);
    const groups = await this.securityGroups.observe(await this.network.vpc(), { stackId: key, named: [], targets: { type: 'instance', ids: [] } });
    const othersNeed = this.othersNeed(key);
    return { ...actual, securityGroups: { ...groups, ...(othersNeed ? { othersNeed } : {}) } };
  }

  /**
   * Applies a plan in its order: runs of ELBv2 actions to the ELBv2 adapter, runs of security-group actions to
   * the EC2 one, sharing the keys of what the plan created (a new NLB is created with its new groups).
   */
  private async applyPlan(key: string, vpcId: string, actions: Action[], onAction: (action: Action) => void): Promise<void> {
    const created = new Map<string, string>();
    for (let start = 0; start < actions.length; ) {
      const groups = isSecurityGroupAction(actions[start]!);
      let end = start;
      while (end < actions.length && isSecurityGroupAction(actions[end]!) === groups) end++;
      const run = actions.slice(start, end);
      if (groups) await this.securityGroups.apply(vpcId, run as SecurityGroupAction[], created, onAction);
      else await this.lbCloud.apply(key, vpcId, run as LoadBalancerAction[], onAction, created);
      start = end;
    }
  }

  private observeLoadBalancers(stack: DesiredStack): Promise<ActualStack> {
    return this.lbCloud.observe(
      stack.stackId,
      {
        loadBalancerAttributes: Object.keys(stack.loadBalancer.attributes).length > 0,
        // Attributes the Service asks for are read every time (drift is repaired); defaults only as known (ADR 0009).
        targetGroupAttributes: stack.targetGroups.some((tg) => Object.entries(tg.attributes).some(([key, value]) => TARGET_GROUP_DEFAULT_ATTRIBUTES[key] !== value)) || 'known',
        listenerTags: stack.listeners.some((l) => Object.keys(l.tags ?? {}).some((key) => !OWN_TAGS.has(key))),
        capacityReservation: stack.loadBalancer.minimumCapacityUnits !== undefined,
        // Read every time they are set (drift repaired), as the LBC reads them; not at all otherwise.
        listenerAttributes: stack.listeners.flatMap((l) => (l.attributes ? [l.port] : [])),
      },
      { loadBalancerName: stack.loadBalancer.name, targetGroupNames: stack.targetGroups.map((tg) => tg.name) },
    );
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = splitKey(key);
    const service = this.options.informers.services.get(name, namespace);
    const log = this.options.log.child({ service: key });
    if (!service || !wantsLoadBalancer(service) || service.metadata?.deletionTimestamp) {
      await this.cleanup(key, service, log);
      return;
    }

    let model;
    try {
      model = await this.desired(service);
    } catch (error) {
      if (error instanceof UserError) {
        // A user error: say what is wrong, write nothing to AWS, and wait for the Service to change.
        this.options.events.event(service, 'Warning', 'SyncLoadBalancerFailed', `Error syncing load balancer: ${error.message}`);
        // The message names the value, cut when huge: a 10 KB annotation is not logged whole on every try.
        log.warn({ field: error.field }, error.message);
        this.reports.set(key, { key, actions: [], waiting: [`invalid: ${error.message}`] });
        throw new PermanentError(error.message);
      }
      throw error;
    }
    for (const warning of model.warnings) this.options.events.event(service, 'Warning', warning.reason, warning.message);

    if (!service.metadata?.finalizers?.includes(SERVICE_FINALIZER)) {
      // Before anything exists in AWS, so a deletion can never skip our cleanup.
      await addFinalizer(this.options.kubeconfig, { kind: 'Service', namespace, name }, SERVICE_FINALIZER);
    }

    const applied: string[] = [];
    let current: Plan = { actions: [], waiting: [] };
    let actual: ActualStack | undefined;
    try {
      for (let pass = 0; pass < MAX_PASSES; pass++) {
        actual = await this.observe(model.stack);
        const kept = schemeToKeep(service, model.stack, actual);
        if (kept) {
          // No annotation names a scheme and the NLB has another than the default: it keeps its own (as the LBC).
          model = await this.desired(service, kept);
          actual = await this.observe(model.stack);
        }
        this.remembered.update(model.stack, actual);
        current = plan(model.stack, actual);
        if (current.actions.length === 0) break;
        if (applied.length === 0) this.options.events.event(service, 'Normal', 'EnsuringLoadBalancer', 'Ensuring load balancer');
        await this.applyPlan(key, await this.network.vpc(), current.actions, (action) => {
          const line = describeAction(action);
          applied.push(line);
          log.info({ action: action.kind }, line);
        });
        if (onlyRegistersTargets(current)) {
          // Known to converge: no confirming read (the stack as read before serves the status below).
          current = { actions: [], waiting: [] };
          break;
        }
        actual = undefined;
      }
      actual ??= await this.observe(model.stack);
    } catch (error) {
      this.options.events.event(service, 'Warning', 'SyncLoadBalancerFailed', `Error syncing load balancer: ${errorMessage(error)}`);
      throw error;
    }

    for (const conflict of current.conflicts ?? []) this.options.events.event(service, 'Warning', 'ConflictingSecurityGroups', conflict);
    const hostname = actual.loadBalancers[0]?.dnsName;
    if (hostname && service.status?.loadBalancer?.ingress?.[0]?.hostname !== hostname) {
      await patchServiceStatusIngress(this.options.kubeconfig, namespace, name, [{ hostname }]);
    }
    if (applied.length > 0 && current.actions.length === 0) this.options.events.event(service, 'Normal', 'EnsuredLoadBalancer', 'Ensured load balancer');
    this.reports.set(key, { key, actions: applied, waiting: current.waiting, ...(hostname ? { hostname } : {}) });
    log.debug({ actions: applied.length, waiting: current.waiting.length }, 'reconciled');
    if (current.waiting.length > 0) {
      log.info({ waiting: current.waiting }, 'waiting');
      return { requeueAfterMs: HEALTH_WAIT_REQUEUE_MS };
    }
    if (current.actions.length > 0) return { requeueAfterMs: 0 };
    return;
  }

  private async cleanup(key: string, service: V1Service | undefined, log: Logger): Promise<void> {
    const [namespace, name] = splitKey(key);
    const hasFinalizer = service?.metadata?.finalizers?.includes(SERVICE_FINALIZER) ?? false;
    try {
      const actual = await this.observeForDeletion(key);
      const deletion = planDeletion(actual, this.backendStillNeeded(key), unprotectForDeletion(actual, service));
      this.remembered.forget(key);
      if (deletion.actions.length > 0) {
        if (service) this.options.events.event(service, 'Normal', 'DeletingLoadBalancer', 'Deleting load balancer');
        await this.applyPlan(key, await this.network.vpc(), deletion.actions, (action) => log.info({ action: action.kind }, describeAction(action)));
        const left = await this.lbCloud.observe(key, { loadBalancerAttributes: false, targetGroupAttributes: false });
        if (left.loadBalancers.length + left.targetGroups.length > 0) throw new Error(`resources of ${key} remain after deletion`);
        if (service) this.options.events.event(service, 'Normal', 'DeletedLoadBalancer', 'Deleted load balancer');
      }
    } catch (error) {
      // As k8s.io/cloud-provider's service controller says it; the key is retried with backoff.
      if (service) this.options.events.event(service, 'Warning', 'DeleteLoadBalancerFailed', `Error deleting load balancer: ${errorMessage(error)}`);
      throw error;
    }
    this.reports.delete(key);
    if (!service) return;
    if (!service.metadata?.deletionTimestamp && service.status?.loadBalancer?.ingress?.length) {
      await patchServiceStatusIngress(this.options.kubeconfig, namespace, name, []).catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
      });
    }
    if (hasFinalizer) await removeFinalizer(this.options.kubeconfig, { kind: 'Service', namespace, name }, SERVICE_FINALIZER);
  }
}

/**
 * The existing NLB's scheme when the model took the default one because no annotation names a scheme and the
 * NLB has another: the model is built again with it (schemeOf), so a changed --default-load-balancer-scheme
 * never replaces a live NLB. Undefined when there is nothing to change.
 */
function schemeToKeep(service: V1Service, stack: DesiredStack, actual: ActualStack): Scheme | undefined {
  const existing = actual.loadBalancers[0]?.scheme;
  if (!existing || existing === stack.loadBalancer.scheme || safely(() => namedScheme(service.metadata?.annotations) !== undefined)) return undefined;
  return existing;
}

function splitKey(key: string): [string, string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}

/** A predicate on a Service that is false when its annotations are invalid (that Service reports it itself). */
function safely(predicate: () => boolean): boolean {
  try {
    return predicate();
  } catch {
    return false;
  }
}

const firstIp = (value: string | undefined) => value?.split(',')[0]?.trim() || undefined;
const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * needsUpdate of k8s.io/cloud-provider, widened to any spec, annotation or deletion change. Status and our own
 * finalizer edits are not changes: reacting to them would only repeat the reconcile that made them.
 */
function serviceChanged(old: V1Service, service: V1Service): boolean {
  return (
    JSON.stringify(old.spec) !== JSON.stringify(service.spec) ||
    JSON.stringify(old.metadata?.annotations ?? {}) !== JSON.stringify(service.metadata?.annotations ?? {}) ||
    old.metadata?.deletionTimestamp !== service.metadata?.deletionTimestamp ||
    old.metadata?.uid !== service.metadata?.uid
  );
}

/** Node changes that matter for instance targets. */
function nodeChanged(old: V1Node, node: V1Node): boolean {
  const a = nodeInfo(old);
  const b = nodeInfo(node);
  return JSON.stringify(a) !== JSON.stringify(b);
}
