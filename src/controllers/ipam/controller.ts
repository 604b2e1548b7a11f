import type { KubeConfig, V1Node, V1Pod } from '@kubernetes/client-node';
import pRetry from 'p-retry';
import type { Logger } from 'pino';
import type { AwsClients } from '../../cloud/clients.ts';
import type { RegisteredTargets } from '../../cloud/elbv2/registrations.ts';
import { EniCloud, type InstanceNetwork, type NodeEni } from '../../cloud/eni.ts';
import { decide, maxPods, pickAddress, type InstanceLimits, type PoolAction, type PoolView, type WarmSettings } from '../../core/ipam/pool.ts';
import { IPAM_NODE_LABEL, NodeSettingAnnotations, POD_ENI_ANNOTATION, POD_IPS_ANNOTATION } from '../../core/ipam/keys.ts';
import { instanceIdOf } from '../../core/nodes.ts';
import type { EventRecorder } from '../../kube/events.ts';
import type { Informer } from '../../kube/informer.ts';
import { isNotFound, mergePatchMetadata } from '../../kube/objects.ts';
import { WorkQueue, type ReconcileResult, type WorkQueueObserver } from '../../kube/workqueue.ts';
import { ensureEniPoolCrd, EniPoolStore, type EniPoolStatus } from './crd.ts';

/** How often the pool is re-read from EC2 even without a reason (ipamd: 60 s). */
const EC2_RESYNC_MS = 60_000;
/** Pool actions per reconcile before yielding to other nodes. */
const MAX_ACTIONS = 8;

export interface IpamSettings {
  warm: WarmSettings;
  cooldownMs: number;
  /** Check new addresses against every ENI in the subnet (the emulator may hand out one in use). */
  verifyUniqueAddresses: boolean;
  leakedEniGraceMs: number;
  resyncPeriodMs: number;
}

export interface IpamControllerOptions {
  kubeconfig: KubeConfig;
  clusterName: string;
  aws: AwsClients;
  /** Which addresses a target group of ours still holds (the Service side's registrations). */
  loadBalancers: RegisteredTargets;
  settings: IpamSettings;
  log: Logger;
  events: EventRecorder;
  informers: { nodes: Informer<V1Node>; pods: Informer<V1Pod> };
  queueObserver?: WorkQueueObserver;
  /** True when the nodes informer sees only some nodes (--node-selector). */
  scopedNodes?: boolean;
  /** Called with each node's pool as written (undefined when the node leaves), e.g. for gauges. */
  onStatus?: (node: string, status: EniPoolStatus | undefined) => void;
}

interface NodePool {
  instance: InstanceNetwork;
  limits: InstanceLimits;
  enis: NodeEni[];
  loadedAt: number;
  lastDecreaseAt: number;
  /** ip → pod uid, as of the last reconcile. */
  allocations: Map<string, { pod: string; uid: string; eni: string }>;
  /** Assignments written to pods but not yet seen in the informer's cache: pod uid → ip. */
  inFlight: Map<string, string>;
  blocked?: string;
  /** After EC2 said the subnet or instance is out of room: no growth before this time (ipamd: 120 s). */
  growBlockedUntil?: number;
  growBlockedReason?: string;
  lastStatus?: string;
}

/** EC2 errors that mean "no room", answered with a pause instead of retries (ipamd backs off 120 s). */
const NO_ROOM_ERRORS = new Set(['InsufficientFreeAddressesInSubnet', 'InsufficientCidrBlocks', 'PrivateIpAddressLimitExceeded', 'AttachmentLimitExceeded', 'NetworkInterfaceLimitExceeded']);
const NO_ROOM_BACKOFF_MS = 120_000;

const podKey = (pod: V1Pod) => `${pod.metadata?.namespace}/${pod.metadata?.name}`;
const isTerminal = (pod: V1Pod) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
const firstIp = (value: string | undefined) => value?.split(',')[0]?.trim() || undefined;

/**
 * The ENI secondary-address pool, VPC CNI style: per node, ENIs attached to its instance, secondary
 * addresses kept warm by ipamd's rules, one given to each pod (recorded as `vpc.amazonaws.com/pod-ips`).
 * Released addresses are not reused before their cooldown ends nor while a target group of ours still has
 * them registered; cooldowns and allocations are kept in the node's ENIPool status so a restart keeps them.
 */
export class IpamController {
  private readonly options: IpamControllerOptions;
  private readonly eni: EniCloud;
  private readonly store: EniPoolStore;
  private readonly pools = new Map<string, NodePool>();
  /** Cluster-wide, persisted: ip → cooldown end (ms), and ip → when it was last released. */
  private readonly cooldown = new Map<string, number>();
  private readonly released = new Map<string, number>();
  /** Pod uids that were told they wait, with the reason, so a waiting pod gets one event per reason. */
  private readonly waitingNotified = new Map<string, string>();
  readonly queue: WorkQueue;
  private timers: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void)[] = [];

  constructor(options: IpamControllerOptions) {
    this.options = options;
    this.eni = new EniCloud(options.aws.ec2, options.clusterName);
    this.store = new EniPoolStore(options.kubeconfig);
    this.queue = new WorkQueue((node) => this.reconcile(node), { name: 'ipam', concurrency: 2 }, options.queueObserver);
  }

  private managed(node: V1Node | undefined): node is V1Node {
    return Boolean(node && !node.metadata?.deletionTimestamp && node.metadata?.labels?.[IPAM_NODE_LABEL] === 'enabled' && instanceIdOf(node));
  }

  async start(): Promise<void> {
    const { nodes, pods } = this.options.informers;
    await ensureEniPoolCrd(this.options.kubeconfig);
    await Promise.all([nodes.synced, pods.synced]);
    // What the last run knew: cooldowns, and allocations whose pods may have gone while we were away.
    // A CRD just created is served before its storage is ready (429 "storage is (re)initializing"): retry.
    const stored = await pRetry(() => this.store.list(), { retries: 8, minTimeout: 250, factor: 2 });
    for (const pool of stored) {
      // The status of a node that is gone (deleted while no controller ran) goes with it. With a node
      // selector, other managers' nodes are simply not ours to judge.
      if (!this.options.scopedNodes && !nodes.get(pool.metadata.name)) {
        await this.store.delete(pool.metadata.name);
        continue;
      }
      for (const entry of pool.status?.cooldown ?? []) this.cooldown.set(entry.ip, Date.parse(entry.until));
      for (const allocation of pool.status?.allocations ?? []) {
        const pod = pods.get(allocation.pod.split('/')[1] ?? '', allocation.pod.split('/')[0]);
        if ((!pod || pod.metadata?.uid !== allocation.podUid || isTerminal(pod)) && !this.cooldown.has(allocation.ip)) {
          this.cooldown.set(allocation.ip, Date.now() + this.options.settings.cooldownMs);
          this.released.set(allocation.ip, Date.now());
        }
      }
    }
    this.unsubscribe.push(
      nodes.onChange((_kind, node) => this.queue.add(node.metadata?.name ?? '')),
      pods.onChange((kind, pod, old) => {
        const nodeName = pod.spec?.nodeName ?? old?.spec?.nodeName;
        if (!nodeName || pod.spec?.hostNetwork) return;
        if (kind === 'update' && old && old.spec?.nodeName === pod.spec?.nodeName && old.status?.phase === pod.status?.phase &&
            old.metadata?.annotations?.[POD_IPS_ANNOTATION] === pod.metadata?.annotations?.[POD_IPS_ANNOTATION] && old.metadata?.deletionTimestamp === pod.metadata?.deletionTimestamp) return;
        this.queue.add(nodeName);
      }),
    );
    this.queue.start();
    this.resync();
    this.timers.push(setInterval(() => this.resync(), this.options.settings.resyncPeriodMs));
    void this.sweepLeakedEnis();
    this.timers.push(setInterval(() => void this.sweepLeakedEnis(), Math.max(this.options.settings.leakedEniGraceMs, 60_000)));
    for (const timer of this.timers) timer.unref();
  }

  async stop(): Promise<void> {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    for (const off of this.unsubscribe.splice(0)) off();
    await this.queue.stop();
  }

  resync(): void {
    for (const node of this.options.informers.nodes.list()) this.queue.add(node.metadata?.name ?? '');
    for (const name of this.pools.keys()) this.queue.add(name);
  }

  /** The pool of a node as last reconciled (for `ipam show` and tests). */
  poolOf(node: string): NodePool | undefined {
    return this.pools.get(node);
  }

  private settingsFor(node: V1Node): WarmSettings {
    const base = this.options.settings.warm;
    const annotations = node.metadata?.annotations ?? {};
    const read = (key: string, fallback: number | undefined): number | undefined => {
      const raw = annotations[key];
      if (raw === undefined) return fallback;
      const value = Number(raw);
      if (!/^-?\d+$/.test(raw.trim()) || value < -1) {
        this.options.events.event(node, 'Warning', 'InvalidIPAMSetting', `annotation ${key}: invalid value ${JSON.stringify(raw)}: must be a whole number ≥ 0; using ${fallback ?? 'unset'}`);
        return fallback;
      }
      return value;
    };
    const maxEni = read(NodeSettingAnnotations.maxEni, base.maxEni);
    const warmIpTarget = read(NodeSettingAnnotations.warmIpTarget, base.warmIpTarget);
    const minimumIpTarget = read(NodeSettingAnnotations.minimumIpTarget, base.minimumIpTarget);
    return {
      warmEniTarget: read(NodeSettingAnnotations.warmEniTarget, base.warmEniTarget) ?? 1,
      ...(warmIpTarget !== undefined ? { warmIpTarget } : {}),
      ...(minimumIpTarget !== undefined ? { minimumIpTarget } : {}),
      ...(maxEni !== undefined && maxEni > 0 ? { maxEni } : {}),
    };
  }

  private async load(node: V1Node, instanceId: string, existing: NodePool | undefined): Promise<NodePool> {
    if (existing && existing.instance.instanceId === instanceId && Date.now() - existing.loadedAt < EC2_RESYNC_MS) return existing;
    const instance = existing?.instance.instanceId === instanceId ? existing.instance : await this.eni.instance(instanceId);
    const limits = await this.eni.limits(instance.instanceType);
    const enis = await this.eni.enisOf(instanceId);
    return {
      instance,
      limits,
      enis,
      loadedAt: Date.now(),
      lastDecreaseAt: existing?.lastDecreaseAt ?? 0,
      allocations: existing?.allocations ?? new Map(),
      inFlight: existing?.inFlight ?? new Map(),
    };
  }

  async reconcile(nodeName: string): Promise<ReconcileResult> {
    const node = this.options.informers.nodes.get(nodeName);
    const log = this.options.log.child({ node: nodeName });
    if (!this.managed(node)) {
      await this.forget(nodeName, node, log);
      return;
    }
    const pool = await this.load(node, instanceIdOf(node)!, this.pools.get(nodeName));
    this.pools.set(nodeName, pool);
    const now = Date.now();
    const settings = this.settingsFor(node);
    const onNode = new Set(pool.enis.flatMap((e) => e.addresses));
    const eniOf = (ip: string) => pool.enis.find((e) => e.addresses.includes(ip))?.id ?? '';

    // Who holds which address: the pods' annotations (and assignments not yet in the cache).
    const pods = this.options.informers.pods.list().filter((p) => p.spec?.nodeName === nodeName && !p.spec?.hostNetwork);
    const claims = new Map<string, { pod: string; uid: string; eni: string }>();
    const pending: V1Pod[] = [];
    for (const pod of pods.sort((a, b) => String(a.metadata?.creationTimestamp ?? '').localeCompare(String(b.metadata?.creationTimestamp ?? '')))) {
      const uid = pod.metadata?.uid ?? '';
      if (isTerminal(pod)) continue;
      const annotated = firstIp(pod.metadata?.annotations?.[POD_IPS_ANNOTATION]);
      if (annotated) pool.inFlight.delete(uid);
      const ip = annotated ?? pool.inFlight.get(uid);
      if (ip && onNode.has(ip) && !claims.has(ip)) {
        claims.set(ip, { pod: podKey(pod), uid, eni: eniOf(ip) });
      } else if (!pod.metadata?.deletionTimestamp) {
        if (ip && claims.has(ip)) log.warn({ pod: podKey(pod), ip }, 'address already held by another pod: assigning a new one');
        pending.push(pod);
      }
    }
    // Released since last time: into cooldown.
    for (const [ip, holder] of pool.allocations) {
      if (claims.get(ip)?.uid === holder.uid) continue;
      this.cooldown.set(ip, now + this.options.settings.cooldownMs);
      this.released.set(ip, now);
      log.info({ ip, pod: holder.pod }, 'address released into cooldown');
    }
    pool.allocations = claims;
    for (const [ip, until] of this.cooldown) if (until <= now && !onNode.has(ip)) this.cooldown.delete(ip);

    const registered = await this.options.loadBalancers.registeredTargetIds();
    const view = (): PoolView => ({
      enis: pool.enis.map((e) => ({
        id: e.id,
        primary: e.deviceIndex === 0,
        createdAt: e.createdAt,
        addresses: e.addresses.map((ip) => ({
          ip,
          assigned: pool.allocations.has(ip),
          unusable: (this.cooldown.get(ip) ?? 0) > Date.now() || registered.has(ip),
        })),
      })),
      lastDecreaseAt: pool.lastDecreaseAt,
      now: Date.now(),
    });

    // Give each waiting pod an address, growing the pool as ipamd would when none is free.
    let actions = 0;
    pool.blocked = undefined;
    while (pending.length > 0) {
      const pod = pending[0]!;
      const picked = pickAddress(view(), (ip) => this.released.get(ip));
      if (picked) {
        const assigned = await this.annotate(pod, picked.ip, picked.eniId, log);
        if (assigned) pool.allocations.set(picked.ip, { pod: podKey(pod), uid: pod.metadata?.uid ?? '', eni: picked.eniId });
        pending.shift();
        continue;
      }
      const decision = decide(view(), settings, pool.limits, pending.length);
      if (decision.action && (pool.growBlockedUntil ?? 0) > Date.now()) {
        pool.blocked = pool.growBlockedReason;
        break;
      }
      if (!decision.action || actions >= MAX_ACTIONS) {
        const cooling = decision.stats.unusable;
        pool.blocked = decision.blocked
          ? `node ${nodeName} is ${decision.blocked}`
          : cooling > 0
            ? `node ${nodeName}: ${cooling} free addresses are in cooldown or still registered in a target group`
            : undefined;
        break;
      }
      try {
        await this.execute(pool, decision.action, log);
      } catch (error) {
        const code = (error as { name?: string }).name ?? '';
        if (!NO_ROOM_ERRORS.has(code)) throw error;
        pool.growBlockedUntil = Date.now() + NO_ROOM_BACKOFF_MS;
        pool.growBlockedReason = `node ${nodeName}: EC2 has no room (${code}) in subnet ${pool.instance.subnetId}; trying again in ${NO_ROOM_BACKOFF_MS / 1000}s`;
        pool.blocked = pool.growBlockedReason;
        log.warn({ code }, pool.blocked);
        break;
      }
      actions++;
    }
    if (pool.blocked && pending.length > 0) {
      for (const pod of pending) {
        const uid = pod.metadata?.uid ?? '';
        if (this.waitingNotified.get(uid) === pool.blocked) continue;
        this.waitingNotified.set(uid, pool.blocked);
        this.options.events.event(pod, 'Warning', 'FailedAssignIP', `no pod address available: ${pool.blocked}`);
      }
    }

    // Keep the warm targets (grow or, at most once per interval, shrink).
    if (pending.length === 0) {
      while (actions < MAX_ACTIONS) {
        const decision = decide(view(), settings, pool.limits);
        if (!decision.action) break;
        await this.execute(pool, decision.action, log);
        actions++;
        if (decision.action.kind === 'unassign' || decision.action.kind === 'deleteEni') break;
      }
    }

    await this.writeStatus(nodeName, pool, view());
    // Come back when a cooldown ends if anything waits on one.
    const nextExpiry = Math.min(...[...this.cooldown.values()].filter((until) => until > Date.now()));
    if (pending.length > 0) {
      if ((pool.growBlockedUntil ?? 0) > Date.now()) return { requeueAfterMs: pool.growBlockedUntil! - Date.now() };
      if (Number.isFinite(nextExpiry)) return { requeueAfterMs: Math.max(nextExpiry - Date.now() + 50, 100) };
      return { requeueAfterMs: 2_000 };
    }
    return;
  }

  /** Writes the pod's address; false when the pod is gone (the address stays free). */
  private async annotate(pod: V1Pod, ip: string, eniId: string, log: Logger): Promise<boolean> {
    try {
      await mergePatchMetadata(
        this.options.kubeconfig,
        { kind: 'Pod', namespace: pod.metadata?.namespace ?? 'default', name: pod.metadata?.name ?? '' },
        { annotations: { [POD_IPS_ANNOTATION]: ip, [POD_ENI_ANNOTATION]: eniId } },
      );
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
    const uid = pod.metadata?.uid ?? '';
    this.pools.get(pod.spec?.nodeName ?? '')?.inFlight.set(uid, ip);
    this.waitingNotified.delete(uid);
    log.info({ pod: podKey(pod), ip, eni: eniId }, 'address assigned');
    return true;
  }

  private async execute(pool: NodePool, action: PoolAction, log: Logger): Promise<void> {
    log.info({ action }, 'pool action');
    switch (action.kind) {
      case 'assign': {
        const eni = pool.enis.find((e) => e.id === action.eniId)!;
        const fresh = await this.eni.assign(eni.id, [eni.primaryIp, ...eni.addresses], action.count);
        eni.addresses.push(...(await this.keepUnique(eni.id, pool.instance.subnetId, fresh, log)));
        break;
      }
      case 'createEni': {
        const used = new Set(pool.enis.map((e) => e.deviceIndex));
        let index = 1;
        while (used.has(index)) index++;
        const created = await this.eni.createAndAttach(pool.instance, index, action.count);
        created.addresses = await this.keepUnique(created.id, pool.instance.subnetId, created.addresses, log);
        pool.enis.push(created);
        break;
      }
      case 'unassign': {
        await this.eni.unassign(action.eniId, action.ips);
        const eni = pool.enis.find((e) => e.id === action.eniId)!;
        eni.addresses = eni.addresses.filter((ip) => !action.ips.includes(ip));
        pool.lastDecreaseAt = Date.now();
        break;
      }
      case 'deleteEni': {
        const eni = pool.enis.find((e) => e.id === action.eniId)!;
        await this.eni.detachAndDelete(eni);
        pool.enis = pool.enis.filter((e) => e.id !== action.eniId);
        pool.lastDecreaseAt = Date.now();
        break;
      }
    }
  }

  /** Drops (and gives back) any new address that another ENI in the subnet already has. */
  private async keepUnique(eniId: string, subnetId: string, fresh: string[], log: Logger): Promise<string[]> {
    if (!this.options.settings.verifyUniqueAddresses || fresh.length === 0) return fresh;
    const owners = await this.eni.addressesInSubnet(subnetId);
    const duplicates = fresh.filter((ip) => (owners.get(ip) ?? '').includes(','));
    if (duplicates.length === 0) return fresh;
    log.warn({ eni: eniId, duplicates }, 'the emulator handed out addresses already in use: giving them back');
    await this.eni.unassign(eniId, duplicates);
    return fresh.filter((ip) => !duplicates.includes(ip));
  }

  private async writeStatus(nodeName: string, pool: NodePool, view: PoolView): Promise<void> {
    const now = Date.now();
    const addresses = view.enis.flatMap((e) => e.addresses);
    const status: EniPoolStatus = {
      instanceId: pool.instance.instanceId,
      instanceType: pool.limits.instanceType,
      maxEnis: pool.limits.maxEnis,
      ipv4PerEni: pool.limits.ipv4PerEni,
      maxPods: maxPods(pool.limits),
      enis: pool.enis.map((e) => ({ id: e.id, deviceIndex: e.deviceIndex, primary: e.deviceIndex === 0, addresses: [...e.addresses].sort() })),
      eniCount: pool.enis.length,
      total: addresses.length,
      assigned: addresses.filter((a) => a.assigned).length,
      warm: addresses.filter((a) => !a.assigned && !a.unusable).length,
      cooling: addresses.filter((a) => !a.assigned && a.unusable).length,
      allocations: [...pool.allocations.entries()].map(([ip, a]) => ({ ip, eni: a.eni, pod: a.pod, podUid: a.uid })).sort((a, b) => a.ip.localeCompare(b.ip)),
      cooldown: [...this.cooldown.entries()]
        .filter(([ip, until]) => until > now && addresses.some((a) => a.ip === ip))
        .map(([ip, until]) => ({ ip, until: new Date(until).toISOString() }))
        .sort((a, b) => a.ip.localeCompare(b.ip)),
      ...(pool.blocked ? { blocked: pool.blocked } : {}),
      updatedAt: '',
    };
    const fingerprint = JSON.stringify(status);
    if (fingerprint === pool.lastStatus) return;
    this.options.onStatus?.(nodeName, status);
    await this.store.writeStatus(nodeName, { ...status, updatedAt: new Date(now).toISOString() });
    pool.lastStatus = fingerprint;
  }

  /** A node gone or no longer in the pool: its ENIs of ours are detached and deleted, its status removed. */
  private async forget(nodeName: string, node: V1Node | undefined, log: Logger): Promise<void> {
    const pool = this.pools.get(nodeName);
    if (!pool) return; // never ours
    this.pools.delete(nodeName);
    this.options.onStatus?.(nodeName, undefined);
    for (const eni of pool.enis.filter((e) => e.ours)) {
      await this.eni.detachAndDelete(eni);
      log.info({ eni: eni.id }, 'deleted the ENI of a node that left the pool');
    }
    if (!node) await this.store.delete(nodeName);
  }

  /** ENIs of ours attached to nothing for longer than the grace period are deleted (VPC CNI's leaked-ENI sweep). */
  async sweepLeakedEnis(): Promise<string[]> {
    try {
      const now = Date.now();
      const leaked = (await this.eni.unattachedOurs()).filter((e) => now - e.createdAt >= this.options.settings.leakedEniGraceMs);
      for (const eni of leaked) await this.eni.detachAndDelete({ id: eni.id });
      if (leaked.length) this.options.log.info({ enis: leaked.map((e) => e.id) }, 'deleted leaked ENIs');
      return leaked.map((e) => e.id);
    } catch (error) {
      this.options.log.warn({ err: error }, 'leaked-ENI sweep failed');
      return [];
    }
  }
}

