/**
 * Everything the NLBs' security groups decide in the router (ADR 0014), from one read and what is forwarded:
 * the frontend filters, the backend filters of the kernel-forwarded targets, and the NLB's own connections the
 * targets refuse (health checks on their port, the userspace proxy's flows). Pure; nft-security.ts renders it.
 */
import type { DesiredDataPlane, LoadBalancerAddress, LoadBalancerState, TargetGroupState } from './model.ts';
import { kernelForwarded } from './nft.ts';
import {
  backendFilters,
  blockedLocalConnections,
  frontendFilters,
  type BackendFilter,
  type FrontendFilter,
  type LocalConnection,
  type SecurityFacts,
} from './security-groups.ts';

export interface SecurityFilters {
  frontend: FrontendFilter[];
  backend: BackendFilter[];
  blocked: LocalConnection[];
}

/** The address an NLB's health checks of a target in `zone` leave from: its own in that zone, else its first. */
export function healthCheckSource(addresses: readonly LoadBalancerAddress[] | undefined, zone: string): string | undefined {
  return (addresses?.find((address) => address.zone === zone) ?? addresses?.[0])?.address;
}

export function securityFilters(
  seen: {
    loadBalancers: readonly LoadBalancerState[];
    groups: readonly TargetGroupState[];
    addresses: ReadonlyMap<string, readonly LoadBalancerAddress[]>;
    security: SecurityFacts;
  },
  desired: DesiredDataPlane,
): SecurityFilters {
  const { loadBalancers, security } = seen;
  const loadBalancerOfGroup = new Map(desired.listeners.map((listener) => [listener.targetGroupArn, listener.loadBalancerArn]));
  const specOf = new Map(seen.groups.map((group) => [group.arn, group.healthCheck]));
  const local: LocalConnection[] = [];
  for (const group of desired.groups) {
    const loadBalancerArn = loadBalancerOfGroup.get(group.arn);
    const spec = specOf.get(group.arn);
    if (!loadBalancerArn || !spec) continue;
    for (const target of group.targets) {
      const source = healthCheckSource(seen.addresses.get(loadBalancerArn), target.zone);
      const port = spec.port === 'traffic-port' ? target.port : spec.port;
      if (source) local.push({ loadBalancerArn, source, targetAddress: target.address, port });
    }
  }
  // Listeners nftables does not forward are served in userspace (PPv2, TLS), connecting from the listener address.
  const kernel = new Set(kernelForwarded(desired.listeners));
  for (const listener of desired.listeners.filter((l) => !kernel.has(l) && l.protocol === 'tcp')) {
    for (const target of listener.targets) {
      local.push({ loadBalancerArn: listener.loadBalancerArn, source: listener.address, targetAddress: target.address, port: target.port });
    }
  }
  return {
    frontend: frontendFilters(loadBalancers, seen.addresses, security),
    backend: backendFilters([...kernel], loadBalancers, security),
    blocked: blockedLocalConnections(local, loadBalancers, security),
  };
}
