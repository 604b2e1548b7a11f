import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { DescribeListenersCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, createKwokNode, createTestNamespace, deleteNodes, healthyTargets, uniqueName, waitFor, waitForLoadBalancer, type TestEnvironment } from '../../src/testing/index.ts';
import { joinNetwork, sweepCluster } from './support/controller.ts';
import { ourResources } from './support/resources.ts';

// The controller as a process, killed with SIGKILL in the middle of creating a load balancer, then started
// again: it adopts what it created (found by tags) and finishes, with no duplicate and nothing leaked.
describe('kill -9 mid-reconcile, then restart', () => {
  let env: TestEnvironment;
  let ns: { name: string; remove: () => Promise<void> };
  let leave: () => Promise<void>;
  const cluster = uniqueName('crash');
  const nodes = [uniqueName('crash-node'), uniqueName('crash-node')];
  const services = ['a', 'b', 'c', 'd'];
  let child: ChildProcess | undefined;

  const start = (onLine: (line: string) => void = () => {}) => {
    const proc = spawn(
      process.execPath,
      ['src/cli/main.ts', 'run', '--local', '--cluster-name', cluster, '--controllers', 'service,node', '--concurrency', '1', '--watch-namespace', ns.name, '--node-selector', `cloud-provider-localstack/test-node=${cluster}`, '--log-level', 'info', '--metrics-address', '127.0.0.1:0', '--health-address', 'off'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    createInterface({ input: proc.stdout! }).on('line', onLine);
    createInterface({ input: proc.stderr! }).on('line', onLine);
    return proc;
  };

  beforeAll(async () => {
    env = connect();
    leave = await joinNetwork(env, cluster);
    ns = await createTestNamespace(env.core, 'crash');
    for (const node of nodes) await createKwokNode(env.core, node, { labels: { 'cloud-provider-localstack/test-node': cluster } });
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    await ns?.remove();
    await deleteNodes(env.core, nodes);
    await sweepCluster(env, cluster);
    await leave?.();
    env?.close();
  });

  it('adopts what the killed process created: one NLB, one listener and one target group per Service', async () => {
    let killedAt = '';
    const killed = new Promise<void>((resolve) => {
      child = start((line) => {
        // Kill between the load balancer and its target group of the second Service being created.
        if (!killedAt && line.includes('"action":"CreateTargetGroup"') && line.includes(`${ns.name}/b`)) {
          killedAt = line;
          child!.kill('SIGKILL');
          resolve();
        }
      });
    });
    for (const name of services) {
      await env.core.createNamespacedService({
        namespace: ns.name,
        body: { metadata: { name }, spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] } },
      });
    }
    await killed;
    await waitFor(() => child!.exitCode !== null || child!.signalCode !== null, { description: 'controller process gone' });
    const half = await ourResources(env, cluster);
    expect(half.loadBalancers.length).toBeGreaterThanOrEqual(2);

    child = start();
    for (const name of services) {
      await waitForLoadBalancer(env, ns.name, name, (lb) => lb.listeners.length === 1 && healthyTargets(lb.listeners[0]).length === nodes.length, { timeoutMs: 90_000 });
    }
    const after = await ourResources(env, cluster);
    const byStack = (arns: { stack: string }[]) => services.map((s) => arns.filter((r) => r.stack === `${ns.name}/${s}`).length);
    expect(byStack(after.loadBalancers)).toEqual([1, 1, 1, 1]);
    expect(byStack(after.targetGroups)).toEqual([1, 1, 1, 1]);
    for (const lb of after.loadBalancers) {
      const listeners = await env.aws.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.arn }));
      expect(listeners.Listeners).toHaveLength(1);
    }

    // Deleting the Services leaves nothing of ours behind.
    for (const name of services) await env.core.deleteNamespacedService({ namespace: ns.name, name });
    await waitFor(async () => {
      const left = await ourResources(env, cluster);
      return left.loadBalancers.length + left.targetGroups.length === 0;
    }, { description: 'every load balancer and target group of the cluster deleted', timeoutMs: 60_000 });
  });
});
