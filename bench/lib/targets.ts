import { Tags } from '../../src/core/annotations.ts';
import type { InProcessController } from './controller.ts';

interface MiddlewareStack {
  add(
    middleware: (next: (args: { input: object }) => Promise<{ output?: object }>, context: { commandName?: string }) => (args: { input: object }) => Promise<{ output?: object }>,
    options: { step: 'initialize'; name: string },
  ): void;
  remove(name: string): boolean;
}

export interface TargetMirror {
  /** The targets (`id:port`) registered in the stack's target groups, as the controller's own calls left them. */
  targets(stack: string): Set<string>;
  /** Called after each successful RegisterTargets or DeregisterTargets, with the stack it touched. */
  onChange(listener: (stack: string) => void): () => void;
  stop(): void;
}

let installed = 0;

/**
 * Follows what the controller writes to its target groups, from its own ELBv2 client: a middleware notes each
 * CreateTargetGroup (its stack tag → the new ARN) and each RegisterTargets/DeregisterTargets as it returns.
 * Only groups created after installation are followed. No extra AWS call, so it can be read at every reconcile.
 */
export function mirrorTargets(controller: InProcessController): TargetMirror {
  const name = `benchTargetMirror${++installed}`;
  const stackOf = new Map<string, string>();
  const registered = new Map<string, Set<string>>();
  const listeners = new Set<(stack: string) => void>();
  const stack = controller.manager.aws.elbv2.middlewareStack as unknown as MiddlewareStack;
  stack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const input = args.input as { Tags?: { Key?: string; Value?: string }[]; TargetGroupArn?: string; Targets?: { Id?: string; Port?: number }[] };
      if (context.commandName === 'CreateTargetGroupCommand') {
        const arn = (result.output as { TargetGroups?: { TargetGroupArn?: string }[] } | undefined)?.TargetGroups?.[0]?.TargetGroupArn;
        const stackId = input.Tags?.find((t) => t.Key === Tags.stack)?.Value;
        if (arn && stackId) {
          stackOf.set(arn, stackId);
          registered.set(arn, new Set());
        }
      } else if (context.commandName === 'RegisterTargetsCommand' || context.commandName === 'DeregisterTargetsCommand') {
        const set = input.TargetGroupArn ? registered.get(input.TargetGroupArn) : undefined;
        if (set) {
          for (const t of input.Targets ?? []) {
            if (context.commandName === 'RegisterTargetsCommand') set.add(`${t.Id}:${t.Port}`);
            else set.delete(`${t.Id}:${t.Port}`);
          }
          const stackId = stackOf.get(input.TargetGroupArn!)!;
          for (const listener of listeners) listener(stackId);
        }
      }
      return result;
    },
    { step: 'initialize', name },
  );
  return {
    targets(stackId) {
      const union = new Set<string>();
      for (const [arn, s] of stackOf) if (s === stackId) for (const t of registered.get(arn) ?? []) union.add(t);
      return union;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop() {
      stack.remove(name);
    },
  };
}

/** A set of targets as one comparable string. */
export const targetKey = (targets: Iterable<string>): string => [...targets].sort().join(',');
