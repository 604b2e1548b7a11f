import { AllocateAddressCommand, DescribeNetworkInterfacesCommand, ReleaseAddressCommand } from '@aws-sdk/client-ec2';
import {
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeCapacityReservationCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Annotations } from '../../src/core/annotations.ts';
import { LBC_DEFAULTS, type ControllerDefaults } from '../../src/core/controller-defaults.ts';
import { portAttributesKey } from '../../src/core/target-group-attributes.ts';
import { NLB_ENI_TAG } from '../../src/dataplane/addresses.ts';
import { connect, createTestNamespace, waitFor, waitForLoadBalancer, type TestEnvironment } from '../../src/testing/index.ts';
import { startTestCluster, type TestCluster } from './support/controller.ts';
import { expectRejectedWithoutWrites, type RejectedSample } from './support/rejections.ts';

/**
 * The rest of the LBC's Service annotations and its controller-wide flags (issue 12, item 3), end to end
 * against the real kube-apiserver and the emulator: what each asks for is read back from the emulator, and a
 * bad value of each is a Warning naming annotation and value before any AWS write. The cluster runs with the
 * LBC's flags set (--default-target-type ip, so no node is needed; --default-load-balancer-scheme
 * internet-facing; --default-tags; --external-managed-tags).
 */
describe('service controller: the rest of the LBC annotations and flags', () => {
  let env: TestEnvironment;
  let cluster: TestCluster;
  let ns: { name: string; remove: () => Promise<void> };
  const allocations: string[] = [];
  const defaults: ControllerDefaults = { ...LBC_DEFAULTS, tags: { owner: 'platform' }, externalManagedTags: ['cost-center'], targetType: 'ip', scheme: 'internet-facing' };

  const createService = (name: string, annotations: Record<string, string>, ports = [{ name: 'tcp', port: 80, targetPort: 8080, protocol: 'TCP' }]) =>
    env.core.createNamespacedService({ namespace: ns.name, body: { metadata: { name, annotations }, spec: { type: 'LoadBalancer', ports } } });
  const lbAttributes = async (arn: string) => {
    const { Attributes } = await env.aws.elbv2.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: arn }));
    return Object.fromEntries((Attributes ?? []).map((a) => [a.Key!, a.Value!]));
  };
  const tgAttributes = async (arn: string) => {
    const { Attributes } = await env.aws.elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }));
    return Object.fromEntries((Attributes ?? []).map((a) => [a.Key!, a.Value!]));
  };
  const zonesOf = async (arn: string) => (await env.aws.elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [arn] }))).LoadBalancers![0]!.AvailabilityZones ?? [];

  beforeAll(async () => {
    env = connect();
    ns = await createTestNamespace(env.core, 'lbcann');
    cluster = await startTestCluster(env, { controllers: ['service'], watchNamespace: ns.name, nodeSelector: 'cloud-provider-localstack/test-node=lbc-annotations', defaults });
  });

  afterAll(async () => {
    await cluster?.stop();
    await ns?.remove();
    await cluster?.sweep();
    for (const AllocationId of allocations) await env.aws.ec2.send(new ReleaseAddressCommand({ AllocationId })).catch(() => undefined);
    env?.close();
  });

  it('cross-zone and access-log annotations win over the attributes map; the flags give scheme and tags', async () => {
    await createService('attrs', {
      [Annotations.attributes]: 'access_logs.s3.enabled=false,deletion_protection.enabled=false',
      [Annotations.crossZoneLoadBalancing]: 'true',
      [Annotations.accessLogEnabled]: 'true',
      [Annotations.accessLogBucket]: 'nlb-logs',
      [Annotations.accessLogPrefix]: 'shop',
      [Annotations.additionalTags]: 'team=shop,owner=me',
    });
    const lb = await waitForLoadBalancer(env, ns.name, 'attrs', (observed) => observed.listeners.length === 1);
    // No scheme annotation: --default-load-balancer-scheme.
    expect(lb.scheme).toBe('internet-facing');
    const attributes = await lbAttributes(lb.arn);
    expect(attributes).toMatchObject({
      'load_balancing.cross_zone.enabled': 'true',
      'access_logs.s3.enabled': 'true',
      'access_logs.s3.bucket': 'nlb-logs',
      'access_logs.s3.prefix': 'shop',
      'deletion_protection.enabled': 'false',
    });
    // --default-tags win over the Service's own.
    const { TagDescriptions } = await env.aws.elbv2.send(new DescribeTagsCommand({ ResourceArns: [lb.arn] }));
    const tags = Object.fromEntries((TagDescriptions?.[0]?.Tags ?? []).map((t) => [t.Key!, t.Value!]));
    expect(tags).toMatchObject({ owner: 'platform', team: 'shop' });
  });

  it('per-port target-group-attributes and proxy-protocol-per-target-group give each port its own group attributes', async () => {
    await createService(
      'ports',
      {
        [Annotations.targetGroupAttributes]: 'deregistration_delay.timeout_seconds=60',
        [portAttributesKey(443)]: 'deregistration_delay.timeout_seconds=30',
        [portAttributesKey(80)]: 'deregistration_delay.timeout_seconds=',
        [Annotations.proxyProtocolPerTargetGroup]: '443',
      },
      [
        { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
        { name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' },
      ],
    );
    const lb = await waitForLoadBalancer(env, ns.name, 'ports', (observed) => observed.listeners.length === 2);
    const byPort = Object.fromEntries(lb.listeners.map((l) => [l.port, l.targetGroupArn]));
    await waitFor(async () => (await tgAttributes(byPort[443]!))['proxy_protocol_v2.enabled'] === 'true', { description: 'proxy protocol on for 443' });
    expect(await tgAttributes(byPort[443]!)).toMatchObject({ 'deregistration_delay.timeout_seconds': '30', 'proxy_protocol_v2.enabled': 'true' });
    // An empty per-port value keeps the base one; proxy protocol stays off (ELBv2's default, never written: ADR 0009).
    const port80 = await tgAttributes(byPort[80]!);
    expect(port80['deregistration_delay.timeout_seconds']).toBe('60');
    expect(port80['proxy_protocol_v2.enabled'] ?? 'false').toBe('false');
  });

  it('the legacy internal annotation sets the scheme when scheme is absent, and loses to scheme', async () => {
    await createService('legacy', { [Annotations.internal]: 'true' });
    await createService('both', { [Annotations.internal]: 'true', [Annotations.scheme]: 'internet-facing' });
    expect((await waitForLoadBalancer(env, ns.name, 'legacy')).scheme).toBe('internal');
    expect((await waitForLoadBalancer(env, ns.name, 'both')).scheme).toBe('internet-facing');
  });

  it('private-ipv4-addresses and eip-allocations become the NLB addresses in their subnets', async () => {
    const privateSubnet = env.network.privateSubnets[0]!;
    const [network, prefix] = privateSubnet.cidr.split('/');
    const octets = network!.split('.').map(Number);
    // An address well inside the subnet (a /20 or larger here), away from those ENIs take first.
    const address = Number(prefix) <= 24 ? `${octets[0]}.${octets[1]}.${octets[2]! + 1}.250` : `${octets[0]}.${octets[1]}.${octets[2]}.${octets[3]! + 10}`;
    await createService('fixed-private', { [Annotations.scheme]: 'internal', [Annotations.subnets]: privateSubnet.id, [Annotations.privateIpv4Addresses]: address });

    const publicSubnet = env.network.publicSubnets[0]!;
    const eip = await env.aws.ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    allocations.push(eip.AllocationId!);
    await createService('fixed-eip', { [Annotations.subnets]: publicSubnet.id, [Annotations.eipAllocations]: eip.AllocationId! });

    const internal = await waitForLoadBalancer(env, ns.name, 'fixed-private');
    expect(await zonesOf(internal.arn)).toMatchObject([{ SubnetId: privateSubnet.id, LoadBalancerAddresses: [{ PrivateIPv4Address: address }] }]);
    // The data plane places the NLB on that address: its interface in the subnet holds it (what it answers on).
    const nlbInterfaces = async () =>
      (await env.aws.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: `tag:${NLB_ENI_TAG}`, Values: [internal.arn] }] }))).NetworkInterfaces ?? [];
    await waitFor(async () => (await nlbInterfaces()).length === 1, { description: 'the data plane made the NLB its interface' });
    expect((await nlbInterfaces()).map((eni) => [eni.SubnetId, eni.PrivateIpAddress])).toEqual([[privateSubnet.id, address]]);
    const facing = await waitForLoadBalancer(env, ns.name, 'fixed-eip');
    expect(facing.scheme).toBe('internet-facing');
    expect(await zonesOf(facing.arn)).toMatchObject([{ SubnetId: publicSubnet.id, LoadBalancerAddresses: [{ IpAddress: eip.PublicIp, AllocationId: eip.AllocationId }] }]);
  });

  it('quic-enabled-ports makes a UDP port a QUIC listener and group; minimum-load-balancer-capacity is reserved once', async () => {
    // Without security groups: AWS takes no QUIC listener on an NLB with them (refused in the model otherwise).
    const annotations = { [Annotations.quicEnabledPorts]: '443', [Annotations.disableNlbSecurityGroup]: 'true', [Annotations.minimumCapacity]: 'CapacityUnits=100' };
    await createService('quic', annotations, [{ name: 'quic', port: 443, targetPort: 8443, protocol: 'UDP' }]);
    const lb = await waitForLoadBalancer(env, ns.name, 'quic', (observed) => observed.listeners.length === 1);
    expect(lb.listeners[0]!.protocol).toBe('QUIC');
    const { TargetGroups } = await env.aws.elbv2.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: lb.arn }));
    expect(TargetGroups?.map((tg) => tg.Protocol)).toEqual(['QUIC']);
    const reservation = await env.aws.elbv2.send(new DescribeCapacityReservationCommand({ LoadBalancerArn: lb.arn }));
    expect(reservation.MinimumLoadBalancerCapacity).toEqual({ CapacityUnits: 100 });
    // Converged: the next plan reads the reservation back and has nothing to do.
    await cluster.manager.idle();
    expect((await cluster.manager.service!.planFor(`${ns.name}/quic`)).plan.actions).toEqual([]);
  });

  it('a bad value of each is a Warning naming annotation and value, before any AWS write', async () => {
    const privateSubnet = env.network.privateSubnets[0]!;
    const samples: RejectedSample[] = [
      ['bad-cross-zone', { [Annotations.crossZoneLoadBalancing]: 'maybe' }, Annotations.crossZoneLoadBalancing, 'maybe'],
      ['bad-access-log', { [Annotations.accessLogEnabled]: 'FalSe' }, Annotations.accessLogEnabled, 'FalSe'],
      ['bad-bucket', { [Annotations.accessLogEnabled]: 'true', [Annotations.accessLogBucket]: 'Not_A_Bucket' }, Annotations.accessLogBucket, 'Not_A_Bucket'],
      ['bad-port-attrs', { [portAttributesKey(80)]: 'deregistration_delay.timeout_seconds=-1' }, portAttributesKey(80), 'deregistration_delay.timeout_seconds=-1'],
      ['bad-proxy-ports', { [Annotations.proxyProtocolPerTargetGroup]: '80,http' }, Annotations.proxyProtocolPerTargetGroup, '80,http'],
      ['bad-internal', { [Annotations.internal]: 'nope' }, Annotations.internal, 'nope'],
      ['bad-eip-internal', { [Annotations.scheme]: 'internal', [Annotations.eipAllocations]: 'eipalloc-1' }, Annotations.eipAllocations, 'eipalloc-1'],
      [
        'bad-private-ip',
        { [Annotations.scheme]: 'internal', [Annotations.subnets]: privateSubnet.id, [Annotations.privateIpv4Addresses]: '192.0.2.1' },
        Annotations.privateIpv4Addresses,
        '192.0.2.1',
      ],
      ['bad-ip-type', { [Annotations.ipAddressType]: 'DualStack' }, Annotations.ipAddressType, 'DualStack'],
      ['bad-capacity', { [Annotations.minimumCapacity]: 'CapacityUnits=lots' }, Annotations.minimumCapacity, 'CapacityUnits=lots'],
      ['bad-quic', { [Annotations.quicEnabledPorts]: '80' }, Annotations.quicEnabledPorts, '80'],
      ['bad-external-tag', { [Annotations.additionalTags]: 'cost-center=a' }, Annotations.additionalTags, 'cost-center=a'],
      // The local VPC has no IPv6: a dualstack NLB is refused as AWS would refuse it (docs/emulator.md).
      ['bad-dualstack', { [Annotations.ipAddressType]: 'dualstack' }, Annotations.ipAddressType, 'dualstack'],
    ];
    // Not one write: no NLB, group or security group was created for any of them.
    await expectRejectedWithoutWrites(env, cluster, ns.name, samples, (name, annotations) => createService(name, annotations));
  });
});
