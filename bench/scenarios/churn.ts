import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { V1EndpointSlice, V1Pod } from '@kubernetes/client-node';
import { waitFor } from '../../src/testing/index.ts';
import { clusterResources } from '../lib/aws.ts';
import { converged, waitForKeys } from '../lib/controller.ts';
import { createDeployment, createServices, isRunning, readyEndpoints, scaleDeployment, SLICE_SERVICE_LABEL, waitForRunningPods, watchNamespaced } from '../lib/kube.ts';
import { divided, latencyFigures, openWindow, percentile, round } from '../lib/measure.ts';
import { mirrorTargets, targetKey } from '../lib/targets.ts';
import { defineScenario, type Figures } from '../lib/types.ts';

interface Change {
  at: number;
  key: string;
  phase: string;
  resolvedAt?: number;
}

/**
 * An IP-mode Service over a Deployment on ENI-pool nodes: scale up, scale back, delete pods at random.
 * A change is an EndpointSlice update (seen by the bench's watch) that changes the Service's set of ready
 * endpoints. It is matched when the target group's registered targets first equal that set or a later one.
 * The target group's content is followed from the controller's own RegisterTargets/DeregisterTargets calls
 * (lib/targets.ts: a middleware on its ELBv2 client notes each one as it returns), and checked against
 * DescribeTargetHealth from the bench's client at the end of each phase.
 */
export default defineScenario({
  name: 'churn',
  description: 'IP-mode Service: scale its pods up and back, delete some at random: EndpointSlice update → target group matching (p50/p95/p99), calls per change',
  sizes: { smoke: { pods: 5, peak: 10, deletes: 2, nodes: 2 }, default: { pods: 50, peak: 100, deletes: 10, nodes: 2 } },
  async run(ctx, size) {
    const { env, namespace } = ctx;
    await ctx.createNodes(size.nodes, { ipam: true, instanceType: 'm5.4xlarge' });
    const controller = await ctx.startController({ controllers: ['service', 'ipam'] });
    await createDeployment(env, namespace, 'churn', size.pods, ctx.nodeLabels);
    await waitForRunningPods(env, namespace, 'churn', size.pods);
    const key = `${namespace}/churn`;
    const mirror = mirrorTargets(controller);
    const done = waitForKeys(controller, [key], converged, { since: performance.now(), timeoutMs: 120_000, description: `${key} converged` });
    await createServices(env, namespace, [{ name: 'churn', mode: 'ip', selector: { app: 'churn' } }]);
    await done;

    const slices = watchNamespaced<V1EndpointSlice>(env, 'endpointslices', namespace);
    try {
      await slices.synced;
      const current = () => readyEndpoints(slices.list(namespace).filter((s) => s.metadata?.labels?.[SLICE_SERVICE_LABEL] === 'churn'));
      const { targetGroups } = await clusterResources(env, ctx.cluster);
      const tgArn = targetGroups.find((tg) => tg.TargetType === 'ip')?.TargetGroupArn;
      if (!tgArn) throw new Error('no IP target group of the cluster');
      const registered = async () => {
        const health = (await env.aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn }))).TargetHealthDescriptions ?? [];
        return new Set(health.filter((h) => !['draining', 'unused'].includes(h.TargetHealth?.State ?? '')).map((h) => `${h.Target!.Id}:${h.Target!.Port}`));
      };
      // Start from a target group that matches the slices, in AWS and as the controller wrote it.
      await waitFor(async () => {
        const want = targetKey(current());
        return current().size === size.pods && targetKey(mirror.targets(key)) === want && targetKey(await registered()) === want;
      }, { description: 'the target group matching the pods', timeoutMs: 60_000 });

      const changes: Change[] = [];
      let phase = 'setup';
      let lastKey = targetKey(current());
      const settle = () => {
        const now = performance.now();
        const mirrorKey = targetKey(mirror.targets(key));
        let match = -1;
        for (let i = changes.length - 1; i >= 0; i--) if (changes[i]!.key === mirrorKey) { match = i; break; }
        for (let i = 0; i <= match; i++) changes[i]!.resolvedAt ??= now;
      };
      const offSlices = slices.onChange(() => {
        const k = targetKey(current());
        if (k === lastKey) return;
        lastKey = k;
        changes.push({ at: performance.now(), key: k, phase });
        settle();
      });
      const offMirror = mirror.onChange(settle);

      const figures: Figures = {};
      const allLatencies: number[] = [];
      let totalChanges = 0;
      const runPhase = async (name: string, act: () => Promise<void>, until: (endpoints: Set<string>) => boolean) => {
        await controller.manager.idle();
        phase = name;
        const window = openWindow(controller);
        const from = window.startedAt;
        await act();
        await waitFor(() => until(current()) && changes.every((c) => c.resolvedAt !== undefined), { description: `churn phase ${name}`, timeoutMs: 300_000, intervalMs: 100 });
        await controller.manager.idle();
        const calls = window.end();
        const inPhase = changes.filter((c) => c.phase === name);
        const latencies = inPhase.map((c) => c.resolvedAt! - c.at);
        allLatencies.push(...latencies);
        totalChanges += inPhase.length;
        const verified = await registered();
        if (targetKey(verified) !== targetKey(current())) throw new Error(`${name}: DescribeTargetHealth shows ${verified.size} targets, the slices ${current().size}`);
        const elbv2 = Object.entries(calls.callsByOperation).filter(([k]) => k.startsWith('ELBv2:')).reduce((a, [, n]) => a + n, 0);
        Object.assign(figures, {
          [`${name}.changes`]: inPhase.length,
          [`${name}.matchP50Ms`]: round(percentile(latencies, 50)),
          [`${name}.matchMaxMs`]: round(percentile(latencies, 100)),
          [`${name}.wallMs`]: calls.wallMs,
          [`${name}.calls`]: calls.calls,
          [`${name}.callsByOperation`]: calls.callsByOperation,
          [`${name}.elbv2CallsPerChange`]: round(elbv2 / Math.max(inPhase.length, 1), 2),
          [`${name}.serviceReconciles`]: controller.processed.filter((p) => p.key === key && p.at >= from).length,
        });
        return calls;
      };

      const up = await runPhase('scaleUp', () => scaleDeployment(env, namespace, 'churn', size.peak).then(() => undefined), (e) => e.size === size.peak);
      const down = await runPhase('scaleDown', () => scaleDeployment(env, namespace, 'churn', size.pods).then(() => undefined), (e) => e.size === size.pods);
      let deletedIps: string[] = [];
      const del = await runPhase(
        'deletePods',
        async () => {
          const pods = (await env.core.listNamespacedPod({ namespace, labelSelector: 'app=churn' })).items.filter(isRunning);
          const victims: V1Pod[] = [];
          while (victims.length < size.deletes && pods.length > 0) victims.push(pods.splice(Math.floor(Math.random() * pods.length), 1)[0]!);
          deletedIps = victims.map((p) => `${p.status!.podIP}:8080`);
          await Promise.all(victims.map((p) => env.core.deleteNamespacedPod({ namespace, name: p.metadata!.name!, gracePeriodSeconds: 0 })));
        },
        (e) => e.size === size.pods && deletedIps.every((ip) => !e.has(ip)),
      );
      offSlices();
      offMirror();
      const all = [up, down, del];
      const sum = (f: (c: typeof up) => number) => all.reduce((a, c) => a + f(c), 0);
      const byOperation: Record<string, number> = {};
      for (const c of all) for (const [k, n] of Object.entries(c.callsByOperation)) byOperation[k] = (byOperation[k] ?? 0) + n;
      const elbv2 = Object.entries(byOperation).filter(([k]) => k.startsWith('ELBv2:')).reduce((a, [, n]) => a + n, 0);
      return {
        ...latencyFigures('sliceToTargets', allLatencies),
        changes: totalChanges,
        calls: sum((c) => c.calls),
        callsByOperation: byOperation,
        callsPerChange: round(sum((c) => c.calls) / Math.max(totalChanges, 1), 2),
        elbv2CallsPerChange: round(elbv2 / Math.max(totalChanges, 1), 2),
        elbv2CallsPerChangeByOperation: divided(Object.fromEntries(Object.entries(byOperation).filter(([k]) => k.startsWith('ELBv2:'))), totalChanges),
        mutatingCalls: sum((c) => c.mutatingCalls),
        ...figures,
      };
    } finally {
      mirror.stop();
      slices.stop();
    }
  },
});
