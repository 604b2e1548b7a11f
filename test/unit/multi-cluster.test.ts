import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { clusterAddresses } from '../../src/controllers/service/own-addresses.ts';
import { RememberedTargets } from '../../src/controllers/service/remembered-targets.ts';
import type { EniPool } from '../../src/controllers/ipam/crd.ts';
import { Annotations } from '../../src/core/annotations.ts';
import type { DesiredStack, NodeInfo } from '../../src/core/model.ts';
import { ownsTarget } from '../../src/core/multi-cluster.ts';
import { plan, type ActualStack } from '../../src/core/plan.ts';
import { model } from './support/lbc-model.ts';
import { actualTg, desired, desiredTg, lb, listener } from './support/plan-stack.ts';

/**
 * multi-cluster-target-group (ADR 0017): which registered targets are ours, and that the plan deregisters
 * only those from a shared group. The LBC's flag table is in lbc-tables-target-groups.test.ts.
 */

/** The one-port stack of plan-stack.ts, its group shared (with `ownIds`/`cidrs` ours) or not. */
function stack(targetType: 'instance' | 'ip', targets: string[], shared: boolean, ownIds: string[], cidrs: string[] = []): DesiredStack {
  const base = desired(desiredTg(targetType, targets));
  if (!shared) return base;
  return { ...base, targetGroups: base.targetGroups.map((tg) => ({ ...tg, multiCluster: true as const })), ownTargets: { ids: ownIds, cidrs } };
}

const actual = (targetType: 'instance' | 'ip', registered: string[]): ActualStack => ({
  loadBalancers: [lb],
  listeners: [listener('tg-a')],
  targetGroups: [actualTg('tg-a', targetType, registered.map((id) => [id, 'healthy']))],
});

const deregistered = (desired: DesiredStack, current: ActualStack) =>
  plan(desired, current).actions.flatMap((a) => (a.kind === 'DeregisterTargets' ? a.targets.map((t) => t.id) : []));

describe('multi-cluster target groups: only our targets are deregistered', () => {
  it.each<[string, DesiredStack, ActualStack, string[]]>([
    ['not shared: every target not desired goes', stack('instance', ['i-1'], false, []), actual('instance', ['i-1', 'i-gone', 'i-other']), ['i-gone', 'i-other']],
    ['shared: an instance of one of our Nodes goes, another cluster’s stays', stack('instance', ['i-1'], true, ['i-1', 'i-gone']), actual('instance', ['i-1', 'i-gone', 'i-other']), ['i-gone']],
    ['shared ip: a pod address of ours goes, another cluster’s stays', stack('ip', ['10.0.1.5'], true, ['10.0.1.5', '10.0.1.6']), actual('ip', ['10.0.1.5', '10.0.1.6', '10.0.9.9']), ['10.0.1.6']],
    ['shared ip: an address in a Node’s pod CIDR is ours', stack('ip', [], true, [], ['10.244.1.0/24']), actual('ip', ['10.244.1.7', '10.244.2.7']), ['10.244.1.7']],
    ['shared, ownership unknown: nothing is deregistered', { ...stack('ip', [], true, []), ownTargets: undefined } as DesiredStack, actual('ip', ['10.0.1.6']), []],
  ])('%s', (_name, desired, current, gone) => {
    expect(deregistered(desired, current)).toEqual(gone);
  });

  it('a shared group still registers our missing targets and leaves a converged stack alone', () => {
    const desired = stack('ip', ['10.0.1.5', '10.0.1.7'], true, ['10.0.1.5', '10.0.1.7']);
    const result = plan(desired, actual('ip', ['10.0.1.5', '10.0.9.9']));
    expect(result.actions).toEqual([{ kind: 'RegisterTargets', targetGroup: { arn: 'tg-a' }, targets: [{ id: '10.0.1.7', port: 8080 }] }]);
    expect(plan(desired, actual('ip', ['10.0.1.5', '10.0.1.7', '10.0.9.9'])).actions).toEqual([]);
  });

  it('ownsTarget matches IDs and CIDRs (IPv4 and IPv6), and nothing without ownership', () => {
    const ours = ownsTarget({ ids: ['i-1', '10.0.0.1'], cidrs: ['10.244.0.0/16', 'fd00::/64', 'junk'] });
    expect(['i-1', '10.0.0.1', '10.244.3.4', 'fd00::5', 'i-2', '10.0.0.2', 'fd01::5'].map(ours)).toEqual([true, true, true, true, false, false, false]);
    expect(ownsTarget(undefined)('i-1')).toBe(false);
  });

  it('the model marks every group shared and names every Node’s instance ours, eligible or not', () => {
    const svc = { metadata: { namespace: 'ns', name: 'web', annotations: { [Annotations.multiClusterTargetGroup]: 'true', [Annotations.targetNodeLabels]: 'pool=a' } }, spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP', nodePort: 30080 }] } };
    const nodes: NodeInfo[] = [
      { name: 'a', instanceId: 'i-a', labels: { pool: 'a' }, deleting: false, toBeDeleted: false },
      { name: 'b', instanceId: 'i-b', labels: { pool: 'b' }, deleting: false, toBeDeleted: false },
      { name: 'c', labels: {}, deleting: false, toBeDeleted: false },
    ];
    const built = model(svc, { nodes });
    expect(built.targetGroups.map((tg) => [tg.multiCluster, tg.targets.map((t) => t.id)])).toEqual([[true, ['i-a']]]);
    expect(built.ownTargets).toEqual({ ids: ['i-a', 'i-b'], cidrs: [] });
    // What the controller knows besides (its remembered targets): added to the Nodes' instances.
    expect(model(svc, { nodes, ownTargets: { ids: ['i-gone'], cidrs: [] } }).ownTargets).toEqual({ ids: ['i-a', 'i-b', 'i-gone'], cidrs: [] });
    // ip targets: only what the controller read (the cluster's addresses); none given, nothing is ours.
    const ipSvc = { ...svc, metadata: { ...svc.metadata, annotations: { ...svc.metadata.annotations, [Annotations.targetType]: 'ip' } } };
    expect(model(ipSvc, { nodes, ownTargets: { ids: ['10.0.0.1'], cidrs: ['10.244.0.0/24'] } }).ownTargets).toEqual({ ids: ['10.0.0.1'], cidrs: ['10.244.0.0/24'] });
    expect(model(ipSvc, { nodes }).ownTargets).toEqual({ ids: [], cidrs: [] });
    expect(model({ ...svc, metadata: { ...svc.metadata, annotations: {} } }, { nodes }).ownTargets).toBeUndefined();
  });
});

describe('remembered targets (remembered-targets.ts)', () => {
  it('keeps what is desired and what it wanted before while still registered; forgets a Service no longer shared', () => {
    const remembered = new RememberedTargets();
    remembered.update(stack('ip', ['10.0.1.5', '10.0.1.6'], true, []), actual('ip', []));
    expect(remembered.of('ns/web')).toEqual(['10.0.1.5', '10.0.1.6']);
    // 10.0.1.6 no longer desired but still registered: still ours; 10.0.1.5 gone from the group and from the model.
    remembered.update(stack('ip', ['10.0.1.7'], true, []), actual('ip', ['10.0.1.6', '10.0.9.9']));
    expect(remembered.of('ns/web').sort()).toEqual(['10.0.1.6', '10.0.1.7']);
    remembered.update(stack('ip', ['10.0.1.7'], false, []), actual('ip', ['10.0.1.6']));
    expect(remembered.of('ns/web')).toEqual([]);
  });
});

describe('the cluster’s own addresses (own-addresses.ts)', () => {
  it('pods (IPs and ENI-pool address), Nodes (addresses, pod CIDRs) and the pools of our Nodes only', () => {
    const nodes: V1Node[] = [
      { metadata: { name: 'n1' }, spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'] }, status: { addresses: [{ type: 'InternalIP', address: '10.0.1.10' }, { type: 'Hostname', address: 'n1' }] } },
    ];
    const pods: V1Pod[] = [
      { metadata: { name: 'p1', annotations: { 'vpc.amazonaws.com/pod-ips': '10.0.1.20' } }, status: { podIP: '10.244.1.5', podIPs: [{ ip: '10.244.1.5' }] } },
      { metadata: { name: 'pending' }, status: {} },
    ];
    const pool = (name: string, addresses: string[]): EniPool => ({
      apiVersion: 'cloud-provider-localstack.io/v1alpha1',
      kind: 'ENIPool',
      metadata: { name },
      status: { enis: [{ id: 'eni-1', deviceIndex: 0, primary: true, addresses }] } as EniPool['status'],
    });
    expect(clusterAddresses(nodes, pods, [pool('n1', ['10.0.1.10', '10.0.1.21']), pool('other-cluster-node', ['10.0.2.30'])])).toEqual({
      ids: ['10.0.1.10', '10.0.1.20', '10.0.1.21', '10.244.1.5'],
      cidrs: ['10.244.1.0/24'],
    });
  });
});
