import { randomBytes } from 'node:crypto';
import type { CoreV1Api, V1Node, V1Pod } from '@kubernetes/client-node';
import { waitFor } from './wait.ts';

/** A DNS-1123 name that no other test run will pick: `<prefix>-<8 hex>`. */
export const uniqueName = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

/** Creates a namespace for one test file and returns it with a function that deletes it. */
export async function createTestNamespace(core: CoreV1Api, prefix = 'test'): Promise<{ name: string; remove: () => Promise<void> }> {
  const name = uniqueName(prefix);
  await core.createNamespace({ body: { metadata: { name, labels: { 'cloud-provider-localstack/test': 'true' } } } });
  return {
    name,
    remove: async () => {
      await core.deleteNamespace({ name }).catch(() => undefined);
    },
  };
}

export interface KwokNodeOptions {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  providerID?: string;
  taints?: V1Node['spec'] extends infer S ? (S extends { taints?: infer T } ? T : never) : never;
}

/**
 * Creates a Node that kwok plays (kwok manages every Node here): it becomes Ready within a second or so and
 * takes Pods like a real kubelet would.
 */
export async function createKwokNode(core: CoreV1Api, name: string, options: KwokNodeOptions = {}): Promise<V1Node> {
  return core.createNode({
    body: {
      metadata: {
        name,
        labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok', ...options.labels },
        annotations: { 'kwok.x-k8s.io/node': 'fake', ...options.annotations },
      },
      spec: { ...(options.providerID ? { providerID: options.providerID } : {}), ...(options.taints ? { taints: options.taints } : {}) },
      status: { allocatable: { cpu: '32', memory: '256Gi', pods: '110' }, capacity: { cpu: '32', memory: '256Gi', pods: '110' } },
    },
  });
}

export async function deleteNodes(core: CoreV1Api, names: string[]): Promise<void> {
  await Promise.all(names.map((name) => core.deleteNode({ name }).catch(() => undefined)));
}

export const isNodeReady = (node: V1Node): boolean =>
  node.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ?? false;

export const isPodReady = (pod: V1Pod): boolean =>
  pod.status?.phase === 'Running' && (pod.status.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ?? false);

export interface NetworkedNodeOptions {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** `node.kubernetes.io/instance-type` (default m5.large): the node controller launches that type. */
  instanceType?: string;
  /** Set when the caller launched the instance itself (then no node controller needs to run). */
  providerID?: string;
  /** Allocatable = capacity (default 2 CPUs, 8Gi, 29 pods: an m5.large's ENI-pool addresses). */
  capacity?: { cpu: string; memory: string; pods: string };
}

/**
 * Creates a networked Node (labels `cloud-provider-localstack.io/network=vpc` and `…/ipam=enabled`): the local
 * VPC gives it a namespace at its EC2 instance's address and runs its node agent there, kube-proxy included, and
 * its pods are real processes at their ENI-pool addresses (docs/pods.md). It needs the node and ipam controllers
 * running (the instance, the pods' addresses) unless `providerID` names an instance; wait for it with
 * `waitForNetworkedNode`.
 */
export async function createNetworkedNode(core: CoreV1Api, name: string, options: NetworkedNodeOptions = {}): Promise<V1Node> {
  const capacity = options.capacity ?? { cpu: '2', memory: '8Gi', pods: '29' };
  return core.createNode({
    body: {
      metadata: {
        name,
        labels: {
          'kubernetes.io/hostname': name,
          'cloud-provider-localstack.io/network': 'vpc',
          'cloud-provider-localstack.io/ipam': 'enabled',
          'node.kubernetes.io/instance-type': options.instanceType ?? 'm5.large',
          ...options.labels,
        },
        ...(options.annotations ? { annotations: options.annotations } : {}),
      },
      ...(options.providerID ? { spec: { providerID: options.providerID } } : {}),
      status: { allocatable: capacity, capacity },
    },
  });
}

/** Waits until a networked Node is Ready with its InternalIP (its agent runs in the VPC) and returns that address. */
export async function waitForNetworkedNode(core: CoreV1Api, name: string, timeoutMs = 120_000): Promise<string> {
  return waitFor(
    async () => {
      const node = await core.readNode({ name });
      return isNodeReady(node) && node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    },
    { description: `networked node ${name} Ready in the VPC (its agent runs)`, timeoutMs },
  );
}

/** `waitForNetworkedNode` for several nodes at once (their agents start in parallel): their InternalIPs, in order. */
export async function waitForNetworkedNodes(core: CoreV1Api, names: string[], timeoutMs = 120_000): Promise<string[]> {
  return Promise.all(names.map((name) => waitForNetworkedNode(core, name, timeoutMs)));
}

/**
 * Waits until exactly `count` pods match `labelSelector` (those being deleted not counted) and all are Ready,
 * and returns them.
 */
export async function waitForReadyPods(core: CoreV1Api, namespace: string, labelSelector: string, count: number, timeoutMs = 180_000): Promise<V1Pod[]> {
  return waitFor(
    async () => {
      const pods = (await core.listNamespacedPod({ namespace, labelSelector })).items.filter((pod) => !pod.metadata?.deletionTimestamp);
      return pods.length === count && pods.every(isPodReady) && pods;
    },
    { description: `${count} ready pods ${labelSelector} in ${namespace}`, timeoutMs },
  );
}

/**
 * A test's teardown of networked nodes: deletes the namespace, waits (60 s at most, never failing) until its
 * pods are gone — their node agents stopped their processes — and only then deletes the nodes, so no pod
 * process outlives the node namespace it ran in. `namespace` may be undefined (a beforeAll that failed early).
 */
export async function removeNamespaceThenNodes(core: CoreV1Api, namespace: { name: string; remove: () => Promise<void> } | undefined, nodes: string[]): Promise<void> {
  if (namespace) {
    await namespace.remove();
    await waitFor(async () => (await core.listNamespacedPod({ namespace: namespace.name })).items.length === 0, { description: `pods of ${namespace.name} gone`, timeoutMs: 60_000 }).catch(() => undefined);
  }
  await deleteNodes(core, nodes);
}
