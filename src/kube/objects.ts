/** Small write helpers over client-node 2.x, with the patch content types set explicitly. */
import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Node, type V1Pod, type V1Service } from '@kubernetes/client-node';

export interface ObjectRef {
  kind: 'Service' | 'Node' | 'Pod';
  namespace?: string;
  name: string;
}

type JsonPatchOp = { op: 'add' | 'remove' | 'replace' | 'test'; path: string; value?: unknown };

const clients = new WeakMap<KubeConfig, CoreV1Api>();
function coreClient(kc: KubeConfig): CoreV1Api {
  let client = clients.get(kc);
  if (!client) clients.set(kc, (client = kc.makeApiClient(CoreV1Api)));
  return client;
}

/** Optimistic-lock retries: a concurrent writer makes a `test` op fail (422) and we re-read. */
const ATTEMPTS = 5;

/** True for a 404 from the API (client-node 2.x ApiException `code`, Watch errors' `statusCode`), or its cause. */
export const isNotFound = (error: unknown): boolean => statusOf(error) === 404;

/** True for a 409 Conflict. */
export const isConflict = (error: unknown): boolean => statusOf(error) === 409;

/** A failed JSON patch `test` op: the apiserver answers 422 Invalid. */
const isTestFailed = (error: unknown): boolean => statusOf(error) === 422;

function statusOf(error: unknown): number | undefined {
  for (let current = error, depth = 0; typeof current === 'object' && current !== null && depth < 5; depth++) {
    const { code, statusCode, cause } = current as { code?: unknown; statusCode?: unknown; cause?: unknown };
    if (typeof code === 'number') return code;
    if (typeof statusCode === 'number') return statusCode;
    current = cause;
  }
  return undefined;
}

/** Adds the finalizer unless present. Throws a clear error (isNotFound still true) when the object is gone. */
export async function addFinalizer(kc: KubeConfig, ref: ObjectRef, finalizer: string): Promise<void> {
  const core = coreClient(kc);
  for (let attempt = 1; ; attempt++) {
    let object: V1Service | V1Node | V1Pod;
    try {
      object = await read(core, ref);
    } catch (error) {
      if (isNotFound(error)) throw new Error(`cannot add finalizer ${finalizer}: ${describe(ref)} not found`, { cause: error });
      throw error;
    }
    const finalizers = object.metadata?.finalizers;
    if (finalizers?.includes(finalizer)) return;
    // Guard against a concurrent change of the list: appending to a changed list could duplicate an entry, and
    // creating the list when someone else just did would replace theirs.
    const patch: JsonPatchOp[] = finalizers
      ? [
          { op: 'test', path: '/metadata/finalizers', value: finalizers },
          { op: 'add', path: '/metadata/finalizers/-', value: finalizer },
        ]
      : [
          { op: 'test', path: '/metadata/resourceVersion', value: object.metadata?.resourceVersion },
          { op: 'add', path: '/metadata/finalizers', value: [finalizer] },
        ];
    try {
      await jsonPatch(core, ref, patch);
      return;
    } catch (error) {
      if (isNotFound(error)) throw new Error(`cannot add finalizer ${finalizer}: ${describe(ref)} not found`, { cause: error });
      if (!isTestFailed(error) || attempt >= ATTEMPTS) throw error;
    }
  }
}

/**
 * Removes the finalizer by index with a `test` of that index, so a concurrent change fails the patch instead of
 * removing another entry; then re-reads and tries again. No-op when absent or when the object is gone.
 */
export async function removeFinalizer(kc: KubeConfig, ref: ObjectRef, finalizer: string): Promise<void> {
  const core = coreClient(kc);
  for (let attempt = 1; ; attempt++) {
    try {
      const object = await read(core, ref);
      const index = object.metadata?.finalizers?.indexOf(finalizer) ?? -1;
      if (index < 0) return;
      const path = `/metadata/finalizers/${index}`;
      await jsonPatch(core, ref, [
        { op: 'test', path, value: finalizer },
        { op: 'remove', path },
      ]);
      return;
    } catch (error) {
      if (isNotFound(error)) return;
      if (!isTestFailed(error) || attempt >= ATTEMPTS) throw error;
    }
  }
}

/** Sets status.loadBalancer.ingress (the whole list; [] clears it) with a merge patch on the status subresource. */
export async function patchServiceStatusIngress(kc: KubeConfig, namespace: string, name: string, ingress: { hostname?: string; ip?: string }[]): Promise<void> {
  const core = coreClient(kc);
  await core.patchNamespacedServiceStatus(
    { namespace, name, body: { status: { loadBalancer: { ingress } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

/** Merge-patches labels/annotations: a null value removes the key, an undefined one leaves it alone. */
export async function mergePatchMetadata(
  kc: KubeConfig,
  ref: { kind: 'Node' | 'Pod'; namespace?: string; name: string },
  patch: { labels?: Record<string, string | null | undefined>; annotations?: Record<string, string | null | undefined> },
): Promise<void> {
  const core = coreClient(kc);
  const body = { metadata: { labels: defined(patch.labels), annotations: defined(patch.annotations) } };
  const options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  if (ref.kind === 'Node') await core.patchNode({ name: ref.name, body }, options);
  else await core.patchNamespacedPod({ namespace: namespaceOf(ref), name: ref.name, body }, options);
}

function defined(values: Record<string, string | null | undefined> | undefined): Record<string, string | null> | undefined {
  if (!values) return undefined;
  return Object.fromEntries(Object.entries(values).filter((entry): entry is [string, string | null] => entry[1] !== undefined));
}

function read(core: CoreV1Api, ref: ObjectRef): Promise<V1Service | V1Node | V1Pod> {
  switch (ref.kind) {
    case 'Service':
      return core.readNamespacedService({ namespace: namespaceOf(ref), name: ref.name });
    case 'Node':
      return core.readNode({ name: ref.name });
    case 'Pod':
      return core.readNamespacedPod({ namespace: namespaceOf(ref), name: ref.name });
  }
}

async function jsonPatch(core: CoreV1Api, ref: ObjectRef, body: JsonPatchOp[]): Promise<void> {
  // JSON patch is client-node's default for PATCH, but say so rather than depend on the generator's choice.
  const options = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
  switch (ref.kind) {
    case 'Service':
      await core.patchNamespacedService({ namespace: namespaceOf(ref), name: ref.name, body }, options);
      return;
    case 'Node':
      await core.patchNode({ name: ref.name, body }, options);
      return;
    case 'Pod':
      await core.patchNamespacedPod({ namespace: namespaceOf(ref), name: ref.name, body }, options);
      return;
  }
}

function namespaceOf(ref: { kind: string; namespace?: string; name: string }): string {
  if (!ref.namespace) throw new Error(`${ref.kind} ${ref.name}: a namespace is required`);
  return ref.namespace;
}

const describe = (ref: ObjectRef): string => `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
