import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CreateManagedPrefixListCommand, DeleteManagedPrefixListCommand, DescribeSecurityGroupsCommand, type IpPermission } from '@aws-sdk/client-ec2';
import { DescribeListenerAttributesCommand, DescribeListenersCommand, DescribeLoadBalancersCommand, ModifyListenerAttributesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tags } from '../../src/core/annotations.ts';
import { LBC_DEFAULTS } from '../../src/core/controller-defaults.ts';
import { routerNs } from '../../src/devenv/vpc/names.ts';
import { listenerAttributesKey } from '../../src/core/listener-attributes.ts';
import { PRIVATE_LINK_ANNOTATION } from '../../src/core/private-link.ts';
import { MANAGED_SG_RESOURCE, PREFIX_LISTS_ANNOTATION } from '../../src/core/security-groups.ts';
import { connect, createTestNamespace, waitFor, waitForLoadBalancer, type TestEnvironment } from '../../src/testing/index.ts';
import { startTestCluster, waitForEvent, type TestCluster } from './support/controller.ts';
import { expectRejectedWithoutWrites, writesSince, type RejectedSample } from './support/rejections.ts';

/**
 * listener-attributes.<PROTOCOL>-<port>, security-group-prefix-lists and inbound-sg-rules-on-private-link-traffic
 * end to end against the real kube-apiserver and the emulator: each value lands and reads back (the idle timeout
 * also in the NLB data plane's connection tracking), drift is repaired, removing the annotation does what the LBC
 * does, and a bad value is a Warning before any AWS write. ip targets by default (--default-target-type ip), so
 * no node is needed. Prefix lists carrying traffic: security-group-prefix-lists-traffic.test.ts.
 */
describe('service controller: listener attributes, prefix lists, PrivateLink enforcement', () => {
  let env: TestEnvironment;
  let cluster: TestCluster;
  let ns: { name: string; remove: () => Promise<void> };
  let prefixList = '';
  const IDLE = 'tcp.idle_timeout.seconds';
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  const tcp = (...ports: number[]) => ports.map((port) => ({ name: `tcp-${port}`, port, targetPort: 8080, protocol: 'TCP' }));

  const createService = (name: string, annotations: Record<string, string>, ports = tcp(80)) =>
    env.core.createNamespacedService({ namespace: ns.name, body: { metadata: { name, annotations }, spec: { type: 'LoadBalancer', ports } } });
  /** A merge patch of annotations (null removes one). */
  const annotate = (name: string, annotations: Record<string, string | null>) =>
    env.core.patchNamespacedService({ namespace: ns.name, name, body: { metadata: { annotations } } }, mergePatch);
  const settled = async (name: string) => {
    await cluster.manager.idle();
    return (await cluster.manager.service!.planFor(`${ns.name}/${name}`)).plan.actions.map((a) => a.kind);
  };

  const listenerArn = async (lbArn: string, port: number) =>
    (await env.aws.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lbArn }))).Listeners!.find((l) => l.Port === port)!.ListenerArn!;
  const idleTimeout = async (arn: string) => {
    const { Attributes } = await env.aws.elbv2.send(new DescribeListenerAttributesCommand({ ListenerArn: arn }));
    return Attributes?.find((a) => a.Key === IDLE)?.Value;
  };
  /** The NLB data plane's forwarding table in the VPC router's namespace (a local read, no packet sent). */
  const forwarding = async () => (await promisify(execFile)('ip', ['netns', 'exec', routerNs(), 'nft', 'list', 'table', 'ip', 'cpl_nlb'])).stdout;
  const enforcement = async (lbArn: string) =>
    (await env.aws.elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [lbArn] }))).LoadBalancers![0]!.EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic;
  /** The managed group's inbound rules, as `tcp 80 from <CIDR or prefix list>`. */
  const managedIngress = async (lbArn: string) => {
    const groups = (await env.aws.elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [lbArn] }))).LoadBalancers![0]!.SecurityGroups ?? [];
    const described = (await env.aws.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: groups }))).SecurityGroups ?? [];
    const managed = described.find((g) => g.Tags?.some((t) => t.Key === Tags.resource && t.Value === MANAGED_SG_RESOURCE));
    const sources = (p: IpPermission) => [...(p.IpRanges ?? []).map((r) => r.CidrIp), ...(p.PrefixListIds ?? []).map((l) => l.PrefixListId)];
    return (managed?.IpPermissions ?? []).flatMap((p) => sources(p).map((source) => `${p.IpProtocol} ${p.FromPort} from ${source}`)).sort();
  };

  beforeAll(async () => {
    env = connect();
    ns = await createTestNamespace(env.core, 'lbclsattr');
    cluster = await startTestCluster(env, { controllers: ['service'], watchNamespace: ns.name, nodeSelector: 'cloud-provider-localstack/test-node=lbc-listener-attributes', defaults: { ...LBC_DEFAULTS, targetType: 'ip' } });
    const created = await env.aws.ec2.send(
      new CreateManagedPrefixListCommand({ PrefixListName: `${ns.name}-clients`, AddressFamily: 'IPv4', MaxEntries: 5, Entries: [{ Cidr: '198.51.100.0/24', Description: 'clients' }] }),
    );
    prefixList = created.PrefixList!.PrefixListId!;
  });

  afterAll(async () => {
    await cluster?.stop();
    await ns?.remove();
    await cluster?.sweep();
    if (prefixList) await env.aws.ec2.send(new DeleteManagedPrefixListCommand({ PrefixListId: prefixList })).catch(() => undefined);
    env?.close();
  });

  it('listener-attributes: the TCP listener it names gets the idle timeout, drift is repaired, a change applied; removed, the value stays (the LBC sets only what it is given)', async () => {
    await createService('idle', { [listenerAttributesKey('TCP', 80)]: `${IDLE}=400` }, tcp(80, 81));
    // One ip target on each port (a Service without selector: its slice is ours), so the data plane forwards them.
    await env.discovery.createNamespacedEndpointSlice({
      namespace: ns.name,
      body: {
        metadata: { name: 'idle-targets', labels: { 'kubernetes.io/service-name': 'idle' } },
        addressType: 'IPv4',
        ports: [{ name: 'tcp-80', port: 8080, protocol: 'TCP' }, { name: 'tcp-81', port: 8080, protocol: 'TCP' }],
        endpoints: [{ addresses: ['10.0.250.10'], conditions: { ready: true } }],
      },
    });
    const lb = await waitForLoadBalancer(env, ns.name, 'idle', (observed) => observed.listeners.length === 2 && observed.listeners.every((l) => l.targets.length === 1));
    const [port80, port81] = [await listenerArn(lb.arn, 80), await listenerArn(lb.arn, 81)];
    await waitFor(async () => (await idleTimeout(port80)) === '400', { description: 'idle timeout 400 on listener 80' });
    // The other listener keeps ELBv2's default.
    expect(await idleTimeout(port81)).toBe('350');
    expect(await settled('idle')).toEqual([]);
    // The data plane tracks listener 80's flows for 400 s, listener 81's for ELBv2's default.
    await waitFor(async () => /ct timeout set "tcp_400"/.test(await forwarding()), { description: 'the data plane applies 400 s' });
    expect(await forwarding()).toMatch(/ct timeout set "tcp_350"/);

    // Someone changes it behind our back: the next reconcile reads it and sets it again.
    await env.aws.elbv2.send(new ModifyListenerAttributesCommand({ ListenerArn: port80, Attributes: [{ Key: IDLE, Value: '350' }] }));
    await cluster.manager.service!.resync();
    await waitFor(async () => (await idleTimeout(port80)) === '400', { description: 'drift repaired' });

    await annotate('idle', { [listenerAttributesKey('TCP', 80)]: `${IDLE}=600` });
    await waitFor(async () => (await idleTimeout(port80)) === '600', { description: 'idle timeout 600 on listener 80' });
    await waitFor(async () => /ct timeout set "tcp_600"/.test(await forwarding()), { description: 'the data plane applies 600 s' });

    await annotate('idle', { [listenerAttributesKey('TCP', 80)]: null });
    expect(await settled('idle')).toEqual([]);
    expect(await idleTimeout(port80)).toBe('600');
  });

  it('inbound-sg-rules-on-private-link-traffic: off after the create, on when changed, left as it is when removed', async () => {
    await createService('privatelink', { [PRIVATE_LINK_ANNOTATION]: 'off' });
    const lb = await waitForLoadBalancer(env, ns.name, 'privatelink');
    await waitFor(async () => (await enforcement(lb.arn)) === 'off', { description: 'enforcement off' });
    expect(await settled('privatelink')).toEqual([]);

    await annotate('privatelink', { [PRIVATE_LINK_ANNOTATION]: 'on' });
    await waitFor(async () => (await enforcement(lb.arn)) === 'on', { description: 'enforcement on' });

    await annotate('privatelink', { [PRIVATE_LINK_ANNOTATION]: 'off' });
    await waitFor(async () => (await enforcement(lb.arn)) === 'off', { description: 'enforcement off again' });
    await annotate('privatelink', { [PRIVATE_LINK_ANNOTATION]: null });
    expect(await settled('privatelink')).toEqual([]);
    expect(await enforcement(lb.arn)).toBe('off');
  });

  it('security-group-prefix-lists: the managed group lets the list in instead of everyone; removed, everyone again', async () => {
    await createService('prefixes', { [PREFIX_LISTS_ANNOTATION]: prefixList }, tcp(80, 443));
    const lb = await waitForLoadBalancer(env, ns.name, 'prefixes', (observed) => observed.listeners.length === 2);
    await waitFor(async () => (await managedIngress(lb.arn)).length > 0, { description: 'managed group ingress' });
    expect(await managedIngress(lb.arn)).toEqual([`tcp 443 from ${prefixList}`, `tcp 80 from ${prefixList}`]);
    expect(await settled('prefixes')).toEqual([]);

    await annotate('prefixes', { [PREFIX_LISTS_ANNOTATION]: null });
    await waitFor(async () => !(await managedIngress(lb.arn)).some((rule) => rule.includes(prefixList)), { description: 'prefix list rules revoked' });
    expect(await managedIngress(lb.arn)).toEqual(['tcp 443 from 0.0.0.0/0', 'tcp 80 from 0.0.0.0/0']);
  });

  it('a bad value of each is a Warning naming annotation and value, before any AWS write', async () => {
    const samples: RejectedSample[] = [
      ['bad-listener-key', { [listenerAttributesKey('TCP', 80)]: 'tcp.keepalive=1' }, listenerAttributesKey('TCP', 80), 'tcp.keepalive=1'],
      ['bad-idle', { [listenerAttributesKey('TCP', 80)]: `${IDLE}=59` }, listenerAttributesKey('TCP', 80), `${IDLE}=59`],
      ['bad-listener-map', { [listenerAttributesKey('TCP', 80)]: IDLE }, listenerAttributesKey('TCP', 80), IDLE],
      ['bad-private-link', { [PRIVATE_LINK_ANNOTATION]: 'maybe' }, PRIVATE_LINK_ANNOTATION, 'maybe'],
      ['bad-prefix-list', { [PREFIX_LISTS_ANNOTATION]: 'sg-0123' }, PREFIX_LISTS_ANNOTATION, 'sg-0123'],
      // Well formed, but no such list in the emulator: found missing by the read before the first write.
      ['unknown-prefix-list', { [PREFIX_LISTS_ANNOTATION]: 'pl-00000000deadbeef0' }, PREFIX_LISTS_ANNOTATION, 'pl-00000000deadbeef0'],
    ];
    await expectRejectedWithoutWrites(env, cluster, ns.name, samples, (name, annotations) => createService(name, annotations));
  });

  it('a listener-attributes annotation naming no listener is a Warning and changes nothing', async () => {
    await cluster.manager.idle();
    const before = cluster.manager.aws.calls.snapshot();
    await annotate('idle', { [listenerAttributesKey('UDP', 80)]: `${IDLE}=400` });
    const event = await waitForEvent(env, ns.name, 'idle', 'UnusedListenerAttributes', listenerAttributesKey('UDP', 80));
    expect(event.type).toBe('Warning');
    expect(await settled('idle')).toEqual([]);
    expect(writesSince(cluster, before)).toEqual({});
  });
});
