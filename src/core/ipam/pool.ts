/**
 * The warm-pool decision of aws/amazon-vpc-cni-k8s ipamd (`isDatastorePoolTooLow`, `isDatastorePoolTooHigh`,
 * `datastoreTargetState`, `tryAssignIPs`, `tryAllocateENI`, `tryFreeENI`), pure: given one node's ENIs and
 * addresses, the settings and the instance type's limits, what (if anything) to ask EC2 for next.
 *
 * Deliberate differences from ipamd, each fixing a reported problem:
 * - Addresses in cooldown (or still registered in a target group) are not "available": ipamd counts them,
 *   so pods wait for cooldown while the pool looks full (amazon-vpc-cni-k8s #2896).
 * - Shrinking never returns an address in cooldown to EC2 (ipamd can, so another node may get it at once).
 */

export interface InstanceLimits {
  instanceType: string;
  /** ENIs an instance of this type can have (its primary ENI included). */
  maxEnis: number;
  /** IPv4 addresses per ENI, the ENI's own primary address included. */
  ipv4PerEni: number;
}

/** Addresses per ENI that can go to pods: every ENI keeps its primary address. */
export const podIpsPerEni = (limits: InstanceLimits): number => Math.max(limits.ipv4PerEni - 1, 0);

/** Max pods as EKS computes it: ENIs × (IPv4 per ENI − 1) + 2 (host-network pods). */
export const maxPods = (limits: InstanceLimits): number => limits.maxEnis * podIpsPerEni(limits) + 2;

export interface WarmSettings {
  /** WARM_ENI_TARGET: whole ENIs' worth of free addresses to keep (default 1). Ignored when an IP target is set. */
  warmEniTarget: number;
  /** WARM_IP_TARGET: free addresses to keep; undefined = unset. */
  warmIpTarget?: number;
  /** MINIMUM_IP_TARGET: floor on the node's addresses; undefined = unset. */
  minimumIpTarget?: number;
  /** MAX_ENI: cap below the instance type's limit; undefined = none. */
  maxEni?: number;
}

export const DEFAULT_WARM_SETTINGS: WarmSettings = { warmEniTarget: 1 };

export interface PoolAddress {
  ip: string;
  assigned: boolean;
  /** In cooldown, or still a registered target somewhere: neither given out nor returned to EC2. */
  unusable: boolean;
}

export interface PoolEni {
  id: string;
  /** Device index 0: the instance's own ENI, never deleted. */
  primary: boolean;
  createdAt: number;
  /** Secondary addresses only (the ENI's primary address is never a pod's). */
  addresses: PoolAddress[];
}

export interface PoolView {
  enis: PoolEni[];
  /** When the pool last shrank: ipamd shrinks at most once per `decreaseIntervalMs`. */
  lastDecreaseAt: number;
  now: number;
}

export type PoolAction =
  | { kind: 'assign'; eniId: string; count: number }
  | { kind: 'createEni'; count: number }
  | { kind: 'unassign'; eniId: string; ips: string[] }
  | { kind: 'deleteEni'; eniId: string };

export interface PoolStats {
  total: number;
  assigned: number;
  /** Unassigned and usable now. */
  available: number;
  /** Unassigned but cooling down or still registered. */
  unusable: number;
}

export interface PoolDecision {
  action?: PoolAction;
  /** Why nothing can grow although the pool is short: the limit reached, for events and status. */
  blocked?: string;
  stats: PoolStats;
}

export const DECREASE_INTERVAL_MS = 30_000;
/** ipamd leaves an ENI younger than this alone (it may be about to receive pods). */
export const MIN_ENI_AGE_MS = 60_000;

export function poolStats(enis: PoolEni[]): PoolStats {
  let total = 0;
  let assigned = 0;
  let unusable = 0;
  for (const eni of enis) {
    for (const address of eni.addresses) {
      total++;
      if (address.assigned) assigned++;
      else if (address.unusable) unusable++;
    }
  }
  return { total, assigned, unusable, available: total - assigned - unusable };
}

const ipTargetsDefined = (s: WarmSettings) => s.warmIpTarget !== undefined || s.minimumIpTarget !== undefined;

/** ipamd's datastoreTargetState: how many addresses short of / over the IP targets the pool is. */
export function targetState(stats: PoolStats, settings: WarmSettings): { short: number; over: number } {
  const warm = settings.warmIpTarget ?? 0;
  const minimum = settings.minimumIpTarget ?? 0;
  const short = Math.max(warm - stats.available, minimum - stats.total, 0);
  const over = Math.max(Math.min(stats.available - warm, stats.total - minimum), 0);
  return { short, over };
}

export function effectiveMaxEnis(limits: InstanceLimits, settings: WarmSettings): number {
  return settings.maxEni !== undefined && settings.maxEni >= 1 ? Math.min(settings.maxEni, limits.maxEnis) : limits.maxEnis;
}

/** The next EC2 action for the pool, or none. `pending` pods waiting for an address count as demand. */
export function decide(view: PoolView, settings: WarmSettings, limits: InstanceLimits, pending = 0): PoolDecision {
  const perEni = podIpsPerEni(limits);
  const stats = poolStats(view.enis);
  const demand = { ...stats, available: stats.available - pending };
  const maxEnis = effectiveMaxEnis(limits, settings);
  const capacity = maxEnis * perEni;

  // Grow: how many addresses the pool is short (0 = not low).
  let short: number;
  if (ipTargetsDefined(settings)) {
    short = targetState(demand, settings).short;
  } else {
    const warmEnis = settings.warmEniTarget;
    const low = demand.available < warmEnis * perEni || (warmEnis === 0 && demand.available <= 0);
    short = low ? Math.max(warmEnis * perEni - demand.available, demand.available <= 0 ? 1 : 0) : 0;
  }
  if (stats.total >= maxPods(limits)) short = 0;
  if (short > 0) {
    const withRoom = view.enis.find((eni) => eni.addresses.length < perEni);
    if (withRoom) {
      // WARM_ENI mode fills the ENI; IP-target mode asks for just what is short.
      const room = perEni - withRoom.addresses.length;
      const count = ipTargetsDefined(settings) ? Math.min(short, room) : room;
      return { action: { kind: 'assign', eniId: withRoom.id, count }, stats };
    }
    if (view.enis.length < maxEnis) {
      const count = ipTargetsDefined(settings) ? Math.min(short, perEni) : perEni;
      return { action: { kind: 'createEni', count }, stats };
    }
    return { blocked: `at its limit of ${maxEnis} ENIs × ${perEni} addresses (${limits.instanceType}: ${capacity} pod addresses${maxEnis < limits.maxEnis ? `, MAX_ENI ${maxEnis}` : ''})`, stats };
  }

  // Shrink, at most once per interval and never while pods wait.
  if (pending > 0 || view.now - view.lastDecreaseAt < DECREASE_INTERVAL_MS) return { stats };
  if (ipTargetsDefined(settings)) {
    const { over } = targetState(stats, settings);
    if (over > 0) {
      // Free from the ENI with the fewest assigned addresses, so ENIs empty out and can go.
      const candidates = [...view.enis].sort((a, b) => a.addresses.filter((x) => x.assigned).length - b.addresses.filter((x) => x.assigned).length);
      for (const eni of candidates) {
        const free = eni.addresses.filter((a) => !a.assigned && !a.unusable).map((a) => a.ip);
        if (free.length > 0) return { action: { kind: 'unassign', eniId: eni.id, ips: free.slice(0, over) }, stats };
      }
    }
    const empty = view.enis.find((eni) => deletable(eni, view.now) && eni.addresses.length === 0);
    if (empty) return { action: { kind: 'deleteEni', eniId: empty.id }, stats };
    return { stats };
  }
  if (stats.available >= (settings.warmEniTarget + 1) * perEni) {
    const eni = view.enis.find((candidate) => deletable(candidate, view.now));
    if (eni) return { action: { kind: 'deleteEni', eniId: eni.id }, stats };
  }
  return { stats };
}

/** ipamd's deletable ENI: not the primary, old enough, no pod on it, nothing cooling down on it. */
function deletable(eni: PoolEni, now: number): boolean {
  return !eni.primary && now - eni.createdAt >= MIN_ENI_AGE_MS && eni.addresses.every((a) => !a.assigned && !a.unusable);
}

/**
 * The address for a pod: never one in use or unusable; addresses never used before first, then the one
 * released longest ago (ipamd hands out fresh addresses first for the same reason).
 */
export function pickAddress(view: PoolView, releasedAt: (ip: string) => number | undefined): { eniId: string; ip: string } | undefined {
  let best: { eniId: string; ip: string; released: number } | undefined;
  for (const eni of view.enis) {
    for (const address of eni.addresses) {
      if (address.assigned || address.unusable) continue;
      const released = releasedAt(address.ip) ?? -Infinity;
      if (!best || released < best.released) best = { eniId: eni.id, ip: address.ip, released };
    }
  }
  return best ? { eniId: best.eniId, ip: best.ip } : undefined;
}
