import { readFileSync } from 'node:fs';
import { RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import { ENIPOOL_GROUP, ENIPOOL_PLURAL, ENIPOOL_VERSION, type EniPool } from '../../src/controllers/ipam/crd.ts';
import { INSTANCE_ID_ANNOTATION, ZONE_LABEL } from '../../src/core/nodes.ts';
import { namespacePids } from '../../src/devenv/vpc/fabric.ts';
import { nodeNs, podNs } from '../../src/devenv/vpc/names.ts';
import { agnhostDeployment, createNetworkedNode, deleteNodes, isPodReady, waitFor, waitForNetworkedNodes } from '../../src/testing/index.ts';
import { watchNamespaced } from '../lib/kube.ts';
import { latencyFigures, mapLimit, percentile, round } from '../lib/measure.ts';
import { defineScenario, type BenchContext } from '../lib/types.ts';

const INSTANCE_TYPE = 'm5.4xlarge'; // 232 pod addresses per node: 200 pods fit on 4 with room
const MIB = 1024 * 1024;

/**
 * A process's memory from /proc/<pid>/smaps_rollup, 0s when it is gone: resident set (RSS, which counts the
 * binary's pages in every process that maps them) and proportional set (PSS: shared pages divided among the
 * processes sharing them), so 200 agnhost processes are not charged 200 times for one binary.
 */
const memoryOf = (pid: number): { rss: number; pss: number } => {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
    return { rss: kib('Rss'), pss: kib('Pss') };
  } catch {
    return { rss: 0, pss: 0 };
  }
};
const namespaceMemory = async (ns: string): Promise<{ rss: number; pss: number }> =>
  (await namespacePids(ns)).map(memoryOf).reduce((a, b) => ({ rss: a.rss + b.rss, pss: a.pss + b.pss }), { rss: 0, pss: 0 });

/**
 * Networked nodes (the vpc component runs their agents) with EC2 instances of their own, launched here and
 * named on the Node (providerID and the instance annotation), so no node controller has to run.
 */
export async function createNetworkedNodes(ctx: BenchContext, count: number): Promise<string[]> {
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
    await createNetworkedNode(env.core, name, {
      labels: { ...ctx.nodeLabels, [ZONE_LABEL]: subnet.zone },
      annotations: { [INSTANCE_ID_ANNOTATION]: instanceId },
      instanceType: INSTANCE_TYPE,
      providerID: `aws:///${subnet.zone}/${instanceId}`,
      capacity: { cpu: '16', memory: '64Gi', pods: '234' },
    });
  });
  await waitForNetworkedNodes(env.core, names, 180_000);
  return names;
}

/**
 * Pods of one agnhost Deployment (netexec, readiness httpGet /healthz every second) over 4 networked nodes:
 * per pod, from when the bench's watch first sees it to when it sees it Ready (its agent's readiness probe
 * reached the real process at its VPC address); then the memory of every pod's processes and of the nodes'
 * own (agent, kube-proxy).
 */
export default defineScenario({
  name: 'vpc-pods',
  description: 'agnhost pods on 4 networked nodes (real processes in the local VPC): pod created → serving (Ready) p50/p99, memory (PSS, RSS) per pod and in all',
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
      await env.apps.createNamespacedDeployment({ namespace, body: agnhostDeployment('vpc', { replicas: size.pods, nodeSelector: ctx.nodeLabels, udp: true, terminationGracePeriodSeconds: 0 }) });
      await waitFor(() => [...seen.values()].filter((e) => e.ready !== undefined).length >= size.pods, {
        description: `${size.pods} pods Ready`,
        timeoutMs: 900_000,
        intervalMs: 200,
      });
      const allReadyMs = Math.max(...[...seen.values()].map((e) => e.ready!)) - t0;
      const entries = [...seen.values()].filter((e) => e.ready !== undefined);
      const podMemory = await mapLimit(pods.list(), 8, (pod) => namespaceMemory(podNs(pod.metadata!.uid!)));
      const nodeMemory = await mapLimit(nodes, 4, (name) => namespaceMemory(nodeNs(name)));
      const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
      const mib = (bytes: number, digits = 1) => round(bytes / MIB, digits);
      const podsPss = sum(podMemory.map((m) => m.pss));
      const nodesPss = sum(nodeMemory.map((m) => m.pss));
      return {
        pods: size.pods,
        nodes: size.nodes,
        ...latencyFigures('createdToServing', entries.map((e) => e.ready! - e.created)),
        allServingMs: round(allReadyMs),
        podPssP50MiB: mib(percentile(podMemory.map((m) => m.pss), 50), 2),
        podPssMaxMiB: mib(Math.max(...podMemory.map((m) => m.pss)), 2),
        podRssP50MiB: mib(percentile(podMemory.map((m) => m.rss), 50), 2),
        podsPssMiB: mib(podsPss),
        // The node agent and kube-proxy of each node.
        nodeProcessesPssPerNodeMiB: mib(nodesPss / nodes.length),
        allPssMiB: mib(podsPss + nodesPss),
        allPssPerPodMiB: mib((podsPss + nodesPss) / size.pods, 2),
      };
    } finally {
      pods.stop();
    }
  },
});
