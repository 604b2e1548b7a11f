import { spawnSync } from 'node:child_process';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { Annotations } from '../../src/core/annotations.ts';
import { resolve } from 'node:path';
import { bastionNs, envIdOf, netnsPath } from '../../src/devenv/vpc/names.ts';
import {
  agnhostDeployment,
  FAST_HEALTH_CHECK_ANNOTATIONS,
  loadBalancerServiceBody,
  resolveInVpc,
  serviceLoadBalancer,
  waitForLoadBalancer,
  waitForReadyPods,
} from '../../src/testing/index.ts';
import { latencyFigures, round } from '../lib/measure.ts';
import { defineScenario } from '../lib/types.ts';
import { createNetworkedNodes } from './vpc-pods.ts';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/**
 * Sequential HTTP GETs from the bastion (a client in the VPC), each on a new TCP connection as NLB flows are:
 * the milliseconds of each, and requests per second over the run. Runs in the bastion's namespace so neither the
 * door nor the host is on the path.
 */
function timeRequests(stateRoot: string, urls: string[], count: number): { latencies: number[]; perSecond: number; failed: number } {
  const script = `
    const http = require('node:http');
    const [count, ...urls] = process.argv.slice(1);
    const get = (url) => new Promise((resolve) => {
      const started = process.hrtime.bigint();
      const req = http.get(url, { agent: false, timeout: 5000 }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200 ? Number(process.hrtime.bigint() - started) / 1e6 : -1));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(-1));
    });
    (async () => {
      const latencies = []; let failed = 0; const t0 = Date.now();
      for (let i = 0; i < Number(count); i++) {
        const ms = await get(urls[i % urls.length]);
        if (ms < 0) failed++; else latencies.push(ms);
      }
      console.log(JSON.stringify({ latencies, failed, perSecond: (latencies.length + failed) / ((Date.now() - t0) / 1000) }));
    })();`;
  const result = spawnSync('nsenter', [`--net=${netnsPath(bastionNs(envIdOf(resolve(stateRoot))))}`, '--', process.execPath, '-e', script, String(count), ...urls], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (result.status !== 0) throw new Error(`requests from the bastion: ${result.stderr || result.error?.message}`);
  return JSON.parse(result.stdout) as { latencies: number[]; perSecond: number; failed: number };
}

/**
 * The seed's picture, measured: a client in the VPC sends the same requests straight to the pods, through the
 * NLB in instance mode (NLB → node → kube-proxy → pod) and in ip mode (NLB → pod). What the NLB adds is the
 * difference to straight; what instance mode's extra hop adds is instance minus ip.
 */
export default defineScenario({
  name: 'nlb-latency',
  description: 'requests from a client in the VPC straight to the pods vs through the NLB in instance and ip mode: p50/p99 latency, requests/s, the extra hop of instance mode',
  sizes: { smoke: { requests: 60, nodes: 2, pods: 2 }, default: { requests: 2000, nodes: 2, pods: 4 } },
  async run(ctx, size) {
    const { env, namespace } = ctx;
    await createNetworkedNodes(ctx, size.nodes);
    await ctx.startController({ controllers: ['service', 'ipam'] });
    await env.apps.createNamespacedDeployment({ namespace, body: agnhostDeployment('web', { replicas: size.pods, nodeSelector: ctx.nodeLabels, terminationGracePeriodSeconds: 0 }) });
    const pods = await waitForReadyPods(env.core, namespace, 'app=web', size.pods);
    const annotations = (targetType: string) => ({ [Annotations.targetType]: targetType, ...FAST_HEALTH_CHECK_ANNOTATIONS });
    await env.core.createNamespacedService({ namespace, body: loadBalancerServiceBody('web', { annotations: annotations('instance') }) });
    const service = { namespace, name: 'web' };
    const allHealthy = (type: string) =>
      waitForLoadBalancer(env, namespace, 'web', (lb) => lb.listeners.length === 1 && lb.listeners[0]!.targetType === type && lb.listeners[0]!.targets.length > 0 && lb.listeners[0]!.targets.every((t) => t.health === 'healthy'), { timeoutMs: 180_000 });
    await allHealthy('instance');
    const lb = await serviceLoadBalancer(env, service);
    const lbUrls = async () => (await resolveInVpc(env, lb.dnsName)).map((address) => `http://${address}/hostname`);
    const podUrls = pods.map((p) => `http://${p.status!.podIP}:8080/hostname`);

    const direct = timeRequests(env.stateDir, podUrls, size.requests);
    const instance = timeRequests(env.stateDir, await lbUrls(), size.requests);
    await env.core.patchNamespacedService({ namespace, name: 'web', body: { metadata: { annotations: annotations('ip') } } }, mergePatch);
    await allHealthy('ip');
    const ip = timeRequests(env.stateDir, await lbUrls(), size.requests);
    const p50 = (latencies: number[]) => latencyFigures('x', latencies)['x.p50Ms'] as number;
    return {
      requests: size.requests,
      ...latencyFigures('direct', direct.latencies),
      ...latencyFigures('nlbInstance', instance.latencies),
      ...latencyFigures('nlbIp', ip.latencies),
      directPerSecond: round(direct.perSecond),
      nlbInstancePerSecond: round(instance.perSecond),
      nlbIpPerSecond: round(ip.perSecond),
      failed: direct.failed + instance.failed + ip.failed,
      // What the NLB adds to a request, and what instance mode's hop through the node and kube-proxy adds.
      nlbAddedP50Ms: round(p50(ip.latencies) - p50(direct.latencies), 2),
      instanceHopP50Ms: round(p50(instance.latencies) - p50(ip.latencies), 2),
    };
  },
});
