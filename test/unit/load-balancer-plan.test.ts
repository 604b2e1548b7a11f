import { describe, expect, it } from 'vitest';
import { planLoadBalancerSettings } from '../../src/core/load-balancer-plan.ts';
import type { DesiredLoadBalancer } from '../../src/core/model.ts';
import type { ActualLoadBalancer } from '../../src/core/plan.ts';

// The NLB settings changed in place: ip address type (the LBC's updateSDKLoadBalancerWithIPAddressType) and the
// capacity reservation (its LoadBalancerCapacityReservationReconciler).
describe('planLoadBalancerSettings', () => {
  const desired = (extra: Partial<DesiredLoadBalancer> = {}): DesiredLoadBalancer => ({ name: 'lb', scheme: 'internal', subnetIds: ['subnet-a'], attributes: {}, tags: {}, ...extra });
  const kept = (extra: Partial<ActualLoadBalancer> = {}): ActualLoadBalancer => ({ arn: 'arn-lb', name: 'lb', scheme: 'internal', dnsName: 'lb', state: 'active', createdAt: 0, ...extra });
  const newLb = { key: 'lb' };
  it.each<[string, DesiredLoadBalancer, ActualLoadBalancer | undefined, ReturnType<typeof planLoadBalancerSettings>]>([
    ['ipv4 kept ipv4: nothing', desired(), kept({ ipAddressType: 'ipv4' }), []],
    ['dualstack wanted on an ipv4 NLB: SetIpAddressType', desired({ ipAddressType: 'dualstack' }), kept({ ipAddressType: 'ipv4' }), [{ kind: 'SetIpAddressType', arn: 'arn-lb', ipAddressType: 'dualstack' }]],
    ['annotation removed from a dualstack NLB: back to ipv4', desired(), kept({ ipAddressType: 'dualstack' }), [{ kind: 'SetIpAddressType', arn: 'arn-lb', ipAddressType: 'ipv4' }]],
    ['ip address type not read: nothing', desired({ ipAddressType: 'dualstack' }), kept(), []],
    ['a new NLB with capacity units: reserved after the create', desired({ minimumCapacityUnits: 3000 }), undefined, [{ kind: 'ModifyCapacityReservation', loadBalancer: newLb, capacityUnits: 3000 }]],
    ['a new NLB with 0 units: nothing to reset', desired({ minimumCapacityUnits: 0 }), undefined, []],
    ['kept with other units: modified', desired({ minimumCapacityUnits: 3000 }), kept({ minimumCapacityUnits: 1000 }), [{ kind: 'ModifyCapacityReservation', loadBalancer: { arn: 'arn-lb' }, capacityUnits: 3000 }]],
    ['kept with the same units: nothing', desired({ minimumCapacityUnits: 3000 }), kept({ minimumCapacityUnits: 3000 }), []],
    ['0 on a reserved NLB: reset', desired({ minimumCapacityUnits: 0 }), kept({ minimumCapacityUnits: 1000 }), [{ kind: 'ModifyCapacityReservation', loadBalancer: { arn: 'arn-lb' }, capacityUnits: 0 }]],
    ['annotation removed: the reservation is left as it is (the LBC docs: set 0 to reset)', desired(), kept({ minimumCapacityUnits: 1000 }), []],
    ['reservation not read: nothing', desired({ minimumCapacityUnits: 3000 }), kept(), []],
  ])('%s', (_name, want, actual, actions) => {
    expect(planLoadBalancerSettings(want, actual, actual ? { arn: actual.arn } : newLb)).toEqual(actions);
  });
});
