import type { V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { Annotations, Tags } from '../../src/core/annotations.ts';
import { buildModel, type DesiredTargetGroup, type HealthCheck } from '../../src/core/model.ts';
import {
  backendGroup,
  buildSecurityGroups,
  managedGroupName,
  managedIngress,
  nodeRulesFor,
  sourceCidrs,
  wantsBackendGroup,
  type IngressRule,
} from '../../src/core/security-groups.ts';
import { thrownUserError as userError } from './support/user-error.ts';

const svc = (annotations: Record<string, string> = {}, spec: Partial<NonNullable<V1Service['spec']>> = {}): V1Service => ({
  metadata: { namespace: 'shop', name: 'web', uid: 'uid-1', annotations },
  spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 30080 }], ...spec },
});
const tcp80 = [{ port: 80, protocol: 'TCP' as const }];
const rule = (protocol: IngressRule['protocol'], fromPort: number, toPort: number, cidr: string): IngressRule => ({ protocol, fromPort, toPort, cidr });

// pkg/service/model_build_managed_sg_test.go, Test_buildCIDRsFromSourceRanges_buildCIDRsFromSourceRanges (prefix lists: not supported here).
describe('source CIDRs (LBC buildCIDRsFromSourceRanges)', () => {
  it.each([
    ['default IPv4', svc(), false, ['0.0.0.0/0']],
    ['default dualstack', svc({ [Annotations.ipAddressType]: 'dualstack' }), true, ['0.0.0.0/0', '::/0']],
    ['spec.loadBalancerSourceRanges first', svc({ [Annotations.sourceRanges]: '10.0.0.0/8' }, { loadBalancerSourceRanges: ['203.0.113.0/24', '198.51.100.7/32'] }), false, ['203.0.113.0/24', '198.51.100.7/32']],
    ['the annotation when the spec has none', svc({ [Annotations.sourceRanges]: '10.0.0.0/8, 192.168.0.0/16' }, { loadBalancerSourceRanges: [] }), false, ['10.0.0.0/8', '192.168.0.0/16']],
    ['IPv6 with dualstack', svc({}, { loadBalancerSourceRanges: ['2001:db8::/32'] }), true, ['2001:db8::/32']],
  ])('%s', (_name, service, dualstack, want) => {
    expect(sourceCidrs(service, dualstack)).toEqual(want);
  });

  it.each([
    ['not a CIDR in the spec', svc({}, { loadBalancerSourceRanges: ['10.0.0.300/8'] }), false, 'spec.loadBalancerSourceRanges', '10.0.0.300/8'],
    ['no prefix', svc({}, { loadBalancerSourceRanges: ['10.0.0.1'] }), false, 'spec.loadBalancerSourceRanges', '10.0.0.1'],
    ['prefix too long', svc({ [Annotations.sourceRanges]: '10.0.0.0/33' }), false, `annotation ${Annotations.sourceRanges}`, '10.0.0.0/33'],
    ['IPv6 without dualstack', svc({}, { loadBalancerSourceRanges: ['2001:db8::/32'] }), false, 'spec.loadBalancerSourceRanges', '2001:db8::/32'],
  ])('%s: a UserError naming the field and value', (_name, service, dualstack, field, value) => {
    const error = userError(() => sourceCidrs(service, dualstack));
    expect(error.field).toBe(field);
    expect(error.value).toBe(value);
  });
});

// Test_buildCIDRsFromSourceRanges_buildManagedSecurityGroupIngressPermissions (a Service port's protocol defaults to TCP here).
describe('managed group ingress (LBC buildManagedSecurityGroupIngressPermissions)', () => {
  it.each([
    ['default IPv4', svc(), ['0.0.0.0/0'], [rule('tcp', 80, 80, '0.0.0.0/0')]],
    ['default dualstack', svc(), ['0.0.0.0/0', '::/0'], [rule('tcp', 80, 80, '0.0.0.0/0'), rule('tcp', 80, 80, '::/0')]],
    ['IPv4 with ICMP for path MTU discovery', svc({ [Annotations.icmpForPathMtuDiscovery]: 'on' }), ['0.0.0.0/0'], [rule('tcp', 80, 80, '0.0.0.0/0'), rule('icmp', 3, 4, '0.0.0.0/0')]],
    [
      'dualstack with ICMP for path MTU discovery',
      svc({ [Annotations.icmpForPathMtuDiscovery]: 'on' }),
      ['0.0.0.0/0', '::/0'],
      [rule('tcp', 80, 80, '0.0.0.0/0'), rule('icmp', 3, 4, '0.0.0.0/0'), rule('tcp', 80, 80, '::/0'), rule('icmpv6', 2, 0, '::/0')],
    ],
    ['ICMP only when "on"', svc({ [Annotations.icmpForPathMtuDiscovery]: 'true' }), ['0.0.0.0/0'], [rule('tcp', 80, 80, '0.0.0.0/0')]],
  ])('%s', (_name, service, cidrs, want) => {
    expect(managedIngress(service, tcp80, cidrs)).toEqual(want);
  });

  it('every listener port × CIDR; TCP_UDP lets both protocols in', () => {
    const listeners = [{ port: 53, protocol: 'TCP_UDP' as const }, { port: 443, protocol: 'TCP' as const }, { port: 514, protocol: 'UDP' as const }];
    expect(managedIngress(svc(), listeners, ['10.0.0.0/8', '192.168.0.0/16'])).toEqual([
      rule('tcp', 53, 53, '10.0.0.0/8'), rule('udp', 53, 53, '10.0.0.0/8'), rule('tcp', 443, 443, '10.0.0.0/8'), rule('udp', 514, 514, '10.0.0.0/8'),
      rule('tcp', 53, 53, '192.168.0.0/16'), rule('udp', 53, 53, '192.168.0.0/16'), rule('tcp', 443, 443, '192.168.0.0/16'), rule('udp', 514, 514, '192.168.0.0/16'),
    ]);
  });
});

// Test_defaultModelBuildTask_buildManagedSecurityGroupTags (no default tags in this project) and the name/description.
describe('managed group name, description and tags', () => {
  const build = (annotations: Record<string, string> = {}, additionalTags: Record<string, string> = {}) =>
    buildSecurityGroups({ service: svc(annotations), clusterName: 'c1', additionalTags, listeners: tcp80, targetGroups: [] });

  it('no default tags, no annotation tags: ours only', () => {
    const managed = build()!.managed!;
    expect(managed.tags).toEqual({ [Tags.cluster]: 'c1', [Tags.stack]: 'shop/web', [Tags.resource]: 'ManagedLBSecurityGroup' });
    expect(managed.description).toBe('[k8s] Managed SecurityGroup for LoadBalancer');
  });

  it('no default tags, annotation tags: the additional tags too', () => {
    expect(build({}, { k1: 'v1', k2: 'v2' })!.managed!.tags).toMatchObject({ k1: 'v1', k2: 'v2', [Tags.cluster]: 'c1' });
  });

  it('name k8s-<ns8>-<name8>-<sha256(cluster name ns uid)[:10]>, letters and digits only', () => {
    expect(managedGroupName('c1', 'shop', 'web', 'uid-1')).toMatch(/^k8s-shop-web-[0-9a-f]{10}$/);
    expect(managedGroupName('c1', 'my-namespace-long', 'my.service_name', 'u')).toMatch(/^k8s-mynamesp-myservic-[0-9a-f]{10}$/);
    expect(managedGroupName('c1', 'shop', 'web', 'uid-1')).not.toBe(managedGroupName('c2', 'shop', 'web', 'uid-1'));
  });

  it('the backend group: k8s-traffic-<cluster>-<hash10>, tagged cluster and backend-sg', () => {
    const backend = backendGroup('my-cluster');
    expect(backend.name).toMatch(/^k8s-traffic-mycluster-[0-9a-f]{10}$/);
    expect(backend.tags).toEqual({ [Tags.cluster]: 'my-cluster', 'elbv2.k8s.aws/resource': 'backend-sg' });
    expect(backend.description).toBe('[k8s] Shared Backend SecurityGroup for LoadBalancer');
  });
});

// model_build_load_balancer.go buildLoadBalancerSecurityGroups and Test_defaultModelBuildTask_buildManageSecurityGroupRulesFlag
// (the LBC's --enable-manage-backend-security-group-rules flag is false here, as its default).
describe('which groups (LBC buildLoadBalancerSecurityGroups)', () => {
  const build = (annotations: Record<string, string>) => buildSecurityGroups({ service: svc(annotations), clusterName: 'c1', additionalTags: {}, listeners: tcp80, targetGroups: [] });

  it('no security-groups annotation: managed group and the shared backend group', () => {
    const groups = build({})!;
    expect(groups.managed).toBeDefined();
    expect(groups.backend?.name).toBe(backendGroup('c1').name);
    expect(groups.named).toEqual([]);
  });

  it.each([
    ['with no annotation and enableManageBackendSGRules=false - expect enable manage security group rules to be false', {}, false],
    ['with annotation true and enableManageBackendSGRules=false - expect override and enable manage security group rules to be true', { [Annotations.manageBackendSecurityGroupRules]: 'true' }, true],
    ['with annotation false - expect enable manage security group rules to be false', { [Annotations.manageBackendSecurityGroupRules]: 'false' }, false],
  ])('security-groups named, %s', (_name, annotations, backend) => {
    const groups = build({ [Annotations.securityGroups]: 'sg-123, frontend', ...annotations })!;
    expect(groups.managed).toBeUndefined();
    expect(groups.named).toEqual(['sg-123', 'frontend']);
    expect(groups.backend !== undefined).toBe(backend);
    expect(wantsBackendGroup(svc({ [Annotations.securityGroups]: 'sg-123', ...annotations }))).toBe(backend);
  });

  it('with invalid annotation - expect error', () => {
    const error = userError(() => build({ [Annotations.manageBackendSecurityGroupRules]: 'invalid' }));
    expect(error.field).toBe(`annotation ${Annotations.manageBackendSecurityGroupRules}`);
    expect(error.value).toBe('invalid');
  });

  it('disable-nlb-sg "true": no groups at all; anything else but a bool is an error', () => {
    expect(build({ [Annotations.disableNlbSecurityGroup]: 'true' })).toBeUndefined();
    expect(wantsBackendGroup(svc({ [Annotations.disableNlbSecurityGroup]: 'true' }))).toBe(false);
    expect(build({ [Annotations.disableNlbSecurityGroup]: 'false' })?.managed).toBeDefined();
    expect(userError(() => build({ [Annotations.disableNlbSecurityGroup]: 'yes' })).field).toBe(`annotation ${Annotations.disableNlbSecurityGroup}`);
  });

  it('ip-address-type must be ipv4 or dualstack', () => {
    expect(userError(() => build({ [Annotations.ipAddressType]: 'daulstack' })).value).toBe('daulstack');
  });
});

const check = (port = 'traffic-port'): HealthCheck => ({ protocol: 'TCP', port, intervalSeconds: 10, timeoutSeconds: 10, healthyThreshold: 3, unhealthyThreshold: 3 });
const tg = (protocol: DesiredTargetGroup['protocol'], port: number, healthPort?: string): DesiredTargetGroup => ({
  resourceId: `shop/web:${port}`, name: 'tg', protocol, port, targetType: 'instance', healthCheck: check(healthPort), attributes: {}, targets: [], tags: {},
});

// model_build_target_group.go buildTargetGroupBindingNetworking (restricted rules).
describe('node rules from the backend group', () => {
  it.each([
    ['TCP: the traffic port', [tg('TCP', 30080)], [{ protocol: 'tcp', port: 30080 }]],
    ['TCP with a numeric health-check port: that one over TCP too', [tg('TCP', 30080, '10256')], [{ protocol: 'tcp', port: 10256 }, { protocol: 'tcp', port: 30080 }]],
    ['UDP checked on the traffic port: UDP and TCP on it', [tg('UDP', 30053)], [{ protocol: 'tcp', port: 30053 }, { protocol: 'udp', port: 30053 }]],
    ['UDP checked elsewhere: UDP on the traffic port, TCP on the check port', [tg('UDP', 30053, '30080')], [{ protocol: 'tcp', port: 30080 }, { protocol: 'udp', port: 30053 }]],
    ['TCP_UDP: both', [tg('TCP_UDP', 30053, '30053')], [{ protocol: 'tcp', port: 30053 }, { protocol: 'udp', port: 30053 }]],
    ['two groups, one shared check port: each rule once', [tg('TCP', 30080, '10256'), tg('TCP', 30443, '10256')], [{ protocol: 'tcp', port: 10256 }, { protocol: 'tcp', port: 30080 }, { protocol: 'tcp', port: 30443 }]],
  ])('%s', (_name, groups, want) => {
    expect(nodeRulesFor(groups)).toEqual(want);
  });
});

describe('buildModel carries the groups', () => {
  const model = (annotations: Record<string, string>, spec: Partial<NonNullable<V1Service['spec']>> = {}, network: { cidrBlock?: string; vpcCidrs?: string[] } = {}) =>
    buildModel({
      clusterName: 'c1',
      vpcId: 'vpc-1',
      service: svc(annotations, spec),
      nodes: [],
      endpointSlices: [],
      podVpcIp: () => undefined,
      subnets: [{ id: 'subnet-a', zone: 'us-east-1a', vpcId: 'vpc-1', ...(network.cidrBlock ? { cidrBlock: network.cidrBlock } : {}), tags: { 'kubernetes.io/role/internal-elb': '1' } }],
      ...(network.vpcCidrs ? { vpcCidrs: network.vpcCidrs } : {}),
    });

  it('a new Service: managed ingress from its ports and ranges, node rules from its target groups', () => {
    const groups = model({}, { loadBalancerSourceRanges: ['203.0.113.0/24'] }).stack.securityGroups!;
    expect(groups.managed!.ingress).toEqual([rule('tcp', 80, 80, '203.0.113.0/24')]);
    expect(groups.nodeRules).toEqual([{ protocol: 'tcp', port: 30080 }]);
  });

  it('a bad range is a UserError before anything else (nothing is written)', () => {
    expect(userError(() => model({}, { loadBalancerSourceRanges: ['everyone'] })).message).toContain('spec.loadBalancerSourceRanges: invalid value "everyone"');
  });

  it('disable-nlb-sg: the stack has no groups', () => {
    expect(model({ [Annotations.disableNlbSecurityGroup]: 'true' }).stack.securityGroups).toBeUndefined();
  });

  it('disable-nlb-sg: CIDR node rules instead (internal, instance targets preserve client IPs: from the VPC); a bad range is an error', () => {
    const network = { cidrBlock: '10.0.1.0/24', vpcCidrs: ['10.0.0.0/16'] };
    const legacy = (spec: Partial<NonNullable<V1Service['spec']>> = {}, annotations: Record<string, string> = { [Annotations.disableNlbSecurityGroup]: 'true' }) => model(annotations, spec, network).stack;
    expect(legacy().legacyNodeRules).toEqual([{ protocol: 'tcp', port: 30080, cidr: '10.0.0.0/16' }]);
    expect(userError(() => legacy({ loadBalancerSourceRanges: ['everyone'] })).message).toContain('spec.loadBalancerSourceRanges: invalid value "everyone"');
    // With groups, the rules are kept for an NLB made without them (the plan uses them only then).
    expect(legacy({}, {}).legacyNodeRules).toEqual([{ protocol: 'tcp', port: 30080, cidr: '10.0.0.0/16' }]);
  });
});
