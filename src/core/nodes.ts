import type { V1Node } from '@kubernetes/client-node';
import { TO_BE_DELETED_TAINT, type NodeInfo } from './model.ts';

/** Where the node controller records the EC2 instance it launched for a Node (providerID is immutable once set). */
export const INSTANCE_ID_ANNOTATION = 'cloud-provider-localstack.io/instance-id';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const INSTANCE_TYPE_LABEL = 'node.kubernetes.io/instance-type';

/** `aws:///us-east-1a/i-0abc` → { zone, instanceId } (the AWS cloud provider's providerID form). */
export function parseProviderId(providerId: string | undefined): { zone: string; instanceId: string } | undefined {
  const match = /^aws:\/\/\/([^/]*)\/(i-[0-9a-zA-Z]+)$/.exec(providerId ?? '');
  return match ? { zone: match[1]!, instanceId: match[2]! } : undefined;
}

/** The Node's EC2 instance: its providerID when it has an AWS one, else the instance we launched for it. */
export const instanceIdOf = (node: V1Node): string | undefined =>
  parseProviderId(node.spec?.providerID)?.instanceId ?? node.metadata?.annotations?.[INSTANCE_ID_ANNOTATION];

export function nodeInfo(node: V1Node): NodeInfo {
  const instanceId = instanceIdOf(node);
  return {
    name: node.metadata?.name ?? '',
    ...(instanceId ? { instanceId } : {}),
    labels: node.metadata?.labels ?? {},
    deleting: Boolean(node.metadata?.deletionTimestamp),
    toBeDeleted: (node.spec?.taints ?? []).some((t) => t.key === TO_BE_DELETED_TAINT),
  };
}
