import { DescribeTagsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultsOf, lbcDefaultOptions, type RunFlags } from '../../src/cli/run-command.ts';
import { Annotations } from '../../src/core/annotations.ts';
import type { ControllerDefaults } from '../../src/core/controller-defaults.ts';
import { quoted } from '../../src/core/validation/problem.ts';
import { connect, createTestNamespace, loadBalancerServiceBody, waitForLoadBalancer, type TestEnvironment } from '../../src/testing/index.ts';
import { startTestCluster, type TestCluster } from './support/controller.ts';
import { expectRejectedWithoutWrites } from './support/rejections.ts';
import { ourResources } from './support/resources.ts';

/**
 * The LBC's --feature-gates, parsed by the run command's own options and given to a running controller, against
 * the real kube-apiserver and the emulator: EnableDefaultTagsLowPriority decides which value of a tag both
 * --default-tags and a Service set lands on the NLB; EnableIPTargetType=false turns an ip Service into a Warning
 * naming the annotation, with no AWS write.
 */
describe('service controller: --feature-gates', () => {
  let env: TestEnvironment;
  let cluster: TestCluster;
  let ns: { name: string; remove: () => Promise<void> };

  /** The flags as `run` parses them (commander, then the LBC's validation), the way they reach the manager. */
  const flags = (...argv: string[]): ControllerDefaults =>
    defaultsOf(lbcDefaultOptions(new Command()).exitOverride().parse(['--default-tags', 'team=platform,owner=lbc', ...argv], { from: 'user' }).opts<RunFlags>());

  // ip targets and no pods: a Service converges to an NLB, listener and empty target group, with no nodes.
  const createService = (name: string, annotations: Record<string, string>) =>
    env.core.createNamespacedService({ namespace: ns.name, body: loadBalancerServiceBody(name, { annotations: { [Annotations.targetType]: 'ip', ...annotations } }) });
  const nlbTags = async (name: string) => {
    const lb = await waitForLoadBalancer(env, ns.name, name, (observed) => observed.listeners.length === 1);
    const described = await env.aws.elbv2.send(new DescribeTagsCommand({ ResourceArns: [lb.arn] }));
    return Object.fromEntries((described.TagDescriptions?.[0]?.Tags ?? []).map((t) => [t.Key!, t.Value!]));
  };
  const shopTags = { [Annotations.additionalTags]: 'team=shop' };

  beforeAll(async () => {
    env = connect();
    ns = await createTestNamespace(env.core, 'gates');
    cluster = await startTestCluster(env, { controllers: ['service'], watchNamespace: ns.name, nodeSelector: 'cloud-provider-localstack/test-node=feature-gates', defaults: flags() });
  });

  afterAll(async () => {
    await cluster?.stop();
    await ns?.remove();
    await cluster?.sweep();
    env?.close();
  });

  it('EnableDefaultTagsLowPriority=true: the Service\'s team tag lands on the NLB instead of --default-tags\' one', async () => {
    // The gate off (the LBC's default): --default-tags win.
    await createService('defaults-win', shopTags);
    expect(await nlbTags('defaults-win')).toMatchObject({ team: 'platform', owner: 'lbc' });

    await cluster.restart({ defaults: flags('--feature-gates=EnableDefaultTagsLowPriority=true') });
    await createService('service-wins', shopTags);
    // A default the Service does not set stays.
    expect(await nlbTags('service-wins')).toMatchObject({ team: 'shop', owner: 'lbc' });
  });

  it('EnableIPTargetType=false: an ip Service gets a Warning naming nlb-target-type and nothing is written to AWS', async () => {
    await cluster.restart({ defaults: flags('--feature-gates', 'EnableIPTargetType=false') });
    await expectRejectedWithoutWrites(env, cluster, ns.name, [['ip-off', {}, Annotations.targetType, 'ip']], createService);
    const ours = await ourResources(env, cluster.name);
    expect([...ours.loadBalancers, ...ours.targetGroups].filter((r) => r.stack === `${ns.name}/ip-off`)).toEqual([]);
    const event = (await env.core.listNamespacedEvent({ namespace: ns.name })).items.find((e) => e.involvedObject.name === 'ip-off' && e.message?.includes(quoted('ip')));
    expect(event?.message).toContain('EnableIPTargetType');
  });
});
