import { randomBytes } from 'node:crypto';
import type { TestEnvironment } from '../../src/testing/index.ts';
import { joinNetwork, sweepCluster } from './aws.ts';
import { startInProcessController } from './controller.ts';
import { removeNamespace } from './kube.ts';
import { BENCH_NODE_LABEL, createBenchNodes } from './nodes.ts';
import type { BenchContext, CleanupPhase, SizeName } from './types.ts';

const PHASES: CleanupPhase[] = ['controllers', 'kube', 'aws', 'network'];

export interface OpenContext {
  ctx: BenchContext;
  /** Runs every cleanup (phase by phase); returns the errors, never throws. */
  close(): Promise<string[]>;
}

/**
 * A scenario's world: its own AWS cluster name (joined to the seeded network), namespace and node label.
 * Everything it creates is registered for cleanup, which runs whether the scenario succeeded or not.
 */
export async function openContext(env: TestEnvironment, scenario: string, sizeName: SizeName, log: (line: string) => void): Promise<OpenContext> {
  const id = randomBytes(4).toString('hex');
  const cluster = `bench-${scenario}-${id}`;
  const namespace = `bench-${scenario}-${id}`;
  const cleanups = new Map<CleanupPhase, (() => Promise<unknown>)[]>(PHASES.map((p) => [p, []]));
  const ctx: BenchContext = {
    env,
    scenario,
    sizeName,
    cluster,
    namespace,
    nodeLabels: { [BENCH_NODE_LABEL]: cluster },
    log: (message) => log(`[${scenario}] ${message}`),
    defer: (phase, cleanup) => cleanups.get(phase)!.push(cleanup),
    startController: async (options) => {
      // Scoped like the tests: this scenario's namespace and nodes only, so other work on the cluster is not ours.
      const controller = await startInProcessController(env, cluster, { watchNamespace: namespace, nodeSelector: `${BENCH_NODE_LABEL}=${cluster}`, ...options });
      ctx.defer('controllers', () => controller.stop());
      return controller;
    },
    createNodes: (count, options) => createBenchNodes(ctx, count, options),
  };
  const close = async () => {
    const errors: string[] = [];
    for (const phase of PHASES) {
      for (const cleanup of cleanups.get(phase)!.reverse()) {
        try {
          await cleanup();
        } catch (error) {
          errors.push(`${phase}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    }
    return errors;
  };
  try {
    const leave = await joinNetwork(env, cluster);
    ctx.defer('network', leave);
    ctx.defer('aws', async () => {
      const swept = await sweepCluster(env, cluster, namespace);
      ctx.log(`swept ${swept.loadBalancers} NLBs, ${swept.targetGroups} target groups, ${swept.instances} instances, ${swept.enis} ENIs`);
    });
    await env.core.createNamespace({ body: { metadata: { name: namespace, labels: { 'cloud-provider-localstack/test': 'true', 'cloud-provider-localstack/bench': scenario } } } });
    ctx.defer('kube', () => removeNamespace(env, namespace));
  } catch (error) {
    await close();
    throw error;
  }
  return { ctx, close };
}
