import type { V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { Annotations } from '../../src/core/annotations.ts';
import { LISTENER_ATTRIBUTES_ANNOTATION, listenerAttributesKey, listenerAttributesOf } from '../../src/core/listener-attributes.ts';
import { buildModel, type Protocol } from '../../src/core/model.ts';
import { plan, type ActualListener, type ActualStack } from '../../src/core/plan.ts';
import { PRIVATE_LINK_ANNOTATION, privateLinkChange } from '../../src/core/private-link.ts';
import { input, model } from './support/lbc-model.ts';
import { thrownUserError as userError } from './support/user-error.ts';

/**
 * The LBC's listener attributes (pkg/service/model_build_listener_test.go @225f4456, ported case by case) and
 * inbound-sg-rules-on-private-link-traffic, then ours: what ELBv2 refuses, refused before any write; the plan.
 */

const IDLE = 'tcp.idle_timeout.seconds';

function service(annotations: Record<string, string>, ports: NonNullable<V1Service['spec']>['ports'] = [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 38888 }]): V1Service {
  return { metadata: { namespace: 'ns', name: 'svc', uid: 'uid-1', annotations }, spec: { type: 'LoadBalancer', ports } };
}

describe('pkg/service/model_build_listener_test.go Test_defaultModelBuilderTask_buildListenerAttributes', () => {
  // The Go test calls buildListenerAttributes(annotations, port, protocol) for each Service port; so does this.
  type Port = { port: number; protocol: Protocol };
  it.each<[string, Record<string, string>, Port[], Record<string, string>[] | 'error']>([
    ['"Listener attribute annotation value is not stringMap"', { [Annotations.type]: 'instance', [listenerAttributesKey('TCP', 80)]: IDLE }, [{ port: 80, protocol: 'TCP' }], 'error'],
    ['"Listener attribute annotation is not specified"', { [Annotations.type]: 'instance' }, [{ port: 80, protocol: 'TCP' }], [{}]],
    [
      '"Listener attribute annotation is specified"',
      { [Annotations.type]: 'ip', [listenerAttributesKey('TCP', 80)]: `${IDLE}=400` },
      [{ port: 80, protocol: 'TCP' }, { port: 80, protocol: 'UDP' }],
      [{ [IDLE]: '400' }, {}],
    ],
  ])('%s', (_name, annotations, ports, want) => {
    if (want === 'error') {
      for (const { port, protocol } of ports) expect(userError(() => listenerAttributesOf(annotations, port, protocol)).field).toBe(`annotation ${listenerAttributesKey(protocol, port)}`);
      return;
    }
    expect(ports.map(({ port, protocol }) => listenerAttributesOf(annotations, port, protocol))).toEqual(want);
  });
});

describe('listener attributes in the model (ours)', () => {
  it('a TCP listener carries the annotation of its protocol and port; others none', () => {
    const ports = [
      { name: 'a', port: 80, protocol: 'TCP', nodePort: 30080 },
      { name: 'b', port: 81, protocol: 'TCP', nodePort: 30081 },
    ];
    const stack = model(service({ [listenerAttributesKey('TCP', 80)]: `${IDLE}=400` }, ports));
    expect(stack.listeners.map((l) => [l.port, l.attributes])).toEqual([
      [80, { [IDLE]: '400' }],
      [81, undefined],
    ]);
  });

  it.each<[string, string, Protocol, number, string]>([
    ['an unknown attribute', 'tcp.keepalive=1', 'TCP', 80, 'tcp.keepalive is not a listener attribute of a Network Load Balancer'],
    ['an ALB attribute', 'routing.http.response.server.enabled=false', 'TCP', 80, 'not a listener attribute of a Network Load Balancer'],
    ['below 60 s', `${IDLE}=59`, 'TCP', 80, 'a whole number from 60 to 6000'],
    ['above 6000 s', `${IDLE}=6001`, 'TCP', 80, 'a whole number from 60 to 6000'],
    ['not a number', `${IDLE}=ten`, 'TCP', 80, 'a whole number from 60 to 6000'],
    ['on a UDP listener', `${IDLE}=400`, 'UDP', 53, 'TCP listeners only, not UDP'],
    ['on a TCP_UDP listener', `${IDLE}=400`, 'TCP_UDP', 53, 'TCP listeners only, not TCP_UDP'],
    ['on a TLS listener (fixed by AWS; the LBC skips it silently)', `${IDLE}=400`, 'TLS', 443, 'fixed at 350 seconds'],
  ])('refused before any write: %s', (_name, value, protocol, port, problem) => {
    const key = listenerAttributesKey(protocol, port);
    const error = userError(() => listenerAttributesOf({ [key]: value }, port, protocol));
    expect(error.field).toBe(`annotation ${key}`);
    expect(error.message).toContain(problem);
  });

  it('the bounds themselves are taken', () => {
    for (const seconds of ['60', '6000']) expect(listenerAttributesOf({ [listenerAttributesKey('TCP', 80)]: `${IDLE}=${seconds}` }, 80, 'TCP')).toEqual({ [IDLE]: seconds });
  });

  it('an annotation naming no listener is a Warning, not an error (the LBC ignores it silently)', () => {
    const ports = [
      { name: 'tcp', port: 80, protocol: 'TCP', nodePort: 30080 },
      { name: 'udp', port: 80, protocol: 'UDP', nodePort: 30080 },
    ];
    const key = listenerAttributesKey('TCP', 80);
    const stray = `${LISTENER_ATTRIBUTES_ANNOTATION}.TCP-8080`;
    const { stack, warnings } = buildModel(input(service({ [key]: `${IDLE}=400`, [stray]: `${IDLE}=400` }, ports)));
    expect(stack.listeners.map((l) => [l.protocol, l.attributes])).toEqual([['TCP_UDP', undefined]]);
    expect(warnings.filter((w) => w.reason === 'UnusedListenerAttributes').map((w) => w.message)).toEqual([
      `annotation ${key} names no listener of ns/svc (listeners: TCP_UDP-80); ignored`,
      `annotation ${stray} names no listener of ns/svc (listeners: TCP_UDP-80); ignored`,
    ]);
  });
});

describe('listener attributes in the plan', () => {
  const stack = (attributes?: Record<string, string>) => model(service(attributes ? { [listenerAttributesKey('TCP', 80)]: Object.entries(attributes).map(([k, v]) => `${k}=${v}`).join(',') } : {}));
  const actual = (listener: Partial<ActualListener>): ActualStack => {
    const desired = stack();
    return {
      loadBalancers: [{ arn: 'lb-1', name: desired.loadBalancer.name, scheme: 'internal', dnsName: 'd', state: 'active', createdAt: 0, attributes: {} }],
      targetGroups: [
        {
          arn: 'tg-1',
          name: desired.targetGroups[0]!.name,
          resourceId: desired.targetGroups[0]!.resourceId,
          protocol: 'TCP',
          port: 38888,
          targetType: 'instance',
          healthCheck: desired.targetGroups[0]!.healthCheck,
          attributes: desired.targetGroups[0]!.attributes,
          targets: [{ id: 'i-1', port: 38888, state: 'healthy' }],
          loadBalancerArns: ['lb-1'],
        },
      ],
      listeners: [{ arn: 'ls-1', loadBalancerArn: 'lb-1', port: 80, protocol: 'TCP', targetGroupArn: 'tg-1', ...listener }],
    };
  };
  const kinds = (p: ReturnType<typeof plan>) => p.actions.map((a) => a.kind);

  it('a new listener is created with its attributes (set right after it by the applier)', () => {
    const p = plan(stack({ [IDLE]: '400' }), { loadBalancers: [], targetGroups: [], listeners: [] });
    expect(p.actions.find((a) => a.kind === 'CreateListener')).toMatchObject({ attributes: { [IDLE]: '400' } });
  });

  it('a kept listener whose value differs: ModifyListenerAttributes with the keys that differ only', () => {
    const p = plan(stack({ [IDLE]: '400' }), actual({ attributes: { [IDLE]: '350' } }));
    expect(p.actions).toEqual([{ kind: 'ModifyListenerAttributes', arn: 'ls-1', port: 80, attributes: { [IDLE]: '400' } }]);
  });

  it('the same value, or attributes not read: nothing', () => {
    expect(kinds(plan(stack({ [IDLE]: '400' }), actual({ attributes: { [IDLE]: '400' } })))).toEqual([]);
    expect(kinds(plan(stack({ [IDLE]: '400' }), actual({})))).toEqual([]);
  });

  it('the annotation removed: the value is left as it is (the LBC reconciles only the keys it sets)', () => {
    expect(kinds(plan(stack(), actual({ attributes: { [IDLE]: '400' } })))).toEqual([]);
  });
});

describe('inbound-sg-rules-on-private-link-traffic', () => {
  it.each(['on', 'off'] as const)('%s is modelled on the load balancer', (value) => {
    expect(model(service({ [PRIVATE_LINK_ANNOTATION]: value })).loadBalancer.securityGroupsInboundRulesOnPrivateLink).toBe(value);
  });

  it('on an NLB without security groups: a Warning, and nothing to send (the LBC sends it and AWS refuses)', () => {
    const { stack, warnings } = buildModel(input(service({ [PRIVATE_LINK_ANNOTATION]: 'off', [Annotations.disableNlbSecurityGroup]: 'true' })));
    expect(stack.securityGroups).toBeUndefined();
    expect(warnings.map((w) => w.reason)).toEqual(['UnusedPrivateLinkSetting']);
    expect(buildModel(input(service({ [PRIVATE_LINK_ANNOTATION]: 'off' }))).warnings).toEqual([]);
  });

  it('absent: not modelled (left as it is)', () => {
    expect(model(service({})).loadBalancer).not.toHaveProperty('securityGroupsInboundRulesOnPrivateLink');
  });

  it.each(['On', ' on', 'true', ''])('%j is refused before any write, as the LBC refuses it', (value) => {
    const error = userError(() => model(service({ [PRIVATE_LINK_ANNOTATION]: value })));
    expect(error.field).toBe(`annotation ${PRIVATE_LINK_ANNOTATION}`);
    expect(error.message).toContain('must be one of on, off');
  });

  it.each<[string, 'on' | 'off' | undefined, { securityGroups?: string[]; securityGroupsInboundRulesOnPrivateLink?: string } | undefined, 'on' | 'off' | undefined]>([
    ['differs on an NLB with groups', 'off', { securityGroups: ['sg-1'], securityGroupsInboundRulesOnPrivateLink: 'on' }, 'off'],
    ['not answered yet', 'on', { securityGroups: ['sg-1'] }, 'on'],
    ['the same', 'off', { securityGroups: ['sg-1'], securityGroupsInboundRulesOnPrivateLink: 'off' }, undefined],
    ['not asked for', undefined, { securityGroups: ['sg-1'], securityGroupsInboundRulesOnPrivateLink: 'on' }, undefined],
    ['an NLB without groups', 'off', { securityGroups: [] }, undefined],
    ['no NLB yet (the create sets it)', 'off', undefined, undefined],
  ])('privateLinkChange: %s', (_name, desired, kept, want) => {
    expect(privateLinkChange(desired, kept)).toBe(want);
  });

  it('a kept NLB with the same groups: SetSecurityGroups with its groups and the value', () => {
    const desired = model(service({ [PRIVATE_LINK_ANNOTATION]: 'off', [Annotations.securityGroups]: 'sg-1' }));
    const actual: ActualStack = {
      loadBalancers: [{ arn: 'lb-1', name: desired.loadBalancer.name, scheme: 'internal', dnsName: 'd', state: 'active', createdAt: 0, securityGroups: ['sg-1'], securityGroupsInboundRulesOnPrivateLink: 'on' }],
      targetGroups: [],
      listeners: [],
    };
    expect(plan(desired, actual).actions.filter((a) => a.kind === 'SetSecurityGroups')).toEqual([{ kind: 'SetSecurityGroups', arn: 'lb-1', securityGroups: [{ id: 'sg-1' }], enforcePrivateLink: 'off' }]);
  });
});
