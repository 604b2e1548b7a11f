import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { POD_IPS_ANNOTATION } from '../../core/ipam/keys.ts';
import type { OwnTargets } from '../../core/multi-cluster.ts';
import { isNotFound } from '../../kube/objects.ts';
import type { EniPool, EniPoolStore } from '../ipam/crd.ts';

/**
 * The addresses of this cluster that can be ip targets, for multi-cluster target groups (ADR 0017): every pod's
 * (its pod IPs and its ENI-pool address), every Node's, the Nodes' pod CIDRs, and every address on the ENIs of
 * this cluster's Nodes' pools (a deleted pod's address waits there, in cooldown, until it is deregistered).
 */
export function clusterAddresses(nodes: readonly V1Node[], pods: readonly V1Pod[], pools: readonly EniPool[]): OwnTargets {
  const ids = new Set<string>();
  const add = (address: string | undefined) => {
    const trimmed = address?.trim();
    if (trimmed) ids.add(trimmed);
  };
  for (const pod of pods) {
    for (const ip of pod.status?.podIPs ?? []) add(ip.ip);
    add(pod.status?.podIP);
    for (const ip of pod.metadata?.annotations?.[POD_IPS_ANNOTATION]?.split(',') ?? []) add(ip);
  }
  const nodeNames = new Set<string>();
  const cidrs = new Set<string>();
  for (const node of nodes) {
    if (node.metadata?.name) nodeNames.add(node.metadata.name);
    for (const address of node.status?.addresses ?? []) if (address.type === 'InternalIP' || address.type === 'ExternalIP') add(address.address);
    for (const cidr of [...(node.spec?.podCIDRs ?? []), ...(node.spec?.podCIDR ? [node.spec.podCIDR] : [])]) cidrs.add(cidr);
  }
  // Pools are cluster-wide objects named after their Node: only this controller's Nodes are ours.
  for (const pool of pools) {
    if (!nodeNames.has(pool.metadata.name)) continue;
    for (const eni of pool.status?.enis ?? []) for (const address of eni.addresses) add(address);
  }
  return { ids: [...ids].sort(), cidrs: [...cidrs].sort() };
}

/** The ENI pools, none when the cluster has no ENIPool CRD (no node runs the ENI pool). */
export async function listPools(store: EniPoolStore): Promise<EniPool[]> {
  try {
    return await store.list();
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}
