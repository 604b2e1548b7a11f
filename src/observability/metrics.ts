/**
 * Prometheus metrics for the controller manager, on a registry of their own (never prom-client's global one, so
 * several managers in one process, as in tests, do not collide). Names follow client-go's workqueue metrics and
 * controller-runtime's reconcile metrics, under one prefix.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AwsCallCounter } from '../cloud/calls.ts';
import type { WorkQueueObserver } from '../kube/workqueue.ts';

export interface ControllerMetrics {
  registry: Registry;
  /** Counts every call the counter reports; returns a function that stops observing. */
  observeAwsCalls(counter: AwsCallCounter): () => void;
  /** An observer for a WorkQueue named `controller`; `depth` is read at each scrape. */
  queueObserver(controller: string, depth: () => number): WorkQueueObserver;
  reconcile(controller: string, durationMs: number, error: boolean): void;
  /** A gauge named prefix + name (prefix not doubled); asking again for the same name returns the same gauge. */
  gauge(name: string, help: string, labelNames: string[]): Gauge;
}

export const DEFAULT_PREFIX = 'cloud_provider_localstack_';

/** client-go's workqueue buckets: ExponentialBuckets(10e-9, 10, 10), 10 ns to 10 s. */
const WORKQUEUE_BUCKETS = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10];
const AWS_CALL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** A shorter version of controller-runtime's reconcile_time_seconds buckets. */
const RECONCILE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60];

export function createMetrics(prefix = DEFAULT_PREFIX): ControllerMetrics {
  const registry = new Registry();
  // Unprefixed process_* and nodejs_* series, as every Node exporter names them.
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const awsCalls = new Counter({
    name: `${prefix}aws_api_calls_total`,
    help: 'AWS API calls by service, operation and outcome (success, error, throttled).',
    labelNames: ['service', 'operation', 'outcome'] as const,
    registers,
  });
  const awsDuration = new Histogram({
    name: `${prefix}aws_api_call_duration_seconds`,
    help: 'Duration of AWS API calls, including the SDK retries of one call.',
    labelNames: ['service', 'operation'] as const,
    buckets: AWS_CALL_BUCKETS,
    registers,
  });

  const queueAdds = new Counter({ name: `${prefix}workqueue_adds_total`, help: 'Keys added to the work queue.', labelNames: ['name'] as const, registers });
  const queueRetries = new Counter({ name: `${prefix}workqueue_retries_total`, help: 'Keys scheduled again after a failure.', labelNames: ['name'] as const, registers });
  const queueDuration = new Histogram({
    name: `${prefix}workqueue_queue_duration_seconds`,
    help: 'How long a key waits in the work queue before a worker takes it.',
    labelNames: ['name'] as const,
    buckets: WORKQUEUE_BUCKETS,
    registers,
  });
  const workDuration = new Histogram({
    name: `${prefix}workqueue_work_duration_seconds`,
    help: 'How long processing a key takes.',
    labelNames: ['name'] as const,
    buckets: WORKQUEUE_BUCKETS,
    registers,
  });
  const depths = new Map<string, () => number>();
  const queueDepth: Gauge<'name'> = new Gauge({
    name: `${prefix}workqueue_depth`,
    help: 'Keys waiting for a worker.',
    labelNames: ['name'] as const,
    registers,
    collect() {
      for (const [name, depth] of depths) {
        // A broken depth function must not fail the whole scrape.
        try {
          queueDepth.set({ name }, depth());
        } catch {
          queueDepth.remove({ name });
        }
      }
    },
  });

  const reconcileTotal = new Counter({
    name: `${prefix}reconcile_total`,
    help: 'Reconciles by controller and result (success, error).',
    labelNames: ['controller', 'result'] as const,
    registers,
  });
  const reconcileErrors = new Counter({ name: `${prefix}reconcile_errors_total`, help: 'Reconciles that failed.', labelNames: ['controller'] as const, registers });
  const reconcileDuration = new Histogram({
    name: `${prefix}reconcile_duration_seconds`,
    help: 'How long a reconcile takes.',
    labelNames: ['controller'] as const,
    buckets: RECONCILE_BUCKETS,
    registers,
  });

  const gauges = new Map<string, { gauge: Gauge; labelNames: string[] }>();

  return {
    registry,

    observeAwsCalls(counter) {
      return counter.onCall((call) => {
        awsCalls.inc({ service: call.service, operation: call.operation, outcome: call.outcome });
        awsDuration.observe({ service: call.service, operation: call.operation }, call.durationMs / 1000);
      });
    },

    queueObserver(controller, depth) {
      const labels = { name: controller };
      depths.set(controller, depth);
      // Series exist from the start at 0, so rate() and absent() work before the first event.
      queueAdds.inc(labels, 0);
      queueRetries.inc(labels, 0);
      return {
        onAdd: () => queueAdds.inc(labels),
        onRetry: () => queueRetries.inc(labels),
        onProcessed: (_key, waitMs, durationMs) => {
          queueDuration.observe(labels, waitMs / 1000);
          workDuration.observe(labels, durationMs / 1000);
        },
      };
    },

    reconcile(controller, durationMs, error) {
      reconcileTotal.inc({ controller, result: error ? 'error' : 'success' });
      // Touch the error series on success too, so it reads 0 rather than missing.
      reconcileErrors.inc({ controller }, error ? 1 : 0);
      reconcileDuration.observe({ controller }, durationMs / 1000);
    },

    gauge(name, help, labelNames) {
      const fullName = name.startsWith(prefix) ? name : `${prefix}${name}`;
      const existing = gauges.get(fullName);
      if (existing) {
        if (existing.labelNames.join(',') !== labelNames.join(',')) {
          throw new Error(`gauge ${fullName} already exists with labels [${existing.labelNames.join(', ')}], asked for [${labelNames.join(', ')}]`);
        }
        return existing.gauge;
      }
      const gauge = new Gauge({ name: fullName, help, labelNames, registers });
      gauges.set(fullName, { gauge, labelNames: [...labelNames] });
      return gauge;
    },
  };
}
