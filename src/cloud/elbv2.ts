import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { ActualStack, LoadBalancerAction } from '../core/plan.ts';
import { applyActions } from './elbv2/apply.ts';
import { type ExpectedNames, OwnershipIndex } from './elbv2/ownership.ts';
import type { Elbv2Parts } from './elbv2/parts.ts';
import { BulkReads } from './elbv2/prefetch.ts';
import { readStack, type StackReads } from './elbv2/read-stack.ts';
import { Registrations, type RegisteredTargets } from './elbv2/registrations.ts';
import { KnownTargetGroupAttributes } from './elbv2/target-group-attributes.ts';

/**
 * The ELBv2 adapter, the one entry point the controllers use. Its jobs live in src/cloud/elbv2/:
 * ownership.ts (the index of our ARNs per stack, adoption by name), prefetch.ts (the bulk-read cache of a
 * resync), read-stack.ts (observe), apply.ts (one function per plan action kind), registrations.ts (which
 * addresses a target group of ours still holds, for the ENI pool), target-group-attributes.ts (ADR 0009).
 * Every call goes through the one counted client (clients.ts).
 */
export class LoadBalancerCloud implements RegisteredTargets {
  private readonly parts: Elbv2Parts;

  constructor(client: ElasticLoadBalancingV2Client, clusterName: string) {
    const index = new OwnershipIndex(client, clusterName);
    this.parts = {
      client,
      index,
      bulkReads: new BulkReads(client, index),
      registrations: new Registrations(client, index),
      targetGroupAttributes: new KnownTargetGroupAttributes(client),
    };
  }

  /** Builds the index of our resources (once; concurrent callers share the load). */
  loadIndex(): Promise<void> {
    return this.parts.index.load();
  }

  /** Stacks the index knows, for garbage collection of Services that vanished while we were away. */
  knownStacks(): Promise<string[]> {
    return this.parts.index.knownStacks();
  }

  /**
   * Reads the load balancers and target groups of many stacks in calls of 20 ARNs, for a resync pass: each
   * stack's next observe then reads only its listeners and target health (2 calls, not 4).
   */
  async prefetch(stackIds: string[]): Promise<void> {
    await this.loadIndex();
    await this.parts.bulkReads.read(stackIds);
  }

  /**
   * Everything of ours for one Service, with target health; attributes and listener tags only when asked for.
   * `expected` names let a resource whose create answer was lost be adopted (by our tags) before a new create.
   */
  async observe(stackId: string, read: StackReads, expected: ExpectedNames = {}): Promise<ActualStack> {
    await this.loadIndex();
    return readStack(this.parts, stackId, read, expected);
  }

  /**
   * Applies a plan's ELBv2 actions in order; resources created earlier in the plan are referenced by key in
   * `created`, which the security-group applier shares (a new NLB is created with its new groups).
   */
  apply(stackId: string, vpcId: string, actions: LoadBalancerAction[], onAction?: (action: LoadBalancerAction) => void, created?: Map<string, string>): Promise<void> {
    return applyActions(this.parts, stackId, vpcId, actions, onAction, created);
  }

  /** Every target ID a target group of ours still holds (registered or draining), for the ENI pool. */
  async registeredTargetIds(): Promise<Set<string>> {
    await this.loadIndex();
    return this.parts.registrations.targetIds();
  }

  /** Target health of one target group, for the flip test and `describe`. */
  async targetHealth(targetGroupArn: string) {
    const result = await this.parts.client.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
    return result.TargetHealthDescriptions ?? [];
  }
}
