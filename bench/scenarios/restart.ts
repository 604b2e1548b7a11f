import { confirmed, waitForKeys } from '../lib/controller.ts';
import { latencyFigures, openWindow, prefixed, round } from '../lib/measure.ts';
import { createConvergedServices, verifyInstanceServices } from '../lib/services.ts';
import { defineScenario } from '../lib/types.ts';

/**
 * N converged instance-mode Services; the controller manager is stopped and a new one started in its place
 * (same cluster name, empty caches, fresh AWS call counter). Confirmed = a reconcile by the new manager found
 * nothing to change and the status set. Time runs from the new Manager's construction.
 */
export default defineScenario({
  name: 'restart',
  description: 'stop the controller with N converged Services and start it again: time until every Service is confirmed converged, AWS writes (should be 0)',
  sizes: { smoke: { services: 5, nodes: 3 }, default: { services: 200, nodes: 3 } },
  async run(ctx, size) {
    const nodes = await ctx.createNodes(size.nodes);
    const first = await ctx.startController({ controllers: ['service'] });
    const burst = await createConvergedServices(ctx, first, size.services);
    await first.manager.idle();
    const stopT0 = performance.now();
    await first.stop();
    const stopMs = performance.now() - stopT0;

    const keys = burst.services.map((s) => `${ctx.namespace}/${s.metadata!.name!}`);
    const t0 = performance.now();
    const second = await ctx.startController({ controllers: ['service'] });
    const startedAt = performance.now();
    const window = openWindow(second);
    const startup = second.calls.snapshot();
    const confirmedAt = await waitForKeys(second, keys, confirmed, { timeoutMs: 600_000, description: `${keys.length} Services confirmed after restart` });
    const allConfirmed = Math.max(...confirmedAt.values());
    await second.manager.idle();
    const afterStart = window.end();
    const total = second.calls.snapshot();
    const calls = Object.values(total).reduce((a, b) => a + b, 0);
    const mutating = second.calls.mutating;
    const reconciles = second.processed.filter((p) => p.controller === 'service');
    const verified = await verifyInstanceServices(ctx, burst.services.map((s) => s.metadata!.name!), nodes);
    return {
      services: size.services,
      stopMs: round(stopMs),
      // Informers synced, the index of our NLBs and target groups built, every Service queued.
      startMs: round(startedAt - t0),
      allConfirmedMs: round(allConfirmed - t0),
      ...latencyFigures('confirmedAfterStart', [...confirmedAt.values()].map((at) => at - t0)),
      calls,
      writes: mutating,
      callsByOperation: total,
      callsDuringStart: Object.values(startup).reduce((a, b) => a + b, 0),
      callsDuringStartByOperation: startup,
      callsPerService: round(calls / size.services, 2),
      ...prefixed('afterStart', { awsBusyMs: afterStart.awsBusyMs, notInAwsMs: afterStart.notInAwsMs, peakConcurrency: afterStart.peakConcurrency }),
      reconciles: reconciles.length,
      nodeChangesQueueingEveryService: second.nodeChanges.filter((c) => c.at >= startedAt).length,
      verifiedServices: verified,
    };
  },
});
