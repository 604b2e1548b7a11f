import { PatchStrategy, setHeaderOptions, type KubernetesObject, type V1EndpointSlice, type V1Pod, type V1Service } from '@kubernetes/client-node';
import { Annotations } from '../../src/core/annotations.ts';
import { startInformer, type Informer } from '../../src/kube/informer.ts';
import { waitFor, type TestEnvironment } from '../../src/testing/index.ts';
import { mapLimit } from './measure.ts';

export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
export const SLICE_SERVICE_LABEL = 'kubernetes.io/service-name';

export interface ServiceSpec {
  name: string;
  mode: 'instance' | 'ip';
  /** Pod selector; none for Services whose EndpointSlices the bench writes itself. */
  selector?: Record<string, string>;
}

/** A 1-port (80 → 8080 TCP) LoadBalancer Service for the NLB. */
export function serviceBody(spec: ServiceSpec): V1Service {
  const annotations: Record<string, string> = { [Annotations.targetType]: spec.mode };
  return {
    metadata: { name: spec.name, annotations },
    spec: {
      type: 'LoadBalancer',
      ...(spec.selector ? { selector: spec.selector } : {}),
      // IP targets need no node port; without this 1000 Services would take a third of the node-port range.
      ...(spec.mode === 'ip' ? { allocateLoadBalancerNodePorts: false } : {}),
      ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
    },
  };
}

export async function createServices(env: TestEnvironment, namespace: string, specs: ServiceSpec[], concurrency = 32): Promise<V1Service[]> {
  return mapLimit(specs, concurrency, (spec) => env.core.createNamespacedService({ namespace, body: serviceBody(spec) }));
}

export async function createDeployment(env: TestEnvironment, namespace: string, name: string, replicas: number, nodeSelector: Record<string, string>): Promise<void> {
  await env.apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name },
      spec: {
        replicas,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { nodeSelector, terminationGracePeriodSeconds: 0, containers: [{ name: 'app', image: 'nginx', ports: [{ containerPort: 8080, name: 'http' }] }] },
        },
      },
    },
  });
}

export const scaleDeployment = (env: TestEnvironment, namespace: string, name: string, replicas: number) =>
  env.apps.patchNamespacedDeploymentScale({ namespace, name, body: { spec: { replicas } } }, mergePatch);

export const isRunning = (pod: V1Pod): boolean => pod.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp;

/** Waits until exactly `count` pods with label app=<app> run, and returns them. */
export async function waitForRunningPods(env: TestEnvironment, namespace: string, app: string, count: number, timeoutMs = 180_000): Promise<V1Pod[]> {
  return waitFor(
    async () => {
      const pods = (await env.core.listNamespacedPod({ namespace, labelSelector: `app=${app}` })).items;
      const running = pods.filter(isRunning);
      return running.length === count && pods.length === count ? running : undefined;
    },
    { description: `${count} running pods of ${namespace}/${app}`, timeoutMs, intervalMs: 500 },
  );
}

/** A namespaced informer (list + watch) from the bench's side, to timestamp what the cluster does. */
export function watchNamespaced<T extends KubernetesObject>(env: TestEnvironment, kind: 'pods' | 'services' | 'endpointslices', namespace: string): Informer<T> {
  const path = kind === 'endpointslices' ? `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices` : `/api/v1/namespaces/${namespace}/${kind}`;
  const list = () => {
    switch (kind) {
      case 'pods':
        return env.core.listNamespacedPod({ namespace });
      case 'services':
        return env.core.listNamespacedService({ namespace });
      case 'endpointslices':
        return env.discovery.listNamespacedEndpointSlice({ namespace });
    }
  };
  return startInformer<T>(env.kubeconfig, path, list as never, { name: `bench-${kind}` });
}

/** Ready endpoints of a Service's slices as `ip:port`, by the rules the Service controller uses. */
export function readyEndpoints(slices: V1EndpointSlice[]): Set<string> {
  const set = new Set<string>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    const port = slice.ports?.[0]?.port;
    if (port === undefined || port === null) continue;
    for (const endpoint of slice.endpoints ?? []) {
      if (endpoint.conditions?.ready === false || endpoint.conditions?.terminating === true) continue;
      for (const address of endpoint.addresses) set.add(`${address}:${port}`);
    }
  }
  return set;
}

/**
 * Deletes the namespace and waits (bounded) until it is gone. Finalizers of ours are stripped first: the
 * controller is stopped by then, and the AWS sweep removes what they guarded.
 */
export async function removeNamespace(env: TestEnvironment, namespace: string, timeoutMs = 180_000): Promise<void> {
  const stripFinalizers = async () => {
    const services = (await env.core.listNamespacedService({ namespace }).catch(() => ({ items: [] as V1Service[] }))).items;
    await mapLimit(
      services.filter((s) => s.metadata?.finalizers?.length),
      16,
      (s) => env.core.patchNamespacedService({ namespace, name: s.metadata!.name!, body: { metadata: { finalizers: null } } }, mergePatch).catch(() => undefined),
    );
  };
  await stripFinalizers();
  await env.core.deleteNamespace({ name: namespace }).catch(() => undefined);
  await waitFor(
    async () => {
      try {
        await env.core.readNamespace({ name: namespace });
      } catch {
        return true;
      }
      // A Service created by a controller racing the stop could still carry the finalizer.
      await stripFinalizers();
      return false;
    },
    { description: `namespace ${namespace} deleted`, timeoutMs, intervalMs: 1000 },
  );
}
