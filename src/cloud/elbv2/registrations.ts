import { DescribeTargetHealthCommand, type ElasticLoadBalancingV2Client, type TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import { holdsAddress } from '../../core/target-health.ts';
import type { OwnershipIndex } from './ownership.ts';
import { errorName } from './sdk.ts';

/** What the ENI pool asks of the load-balancer side: which addresses a target group of ours still holds. */
export interface RegisteredTargets {
  registeredTargetIds(): Promise<Set<string>>;
}

/**
 * Target IDs registered in each target group of ours, as last observed or written, for the ENI pool's safe
 * address reuse (an address is reused only once no group of ours holds it).
 */
export class Registrations {
  private readonly client: ElasticLoadBalancingV2Client;
  private readonly index: OwnershipIndex;
  private readonly held = new Map<string, Set<string>>();
  /** Groups whose last read showed a target draining: read again when asked, since the delay ends unseen. */
  private readonly draining = new Set<string>();

  constructor(client: ElasticLoadBalancingV2Client, index: OwnershipIndex) {
    this.client = client;
    this.index = index;
  }

  /** Remembers which target IDs a group holds (registered or draining) and whether any is draining. */
  observed(arn: string, descriptions: TargetHealthDescription[] | undefined): Set<string> {
    const held = addressesHeld(descriptions);
    this.held.set(arn, held);
    if ((descriptions ?? []).some((d) => d.TargetHealth?.State === 'draining')) this.draining.add(arn);
    else this.draining.delete(arn);
    return held;
  }

  registered(arn: string, ids: string[]): void {
    const known = this.held.get(arn) ?? new Set<string>();
    for (const id of ids) known.add(id);
    this.held.set(arn, known);
  }

  /** Still draining in AWS; conservative callers (IP reuse) look again on the next observe. */
  deregistered(arn: string, ids: string[]): void {
    for (const id of ids) this.held.get(arn)?.delete(id);
  }

  forget(arn: string): void {
    this.held.delete(arn);
    this.draining.delete(arn);
  }

  /**
   * Every target ID registered in any target group of ours (the index must be loaded). Groups not seen since
   * start are read once, so the answer is complete even before the first reconcile of their Service.
   */
  async targetIds(): Promise<Set<string>> {
    const ids = new Set<string>();
    for (const owned of this.index.all()) {
      for (const arn of owned.targetGroups.keys()) {
        let known = this.held.get(arn);
        if (!known || this.draining.has(arn)) {
          try {
            const health = await this.client.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
            known = this.observed(arn, health.TargetHealthDescriptions);
          } catch (error) {
            if (errorName(error) !== 'TargetGroupNotFoundException') throw error;
            known = new Set();
            this.held.set(arn, known);
          }
        }
        for (const id of known) ids.add(id);
      }
    }
    return ids;
  }
}

/** Target IDs a group still holds (registered or draining): addresses the ENI pool must not reuse yet. */
function addressesHeld(descriptions: TargetHealthDescription[] | undefined): Set<string> {
  const held = (descriptions ?? []).filter((d) => holdsAddress({ state: d.TargetHealth?.State ?? 'unknown', ...(d.TargetHealth?.Reason ? { reason: d.TargetHealth.Reason } : {}) }));
  return new Set(held.map((d) => d.Target?.Id ?? ''));
}
