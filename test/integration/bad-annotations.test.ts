import { DescribeTargetGroupAttributesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Annotations } from '../../src/core/annotations.ts';
import { quoted } from '../../src/core/validation/problem.ts';
import { connect, createTestNamespace, waitFor, waitForLoadBalancer, type TestEnvironment } from '../../src/testing/index.ts';
import { startTestCluster, waitForEvent, type TestCluster } from './support/controller.ts';
import { expectRejectedWithoutWrites, writesSince as writesSinceIn, type RejectedSample } from './support/rejections.ts';
import { ourResources } from './support/resources.ts';

// Values AWS would refuse (many of which the emulator takes) never reach AWS: each is a Warning event naming the
// annotation and the value, and the controller's call counter shows no write at all, for a new Service and for
// one whose stack already converged (which keeps its last good stack).
describe('bad annotations', () => {
  let env: TestEnvironment;
  let cluster: TestCluster;
  let ns: { name: string; remove: () => Promise<void> };

  const huge = 'x'.repeat(10 * 1024);
  const http = { [Annotations.healthCheckProtocol]: 'http' };
  const samples: RejectedSample[] = [
    ['lb-bool', { [Annotations.attributes]: 'load_balancing.cross_zone.enabled=maybe' }, Annotations.attributes, 'load_balancing.cross_zone.enabled=maybe'],
    ['lb-unknown', { [Annotations.attributes]: 'no.such.attribute=true' }, Annotations.attributes, 'no.such.attribute=true'],
    ['lb-huge', { [Annotations.attributes]: `access_logs.s3.prefix=${huge}` }, Annotations.attributes, `access_logs.s3.prefix=${huge}`],
    ['tg-negative', { [Annotations.targetGroupAttributes]: 'deregistration_delay.timeout_seconds=-5' }, Annotations.targetGroupAttributes, 'deregistration_delay.timeout_seconds=-5'],
    ['tg-too-big', { [Annotations.targetGroupAttributes]: 'deregistration_delay.timeout_seconds=99999999999' }, Annotations.targetGroupAttributes, 'deregistration_delay.timeout_seconds=99999999999'],
    ['tg-sticky', { [Annotations.targetGroupAttributes]: 'stickiness.type=bogus' }, Annotations.targetGroupAttributes, 'stickiness.type=bogus'],
    ['tg-huge', { [Annotations.targetGroupAttributes]: `stickiness.type=${huge}` }, Annotations.targetGroupAttributes, `stickiness.type=${huge}`],
    ['tag-aws', { [Annotations.additionalTags]: 'aws:reserved=x' }, Annotations.additionalTags, 'aws:reserved=x'],
    ['tag-value', { [Annotations.additionalTags]: `team=${'v'.repeat(300)}` }, Annotations.additionalTags, `team=${'v'.repeat(300)}`],
    ['tag-key', { [Annotations.additionalTags]: `${'k'.repeat(200)}=x` }, Annotations.additionalTags, `${'k'.repeat(200)}=x`],
    ['label-key', { [Annotations.targetNodeLabels]: '-role=web' }, Annotations.targetNodeLabels, '-role=web'],
    ['label-value', { [Annotations.targetNodeLabels]: 'role=not valid' }, Annotations.targetNodeLabels, 'role=not valid'],
    ['hc-long', { ...http, [Annotations.healthCheckPath]: `/${'p'.repeat(1024)}` }, Annotations.healthCheckPath, `/${'p'.repeat(1024)}`],
    ['hc-ascii', { ...http, [Annotations.healthCheckPath]: '/héalth' }, Annotations.healthCheckPath, '/héalth'],
    ['hc-codes', { ...http, [Annotations.healthCheckSuccessCodes]: '600' }, Annotations.healthCheckSuccessCodes, '600'],
    // The LBC's refusals of its source NAT annotations; the last from the subnets as EC2 describes them (no IPv6 here).
    ['snat-value', { [Annotations.enablePrefixForIpv6SourceNat]: 'maybe' }, Annotations.enablePrefixForIpv6SourceNat, 'maybe'],
    ['snat-ipv4', { [Annotations.sourceNatIpv6Prefixes]: 'auto_assigned' }, Annotations.sourceNatIpv6Prefixes, 'auto_assigned'],
    ['snat-no-ipv6', { [Annotations.ipAddressType]: 'dualstack', [Annotations.enablePrefixForIpv6SourceNat]: 'on' }, Annotations.enablePrefixForIpv6SourceNat, 'on'],
    ['multi-cluster', { [Annotations.multiClusterTargetGroup]: 'cat' }, Annotations.multiClusterTargetGroup, 'cat'],
  ];

  // ip targets and no selector: a Service converges to an NLB, listener and empty target group, with no nodes.
  const createService = (name: string, annotations: Record<string, string>) =>
    env.core.createNamespacedService({
      namespace: ns.name,
      body: {
        metadata: { name, annotations: { [Annotations.targetType]: 'ip', ...annotations } },
        spec: { type: 'LoadBalancer', ports: [{ name: 'tcp', port: 80, targetPort: 8080, protocol: 'TCP' }] },
      },
    });

  const annotate = (name: string, annotations: Record<string, string | null>) =>
    env.core.patchNamespacedService({ namespace: ns.name, name, body: { metadata: { annotations } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));

  const writesSince = (before: Record<string, number>) => writesSinceIn(cluster, before);

  beforeAll(async () => {
    env = connect();
    ns = await createTestNamespace(env.core, 'badann');
    // No node controller and a node selector no node has: the Services here need none.
    cluster = await startTestCluster(env, { controllers: ['service'], watchNamespace: ns.name, nodeSelector: 'cloud-provider-localstack/test-node=bad-annotations' });
  });

  afterAll(async () => {
    await cluster?.stop();
    await ns?.remove();
    await cluster?.sweep();
    env?.close();
  });

  it('a new Service with a value AWS would refuse gets a Warning naming annotation and value, and no AWS write', async () => {
    // A 10 KB value is cut in the message, which says how long it was (under 1 KB).
    await expectRejectedWithoutWrites(env, cluster, ns.name, samples, createService);
    const ours = await ourResources(env, cluster.name);
    expect([...ours.loadBalancers, ...ours.targetGroups].filter((r) => samples.some(([name]) => r.stack === `${ns.name}/${name}`))).toEqual([]);
    for (const [name] of samples) {
      const service = await env.core.readNamespacedService({ namespace: ns.name, name });
      expect(service.metadata?.finalizers ?? []).toEqual([]);
    }
  });

  it('a converged Service made bad changes nothing in AWS, resync included, and keeps its last good stack', async () => {
    const good = { [Annotations.targetGroupAttributes]: 'deregistration_delay.timeout_seconds=30' };
    const key = `${ns.name}/steady`;
    await createService('steady', good);
    const lb = await waitForLoadBalancer(env, ns.name, 'steady', (observed) => observed.listeners.length === 1);
    await cluster.manager.idle();
    const before = cluster.manager.aws.calls.snapshot();

    const bad: [Record<string, string>, string][] = [
      [{ [Annotations.targetGroupAttributes]: 'deregistration_delay.timeout_seconds=-5' }, 'deregistration_delay.timeout_seconds=-5'],
      [{ [Annotations.additionalTags]: 'aws:reserved=x' }, 'aws:reserved=x'],
      [{ [Annotations.attributes]: 'no.such.attribute=true' }, 'no.such.attribute=true'],
      [{ ...http, [Annotations.healthCheckSuccessCodes]: '600' }, '600'],
    ];
    for (const [annotations, value] of bad) {
      await annotate('steady', annotations);
      await waitForEvent(env, ns.name, 'steady', 'SyncLoadBalancerFailed', quoted(value));
      await cluster.manager.service!.resync();
      await cluster.manager.idle();
      expect(writesSince(before)).toEqual({});
      // Back to the good annotations: the stack is what they ask for, so nothing is written either.
      await annotate('steady', { ...Object.fromEntries(Object.keys(annotations).map((key) => [key, null])), ...good });
      await waitFor(() => !cluster.manager.service!.reports.get(key)?.waiting.some((w) => w.startsWith('invalid')), { description: 'steady reconciled with good annotations' });
      await cluster.manager.idle();
    }
    expect(writesSince(before)).toEqual({});

    const after = await waitForLoadBalancer(env, ns.name, 'steady', (observed) => observed.listeners.length === 1);
    expect(after.arn).toBe(lb.arn);
    expect(after.listeners[0]!.targetGroupArn).toBe(lb.listeners[0]!.targetGroupArn);
    const attributes = await env.aws.elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: lb.listeners[0]!.targetGroupArn }));
    expect(attributes.Attributes?.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value).toBe('30');
  });
});
