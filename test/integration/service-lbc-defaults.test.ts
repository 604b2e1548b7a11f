import { DescribeListenersCommand, DescribeTagsCommand, DescribeTargetGroupAttributesCommand, DescribeTargetGroupsCommand, RemoveTagsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Annotations, Tags } from '../../src/core/annotations.ts';
import { connect, createKwokNode, createTestNamespace, deleteNodes, uniqueName, waitFor, waitForLoadBalancer, type TestEnvironment } from '../../src/testing/index.ts';
import { startTestCluster, type TestCluster } from './support/controller.ts';

// Defaults and parsers the LBC has (issue 9 part 3), end to end against the real kube-apiserver and the emulator.
describe('service controller: LBC defaults', () => {
  let env: TestEnvironment;
  let cluster: TestCluster;
  let ns: { name: string; remove: () => Promise<void> };
  const node = uniqueName('lbc-node');
  const nodeLabel = { 'cloud-provider-localstack/test-node': 'lbc-defaults' };
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

  const annotate = (name: string, annotations: Record<string, string | null>) =>
    env.core.patchNamespacedService({ namespace: ns.name, name, body: { metadata: { annotations } } }, mergePatch);
  const tagsOf = async (arn: string) => {
    const described = await env.aws.elbv2.send(new DescribeTagsCommand({ ResourceArns: [arn] }));
    return Object.fromEntries((described.TagDescriptions?.[0]?.Tags ?? []).map((t) => [t.Key!, t.Value!]));
  };
  const proxyProtocolOf = async (targetGroupArn: string) => {
    const { Attributes } = await env.aws.elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: targetGroupArn }));
    return Attributes?.find((a) => a.Key === 'proxy_protocol_v2.enabled')?.Value;
  };

  beforeAll(async () => {
    env = connect();
    ns = await createTestNamespace(env.core, 'lbc');
    await createKwokNode(env.core, node, { labels: nodeLabel });
    cluster = await startTestCluster(env, { watchNamespace: ns.name, nodeSelector: 'cloud-provider-localstack/test-node=lbc-defaults' });
  });

  afterAll(async () => {
    await ns?.remove();
    await deleteNodes(env.core, [node]);
    await cluster?.stop();
    await cluster?.sweep();
    env?.close();
  });

  it('removing proxy-protocol turns proxy protocol off; listeners carry the additional tags and get them back', async () => {
    await env.core.createNamespacedService({
      namespace: ns.name,
      body: {
        metadata: { name: 'web', annotations: { [Annotations.proxyProtocol]: '*', [Annotations.additionalTags]: 'team=shop, cost-center=a=b' } },
        spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
      },
    });
    const lb = await waitForLoadBalancer(env, ns.name, 'web', (observed) => observed.listeners.length === 1);
    const targetGroupArn = lb.listeners[0]!.targetGroupArn;
    await waitFor(async () => (await proxyProtocolOf(targetGroupArn)) === 'true', { description: 'proxy protocol on' });

    const [listener] = (await env.aws.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.arn }))).Listeners ?? [];
    const listenerArn = listener!.ListenerArn!;
    expect(await tagsOf(listenerArn)).toEqual({
      [Tags.cluster]: cluster.name,
      [Tags.stack]: `${ns.name}/web`,
      [Tags.resource]: '80',
      team: 'shop',
      'cost-center': 'a=b',
    });

    await annotate('web', { [Annotations.proxyProtocol]: null });
    await waitFor(async () => (await proxyProtocolOf(targetGroupArn)) === 'false', { description: 'proxy protocol off after the annotation went' });
    // The same target group: turning proxy protocol off is an attribute change, not a new group.
    expect((await env.aws.elbv2.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: lb.arn }))).TargetGroups?.map((tg) => tg.TargetGroupArn)).toEqual([targetGroupArn]);

    // A tag removed behind our back is added again on the next reconcile (here: the Service changes).
    await env.aws.elbv2.send(new RemoveTagsCommand({ ResourceArns: [listenerArn], TagKeys: ['team'] }));
    await annotate('web', { 'example.com/touched': '1' });
    await waitFor(async () => (await tagsOf(listenerArn)).team === 'shop', { description: 'listener tag team added again' });
  });

  it('healthcheck-port names a Service port: the target group checks its nodePort', async () => {
    const created = await env.core.createNamespacedService({
      namespace: ns.name,
      body: {
        metadata: { name: 'named', annotations: { [Annotations.healthCheckPort]: 'health' } },
        spec: {
          type: 'LoadBalancer',
          selector: { app: 'named' },
          ports: [
            { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
            { name: 'health', port: 1234, targetPort: 1234, protocol: 'TCP' },
          ],
        },
      },
    });
    const healthNodePort = created.spec!.ports!.find((p) => p.name === 'health')!.nodePort!;
    const lb = await waitForLoadBalancer(env, ns.name, 'named', (observed) => observed.listeners.length === 2);
    const { TargetGroups } = await env.aws.elbv2.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: lb.arn }));
    expect(TargetGroups?.map((tg) => tg.HealthCheckPort)).toEqual([String(healthNodePort), String(healthNodePort)]);
  });
});
