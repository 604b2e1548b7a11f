import type { DesiredLoadBalancer } from './model.ts';
import type { ActualLoadBalancer, Ref } from './plan.ts';
import type { IpAddressType } from './subnet-mappings.ts';

/** Settings of a kept NLB that ELBv2 changes in place, each its own call (the LBC's load_balancer_manager.go Update). */
export type LoadBalancerSettingAction =
  | { kind: 'SetIpAddressType'; arn: string; ipAddressType: IpAddressType }
  | { kind: 'ModifyCapacityReservation'; loadBalancer: Ref; capacityUnits: number };

/**
 * The ip address type (SetIpAddressType when it differs, as the LBC's updateSDKLoadBalancerWithIPAddressType)
 * and the capacity reservation (ModifyCapacityReservation after a create when the Service asks for units, and on a
 * kept NLB when the read reservation differs; unread, nothing). Subnet mappings are not here: they are fixed at
 * creation (subnet-mappings.ts says why).
 */
export function planLoadBalancerSettings(desired: DesiredLoadBalancer, kept: ActualLoadBalancer | undefined, lbRef: Ref): LoadBalancerSettingAction[] {
  const actions: LoadBalancerSettingAction[] = [];
  const ipAddressType = desired.ipAddressType ?? 'ipv4';
  if (kept?.ipAddressType && kept.ipAddressType !== ipAddressType) actions.push({ kind: 'SetIpAddressType', arn: kept.arn, ipAddressType });
  const units = desired.minimumCapacityUnits;
  const current = kept ? kept.minimumCapacityUnits : 0;
  if (units !== undefined && current !== undefined && current !== units) actions.push({ kind: 'ModifyCapacityReservation', loadBalancer: lbRef, capacityUnits: units });
  return actions;
}

export function describeLoadBalancerSetting(action: LoadBalancerSettingAction, ref: (r: Ref) => string): string {
  switch (action.kind) {
    case 'SetIpAddressType':
      return `set ip address type ${action.ipAddressType} on ${action.arn}`;
    case 'ModifyCapacityReservation':
      return `reserve ${action.capacityUnits} capacity units on ${ref(action.loadBalancer)}`;
  }
}
