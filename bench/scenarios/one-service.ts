import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { POD_IPS_ANNOTATION } from '../../src/core/ipam/keys.ts';
import { healthyTargets, waitForLoadBalancer } from '../../src/testing/index.ts';
import { converged, type InProcessController, type Processed } from '../lib/controller.ts';
import { createDeployment, createServices, SLICE_SERVICE_LABEL, waitForRunningPods, watchNamespaced } from '../lib/kube.ts';
import { openWindow, prefixed, round } from '../lib/measure.ts';
import { mirrorTargets, targetKey, type TargetMirror } from '../lib/targets.ts';
import { defineScenario, type Figures } from '../lib/types.ts';

/**
 * The first reconcile of `key` after t0 that left it converged with exactly the expected target IDs registered.
 * (A reconcile can leave an IP-mode Service converged with no target at all: its EndpointSlice came later.)
 */
function convergedWithTargets(controller: InProcessController, mirror: TargetMirror, key: string, t0: number, ids: string[], timeoutMs = 120_000): Promise<number> {
  const want = targetKey(ids);
  const done = (event: Processed) => event.key === key && event.at >= t0 && converged(event) && targetKey([...mirror.targets(key)].map((t) => t.split(':')[0]!)) === want;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${key} to converge with targets ${want}`));
    }, timeoutMs);
    const off = controller.onProcessed((event) => {
      if (!done(event)) return;
      clearTimeout(timer);
      off();
      resolve(event.at);
    });
  });
}

/**
 * One 1-port Service over 3 ENI-pool nodes (a pod on each), first in instance mode, then in IP mode, each
 * against an idle controller. Time runs from the create request until the end of the first reconcile that
 * leaves the Service converged (listener in place, nothing to wait for, status hostname set) with every target
 * registered (followed from the controller's own RegisterTargets calls). The NLB is then checked from the
 * bench's own AWS client: active, every target healthy. The wall time to convergence splits into time with an
 * AWS call in flight (the emulator) and time without (the controller, the Kubernetes API, the EndpointSlice
 * controller).
 */
export default defineScenario({
  name: 'one-service',
  description: 'one 1-port Service over 3 nodes, instance then IP mode: time to NLB active + targets + status, calls, emulator vs controller time',
  sizes: { smoke: { nodes: 3 }, default: { nodes: 3 } },
  async run(ctx, size) {
    const { env, namespace } = ctx;
    const nodes = await ctx.createNodes(size.nodes, { ipam: true, instanceType: 'm5.large' });
    const controller = await ctx.startController({ controllers: ['service', 'ipam'] });
    const mirror = mirrorTargets(controller);
    await createDeployment(env, namespace, 'web', size.nodes, ctx.nodeLabels);
    const pods = await waitForRunningPods(env, namespace, 'web', size.nodes);
    await controller.manager.idle();
    const figures: Figures = {};

    const services = watchNamespaced<V1Service>(env, 'services', namespace);
    const slices = watchNamespaced<V1EndpointSlice>(env, 'endpointslices', namespace);
    await Promise.all([services.synced, slices.synced]);
    try {
      for (const mode of ['instance', 'ip'] as const) {
        const name = `one-${mode}`;
        const key = `${namespace}/${name}`;
        let statusSeenAt: number | undefined;
        let sliceSeenAt: number | undefined;
        const offStatus = services.onChange((_kind, s) => {
          if (s.metadata?.name === name && s.status?.loadBalancer?.ingress?.[0]?.hostname) statusSeenAt ??= performance.now();
        });
        const offSlice = slices.onChange((_kind, s) => {
          if (s.metadata?.labels?.[SLICE_SERVICE_LABEL] === name && (s.endpoints?.length ?? 0) > 0) sliceSeenAt ??= performance.now();
        });
        const ids = mode === 'instance' ? nodes.map((n) => n.instanceId) : pods.map((p) => p.metadata!.annotations![POD_IPS_ANNOTATION]!);
        await controller.manager.idle();
        const window = openWindow(controller);
        const t0 = window.startedAt;
        const converging = convergedWithTargets(controller, mirror, key, t0, ids);
        converging.catch(() => undefined);
        const [created] = await createServices(env, namespace, [{ name, mode, selector: { app: 'web' } }]);
        const convergedAt = await converging;
        const calls = window.end(convergedAt);
        const totalAtConverged = controller.calls.total();
        const inWindow = controller.callLog.between(t0, convergedAt);
        const lastEnd = (operation: string) => {
          const ends = inWindow.filter((c) => c.operation === operation).map((c) => c.end);
          return ends.length ? round(Math.max(...ends) - t0) : Number.NaN;
        };
        const reconciles = controller.processed.filter((p) => p.key === key && p.at >= t0 && p.at <= convergedAt);

        const port = mode === 'instance' ? created!.spec!.ports![0]!.nodePort! : 8080;
        const expected = ids.map((id) => `${id}:${port}`).sort();
        const lb = await waitForLoadBalancer(env, namespace, name, (o) => healthyTargets(o.listeners[0]).join() === expected.join(), { timeoutMs: 30_000 });
        if (lb.state !== 'active') throw new Error(`${name}: NLB is ${lb.state}`);
        await controller.manager.idle();
        offStatus();
        offSlice();
        Object.assign(figures, {
          [`${mode}.convergedMs`]: round(convergedAt - t0),
          [`${mode}.nlbCreatedMs`]: lastEnd('CreateLoadBalancer'),
          [`${mode}.listenerCreatedMs`]: lastEnd('CreateListener'),
          [`${mode}.targetsRegisteredMs`]: lastEnd('RegisterTargets'),
          [`${mode}.statusSeenByWatchMs`]: statusSeenAt ? round(statusSeenAt - t0) : Number.NaN,
          ...(mode === 'ip' ? { [`${mode}.endpointSliceSeenByWatchMs`]: sliceSeenAt ? round(sliceSeenAt - t0) : Number.NaN } : {}),
          ...prefixed(mode, calls),
          [`${mode}.reconciles`]: reconciles.length,
          // Reconciles that ended with nothing to do or wait for while targets were still missing.
          [`${mode}.reconcilesConvergedWithoutTargets`]: reconciles.filter((p) => converged(p) && p.at < convergedAt).length,
          [`${mode}.targets`]: expected.length,
          // Calls after convergence (none expected; the bench's own checks go through another client).
          [`${mode}.callsAfterConverged`]: controller.calls.total() - totalAtConverged,
        });
      }
    } finally {
      mirror.stop();
      services.stop();
      slices.stop();
    }
    return figures;
  },
});
