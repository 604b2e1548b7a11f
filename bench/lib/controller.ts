import type { IpamSettings } from '../../src/controllers/ipam/controller.ts';
import { Manager, type ControllerName } from '../../src/controllers/manager.ts';
import type { AwsCallCounter } from '../../src/cloud/calls.ts';
import { nodeInfo } from '../../src/core/nodes.ts';
import { statePaths } from '../../src/devenv/paths.ts';
import { createLogger } from '../../src/log.ts';
import { createMetrics, type ControllerMetrics } from '../../src/observability/metrics.ts';
import type { TestEnvironment } from '../../src/testing/index.ts';
import { CallLog } from './measure.ts';

export interface ControllerOptions {
  controllers: ControllerName[];
  /** Default 60 s (the CLI's default). */
  resyncPeriodMs?: number;
  /** Services reconciled at once (default 4, the CLI's default). */
  concurrency?: number;
  ipam?: Partial<IpamSettings>;
  /** Only Services and EndpointSlices of this namespace (--watch-namespace). */
  watchNamespace?: string;
  /** Only Nodes matching this label selector (--node-selector). */
  nodeSelector?: string;
}

/** A reconcile as the work queue reported it, with the Service controller's report at that moment. */
export interface Processed {
  controller: string;
  key: string;
  at: number;
  error?: string;
  /** Service controller only: actions applied in this reconcile, reasons it still waits, the status hostname. */
  actions?: number;
  waiting?: number;
  hostname?: string;
}

export interface InProcessController {
  manager: Manager;
  /** The manager's AwsCallCounter: the one its metrics read. */
  calls: AwsCallCounter;
  /** The manager's Prometheus metrics (they observe `calls`). */
  metrics: ControllerMetrics;
  callLog: CallLog;
  /** Every reconcile since the manager was created, in order. */
  processed: Processed[];
  /**
   * Node events that make the Service controller queue every instance-mode Service, as the manager's informer
   * saw them: adds, deletes, and updates that change what it compares (labels, instance, deletion, taints).
   */
  nodeChanges: { kind: 'add' | 'delete' | 'change'; name: string; at: number }[];
  onProcessed(listener: (event: Processed) => void): () => void;
  stop(): Promise<void>;
}

/** The Service reconcile left nothing to do: NLB, listeners and targets in place, status set. */
export const converged = (p: Processed): boolean => p.controller === 'service' && !p.error && p.waiting === 0 && Boolean(p.hostname);
/** …and it did not have to change anything either. */
export const confirmed = (p: Processed): boolean => converged(p) && p.actions === 0;

/**
 * Starts a controller manager in this process, as the integration tests do, with the CLI's defaults unless
 * told otherwise. Its metrics are real (createMetrics), and the bench listens to the work queues through them.
 */
export async function startInProcessController(env: TestEnvironment, cluster: string, options: ControllerOptions): Promise<InProcessController> {
  const base = createMetrics();
  const listeners = new Set<(event: Processed) => void>();
  const processed: Processed[] = [];
  const metrics: ControllerMetrics = {
    ...base,
    queueObserver(controller, depth) {
      const observer = base.queueObserver(controller, depth);
      return {
        ...observer,
        onProcessed(key, waitMs, durationMs, error) {
          observer.onProcessed?.(key, waitMs, durationMs, error);
          const event: Processed = { controller, key, at: performance.now() };
          if (error !== undefined) event.error = error instanceof Error ? error.message : String(error);
          if (controller === 'service') {
            const report = manager.service?.reports.get(key);
            event.actions = report?.actions.length ?? 0;
            event.waiting = report?.waiting.length ?? 0;
            if (report?.hostname) event.hostname = report.hostname;
          }
          processed.push(event);
          for (const listener of listeners) listener(event);
        },
      };
    },
  };
  // The observer above runs only once the queues work, after this assignment.
  const manager: Manager = new Manager({
    kubeconfig: statePaths.kubeconfig,
    clusterName: cluster,
    region: env.aws.settings.region,
    endpoint: env.aws.settings.endpoint!,
    credentials: env.aws.settings.credentials!,
    vpcId: env.network.vpcId,
    controllers: options.controllers,
    ...(options.watchNamespace ? { watchNamespace: options.watchNamespace } : {}),
    ...(options.nodeSelector ? { nodeSelector: options.nodeSelector } : {}),
    concurrency: options.concurrency ?? 4,
    resyncPeriodMs: options.resyncPeriodMs ?? 60_000,
    node: { instanceType: 'm5.large', imageId: 'ami-12c6146b', securityGroupIds: [env.network.nodeSecurityGroupId] },
    ipam: {
      warm: { warmEniTarget: 1 },
      cooldownMs: 30_000,
      verifyUniqueAddresses: true,
      leakedEniGraceMs: 300_000,
      resyncPeriodMs: 30_000,
      ...options.ipam,
    },
    log: createLogger({ level: process.env.CPL_BENCH_LOG_LEVEL ?? 'warn', format: 'text' }),
    metrics,
  });
  const callLog = new CallLog(manager.aws.calls);
  const nodeChanges: InProcessController['nodeChanges'] = [];
  const offNodes = manager.informers.nodes.onChange((kind, node, old) => {
    const name = node.metadata?.name ?? '';
    if (kind !== 'update') nodeChanges.push({ kind, name, at: performance.now() });
    else if (old && JSON.stringify(nodeInfo(old)) !== JSON.stringify(nodeInfo(node))) nodeChanges.push({ kind: 'change', name, at: performance.now() });
  });
  let stopped: Promise<void> | undefined;
  const controller: InProcessController = {
    manager,
    calls: manager.aws.calls,
    metrics,
    callLog,
    processed,
    nodeChanges,
    onProcessed(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop() {
      stopped ??= manager.stop().finally(() => {
        callLog.close();
        offNodes();
      });
      return stopped;
    },
  };
  try {
    await manager.start();
  } catch (error) {
    await controller.stop().catch(() => undefined);
    throw error;
  }
  return controller;
}

/**
 * Resolves with the time (performance.now()) at which `done` first held for each key, once it held for all of
 * them; rejects after timeoutMs. Reconciles from before `since` do not count.
 */
export function waitForKeys(
  controller: InProcessController,
  keys: Iterable<string>,
  done: (event: Processed) => boolean,
  options: { since?: number; timeoutMs?: number; description?: string } = {},
): Promise<Map<string, number>> {
  const pending = new Set(keys);
  const at = new Map<string, number>();
  const since = options.since ?? 0;
  const check = (event: Processed) => {
    if (event.at < since || !pending.has(event.key) || !done(event)) return;
    pending.delete(event.key);
    at.set(event.key, event.at);
  };
  for (const event of controller.processed) check(event);
  return new Promise((resolve, reject) => {
    if (pending.size === 0) return resolve(at);
    const timeoutMs = options.timeoutMs ?? 600_000;
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${options.description ?? 'reconciles'}: ${pending.size} of ${pending.size + at.size} left (e.g. ${[...pending].slice(0, 3).join(', ')})`));
    }, timeoutMs);
    const off = controller.onProcessed((event) => {
      check(event);
      if (pending.size === 0) {
        clearTimeout(timer);
        off();
        resolve(at);
      }
    });
  });
}
