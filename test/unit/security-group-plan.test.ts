import { describe, expect, it } from 'vitest';
import type { DesiredStack, HealthCheck } from '../../src/core/model.ts';
import { describeAction, plan, planDeletion, type ActualStack } from '../../src/core/plan.ts';
import type { ActualSecurityGroups } from '../../src/core/security-group-plan.ts';
import { backendGroup, type DesiredSecurityGroups, type IngressRule } from '../../src/core/security-groups.ts';

const check: HealthCheck = { protocol: 'TCP', port: 'traffic-port', intervalSeconds: 10, timeoutSeconds: 10, healthyThreshold: 3, unhealthyThreshold: 3 };
const ingress = (cidr: string): IngressRule => ({ protocol: 'tcp', fromPort: 80, toPort: 80, cidr });
const managedSpec = { name: 'k8s-ns-web-0123456789', description: 'managed', tags: { a: '1' } };

const groups = (extra: Partial<DesiredSecurityGroups> = {}): DesiredSecurityGroups => ({
  managed: { ...managedSpec, ingress: [ingress('0.0.0.0/0')] },
  named: [],
  backend: backendGroup('c1'),
  nodeRules: [{ protocol: 'tcp', port: 30080 }],
  ...extra,
});

const desired = (securityGroups?: DesiredSecurityGroups): DesiredStack => ({
  stackId: 'ns/web',
  targetType: 'instance',
  loadBalancer: { name: 'lb', scheme: 'internal', subnetIds: ['s1'], attributes: {}, tags: {} },
  targetGroups: [{ resourceId: 'ns/web:80', name: 'tg', protocol: 'TCP', port: 30080, targetType: 'instance', healthCheck: check, attributes: {}, targets: [{ id: 'i-1', port: 30080 }], tags: {} }],
  listeners: [{ port: 80, protocol: 'TCP', targetGroupResourceId: 'ns/web:80' }],
  ...(securityGroups ? { securityGroups } : {}),
});

const noGroups: ActualSecurityGroups = { managed: [], namedIds: [], nodeGroupIds: ['sg-node'], nodeRules: [], othersNeed: [] };
const existing: ActualSecurityGroups = {
  managed: [{ id: 'sg-m', name: managedSpec.name, ingress: [ingress('0.0.0.0/0')] }],
  backendId: 'sg-b',
  namedIds: [],
  nodeGroupIds: ['sg-node'],
  nodeRules: [{ groupId: 'sg-node', protocol: 'tcp', fromPort: 30080, toPort: 30080 }],
  othersNeed: [],
};
const lb = (securityGroups: string[]) => ({ arn: 'lb-1', name: 'lb', scheme: 'internal' as const, dnsName: 'x', state: 'active', createdAt: 1, securityGroups });
const converged = (sg: ActualSecurityGroups, lbGroups = ['sg-m', 'sg-b']): ActualStack => ({
  loadBalancers: [lb(lbGroups)],
  listeners: [{ arn: 'l-80', loadBalancerArn: 'lb-1', port: 80, protocol: 'TCP', targetGroupArn: 'tg-1' }],
  targetGroups: [{ arn: 'tg-1', name: 'tg', resourceId: 'ns/web:80', protocol: 'TCP', port: 30080, targetType: 'instance', healthCheck: check, targets: [{ id: 'i-1', port: 30080, state: 'healthy' }], loadBalancerArns: ['lb-1'] }],
  securityGroups: sg,
});

describe('security groups in the plan', () => {
  it('a new Service: groups and ingress before the NLB (created with them), node rules after the target group, listener last', () => {
    const result = plan(desired(groups()), { loadBalancers: [], listeners: [], targetGroups: [], securityGroups: noGroups });
    expect(result.actions.map((a) => a.kind)).toEqual([
      'CreateSecurityGroup', 'AuthorizeIngress', 'CreateSecurityGroup', 'CreateLoadBalancer', 'CreateTargetGroup', 'RegisterTargets', 'AuthorizeNodeRules', 'CreateListener',
    ]);
    expect(result.actions[3]).toMatchObject({ kind: 'CreateLoadBalancer', securityGroups: [{ key: 'sg:managed' }, { key: 'sg:backend' }] });
    expect(result.actions[6]).toEqual({ kind: 'AuthorizeNodeRules', groupId: 'sg-node', source: { key: 'sg:backend' }, rules: [{ protocol: 'tcp', fromPort: 30080, toPort: 30080 }] });
    expect(describeAction(result.actions[6]!)).toBe('allow tcp 30080 from <new sg:backend> into node group sg-node');
  });

  it('the backend group found by its tags is used, not created again', () => {
    const result = plan(desired(groups()), { loadBalancers: [], listeners: [], targetGroups: [], securityGroups: { ...noGroups, backendId: 'sg-b' } });
    expect(result.actions.filter((a) => a.kind === 'CreateSecurityGroup')).toHaveLength(1);
    expect(result.actions.find((a) => a.kind === 'CreateLoadBalancer')).toMatchObject({ securityGroups: [{ key: 'sg:managed' }, { id: 'sg-b' }] });
  });

  it('converged: no action', () => {
    expect(plan(desired(groups()), converged(existing))).toEqual({ actions: [], waiting: [] });
  });

  it('changed source ranges: the missing ingress authorized, the extra revoked, before anything else', () => {
    const want = groups({ managed: { ...managedSpec, ingress: [ingress('203.0.113.0/24')] } });
    expect(plan(desired(want), converged(existing)).actions).toEqual([
      { kind: 'AuthorizeIngress', group: { id: 'sg-m' }, rules: [ingress('203.0.113.0/24')] },
      { kind: 'RevokeIngress', groupId: 'sg-m', rules: [ingress('0.0.0.0/0')] },
    ]);
  });

  it('a node rule removed by hand is authorized again', () => {
    expect(plan(desired(groups()), converged({ ...existing, nodeRules: [] })).actions).toEqual([
      { kind: 'AuthorizeNodeRules', groupId: 'sg-node', source: { id: 'sg-b' }, rules: [{ protocol: 'tcp', fromPort: 30080, toPort: 30080 }] },
    ]);
  });

  it('node rules: one range per group and protocol over every Service; the old range goes after the new one is in; only widened while others are unknown', () => {
    const other = { groupId: 'sg-node', rule: { protocol: 'tcp' as const, port: 32000 } };
    const stale = { groupId: 'sg-node', protocol: 'tcp' as const, fromPort: 31000, toPort: 31000 };
    const actual = { ...existing, nodeRules: [...existing.nodeRules, stale], othersNeed: [other] };
    expect(plan(desired(groups()), converged(actual)).actions).toEqual([
      { kind: 'AuthorizeNodeRules', groupId: 'sg-node', source: { id: 'sg-b' }, rules: [{ protocol: 'tcp', fromPort: 30080, toPort: 32000 }] },
      { kind: 'RevokeNodeRules', groupId: 'sg-node', sourceId: 'sg-b', rules: [{ protocol: 'tcp', fromPort: 30080, toPort: 30080 }, { protocol: 'tcp', fromPort: 31000, toPort: 31000 }] },
    ]);
    const { othersNeed: _unknown, ...notKnown } = actual;
    expect(plan(desired(groups()), converged(notKnown)).actions).toEqual([]);
  });

  it('an NLB created without security groups stays without (AWS cannot add them): no managed group, no node rules', () => {
    const actual = converged({ ...noGroups, backendId: 'sg-b' }, []);
    expect(plan(desired(groups()), actual).actions).toEqual([]);
  });

  it('groups that differ on an NLB with groups: SetSecurityGroups', () => {
    const want = groups({ managed: undefined, named: ['frontend'] });
    const result = plan(desired(want), converged({ ...existing, namedIds: ['sg-frontend'] }));
    expect(result.actions).toEqual([
      { kind: 'SetSecurityGroups', arn: 'lb-1', securityGroups: [{ id: 'sg-frontend' }, { id: 'sg-b' }] },
    ]);
  });

  it('a managed group no longer wanted and not on the NLB is deleted last', () => {
    const want = groups({ managed: undefined, named: ['frontend'] });
    const result = plan(desired(want), converged({ ...existing, namedIds: ['sg-frontend'] }, ['sg-frontend', 'sg-b']));
    expect(result.actions).toEqual([{ kind: 'DeleteSecurityGroup', groupId: 'sg-m', name: managedSpec.name, reason: 'no longer wanted' }]);
  });

  it('disable-nlb-sg: a new NLB has no groups and nothing is created', () => {
    const result = plan(desired(undefined), { loadBalancers: [], listeners: [], targetGroups: [], securityGroups: noGroups });
    expect(result.actions.map((a) => a.kind)).toEqual(['CreateLoadBalancer', 'CreateTargetGroup', 'RegisterTargets', 'CreateListener']);
    expect(result.actions[0]).not.toHaveProperty('securityGroups');
  });

  it('disable-nlb-sg on an NLB that has groups: nothing changes, and the conflict is reported (the LBC: conflicting security groups configuration)', () => {
    const result = plan(desired(undefined), converged(existing));
    // Not even the node rules go: the NLB still carries the backend group.
    expect(result.actions).toEqual([]);
    expect(result.conflicts).toEqual(['conflicting security groups configuration: the NLB has security groups (sg-m, sg-b), which cannot be removed; security groups stay as they are']);
  });

  describe('an NLB without groups: CIDR node rules (legacy-node-rules.ts)', () => {
    const legacy = [{ protocol: 'tcp' as const, port: 30080, cidr: '0.0.0.0/0' }];
    const withLegacy = (securityGroups?: DesiredSecurityGroups): DesiredStack => ({ ...desired(securityGroups), legacyNodeRules: legacy });
    const cidrRule = { groupId: 'sg-node', protocol: 'tcp' as const, fromPort: 30080, toPort: 30080, cidr: '0.0.0.0/0' };

    it('disable-nlb-sg, a new NLB: its CIDR rules on the node group after the target group, before the listener', () => {
      const result = plan(withLegacy(), { loadBalancers: [], listeners: [], targetGroups: [], securityGroups: noGroups });
      expect(result.actions.map((a) => a.kind)).toEqual(['CreateLoadBalancer', 'CreateTargetGroup', 'RegisterTargets', 'AuthorizeNodeCidrRules', 'CreateListener']);
      expect(result.actions[3]).toEqual({ kind: 'AuthorizeNodeCidrRules', groupId: 'sg-node', rules: [{ protocol: 'tcp', fromPort: 30080, toPort: 30080, cidr: '0.0.0.0/0' }] });
      expect(describeAction(result.actions[3]!)).toBe('allow tcp 30080 from 0.0.0.0/0 into node group sg-node');
    });

    it('an NLB made without groups while the Service wants them: the CIDR rules, no backend rule', () => {
      const actual = converged({ ...noGroups, backendId: 'sg-b' }, []);
      expect(plan(withLegacy(groups()), actual).actions).toEqual([{ kind: 'AuthorizeNodeCidrRules', groupId: 'sg-node', rules: [{ protocol: 'tcp', fromPort: 30080, toPort: 30080, cidr: '0.0.0.0/0' }] }]);
    });

    it('converged: no action; a changed source: the new rule in, then the old one out (last)', () => {
      expect(plan(withLegacy(), converged({ ...noGroups, nodeRules: [cidrRule] }, [])).actions).toEqual([]);
      const moved = { ...desired(), legacyNodeRules: [{ protocol: 'tcp' as const, port: 30080, cidr: '10.0.1.0/24' }] };
      expect(plan(moved, converged({ ...noGroups, nodeRules: [cidrRule] }, [])).actions).toEqual([
        { kind: 'AuthorizeNodeCidrRules', groupId: 'sg-node', rules: [{ protocol: 'tcp', fromPort: 30080, toPort: 30080, cidr: '10.0.1.0/24' }] },
        { kind: 'RevokeNodeCidrRules', groupId: 'sg-node', rules: [{ protocol: 'tcp', fromPort: 30080, toPort: 30080, cidr: '0.0.0.0/0' }] },
      ]);
    });

    it('disable-nlb-sg on an NLB that has groups (the conflict): no CIDR rule', () => {
      expect(plan(withLegacy(), converged(existing)).actions).toEqual([]);
    });

    it('deleted: its CIDR rules revoked when the others are known, the backend rules another Service needs kept; nothing while unknown', () => {
      const other = { groupId: 'sg-node', rule: { protocol: 'tcp' as const, port: 30080 } };
      const actual = converged({ ...existing, nodeRules: [...existing.nodeRules, cidrRule], othersNeed: [other] });
      expect(planDeletion(actual, true).actions.slice(2, 3)).toEqual([{ kind: 'RevokeNodeCidrRules', groupId: 'sg-node', rules: [{ protocol: 'tcp', fromPort: 30080, toPort: 30080, cidr: '0.0.0.0/0' }] }]);
      const { othersNeed: _unknown, ...notKnown } = actual.securityGroups!;
      expect(planDeletion({ ...actual, securityGroups: notKnown }, true).actions.map((a) => a.kind)).toEqual(['DeleteLoadBalancer', 'DeleteTargetGroup', 'DeleteSecurityGroup']);
    });

    it('the backend group going: its rules revoked, the CIDR rules another Service without groups needs kept', () => {
      const other = { groupId: 'sg-node', rule: { protocol: 'tcp' as const, port: 30080, cidr: '0.0.0.0/0' } };
      const actual = converged({ ...existing, nodeRules: [...existing.nodeRules, cidrRule], othersNeed: [other] });
      expect(planDeletion(actual, false).actions.filter((a) => a.kind.includes('NodeRules') || a.kind.includes('NodeCidrRules'))).toEqual([
        { kind: 'RevokeNodeRules', groupId: 'sg-node', sourceId: 'sg-b', rules: [{ protocol: 'tcp', fromPort: 30080, toPort: 30080 }] },
      ]);
    });
  });

  it('groups not read (actual.securityGroups undefined): no security-group action', () => {
    const { securityGroups: _notRead, ...actual } = converged(existing);
    expect(plan(desired(groups()), actual).actions).toEqual([]);
  });

  it('the staging listener of a flip gets no ingress: only the Service ports are let in', () => {
    const want = desired(groups());
    const actual = converged(existing);
    actual.listeners.push({ arn: 'l-staging', loadBalancerArn: 'lb-1', port: 65535, protocol: 'TCP', targetGroupArn: 'tg-2' });
    expect(plan(want, actual).actions.some((a) => a.kind === 'AuthorizeIngress')).toBe(false);
  });
});

describe('deletion', () => {
  it('LB, target groups, our node rules, the managed group, then the backend group when no Service needs it', () => {
    const result = planDeletion(converged(existing), false);
    expect(result.actions.map((a) => a.kind)).toEqual(['DeleteLoadBalancer', 'DeleteTargetGroup', 'RevokeNodeRules', 'DeleteSecurityGroup', 'DeleteSecurityGroup']);
    expect(result.actions.slice(3).map((a) => (a.kind === 'DeleteSecurityGroup' ? a.groupId : ''))).toEqual(['sg-m', 'sg-b']);
  });

  it('the backend group stays while another Service needs it, with the rules that Service needs', () => {
    const other = { groupId: 'sg-node', rule: { protocol: 'tcp' as const, port: 32000 } };
    const actual = converged({ ...existing, nodeRules: [{ groupId: 'sg-node', protocol: 'tcp', fromPort: 30080, toPort: 32000 }], othersNeed: [other] });
    expect(planDeletion(actual, true).actions.slice(2)).toEqual([
      { kind: 'AuthorizeNodeRules', groupId: 'sg-node', source: { id: 'sg-b' }, rules: [{ protocol: 'tcp', fromPort: 32000, toPort: 32000 }] },
      { kind: 'RevokeNodeRules', groupId: 'sg-node', sourceId: 'sg-b', rules: [{ protocol: 'tcp', fromPort: 30080, toPort: 32000 }] },
      { kind: 'DeleteSecurityGroup', groupId: 'sg-m', name: managedSpec.name, reason: 'Service deleted or no longer a LoadBalancer' },
    ]);
  });
});
