import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMutating } from '../../src/cloud/calls.ts';
import { LBC_DEFAULTS, type ControllerDefaults } from '../../src/core/controller-defaults.ts';
import { connect, createTestNamespace, waitForLoadBalancer, type TestEnvironment } from '../../src/testing/index.ts';
import { startTestCluster, type TestCluster } from './support/controller.ts';

/**
 * A Service that names no scheme keeps its NLB's scheme when --default-load-balancer-scheme changes, as the LBC's
 * buildLoadBalancerScheme keeps an existing NLB's: the controller restarted with the other default replaces
 * nothing and writes nothing for it; a new Service gets the new default.
 */
describe('--default-load-balancer-scheme changed: live NLBs keep their scheme', () => {
  let env: TestEnvironment;
  let cluster: TestCluster | undefined;
  let ns: { name: string; remove: () => Promise<void> };
  const withScheme = (scheme: ControllerDefaults['scheme']): ControllerDefaults => ({ ...LBC_DEFAULTS, targetType: 'ip', scheme });
  const start = (scheme: ControllerDefaults['scheme']) =>
    startTestCluster(env, { controllers: ['service'], watchNamespace: ns.name, nodeSelector: 'cloud-provider-localstack/test-node=default-scheme', defaults: withScheme(scheme) });
  const createService = (name: string) =>
    env.core.createNamespacedService({ namespace: ns.name, body: { metadata: { name }, spec: { type: 'LoadBalancer', ports: [{ name: 'tcp', port: 80, targetPort: 8080, protocol: 'TCP' }] } } });

  beforeAll(async () => {
    env = connect();
    ns = await createTestNamespace(env.core, 'scheme');
  });

  afterAll(async () => {
    await cluster?.stop();
    await ns?.remove();
    await cluster?.sweep();
    env?.close();
  });

  it('restarted with internal instead of internet-facing: the NLB stays (same ARN, internet-facing), no AWS write; a new Service is internal', async () => {
    cluster = await start('internet-facing');
    await createService('kept');
    const before = await waitForLoadBalancer(env, ns.name, 'kept', (lb) => lb.listeners.length === 1);
    expect(before.scheme).toBe('internet-facing');
    await cluster.manager.idle();

    await cluster.restart({ defaults: withScheme('internal') });
    await cluster.manager.service!.resync();
    await cluster.manager.idle();
    const writes = Object.entries(cluster.manager.aws.calls.snapshot()).filter(([key, n]) => n > 0 && isMutating(key.slice(key.indexOf(':') + 1)));
    expect(writes).toEqual([]);
    const after = await waitForLoadBalancer(env, ns.name, 'kept');
    expect([after.arn, after.scheme]).toEqual([before.arn, 'internet-facing']);
    expect((await cluster.manager.service!.planFor(`${ns.name}/kept`)).plan.actions).toEqual([]);

    await createService('fresh');
    expect((await waitForLoadBalancer(env, ns.name, 'fresh')).scheme).toBe('internal');
  });
});
