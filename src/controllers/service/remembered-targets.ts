import type { DesiredStack } from '../../core/model.ts';
import type { ActualStack } from '../../core/plan.ts';

/**
 * The targets this process wanted in a multi-cluster Service's groups and that are still registered (ADR 0017):
 * ours to deregister even once the cluster no longer shows them (a pod deleted between two reconciles, its
 * address in no pod CIDR or ENI pool; a Node deleted with its instance still running). In memory only, so
 * bounded by what is registered; after a restart the cluster's own addresses and Nodes say what is ours.
 */
export class RememberedTargets {
  private readonly byStack = new Map<string, Set<string>>();

  of(stackId: string): string[] {
    return [...(this.byStack.get(stackId) ?? [])];
  }

  /** After an observation: what is desired now, and what was remembered and is still registered. */
  update(stack: DesiredStack, actual: ActualStack): void {
    if (!stack.ownTargets) {
      this.byStack.delete(stack.stackId);
      return;
    }
    const registered = new Set(actual.targetGroups.flatMap((tg) => tg.targets.map((t) => t.id)));
    const kept = this.of(stack.stackId).filter((id) => registered.has(id));
    this.byStack.set(stack.stackId, new Set([...kept, ...stack.targetGroups.flatMap((tg) => tg.targets.map((t) => t.id))]));
  }

  forget(stackId: string): void {
    this.byStack.delete(stackId);
  }
}
