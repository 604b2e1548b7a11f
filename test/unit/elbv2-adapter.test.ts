import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { LoadBalancerCloud } from '../../src/cloud/elbv2.ts';
import { Annotations } from '../../src/core/annotations.ts';
import { buildModel } from '../../src/core/model.ts';
import { plan } from '../../src/core/plan.ts';

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
  return { stack, actions: plan(stack, { loadBalancers: [], listeners: [], targetGroups: [] }).actions };
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
