import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { Annotations } from '../../src/core/annotations.ts';
import { buildModel, resourceName, wantsLoadBalancer, type ModelInput, type NodeInfo, type SubnetInfo } from '../../src/core/model.ts';
import { eligibleNodes } from '../../src/core/targets.ts';
import { nodeInfo } from '../../src/core/nodes.ts';
import { thrownUserError as userError } from './support/user-error.ts';

const vpcId = 'vpc-1';
const subnets: SubnetInfo[] = [
  { id: 'subnet-pub-a', zone: 'us-east-1a', vpcId, tags: { 'kubernetes.io/role/elb': '1', 'kubernetes.io/cluster/c1': 'shared', Name: 'pub-a' } },
  { id: 'subnet-pub-b', zone: 'us-east-1b', vpcId, tags: { 'kubernetes.io/role/elb': '1' } },
  { id: 'subnet-priv-a', zone: 'us-east-1a', vpcId, tags: { 'kubernetes.io/role/internal-elb': '1', 'kubernetes.io/cluster/c1': 'shared', Name: 'priv-a' } },
  { id: 'subnet-priv-b', zone: 'us-east-1b', vpcId, tags: { 'kubernetes.io/role/internal-elb': '1', 'kubernetes.io/cluster/c1': 'owned' } },
  { id: 'subnet-priv-b2', zone: 'us-east-1b', vpcId, tags: { 'kubernetes.io/role/internal-elb': '1', 'kubernetes.io/cluster/c1': 'owned' } },
  { id: 'subnet-other', zone: 'us-east-1c', vpcId, tags: { 'kubernetes.io/role/internal-elb': '1', 'kubernetes.io/cluster/other': 'owned' } },
  { id: 'subnet-elsewhere', zone: 'us-east-1c', vpcId: 'vpc-2', tags: { 'kubernetes.io/role/internal-elb': '1' } },
];

const node = (name: string, extra: Partial<NodeInfo> = {}): NodeInfo => ({ name, instanceId: `i-${name}`, labels: {}, deleting: false, toBeDeleted: false, ...extra });

function service(annotations: Record<string, string> = {}, spec: Partial<V1Service['spec']> = {}): V1Service {
  return {
    metadata: { namespace: 'shop', name: 'web', uid: 'uid-1', annotations },
    spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 30080 }], ...spec },
  };
}

const slice = (endpoints: { ip: string; pod: string; ready?: boolean; terminating?: boolean }[], port = 8080): V1EndpointSlice => ({
  addressType: 'IPv4',
  metadata: { namespace: 'shop', name: 'web-abc', labels: { 'kubernetes.io/service-name': 'web' } },
  ports: [{ name: 'http', port, protocol: 'TCP' }],
  endpoints: endpoints.map((e) => ({
    addresses: [e.ip],
    conditions: { ready: e.ready ?? true, terminating: e.terminating ?? false },
    targetRef: { kind: 'Pod', name: e.pod, namespace: 'shop' },
  })),
});

const input = (svc: V1Service, extra: Partial<ModelInput> = {}): ModelInput => ({
  clusterName: 'c1',
  vpcId,
  service: svc,
  nodes: [node('n1'), node('n2')],
  endpointSlices: [],
  podVpcIp: () => undefined,
  subnets,
  ...extra,
});

describe('wantsLoadBalancer', () => {
  it.each([
    [{ type: 'LoadBalancer' }, true],
    [{ type: 'LoadBalancer', loadBalancerClass: 'service.k8s.aws/nlb' }, true],
    [{ type: 'LoadBalancer', loadBalancerClass: 'example.com/other' }, false],
    [{ type: 'ClusterIP' }, false],
    [{ type: 'NodePort' }, false],
  ])('%j → %s', (spec, expected) => {
    expect(wantsLoadBalancer({ spec } as V1Service)).toBe(expected);
  });
});

describe('buildModel: defaults', () => {
  const { stack, warnings } = buildModel(input(service()));

  it('is an internal NLB in one tagged private subnet per zone, other clusters and VPCs excluded', () => {
    expect(stack.loadBalancer.scheme).toBe('internal');
    expect(stack.loadBalancer.subnetIds).toEqual(['subnet-priv-a', 'subnet-priv-b']);
    expect(warnings).toEqual([]);
  });

  it('has a deterministic hashed name within 32 characters and the LBC tags', () => {
    expect(stack.loadBalancer.name).toMatch(/^k8s-shop-web-[0-9a-f]{10}$/);
    expect(stack.loadBalancer.name.length).toBeLessThanOrEqual(32);
    expect(stack.loadBalancer.tags).toEqual({ 'elbv2.k8s.aws/cluster': 'c1', 'service.k8s.aws/stack': 'shop/web', 'service.k8s.aws/resource': 'LoadBalancer' });
    expect(buildModel(input(service())).stack.loadBalancer.name).toBe(stack.loadBalancer.name);
  });

  it('has one listener and one instance target group per port, on the nodePort, with every node', () => {
    const listenerTags = { 'elbv2.k8s.aws/cluster': 'c1', 'service.k8s.aws/stack': 'shop/web', 'service.k8s.aws/resource': '80' };
    expect(stack.listeners).toEqual([{ port: 80, protocol: 'TCP', targetGroupResourceId: 'shop/web:80', tags: listenerTags }]);
    const [tg] = stack.targetGroups;
    expect(tg).toMatchObject({ resourceId: 'shop/web:80', protocol: 'TCP', port: 30080, targetType: 'instance' });
    expect(tg!.targets).toEqual([{ id: 'i-n1', port: 30080 }, { id: 'i-n2', port: 30080 }]);
    expect(tg!.healthCheck).toEqual({ protocol: 'TCP', port: 'traffic-port', intervalSeconds: 10, timeoutSeconds: 10, healthyThreshold: 3, unhealthyThreshold: 3 });
    expect(tg!.tags['service.k8s.aws/resource']).toBe('shop/web:80');
  });
});

describe('buildModel: annotations', () => {
  it('internet-facing uses the public subnets, untagged-for-cluster ones included', () => {
    const { stack } = buildModel(input(service({ [Annotations.scheme]: 'internet-facing' })));
    expect(stack.loadBalancer.subnetIds).toEqual(['subnet-pub-a', 'subnet-pub-b']);
  });

  it('subnets by ID or Name tag', () => {
    expect(buildModel(input(service({ [Annotations.subnets]: 'subnet-priv-b2, priv-a' }))).stack.loadBalancer.subnetIds).toEqual(['subnet-priv-b2', 'subnet-priv-a']);
  });

  it('ip target type registers ready endpoints on the targetPort, preferring the pod VPC IP', () => {
    const { stack } = buildModel(
      input(service({ [Annotations.targetType]: 'ip' }), {
        endpointSlices: [
          slice([
            { ip: '100.64.0.1', pod: 'a' },
            { ip: '100.64.0.2', pod: 'b' },
            { ip: '100.64.0.3', pod: 'c', ready: false, terminating: true },
          ]),
        ],
        podVpcIp: (_ns, pod) => (pod === 'a' ? '10.0.64.11' : undefined),
      }),
    );
    const [tg] = stack.targetGroups;
    expect(tg).toMatchObject({ targetType: 'ip', port: 8080 });
    expect(tg!.targets).toEqual([{ id: '10.0.64.11', port: 8080 }, { id: '100.64.0.2', port: 8080 }]);
  });

  it('a different target type yields a different target group name', () => {
    const instance = buildModel(input(service())).stack.targetGroups[0]!.name;
    const ip = buildModel(input(service({ [Annotations.targetType]: 'ip' }))).stack.targetGroups[0]!.name;
    expect(ip).not.toBe(instance);
  });

  it('TCP and UDP on one port number become one TCP_UDP listener and target group', () => {
    const { stack } = buildModel(
      input(
        service({}, {
          ports: [
            { name: 'dns-tcp', port: 53, protocol: 'TCP', nodePort: 30053, targetPort: 53 },
            { name: 'dns-udp', port: 53, protocol: 'UDP', nodePort: 30053, targetPort: 53 },
            { name: 'http', port: 80, protocol: 'TCP', nodePort: 30080, targetPort: 80 },
          ],
        }),
      ),
    );
    expect(stack.listeners.map((l) => `${l.protocol}:${l.port}`)).toEqual(['TCP_UDP:53', 'TCP:80']);
  });

  it('externalTrafficPolicy Local in instance mode checks HTTP /healthz on healthCheckNodePort', () => {
    const { stack } = buildModel(input(service({}, { externalTrafficPolicy: 'Local', healthCheckNodePort: 32000 })));
    expect(stack.targetGroups[0]!.healthCheck).toEqual({
      protocol: 'HTTP',
      port: '32000',
      path: '/healthz',
      intervalSeconds: 10,
      timeoutSeconds: 6,
      healthyThreshold: 2,
      unhealthyThreshold: 2,
      successCodes: '200-399',
    });
  });

  it('health check, attributes, tags and proxy protocol from annotations', () => {
    const { stack } = buildModel(
      input(
        service({
          [Annotations.healthCheckProtocol]: 'http',
          [Annotations.healthCheckPath]: '/ready',
          [Annotations.healthCheckInterval]: '30',
          [Annotations.attributes]: 'load_balancing.cross_zone.enabled=true',
          [Annotations.targetGroupAttributes]: 'deregistration_delay.timeout_seconds=5',
          [Annotations.additionalTags]: 'team=shop, env=dev',
          [Annotations.proxyProtocol]: '*',
          [Annotations.name]: 'my-nlb',
        }),
      ),
    );
    expect(stack.loadBalancer.name).toBe('my-nlb');
    expect(stack.loadBalancer.attributes).toEqual({ 'load_balancing.cross_zone.enabled': 'true' });
    expect(stack.loadBalancer.tags).toMatchObject({ team: 'shop', env: 'dev' });
    expect(stack.listeners[0]!.tags).toMatchObject({ team: 'shop', env: 'dev' });
    const [tg] = stack.targetGroups;
    expect(tg!.healthCheck).toMatchObject({ protocol: 'HTTP', path: '/ready', intervalSeconds: 30 });
    expect(tg!.attributes).toEqual({ 'deregistration_delay.timeout_seconds': '5', 'proxy_protocol_v2.enabled': 'true' });
  });
});

describe('buildModel: user errors name the field and the value', () => {
  it.each([
    [{ [Annotations.targetType]: 'pod' }, Annotations.targetType, 'pod'],
    [{ [Annotations.scheme]: 'public' }, Annotations.scheme, 'public'],
    [{ [Annotations.healthCheckInterval]: 'often' }, Annotations.healthCheckInterval, 'often'],
    [{ [Annotations.healthCheckPort]: '70000' }, Annotations.healthCheckPort, '70000'],
    [{ [Annotations.name]: 'this-name-is-far-too-long-for-an-nlb' }, Annotations.name, 'this-name-is-far-too-long-for-an-nlb'],
    [{ [Annotations.subnets]: 'subnet-nope' }, Annotations.subnets, 'subnet-nope'],
    [{ [Annotations.additionalTags]: 'elbv2.k8s.aws/cluster=x' }, Annotations.additionalTags, 'elbv2.k8s.aws/cluster=x'],
    [{ [Annotations.attributes]: 'novalue' }, Annotations.attributes, 'novalue'],
    [{ [Annotations.proxyProtocol]: 'v2' }, Annotations.proxyProtocol, 'v2'],
  ])('%j', (annotations, field, value) => {
    const error = userError(() => buildModel(input(service(annotations))));
    expect(error.field).toBe(`annotation ${field}`);
    expect(error.value).toBe(value);
    expect(error.message).toContain(field);
    expect(error.message).toContain(JSON.stringify(value));
  });

  it('allocateLoadBalancerNodePorts: false in instance mode', () => {
    const svc = service({}, { allocateLoadBalancerNodePorts: false, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] });
    expect(userError(() => buildModel(input(svc))).field).toBe('spec.allocateLoadBalancerNodePorts');
    // ...but fine in ip mode
    expect(() => buildModel(input({ ...svc, metadata: { ...svc.metadata, annotations: { [Annotations.targetType]: 'ip' } } }))).not.toThrow();
  });
});

describe('eligibleNodes', () => {
  it('drops deleting, excluded and to-be-deleted nodes and applies the label selector', () => {
    const nodes = [
      node('ok', { labels: { pool: 'a' } }),
      node('deleting', { deleting: true, labels: { pool: 'a' } }),
      node('excluded', { labels: { pool: 'a', 'node.kubernetes.io/exclude-from-external-load-balancers': 'true' } }),
      node('not-excluded', { labels: { pool: 'a', 'node.kubernetes.io/exclude-from-external-load-balancers': 'false' } }),
      node('autoscaled', { labels: { pool: 'a' }, toBeDeleted: true }),
      node('other-pool', { labels: { pool: 'b' } }),
    ];
    expect(eligibleNodes(nodes, { pool: 'a' }).map((n) => n.name)).toEqual(['ok', 'not-excluded']);
  });

  it("keeps only the taint that decides eligibility, so the node lifecycle's taints change nothing", () => {
    const tainted = (...keys: string[]) => nodeInfo({ metadata: { name: 'n' }, spec: { providerID: 'aws:///us-east-1a/i-1', taints: keys.map((key) => ({ key, effect: 'NoSchedule' })) } });
    expect(tainted('node.kubernetes.io/not-ready')).toEqual(tainted('node.kubernetes.io/unreachable'));
    expect(tainted('node.kubernetes.io/unreachable')).toEqual(tainted());
    expect(tainted('ToBeDeletedByClusterAutoscaler')).toMatchObject({ instanceId: 'i-1', toBeDeleted: true });
    expect(tainted()).toMatchObject({ instanceId: 'i-1', toBeDeleted: false });
  });

  it('no eligible node → an UnAvailableLoadBalancer warning', () => {
    const { warnings } = buildModel(input(service(), { nodes: [] }));
    expect(warnings.map((w) => w.reason)).toEqual(['UnAvailableLoadBalancer']);
  });
});

describe('resourceName', () => {
  it('is at most 32 characters whatever the names', () => {
    expect(resourceName('a-very-long-namespace-name', 'a-very-long-service-name', 'x').length).toBeLessThanOrEqual(32);
  });
});
