import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { Annotations, boolAnnotation } from './annotations.ts';

/**
 * `multi-cluster-target-group: "true"`: other clusters (or anything else) register targets in this Service's
 * target groups too, so a target may be deregistered only when it is ours (ADR 0017). The LBC remembers what
 * it registered in a ConfigMap per group; we ask the cluster instead, which needs no state and no first pass
 * without deregistrations: a target is ours when it is the instance of one of this cluster's Nodes (instance
 * targets), or an address of this cluster (ip targets): a pod's address, a Node's, one in a Node's pod CIDR, or
 * one of its ENI pools' addresses (a deleted pod's address stays there in cooldown until it is deregistered).
 */

/** The LBC's buildTargetGroupBindingMultiClusterFlag: strconv.ParseBool of the annotation, false when absent. */
export const multiClusterOf = (annotations: Record<string, string> | undefined): boolean => boolAnnotation(annotations, Annotations.multiClusterTargetGroup) ?? false;

/** What of the cluster's can be a target (its instances, its addresses and address ranges). */
export interface OwnTargets {
  /** Instance IDs (instance targets) or IP addresses (ip targets). */
  ids: string[];
  /** CIDRs whose every address is ours (the Nodes' pod CIDRs); ip targets only. */
  cidrs: string[];
}

/** Whether a registered target's ID is one of ours; `own` absent means nothing is known to be ours. */
export function ownsTarget(own: OwnTargets | undefined): (id: string) => boolean {
  if (!own) return () => false;
  const ids = new Set(own.ids);
  const ranges = new BlockList();
  for (const cidr of own.cidrs) {
    const [network, prefix] = cidr.split('/');
    const family = isIPv4(network ?? '') ? 'ipv4' : isIPv6(network ?? '') ? 'ipv6' : undefined;
    if (family && prefix !== undefined) ranges.addSubnet(network!, Number(prefix), family);
  }
  return (id) => ids.has(id) || (isIPv4(id) && ranges.check(id, 'ipv4')) || (isIPv6(id) && ranges.check(id, 'ipv6'));
}
