import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { Annotations } from '../core/annotations.ts';
import { statePaths } from '../devenv/paths.ts';
import { isConflict, isNotFound } from '../kube/objects.ts';
import { AGNHOST_IMAGE, agnhostDeployment, FAST_HEALTH_CHECK_ANNOTATIONS, loadBalancerServiceBody } from '../testing/agnhost.ts';
import { createNetworkedNode } from '../testing/kube.ts';
import { waitFor } from '../testing/wait.ts';
import { describeService, renderServiceTree } from './describe.ts';
import { inspector } from './inspector.ts';

export const DEMO_NAMESPACE = 'demo';
export const DEMO_NODES = ['demo-node-1', 'demo-node-2'];
/** Networked nodes (docs/pods.md): the vpc component runs them in namespaces of the local VPC, not kwok. */
export const NETWORK_NODE_LABEL = 'cloud-provider-localstack.io/network';
/** The Kubernetes e2e image: its pods run the real agnhost (built from the Kubernetes module). */
export const DEMO_IMAGE = AGNHOST_IMAGE;

const ignoreExisting = (error: unknown) => {
  if (!isConflict(error)) throw error;
};

/**
 * What `npm run up` shows: two networked nodes in the ENI pool, a Deployment of two agnhost pods and a
 * LoadBalancer Service; the controller gives the nodes instances and the pods VPC addresses, and the Service an
 * NLB; the nodes' agents run the pods as real processes answering at their addresses.
 * Idempotent. Returns the Service's tree as `describe service demo/web` prints it.
 */
export async function runDemo(log: (line: string) => void): Promise<string> {
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromFile(statePaths.kubeconfig);
  const core = kubeconfig.makeApiClient(CoreV1Api);
  const apps = kubeconfig.makeApiClient(AppsV1Api);
  log(`demo: namespace ${DEMO_NAMESPACE}, nodes ${DEMO_NODES.join(', ')}, Deployment and LoadBalancer Service web`);
  await core.createNamespace({ body: { metadata: { name: DEMO_NAMESPACE } } }).catch(ignoreExisting);
  for (const name of DEMO_NODES) await createNetworkedNode(core, name).catch(ignoreExisting);
  await apps
    .createNamespacedDeployment({ namespace: DEMO_NAMESPACE, body: agnhostDeployment('web', { replicas: 2, nodeSelector: { [NETWORK_NODE_LABEL]: 'vpc' }, udp: true }) })
    .catch(ignoreExisting);
  // The NLB's real health checks every 5 s, healthy after 2: the demo (and a flip) serves in ~10 s instead of
  // the 30 s of the defaults.
  const annotations = { [Annotations.targetType]: 'instance', ...FAST_HEALTH_CHECK_ANNOTATIONS };
  await core.createNamespacedService({ namespace: DEMO_NAMESPACE, body: loadBalancerServiceBody('web', { annotations }) }).catch(ignoreExisting);
  await waitFor(
    async () => {
      const service = await core.readNamespacedService({ namespace: DEMO_NAMESPACE, name: 'web' });
      return service.status?.loadBalancer?.ingress?.[0]?.hostname;
    },
    { description: 'the demo Service to get its NLB (see .devenv/logs/controller.log)', timeoutMs: 120_000 },
  );
  const manager = await inspector({ local: true });
  try {
    // Targets follow the nodes' instances; wait until both pass the data plane's health checks (through the
    // nodes' kube-proxy to the pods), so the tree shows them serving.
    const described = await waitFor(
      async () => {
        const d = await describeService(manager, `${DEMO_NAMESPACE}/web`);
        const targets = d.loadBalancers[0]?.listeners[0]?.targetGroup?.targets ?? [];
        return targets.length >= DEMO_NODES.length && targets.every((t) => t.health === 'healthy') && d;
      },
      { description: 'the demo targets to be healthy (see .devenv/logs/nlb.log)', timeoutMs: 120_000 },
    );
    return renderServiceTree(described);
  } finally {
    await manager.stop();
  }
}

/** Deletes the demo (the controller, if running, removes its NLB first through the finalizer). */
export async function removeDemo(log: (line: string) => void, timeoutMs = 60_000): Promise<void> {
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromFile(statePaths.kubeconfig);
  const core = kubeconfig.makeApiClient(CoreV1Api);
  const exists = await core.readNamespace({ name: DEMO_NAMESPACE }).then(() => true, (error: unknown) => (isNotFound(error) ? false : Promise.reject(error)));
  if (exists) {
    log(`removing the demo (namespace ${DEMO_NAMESPACE})`);
    await core.deleteNamespace({ name: DEMO_NAMESPACE }).catch(() => undefined);
    await waitFor(async () => core.readNamespace({ name: DEMO_NAMESPACE }).then(() => false, (error: unknown) => isNotFound(error)), {
      description: `namespace ${DEMO_NAMESPACE} gone`,
      timeoutMs,
    });
  }
  for (const name of DEMO_NODES) await core.deleteNode({ name }).catch(() => undefined);
}
