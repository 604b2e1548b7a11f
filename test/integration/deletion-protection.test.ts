import { DescribeListenersCommand, DescribeLoadBalancersCommand, ModifyLoadBalancerAttributesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Annotations } from '../../src/core/annotations.ts';
import { LBC_DEFAULTS } from '../../src/core/controller-defaults.ts';
import { connect, createTestNamespace, waitFor, waitForLoadBalancer, type TestEnvironment } from '../../src/testing/index.ts';
import { startTestCluster, waitForEvent, type TestCluster } from './support/controller.ts';
import { writesSince } from './support/rejections.ts';

/**
 * deletion_protection.enabled on a Service's NLB (its attributes annotation), end to end: the emulator refuses
 * DeleteLoadBalancer for a protected NLB as ELBv2 does, and the controller does not try. Deleting the Service
 * leaves the NLB whole, with a Warning, until the Service's annotation (or the NLB itself) turns protection off.
 */
describe('deletion protection: a protected NLB outlives its Service until protection is turned off', () => {
  let env: TestEnvironment;
  let cluster: TestCluster;
  let ns: { name: string; remove: () => Promise<void> };
  const protectedAttributes = { [Annotations.attributes]: 'deletion_protection.enabled=true' };

  const createService = (name: string) =>
    env.core.createNamespacedService({
      namespace: ns.name,
      body: { metadata: { name, annotations: protectedAttributes }, spec: { type: 'LoadBalancer', ports: [{ name: 'tcp', port: 80, targetPort: 8080, protocol: 'TCP' }] } },
    });
  const annotate = (name: string, annotations: Record<string, string>) =>
    env.core.patchNamespacedService({ namespace: ns.name, name, body: { metadata: { annotations } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  const loadBalancerExists = async (arn: string) =>
    (await env.aws.elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [arn] })).catch(() => ({ LoadBalancers: [] }))).LoadBalancers?.length === 1;
  const serviceGone = async (name: string) => !(await env.core.readNamespacedService({ namespace: ns.name, name }).catch(() => undefined));

  beforeAll(async () => {
    env = connect();
    ns = await createTestNamespace(env.core, 'protect');
    cluster = await startTestCluster(env, { controllers: ['service'], watchNamespace: ns.name, nodeSelector: 'cloud-provider-localstack/test-node=protect', defaults: { ...LBC_DEFAULTS, targetType: 'ip' } });
  });

  afterAll(async () => {
    await cluster?.stop();
    await ns?.remove();
    await cluster?.sweep();
    env?.close();
  });

  it('deleting the Service: a Warning naming deletion protection, no AWS write, the NLB and its listener stay', async () => {
    await createService('kept');
    const lb = await waitForLoadBalancer(env, ns.name, 'kept', (observed) => observed.listeners.length === 1);
    await cluster.manager.idle();
    const before = cluster.manager.aws.calls.snapshot();
    await env.core.deleteNamespacedService({ namespace: ns.name, name: 'kept' });
    const event = await waitForEvent(env, ns.name, 'kept', 'DeleteLoadBalancerFailed', 'deletion protection is enabled');
    expect(event.type).toBe('Warning');
    expect(event.message).toContain(Annotations.attributes);
    expect(writesSince(cluster, before)).toEqual({});
    expect(await loadBalancerExists(lb.arn)).toBe(true);
    expect((await env.aws.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.arn }))).Listeners).toHaveLength(1);
    // The finalizer holds the Service while its NLB exists.
    expect(await serviceGone('kept')).toBe(false);

    // The Service's own word turns protection off; then the deletion goes through.
    await annotate('kept', { [Annotations.attributes]: 'deletion_protection.enabled=false' });
    await waitFor(() => serviceGone('kept'), { description: 'the Service is deleted once protection is off', timeoutMs: 60_000 });
    expect(await loadBalancerExists(lb.arn)).toBe(false);
  });

  it('protection turned off on the NLB by hand also lets the deletion through (the key is retried)', async () => {
    await createService('by-hand');
    const lb = await waitForLoadBalancer(env, ns.name, 'by-hand', (observed) => observed.listeners.length === 1);
    await env.core.deleteNamespacedService({ namespace: ns.name, name: 'by-hand' });
    await waitForEvent(env, ns.name, 'by-hand', 'DeleteLoadBalancerFailed', 'deletion protection is enabled');
    await env.aws.elbv2.send(new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: lb.arn, Attributes: [{ Key: 'deletion_protection.enabled', Value: 'false' }] }));
    await waitFor(() => serviceGone('by-hand'), { description: 'the Service is deleted once the NLB is unprotected', timeoutMs: 90_000 });
    expect(await loadBalancerExists(lb.arn)).toBe(false);
  });
});
