import { describe, expect, it } from 'vitest';
import type { DesiredStack } from '../../src/core/model.ts';
import { describeAction, onlyRegistersTargets, plan, planDeletion, type ActualStack } from '../../src/core/plan.ts';
import { actualTg, desired, desiredTg, lb, listener, tcpCheck } from './support/plan-stack.ts';

const kinds = (stack: DesiredStack, actual: ActualStack) => plan(stack, actual).actions.map((a) => a.kind);

describe('plan', () => {
  it('creates everything for a new Service, in dependency order', () => {
    const result = plan(desired(desiredTg('instance', ['i-1', 'i-2'])), { loadBalancers: [], listeners: [], targetGroups: [] });
    expect(result.actions.map((a) => a.kind)).toEqual(['CreateLoadBalancer', 'CreateTargetGroup', 'RegisterTargets', 'CreateListener']);
    expect(result.actions.map(describeAction)[3]).toBe('create listener TCP:80 → <new ns/web:80>');
  });

  it('is empty when converged (steady state makes no writes)', () => {
    const actual = { loadBalancers: [lb], listeners: [listener('tg-a')], targetGroups: [actualTg('tg-a', 'instance', [['i-1', 'healthy']])] };
    expect(plan(desired(desiredTg('instance', ['i-1'])), actual)).toEqual({ actions: [], waiting: [] });
  });

  it('registers new targets and deregisters gone ones (drift repair too)', () => {
    const actual = { loadBalancers: [lb], listeners: [listener('tg-a')], targetGroups: [actualTg('tg-a', 'instance', [['i-1', 'healthy'], ['i-old', 'healthy'], ['i-2', 'draining']])] };
    const result = plan(desired(desiredTg('instance', ['i-1', 'i-2'])), actual);
    expect(result.actions).toEqual([
      { kind: 'RegisterTargets', targetGroup: { arn: 'tg-a' }, targets: [{ id: 'i-2', port: 30080 }] },
      { kind: 'DeregisterTargets', arn: 'tg-a', targets: [{ id: 'i-old', port: 30080 }] },
    ]);
  });

  it('tells a plan that only registers targets (no confirming read needed) from one that does more or waits', () => {
    const withTargets = (targets: [string, string][]) => ({ loadBalancers: [lb], listeners: [listener('tg-a')], targetGroups: [actualTg('tg-a', 'instance', targets)] });
    // Scale up: registrations into the group the listener uses.
    expect(onlyRegistersTargets(plan(desired(desiredTg('instance', ['i-1', 'i-2'])), withTargets([['i-1', 'healthy']])))).toBe(true);
    // Scale down: a deregistration, whose draining the next read must see.
    expect(onlyRegistersTargets(plan(desired(desiredTg('instance', ['i-1'])), withTargets([['i-1', 'healthy'], ['i-2', 'healthy']])))).toBe(false);
    // Nothing to do, a new Service, and a flip waiting for its new group's health are not.
    expect(onlyRegistersTargets(plan(desired(desiredTg('instance', ['i-1'])), withTargets([['i-1', 'healthy']])))).toBe(false);
    expect(onlyRegistersTargets(plan(desired(desiredTg('instance', ['i-1'])), { loadBalancers: [], listeners: [], targetGroups: [] }))).toBe(false);
    const flip = { loadBalancers: [lb], listeners: [listener('tg-a')], targetGroups: [actualTg('tg-a', 'instance', [['i-1', 'healthy']]), actualTg('tg-b', 'ip', [])] };
    const flipPlan = plan(desired(desiredTg('ip', ['10.0.0.1'])), flip);
    expect(flipPlan.actions.map((x) => x.kind)).toEqual(['RegisterTargets', 'CreateListener']);
    expect(onlyRegistersTargets(flipPlan)).toBe(false);
  });

  it('recreates a listener deleted behind our back', () => {
    const actual = { loadBalancers: [lb], listeners: [], targetGroups: [actualTg('tg-a', 'instance', [['i-1', 'healthy']])] };
    expect(kinds(desired(desiredTg('instance', ['i-1'])), actual)).toEqual(['CreateListener']);
  });

  describe('flipping the target type never leaves the listener without a healthy target', () => {
    const oldInstanceTg = actualTg('tg-instance', 'instance', [['i-1', 'healthy']]);

    // ELBv2 health-checks only groups a listener forwards to: the new group gets a staging listener (ADR 0010).
    const staging = (tgArn: string) => ({ arn: 'listener-staging', loadBalancerArn: 'lb-1', port: 65535, protocol: 'TCP' as const, targetGroupArn: tgArn });

    it('pass 1: creates and fills the new group and gives it a staging listener; keeps the listener and the old group', () => {
      const result = plan(desired(desiredTg('ip', ['10.0.0.5'])), { loadBalancers: [lb], listeners: [listener('tg-instance')], targetGroups: [oldInstanceTg] });
      expect(result.actions.map((a) => a.kind)).toEqual(['CreateTargetGroup', 'RegisterTargets', 'CreateListener']);
      expect(result.actions[2]).toEqual({ kind: 'CreateListener', loadBalancer: { arn: 'lb-1' }, port: 65535, protocol: 'TCP', targetGroup: { key: 'ns/web:80' }, staging: true });
      expect(result.waiting).toEqual(['listener 80: waiting for target group tg-ip to be created and health-checked']);
    });

    it('pass 2: new targets not healthy yet → still waits, the staging listener stays', () => {
      const newTg = actualTg('tg-ip', 'ip', [['10.0.0.5', 'initial']]);
      const result = plan(desired(desiredTg('ip', ['10.0.0.5'])), { loadBalancers: [lb], listeners: [listener('tg-instance'), staging('tg-ip')], targetGroups: [oldInstanceTg, newTg] });
      expect(result.actions).toEqual([]);
      expect(result.waiting[0]).toContain('waiting for tg-ip to have all 1 targets healthy (0 now)');
    });

    it('a new group left without its staging listener (unused, Target.NotInUse) gets one again and is not re-registered', () => {
      const newTg = { ...actualTg('tg-ip', 'ip', []), targets: [{ id: '10.0.0.5', port: 8080, state: 'unused', reason: 'Target.NotInUse' }] };
      const result = plan(desired(desiredTg('ip', ['10.0.0.5'])), { loadBalancers: [lb], listeners: [listener('tg-instance')], targetGroups: [oldInstanceTg, newTg] });
      expect(result.actions).toEqual([{ kind: 'CreateListener', loadBalancer: { arn: 'lb-1' }, port: 65535, protocol: 'TCP', targetGroup: { arn: 'tg-ip' }, staging: true }]);
    });

    it('the staging port avoids every port the NLB or the Service uses', () => {
      const busy = { ...listener('tg-instance'), arn: 'listener-65535', port: 65535 };
      const result = plan(desired(desiredTg('ip', ['10.0.0.5'])), { loadBalancers: [lb], listeners: [listener('tg-instance'), busy], targetGroups: [oldInstanceTg] });
      expect(result.actions.find((a) => a.kind === 'CreateListener')).toMatchObject({ port: 65534, staging: true });
    });

    it('pass 3: new targets healthy → switch the listener, delete the staging listener, then deregister and delete the old group', () => {
      const newTg = actualTg('tg-ip', 'ip', [['10.0.0.5', 'healthy']]);
      const result = plan(desired(desiredTg('ip', ['10.0.0.5'])), { loadBalancers: [lb], listeners: [listener('tg-instance'), staging('tg-ip')], targetGroups: [oldInstanceTg, newTg] });
      expect(result.actions).toEqual([
        { kind: 'ModifyListener', arn: 'listener-80', port: 80, targetGroup: { arn: 'tg-ip' } },
        { kind: 'DeleteListener', arn: 'listener-staging', port: 65535 },
        { kind: 'DeregisterTargets', arn: 'tg-instance', targets: [{ id: 'i-1', port: 30080 }] },
        { kind: 'DeleteTargetGroup', arn: 'tg-instance', reason: 'replaced' },
      ]);
      expect(result.waiting).toEqual([]);
    });

    it('with no desired targets the listener stays on the old, healthy group', () => {
      const newTg = actualTg('tg-ip', 'ip', []);
      const result = plan(desired(desiredTg('ip', [])), { loadBalancers: [lb], listeners: [listener('tg-instance')], targetGroups: [oldInstanceTg, newTg] });
      expect(result.actions).toEqual([]);
      expect(result.waiting[0]).toContain('stays on its old target group');
    });

    it('when the old group has no healthy target there is nothing to protect: switch at once', () => {
      const unhealthyOld = actualTg('tg-instance', 'instance', [['i-1', 'unhealthy']]);
      const newTg = actualTg('tg-ip', 'ip', [['10.0.0.5', 'initial']]);
      expect(kinds(desired(desiredTg('ip', ['10.0.0.5'])), { loadBalancers: [lb], listeners: [listener('tg-instance')], targetGroups: [unhealthyOld, newTg] })).toEqual([
        'ModifyListener',
        'DeregisterTargets',
        'DeleteTargetGroup',
      ]);
    });
  });

  it('keeps one of duplicate load balancers (the one with listeners) and deletes the rest', () => {
    const dup = { ...lb, arn: 'lb-dup', createdAt: 0 };
    const actual = { loadBalancers: [dup, lb], listeners: [listener('tg-a')], targetGroups: [actualTg('tg-a', 'instance', [['i-1', 'healthy']])] };
    const result = plan(desired(desiredTg('instance', ['i-1'])), actual);
    expect(result.actions).toEqual([{ kind: 'DeleteLoadBalancer', arn: 'lb-dup', reason: 'duplicate of ours' }]);
  });

  it('a scheme change replaces the load balancer', () => {
    const stack = desired(desiredTg('instance', ['i-1']));
    stack.loadBalancer.scheme = 'internet-facing';
    const actual = { loadBalancers: [lb], listeners: [listener('tg-a')], targetGroups: [actualTg('tg-a', 'instance', [['i-1', 'healthy']])] };
    expect(kinds(stack, actual)).toEqual(['DeleteLoadBalancer', 'CreateLoadBalancer', 'CreateListener']);
  });

  it('a removed port deletes its listener and target group; a changed health check is modified in place', () => {
    const stack = desired(desiredTg('instance', ['i-1']));
    stack.targetGroups[0]!.healthCheck = { ...tcpCheck, intervalSeconds: 30 };
    const extraTg = { ...actualTg('tg-443', 'instance', [['i-1', 'healthy']]), resourceId: 'ns/web:443' };
    const actual = {
      loadBalancers: [lb],
      listeners: [listener('tg-a'), { ...listener('tg-443'), arn: 'listener-443', port: 443 }],
      targetGroups: [actualTg('tg-a', 'instance', [['i-1', 'healthy']]), extraTg],
    };
    expect(kinds(stack, actual)).toEqual(['ModifyTargetGroup', 'DeleteListener', 'DeregisterTargets', 'DeleteTargetGroup']);
  });

  it('a listener protocol change to UDP is a replace (ELBv2 cannot modify to UDP)', () => {
    const stack = desired({ ...desiredTg('instance', ['i-1']), protocol: 'UDP' });
    stack.listeners[0]!.protocol = 'UDP';
    const actual = { loadBalancers: [lb], listeners: [listener('tg-a')], targetGroups: [actualTg('tg-a', 'instance', [['i-1', 'healthy']])] };
    expect(kinds(stack, actual)).toEqual(['CreateTargetGroup', 'RegisterTargets', 'DeleteListener', 'CreateListener', 'DeregisterTargets', 'DeleteTargetGroup']);
  });

  it('only attribute keys the Service names are reconciled', () => {
    const stack = desired({ ...desiredTg('instance', ['i-1']), attributes: { 'deregistration_delay.timeout_seconds': '5' } });
    const tg = { ...actualTg('tg-a', 'instance', [['i-1', 'healthy']]), attributes: { 'deregistration_delay.timeout_seconds': '300', 'stickiness.enabled': 'false' } };
    const result = plan(stack, { loadBalancers: [lb], listeners: [listener('tg-a')], targetGroups: [tg] });
    expect(result.actions).toEqual([{ kind: 'ModifyTargetGroupAttributes', targetGroup: { arn: 'tg-a' }, attributes: { 'deregistration_delay.timeout_seconds': '5' } }]);
  });

  it('deletion removes load balancers before target groups', () => {
    const actual = { loadBalancers: [lb], listeners: [listener('tg-a')], targetGroups: [actualTg('tg-a', 'instance', [])] };
    expect(planDeletion(actual).actions.map((a) => a.kind)).toEqual(['DeleteLoadBalancer', 'DeleteTargetGroup']);
  });
});

describe('plan: attribute defaults and listener tags (issue 9)', () => {
  const proxy = (value: string) => ({ 'proxy_protocol_v2.enabled': value });
  const converged = (tgAttributes: Record<string, string>, listenerTags?: Record<string, string>): ActualStack => ({
    loadBalancers: [lb],
    listeners: [{ ...listener('tg-a'), ...(listenerTags ? { tags: listenerTags } : {}) }],
    targetGroups: [{ ...actualTg('tg-a', 'instance', [['i-1', 'healthy']]), attributes: tgAttributes }],
  });

  it('a new target group is not modified to get the defaults it is created with', () => {
    const stack = desired({ ...desiredTg('instance', ['i-1']), attributes: proxy('false') });
    expect(kinds(stack, { loadBalancers: [], listeners: [], targetGroups: [] })).toEqual(['CreateLoadBalancer', 'CreateTargetGroup', 'RegisterTargets', 'CreateListener']);
  });

  it('a new target group with proxy protocol gets it set', () => {
    const stack = desired({ ...desiredTg('instance', ['i-1']), attributes: proxy('true') });
    const result = plan(stack, { loadBalancers: [], listeners: [], targetGroups: [] });
    expect(result.actions[2]).toEqual({ kind: 'ModifyTargetGroupAttributes', targetGroup: { key: 'ns/web:80' }, attributes: proxy('true') });
  });

  it('the proxy-protocol annotation removed: proxy protocol is turned off again', () => {
    const stack = desired({ ...desiredTg('instance', ['i-1']), attributes: proxy('false') });
    expect(plan(stack, converged(proxy('true'))).actions).toEqual([{ kind: 'ModifyTargetGroupAttributes', targetGroup: { arn: 'tg-a' }, attributes: proxy('false') }]);
    expect(plan(stack, converged(proxy('false'))).actions).toEqual([]);
  });

  const tagged = (stack: DesiredStack, tags: Record<string, string>): DesiredStack => ({ ...stack, listeners: stack.listeners.map((l) => ({ ...l, tags })) });
  const tags = { 'elbv2.k8s.aws/cluster': 'c1', team: 'shop' };

  it('a new listener is created with its tags', () => {
    const stack = tagged(desired(desiredTg('instance', ['i-1'])), tags);
    const create = plan(stack, { loadBalancers: [], listeners: [], targetGroups: [] }).actions.find((a) => a.kind === 'CreateListener');
    expect(create).toMatchObject({ tags });
  });

  it('an existing listener missing tags gets them added; one whose tags were not read is left alone', () => {
    const stack = tagged(desired(desiredTg('instance', ['i-1'])), tags);
    const result = plan(stack, converged({}, { 'elbv2.k8s.aws/cluster': 'c1', foreign: 'x' }));
    expect(result.actions).toEqual([{ kind: 'AddListenerTags', arn: 'listener-80', port: 80, tags: { team: 'shop' } }]);
    expect(describeAction(result.actions[0]!)).toBe('tag listener 80 with {"team":"shop"} (listener-80)');
    expect(plan(stack, converged({}, tags)).actions).toEqual([]);
    expect(plan(stack, converged({})).actions).toEqual([]);
  });
});
