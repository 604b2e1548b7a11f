import type { V1EndpointSlice } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { isMutating } from '../../src/cloud/calls.ts';
import { waitFor } from '../../src/testing/index.ts';
import { createServices, SLICE_SERVICE_LABEL } from '../lib/kube.ts';
import { mapLimit, round } from '../lib/measure.ts';
import { startControllerProcess, sumSeries, type ControllerProcess } from '../lib/process.ts';
import { defineScenario } from '../lib/types.ts';

const MiB = 2 ** 20;
const CALLS = 'cloud_provider_localstack_aws_api_calls_total';

/** The i-th endpoint address, inside the first private subnet (10.0.64.0/18). */
const address = (i: number) => `10.0.${64 + Math.floor(i / 250)}.${2 + (i % 250)}`;

/** Resident set, live heap (after a full collection) and the AWS calls so far, from /proc and its /metrics. */
async function sample(controller: ControllerProcess) {
  await controller.collectGarbage();
  const metrics = await controller.metrics();
  const { rssBytes, peakRssBytes } = controller.memory();
  return {
    rssBytes,
    peakRssBytes,
    heapUsedBytes: metrics.get('nodejs_heap_size_used_bytes') ?? Number.NaN,
    heapTotalBytes: metrics.get('nodejs_heap_size_total_bytes') ?? Number.NaN,
    externalBytes: metrics.get('nodejs_external_memory_bytes') ?? Number.NaN,
    metrics,
  };
}

/** Calls by `SERVICE:Operation` from the process's aws_api_calls_total (fed by its AwsCallCounter). */
function callsByOperation(metrics: Map<string, number>): Record<string, number> {
  const byOperation: Record<string, number> = {};
  for (const [key, value] of metrics) {
    if (!key.startsWith(`${CALLS}{`) || value === 0) continue;
    const service = /service="([^"]+)"/.exec(key)?.[1];
    const operation = /operation="([^"]+)"/.exec(key)?.[1];
    byOperation[`${service}:${operation}`] = (byOperation[`${service}:${operation}`] ?? 0) + value;
  }
  return Object.fromEntries(Object.entries(byOperation).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * The controller as a separate process (Service controller only; resync 10 min so no resync pass runs while
 * it converges), first idle, then with N IP-mode Services without selectors whose EndpointSlices the bench
 * writes (E endpoints in all), once every Service has its NLB. Each sample first has the process collect its
 * garbage (through its inspector), so heap used is what is live; RSS from /proc/<pid>/status, heap from the
 * process's own /metrics (prom-client's nodejs_* series); the median of 3 samples 2 s apart.
 */
export default defineScenario({
  name: 'footprint',
  description: 'controller process RSS and heap with N Services and E endpoints (IP mode, slices written by the bench)',
  sizes: { smoke: { services: 20, endpoints: 200 }, default: { services: 1000, endpoints: 10_000 } },
  async run(ctx, size) {
    const { env, namespace } = ctx;
    const controller = await startControllerProcess(ctx, ['--controllers', 'service', '--resync-period', '10m']);
    await sleep(2_000);
    const idle = await sample(controller);

    const perService = Math.ceil(size.endpoints / size.services);
    const names = Array.from({ length: size.services }, (_, i) => `fp-${String(i).padStart(4, '0')}`);
    const t0 = performance.now();
    // Slices first: a Service then sees all its endpoints in its first reconcile.
    await mapLimit(names, 32, (name, i) => {
      const body: V1EndpointSlice = {
        metadata: { name: `${name}-bench`, labels: { [SLICE_SERVICE_LABEL]: name, 'endpointslice.kubernetes.io/managed-by': 'bench.cloud-provider-localstack.io' } },
        addressType: 'IPv4',
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
        endpoints: Array.from({ length: Math.min(perService, size.endpoints - i * perService) }, (_, j) => ({ addresses: [address(i * perService + j)], conditions: { ready: true } })),
      };
      return env.discovery.createNamespacedEndpointSlice({ namespace, body });
    });
    await createServices(env, namespace, names.map((name) => ({ name, mode: 'ip' as const })));
    const createdMs = performance.now() - t0;
    let lastLog = 0;
    await waitFor(
      async () => {
        const metrics = await controller.metrics();
        const registered = sumSeries(metrics, CALLS, 'operation="RegisterTargets"', 'outcome="success"');
        const depth = sumSeries(metrics, 'cloud_provider_localstack_workqueue_depth', 'name="service"');
        if (performance.now() - lastLog > 30_000) {
          lastLog = performance.now();
          ctx.log(`${registered} of ${size.services} target groups filled, queue depth ${depth}`);
        }
        if (registered < size.services || depth > 0) return false;
        const services = (await env.core.listNamespacedService({ namespace })).items;
        return services.filter((s) => s.status?.loadBalancer?.ingress?.[0]?.hostname).length === size.services;
      },
      { description: `${size.services} Services with their NLB`, timeoutMs: 900_000, intervalMs: 2_000 },
    );
    const convergedMs = performance.now() - t0;
    const samples = [];
    for (let i = 0; i < 3; i++) {
      if (i > 0) await sleep(2_000);
      samples.push(await sample(controller));
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const loaded = {
      rssBytes: median(samples.map((x) => x.rssBytes)),
      peakRssBytes: Math.max(...samples.map((x) => x.peakRssBytes)),
      heapUsedBytes: median(samples.map((x) => x.heapUsedBytes)),
      heapTotalBytes: median(samples.map((x) => x.heapTotalBytes)),
      externalBytes: median(samples.map((x) => x.externalBytes)),
      metrics: samples.at(-1)!.metrics,
    };
    const calls = callsByOperation(loaded.metrics);
    const total = Object.values(calls).reduce((a, b) => a + b, 0);
    const mutating = Object.entries(calls).filter(([k]) => isMutating(k.slice(k.indexOf(':') + 1))).reduce((a, [, n]) => a + n, 0);
    return {
      services: size.services,
      endpoints: size.endpoints,
      idleRssMiB: round(idle.rssBytes / MiB),
      idleHeapUsedMiB: round(idle.heapUsedBytes / MiB),
      rssMiB: round(loaded.rssBytes / MiB),
      peakRssMiB: round(loaded.peakRssBytes / MiB),
      heapUsedMiB: round(loaded.heapUsedBytes / MiB),
      heapTotalMiB: round(loaded.heapTotalBytes / MiB),
      externalMiB: round(loaded.externalBytes / MiB),
      rssPerServiceKiB: round((loaded.rssBytes - idle.rssBytes) / size.services / 1024),
      heapPerServiceKiB: round((loaded.heapUsedBytes - idle.heapUsedBytes) / size.services / 1024),
      createObjectsMs: round(createdMs),
      convergedMs: round(convergedMs),
      calls: total,
      mutatingCalls: mutating,
      callsPerService: round(total / size.services, 2),
      callsByOperation: calls,
    };
  },
});
