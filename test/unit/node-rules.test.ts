import { describe, expect, it } from 'vitest';
import { aggregateNodeRules, planNodeRules, type NodeNeed, type NodeRule } from '../../src/core/node-rules.ts';

const need = (groupId: string, protocol: 'tcp' | 'udp', port: number): NodeNeed => ({ groupId, rule: { protocol, port } });
const rule = (groupId: string, protocol: 'tcp' | 'udp', fromPort: number, toPort = fromPort): NodeRule => ({ groupId, protocol, fromPort, toPort });
const cidrNeed = (groupId: string, protocol: 'tcp' | 'udp', port: number, cidr: string): NodeNeed => ({ groupId, rule: { protocol, port, cidr } });
const cidrRule = (groupId: string, protocol: 'tcp' | 'udp', port: number, cidr: string): NodeRule => ({ groupId, protocol, fromPort: port, toPort: port, cidr });

describe('aggregateNodeRules (the LBC: computeRestrictedIngressPermissionsPerSG)', () => {
  it.each<[string, NodeNeed[], NodeRule[]]>([
    ['nothing needed, no rule', [], []],
    ['one port: a one-port range', [need('sg-a', 'tcp', 30080)], [rule('sg-a', 'tcp', 30080)]],
    ['200 NodePorts on one group: one rule, min..max', Array.from({ length: 200 }, (_, i) => need('sg-a', 'tcp', 30000 + i * 13)), [rule('sg-a', 'tcp', 30000, 30000 + 199 * 13)]],
    ['per protocol', [need('sg-a', 'tcp', 30080), need('sg-a', 'udp', 30053), need('sg-a', 'tcp', 31000)], [rule('sg-a', 'tcp', 30080, 31000), rule('sg-a', 'udp', 30053)]],
    ['per group', [need('sg-a', 'tcp', 30080), need('sg-b', 'tcp', 8080)], [rule('sg-a', 'tcp', 30080), rule('sg-b', 'tcp', 8080)]],
    ['the same port twice', [need('sg-a', 'tcp', 30080), need('sg-a', 'tcp', 30080)], [rule('sg-a', 'tcp', 30080)]],
    // permsFromIPRangeRulesPerSG: IP-range permissions are kept as they are, not spanned.
    ['CIDR rules: one per port and CIDR, not merged into a range', [cidrNeed('sg-a', 'tcp', 30080, '0.0.0.0/0'), cidrNeed('sg-a', 'tcp', 31000, '0.0.0.0/0')], [cidrRule('sg-a', 'tcp', 30080, '0.0.0.0/0'), cidrRule('sg-a', 'tcp', 31000, '0.0.0.0/0')]],
    ['CIDR rules beside a range from the backend group: neither widens the other', [need('sg-a', 'tcp', 30080), cidrNeed('sg-a', 'tcp', 32000, '10.0.1.0/24'), need('sg-a', 'tcp', 30090)], [rule('sg-a', 'tcp', 30080, 30090), cidrRule('sg-a', 'tcp', 32000, '10.0.1.0/24')]],
    ['the same CIDR rule from two Services: once', [cidrNeed('sg-a', 'udp', 30053, '0.0.0.0/0'), cidrNeed('sg-a', 'udp', 30053, '0.0.0.0/0')], [cidrRule('sg-a', 'udp', 30053, '0.0.0.0/0')]],
  ])('%s', (_name, needs, expected) => {
    expect(aggregateNodeRules(needs)).toEqual(expected);
  });
});

describe('planNodeRules', () => {
  it.each<[string, NodeNeed[], NodeNeed[] | undefined, NodeRule[], { authorize: NodeRule[]; revoke: NodeRule[] }]>([
    ['converged: nothing', [need('sg-a', 'tcp', 30080)], [need('sg-a', 'tcp', 31000)], [rule('sg-a', 'tcp', 30080, 31000)], { authorize: [], revoke: [] }],
    ['a new Service outside the range widens it: new range first, old one revoked', [need('sg-a', 'tcp', 32000)], [need('sg-a', 'tcp', 30080)], [rule('sg-a', 'tcp', 30080)], { authorize: [rule('sg-a', 'tcp', 30080, 32000)], revoke: [rule('sg-a', 'tcp', 30080)] }],
    ['a Service inside the range: nothing', [need('sg-a', 'tcp', 30500)], [need('sg-a', 'tcp', 30080), need('sg-a', 'tcp', 31000)], [rule('sg-a', 'tcp', 30080, 31000)], { authorize: [], revoke: [] }],
    ['the last Service on a group gone: its rule revoked', [], [], [rule('sg-a', 'tcp', 30080)], { authorize: [], revoke: [rule('sg-a', 'tcp', 30080)] }],
    ['one-port rules of before are replaced by the range', [need('sg-a', 'tcp', 30080)], [need('sg-a', 'tcp', 30090)], [rule('sg-a', 'tcp', 30080), rule('sg-a', 'tcp', 30090)], { authorize: [rule('sg-a', 'tcp', 30080, 30090)], revoke: [rule('sg-a', 'tcp', 30080), rule('sg-a', 'tcp', 30090)] }],
    ['others unknown, covered: nothing, not even a revoke', [need('sg-a', 'tcp', 30500)], undefined, [rule('sg-a', 'tcp', 30080, 31000), rule('sg-a', 'tcp', 32000)], { authorize: [], revoke: [] }],
    ['others unknown, not covered: widened over what stands, nothing revoked', [need('sg-a', 'tcp', 32500)], undefined, [rule('sg-a', 'tcp', 30080, 31000), rule('sg-a', 'udp', 30053)], { authorize: [rule('sg-a', 'tcp', 30080, 32500)], revoke: [] }],
    ['others unknown, no rule yet', [need('sg-a', 'tcp', 30080)], undefined, [], { authorize: [rule('sg-a', 'tcp', 30080)], revoke: [] }],
    ['CIDR rule converged: nothing', [cidrNeed('sg-a', 'tcp', 30080, '10.0.1.0/24')], [], [cidrRule('sg-a', 'tcp', 30080, '10.0.1.0/24')], { authorize: [], revoke: [] }],
    ['source ranges changed: new CIDR rule first, old one revoked', [cidrNeed('sg-a', 'tcp', 30080, '10.0.2.0/24')], [], [cidrRule('sg-a', 'tcp', 30080, '10.0.1.0/24')], { authorize: [cidrRule('sg-a', 'tcp', 30080, '10.0.2.0/24')], revoke: [cidrRule('sg-a', 'tcp', 30080, '10.0.1.0/24')] }],
    ['a backend range does not cover a CIDR need on the same port', [cidrNeed('sg-a', 'tcp', 30500, '0.0.0.0/0')], undefined, [rule('sg-a', 'tcp', 30080, 31000)], { authorize: [cidrRule('sg-a', 'tcp', 30500, '0.0.0.0/0')], revoke: [] }],
    ['others unknown, CIDR need uncovered: added alone, the backend range not widened over it', [cidrNeed('sg-a', 'tcp', 32000, '0.0.0.0/0'), need('sg-a', 'tcp', 31500)], undefined, [rule('sg-a', 'tcp', 30080, 31000), cidrRule('sg-a', 'tcp', 29000, '0.0.0.0/0')], { authorize: [rule('sg-a', 'tcp', 30080, 31500), cidrRule('sg-a', 'tcp', 32000, '0.0.0.0/0')], revoke: [] }],
    ['the last Service without groups gone: its CIDR rules revoked, the backend range kept', [], [need('sg-a', 'tcp', 30080)], [rule('sg-a', 'tcp', 30080), cidrRule('sg-a', 'udp', 30053, '0.0.0.0/0')], { authorize: [], revoke: [cidrRule('sg-a', 'udp', 30053, '0.0.0.0/0')] }],
  ])('%s', (_name, wanted, others, actual, expected) => {
    expect(planNodeRules(wanted, others, actual)).toEqual(expected);
  });
});
