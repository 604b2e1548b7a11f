/**
 * A cache of one kind of object, kept up to date by client-node's ListWatch, with what ListWatch lacks: the old
 * object on update, a restart after watch errors (ListWatch stops for good on anything but a 410 or a timeout:
 * kubernetes-client/javascript #795, #1933) and a periodic full relist against silently stalled watches.
 */
import { ListWatch, Watch, loadYaml, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';

export interface Cache<T> {
  list(namespace?: string): T[];
  get(name: string, namespace?: string): T | undefined;
}

export type ChangeKind = 'add' | 'update' | 'delete';

export interface Informer<T> extends Cache<T> {
  /** Resolves after the first full list. */
  readonly synced: Promise<void>;
  /**
   * Called after the cache changed. `old` is the last-seen copy on update and delete (on delete `object` is the
   * final state the watch reported). Returns a function that removes the listener.
   */
  onChange(listener: (kind: ChangeKind, object: T, old: T | undefined) => void): () => void;
  stop(): void;
}

export interface InformerOptions {
  labelSelector?: string;
  /** For log messages. */
  name?: string;
  log?: (msg: string, err?: unknown) => void;
  /** Full relist period (default 5 min, ±10% jitter). */
  relistIntervalMs?: number;
}

const RESTART_BASE_MS = 1000;
const RESTART_MAX_MS = 30_000;
const RELIST_MS = 5 * 60_000;

/** The cache key: `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKey(object: KubernetesObject): string {
  const name = object.metadata?.name ?? '';
  const namespace = object.metadata?.namespace;
  return namespace ? `${namespace}/${name}` : name;
}

export function startInformer<T extends KubernetesObject>(
  kc: KubeConfig,
  path: string,
  listFn: () => Promise<KubernetesListObject<T>>,
  options: InformerOptions = {},
): Informer<T> {
  return new ResilientInformer(kc, path, listFn, options);
}

class ResilientInformer<T extends KubernetesObject> implements Informer<T> {
  readonly synced: Promise<void>;
  readonly #kc: KubeConfig;
  readonly #path: string;
  readonly #listFn: () => Promise<KubernetesListObject<T>>;
  readonly #labelSelector: string | undefined;
  readonly #name: string;
  readonly #log: (msg: string, err?: unknown) => void;
  readonly #relistMs: number;
  readonly #objects = new Map<string, T>();
  readonly #listeners = new Set<(kind: ChangeKind, object: T, old: T | undefined) => void>();
  #resolveSynced!: () => void;
  /** Bumped for every new ListWatch, so callbacks from a replaced one are ignored. */
  #generation = 0;
  #current: ListWatch<T> | undefined;
  #stopped = false;
  #restartDelayMs = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #relistTimer: NodeJS.Timeout | undefined;

  constructor(kc: KubeConfig, path: string, listFn: () => Promise<KubernetesListObject<T>>, options: InformerOptions) {
    this.#kc = kc;
    this.#path = path;
    this.#listFn = listFn;
    this.#labelSelector = options.labelSelector;
    this.#name = options.name ?? path;
    const log = options.log ?? ((msg, err) => console.warn(`[informer] ${msg}`, err ?? ''));
    // A throwing logger must not stop a restart from being scheduled.
    this.#log = (msg, err) => {
      try {
        log(msg, err);
      } catch {
        // nothing left to report to
      }
    };
    this.#relistMs = options.relistIntervalMs ?? RELIST_MS;
    this.synced = new Promise((resolve) => (this.#resolveSynced = resolve));
    this.#connect();
    this.#scheduleRelist();
  }

  list(namespace?: string): T[] {
    const all = [...this.#objects.values()];
    return !namespace ? all : all.filter((object) => object.metadata?.namespace === namespace);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#objects.get(namespace ? `${namespace}/${name}` : name);
  }

  onChange(listener: (kind: ChangeKind, object: T, old: T | undefined) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#restartTimer);
    clearTimeout(this.#relistTimer);
    this.#restartTimer = this.#relistTimer = undefined;
    void this.#current?.stop().catch(() => undefined);
    this.#current = undefined;
  }

  /** A fresh ListWatch: it lists (our wrapped list reconciles the cache with the full list), then watches. */
  #connect(): void {
    const generation = ++this.#generation;
    const live = () => generation === this.#generation && !this.#stopped;
    // ListWatch waits with an un-unref'd timer and opens the next watch without checking `stopped`; a delay that
    // never ends once this ListWatch is replaced or stopped keeps it from leaking a watch connection.
    const delayFn = (ms: number) =>
      new Promise<void>((resolve) => {
        setTimeout(() => live() && resolve(), ms).unref();
      });
    const informer = new ListWatch<T>(this.#path, new SafeWatch(this.#kc, live), () => this.#list(generation), false, this.#labelSelector, undefined, {
      delayFn,
    });
    informer.on('add', (object) => live() && this.#watched(object, false));
    informer.on('update', (object) => live() && this.#watched(object, false));
    informer.on('delete', (object) => live() && this.#watched(object, true));
    informer.on('error', (error) => live() && this.#failed(error));
    this.#current = informer;
    this.#start(generation);
  }

  #start(generation: number): void {
    this.#current?.start().catch((error: unknown) => {
      if (generation === this.#generation && !this.#stopped) this.#failed(error);
    });
  }

  async #list(generation: number): Promise<KubernetesListObject<T>> {
    const list = await this.#listFn();
    // A superseded or stopped ListWatch must not go on to open a watch: throwing ends its loop (ListWatch only
    // checks `stopped` before it lists).
    if (generation !== this.#generation || this.#stopped) throw new Error('informer superseded');
    const itemKind = list.kind?.endsWith('List') ? list.kind.slice(0, -'List'.length) : undefined;
    for (const item of list.items) {
      // The apiserver leaves kind and apiVersion out of list items; watch events carry them.
      item.kind ??= itemKind;
      item.apiVersion ??= list.apiVersion;
      slim(item);
    }
    this.#replace(list.items);
    this.#restartDelayMs = 0;
    this.#resolveSynced();
    return list;
  }

  /** Makes the cache equal to a full list, emitting the differences. */
  #replace(items: T[]): void {
    const seen = new Set<string>();
    for (const item of items) {
      seen.add(objectKey(item));
      this.#upsert(item, false);
    }
    for (const [key, old] of this.#objects) {
      if (seen.has(key)) continue;
      this.#objects.delete(key);
      this.#emit('delete', old, old);
    }
  }

  #watched(object: T, deleted: boolean): void {
    this.#restartDelayMs = 0;
    slim(object);
    if (deleted) {
      const key = objectKey(object);
      const old = this.#objects.get(key);
      if (!old) return;
      this.#objects.delete(key);
      this.#emit('delete', normalize(object), old);
    } else {
      this.#upsert(object, true);
    }
  }

  /** `raw`: from a watch event, so not yet deserialized (list items are). */
  #upsert(object: T, raw: boolean): void {
    const key = objectKey(object);
    const old = this.#objects.get(key);
    const version = object.metadata?.resourceVersion;
    if (old && version !== undefined && old.metadata?.resourceVersion === version) return;
    const current = raw ? normalize(object) : object;
    this.#objects.set(key, current);
    this.#emit(old ? 'update' : 'add', current, old);
  }

  #emit(kind: ChangeKind, object: T, old: T | undefined): void {
    for (const listener of this.#listeners) {
      try {
        listener(kind, object, old);
      } catch (error) {
        this.#log(`${this.#name}: ${kind} listener for ${objectKey(object)} threw`, error);
      }
    }
  }

  #failed(error: unknown): void {
    if (this.#restartTimer) return;
    this.#restartDelayMs = this.#restartDelayMs > 0 ? Math.min(this.#restartDelayMs * 2, RESTART_MAX_MS) : RESTART_BASE_MS;
    const delayMs = this.#restartDelayMs;
    this.#log(`${this.#name}: list/watch failed; restarting in ${delayMs} ms`, error);
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      // start() again resumes from the last resourceVersion (and relists if that is gone: 410).
      if (!this.#stopped) this.#start(this.#generation);
    }, delayMs);
    this.#restartTimer.unref();
  }

  #scheduleRelist(): void {
    const delayMs = this.#relistMs * (0.9 + Math.random() * 0.2);
    this.#relistTimer = setTimeout(() => {
      if (this.#stopped) return;
      // Replace the ListWatch: its list reconciles the cache (emitting what a stalled watch missed) and its
      // watch starts from that list's resourceVersion. This also supersedes a pending restart.
      clearTimeout(this.#restartTimer);
      this.#restartTimer = undefined;
      const previous = this.#current;
      void previous?.stop().catch(() => undefined);
      this.#connect();
      this.#scheduleRelist();
    }, delayMs);
    this.#relistTimer.unref();
  }
}

/**
 * Two gaps of client-node's Watch as ListWatch uses it:
 * - watch() rejects instead of calling `done` when authentication (e.g. an exec plugin) fails; ListWatch calls it
 *   from a callback, so that would be an unhandled rejection and the watch would silently stay down;
 * - ListWatch.stop() aborts only a watch that is already connected. Stopped (or replaced by a relist) while its
 *   watch is connecting, which is right after the list, the watch would stay open, kept alive by every event
 *   and otherwise closed only by the 30 s inactivity timeout, keeping a CLI process alive that long.
 */
class SafeWatch extends Watch {
  readonly #live: () => boolean;

  constructor(kc: KubeConfig, live: () => boolean) {
    super(kc);
    this.#live = live;
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    try {
      const request = await super.watch(path, queryParams, callback, done);
      if (!this.#live()) request.abort();
      return request;
    } catch (error) {
      done(error);
      return new AbortController();
    }
  }
}

/**
 * Drops managedFields in place (ListWatch keeps the same object in a cache of its own): nothing here reads
 * them, and they are often the largest part of an object, so every cached Pod and EndpointSlice costs less.
 */
function slim(object: KubernetesObject): void {
  if (object.metadata?.managedFields) delete object.metadata.managedFields;
}

/**
 * Watch events carry raw JSON while list items come through client-node's deserializer (timestamps as Date, ...).
 * loadYaml is client-node's public way to deserialize by apiVersion/kind (JSON is YAML), so cached objects
 * have one shape whichever path they came by.
 */
function normalize<T extends KubernetesObject>(object: T): T {
  if (!object.apiVersion || !object.kind) return object;
  try {
    return loadYaml<T>(JSON.stringify(object));
  } catch {
    return object;
  }
}
