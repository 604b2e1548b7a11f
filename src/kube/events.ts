/**
 * core/v1 Events with k8s.io/cloud-provider (client-go record) semantics: the same event for the same object
 * within 10 minutes bumps `count` on the existing Event (client-go's correlator) instead of adding another one.
 */
import { hostname } from 'node:os';
import {
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Event,
  type KubeConfig,
  type KubernetesObject,
  type V1ObjectReference,
} from '@kubernetes/client-node';
import { createSpamFilter, type SpamLimits } from './event-spam.ts';
import { isNotFound } from './objects.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  /** Records an event in the background: never throws, never waits; failures are logged. */
  event(object: KubernetesObject, type: EventType, reason: string, message: string): void;
  /** The same, about a reference (a kubelet's container events name `spec.containers{name}` in fieldPath). */
  eventOn(ref: V1ObjectReference, type: EventType, reason: string, message: string): void;
  /** Waits for all pending writes (tests, shutdown). */
  flush(): Promise<void>;
}

/** Repeats closer together than this are folded into one Event. */
const AGGREGATION_WINDOW_MS = 10 * 60_000;
/** Like client-go's LRU of correlated events: bounded memory however many objects we see. */
const MAX_SERIES = 4096;
const MAX_NAME = 253;

interface Series {
  name: string;
  namespace: string;
  involvedObject: V1ObjectReference;
  type: EventType;
  reason: string;
  message: string;
  count: number;
  firstTimestamp: Date;
  lastTimestamp: Date;
  /** The Event exists in the API (so later occurrences patch it). */
  created: boolean;
  /** A write is queued and not yet started; it will pick up the latest count. */
  queued: boolean;
  /** Writes for one Event run one after another, so a patch never races the create. */
  chain: Promise<void>;
}

export interface EventRecorderOptions {
  /** source.host and reportingInstance (a kubelet's: its node's name); default `<component>-<hostname>` as instance only. */
  host?: string;
  /**
   * client-go's EventSourceObjectSpamFilter: per source and object, `burst` writes then one every 1/qps s.
   * Occurrences past the limit still count; the next write allowed carries the whole count.
   */
  spam?: SpamLimits;
}

export function createEventRecorder(
  kc: KubeConfig,
  component: string,
  logFn: (msg: string, err?: unknown) => void = defaultLog,
  options: EventRecorderOptions = {},
): EventRecorder {
  // A throwing logger must not turn a failed event into an unhandled rejection.
  const log = (msg: string, err?: unknown) => {
    try {
      logFn(msg, err);
    } catch {
      // nothing left to report to
    }
  };
  const core = kc.makeApiClient(CoreV1Api);
  const instance = (options.host ?? `${component}-${hostname()}`).slice(0, 128);
  const spam = options.spam ? createSpamFilter(options.spam) : undefined;
  const series = new Map<string, Series>();
  const pending = new Set<Promise<void>>();
  let sequence = 0;

  const uniqueSuffix = (): string => (BigInt(Date.now()) * 1_000_000n + BigInt(sequence++ % 1_000_000)).toString(16);

  async function create(entry: Series): Promise<void> {
    const body: CoreV1Event = {
      metadata: { name: entry.name, namespace: entry.namespace },
      involvedObject: entry.involvedObject,
      type: entry.type,
      reason: entry.reason,
      message: entry.message,
      count: entry.count,
      firstTimestamp: entry.firstTimestamp,
      lastTimestamp: entry.lastTimestamp,
      source: { component, ...(options.host ? { host: options.host } : {}) },
      reportingComponent: component,
      reportingInstance: instance,
    };
    await core.createNamespacedEvent({ namespace: entry.namespace, body });
    entry.created = true;
  }

  async function write(entry: Series): Promise<void> {
    if (!entry.created) return create(entry);
    try {
      await core.patchNamespacedEvent(
        { namespace: entry.namespace, name: entry.name, body: { count: entry.count, lastTimestamp: entry.lastTimestamp.toISOString() } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (error) {
      // Events expire (1 h by default); like client-go, create it again with the running count.
      if (!isNotFound(error)) throw error;
      entry.created = false;
      await create(entry);
    }
  }

  function schedule(entry: Series): void {
    if (entry.queued) return;
    entry.queued = true;
    const run = entry.chain
      .then(() => {
        entry.queued = false;
        return write(entry);
      })
      .catch((error: unknown) => {
        entry.queued = false;
        // A namespace being deleted refuses new Events: expected while we clean up its Services.
        if (String((error as { body?: unknown }).body ?? '').includes('NamespaceTerminating')) return;
        const ref = entry.involvedObject;
        log(`event ${entry.reason} for ${ref.kind ?? 'object'} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}: write failed: ${briefly(error)}`);
      });
    entry.chain = run;
    pending.add(run);
    void run.finally(() => pending.delete(run));
  }

  const eventOn = (involvedObject: V1ObjectReference, type: EventType, reason: string, message: string): void => {
    try {
      const objectId = involvedObject.uid ?? `${involvedObject.kind}/${involvedObject.namespace ?? ''}/${involvedObject.name ?? ''}`;
      const key = [objectId, involvedObject.fieldPath ?? '', type, reason, message].join('\u0000');
      const now = new Date();
      let entry = series.get(key);
      if (entry && now.getTime() - entry.lastTimestamp.getTime() < AGGREGATION_WINDOW_MS) {
        entry.count++;
        entry.lastTimestamp = now;
        entry.involvedObject = involvedObject;
        series.delete(key); // re-insert: Map order is our LRU order
      } else {
        const objectName = (involvedObject.name ?? 'unknown').slice(0, MAX_NAME - 17);
        entry = {
          name: `${objectName}.${uniqueSuffix()}`,
          // Cluster-scoped objects (Nodes) get their Events in `default`, as client-go does.
          namespace: involvedObject.namespace || 'default',
          involvedObject,
          type,
          reason,
          message,
          count: 1,
          firstTimestamp: now,
          lastTimestamp: now,
          created: false,
          queued: false,
          chain: Promise.resolve(),
        };
      }
      series.set(key, entry);
      if (series.size > MAX_SERIES) series.delete(series.keys().next().value as string);
      if (spam && !spam.allow(`${objectId}\u0000${involvedObject.kind ?? ''}`, now.getTime())) return;
      schedule(entry);
    } catch (error) {
      log(`event ${reason}: could not be recorded: ${briefly(error)}`);
    }
  };

  return {
    event(object, type, reason, message) {
      let ref: V1ObjectReference;
      try {
        const metadata = object.metadata ?? {};
        ref = { kind: object.kind, apiVersion: object.apiVersion, name: metadata.name, namespace: metadata.namespace, uid: metadata.uid, resourceVersion: metadata.resourceVersion };
      } catch (error) {
        log(`event ${reason}: could not be recorded: ${briefly(error)}`);
        return;
      }
      eventOn(ref, type, reason, message);
    },
    eventOn,

    async flush() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}

function defaultLog(msg: string, err?: unknown): void {
  console.warn(`[events] ${msg}`, err ?? '');
}

/** The API's own message of an error (client-node's ApiException carries the whole response). */
function briefly(error: unknown): string {
  const body = (error as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      const status = JSON.parse(body) as { message?: string; code?: number };
      if (status.message) return `${status.code ?? ''} ${status.message}`.trim();
    } catch {
      // not JSON
    }
  }
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}
