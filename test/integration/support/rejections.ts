import { expect } from 'vitest';
import { callsBetween, isMutating } from '../../../src/cloud/calls.ts';
import { quoted } from '../../../src/core/validation/problem.ts';
import type { TestEnvironment } from '../../../src/testing/index.ts';
import { waitForEvent, type TestCluster } from './controller.ts';

/** The writes (mutating AWS calls) the cluster's controller made since `before` (a call-counter snapshot). */
export const writesSince = (cluster: TestCluster, before: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(callsBetween(before, cluster.manager.aws.calls.snapshot())).filter(([key]) => isMutating(key.slice(key.indexOf(':') + 1))));

/** [Service name, its annotations, the annotation that is bad, the value the event quotes] */
export type RejectedSample = [string, Record<string, string>, string, string];

/**
 * Creates a Service per sample and asserts each gets a Warning event naming the annotation and quoting the value
 * (cut to under 1 KB however long the value), and that the controller wrote nothing to AWS for any of them.
 */
export async function expectRejectedWithoutWrites(
  env: TestEnvironment,
  cluster: TestCluster,
  namespace: string,
  samples: RejectedSample[],
  create: (name: string, annotations: Record<string, string>) => Promise<unknown>,
): Promise<void> {
  await cluster.manager.idle();
  const before = cluster.manager.aws.calls.snapshot();
  for (const [name, annotations] of samples) await create(name, annotations);
  for (const [name, , annotation, value] of samples) {
    const event = await waitForEvent(env, namespace, name, 'SyncLoadBalancerFailed', quoted(value));
    expect(event.type).toBe('Warning');
    expect(event.message).toContain(annotation);
    expect(event.message!.length).toBeLessThan(1024);
  }
  await cluster.manager.idle();
  expect(writesSince(cluster, before)).toEqual({});
}
