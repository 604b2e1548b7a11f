import { latencyFigures, openWindow, prefixed, round } from '../lib/measure.ts';
import { createConvergedServices, verifyInstanceServices } from '../lib/services.ts';
import { defineScenario } from '../lib/types.ts';

/**
 * N instance-mode Services created at once (32 create requests in flight) over 3 nodes, against a freshly
 * started controller (CLI defaults: 4 workers). Converged = a reconcile of the Service ended with nothing left
 * to do and the status hostname set; afterwards the bench checks every NLB from its own AWS client.
 */
export default defineScenario({
  name: 'burst',
  description: 'N Services created at once: time until all converge, AWS calls, peak concurrency of AWS calls',
  sizes: { smoke: { services: 5, nodes: 3 }, default: { services: 200, nodes: 3 } },
  async run(ctx, size) {
    const nodes = await ctx.createNodes(size.nodes);
    const controller = await ctx.startController({ controllers: ['service'] });
    await controller.manager.idle();
    const peakBefore = controller.calls.peakConcurrency;
    const window = openWindow(controller);
    const burst = await createConvergedServices(ctx, controller, size.services);
    const allConverged = Math.max(...burst.convergedAt.values());
    await controller.manager.idle();
    const calls = window.end();
    const reconciles = controller.processed.filter((p) => p.controller === 'service' && p.at >= burst.t0);
    const verified = await verifyInstanceServices(ctx, burst.services.map((s) => s.metadata!.name!), nodes);
    return {
      services: size.services,
      createAllMs: round(burst.createdAt - burst.t0),
      allConvergedMs: round(allConverged - burst.t0),
      ...latencyFigures('convergedAfterCreate', [...burst.convergedAt.values()].map((at) => at - burst.t0)),
      servicesPerSecond: round(size.services / ((allConverged - burst.t0) / 1000), 2),
      ...prefixed('', calls),
      callsPerService: round(calls.calls / size.services, 2),
      // The counter's own peak, over the manager's life (it was started just before the burst).
      counterPeakConcurrency: controller.calls.peakConcurrency,
      peakConcurrencyBeforeBurst: peakBefore,
      reconciles: reconciles.length,
      reconcilesPerService: round(reconciles.length / size.services, 2),
      reconcileErrors: reconciles.filter((r) => r.error).length,
      nodeChangesQueueingEveryService: controller.nodeChanges.filter((c) => c.at >= burst.t0).length,
      verifiedServices: verified,
    };
  },
});
