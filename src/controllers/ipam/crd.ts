import { ApiextensionsV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { isNotFound } from '../../kube/objects.ts';

/**
 * ENIPool: one cluster-scoped object per node (named after it) whose status shows the pool, readable with
 * `kubectl get enipools` / `kubectl get enipool NODE -o yaml`. It also keeps what must survive a restart:
 * the addresses in cooldown (ipamd loses them: amazon-vpc-cni-k8s #1127) and which pod had which address.
 */
export const ENIPOOL_GROUP = 'cloud-provider-localstack.io';
export const ENIPOOL_VERSION = 'v1alpha1';
export const ENIPOOL_PLURAL = 'enipools';

export interface EniPoolStatus {
  instanceId: string;
  instanceType: string;
  maxEnis: number;
  ipv4PerEni: number;
  maxPods: number;
  enis: { id: string; deviceIndex: number; primary: boolean; addresses: string[] }[];
  eniCount: number;
  total: number;
  assigned: number;
  warm: number;
  cooling: number;
  allocations: { ip: string; eni: string; pod: string; podUid: string }[];
  cooldown: { ip: string; until: string }[];
  /** Why pods on the node wait, if they do. */
  blocked?: string;
  updatedAt: string;
}

export interface EniPool {
  apiVersion: string;
  kind: 'ENIPool';
  metadata: { name: string; resourceVersion?: string };
  status?: EniPoolStatus;
}

const column = (name: string, type: string, jsonPath: string) => ({ name, type, jsonPath });

export const eniPoolCrd: V1CustomResourceDefinition = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${ENIPOOL_PLURAL}.${ENIPOOL_GROUP}` },
  spec: {
    group: ENIPOOL_GROUP,
    scope: 'Cluster',
    names: { plural: ENIPOOL_PLURAL, singular: 'enipool', kind: 'ENIPool', listKind: 'ENIPoolList', shortNames: ['enip'] },
    versions: [
      {
        name: ENIPOOL_VERSION,
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: [
          column('Instance', 'string', '.status.instanceId'),
          column('Type', 'string', '.status.instanceType'),
          column('ENIs', 'integer', '.status.eniCount'),
          column('IPs', 'integer', '.status.total'),
          column('Assigned', 'integer', '.status.assigned'),
          column('Warm', 'integer', '.status.warm'),
          column('Cooldown', 'integer', '.status.cooling'),
          column('Blocked', 'string', '.status.blocked'),
        ],
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', x_kubernetes_preserve_unknown_fields: true },
              status: { type: 'object', x_kubernetes_preserve_unknown_fields: true },
            },
          },
        },
      },
    ],
  },
};

/** Creates the CRD if it is missing and waits until it is served. */
export async function ensureEniPoolCrd(kubeconfig: KubeConfig): Promise<void> {
  const api = kubeconfig.makeApiClient(ApiextensionsV1Api);
  try {
    await api.readCustomResourceDefinition({ name: eniPoolCrd.metadata!.name! });
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await api.createCustomResourceDefinition({ body: eniPoolCrd }).catch((e: unknown) => {
      if ((e as { code?: number }).code !== 409) throw e;
    });
  }
  const objects = kubeconfig.makeApiClient(CustomObjectsApi);
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      await objects.listClusterCustomObject({ group: ENIPOOL_GROUP, version: ENIPOOL_VERSION, plural: ENIPOOL_PLURAL, limit: 1 });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  throw new Error(`CRD ${eniPoolCrd.metadata!.name} is not served`);
}

export class EniPoolStore {
  private readonly api: CustomObjectsApi;

  constructor(kubeconfig: KubeConfig) {
    this.api = kubeconfig.makeApiClient(CustomObjectsApi);
  }

  async list(): Promise<EniPool[]> {
    const result = (await this.api.listClusterCustomObject({ group: ENIPOOL_GROUP, version: ENIPOOL_VERSION, plural: ENIPOOL_PLURAL })) as { items?: EniPool[] };
    return result.items ?? [];
  }

  async get(name: string): Promise<EniPool | undefined> {
    try {
      return (await this.api.getClusterCustomObject({ group: ENIPOOL_GROUP, version: ENIPOOL_VERSION, plural: ENIPOOL_PLURAL, name })) as EniPool;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Writes the status, creating the object first when needed. */
  async writeStatus(name: string, status: EniPoolStatus): Promise<void> {
    const body = { status };
    try {
      await this.api.patchClusterCustomObjectStatus(
        { group: ENIPOOL_GROUP, version: ENIPOOL_VERSION, plural: ENIPOOL_PLURAL, name, body },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await this.api.createClusterCustomObject({
        group: ENIPOOL_GROUP,
        version: ENIPOOL_VERSION,
        plural: ENIPOOL_PLURAL,
        body: { apiVersion: `${ENIPOOL_GROUP}/${ENIPOOL_VERSION}`, kind: 'ENIPool', metadata: { name } },
      });
      await this.api.patchClusterCustomObjectStatus(
        { group: ENIPOOL_GROUP, version: ENIPOOL_VERSION, plural: ENIPOOL_PLURAL, name, body },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    }
  }

  async delete(name: string): Promise<void> {
    await this.api.deleteClusterCustomObject({ group: ENIPOOL_GROUP, version: ENIPOOL_VERSION, plural: ENIPOOL_PLURAL, name }).catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
  }
}
