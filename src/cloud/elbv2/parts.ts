import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { OwnershipIndex } from './ownership.ts';
import type { BulkReads } from './prefetch.ts';
import type { Registrations } from './registrations.ts';
import type { KnownTargetGroupAttributes } from './target-group-attributes.ts';

/**
 * What the ELBv2 adapter keeps between calls, shared by its reader (read-stack.ts) and its applier
 * (apply.ts): what each write must keep up to date is named here, in one place.
 */
export interface Elbv2Parts {
  /** The counted client (clients.ts): every call goes through it. */
  client: ElasticLoadBalancingV2Client;
  index: OwnershipIndex;
  bulkReads: BulkReads;
  registrations: Registrations;
  targetGroupAttributes: KnownTargetGroupAttributes;
}
