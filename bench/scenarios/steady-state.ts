import { divided, openWindow, prefixed, round } from '../lib/measure.ts';
import { createConvergedServices } from '../lib/services.ts';
import { defineScenario } from '../lib/types.ts';

const RESYNCS = 3;

/**
 * N converged instance-mode Services, then exactly three resync periods. The period is shorter than the CLI's
 * 60 s so the run stays short: 5 s at smoke size, 20 s at default size (a pass over 200 Services takes ~7 s
 * against the emulator, so a 5 s period would not let one finish). The window opens at a resync tick and
 * closes at the third tick after it; the bench sees the ticks by wrapping the Service controller's resync() on
 * this instance. A pass lasts from its tick until every one of our Services has been reconciled since.
 *
 * kube-controller-manager taints every kwok node unreachable for a few milliseconds about every 55 s here, and
 * each taint change queues every instance-mode Service: expect about one such extra pass per minute in the
 * counts (nodeChangesQueueingEveryService says how many node events did it). callsPerPass is the cost of one
 * pass over every Service, whatever triggered it.
 */
export default defineScenario({
  name: 'steady-state',
  description: `N converged Services through ${RESYNCS} resync periods (short period, see size): AWS calls per resync by operation, mutating calls (should be 0)`,
  sizes: { smoke: { services: 5, nodes: 3, resyncSeconds: 5 }, default: { services: 200, nodes: 3, resyncSeconds: 20 } },
  async run(ctx, size) {
    const resyncMs = size.resyncSeconds * 1000;
    await ctx.createNodes(size.nodes);
    const controller = await ctx.startController({ controllers: ['service'], resyncPeriodMs: resyncMs });
    const burst = await createConvergedServices(ctx, controller, size.services);
    const keys = burst.services.map((s) => `${ctx.namespace}/${s.metadata!.name!}`);

    const service = controller.manager.service!;
    const ticks: number[] = [];
    const tickListeners = new Set<() => void>();
    const original = service.resync.bind(service);
    service.resync = () => {
      ticks.push(performance.now());
      for (const listener of tickListeners) listener();
      return original();
    };
    const nextTick = () =>
      new Promise<void>((resolve) => {
        const listener = () => {
          tickListeners.delete(listener);
          resolve();
        };
        tickListeners.add(listener);
      });

    await nextTick();
    const window = openWindow(controller);
    const first = ticks.length - 1;
    for (let i = 0; i < RESYNCS; i++) await nextTick();
    const calls = window.end();
    const windowTicks = ticks.slice(first, first + RESYNCS + 1);
    // Each pass: from its tick until every one of our Services was reconciled after it.
    const ownEvents = controller.processed.filter((p) => p.controller === 'service' && keys.includes(p.key));
    const passes = windowTicks.slice(0, RESYNCS).map((tick) => {
      const ends = keys.map((key) => ownEvents.find((p) => p.key === key && p.at >= tick)?.at ?? Number.NaN);
      return Math.max(...ends) - tick;
    });
    const reconciles = controller.processed.filter((p) => p.controller === 'service' && p.at >= window.startedAt && p.at <= windowTicks.at(-1)!);
    return {
      services: size.services,
      resyncPeriodMs: resyncMs,
      resyncs: RESYNCS,
      ...prefixed('', calls),
      callsPerResync: round(calls.calls / RESYNCS, 1),
      callsPerResyncByOperation: divided(calls.callsByOperation, RESYNCS),
      callsPerServicePerResync: round(calls.calls / RESYNCS / size.services, 2),
      mutatingCallsPerResync: round(calls.mutatingCalls / RESYNCS, 2),
      passMsMax: round(Math.max(...passes)),
      passMsMean: round(passes.reduce((a, p) => a + p, 0) / passes.length),
      passesLongerThanPeriod: passes.filter((p) => !(p <= resyncMs)).length,
      // Share of the resync period the emulator was busy with this controller.
      awsBusyShareOfPeriod: round(calls.awsBusyMs / (RESYNCS * resyncMs), 3),
      reconciles: reconciles.length,
      reconcilesPerServicePerResync: round(reconciles.length / RESYNCS / size.services, 2),
      callsPerReconcile: round(calls.calls / Math.max(reconciles.length, 1), 2),
      callsPerPass: round((calls.calls / Math.max(reconciles.length, 1)) * size.services),
      nodeChangesQueueingEveryService: controller.nodeChanges.filter((c) => c.at >= window.startedAt && c.at <= windowTicks.at(-1)!).length,
    };
  },
});
