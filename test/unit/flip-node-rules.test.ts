import { describe, expect, it } from 'vitest';
import { plan, servingTargetGroups, withServingNodeRules, type ActualStack } from '../../src/core/plan.ts';
import type { DesiredStack } from '../../src/core/model.ts';
import { actualTg, desired, desiredTg, lb, listener } from './support/plan-stack.ts';

/**
 * A flip (instance → ip) keeps the old group's node rules while the listener still forwards to it: revoking them
 * first would make its targets fail their health checks (and drop their traffic) before the new group is ready.
 */
const backend = { name: 'k8s-traffic-c1-0123456789', description: 'backend', tags: {} };
const withGroups = (stack: DesiredStack): DesiredStack => ({ ...stack, securityGroups: { named: [], backend, nodeRules: [{ protocol: 'tcp', port: stack.targetGroups[0]!.port }] } });
const ipStack = withGroups(desired(desiredTg('ip', ['10.0.64.10'])));
const actualWith = (listenerTo: string): ActualStack => ({
  loadBalancers: [{ ...lb, securityGroups: ['sg-backend'] }],
  listeners: [listener(listenerTo)],
  targetGroups: [actualTg('tg-old', 'instance', [['i-1', 'healthy']]), { ...actualTg('tg-ip', 'ip', [['10.0.64.10', 'initial']]), name: 'tg-ip', loadBalancerArns: [] }],
  securityGroups: {
    managed: [],
    backendId: 'sg-backend',
    namedIds: [],
    nodeGroupIds: ['sg-node'],
    nodeRules: [{ groupId: 'sg-node', protocol: 'tcp', fromPort: 30080, toPort: 30080 }],
    othersNeed: [],
  },
});

describe('node rules during a flip', () => {
  it('the group the listener still forwards to is serving; its rules join the desired ones', () => {
    const actual = actualWith('tg-old');
    expect(servingTargetGroups(ipStack, actual).map((tg) => tg.arn)).toEqual(['tg-old']);
    expect(withServingNodeRules(ipStack, actual)?.nodeRules).toEqual([
      { protocol: 'tcp', port: 8080 },
      { protocol: 'tcp', port: 30080 },
    ]);
  });

  it('while the listener is on the old group its port stays allowed after the plan; once it moved, it goes', () => {
    /** The node group's TCP ports allowed after applying the plan's node-rule actions to what exists. */
    const allowedAfter = (actual: ActualStack): (port: number) => boolean => {
      let ranges = actual.securityGroups!.nodeRules.map((r) => [r.fromPort, r.toPort] as const);
      for (const action of plan(ipStack, actual).actions) {
        if (action.kind === 'AuthorizeNodeRules') ranges = [...ranges, ...action.rules.map((r) => [r.fromPort, r.toPort] as const)];
        if (action.kind === 'RevokeNodeRules') ranges = ranges.filter(([from, to]) => !action.rules.some((r) => r.fromPort === from && r.toPort === to));
      }
      return (port) => ranges.some(([from, to]) => from <= port && port <= to);
    };
    const during = allowedAfter(actualWith('tg-old'));
    expect([during(30080), during(8080)]).toEqual([true, true]);
    const moved = actualWith('tg-ip');
    expect(servingTargetGroups(ipStack, moved)).toEqual([]);
    const after = allowedAfter(moved);
    expect([after(30080), after(8080)]).toEqual([false, true]);
  });
});
