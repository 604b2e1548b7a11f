import {
  agnhostDeployment,
  createNetworkedNode,
  createTestNamespace,
  removeNamespaceThenNodes,
  uniqueName,
  waitForNetworkedNode,
  waitForReadyPods,
  type TestEnvironment,
} from '../../../src/testing/index.ts';
import { startTestCluster, type TestCluster } from './controller.ts';

/** One networked node running one agnhost pod (`app=web`), watched by the file's own controllers. */
export interface NetworkedWeb {
  ns: { name: string; remove: () => Promise<void> };
  cluster: TestCluster;
  node: string;
  /** The node's VPC address. */
  nodeIp: string;
  /** Deletes the namespace, then the node (its pods' processes stopped first), then the cluster's AWS leftovers. */
  tearDown(): Promise<void>;
}

/**
 * What a traffic test of the data plane starts from: a namespace, a networked node labelled for this file only,
 * the service, node and ipam controllers on them with resyncs only when the test asks (a periodic one would
 * repair what a test breaks by hand before it is seen to matter), and one ready agnhost pod on the node.
 * Whatever was made is taken down again if a step fails.
 */
export async function startNetworkedWeb(env: TestEnvironment, prefix: string): Promise<NetworkedWeb> {
  const node = uniqueName(prefix);
  const labels = { 'cloud-provider-localstack/test-node': prefix };
  const ns = await createTestNamespace(env.core, prefix);
  let cluster: TestCluster | undefined;
  const tearDown = async () => {
    await removeNamespaceThenNodes(env.core, ns, [node]);
    await cluster?.stop();
    await cluster?.sweep();
  };
  try {
    await createNetworkedNode(env.core, node, { labels });
    cluster = await startTestCluster(env, {
      controllers: ['service', 'node', 'ipam'],
      watchNamespace: ns.name,
      nodeSelector: `cloud-provider-localstack/test-node=${prefix}`,
      resyncPeriodMs: 3_600_000,
    });
    const nodeIp = await waitForNetworkedNode(env.core, node);
    await env.apps.createNamespacedDeployment({ namespace: ns.name, body: agnhostDeployment('web', { nodeSelector: labels }) });
    await waitForReadyPods(env.core, ns.name, 'app=web', 1);
    return { ns, cluster, node, nodeIp, tearDown };
  } catch (error) {
    await tearDown().catch(() => undefined);
    throw error;
  }
}
