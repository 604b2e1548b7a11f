import type { V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ANNOTATION_PREFIX, Annotations } from '../../src/core/annotations.ts';
import { LBC_DEFAULTS, type ControllerDefaults } from '../../src/core/controller-defaults.ts';
import type { SubnetInfo } from '../../src/core/model.ts';
import { sourceNatIpv6PrefixesOf } from '../../src/core/ipv6-source-nat.ts';
import type { SubnetMapping } from '../../src/core/subnet-mappings.ts';
import { model as lbcModel } from './support/lbc-model.ts';
import { thrownUserError as userError } from './support/user-error.ts';

/**
 * The load balancer tables of the aws-load-balancer-controller (kubernetes-sigs/aws-load-balancer-controller
 * @225f4456, pkg/service/model_build_load_balancer_test.go and the load-balancer parts of model_builder_test.go),
 * ported case by case through buildModel: each row is named `<Go test function> "<case name>"`. The LBC's
 * builders take the scheme, ip address type and subnets as arguments; here they come from annotations (scheme,
 * ip-address-type, subnets naming the case's subnets). Cases left out are listed in docs/lbc-parity.md.
 */

const LBC_SUBNETS: SubnetInfo[] = [
  { id: 'subnet-1', zone: 'us-west-2a', vpcId: 'vpc-1', cidrBlock: '192.168.1.0/24', ipv6CidrBlocks: ['2600:1f13:837:8500::/64'], tags: {} },
  { id: 'subnet-2', zone: 'us-west-2b', vpcId: 'vpc-1', cidrBlock: '192.168.2.0/24', ipv6CidrBlocks: ['2600:1f13:837:8504::/64'], tags: {} },
];

function service(annotations: Record<string, string>, spec: Partial<NonNullable<V1Service['spec']>> = {}): V1Service {
  return {
    metadata: { namespace: 'ns', name: 'svc', uid: 'uid-1', annotations: { [Annotations.subnets]: 'subnet-1,subnet-2', ...annotations } },
    spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 30080 }], ...spec },
  };
}

const model = (annotations: Record<string, string>, defaults?: Partial<ControllerDefaults>) =>
  lbcModel(service(annotations), { subnets: LBC_SUBNETS, ...(defaults ? { defaults: { ...LBC_DEFAULTS, ...defaults } } : {}) });
const internal = { [Annotations.scheme]: 'internal' };
const facing = { [Annotations.scheme]: 'internet-facing' };
const dualstack = { [Annotations.ipAddressType]: 'dualstack' };

describe('pkg/service/model_build_load_balancer_test.go', () => {
  const accessLogs = {
    [Annotations.accessLogEnabled]: 'true',
    [Annotations.accessLogBucket]: 'nlb-bucket',
    [Annotations.accessLogPrefix]: 'bkt-pfx',
    [Annotations.crossZoneLoadBalancing]: 'true',
  };
  it.each<[string, Record<string, string>, Record<string, string>]>([
    ['Test_defaultModelBuilderTask_buildLBAttributes "Default values"', { [Annotations.type]: 'nlb-ip' }, {}],
    [
      'Test_defaultModelBuilderTask_buildLBAttributes "Annotation specified"',
      { [Annotations.type]: 'nlb-ip', ...accessLogs, [Annotations.attributes]: 'deletion_protection.enabled=true' },
      {
        'access_logs.s3.enabled': 'true',
        'access_logs.s3.bucket': 'nlb-bucket',
        'access_logs.s3.prefix': 'bkt-pfx',
        'load_balancing.cross_zone.enabled': 'true',
        'deletion_protection.enabled': 'true',
      },
    ],
    [
      'Test_defaultModelBuilderTask_buildLBAttributes "Attributes from config map annotation"',
      {
        [Annotations.attributes]:
          'access_logs.s3.enabled=true,access_logs.s3.bucket=nlb-bucket,access_logs.s3.prefix=bkt-pfx,load_balancing.cross_zone.enabled=true,deletion_protection.enabled=true,dns_record.client_routing_policy=availability_zone_affinity',
      },
      {
        'access_logs.s3.enabled': 'true',
        'access_logs.s3.bucket': 'nlb-bucket',
        'access_logs.s3.prefix': 'bkt-pfx',
        'load_balancing.cross_zone.enabled': 'true',
        'deletion_protection.enabled': 'true',
        'dns_record.client_routing_policy': 'availability_zone_affinity',
      },
    ],
    [
      'Test_defaultModelBuilderTask_buildLBAttributes "Specific config overrides config map"',
      {
        [Annotations.attributes]: 'access_logs.s3.enabled=false,access_logs.s3.bucket=nlb-bucket,access_logs.s3.prefix=bkt-pfx,load_balancing.cross_zone.enabled=true',
        [Annotations.accessLogEnabled]: 'true',
        [Annotations.accessLogBucket]: 'overridden-nlb-bucket',
        [Annotations.accessLogPrefix]: 'overridden-bkt-pfx',
        [Annotations.crossZoneLoadBalancing]: 'false',
      },
      {
        'access_logs.s3.enabled': 'true',
        'access_logs.s3.bucket': 'overridden-nlb-bucket',
        'access_logs.s3.prefix': 'overridden-bkt-pfx',
        'load_balancing.cross_zone.enabled': 'false',
      },
    ],
    // Ours, from getAnnotationSpecificLbAttributes: access-log-enabled "false" leaves the map's access_logs.* alone.
    [
      'model_build_load_balancer.go getAnnotationSpecificLbAttributes, access-log-enabled false',
      { [Annotations.attributes]: 'access_logs.s3.enabled=true,access_logs.s3.bucket=b-1', [Annotations.accessLogEnabled]: 'false', [Annotations.accessLogBucket]: 'ignored' },
      { 'access_logs.s3.enabled': 'true', 'access_logs.s3.bucket': 'b-1' },
    ],
  ])('%s', (_name, annotations, want) => {
    expect(model(annotations).loadBalancer.attributes).toEqual(want);
  });

  it('Test_defaultModelBuilderTask_buildLBAttributes "Annotation invalid"', () => {
    const error = userError(() => model({ [Annotations.type]: 'nlb-ip', ...accessLogs, [Annotations.accessLogEnabled]: 'FalSe' }));
    expect([error.field, error.value]).toEqual([`annotation ${Annotations.accessLogEnabled}`, 'FalSe']);
  });

  const subnetCase = 'Test_defaultModelBuilderTask_buildSubnetMappings';
  it.each<[string, Record<string, string>, SubnetMapping[]]>([
    [`${subnetCase} "ipv4 - with auto-assigned addresses"`, facing, [{ subnetId: 'subnet-1' }, { subnetId: 'subnet-2' }]],
    [
      `${subnetCase} "ipv4 - with EIP allocation"`,
      { ...facing, [Annotations.eipAllocations]: 'eip1, eip2' },
      [
        { subnetId: 'subnet-1', allocationId: 'eip1' },
        { subnetId: 'subnet-2', allocationId: 'eip2' },
      ],
    ],
    [
      `${subnetCase} "ipv4 - with PrivateIPv4Address"`,
      { ...internal, [Annotations.privateIpv4Addresses]: '192.168.2.1, 192.168.1.1' },
      [
        { subnetId: 'subnet-1', privateIPv4Address: '192.168.1.1' },
        { subnetId: 'subnet-2', privateIPv4Address: '192.168.2.1' },
      ],
    ],
    [
      `${subnetCase} "dualstack - with IPv6Addresses"`,
      { ...facing, ...dualstack, [Annotations.ipv6Addresses]: '2600:1f13:837:8504::1, 2600:1f13:837:8500::1' },
      [
        { subnetId: 'subnet-1', ipv6Address: '2600:1f13:837:8500::1' },
        { subnetId: 'subnet-2', ipv6Address: '2600:1f13:837:8504::1' },
      ],
    ],
    [
      `${subnetCase} "dualstack - with EIPAllocation and IPv6Addresses" (internet-facing)`,
      { ...facing, ...dualstack, [Annotations.eipAllocations]: 'eip1, eip2', [Annotations.ipv6Addresses]: '2600:1f13:837:8504::1, 2600:1f13:837:8500::1' },
      [
        { subnetId: 'subnet-1', allocationId: 'eip1', ipv6Address: '2600:1f13:837:8500::1' },
        { subnetId: 'subnet-2', allocationId: 'eip2', ipv6Address: '2600:1f13:837:8504::1' },
      ],
    ],
    [
      `${subnetCase} "dualstack - with EIPAllocation and IPv6Addresses" (internal, private IPv4)`,
      { ...internal, ...dualstack, [Annotations.privateIpv4Addresses]: '192.168.2.1, 192.168.1.1', [Annotations.ipv6Addresses]: '2600:1f13:837:8504::1, 2600:1f13:837:8500::1' },
      [
        { subnetId: 'subnet-1', privateIPv4Address: '192.168.1.1', ipv6Address: '2600:1f13:837:8500::1' },
        { subnetId: 'subnet-2', privateIPv4Address: '192.168.2.1', ipv6Address: '2600:1f13:837:8504::1' },
      ],
    ],
  ])('%s', (_name, annotations, want) => {
    const { loadBalancer } = model(annotations);
    // No fixed address: plain Subnets on CreateLoadBalancer, the same as mappings of the subnets alone.
    expect(loadBalancer.subnetMappings ?? loadBalancer.subnetIds.map((subnetId) => ({ subnetId }))).toEqual(want);
  });

  // The LBC's "ipv4 - with PrivateIPv4Address" appears twice with the same input; one row stands for both.
  it.each<[string, Record<string, string>, string, string, string]>([
    [`${subnetCase} "ipv4 - with EIP allocation: on internal load balancer"`, { ...internal, [Annotations.eipAllocations]: 'eip1, eip2' }, Annotations.eipAllocations, 'eip1, eip2', 'EIP allocations can only be set for internet facing load balancers'],
    [`${subnetCase} "ipv4 - with EIP allocation: subnet count mismatch"`, { ...facing, [Annotations.eipAllocations]: 'eip1' }, Annotations.eipAllocations, 'eip1', 'count of EIP allocations (1) and subnets (2) must match'],
    [
      `${subnetCase} "ipv4 - with PrivateIPv4Address: on internet-facing load balancer"`,
      { ...facing, [Annotations.privateIpv4Addresses]: '192.168.1.1, 192.168.2.1' },
      Annotations.privateIpv4Addresses,
      '192.168.1.1, 192.168.2.1',
      'private IPv4 addresses can only be set for internal load balancers',
    ],
    [`${subnetCase} "ipv4 - with PrivateIpv4Addresses: subnet count mismatch"`, { ...internal, [Annotations.privateIpv4Addresses]: '172.16.1.1' }, Annotations.privateIpv4Addresses, '172.16.1.1', 'count of private IPv4 addresses (1) and subnets (2) must match'],
    [
      `${subnetCase} "ipv4 - with PrivateIPv4Address: no matching IP for subnets"`,
      { ...internal, [Annotations.privateIpv4Addresses]: '192.168.1.1, 192.168.3.1' },
      Annotations.privateIpv4Addresses,
      '192.168.1.1, 192.168.3.1',
      'expect one private IPv4 address configured for subnet: subnet-2',
    ],
    [`${subnetCase} "ipv4 - with PrivateIPv4Address: invalid ip format"`, { ...internal, [Annotations.privateIpv4Addresses]: '192.168.1.1, i-am-not-an-ip' }, Annotations.privateIpv4Addresses, 'i-am-not-an-ip', 'private IPv4 addresses must be valid IP address'],
    [
      `${subnetCase} "ipv4 - with PrivateIPv4Address: invalid ipv4 format"`,
      { ...internal, [Annotations.privateIpv4Addresses]: '192.168.1.1, 2600:1f13:837:8500::1' },
      Annotations.privateIpv4Addresses,
      '2600:1f13:837:8500::1',
      'private IPv4 addresses must be valid IPv4 address',
    ],
    [
      `${subnetCase} "dualstack - with IPv6Addresses: on a ipv4 load balancer"`,
      { ...facing, [Annotations.ipv6Addresses]: '2600:1f13:837:8504::1, 2600:1f13:837:8500::1' },
      Annotations.ipv6Addresses,
      '2600:1f13:837:8504::1, 2600:1f13:837:8500::1',
      'IPv6 addresses can only be set for dualstack load balancers',
    ],
    [`${subnetCase} "dualstack - with IPv6Addresses: subnet count mismatch"`, { ...facing, ...dualstack, [Annotations.ipv6Addresses]: '2600:1f13:837:8504::1' }, Annotations.ipv6Addresses, '2600:1f13:837:8504::1', 'count of IPv6 addresses (1) and subnets (2) must match'],
    [
      `${subnetCase} "dualstack - with IPv6Addresses: no matching IP for subnets"`,
      { ...facing, ...dualstack, [Annotations.ipv6Addresses]: '2600:1f13:837:8500::1, 2600:1f13:837:8508::1' },
      Annotations.ipv6Addresses,
      '2600:1f13:837:8500::1, 2600:1f13:837:8508::1',
      'expect one IPv6 address configured for subnet: subnet-2',
    ],
    [`${subnetCase} "dualstack - with IPv6Addresses: invalid IP format" (not an address)`, { ...facing, ...dualstack, [Annotations.ipv6Addresses]: '2600:1f13:837:8504::1, i-am-not-an-ip' }, Annotations.ipv6Addresses, 'i-am-not-an-ip', 'IPv6 addresses must be valid IP address'],
    [`${subnetCase} "dualstack - with IPv6Addresses: invalid IP format" (an IPv4 address)`, { ...facing, ...dualstack, [Annotations.ipv6Addresses]: '2600:1f13:837:8504::1, 192.168.1.1' }, Annotations.ipv6Addresses, '192.168.1.1', 'IPv6 addresses must be valid IPv6 address'],
  ])('%s', (_name, annotations, annotation, value, problem) => {
    const error = userError(() => model(annotations));
    expect([error.field, error.value]).toEqual([`annotation ${annotation}`, value]);
    expect(error.message).toContain(problem);
  });

  it.each<[string, Record<string, string>, 'ipv4' | 'dualstack' | Error]>([
    ['Test_defaultModelBuildTask_buildLoadBalancerIPAddressType "ipv4_specified_expect_ipv4"', { [Annotations.ipAddressType]: 'ipv4' }, 'ipv4'],
    ['Test_defaultModelBuildTask_buildLoadBalancerIPAddressType "dualstack_specified_expect_dualstack"', dualstack, 'dualstack'],
    ['Test_defaultModelBuildTask_buildLoadBalancerIPAddressType "default_value_no_ip_address_type_specified_expect_ipv4"', { [`${ANNOTATION_PREFIX}other-annotation`]: 'somevalue' }, 'ipv4'],
    ['Test_defaultModelBuildTask_buildLoadBalancerIPAddressType "invalid_value_expect_error"', { [Annotations.ipAddressType]: 'DualStack' }, new Error('DualStack')],
  ])('%s', (_name, annotations, want) => {
    if (want instanceof Error) {
      expect(userError(() => model(annotations)).value).toBe(want.message);
      return;
    }
    expect(model(annotations).loadBalancer.ipAddressType ?? 'ipv4').toBe(want);
  });

  const tagsCase = 'Test_defaultModelBuildTask_buildAdditionalResourceTags';
  const lbTags = (annotations: Record<string, string>, defaults: Partial<ControllerDefaults>) => {
    const { 'elbv2.k8s.aws/cluster': _c, 'service.k8s.aws/stack': _s, 'service.k8s.aws/resource': _r, ...rest } = model(annotations, defaults).loadBalancer.tags;
    return rest;
  };
  it.each<[string, Record<string, string>, Partial<ControllerDefaults>, Record<string, string>]>([
    [`${tagsCase} "empty default tags, no tags annotation"`, {}, {}, {}],
    [`${tagsCase} "empty default tags, non-empty tags annotation"`, { [Annotations.additionalTags]: 'k1=v1,k2=v2' }, {}, { k1: 'v1', k2: 'v2' }],
    [`${tagsCase} "non-empty default tags, empty tags annotation"`, {}, { tags: { k3: 'v3', k4: 'v4' } }, { k3: 'v3', k4: 'v4' }],
    [`${tagsCase} "non-empty default tags, non-empty tags annotation"`, { [Annotations.additionalTags]: 'k1=v1,k2=v2,k3=v3a' }, { tags: { k3: 'v3', k4: 'v4' } }, { k1: 'v1', k2: 'v2', k3: 'v3', k4: 'v4' }],
    [`${tagsCase} "non-empty external tags, non-empty tags annotation - no collision"`, { [Annotations.additionalTags]: 'k1=v1,k2=v2,k3=v3a' }, { externalManagedTags: ['k4'] }, { k1: 'v1', k2: 'v2', k3: 'v3a' }],
  ])('%s', (_name, annotations, defaults, want) => {
    expect(lbTags(annotations, defaults)).toEqual(want);
  });

  it(`${tagsCase} "non-empty external tags, non-empty tags annotation - has collision"`, () => {
    const error = userError(() => model({ [Annotations.additionalTags]: 'k1=v1,k2=v2,k3=v3a' }, { externalManagedTags: ['k3', 'k4'] }));
    expect(error.field).toBe(`annotation ${Annotations.additionalTags}`);
    expect(error.message).toContain('external managed tag key k3 cannot be specified on Service');
  });

  // The LBC's test runs with its feature gate LBCapacityReservation on (the default).
  it.each<[string, Record<string, string>, number | undefined]>([
    ['Test_defaultModelBuilderTask_buildLbCapacity "Default value"', { [Annotations.type]: 'nlb-ip' }, undefined],
    ['Test_defaultModelBuilderTask_buildLbCapacity "Annotation specified"', { [Annotations.type]: 'nlb-ip', [Annotations.minimumCapacity]: 'CapacityUnits=3000' }, 3000],
  ])('%s', (_name, annotations, want) => {
    expect(model(annotations).loadBalancer.minimumCapacityUnits).toBe(want);
  });

  it.each([
    ['Test_defaultModelBuilderTask_buildLbCapacity "Annotation invalid"', 'InvalidUnits=3000'],
    ['Test_defaultModelBuilderTask_buildLbCapacity "Annotation invalid value"', 'CapacityUnits=invalid'],
  ])('%s', (_name, value) => {
    const error = userError(() => model({ [Annotations.type]: 'nlb-ip', [Annotations.minimumCapacity]: value }));
    expect([error.field, error.value]).toEqual([`annotation ${Annotations.minimumCapacity}`, value]);
  });
});

describe('pkg/service/model_builder_test.go Test_defaultModelBuilder_Build, the load balancer parts', () => {
  it('"Dualstack service": dualstack, internet-facing', () => {
    const { loadBalancer } = model({ [Annotations.type]: 'nlb-ip', ...dualstack, ...facing });
    expect([loadBalancer.ipAddressType, loadBalancer.scheme]).toEqual(['dualstack', 'internet-facing']);
  });

  // The case's health check (timeout 30 s, interval 10 s) is one AWS refuses (ADR 0008): left out here.
  it('"TLS and access logging annotations": legacy internal "false" is internet-facing; access logs and cross-zone', () => {
    const { loadBalancer } = model({ [Annotations.type]: 'nlb-ip', [Annotations.internal]: 'false', [Annotations.accessLogEnabled]: 'true', [Annotations.accessLogBucket]: 'nlb-bucket', [Annotations.accessLogPrefix]: 'bkt-pfx', [Annotations.crossZoneLoadBalancing]: 'true' });
    expect(loadBalancer.scheme).toBe('internet-facing');
    expect(loadBalancer.attributes).toEqual({ 'access_logs.s3.bucket': 'nlb-bucket', 'access_logs.s3.enabled': 'true', 'access_logs.s3.prefix': 'bkt-pfx', 'load_balancing.cross_zone.enabled': 'true' });
  });

  it('"default ip target": --default-target-type ip, no annotation', () => {
    const stack = model({}, { targetType: 'ip' });
    expect(stack.targetType).toBe('ip');
    expect(stack.targetGroups.map((tg) => tg.targetType)).toEqual(['ip']);
  });

  it('"Simple service with default load balancer scheme internet-facing"', () => {
    expect(model({ [Annotations.type]: 'nlb-ip' }, { scheme: 'internet-facing' }).loadBalancer.scheme).toBe('internet-facing');
  });
});

describe('model_build_load_balancer.go buildLoadBalancerSchemeViaAnnotation / buildLoadBalancerSchemeLegacyAnnotation', () => {
  it.each<[string, Record<string, string>, Partial<ControllerDefaults>, string]>([
    ['internal "true" without scheme', { [Annotations.internal]: 'true' }, { scheme: 'internet-facing' }, 'internal'],
    ['internal "false" without scheme', { [Annotations.internal]: 'false' }, {}, 'internet-facing'],
    ['internal read with strconv.ParseBool ("1")', { [Annotations.internal]: '1' }, { scheme: 'internet-facing' }, 'internal'],
    ['scheme wins over internal', { [Annotations.internal]: 'true', ...facing }, {}, 'internet-facing'],
    ['neither: --default-load-balancer-scheme', {}, { scheme: 'internet-facing' }, 'internet-facing'],
    ['neither and no flag: internal', {}, {}, 'internal'],
  ])('%s', (_name, annotations, defaults, want) => {
    expect(model(annotations, defaults).loadBalancer.scheme).toBe(want);
  });

  it('a bad internal value names the annotation (the LBC: ParseBoolAnnotation error)', () => {
    const error = userError(() => model({ [Annotations.internal]: 'yes' }));
    expect([error.field, error.value]).toEqual([`annotation ${Annotations.internal}`, 'yes']);
  });

  it('a bad internal value is not read when scheme is set (the LBC reads the legacy one only without scheme)', () => {
    expect(model({ [Annotations.internal]: 'yes', ...internal }).loadBalancer.scheme).toBe('internal');
  });

  it.each<[string, Record<string, string>, string]>([
    ['neither annotation: the existing NLB\'s scheme before the flag\'s', {}, 'internet-facing'],
    ['the scheme annotation before the existing NLB\'s', internal, 'internal'],
    ['the legacy internal annotation before the existing NLB\'s', { [Annotations.internal]: 'true' }, 'internal'],
  ])('buildLoadBalancerScheme with an existing NLB: %s', (_name, annotations, want) => {
    const stack = lbcModel(service(annotations), { subnets: LBC_SUBNETS, existingScheme: 'internet-facing', defaults: { ...LBC_DEFAULTS, scheme: 'internal' } });
    expect(stack.loadBalancer.scheme).toBe(want);
  });
});

describe('pkg/networking/subnet_resolver.go validateSubnetsIPv6CIDR (subnet_resolver_test.go "no IPv6 CIDR association")', () => {
  const ipv4Only: SubnetInfo[] = LBC_SUBNETS.map((s) => ({ ...s, ipv6CidrBlocks: [] }));
  const onSubnets = (subnets: SubnetInfo[], annotations: Record<string, string>) => lbcModel(service(annotations), { subnets });
  it('a dualstack NLB on subnets without IPv6 (the local VPC): refused, naming ip-address-type', () => {
    const error = userError(() => onSubnets(ipv4Only, dualstack));
    expect([error.field, error.value]).toEqual([`annotation ${Annotations.ipAddressType}`, 'dualstack']);
    expect(error.message).toContain('subnets [subnet-1 subnet-2] do not have an associated IPv6 CIDR block, which is required for dualstack load balancers');
  });

  it('"ipv4 LB accepts subnets without an IPv6 CIDR"', () => {
    expect(onSubnets(ipv4Only, {}).loadBalancer.subnetIds).toEqual(['subnet-1', 'subnet-2']);
  });

  it('subnets whose IPv6 blocks were not read are not judged', () => {
    const unread = LBC_SUBNETS.map(({ ipv6CidrBlocks: _unread, ...s }) => s);
    expect(onSubnets(unread, dualstack).loadBalancer.ipAddressType).toBe('dualstack');
  });
});

describe('pkg/service/model_build_load_balancer_test.go, enable-prefix-for-ipv6-source-nat and source-nat-ipv6-prefixes', () => {
  // The LBC's cases pass one subnet (subnet-1, with or without its IPv6 block), the ip address type and the
  // enable-prefix value as arguments; here they are the subnets annotation, ip-address-type and the annotation.
  const [withIpv6] = LBC_SUBNETS;
  const ipv4Only: SubnetInfo = { ...withIpv6!, ipv6CidrBlocks: [] };
  const one = { [Annotations.subnets]: 'subnet-1' };
  const on = { [Annotations.enablePrefixForIpv6SourceNat]: 'on' };
  const prefixes = (value: string) => ({ [Annotations.sourceNatIpv6Prefixes]: value });
  const onSubnets = (subnets: SubnetInfo[], annotations: Record<string, string>) => lbcModel(service(annotations), { subnets });

  const enableCase = 'Test_defaultModelBuildTask_buildLoadBalancerEnablePrefixForIpv6SourceNat';
  it.each<[string, SubnetInfo, Record<string, string>, string, string]>([
    [`${enableCase} "should error out if EnablePrefixForIpv6SourceNat is set to on for ipv4 address Type NLB"`, ipv4Only, on, 'on', 'enable-prefix-for-ipv6-source-nat annotation is only applicable to Network Load Balancers using Dualstack IP address type'],
    [
      `${enableCase} "should error out if EnablePrefixForIpv6SourceNat is set to on for dualstack NLB which doesnt have ipv6 Cidr subnet"`,
      ipv4Only,
      { ...dualstack, ...on },
      'on',
      'To enable prefix for source NAT, all associated subnets must have an IPv6 CIDR. Subnets without IPv6 CIDR: [subnet-1].',
    ],
    [
      `${enableCase} "should error out if EnablePrefixForIpv6SourceNat value is set to something else than allowed values on or off"`,
      ipv4Only,
      { ...dualstack, [Annotations.enablePrefixForIpv6SourceNat]: 'randomValue' },
      'randomValue',
      "Valid values are ['on', 'off'].",
    ],
  ])('%s', (_name, subnet, annotations, value, problem) => {
    const error = userError(() => onSubnets([subnet], { ...one, ...annotations }));
    expect([error.field, error.value]).toEqual([`annotation ${Annotations.enablePrefixForIpv6SourceNat}`, value]);
    expect(error.message).toContain(problem);
  });

  it.each([
    [`${enableCase} "should return EnablePrefixForIpv6SourceNat as on if annotation value is on"`, 'on'],
    [`${enableCase} "should return EnablePrefixForIpv6SourceNat as off if annotation value is off"`, 'off'],
  ])('%s', (_name, value) => {
    expect(onSubnets([withIpv6!], { ...one, ...dualstack, [Annotations.enablePrefixForIpv6SourceNat]: value }).loadBalancer.enablePrefixForIpv6SourceNat).toBe(value);
  });

  const mappingCase = 'Test_defaultModelBuilderTask_buildSubnetMappings';
  // A case whose one prefix is refused on a dualstack NLB with prefixes on: the row, the prefix named in the error.
  const bad = (name: string, prefix: string, problem: string): [string, Record<string, string>, string, string] => [
    `${mappingCase} "${name}"`,
    { ...dualstack, ...on, ...prefixes(prefix) },
    prefix,
    problem,
  ];
  it.each<[string, Record<string, string>, string, string]>([
    [
      `${mappingCase} "dualstack - source-nat-ipv6-prefixes - should throw error if enable-prefix-for-ipv6-source-nat is not provided or is off, but still source-nat-ipv6-prefixes is provided"`,
      { ...dualstack, ...prefixes('2600:1f13:837:8504::1/80') },
      '2600:1f13:837:8504::1/80',
      'source-nat-ipv6-prefixes annotation is only applicable if service.beta.kubernetes.io/aws-load-balancer-enable-prefix-for-ipv6-source-nat annotation is set to on.',
    ],
    [
      `${mappingCase} "dualstack - source-nat-ipv6-prefixes - should throw error if enable-prefix-for-ipv6-source-nat is not provided or is off, but still source-nat-ipv6-prefixes is provided" (off)`,
      { ...dualstack, [Annotations.enablePrefixForIpv6SourceNat]: 'off', ...prefixes('2600:1f13:837:8504::1/80') },
      '2600:1f13:837:8504::1/80',
      'is only applicable if service.beta.kubernetes.io/aws-load-balancer-enable-prefix-for-ipv6-source-nat annotation is set to on.',
    ],
    // The LBC passes enable-prefix "on" with ipv4 to the builder; through a whole model "on" on ipv4 is refused
    // first (as in the LBC's Build, which builds enable-prefix first: see "Ours" below), so it is absent here.
    [
      `${mappingCase} "dualstack - source-nat-ipv6-prefixes - should throw error if its not dualstack nlb, but source-nat-ipv6-prefixes is set"`,
      prefixes('2600:1f13:837:8504::1/80'),
      '2600:1f13:837:8504::1/80',
      'source-nat-ipv6-prefixes annotation can only be set for Network Load Balancers using Dualstack IP address type.',
    ],
    bad('dualstack - source-nat-ipv6-prefixes - should throw error if source-nat-ipv6-prefix is not a valid IPv6 CIDR -1', '2600:1f13:837:8766:6766:7987:6666:1:999/80', 'Value must be a valid IPv6 CIDR.'),
    bad('dualstack - source-nat-ipv6-prefixes - should throw error if source-nat-ipv6-prefix is not a valid IPv6 CIDR -2', '2600:1f13:837:87667::/80', 'Value must be a valid IPv6 CIDR.'),
    bad('dualstack - source-nat-ipv6-prefixes - should throw error if source-nat-ipv6-prefix is not a valid IPv6 CIDR -3', '2600:1f13:837:8766:77:789:9:9::/80', 'Value must be a valid IPv6 CIDR.'),
    bad('dualstack - source-nat-ipv6-prefixes - should throw error if source-nat-ipv6-prefix within subnet CIDR range', '2601:1f13:837:8500:009::/80', 'Value must be within subnet CIDR range: [2600:1f13:837:8500::/64]'),
    bad('dualstack - source-nat-ipv6-prefixes - should throw error if source-nat-ipv6-prefix doesnt have allowed prefix length of 80', '2600:1f13:837:8500:9::/70', 'Prefix length must be 80, but 70 is specified.'),
  ])('%s', (_name, annotations, value, problem) => {
    const error = userError(() => onSubnets([withIpv6!], { ...internal, ...one, ...annotations }));
    expect([error.field, error.value]).toEqual([`annotation ${Annotations.sourceNatIpv6Prefixes}`, value]);
    expect(error.message).toContain(problem);
  });

  it(`${mappingCase} "dualstack - source-nat-ipv6-prefixes - should throw error if its not dualstack nlb, but source-nat-ipv6-prefixes is set": the builder with "on", as the LBC calls it`, () => {
    const error = userError(() => sourceNatIpv6PrefixesOf(prefixes('2600:1f13:837:8504::1/80'), 'ipv4', 'on', [withIpv6!]));
    expect(error.message).toContain('source-nat-ipv6-prefixes annotation can only be set for Network Load Balancers using Dualstack IP address type.');
  });

  // Ours: what the LBC's tables do not cover (no case of theirs builds a mapping with a prefix).
  it.each<[string, Record<string, string>, SubnetMapping[] | undefined]>([
    [
      'one prefix per subnet in the subnets order, auto_assigned or a /80 of the subnet',
      { ...on, ...prefixes('auto_assigned, 2600:1f13:837:8504:1::/80') },
      [
        { subnetId: 'subnet-1', sourceNatIpv6Prefix: 'auto_assigned' },
        { subnetId: 'subnet-2', sourceNatIpv6Prefix: '2600:1f13:837:8504:1::/80' },
      ],
    ],
    [
      'with ipv6-addresses and EIPs: each mapping has all three',
      { ...facing, ...on, ...prefixes('2600:1f13:837:8500:1::/80, auto_assigned'), [Annotations.ipv6Addresses]: '2600:1f13:837:8504::1, 2600:1f13:837:8500::1', [Annotations.eipAllocations]: 'eip1, eip2' },
      [
        { subnetId: 'subnet-1', allocationId: 'eip1', sourceNatIpv6Prefix: '2600:1f13:837:8500:1::/80', ipv6Address: '2600:1f13:837:8500::1' },
        { subnetId: 'subnet-2', allocationId: 'eip2', sourceNatIpv6Prefix: 'auto_assigned', ipv6Address: '2600:1f13:837:8504::1' },
      ],
    ],
    ['on without prefixes: no mappings, ELBv2 assigns each subnet its prefix', on, undefined],
  ])('%s', (_name, annotations, want) => {
    const { loadBalancer } = model({ ...dualstack, ...annotations });
    expect(loadBalancer.enablePrefixForIpv6SourceNat).toBe('on');
    expect(loadBalancer.subnetMappings).toEqual(want);
  });

  it('absent: nothing in the model (ELBv2 defaults to off), as on every ipv4 NLB', () => {
    const { loadBalancer } = model({});
    expect([loadBalancer.enablePrefixForIpv6SourceNat, loadBalancer.subnetMappings]).toEqual([undefined, undefined]);
  });

  it.each<[string, Record<string, string>, string, string, string]>([
    ['"on" on an ipv4 NLB with prefixes: the enable-prefix annotation is named (the LBC builds it first)', { ...on, ...prefixes('auto_assigned, auto_assigned') }, Annotations.enablePrefixForIpv6SourceNat, 'on', 'Dualstack IP address type'],
    ['values are case-sensitive, as the LBC compares them', { ...dualstack, [Annotations.enablePrefixForIpv6SourceNat]: 'On' }, Annotations.enablePrefixForIpv6SourceNat, 'On', "Valid values are ['on', 'off']."],
    ['fewer prefixes than subnets', { ...dualstack, ...on, ...prefixes('auto_assigned') }, Annotations.sourceNatIpv6Prefixes, 'auto_assigned', 'Number of values in source-nat-ipv6-prefixes (1) must match the number of subnets (2).'],
    ['a prefix without a length', { ...dualstack, ...on, ...prefixes('auto_assigned, 2600:1f13:837:8504:1::') }, Annotations.sourceNatIpv6Prefixes, '2600:1f13:837:8504:1::', 'must be auto_assigned or an IPv6 prefix of length /80'],
    ['an IPv4 address with /80', { ...dualstack, ...on, ...prefixes('auto_assigned, 192.168.2.0/80') }, Annotations.sourceNatIpv6Prefixes, '192.168.2.0/80', 'Value must be a valid IPv6 CIDR.'],
    ['a /80 of the other subnet (order matters)', { ...dualstack, ...on, ...prefixes('2600:1f13:837:8504:1::/80, auto_assigned') }, Annotations.sourceNatIpv6Prefixes, '2600:1f13:837:8504:1::/80', 'Value must be within subnet CIDR range: [2600:1f13:837:8500::/64] (subnet-1).'],
    ['an empty list: a Warning, as for every list annotation here (docs/lbc-parity.md)', { ...dualstack, ...on, ...prefixes(' , ') }, Annotations.sourceNatIpv6Prefixes, ' , ', 'must list at least one value'],
  ])('%s', (_name, annotations, annotation, value, problem) => {
    const error = userError(() => model(annotations));
    expect([error.field, error.value]).toEqual([`annotation ${annotation}`, value]);
    expect(error.message).toContain(problem);
  });

  it('dualstack and "on" on subnets without IPv6 (the local VPC): the enable-prefix annotation is named, with every such subnet', () => {
    const error = userError(() => onSubnets(LBC_SUBNETS.map((s) => ({ ...s, ipv6CidrBlocks: [] })), { ...dualstack, ...on }));
    expect([error.field, error.value]).toEqual([`annotation ${Annotations.enablePrefixForIpv6SourceNat}`, 'on']);
    expect(error.message).toContain('Subnets without IPv6 CIDR: [subnet-1 subnet-2].');
  });
});
