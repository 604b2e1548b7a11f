import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect as connectHarness, createKwokNode, deleteNodes, uniqueName } from 'cloud-provider-localstack/testing';
import { startTestCluster, type TestCluster } from './support/controller.ts';
// --- docs/testing.md: from here on, the example a user copies (kept identical by this file) ---
import { connect, createTestNamespace, healthyTargets, podTargets, waitForLoadBalancer } from 'cloud-provider-localstack/testing';

const env = connect(); // .devenv/kubeconfig and .devenv/aws.json (or $CPL_STATE_DIR)
let ns: { name: string; remove: () => Promise<void> };

beforeAll(async () => {
  ns = await createTestNamespace(env.core, 'shop');
});
afterAll(async () => {
  await ns.remove();
  env.close();
});

it('my Service gets an internet-facing NLB on 443 whose targets are my pods', async () => {
  await env.apps.createNamespacedDeployment({
    namespace: ns.name,
    body: {
      metadata: { name: 'shop' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'shop' } },
        template: { metadata: { labels: { app: 'shop' } }, spec: { containers: [{ name: 'shop', image: 'shop:1', ports: [{ containerPort: 8443 }] }] } },
      },
    },
  });
  await env.core.createNamespacedService({
    namespace: ns.name,
    body: {
      metadata: {
        name: 'shop',
        annotations: {
          'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internet-facing',
          'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip',
        },
      },
      spec: { type: 'LoadBalancer', selector: { app: 'shop' }, ports: [{ port: 443, targetPort: 8443, protocol: 'TCP' }] },
    },
  });

  const lb = await waitForLoadBalancer(env, ns.name, 'shop', (nlb) => healthyTargets(nlb.listeners[0]).length === 2);

  expect(lb.scheme).toBe('internet-facing');
  expect(lb.listeners.map((l) => `${l.protocol}:${l.port}`)).toEqual(['TCP:443']);
  expect(healthyTargets(lb.listeners[0])).toEqual(await podTargets(env, ns.name, 'app=shop', 8443));
});
// --- end of the example ---

// Our suite runs a controller of its own (the environment's is stopped during tests), and nodes for the pods;
// registered after the example's hooks, so it starts once the example's namespace exists.
const harness = connectHarness();
let cluster: TestCluster;
const nodes = [uniqueName('example-node')];
beforeAll(async () => {
  for (const node of nodes) await createKwokNode(harness.core, node, { labels: { 'cloud-provider-localstack/test-node': 'example' } });
  cluster = await startTestCluster(harness, { watchNamespace: ns.name, nodeSelector: 'cloud-provider-localstack/test-node=example' });
});
afterAll(async () => {
  await deleteNodes(harness.core, nodes);
  await cluster.manager.idle();
  await cluster.stop();
  await cluster.sweep();
  harness.close();
});

