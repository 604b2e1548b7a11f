import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeListenerAttributesCommand,
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  type DescribeLoadBalancersCommandInput,
  DescribeTagsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  type DescribeTargetGroupsCommandInput,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  type Listener,
  type LoadBalancer,
  RegisterTargetsCommand,
  type TargetGroup,
  type TargetHealthDescription,
  type TargetHealthReasonEnum,
  type TargetHealthStateEnum,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LoadBalancerCloud } from '../../src/cloud/elbv2.ts';
import { Annotations } from '../../src/core/annotations.ts';
import { buildModel, type HealthCheck } from '../../src/core/model.ts';
import { type LoadBalancerAction as Action, isSecurityGroupAction, plan } from '../../src/core/plan.ts';

/**
 * The requests the ELBv2 adapter sends, for what the emulator cannot tell us: moto registers an ip target
 * outside the VPC with or without AvailabilityZone, ELBv2 refuses it without `all`.
 */

const LB_ARN = 'arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/lb/1';
const TG_ARN = 'arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/tg/1';
const elbv2 = mockClient(ElasticLoadBalancingV2Client);

const service: V1Service = {
  metadata: { namespace: 'ns', name: 'web', uid: 'uid-1', annotations: { [Annotations.targetType]: 'ip', [Annotations.additionalTags]: 'team=shop' } },
  spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
};
const slice: V1EndpointSlice = {
  addressType: 'IPv4',
  metadata: { namespace: 'ns', name: 'web-abc', labels: { 'kubernetes.io/service-name': 'web' } },
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  endpoints: ['10.0.1.5', '100.64.0.7'].map((address) => ({ addresses: [address], conditions: { ready: true } })),
};

function newServicePlan() {
  const { stack } = buildModel({
    clusterName: 'c1',
    vpcId: 'vpc-1',
    service,
    nodes: [],
    endpointSlices: [slice],
    podVpcIp: () => undefined,
    subnets: [{ id: 'subnet-a', zone: 'us-east-1a', vpcId: 'vpc-1', cidrBlock: '10.0.1.0/24', tags: { 'kubernetes.io/role/internal-elb': '1' } }],
  });
  // Without security groups read, the plan has ELBv2 actions only.
  const actions = plan(stack, { loadBalancers: [], listeners: [], targetGroups: [] }).actions.filter((a): a is Action => !isSecurityGroupAction(a));
  return { stack, actions };
}

beforeEach(() => {
  elbv2.reset();
  elbv2.on(CreateLoadBalancerCommand).resolves({ LoadBalancers: [{ LoadBalancerArn: LB_ARN }] });
  elbv2.on(CreateTargetGroupCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG_ARN }] });
  elbv2.on(RegisterTargetsCommand).resolves({});
  elbv2.on(CreateListenerCommand).resolves({});
});

describe('LoadBalancerCloud.apply', () => {
  it('registers an ip target outside the VPC with AvailabilityZone all, one inside without', async () => {
    const cloud = new LoadBalancerCloud(new ElasticLoadBalancingV2Client({}), 'c1');
    await cloud.apply('ns/web', 'vpc-1', newServicePlan().actions);
    const registrations = elbv2.commandCalls(RegisterTargetsCommand).map((call) => call.args[0].input);
    expect(registrations).toEqual([
      {
        TargetGroupArn: TG_ARN,
        Targets: [
          { Id: '10.0.1.5', Port: 8080 },
          { Id: '100.64.0.7', Port: 8080, AvailabilityZone: 'all' },
        ],
      },
    ]);
  });

  it('creates listeners with our tags and the additional-resource-tags', async () => {
    const cloud = new LoadBalancerCloud(new ElasticLoadBalancingV2Client({}), 'c1');
    await cloud.apply('ns/web', 'vpc-1', newServicePlan().actions);
    const [create] = elbv2.commandCalls(CreateListenerCommand).map((call) => call.args[0].input);
    expect(Object.fromEntries((create!.Tags ?? []).map((t) => [t.Key, t.Value]))).toEqual({
      'elbv2.k8s.aws/cluster': 'c1',
      'service.k8s.aws/stack': 'ns/web',
      'service.k8s.aws/resource': '80',
      team: 'shop',
    });
  });
});

describe('LoadBalancerCloud.observe: target group attributes as known (ADR 0009)', () => {
  beforeEach(() => {
    elbv2.on(DescribeLoadBalancersCommand).resolves({ LoadBalancers: [{ LoadBalancerArn: LB_ARN, Type: 'network', Scheme: 'internal' }] });
    elbv2.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG_ARN, Protocol: 'TCP', Port: 8080, TargetType: 'ip' }] });
    elbv2.on(DescribeTagsCommand).resolves({ TagDescriptions: [] });
    elbv2.on(DescribeListenersCommand).resolves({ Listeners: [] });
    elbv2.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
    // An emulator that leaves proxy_protocol_v2.enabled out, as moto does.
    elbv2.on(DescribeTargetGroupAttributesCommand).resolves({ Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '300' }] });
  });

  it('a group this process created is not read; one it has not seen (after a restart) is read once, a missing default filled in', async () => {
    const created = new LoadBalancerCloud(new ElasticLoadBalancingV2Client({}), 'c1');
    await created.apply('ns/web', 'vpc-1', newServicePlan().actions);
    const afterCreate = await created.observe('ns/web', { loadBalancerAttributes: false, targetGroupAttributes: 'known' });
    expect(afterCreate.targetGroups[0]!.attributes).toEqual({ 'proxy_protocol_v2.enabled': 'false' });
    expect(elbv2.commandCalls(DescribeTargetGroupAttributesCommand)).toHaveLength(0);

    const restarted = new LoadBalancerCloud(new ElasticLoadBalancingV2Client({}), 'c1');
    const expected = { 'proxy_protocol_v2.enabled': 'false', 'deregistration_delay.timeout_seconds': '300' };
    const stack = newServicePlan().stack;
    const observe = () => restarted.observe('ns/web', { loadBalancerAttributes: false, targetGroupAttributes: 'known' });
    elbv2.on(DescribeTagsCommand).resolves({
      TagDescriptions: [{ ResourceArn: TG_ARN, Tags: Object.entries(stack.targetGroups[0]!.tags).map(([Key, Value]) => ({ Key, Value })) }],
    });
    expect((await observe()).targetGroups[0]!.attributes).toEqual(expected);
    expect((await observe()).targetGroups[0]!.attributes).toEqual(expected);
    expect(elbv2.commandCalls(DescribeTargetGroupAttributesCommand)).toHaveLength(1);
  });
});

/* ---------------------------------------------------------------------------------------------------------
 * Every request the adapter sends, in order, against a region faked from data: these pin the adapter's
 * behaviour (which calls, in which order, with which input) so that its modules can move without changing it.
 * ------------------------------------------------------------------------------------------------------- */

type Requests = [operation: string, input: unknown][];
/** The requests sent since the last reset, as `[operation, input]`. */
const requests = (): Requests =>
  elbv2.calls().map((call) => {
    const command = call.args[0] as unknown as { constructor: { name: string }; input: unknown };
    return [command.constructor.name.replace(/Command$/, ''), command.input];
  });
const awsError = (name: string) => Object.assign(new Error(name), { name });
const arnOf = (kind: 'loadbalancer/net' | 'targetgroup' | 'listener/net', name: string) => `arn:aws:elasticloadbalancing:us-east-1:000000000000:${kind}/${name}/1`;
const ours = (stack: string, resource = '') => ({ 'elbv2.k8s.aws/cluster': 'c1', 'service.k8s.aws/stack': stack, ...(resource ? { 'service.k8s.aws/resource': resource } : {}) });

interface FakeRegion {
  loadBalancers: LoadBalancer[];
  targetGroups: TargetGroup[];
  listeners: Listener[];
  tags: Record<string, Record<string, string>>;
  health: Record<string, TargetHealthDescription[]>;
}

/** Answers the describe calls from `region` as ELBv2 does, NotFound for a named ARN or name that is not there. */
function fakeRegion(region: FakeRegion): FakeRegion {
  const pick = <T>(all: T[], key: (item: T) => string | undefined, wanted: string[] | undefined, notFound: string): T[] => {
    if (!wanted) return all;
    const found = all.filter((item) => wanted.includes(key(item) ?? ''));
    if (found.length !== wanted.length) throw awsError(notFound);
    return found;
  };
  elbv2.on(DescribeLoadBalancersCommand).callsFake((input: DescribeLoadBalancersCommandInput) => ({
    LoadBalancers: input.Names
      ? pick(region.loadBalancers, (lb) => lb.LoadBalancerName, input.Names, 'LoadBalancerNotFoundException')
      : pick(region.loadBalancers, (lb) => lb.LoadBalancerArn, input.LoadBalancerArns, 'LoadBalancerNotFoundException'),
  }));
  elbv2.on(DescribeTargetGroupsCommand).callsFake((input: DescribeTargetGroupsCommandInput) => ({
    TargetGroups: input.Names
      ? pick(region.targetGroups, (tg) => tg.TargetGroupName, input.Names, 'TargetGroupNotFoundException')
      : pick(region.targetGroups, (tg) => tg.TargetGroupArn, input.TargetGroupArns, 'TargetGroupNotFoundException'),
  }));
  elbv2.on(DescribeTagsCommand).callsFake((input: { ResourceArns?: string[] }) => ({
    TagDescriptions: (input.ResourceArns ?? []).map((arn) => ({ ResourceArn: arn, Tags: Object.entries(region.tags[arn] ?? {}).map(([Key, Value]) => ({ Key, Value })) })),
  }));
  elbv2.on(DescribeListenersCommand).callsFake((input: { LoadBalancerArn?: string }) => ({ Listeners: region.listeners.filter((l) => l.LoadBalancerArn === input.LoadBalancerArn) }));
  elbv2.on(DescribeTargetHealthCommand).callsFake((input: { TargetGroupArn?: string }) => {
    if (!region.targetGroups.some((tg) => tg.TargetGroupArn === input.TargetGroupArn)) throw awsError('TargetGroupNotFoundException');
    return { TargetHealthDescriptions: region.health[input.TargetGroupArn ?? ''] ?? [] };
  });
  elbv2.on(DescribeLoadBalancerAttributesCommand).resolves({ Attributes: [{ Key: 'load_balancing.cross_zone.enabled', Value: 'false' }] });
  elbv2.on(DescribeTargetGroupAttributesCommand).resolves({ Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '300' }] });
  return region;
}

const lbNamed = (name: string): LoadBalancer => ({
  LoadBalancerArn: arnOf('loadbalancer/net', name),
  LoadBalancerName: name,
  Type: 'network',
  Scheme: 'internal',
  DNSName: `${name.toUpperCase()}.elb.localhost`,
  State: { Code: 'active' },
  CreatedTime: new Date(1_000),
});
const tgNamed = (name: string): TargetGroup => ({
  TargetGroupArn: arnOf('targetgroup', name),
  TargetGroupName: name,
  Protocol: 'TCP',
  Port: 8080,
  TargetType: 'ip',
  HealthCheckProtocol: 'TCP',
  HealthCheckPort: 'traffic-port',
  HealthCheckIntervalSeconds: 10,
  HealthCheckTimeoutSeconds: 10,
  HealthyThresholdCount: 3,
  UnhealthyThresholdCount: 3,
  LoadBalancerArns: [],
});
const newCloud = () => new LoadBalancerCloud(new ElasticLoadBalancingV2Client({}), 'c1');
/** A cloud whose index is loaded, with the requests of loading it forgotten. */
async function loaded(): Promise<LoadBalancerCloud> {
  const cloud = newCloud();
  await cloud.loadIndex();
  elbv2.resetHistory();
  return cloud;
}

describe('LoadBalancerCloud.apply: the request of each action kind', () => {
  const HTTP_CHECK: HealthCheck = { protocol: 'HTTP', port: '10256', path: '/healthz', intervalSeconds: 10, timeoutSeconds: 6, healthyThreshold: 2, unhealthyThreshold: 2, successCodes: '200-399' };
  const TCP_CHECK: HealthCheck = { protocol: 'TCP', port: 'traffic-port', intervalSeconds: 10, timeoutSeconds: 10, healthyThreshold: 3, unhealthyThreshold: 3 };
  const LISTENER_ARN = arnOf('listener/net', 'lb');
  const cases: [Action, Requests][] = [
    [
      { kind: 'CreateLoadBalancer', key: 'lb', spec: { name: 'k8s-ns-web', scheme: 'internal', subnetIds: ['subnet-a'], attributes: {}, tags: { a: '1' } } },
      [['CreateLoadBalancer', { Name: 'k8s-ns-web', Type: 'network', Scheme: 'internal', Subnets: ['subnet-a'], IpAddressType: 'ipv4', Tags: [{ Key: 'a', Value: '1' }] }]],
    ],
    [
      { kind: 'SetSecurityGroups', arn: LB_ARN, securityGroups: [{ id: 'sg-managed' }, { id: 'sg-backend' }] },
      [['SetSecurityGroups', { LoadBalancerArn: LB_ARN, SecurityGroups: ['sg-managed', 'sg-backend'] }]],
    ],
    [
      { kind: 'ModifyListenerAttributes', arn: LISTENER_ARN, port: 80, attributes: { 'tcp.idle_timeout.seconds': '400' } },
      [['ModifyListenerAttributes', { ListenerArn: LISTENER_ARN, Attributes: [{ Key: 'tcp.idle_timeout.seconds', Value: '400' }] }]],
    ],
    [
      { kind: 'ModifyLoadBalancerAttributes', loadBalancer: { arn: LB_ARN }, attributes: { 'load_balancing.cross_zone.enabled': 'true' } },
      [['ModifyLoadBalancerAttributes', { LoadBalancerArn: LB_ARN, Attributes: [{ Key: 'load_balancing.cross_zone.enabled', Value: 'true' }] }]],
    ],
    [{ kind: 'DeleteLoadBalancer', arn: LB_ARN, reason: 'test' }, [['DeleteLoadBalancer', { LoadBalancerArn: LB_ARN }]]],
    [{ kind: 'SetIpAddressType', arn: LB_ARN, ipAddressType: 'dualstack' }, [['SetIpAddressType', { LoadBalancerArn: LB_ARN, IpAddressType: 'dualstack' }]]],
    [
      { kind: 'ModifyCapacityReservation', loadBalancer: { arn: LB_ARN }, capacityUnits: 3000 },
      [['ModifyCapacityReservation', { LoadBalancerArn: LB_ARN, MinimumLoadBalancerCapacity: { CapacityUnits: 3000 } }]],
    ],
    [
      {
        kind: 'CreateTargetGroup',
        key: 'ns/web:80',
        spec: { resourceId: 'ns/web:80', name: 'k8s-tg', protocol: 'TCP', port: 8080, targetType: 'ip', healthCheck: HTTP_CHECK, attributes: {}, targets: [], tags: { b: '2' } },
      },
      [
        [
          'CreateTargetGroup',
          {
            Name: 'k8s-tg',
            Protocol: 'TCP',
            Port: 8080,
            VpcId: 'vpc-1',
            TargetType: 'ip',
            HealthCheckProtocol: 'HTTP',
            HealthCheckPort: '10256',
            HealthCheckIntervalSeconds: 10,
            HealthCheckTimeoutSeconds: 6,
            HealthyThresholdCount: 2,
            UnhealthyThresholdCount: 2,
            HealthCheckPath: '/healthz',
            Matcher: { HttpCode: '200-399' },
            Tags: [{ Key: 'b', Value: '2' }],
          },
        ],
      ],
    ],
    [
      { kind: 'ModifyTargetGroup', arn: TG_ARN, healthCheck: TCP_CHECK },
      [
        [
          'ModifyTargetGroup',
          {
            TargetGroupArn: TG_ARN,
            HealthCheckProtocol: 'TCP',
            HealthCheckPort: 'traffic-port',
            HealthCheckIntervalSeconds: 10,
            HealthCheckTimeoutSeconds: 10,
            HealthyThresholdCount: 3,
            UnhealthyThresholdCount: 3,
          },
        ],
      ],
    ],
    [
      { kind: 'ModifyTargetGroupAttributes', targetGroup: { arn: TG_ARN }, attributes: { 'proxy_protocol_v2.enabled': 'false' } },
      [['ModifyTargetGroupAttributes', { TargetGroupArn: TG_ARN, Attributes: [{ Key: 'proxy_protocol_v2.enabled', Value: 'false' }] }]],
    ],
    [
      { kind: 'RegisterTargets', targetGroup: { arn: TG_ARN }, targets: [{ id: 'i-1', port: 30080 }, { id: '100.64.0.7', port: 8080, availabilityZone: 'all' }] },
      [['RegisterTargets', { TargetGroupArn: TG_ARN, Targets: [{ Id: 'i-1', Port: 30080 }, { Id: '100.64.0.7', Port: 8080, AvailabilityZone: 'all' }] }]],
    ],
    [
      { kind: 'DeregisterTargets', arn: TG_ARN, targets: [{ id: '100.64.0.7', port: 8080, availabilityZone: 'all' }] },
      [['DeregisterTargets', { TargetGroupArn: TG_ARN, Targets: [{ Id: '100.64.0.7', Port: 8080 }] }]],
    ],
    [
      { kind: 'CreateListener', loadBalancer: { arn: LB_ARN }, port: 80, protocol: 'TCP', targetGroup: { arn: TG_ARN } },
      [['CreateListener', { LoadBalancerArn: LB_ARN, Port: 80, Protocol: 'TCP', DefaultActions: [{ Type: 'forward', TargetGroupArn: TG_ARN }] }]],
    ],
    [
      { kind: 'ModifyListener', arn: LISTENER_ARN, port: 80, targetGroup: { arn: TG_ARN } },
      [['ModifyListener', { ListenerArn: LISTENER_ARN, DefaultActions: [{ Type: 'forward', TargetGroupArn: TG_ARN }] }]],
    ],
    [{ kind: 'DeleteListener', arn: LISTENER_ARN, port: 80 }, [['DeleteListener', { ListenerArn: LISTENER_ARN }]]],
    [
      { kind: 'AddListenerCertificates', arn: LISTENER_ARN, port: 443, certificates: ['arn:cert-1', 'arn:cert-2'] },
      [['AddListenerCertificates', { ListenerArn: LISTENER_ARN, Certificates: [{ CertificateArn: 'arn:cert-1' }, { CertificateArn: 'arn:cert-2' }] }]],
    ],
    [
      { kind: 'RemoveListenerCertificates', arn: LISTENER_ARN, port: 443, certificates: ['arn:cert-3'] },
      [['RemoveListenerCertificates', { ListenerArn: LISTENER_ARN, Certificates: [{ CertificateArn: 'arn:cert-3' }] }]],
    ],
    [{ kind: 'AddListenerTags', arn: LISTENER_ARN, port: 80, tags: { team: 'shop' } }, [['AddTags', { ResourceArns: [LISTENER_ARN], Tags: [{ Key: 'team', Value: 'shop' }] }]]],
    [{ kind: 'DeleteTargetGroup', arn: TG_ARN, reason: 'test' }, [['DeleteTargetGroup', { TargetGroupArn: TG_ARN }]]],
  ];

  it('CreateLoadBalancer with fixed addresses sends SubnetMappings instead of Subnets, and the ip address type', async () => {
    elbv2.onAnyCommand().resolves({});
    elbv2.on(CreateLoadBalancerCommand).resolves({ LoadBalancers: [{ LoadBalancerArn: LB_ARN }] });
    const subnetMappings = [
      { subnetId: 'subnet-a', allocationId: 'eipalloc-1', ipv6Address: '2600::1' },
      { subnetId: 'subnet-b', privateIPv4Address: '10.0.1.5' },
    ];
    const spec = { name: 'k8s-ns-web', scheme: 'internet-facing' as const, subnetIds: ['subnet-a', 'subnet-b'], ipAddressType: 'dualstack' as const, subnetMappings, attributes: {}, tags: {} };
    await newCloud().apply('ns/web', 'vpc-1', [{ kind: 'CreateLoadBalancer', key: 'lb', spec }], () => undefined);
    expect(requests()).toEqual([
      [
        'CreateLoadBalancer',
        {
          Name: 'k8s-ns-web',
          Type: 'network',
          Scheme: 'internet-facing',
          SubnetMappings: [
            { SubnetId: 'subnet-a', AllocationId: 'eipalloc-1', IPv6Address: '2600::1' },
            { SubnetId: 'subnet-b', PrivateIPv4Address: '10.0.1.5' },
          ],
          IpAddressType: 'dualstack',
          Tags: [],
        },
      ],
    ]);
  });

  it('CreateLoadBalancer sends enable-prefix-for-ipv6-source-nat and each subnet\'s source NAT prefix', async () => {
    elbv2.onAnyCommand().resolves({});
    elbv2.on(CreateLoadBalancerCommand).resolves({ LoadBalancers: [{ LoadBalancerArn: LB_ARN }] });
    const subnetMappings = [
      { subnetId: 'subnet-a', sourceNatIpv6Prefix: 'auto_assigned' },
      { subnetId: 'subnet-b', sourceNatIpv6Prefix: '2600:1f13:837:8504:1::/80' },
    ];
    const spec = { name: 'k8s-ns-udp', scheme: 'internal' as const, subnetIds: ['subnet-a', 'subnet-b'], ipAddressType: 'dualstack' as const, subnetMappings, enablePrefixForIpv6SourceNat: 'on' as const, attributes: {}, tags: {} };
    await newCloud().apply('ns/udp', 'vpc-1', [{ kind: 'CreateLoadBalancer', key: 'lb', spec }], () => undefined);
    expect(requests()[0]![1]).toMatchObject({
      SubnetMappings: [
        { SubnetId: 'subnet-a', SourceNatIpv6Prefix: 'auto_assigned' },
        { SubnetId: 'subnet-b', SourceNatIpv6Prefix: '2600:1f13:837:8504:1::/80' },
      ],
      IpAddressType: 'dualstack',
      EnablePrefixForIpv6SourceNat: 'on',
    });
  });

  it('covers every action kind', () => {
    const kinds = new Set(cases.map(([action]) => action.kind));
    expect(kinds.size).toBe(cases.length);
    // One case per member of the Action union: a kind added to the plan fails here until it has a case.
    const all: Record<Action['kind'], true> = {
      CreateLoadBalancer: true, SetSecurityGroups: true, SetIpAddressType: true, ModifyCapacityReservation: true, ModifyLoadBalancerAttributes: true, DeleteLoadBalancer: true, CreateTargetGroup: true, ModifyTargetGroup: true,
      ModifyTargetGroupAttributes: true, RegisterTargets: true, DeregisterTargets: true, CreateListener: true, ModifyListener: true,
      DeleteListener: true, AddListenerTags: true, DeleteTargetGroup: true, AddListenerCertificates: true, RemoveListenerCertificates: true,
      ModifyListenerAttributes: true,
    };
    expect([...kinds].sort()).toEqual(Object.keys(all).sort());
  });

  it.each(cases.map(([action, expected]) => [action.kind, action, expected] as const))('%s', async (_kind, action, expected) => {
    elbv2.onAnyCommand().resolves({});
    elbv2.on(CreateLoadBalancerCommand).resolves({ LoadBalancers: [{ LoadBalancerArn: LB_ARN }] });
    elbv2.on(CreateTargetGroupCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG_ARN }] });
    const seen: Action[] = [];
    await newCloud().apply('ns/web', 'vpc-1', [action], (a) => seen.push(a));
    expect(requests()).toEqual(expected);
    expect(seen).toEqual([action]);
  });

  it('sets the attributes of a new listener right after creating it, and PrivateLink enforcement after a create only when the answer differs', async () => {
    elbv2.onAnyCommand().resolves({});
    elbv2.on(CreateListenerCommand).resolves({ Listeners: [{ ListenerArn: LISTENER_ARN }] });
    const listener: Action = { kind: 'CreateListener', loadBalancer: { arn: LB_ARN }, port: 80, protocol: 'TCP', targetGroup: { arn: TG_ARN }, attributes: { 'tcp.idle_timeout.seconds': '400' } };
    const spec = { name: 'k8s-ns-web', scheme: 'internal' as const, subnetIds: ['subnet-a'], attributes: {}, tags: {} };
    const withGroups = (value: 'on' | 'off'): Action => ({ kind: 'CreateLoadBalancer', key: 'lb', spec: { ...spec, securityGroupsInboundRulesOnPrivateLink: value }, securityGroups: [{ id: 'sg-1' }] });
    elbv2.on(CreateLoadBalancerCommand).resolves({ LoadBalancers: [{ LoadBalancerArn: LB_ARN, EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic: 'on' }] });
    await newCloud().apply('ns/web', 'vpc-1', [listener, withGroups('off'), withGroups('on')]);
    expect(requests().map(([operation, input]) => [operation, operation === 'CreateLoadBalancer' ? {} : input])).toEqual([
      ['CreateListener', { LoadBalancerArn: LB_ARN, Port: 80, Protocol: 'TCP', DefaultActions: [{ Type: 'forward', TargetGroupArn: TG_ARN }] }],
      ['ModifyListenerAttributes', { ListenerArn: LISTENER_ARN, Attributes: [{ Key: 'tcp.idle_timeout.seconds', Value: '400' }] }],
      ['CreateLoadBalancer', {}],
      ['SetSecurityGroups', { LoadBalancerArn: LB_ARN, SecurityGroups: ['sg-1'], EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic: 'off' }],
      ['CreateLoadBalancer', {}],
    ]);
  });

  it('refers to resources created earlier in the plan by key, and refuses a key not created yet before any request', async () => {
    elbv2.onAnyCommand().resolves({});
    elbv2.on(CreateLoadBalancerCommand).resolves({ LoadBalancers: [{ LoadBalancerArn: LB_ARN }] });
    elbv2.on(CreateTargetGroupCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG_ARN }] });
    const { actions } = newServicePlan();
    await newCloud().apply('ns/web', 'vpc-1', actions);
    expect(requests().map(([operation]) => operation)).toEqual(['CreateLoadBalancer', 'CreateTargetGroup', 'RegisterTargets', 'CreateListener']);
    expect(elbv2.commandCalls(CreateListenerCommand)[0]!.args[0].input).toMatchObject({ LoadBalancerArn: LB_ARN, DefaultActions: [{ TargetGroupArn: TG_ARN }] });

    elbv2.resetHistory();
    const early: Action = { kind: 'CreateListener', loadBalancer: { key: 'lb' }, port: 80, protocol: 'TCP', targetGroup: { arn: TG_ARN } };
    await expect(newCloud().apply('ns/web', 'vpc-1', [early])).rejects.toThrow('plan refers to lb before creating it');
    expect(requests()).toEqual([]);
  });

  it('registers and deregisters in calls of 200 targets', async () => {
    elbv2.onAnyCommand().resolves({});
    const targets = Array.from({ length: 450 }, (_, i) => ({ id: `10.0.${Math.floor(i / 250)}.${i % 250}`, port: 8080 }));
    await newCloud().apply('ns/web', 'vpc-1', [
      { kind: 'RegisterTargets', targetGroup: { arn: TG_ARN }, targets },
      { kind: 'DeregisterTargets', arn: TG_ARN, targets },
    ]);
    expect(requests().map(([operation, input]) => [operation, (input as { Targets: unknown[] }).Targets.length])).toEqual([
      ['RegisterTargets', 200],
      ['RegisterTargets', 200],
      ['RegisterTargets', 50],
      ['DeregisterTargets', 200],
      ['DeregisterTargets', 200],
      ['DeregisterTargets', 50],
    ]);
  });

  it('a delete or deregistration of something already gone is done; any other error stops the plan', async () => {
    elbv2.onAnyCommand().resolves({});
    elbv2.on(DeleteLoadBalancerCommand).rejects(awsError('LoadBalancerNotFoundException'));
    elbv2.on(DeleteListenerCommand).rejects(awsError('ListenerNotFoundException'));
    elbv2.on(DeleteTargetGroupCommand).rejects(awsError('TargetGroupNotFoundException'));
    elbv2.on(DeregisterTargetsCommand).rejectsOnce(awsError('InvalidTargetException')).rejectsOnce(awsError('TargetGroupNotFoundException')).rejects(awsError('AccessDenied'));
    const deregister: Action = { kind: 'DeregisterTargets', arn: TG_ARN, targets: [{ id: '10.0.0.1', port: 8080 }] };
    await newCloud().apply('ns/web', 'vpc-1', [
      { kind: 'DeleteListener', arn: arnOf('listener/net', 'lb'), port: 80 },
      deregister,
      deregister,
      { kind: 'DeleteTargetGroup', arn: TG_ARN, reason: 'test' },
      { kind: 'DeleteLoadBalancer', arn: LB_ARN, reason: 'test' },
    ]);
    expect(requests().map(([operation]) => operation)).toEqual(['DeleteListener', 'DeregisterTargets', 'DeregisterTargets', 'DeleteTargetGroup', 'DeleteLoadBalancer']);
    await expect(newCloud().apply('ns/web', 'vpc-1', [deregister, { kind: 'DeleteTargetGroup', arn: TG_ARN, reason: 'test' }])).rejects.toThrow('AccessDenied');
    expect(requests().at(-1)![0]).toBe('DeregisterTargets');
  });
});

describe('LoadBalancerCloud ownership index', () => {
  it('is read once from every NLB and target group of the region (pages of 400, tags in calls of 20); only our cluster counts', async () => {
    const lbOfA = lbNamed('a');
    const application: LoadBalancer = { ...lbNamed('alb'), Type: 'application' };
    const foreign = lbNamed('foreign');
    const groups = Array.from({ length: 21 }, (_, i) => tgNamed(`tg${i}`));
    elbv2.on(DescribeLoadBalancersCommand).resolvesOnce({ LoadBalancers: [lbOfA, application], NextMarker: 'm1' }).resolvesOnce({ LoadBalancers: [foreign] });
    elbv2.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: groups });
    const tags: Record<string, Record<string, string>> = {
      [lbOfA.LoadBalancerArn!]: ours('ns/a'),
      [foreign.LoadBalancerArn!]: { ...ours('ns/a'), 'elbv2.k8s.aws/cluster': 'other' },
      [groups[20]!.TargetGroupArn!]: ours('ns/b', 'ns/b:80'),
      [groups[0]!.TargetGroupArn!]: { 'elbv2.k8s.aws/cluster': 'c1' },
    };
    elbv2.on(DescribeTagsCommand).callsFake((input: { ResourceArns?: string[] }) => ({
      TagDescriptions: (input.ResourceArns ?? []).map((arn) => ({ ResourceArn: arn, Tags: Object.entries(tags[arn] ?? {}).map(([Key, Value]) => ({ Key, Value })) })),
    }));
    const cloud = newCloud();
    await Promise.all([cloud.loadIndex(), cloud.loadIndex()]);
    expect(await cloud.knownStacks()).toEqual(['ns/a', 'ns/b']);
    const arns = [lbOfA.LoadBalancerArn!, foreign.LoadBalancerArn!, ...groups.map((tg) => tg.TargetGroupArn!)];
    expect(requests()).toEqual([
      ['DescribeLoadBalancers', { Marker: undefined, PageSize: 400 }],
      ['DescribeLoadBalancers', { Marker: 'm1', PageSize: 400 }],
      ['DescribeTargetGroups', { Marker: undefined, PageSize: 400 }],
      ['DescribeTags', { ResourceArns: arns.slice(0, 20) }],
      ['DescribeTags', { ResourceArns: arns.slice(20) }],
    ]);
  });

  it('a scan that failed is tried again by the next caller', async () => {
    elbv2.on(DescribeLoadBalancersCommand).rejectsOnce(awsError('Throttling')).resolves({ LoadBalancers: [] });
    elbv2.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [] });
    const cloud = newCloud();
    await expect(cloud.loadIndex()).rejects.toThrow('Throttling');
    await cloud.loadIndex();
    expect(requests().map(([operation]) => operation)).toEqual(['DescribeLoadBalancers', 'DescribeLoadBalancers', 'DescribeTargetGroups']);
  });

  it('adopts by name, before a create, only what carries our cluster and stack tags', async () => {
    const lb = lbNamed('k8s-ns-web');
    const [tgOurs, tgOtherStack] = [tgNamed('k8s-tg-ours'), tgNamed('k8s-tg-other')];
    const region = fakeRegion({ loadBalancers: [], targetGroups: [], listeners: [], tags: {}, health: {} });
    const cloud = await loaded();
    // Created after the index was read (a lost create answer, another replica).
    region.loadBalancers.push(lb);
    region.targetGroups.push(tgOurs, tgOtherStack);
    Object.assign(region.tags, { [lb.LoadBalancerArn!]: ours('ns/web'), [tgOurs.TargetGroupArn!]: ours('ns/web', 'ns/web:80'), [tgOtherStack.TargetGroupArn!]: ours('ns/other', 'ns/other:80') });
    const expected = { loadBalancerName: 'k8s-ns-web', targetGroupNames: ['k8s-tg-ours', 'k8s-tg-other'] };
    const stack = await cloud.observe('ns/web', { loadBalancerAttributes: false, targetGroupAttributes: false }, expected);
    expect(stack.loadBalancers.map((l) => l.arn)).toEqual([lb.LoadBalancerArn]);
    expect(stack.targetGroups.map((tg) => [tg.arn, tg.resourceId])).toEqual([[tgOurs.TargetGroupArn, 'ns/web:80']]);
    expect(requests()).toEqual([
      ['DescribeLoadBalancers', { Names: ['k8s-ns-web'] }],
      ['DescribeTargetGroups', { Names: ['k8s-tg-ours', 'k8s-tg-other'] }],
      ['DescribeTags', { ResourceArns: [lb.LoadBalancerArn, tgOurs.TargetGroupArn, tgOtherStack.TargetGroupArn] }],
      ['DescribeLoadBalancers', { LoadBalancerArns: [lb.LoadBalancerArn] }],
      ['DescribeTargetGroups', { TargetGroupArns: [tgOurs.TargetGroupArn] }],
      ['DescribeListeners', { LoadBalancerArn: lb.LoadBalancerArn }],
      ['DescribeTargetHealth', { TargetGroupArn: tgOurs.TargetGroupArn }],
    ]);

    // Known now: only the name the index still lacks is looked up; a name not found is no error.
    elbv2.resetHistory();
    await cloud.observe('ns/web', { loadBalancerAttributes: false, targetGroupAttributes: false }, { ...expected, targetGroupNames: ['k8s-tg-ours', 'k8s-tg-new'] });
    expect(requests().slice(0, 2)).toEqual([
      ['DescribeTargetGroups', { Names: ['k8s-tg-new'] }],
      ['DescribeLoadBalancers', { LoadBalancerArns: [lb.LoadBalancerArn] }],
    ]);
  });
});

describe('LoadBalancerCloud.observe', () => {
  const lb = lbNamed('k8s-ns-web');
  const tg80 = tgNamed('k8s-tg-80');
  const tg443: TargetGroup = { ...tgNamed('k8s-tg-443'), HealthCheckProtocol: 'HTTP', HealthCheckPath: '/healthz', Matcher: { HttpCode: '200' } };
  const listeners: Listener[] = [
    { ListenerArn: arnOf('listener/net', 'l80'), LoadBalancerArn: lb.LoadBalancerArn, Port: 80, Protocol: 'TCP', DefaultActions: [{ Type: 'forward', TargetGroupArn: tg80.TargetGroupArn }] },
    {
      ListenerArn: arnOf('listener/net', 'l443'),
      LoadBalancerArn: lb.LoadBalancerArn,
      Port: 443,
      Protocol: 'TCP',
      DefaultActions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: tg443.TargetGroupArn }] } }],
    },
  ];
  const region = (): FakeRegion =>
    fakeRegion({
      loadBalancers: [lb],
      targetGroups: [tg80, tg443],
      listeners,
      tags: {
        [lb.LoadBalancerArn!]: ours('ns/web'),
        [tg80.TargetGroupArn!]: ours('ns/web', 'ns/web:80'),
        [tg443.TargetGroupArn!]: ours('ns/web', 'ns/web:443'),
        [listeners[0]!.ListenerArn!]: { team: 'shop' },
      },
      health: {
        [tg80.TargetGroupArn!]: [
          { Target: { Id: '10.0.1.5', Port: 8080 }, TargetHealth: { State: 'healthy' } },
          { Target: { Id: '10.0.1.6', Port: 8080 }, TargetHealth: { State: 'unused', Reason: 'Target.NotInUse' } },
        ],
      },
    });

  it('reads load balancers, target groups, listeners, attributes, target health and listener tags in this order', async () => {
    region();
    const cloud = await loaded();
    const stack = await cloud.observe('ns/web', { loadBalancerAttributes: true, targetGroupAttributes: true, listenerTags: true });
    expect(requests()).toEqual([
      ['DescribeLoadBalancers', { LoadBalancerArns: [lb.LoadBalancerArn] }],
      ['DescribeTargetGroups', { TargetGroupArns: [tg80.TargetGroupArn, tg443.TargetGroupArn] }],
      ['DescribeListeners', { LoadBalancerArn: lb.LoadBalancerArn }],
      ['DescribeLoadBalancerAttributes', { LoadBalancerArn: lb.LoadBalancerArn }],
      ['DescribeTargetHealth', { TargetGroupArn: tg80.TargetGroupArn }],
      ['DescribeTargetGroupAttributes', { TargetGroupArn: tg80.TargetGroupArn }],
      ['DescribeTargetHealth', { TargetGroupArn: tg443.TargetGroupArn }],
      ['DescribeTargetGroupAttributes', { TargetGroupArn: tg443.TargetGroupArn }],
      ['DescribeTags', { ResourceArns: listeners.map((l) => l.ListenerArn) }],
    ]);
    const attributes = { 'proxy_protocol_v2.enabled': 'false', 'deregistration_delay.timeout_seconds': '300' };
    const tcpCheck: HealthCheck = { protocol: 'TCP', port: 'traffic-port', intervalSeconds: 10, timeoutSeconds: 10, healthyThreshold: 3, unhealthyThreshold: 3 };
    expect(stack).toEqual({
      loadBalancers: [
        {
          arn: lb.LoadBalancerArn,
          name: 'k8s-ns-web',
          scheme: 'internal',
          dnsName: 'k8s-ns-web.elb.localhost',
          state: 'active',
          createdAt: 1_000,
          securityGroups: [],
          attributes: { 'load_balancing.cross_zone.enabled': 'false' },
        },
      ],
      listeners: [
        { arn: listeners[0]!.ListenerArn, loadBalancerArn: lb.LoadBalancerArn, port: 80, protocol: 'TCP', targetGroupArn: tg80.TargetGroupArn, tags: { team: 'shop' } },
        { arn: listeners[1]!.ListenerArn, loadBalancerArn: lb.LoadBalancerArn, port: 443, protocol: 'TCP', targetGroupArn: tg443.TargetGroupArn, tags: {} },
      ],
      targetGroups: [
        {
          arn: tg80.TargetGroupArn,
          name: 'k8s-tg-80',
          resourceId: 'ns/web:80',
          protocol: 'TCP',
          port: 8080,
          targetType: 'ip',
          healthCheck: tcpCheck,
          targets: [
            { id: '10.0.1.5', port: 8080, state: 'healthy' },
            { id: '10.0.1.6', port: 8080, state: 'unused', reason: 'Target.NotInUse' },
          ],
          loadBalancerArns: [],
          attributes,
        },
        {
          arn: tg443.TargetGroupArn,
          name: 'k8s-tg-443',
          resourceId: 'ns/web:443',
          protocol: 'TCP',
          port: 8080,
          targetType: 'ip',
          healthCheck: { ...tcpCheck, protocol: 'HTTP', path: '/healthz', successCodes: '200' },
          targets: [],
          loadBalancerArns: [],
          attributes,
        },
      ],
    });
  });

  it('listener attributes of the ports asked for only, read last; the PrivateLink setting from DescribeLoadBalancers, no call of its own', async () => {
    const live = region();
    live.loadBalancers = [{ ...lb, SecurityGroups: ['sg-1'], EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic: 'off' }];
    elbv2.on(DescribeListenerAttributesCommand).resolves({ Attributes: [{ Key: 'tcp.idle_timeout.seconds', Value: '400' }] });
    const cloud = await loaded();
    const stack = await cloud.observe('ns/web', { loadBalancerAttributes: false, targetGroupAttributes: false, listenerAttributes: [443] });
    expect(requests().map(([operation]) => operation)).toEqual(['DescribeLoadBalancers', 'DescribeTargetGroups', 'DescribeListeners', 'DescribeTargetHealth', 'DescribeTargetHealth', 'DescribeListenerAttributes']);
    expect(requests().at(-1)).toEqual(['DescribeListenerAttributes', { ListenerArn: listeners[1]!.ListenerArn }]);
    expect(stack.listeners.map((l) => [l.port, l.attributes])).toEqual([
      [80, undefined],
      [443, { 'tcp.idle_timeout.seconds': '400' }],
    ]);
    expect(stack.loadBalancers[0]).toMatchObject({ securityGroups: ['sg-1'], securityGroupsInboundRulesOnPrivateLink: 'off' });
  });

  it('a resource deleted behind our back: looked up one by one and forgotten', async () => {
    const live = region();
    const cloud = await loaded();
    live.targetGroups.splice(1, 1);
    const stack = await cloud.observe('ns/web', { loadBalancerAttributes: false, targetGroupAttributes: false });
    expect(stack.targetGroups.map((tg) => tg.arn)).toEqual([tg80.TargetGroupArn]);
    expect(requests().slice(0, 4)).toEqual([
      ['DescribeLoadBalancers', { LoadBalancerArns: [lb.LoadBalancerArn] }],
      ['DescribeTargetGroups', { TargetGroupArns: [tg80.TargetGroupArn, tg443.TargetGroupArn] }],
      ['DescribeTargetGroups', { TargetGroupArns: [tg80.TargetGroupArn] }],
      ['DescribeTargetGroups', { TargetGroupArns: [tg443.TargetGroupArn] }],
    ]);
    elbv2.resetHistory();
    live.loadBalancers.splice(0, 1);
    const gone = await cloud.observe('ns/web', { loadBalancerAttributes: false, targetGroupAttributes: false });
    expect(gone.loadBalancers).toEqual([]);
    expect(requests().slice(0, 3)).toEqual([
      ['DescribeLoadBalancers', { LoadBalancerArns: [lb.LoadBalancerArn] }],
      ['DescribeLoadBalancers', { LoadBalancerArns: [lb.LoadBalancerArn] }],
      ['DescribeTargetGroups', { TargetGroupArns: [tg80.TargetGroupArn] }],
    ]);
  });
});

describe('LoadBalancerCloud.prefetch (ADR 0007)', () => {
  afterEach(() => vi.useRealTimers());
  const stacks = Array.from({ length: 21 }, (_, i) => ({ id: `ns/s${i}`, lb: lbNamed(`lb${i}`), tg: tgNamed(`tg${i}`) }));
  const region = () =>
    fakeRegion({
      loadBalancers: stacks.map((s) => s.lb),
      targetGroups: stacks.map((s) => s.tg),
      listeners: [],
      tags: Object.fromEntries(stacks.flatMap((s) => [[s.lb.LoadBalancerArn!, ours(s.id)], [s.tg.TargetGroupArn!, ours(s.id, `${s.id}:80`)]])),
      health: {},
    });
  const observeFirst = (cloud: LoadBalancerCloud) => cloud.observe(stacks[0]!.id, { loadBalancerAttributes: false, targetGroupAttributes: false });
  const reads = () => requests().map(([operation]) => operation);

  it('reads many stacks in calls of 20 ARNs; each stack then reads only listeners and target health, once', async () => {
    region();
    const cloud = await loaded();
    await cloud.prefetch(stacks.map((s) => s.id));
    expect(requests()).toEqual([
      ['DescribeLoadBalancers', { LoadBalancerArns: stacks.slice(0, 20).map((s) => s.lb.LoadBalancerArn) }],
      ['DescribeLoadBalancers', { LoadBalancerArns: [stacks[20]!.lb.LoadBalancerArn] }],
      ['DescribeTargetGroups', { TargetGroupArns: stacks.slice(0, 20).map((s) => s.tg.TargetGroupArn) }],
      ['DescribeTargetGroups', { TargetGroupArns: [stacks[20]!.tg.TargetGroupArn] }],
    ]);
    elbv2.resetHistory();
    await observeFirst(cloud);
    expect(reads()).toEqual(['DescribeListeners', 'DescribeTargetHealth']);
    elbv2.resetHistory();
    await observeFirst(cloud);
    expect(reads()).toEqual(['DescribeLoadBalancers', 'DescribeTargetGroups', 'DescribeListeners', 'DescribeTargetHealth']);
  });

  it('a write of ours drops what the bulk read saw of that stack', async () => {
    region();
    const cloud = await loaded();
    await cloud.prefetch([stacks[0]!.id]);
    elbv2.onAnyCommand().resolves({});
    region();
    await cloud.apply(stacks[0]!.id, 'vpc-1', [{ kind: 'DeregisterTargets', arn: stacks[0]!.tg.TargetGroupArn!, targets: [{ id: '10.0.0.1', port: 80 }] }]);
    elbv2.resetHistory();
    await observeFirst(cloud);
    expect(reads()).toEqual(['DescribeLoadBalancers', 'DescribeTargetGroups', 'DescribeListeners', 'DescribeTargetHealth']);
  });

  it('a bulk read older than 30 s is not used', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    region();
    const cloud = await loaded();
    await cloud.prefetch([stacks[0]!.id]);
    vi.setSystemTime(Date.now() + 30_000);
    elbv2.resetHistory();
    await observeFirst(cloud);
    expect(reads()).toEqual(['DescribeLoadBalancers', 'DescribeTargetGroups', 'DescribeListeners', 'DescribeTargetHealth']);
  });

  it('a batch naming a resource gone behind our back fails whole; its stacks read for themselves', async () => {
    const live = region();
    const cloud = await loaded();
    live.loadBalancers.splice(1, 1);
    await cloud.prefetch(stacks.slice(0, 2).map((s) => s.id));
    elbv2.resetHistory();
    await observeFirst(cloud);
    expect(reads()).toEqual(['DescribeLoadBalancers', 'DescribeListeners', 'DescribeTargetHealth']);
  });
});

describe('LoadBalancerCloud.registeredTargetIds (ENI pool address reuse)', () => {
  const [tg1, tg2] = [tgNamed('tg1'), tgNamed('tg2')];
  const health = (id: string, State: TargetHealthStateEnum, Reason?: TargetHealthReasonEnum): TargetHealthDescription => ({
    Target: { Id: id, Port: 8080 },
    TargetHealth: { State, ...(Reason ? { Reason } : {}) },
  });

  it('reads each group of ours once; what our writes change is kept without reading again', async () => {
    const live = fakeRegion({
      loadBalancers: [],
      targetGroups: [tg1, tg2],
      listeners: [],
      tags: { [tg1.TargetGroupArn!]: ours('ns/web', 'ns/web:80'), [tg2.TargetGroupArn!]: ours('ns/web', 'ns/web:81') },
      health: {
        [tg1.TargetGroupArn!]: [health('10.0.0.1', 'healthy'), health('10.0.0.3', 'unused', 'Target.NotRegistered'), health('10.0.0.4', 'unused', 'Target.NotInUse')],
      },
    });
    const cloud = await loaded();
    live.targetGroups.splice(1, 1); // tg2 deleted behind our back: holds nothing
    expect([...(await cloud.registeredTargetIds())].sort()).toEqual(['10.0.0.1', '10.0.0.4']);
    expect(requests()).toEqual([
      ['DescribeTargetHealth', { TargetGroupArn: tg1.TargetGroupArn }],
      ['DescribeTargetHealth', { TargetGroupArn: tg2.TargetGroupArn }],
    ]);
    elbv2.resetHistory();
    elbv2.onAnyCommand().resolves({});
    await cloud.apply('ns/web', 'vpc-1', [
      { kind: 'RegisterTargets', targetGroup: { arn: tg1.TargetGroupArn! }, targets: [{ id: '10.0.0.9', port: 8080 }] },
      { kind: 'DeregisterTargets', arn: tg1.TargetGroupArn!, targets: [{ id: '10.0.0.1', port: 8080 }] },
    ]);
    expect([...(await cloud.registeredTargetIds())].sort()).toEqual(['10.0.0.4', '10.0.0.9']);
    await cloud.apply('ns/web', 'vpc-1', [{ kind: 'DeleteTargetGroup', arn: tg1.TargetGroupArn!, reason: 'test' }]);
    expect([...(await cloud.registeredTargetIds())]).toEqual([]);
    expect(requests().map(([operation]) => operation)).toEqual(['RegisterTargets', 'DeregisterTargets', 'DeleteTargetGroup']);
  });

  it('a group with a target draining holds its address and is read again on each ask, until nothing drains', async () => {
    const live = fakeRegion({
      loadBalancers: [],
      targetGroups: [tg1],
      listeners: [],
      tags: { [tg1.TargetGroupArn!]: ours('ns/web', 'ns/web:80') },
      health: { [tg1.TargetGroupArn!]: [health('10.0.0.1', 'healthy'), health('10.0.0.2', 'draining', 'Target.DeregistrationInProgress')] },
    });
    const cloud = await loaded();
    expect([...(await cloud.registeredTargetIds())].sort()).toEqual(['10.0.0.1', '10.0.0.2']);
    expect([...(await cloud.registeredTargetIds())].sort()).toEqual(['10.0.0.1', '10.0.0.2']);
    live.health[tg1.TargetGroupArn!] = [health('10.0.0.1', 'healthy')]; // the deregistration delay ended
    expect([...(await cloud.registeredTargetIds())]).toEqual(['10.0.0.1']);
    expect([...(await cloud.registeredTargetIds())]).toEqual(['10.0.0.1']);
    expect(requests().map(([operation]) => operation)).toEqual(['DescribeTargetHealth', 'DescribeTargetHealth', 'DescribeTargetHealth']);
  });

  it('targetHealth reads one group', async () => {
    elbv2.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [health('10.0.0.1', 'healthy')] });
    expect(await newCloud().targetHealth(TG_ARN)).toEqual([health('10.0.0.1', 'healthy')]);
    expect(requests()).toEqual([['DescribeTargetHealth', { TargetGroupArn: TG_ARN }]]);
  });
});
