import { CreateTargetGroupCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { LoadBalancerCloud } from '../../src/cloud/elbv2.ts';
import { Annotations } from '../../src/core/annotations.ts';
import type { DesiredStack, SubnetInfo } from '../../src/core/model.ts';
import { isSecurityGroupAction, plan, type ActualTargetGroup, type LoadBalancerAction } from '../../src/core/plan.ts';
import { model } from './support/lbc-model.ts';
import { thrownUserError as userError } from './support/user-error.ts';

/**
 * IPv6 target groups, as the LBC's buildTargetGroupIPAddressType builds them (pkg/service/model_build_target_group.go):
 * a Service with an IPv6 family gets target groups of IpAddressType ipv6, only behind a dualstack NLB.
 */
const SUBNET_V6 = '2600:1fe3:3c0:1d00::/64';
const dualstackSubnets: SubnetInfo[] = [
  { id: 'subnet-a', zone: 'us-east-1a', vpcId: 'vpc-1', cidrBlock: '10.0.1.0/24', ipv6CidrBlocks: [SUBNET_V6], tags: { 'kubernetes.io/role/internal-elb': '1' } },
];
const dualstack = { [Annotations.ipAddressType]: 'dualstack' };
const ip = { [Annotations.targetType]: 'ip' };

function service(annotations: Record<string, string>, ipFamilies?: string[]): V1Service {
  return {
    metadata: { namespace: 'ns', name: 'web', uid: 'uid-1', annotations },
    spec: { type: 'LoadBalancer', ...(ipFamilies ? { ipFamilies } : {}), ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 30080 }] },
  };
}
const slice = (addressType: 'IPv4' | 'IPv6', addresses: string[]): V1EndpointSlice => ({
  addressType,
  metadata: { namespace: 'ns', name: `web-${addressType}`, labels: { 'kubernetes.io/service-name': 'web' } },
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  endpoints: addresses.map((address) => ({ addresses: [address], conditions: { ready: true } })),
});
const slices = [slice('IPv4', ['10.0.1.5']), slice('IPv6', ['2600:1fe3:3c0:1d00::5', '2001:db8::7'])];
const build = (svc: V1Service) => model(svc, { subnets: dualstackSubnets, endpointSlices: slices });

describe('target group IpAddressType (the LBC: buildTargetGroupIPAddressType)', () => {
  it.each<[string, string[] | undefined, Record<string, string>, 'ipv6' | undefined]>([
    ['no ipFamilies: ipv4 (left out, ELBv2 default)', undefined, dualstack, undefined],
    ['IPv4 only: ipv4', ['IPv4'], dualstack, undefined],
    ['IPv6 only, dualstack NLB: ipv6', ['IPv6'], dualstack, 'ipv6'],
    ['dual-stack Service (IPv4 first): ipv6, as the LBC (any IPv6 family)', ['IPv4', 'IPv6'], dualstack, 'ipv6'],
    ['IPv6 first: ipv6', ['IPv6', 'IPv4'], dualstack, 'ipv6'],
  ])('%s', (_name, families, annotations, want) => {
    const [tg] = build(service(annotations, families)).targetGroups;
    expect(tg!.ipAddressType).toBe(want);
  });

  it('model_builder_test.go "ipv6 service without dualstask": an IPv6 Service on an ipv4 NLB is a UserError naming spec.ipFamilies', () => {
    const error = userError(() => build(service({ [Annotations.type]: 'external', [Annotations.targetType]: 'instance' }, ['IPv6'])));
    expect([error.field, error.value]).toEqual(['spec.ipFamilies', 'IPv6']);
    expect(error.message).toContain('lb not dual-stack');
    expect(error.message).toContain(Annotations.ipAddressType);
  });

  it('the name changes with the family (ELBv2 cannot change it in place); an IPv4 group keeps the name it had', () => {
    const v4 = build(service(dualstack)).targetGroups[0]!;
    const v6 = build(service(dualstack, ['IPv6'])).targetGroups[0]!;
    expect(v6.name).not.toBe(v4.name);
    expect(build(service(dualstack, ['IPv4'])).targetGroups[0]!.name).toBe(v4.name);
  });

  it('ip targets of an IPv6 group come from the IPv6 slices; an address outside the subnets gets zone all', () => {
    expect(build(service({ ...dualstack, ...ip }, ['IPv6'])).targetGroups[0]!.targets).toEqual([
      { id: '2001:db8::7', port: 8080, availabilityZone: 'all' },
      { id: '2600:1fe3:3c0:1d00::5', port: 8080 },
    ]);
    expect(build(service({ ...dualstack, ...ip })).targetGroups[0]!.targets).toEqual([{ id: '10.0.1.5', port: 8080 }]);
  });

  it('instance targets of an IPv6 group are the instances (the LBC: "ipv6 for NLB")', () => {
    const tg = build(service(dualstack, ['IPv6'])).targetGroups[0]!;
    expect([tg.targetType, tg.port, tg.targets]).toEqual(['instance', 30080, [{ id: 'i-1', port: 30080 }]]);
  });

  it('without NLB security groups, the node rules are IPv6 (the LBC: "ipv6 for NLB", internal: the VPC\'s IPv6 block)', () => {
    const stack = model(service({ ...dualstack, [Annotations.disableNlbSecurityGroup]: 'true' }, ['IPv6']), {
      subnets: dualstackSubnets,
      vpcCidrs: ['10.0.0.0/16'],
      vpcIpv6Cidrs: ['2600:1fe3:3c0:1d00::/56'],
    });
    expect(stack.legacyNodeRules).toEqual([{ protocol: 'tcp', port: 30080, cidr: '2600:1fe3:3c0:1d00::/56' }]);
  });
});

describe('IPv6 target groups in the plan and CreateTargetGroup', () => {
  const elbv2 = mockClient(ElasticLoadBalancingV2Client);
  beforeEach(() => {
    elbv2.reset();
    elbv2.onAnyCommand().resolves({});
    elbv2.on(CreateTargetGroupCommand).resolves({ TargetGroups: [{ TargetGroupArn: 'arn:tg/1' }] });
  });
  const desired = (): DesiredStack => build(service({ ...dualstack, ...ip }, ['IPv6']));
  const elbv2Actions = (stack: DesiredStack, targetGroups: ActualTargetGroup[] = []) =>
    plan(stack, { loadBalancers: [], listeners: [], targetGroups }).actions.filter((a): a is LoadBalancerAction => !isSecurityGroupAction(a));

  it('CreateTargetGroup is sent with IpAddressType ipv6, and without it for an IPv4 group', async () => {
    const cloud = new LoadBalancerCloud(new ElasticLoadBalancingV2Client({}), 'c1');
    await cloud.apply('ns/web', 'vpc-1', elbv2Actions(desired()).filter((a) => a.kind === 'CreateTargetGroup'));
    await cloud.apply('ns/web', 'vpc-1', elbv2Actions(build(service({ ...dualstack, ...ip }))).filter((a) => a.kind === 'CreateTargetGroup'));
    const sent = elbv2.commandCalls(CreateTargetGroupCommand).map((call) => call.args[0].input);
    expect(sent.map((input) => input.IpAddressType)).toEqual(['ipv6', undefined]);
  });

  it('an existing group of the other family is not reused: a new one is created', () => {
    const stack = desired();
    const tg = stack.targetGroups[0]!;
    const existing = (ipAddressType?: 'ipv4' | 'ipv6'): ActualTargetGroup => ({
      arn: 'arn:tg/old',
      name: tg.name,
      resourceId: tg.resourceId,
      protocol: tg.protocol,
      port: tg.port,
      targetType: tg.targetType,
      ...(ipAddressType ? { ipAddressType } : {}),
      healthCheck: tg.healthCheck,
      targets: [],
      loadBalancerArns: [],
    });
    const creates = (actual: ActualTargetGroup) => elbv2Actions(stack, [actual]).filter((a) => a.kind === 'CreateTargetGroup').length;
    expect(creates(existing('ipv4'))).toBe(1);
    expect(creates(existing('ipv6'))).toBe(0);
    // Not read (an emulator that leaves IpAddressType out): kept, as before.
    expect(creates(existing())).toBe(0);
  });
});
