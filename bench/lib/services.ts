import { waitFor } from '../../src/testing/wait.ts';
import { DescribeListenersCommand, DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { V1Service } from '@kubernetes/client-node';
import { clusterResources } from './aws.ts';
import { converged, waitForKeys, type InProcessController } from './controller.ts';
import { createServices } from './kube.ts';
import { mapLimit } from './measure.ts';
import type { BenchNode } from './nodes.ts';
import type { BenchContext } from './types.ts';

export interface Burst {
  /** performance.now() when the first create was sent. */
  t0: number;
  /** When the last create returned. */
  createdAt: number;
  /** Per Service key: when its reconcile first left it converged. */
  convergedAt: Map<string, number>;
  services: V1Service[];
}

/** Creates `count` instance-mode Services over the scenario's nodes at once and waits until every one converged. */
export async function createConvergedServices(ctx: BenchContext, controller: InProcessController, count: number, timeoutMs = 900_000): Promise<Burst> {
  const names = Array.from({ length: count }, (_, i) => `svc-${String(i).padStart(4, '0')}`);
  const keys = names.map((name) => `${ctx.namespace}/${name}`);
  const t0 = performance.now();
  const waiting = waitForKeys(controller, keys, converged, { since: t0, timeoutMs, description: `${count} Services converged` });
  waiting.catch(() => undefined);
  const services = await createServices(ctx.env, ctx.namespace, names.map((name) => ({ name, mode: 'instance' as const, selector: { app: name } })));
  const createdAt = performance.now();
  const convergedAt = await waiting;
  return { t0, createdAt, convergedAt, services };
}

/**
 * Checks from the bench's own AWS client (not the controller's counter) that every Service's status names an
 * active NLB of its stack whose one listener forwards to a target group with every node's instance healthy.
 * Returns how many were verified; throws on the first that is not.
 */
export async function verifyInstanceServices(ctx: BenchContext, names: string[], nodes: BenchNode[]): Promise<number> {
  const { env } = ctx;
  const services = new Map((await env.core.listNamespacedService({ namespace: ctx.namespace })).items.map((s) => [s.metadata!.name!, s]));
  const { loadBalancers, stackOf } = await clusterResources(env, ctx.cluster);
  const byDns = new Map(loadBalancers.map((lb) => [lb.DNSName!.toLowerCase(), lb]));
  const expected = nodes.map((n) => n.instanceId).sort();
  await mapLimit(names, 4, async (name) => {
    const service = services.get(name);
    const hostname = service?.status?.loadBalancer?.ingress?.[0]?.hostname ?? '';
    const lb = byDns.get(hostname);
    if (!lb || stackOf.get(lb.LoadBalancerArn!) !== `${ctx.namespace}/${name}`) throw new Error(`${name}: status hostname ${JSON.stringify(hostname)} is no NLB of its stack`);
    if (lb.State?.Code !== 'active') throw new Error(`${name}: NLB is ${lb.State?.Code}`);
    const listeners = (await env.aws.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }))).Listeners ?? [];
    const tg = listeners[0]?.DefaultActions?.[0]?.TargetGroupArn;
    if (listeners.length !== 1 || !tg) throw new Error(`${name}: ${listeners.length} listeners`);
    // Target health comes from the data plane's checks, reported a moment after registration (initial first).
    let healthy: string[] = [];
    await waitFor(
      async () => {
        const health = (await env.aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }))).TargetHealthDescriptions ?? [];
        healthy = health.filter((h) => h.TargetHealth?.State === 'healthy').map((h) => h.Target!.Id!).sort();
        return healthy.join() === expected.join();
      },
      { description: `${name}: every node's instance healthy`, timeoutMs: 60_000 },
    ).catch(() => {
      throw new Error(`${name}: healthy targets ${healthy.join(',')}, expected ${expected.join(',')}`);
    });
  });
  return names.length;
}
