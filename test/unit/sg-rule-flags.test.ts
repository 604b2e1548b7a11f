import type { V1Service } from '@kubernetes/client-node';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { defaultsOf, FlagError, lbcDefaultOptions, type RunFlags } from '../../src/cli/run-command.ts';
import { Annotations } from '../../src/core/annotations.ts';
import { LBC_DEFAULTS } from '../../src/core/controller-defaults.ts';
import { aggregateNodeRules, type NodeNeed, type NodeRule } from '../../src/core/node-rules.ts';
import { planSecurityGroupDeletion, planSecurityGroups, type ActualSecurityGroups } from '../../src/core/security-group-plan.ts';
import { mayNeedNodeRules, wantsBackendGroup } from '../../src/core/security-groups.ts';
import { model } from './support/lbc-model.ts';

// --enable-manage-backend-security-group-rules and --disable-restricted-sg-rules: parsed as the run (and plan)
// command parses them, then what they change in the model and in the node-rule plan.
const parse = (...argv: string[]) => defaultsOf(lbcDefaultOptions(new Command()).exitOverride().parse(argv, { from: 'user' }).opts<RunFlags>());

const MANAGE = '--enable-manage-backend-security-group-rules';
const UNRESTRICTED = '--disable-restricted-sg-rules';

describe('the run command parses them as pflag bools', () => {
  it.each<[string, string[], boolean, boolean]>([
    ['absent: the LBC defaults (both false)', [], false, false],
    ['the flag alone is true', [MANAGE, UNRESTRICTED], true, true],
    ['=true, =false', [`${MANAGE}=true`, `${UNRESTRICTED}=false`], true, false],
    ['strconv.ParseBool spellings', [`${MANAGE}=F`, `${UNRESTRICTED}=1`], false, true],
  ])('%s', (_name, argv, manage, unrestricted) => {
    const defaults = parse(...argv);
    expect([defaults.enableManageBackendSGRules, defaults.disableRestrictedSGRules]).toEqual([manage, unrestricted]);
  });

  it('a value that is no bool is a FlagError naming the flag and the value', () => {
    expect(() => parse(`${UNRESTRICTED}=maybe`)).toThrow(FlagError);
    expect(() => parse(`${UNRESTRICTED}=maybe`)).toThrow(`${UNRESTRICTED}: invalid value "maybe": must be true or false`);
    expect(() => parse(`${MANAGE}=yes`)).toThrow(`${MANAGE}: invalid value "yes"`);
  });
});

const svc = (annotations: Record<string, string>, ports: NonNullable<V1Service['spec']>['ports'] = [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 30080 }]): V1Service => ({
  metadata: { namespace: 'default', name: 'web', uid: 'uid-1', annotations },
  spec: { type: 'LoadBalancer', ports },
});
const flags = (extra: Partial<typeof LBC_DEFAULTS>) => ({ defaults: { ...LBC_DEFAULTS, ...extra } });

describe('--enable-manage-backend-security-group-rules in the model', () => {
  const named = { [Annotations.securityGroups]: 'sg-frontend' };
  it('a Service naming its groups gets the backend group and its node rules without the annotation', () => {
    const groups = model(svc(named), flags({ enableManageBackendSGRules: true })).securityGroups!;
    expect([groups.named, groups.backend !== undefined, groups.nodeRules]).toEqual([['sg-frontend'], true, [{ protocol: 'tcp', port: 30080 }]]);
    expect(model(svc(named)).securityGroups!.backend).toBeUndefined();
  });

  it("the annotation's false wins over the flag; the controller's questions answer alike", () => {
    const off = svc({ ...named, [Annotations.manageBackendSecurityGroupRules]: 'false' });
    expect(model(off, flags({ enableManageBackendSGRules: true })).securityGroups!.backend).toBeUndefined();
    expect([wantsBackendGroup(off, true), mayNeedNodeRules(off, true)]).toEqual([false, false]);
    expect([wantsBackendGroup(svc(named), true), mayNeedNodeRules(svc(named), true), wantsBackendGroup(svc(named))]).toEqual([true, true, false]);
  });
});

const all = (protocol: 'tcp' | 'udp') => ({ protocol, port: 0, toPort: 65535 });
const rule = (protocol: 'tcp' | 'udp', fromPort: number, toPort = fromPort): NodeRule => ({ groupId: 'sg-node', protocol, fromPort, toPort });

describe('--disable-restricted-sg-rules in the model', () => {
  it('every TCP port, and every UDP port when a target group carries UDP, whatever the ports and health-check port', () => {
    const ports = [
      { name: 'dns', port: 53, targetPort: 53, protocol: 'UDP', nodePort: 30053 },
      { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 30080 },
    ];
    const annotations = { [Annotations.healthCheckPort]: '10256' };
    expect(model(svc(annotations, ports), flags({ disableRestrictedSGRules: true })).securityGroups!.nodeRules).toEqual([all('tcp'), all('udp')]);
    expect(model(svc({}), flags({ disableRestrictedSGRules: true })).securityGroups!.nodeRules).toEqual([all('tcp')]);
  });

  it('CIDR rules of an NLB without groups stay one per port (the LBC: its legacy path ignores the flag)', () => {
    const stack = model(svc({ [Annotations.disableNlbSecurityGroup]: 'true' }), { ...flags({ disableRestrictedSGRules: true }), vpcCidrs: ['10.0.0.0/16'] });
    expect(stack.legacyNodeRules).toEqual([{ protocol: 'tcp', port: 30080, cidr: '10.0.0.0/16' }]);
  });
});

describe('--disable-restricted-sg-rules in the node-rule plan', () => {
  const need = (rule: NodeNeed['rule']): NodeNeed => ({ groupId: 'sg-node', rule });
  const actual = (nodeRules: NodeRule[], othersNeed?: NodeNeed[]): ActualSecurityGroups => ({
    managed: [],
    backendId: 'sg-b',
    namedIds: [],
    nodeGroupIds: ['sg-node'],
    nodeRules,
    ...(othersNeed ? { othersNeed } : {}),
  });
  const desired = (nodeRules: { protocol: 'tcp' | 'udp'; port: number; toPort?: number }[]) => ({ named: ['sg-frontend'], backend: { name: 'b', description: 'b', tags: {} }, nodeRules });
  const lbGroups = ['sg-frontend', 'sg-b'];

  it('200 Services, all unrestricted: one rule per protocol on the node group, far under 60', () => {
    const needs = Array.from({ length: 200 }, (_, i) => [need(all('tcp')), ...(i % 2 ? [need(all('udp'))] : [])]).flat();
    expect(aggregateNodeRules(needs)).toEqual([rule('tcp', 0, 65535), rule('udp', 0, 65535)]);
  });

  it('restricted to unrestricted on a restart: the all-port rule in with the target groups, the old range out last', () => {
    const plan = planSecurityGroups(desired([all('tcp')]), actual([rule('tcp', 30080, 31000)], [need(all('tcp'))]), lbGroups);
    expect(plan.nodeRules).toEqual([{ kind: 'AuthorizeNodeRules', groupId: 'sg-node', source: { id: 'sg-b' }, rules: [{ protocol: 'tcp', fromPort: 0, toPort: 65535 }] }]);
    expect(plan.last).toEqual([{ kind: 'RevokeNodeRules', groupId: 'sg-node', sourceId: 'sg-b', rules: [{ protocol: 'tcp', fromPort: 30080, toPort: 31000 }] }]);
  });

  it('restricted to unrestricted while other Services are not known yet: only the widening, nothing revoked', () => {
    const plan = planSecurityGroups(desired([all('tcp')]), actual([rule('tcp', 30080, 31000)]), lbGroups);
    expect(plan.nodeRules).toEqual([{ kind: 'AuthorizeNodeRules', groupId: 'sg-node', source: { id: 'sg-b' }, rules: [{ protocol: 'tcp', fromPort: 0, toPort: 65535 }] }]);
    expect(plan.last).toEqual([]);
  });

  it('unrestricted to restricted: nothing while others are unknown (all ports cover them), then the range in and the all-port rule out last', () => {
    const ports = [{ protocol: 'tcp' as const, port: 30080 }];
    expect(planSecurityGroups(desired(ports), actual([rule('tcp', 0, 65535)]), lbGroups)).toMatchObject({ nodeRules: [], last: [] });
    const plan = planSecurityGroups(desired(ports), actual([rule('tcp', 0, 65535)], [need({ protocol: 'tcp', port: 31000 })]), lbGroups);
    expect(plan.nodeRules).toEqual([{ kind: 'AuthorizeNodeRules', groupId: 'sg-node', source: { id: 'sg-b' }, rules: [{ protocol: 'tcp', fromPort: 30080, toPort: 31000 }] }]);
    expect(plan.last).toEqual([{ kind: 'RevokeNodeRules', groupId: 'sg-node', sourceId: 'sg-b', rules: [{ protocol: 'tcp', fromPort: 0, toPort: 65535 }] }]);
  });

  it('no Service needs them any more: the all-port rules revoked (the UDP one too once no UDP Service is left)', () => {
    expect(planSecurityGroupDeletion(actual([rule('tcp', 0, 65535), rule('udp', 0, 65535)], []), false)[0]).toEqual({
      kind: 'RevokeNodeRules',
      groupId: 'sg-node',
      sourceId: 'sg-b',
      rules: [{ protocol: 'tcp', fromPort: 0, toPort: 65535 }, { protocol: 'udp', fromPort: 0, toPort: 65535 }],
    });
    const plan = planSecurityGroups(desired([all('tcp')]), actual([rule('tcp', 0, 65535), rule('udp', 0, 65535)], []), lbGroups);
    expect([plan.nodeRules, plan.last]).toEqual([[], [{ kind: 'RevokeNodeRules', groupId: 'sg-node', sourceId: 'sg-b', rules: [{ protocol: 'udp', fromPort: 0, toPort: 65535 }] }]]);
  });
});
