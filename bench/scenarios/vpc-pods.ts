import { readFileSync } from 'node:fs';
import { RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import { DEMO_IMAGE, NETWORK_NODE_LABEL } from '../../src/cli/demo.ts';
import { ENIPOOL_GROUP, ENIPOOL_PLURAL, ENIPOOL_VERSION, type EniPool } from '../../src/controllers/ipam/crd.ts';
import { IPAM_NODE_LABEL } from '../../src/core/ipam/keys.ts';
import { INSTANCE_ID_ANNOTATION, INSTANCE_TYPE_LABEL, ZONE_LABEL } from '../../src/core/nodes.ts';
import { namespacePids } from '../../src/devenv/vpc/fabric.ts';
import { nodeNs, podNs } from '../../src/devenv/vpc/names.ts';
import { deleteNodes, isNodeReady, isPodReady, waitFor } from '../../src/testing/index.ts';
import { watchNamespaced } from '../lib/kube.ts';
import { latencyFigures, mapLimit, percentile, round } from '../lib/measure.ts';
import { defineScenario, type BenchContext } from '../lib/types.ts';

const INSTANCE_TYPE = 'm5.4xlarge'; // 232 pod addresses per node: 200 pods fit on 4 with room
const MIB = 1024 * 1024;

/** Resident set of a process, 0 when it is gone. */
const rssBytes = (pid: number): number => {
  try {
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
};
const namespaceRss = async (ns: string): Promise<number> => (await namespacePids(ns)).reduce((sum, pid) => sum + rssBytes(pid), 0);

/**
 * Networked nodes (the vpc component runs their agents) with EC2 instances of their own, launched here and
 * named on the Node (providerID and the instance annotation), so no node controller has to run.
 */
async function createNetworkedNodes(ctx: BenchContext, count: number) {
  const { env } = ctx;
  const names = Array.from({ length: count }, (_, i) => `${ctx.cluster}-v${i}`);
  ctx.defer('kube', async () => {
    await deleteNodes(env.core, names);
    const custom = env.kubeconfig.makeApiClient(CustomObjectsApi);
    await Promise.all(names.map((name) => custom.deleteClusterCustomObject({ group: ENIPOOL_GROUP, version: ENIPOOL_VERSION, plural: ENIPOOL_PLURAL, name }).catch(() => undefined)));
  });
  await mapLimit(names, 4, async (name, i) => {
    const subnet = env.network.privateSubnets[i % env.network.privateSubnets.length]!;
    const result = await env.aws.ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-12c6146b',
        InstanceType: INSTANCE_TYPE,
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnet.id,
        SecurityGroupIds: [env.network.nodeSecurityGroupId],
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: `kubernetes.io/cluster/${ctx.cluster}`, Value: 'owned' }, { Key: 'Name', Value: name }] }],
      }),
    );
    const instanceId = result.Instances![0]!.InstanceId!;
    await env.core.createNode({
      body: {
        metadata: {
          name,
          labels: { 'kubernetes.io/hostname': name, ...ctx.nodeLabels, [NETWORK_NODE_LABEL]: 'vpc', [IPAM_NODE_LABEL]: 'enabled', [ZONE_LABEL]: subnet.zone, [INSTANCE_TYPE_LABEL]: INSTANCE_TYPE },
          annotations: { [INSTANCE_ID_ANNOTATION]: instanceId },
        },
        spec: { providerID: `aws:///${subnet.zone}/${instanceId}` },
        status: { allocatable: { cpu: '16', memory: '64Gi', pods: '234' }, capacity: { cpu: '16', memory: '64Gi', pods: '234' } },
      },
    });
  });
  await waitFor(async () => (await Promise.all(names.map((name) => env.core.readNode({ name })))).every(isNodeReady), {
    description: `${count} networked nodes Ready (their agents run)`,
    timeoutMs: 180_000,
  });
  return names;
}

/**
 * Pods of one agnhost Deployment (netexec, readiness httpGet /healthz every second) over 4 networked nodes:
 * per pod, from when the bench's watch first sees it to when it sees it Ready (its agent's readiness probe
 * reached the real process at its VPC address); then the resident set of every pod's processes and of the
 * nodes' own (agent, kube-proxy).
 */
export default defineScenario({
  name: 'vpc-pods',
  description: 'agnhost pods on 4 networked nodes (real processes in the local VPC): pod created → serving (Ready) p50/p99, RSS per pod and in all',
  sizes: { smoke: { pods: 6, nodes: 2 }, default: { pods: 200, nodes: 4 } },
  async run(ctx, size) {
    const { env, namespace } = ctx;
    const nodes = await createNetworkedNodes(ctx, size.nodes);
    await ctx.startController({ controllers: ['ipam'] });
    const custom = env.kubeconfig.makeApiClient(CustomObjectsApi);
    const warm = async (name: string) => ((await custom.getClusterCustomObject({ group: ENIPOOL_GROUP, version: ENIPOOL_VERSION, plural: ENIPOOL_PLURAL, name }).catch(() => undefined)) as EniPool | undefined)?.status?.warm ?? 0;
    await waitFor(async () => (await Promise.all(nodes.map(warm))).every((w) => w > 0), { description: 'every node with a warm pool', timeoutMs: 120_000 });

    const pods = watchNamespaced<V1Pod>(env, 'pods', namespace);
    const seen = new Map<string, { created: number; ready?: number }>();
    pods.onChange((kind, pod) => {
      if (kind === 'delete') return;
      const now = performance.now();
      const uid = pod.metadata?.uid ?? '';
      const entry = seen.get(uid) ?? { created: now };
      if (isPodReady(pod) && entry.ready === undefined) entry.ready = now;
      seen.set(uid, entry);
    });
    try {
      await pods.synced;
      const t0 = performance.now();
      await env.apps.createNamespacedDeployment({
        namespace,
        body: {
          metadata: { name: 'vpc' },
          spec: {
            replicas: size.pods,
            selector: { matchLabels: { app: 'vpc' } },
            template: {
              metadata: { labels: { app: 'vpc' } },
              spec: {
                nodeSelector: ctx.nodeLabels,
                terminationGracePeriodSeconds: 0,
                containers: [
                  {
                    name: 'agnhost',
                    image: DEMO_IMAGE,
                    args: ['netexec', '--http-port=8080', '--udp-port=8081'],
                    ports: [{ name: 'http', containerPort: 8080 }],
                    readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1 },
                  },
                ],
              },
            },
          },
        },
      });
      await waitFor(() => [...seen.values()].filter((e) => e.ready !== undefined).length >= size.pods, {
        description: `${size.pods} pods Ready`,
        timeoutMs: 900_000,
        intervalMs: 200,
      });
      const allReadyMs = Math.max(...[...seen.values()].map((e) => e.ready!)) - t0;
      const entries = [...seen.values()].filter((e) => e.ready !== undefined);
      const podRss = await mapLimit(pods.list(), 8, (pod) => namespaceRss(podNs(pod.metadata!.uid!)));
      const nodeRss = await mapLimit(nodes, 4, (name) => namespaceRss(nodeNs(name)));
      const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
      return {
        pods: size.pods,
        nodes: size.nodes,
        ...latencyFigures('createdToServing', entries.map((e) => e.ready! - e.created)),
        allServingMs: round(allReadyMs),
        podRssP50MiB: round(percentile(podRss, 50) / MIB, 2),
        podRssMaxMiB: round(Math.max(...podRss) / MIB, 2),
        podsRssMiB: round(sum(podRss) / MIB),
        nodeProcessesRssPerNodeMiB: round(sum(nodeRss) / nodes.length / MIB),
        allRssMiB: round((sum(podRss) + sum(nodeRss)) / MIB),
        allRssPerPodMiB: round((sum(podRss) + sum(nodeRss)) / size.pods / MIB, 2),
      };
    } finally {
      pods.stop();
    }
  },
});
