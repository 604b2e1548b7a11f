import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { V1ServicePort } from '@kubernetes/client-node';
import type { ModelInput, NodeInfo, Target, TargetType } from './model.ts';
import type { OwnTargets } from './multi-cluster.ts';
import type { TargetGroupIpAddressType } from './target-group-ip-address-type.ts';

/** The targets of a Service's target groups: the Nodes that may serve (instance), the ready endpoints (ip). */

export const EXCLUDE_FROM_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';
export const TO_BE_DELETED_TAINT = 'ToBeDeletedByClusterAutoscaler';

/** Node filter of k8s.io/cloud-provider plus the target-node-labels selector. */
export function eligibleNodes(nodes: NodeInfo[], selector: Record<string, string>): NodeInfo[] {
  return nodes.filter((node) => {
    if (node.deleting) return false;
    const exclude = node.labels[EXCLUDE_FROM_LB_LABEL];
    // Parsed as a bool since 2025: "false" keeps the node, anything else present excludes it.
    if (exclude !== undefined && exclude.toLowerCase() !== 'false') return false;
    if (node.toBeDeleted) return false;
    return Object.entries(selector).every(([key, value]) => node.labels[key] === value);
  });
}

/** Whether an address lies in none of the VPC's subnets; undefined CIDRs (none read) leave the zone to ELBv2. */
function outsideSubnets(input: ModelInput, family: TargetGroupIpAddressType): (address: string) => boolean {
  const inVpc = input.subnets.filter((s) => s.vpcId === input.vpcId);
  const cidrs = (family === 'ipv4' ? inVpc.flatMap((s) => s.cidrBlock ?? []) : inVpc.flatMap((s) => s.ipv6CidrBlocks ?? [])).map((c) => c.split('/'));
  if (cidrs.length === 0) return () => false;
  const inside = new BlockList();
  for (const [network, prefix] of cidrs) inside.addSubnet(network!, Number(prefix), family);
  const ofFamily = family === 'ipv4' ? isIPv4 : isIPv6;
  return (address) => ofFamily(address) && !inside.check(address, family);
}

/** Ready endpoints of the target group's family: an IPv6 group takes the IPv6 slices (the LBC's TargetGroupBinding). */
export function ipTargets(input: ModelInput, servicePort: V1ServicePort, family: TargetGroupIpAddressType): Target[] {
  const outside = outsideSubnets(input, family);
  const namespace = input.service.metadata?.namespace ?? 'default';
  const targets = new Map<string, Target>();
  for (const slice of input.endpointSlices) {
    if (slice.addressType !== (family === 'ipv4' ? 'IPv4' : 'IPv6')) continue;
    // The slice port for this service port carries the resolved (possibly named) targetPort.
    const slicePort = (slice.ports ?? []).find((p) => (p.name ?? '') === (servicePort.name ?? '') && (p.protocol ?? 'TCP') === (servicePort.protocol ?? 'TCP'));
    if (!slicePort?.port) continue;
    for (const endpoint of slice.endpoints ?? []) {
      // Ready only: terminating endpoints (ready=false) are deregistered.
      if (endpoint.conditions?.ready === false || endpoint.conditions?.terminating === true) continue;
      // The ENI pool gives pods IPv4 VPC addresses only.
      const pod = family === 'ipv4' && endpoint.targetRef?.kind === 'Pod' ? endpoint.targetRef.name : undefined;
      const vpcIp = pod ? input.podVpcIp(endpoint.targetRef?.namespace ?? namespace, pod) : undefined;
      for (const address of vpcIp ? [vpcIp] : endpoint.addresses) {
        targets.set(`${address}:${slicePort.port}`, { id: address, port: slicePort.port, ...(outside(address) ? { availabilityZone: 'all' as const } : {}) });
      }
    }
  }
  return [...targets.values()].sort((a, b) => a.id.localeCompare(b.id) || a.port - b.port);
}

/** What the controller knows is ours, and for instance targets the instance of every Node (eligible or not). */
export function ownTargetsOf(input: ModelInput, targetType: TargetType): OwnTargets {
  const known = input.ownTargets ?? { ids: [], cidrs: [] };
  const instances = targetType === 'instance' ? input.nodes.flatMap((node) => node.instanceId ?? []) : [];
  return { ids: [...new Set([...instances, ...known.ids])].sort(), cidrs: known.cidrs };
}
