import { request, type RequestOptions } from 'node:https';
import { CoreV1Api, KubeConfig, type CoreV1Event, type V1ConfigMap } from '@kubernetes/client-node';
import { startFaultyProxy, throughProxy } from './support/faulty-proxy.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventRecorder } from '../../src/kube/events.ts';
import { startInformer, type ChangeKind, type Informer } from '../../src/kube/informer.ts';
import { addFinalizer, isNotFound, mergePatchMetadata, patchServiceStatusIngress, removeFinalizer } from '../../src/kube/objects.ts';
import { connect, createKwokNode, createTestNamespace, deleteNodes, uniqueName, waitFor, type TestEnvironment } from '../../src/testing/index.ts';

const LABEL = 'kube-adapters-test';

interface Change {
  kind: ChangeKind;
  name: string;
  value: string | undefined;
  old: string | undefined;
}


describe('Kubernetes adapters against the real apiserver', () => {
  let env: TestEnvironment;
  let namespace: { name: string; remove: () => Promise<void> };
  const informers: Informer<unknown>[] = [];

  beforeAll(async () => {
    env = connect();
    namespace = await createTestNamespace(env.core, 'kube-adapters');
  });

  afterAll(async () => {
    for (const informer of informers) informer.stop();
    await namespace?.remove();
    env?.close();
  });

  function watchConfigMaps(kc: KubeConfig, options: { relistIntervalMs?: number; log?: (msg: string, err?: unknown) => void } = {}) {
    const core = kc.makeApiClient(CoreV1Api);
    const ns = namespace.name;
    const informer = startInformer<V1ConfigMap>(
      kc,
      `/api/v1/namespaces/${ns}/configmaps`,
      () => core.listNamespacedConfigMap({ namespace: ns, labelSelector: `${LABEL}=true` }),
      { name: 'configmaps', labelSelector: `${LABEL}=true`, log: options.log ?? (() => undefined), relistIntervalMs: options.relistIntervalMs },
    );
    informers.push(informer as Informer<unknown>);
    const changes: Change[] = [];
    informer.onChange((kind, object, old) =>
      changes.push({ kind, name: object.metadata!.name!, value: object.data?.value, old: old?.data?.value }),
    );
    const seen = (kind: ChangeKind, name: string, value?: string, timeoutMs = 30_000) =>
      waitFor(() => changes.find((c) => c.kind === kind && c.name === name && (value === undefined || c.value === value)), {
        timeoutMs,
        description: `${kind} of ${name}${value ? ` with value ${value}` : ''}`,
      });
    return { informer, changes, seen };
  }

  const configMap = (name: string, value: string): V1ConfigMap => ({ metadata: { name, labels: { [LABEL]: 'true' } }, data: { value } });

  it('informer: lists, then sees add, update (with the old object) and delete', async () => {
    const ns = namespace.name;
    const early = uniqueName('early');
    await env.core.createNamespacedConfigMap({ namespace: ns, body: configMap(early, '0') });
    await env.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: uniqueName('unlabelled') } } });

    const { informer, changes, seen } = watchConfigMaps(env.kubeconfig);
    await informer.synced;
    expect(informer.list(ns).map((cm) => cm.metadata?.name)).toEqual([early]);
    // List items come without kind/apiVersion from the apiserver; the informer fills them in.
    expect(informer.get(early, ns)).toMatchObject({ kind: 'ConfigMap', apiVersion: 'v1' });
    expect(changes).toEqual([{ kind: 'add', name: early, value: '0', old: undefined }]);

    const name = uniqueName('cm');
    await env.core.createNamespacedConfigMap({ namespace: ns, body: configMap(name, '1') });
    await seen('add', name);
    // Watch objects are deserialized like list items (Dates, not strings).
    expect(informer.get(name, ns)?.metadata?.creationTimestamp).toBeInstanceOf(Date);
    // managedFields are not kept, from a list or a watch (the apiserver sends them for both).
    expect(informer.get(early, ns)?.metadata?.managedFields).toBeUndefined();
    expect(informer.get(name, ns)?.metadata?.managedFields).toBeUndefined();
    expect((await env.core.readNamespacedConfigMap({ namespace: ns, name })).metadata?.managedFields?.length).toBeGreaterThan(0);

    await env.core.replaceNamespacedConfigMap({ namespace: ns, name, body: configMap(name, '2') });
    expect(await seen('update', name)).toEqual({ kind: 'update', name, value: '2', old: '1' });
    expect(informer.get(name, ns)?.data?.value).toBe('2');

    await env.core.deleteNamespacedConfigMap({ namespace: ns, name });
    expect(await seen('delete', name)).toMatchObject({ kind: 'delete', name, old: '2' });
    expect(informer.get(name, ns)).toBeUndefined();
    expect(informer.list().map((cm) => cm.metadata?.name)).toEqual([early]);
    informer.stop();
  });

  it('informer: stopped right after its list (its watch still connecting), it leaves no watch open', async () => {
    // kube-apiserver's own count of open namespaced ConfigMap watches (other components may hold some).
    const openWatches = async () => {
      const server = new URL(env.kubeconfig.getCurrentCluster()!.server);
      const options: RequestOptions = { hostname: server.hostname, port: server.port, path: '/metrics' };
      await env.kubeconfig.applyToHTTPSOptions(options);
      const text = await new Promise<string>((resolve, reject) => {
        request(options, (response) => {
          let body = '';
          response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => resolve(body));
        }).on('error', reject).end();
      });
      const line = text.split('\n').find((l) => l.startsWith('apiserver_longrunning_requests{') && l.includes('resource="configmaps"') && l.includes('scope="namespace"') && l.includes('verb="WATCH"'));
      return Number(line?.split(' ').at(-1) ?? 0);
    };
    const before = await openWatches();
    const { informer } = watchConfigMaps(env.kubeconfig);
    await informer.synced;
    informer.stop();
    // Without the abort, the watch would stay open until its 30 s inactivity timeout.
    await waitFor(async () => (await openWatches()) <= before, { description: 'no ConfigMap watch of ours left open', timeoutMs: 10_000 });
    // ...and it was not merely late to open: it stays closed.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await openWatches()).toBeLessThanOrEqual(before);
  });

  it('informer: restarts its watch with backoff after the connection breaks', async () => {
    const ns = namespace.name;
    const proxy = await startFaultyProxy(new URL(env.kubeconfig.getCurrentCluster()!.server));
    try {
      const logs: string[] = [];
      const { informer, seen } = watchConfigMaps(throughProxy(env.kubeconfig, proxy.url), { log: (msg) => logs.push(msg) });
      await informer.synced;
      const before = uniqueName('before');
      await env.core.createNamespacedConfigMap({ namespace: ns, body: configMap(before, '1') });
      await seen('add', before);

      // Break the watch and keep the apiserver unreachable for a while: client-node's ListWatch gives up on
      // such errors; ours must come back on its own.
      proxy.refuse(true);
      proxy.breakAll();
      const during = uniqueName('during');
      await env.core.createNamespacedConfigMap({ namespace: ns, body: configMap(during, '1') });
      await env.core.replaceNamespacedConfigMap({ namespace: ns, name: before, body: configMap(before, '2') });
      await waitFor(() => logs.filter((line) => line.includes('restarting in')).length >= 2, { timeoutMs: 15_000, description: 'two restarts' });
      const delays = logs.flatMap((line) => /restarting in (\d+) ms/.exec(line)?.[1] ?? []).map(Number);
      expect(delays.slice(0, 2)).toEqual([1000, 2000]);
      proxy.refuse(false);

      await seen('add', during);
      expect(await seen('update', before, '2')).toMatchObject({ old: '1' });
      const after = uniqueName('after');
      await env.core.createNamespacedConfigMap({ namespace: ns, body: configMap(after, '1') });
      await seen('add', after);
      informer.stop();
    } finally {
      await proxy.close();
    }
  });

  it('informer: a periodic relist catches what a stalled watch missed', async () => {
    const ns = namespace.name;
    const proxy = await startFaultyProxy(new URL(env.kubeconfig.getCurrentCluster()!.server));
    try {
      const { informer, changes, seen } = watchConfigMaps(throughProxy(env.kubeconfig, proxy.url), { relistIntervalMs: 3000 });
      await informer.synced;
      const victim = uniqueName('victim');
      const changed = uniqueName('changed');
      await env.core.createNamespacedConfigMap({ namespace: ns, body: configMap(victim, '1') });
      await env.core.createNamespacedConfigMap({ namespace: ns, body: configMap(changed, '1') });
      await seen('add', victim);
      await seen('add', changed);
      const seenBefore = changes.length;

      proxy.stallAll();
      const added = uniqueName('missed');
      await env.core.createNamespacedConfigMap({ namespace: ns, body: configMap(added, '1') });
      await env.core.replaceNamespacedConfigMap({ namespace: ns, name: changed, body: configMap(changed, '2') });
      await env.core.deleteNamespacedConfigMap({ namespace: ns, name: victim });

      // Well before client-node's own 30 s inactivity timeout would reconnect the stalled watch.
      await seen('add', added, undefined, 15_000);
      expect(await seen('update', changed, '2', 1000)).toMatchObject({ old: '1' });
      await seen('delete', victim, undefined, 1000);
      // Exactly the three differences; unchanged objects produce no events on a relist.
      expect(changes.slice(seenBefore).map((c) => `${c.kind}:${c.name}`).sort()).toEqual([`add:${added}`, `delete:${victim}`, `update:${changed}`].sort());
      informer.stop();
    } finally {
      await proxy.close();
    }
  });

  it('objects: adds and removes a finalizer on a Service idempotently', async () => {
    const ns = namespace.name;
    const name = uniqueName('svc');
    await env.core.createNamespacedService({ namespace: ns, body: { metadata: { name }, spec: { ports: [{ port: 80 }] } } });
    const ref = { kind: 'Service' as const, namespace: ns, name };
    const finalizers = async () => (await env.core.readNamespacedService({ namespace: ns, name })).metadata?.finalizers ?? [];

    await addFinalizer(env.kubeconfig, ref, 'example.com/ours');
    await addFinalizer(env.kubeconfig, ref, 'example.com/ours');
    await addFinalizer(env.kubeconfig, ref, 'example.com/theirs');
    expect(await finalizers()).toEqual(['example.com/ours', 'example.com/theirs']);

    await removeFinalizer(env.kubeconfig, ref, 'example.com/ours');
    await removeFinalizer(env.kubeconfig, ref, 'example.com/ours');
    expect(await finalizers()).toEqual(['example.com/theirs']);

    // A deleted object with a finalizer stays until the last one goes; removing from a gone object is a no-op.
    await env.core.deleteNamespacedService({ namespace: ns, name });
    expect((await env.core.readNamespacedService({ namespace: ns, name })).metadata?.deletionTimestamp).toBeDefined();
    await removeFinalizer(env.kubeconfig, ref, 'example.com/theirs');
    await waitFor(async () => (await env.core.readNamespacedService({ namespace: ns, name }).then(() => false, isNotFound)) || undefined, {
      timeoutMs: 10_000,
      description: 'the Service to go',
    });
    await removeFinalizer(env.kubeconfig, ref, 'example.com/theirs');

    const error = await addFinalizer(env.kubeconfig, ref, 'example.com/ours').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(`Service ${ns}/${name} not found`);
    expect(isNotFound(error)).toBe(true);
  });

  it('objects: patches status.loadBalancer.ingress through the status subresource', async () => {
    const ns = namespace.name;
    const name = uniqueName('lb');
    // A loadBalancerClass nobody implements, so no load-balancer controller touches it meanwhile.
    await env.core.createNamespacedService({
      namespace: ns,
      body: { metadata: { name }, spec: { type: 'LoadBalancer', loadBalancerClass: 'example.com/none', ports: [{ port: 80 }] } },
    });
    const hostname = `${name}-0123456789.elb.us-east-1.localhost`;
    await patchServiceStatusIngress(env.kubeconfig, ns, name, [{ hostname }]);
    const status = await env.core.readNamespacedServiceStatus({ namespace: ns, name });
    expect(status.status?.loadBalancer?.ingress).toEqual([{ hostname }]);

    await patchServiceStatusIngress(env.kubeconfig, ns, name, []);
    const cleared = await env.core.readNamespacedServiceStatus({ namespace: ns, name });
    expect(cleared.status?.loadBalancer?.ingress ?? []).toEqual([]);

    const missing = await patchServiceStatusIngress(env.kubeconfig, ns, uniqueName('missing'), [{ hostname }]).catch((e: unknown) => e);
    expect(isNotFound(missing)).toBe(true);
  });

  it('objects: merge-patches Node labels and annotations, null removing a key', async () => {
    const name = uniqueName('kube-adapters-node');
    await createKwokNode(env.core, name, { labels: { 'example.com/remove-me': 'x' } });
    try {
      await mergePatchMetadata(env.kubeconfig, { kind: 'Node', name }, {
        labels: { 'topology.kubernetes.io/zone': 'us-east-1a', 'example.com/remove-me': null, 'example.com/untouched': undefined },
        annotations: { 'example.com/instance-id': 'i-0123456789abcdef0' },
      });
      const node = await env.core.readNode({ name });
      expect(node.metadata?.labels).toMatchObject({ 'topology.kubernetes.io/zone': 'us-east-1a', 'kubernetes.io/hostname': name });
      expect(node.metadata?.labels).not.toHaveProperty('example.com/remove-me');
      expect(node.metadata?.labels).not.toHaveProperty('example.com/untouched');
      expect(node.metadata?.annotations).toMatchObject({ 'example.com/instance-id': 'i-0123456789abcdef0' });
    } finally {
      await deleteNodes(env.core, [name]);
    }
  });

  it('events: creates an Event and folds a repeat into count 2', async () => {
    const ns = namespace.name;
    const name = uniqueName('evsvc');
    const created = await env.core.createNamespacedService({ namespace: ns, body: { metadata: { name }, spec: { ports: [{ port: 80 }] } } });
    // Objects as a list returns them: no kind/apiVersion. Controllers pass informer objects, which have them.
    const service = { ...created, kind: 'Service', apiVersion: 'v1' };
    const failures: string[] = [];
    const recorder = createEventRecorder(env.kubeconfig, 'cloud-provider-localstack-test', (msg, err) => failures.push(`${msg}: ${String(err)}`));
    const eventsFor = async (uid: string, namespace = ns): Promise<CoreV1Event[]> =>
      (await env.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.uid=${uid}` })).items;

    recorder.event(service, 'Normal', 'EnsuringLoadBalancer', 'Ensuring load balancer');
    await recorder.flush();
    const [first, ...others] = await eventsFor(created.metadata!.uid!);
    expect(others).toEqual([]);
    expect(first).toMatchObject({
      type: 'Normal',
      reason: 'EnsuringLoadBalancer',
      message: 'Ensuring load balancer',
      count: 1,
      source: { component: 'cloud-provider-localstack-test' },
      reportingComponent: 'cloud-provider-localstack-test',
      involvedObject: { kind: 'Service', apiVersion: 'v1', name, namespace: ns, uid: created.metadata!.uid, resourceVersion: created.metadata!.resourceVersion },
    });
    expect(first!.firstTimestamp).toBeInstanceOf(Date);

    recorder.event(service, 'Normal', 'EnsuringLoadBalancer', 'Ensuring load balancer');
    recorder.event(service, 'Warning', 'SyncLoadBalancerFailed', 'Error syncing load balancer: boom');
    await recorder.flush();
    const events = await eventsFor(created.metadata!.uid!);
    expect(events.map((e) => `${e.reason}:${e.count}`).sort()).toEqual(['EnsuringLoadBalancer:2', 'SyncLoadBalancerFailed:1']);
    const repeated = events.find((e) => e.reason === 'EnsuringLoadBalancer')!;
    expect(repeated.metadata.name).toBe(first!.metadata.name);
    expect(repeated.lastTimestamp!.getTime()).toBeGreaterThanOrEqual(first!.lastTimestamp!.getTime());

    // A burst of the same event before any write finished still ends as one Event.
    for (let i = 0; i < 5; i++) recorder.event(service, 'Warning', 'Burst', 'same message');
    await recorder.flush();
    const burst = (await eventsFor(created.metadata!.uid!)).filter((e) => e.reason === 'Burst');
    expect(burst.map((e) => e.count)).toEqual([5]);
    expect(failures).toEqual([]);
  });

  it('events: puts Events about cluster-scoped objects in the default namespace', async () => {
    const name = uniqueName('kube-adapters-evnode');
    const node = await createKwokNode(env.core, name);
    const recorder = createEventRecorder(env.kubeconfig, 'cloud-provider-localstack-test');
    try {
      recorder.event({ ...node, kind: 'Node', apiVersion: 'v1' }, 'Normal', 'InstanceLaunched', 'launched EC2 instance i-0');
      await recorder.flush();
      const events = (await env.core.listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.uid=${node.metadata!.uid}` })).items;
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ reason: 'InstanceLaunched', count: 1, involvedObject: { kind: 'Node', name } });
      expect(events[0]!.involvedObject.namespace).toBeUndefined();
      await Promise.all(events.map((e) => env.core.deleteNamespacedEvent({ namespace: 'default', name: e.metadata.name! })));
    } finally {
      await deleteNodes(env.core, [name]);
    }
  });

  it('events: never throws and logs failures', async () => {
    const logged: string[] = [];
    const recorder = createEventRecorder(env.kubeconfig, 'cloud-provider-localstack-test', (msg) => logged.push(msg));
    // A namespace that does not exist: the create fails with 404/403, which is logged, not thrown.
    recorder.event({ kind: 'Service', apiVersion: 'v1', metadata: { name: 'x', namespace: uniqueName('nowhere'), uid: uniqueName('uid') } }, 'Normal', 'R', 'm');
    recorder.event(undefined as never, 'Normal', 'R', 'm');
    await recorder.flush();
    expect(logged).toHaveLength(2);
  });
});
