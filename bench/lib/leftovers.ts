import { DeleteTagsCommand, DescribeInstancesCommand, DescribeNetworkInterfacesCommand, DescribeSubnetsCommand, DescribeVpcsCommand, type DescribeInstancesCommandOutput } from '@aws-sdk/client-ec2';
import { EniTags } from '../../src/cloud/eni.ts';
import type { TestEnvironment } from '../../src/testing/index.ts';
import { Tags } from '../../src/core/annotations.ts';
import { sweepCluster, taggedResources } from './aws.ts';
import { removeNamespace } from './kube.ts';
import { BENCH_NODE_LABEL } from './nodes.ts';

const PREFIX = 'bench-';
const clusterKey = 'kubernetes.io/cluster/';

/**
 * What killed bench runs left behind (`npm run bench -- --cleanup`): namespaces and nodes labelled by the
 * bench, and everything in AWS tagged for a cluster named bench-* (a scenario's cluster and namespace share
 * that name). Never run it while a bench run is going on: it removes that run's world too.
 */
export async function removeLeftovers(env: TestEnvironment, log: (line: string) => void): Promise<void> {
  const clusters = new Set<string>();
  const namespaces = (await env.core.listNamespace({ labelSelector: 'cloud-provider-localstack/bench' })).items.map((n) => n.metadata!.name!);
  for (const ns of namespaces) clusters.add(ns);
  const nodes = (await env.core.listNode({ labelSelector: BENCH_NODE_LABEL })).items;
  for (const node of nodes) clusters.add(node.metadata!.labels![BENCH_NODE_LABEL]!);

  // Cluster names from every tag the bench writes or causes (a stack's namespace is its scenario's cluster name).
  for (const tags of (await taggedResources(env)).tags.values()) {
    const cluster = tags[Tags.cluster] ?? '';
    const namespace = (tags[Tags.stack] ?? '').split('/')[0]!;
    if (cluster.startsWith(PREFIX)) clusters.add(cluster);
    if (namespace.startsWith(PREFIX)) clusters.add(namespace);
  }
  let token: string | undefined;
  do {
    const page: DescribeInstancesCommandOutput = await env.aws.ec2.send(new DescribeInstancesCommand({ NextToken: token, Filters: [{ Name: 'instance-state-name', Values: ['pending', 'running'] }] }));
    for (const instance of (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
      for (const tag of instance.Tags ?? []) if (tag.Key?.startsWith(`${clusterKey}${PREFIX}`)) clusters.add(tag.Key.slice(clusterKey.length));
    }
    token = page.NextToken;
  } while (token);
  for (const eni of (await env.aws.ec2.send(new DescribeNetworkInterfacesCommand({}))).NetworkInterfaces ?? []) {
    const cluster = eni.TagSet?.find((t) => t.Key === EniTags.cluster)?.Value;
    if (cluster?.startsWith(PREFIX)) clusters.add(cluster);
  }

  for (const ns of namespaces) {
    log(`removing namespace ${ns}`);
    await removeNamespace(env, ns).catch((error: unknown) => log(`namespace ${ns}: ${String(error)}`));
  }
  for (const node of nodes) await env.core.deleteNode({ name: node.metadata!.name! }).catch(() => undefined);
  if (nodes.length) log(`deleted ${nodes.length} nodes`);
  for (const cluster of clusters) {
    const swept = await sweepCluster(env, cluster, cluster);
    log(`cluster ${cluster}: swept ${swept.loadBalancers} NLBs, ${swept.targetGroups} target groups, ${swept.instances} instances, ${swept.enis} ENIs`);
  }
  // The cluster tags joinNetwork put on the seeded VPC and subnets.
  const tagged = [
    ...((await env.aws.ec2.send(new DescribeVpcsCommand({}))).Vpcs ?? []).map((v) => ({ id: v.VpcId!, tags: v.Tags ?? [] })),
    ...((await env.aws.ec2.send(new DescribeSubnetsCommand({}))).Subnets ?? []).map((s) => ({ id: s.SubnetId!, tags: s.Tags ?? [] })),
  ];
  const keys = new Set(tagged.flatMap((r) => r.tags.map((t) => t.Key ?? '')).filter((k) => k.startsWith(`${clusterKey}${PREFIX}`)));
  for (const key of keys) {
    const resources = tagged.filter((r) => r.tags.some((t) => t.Key === key)).map((r) => r.id);
    await env.aws.ec2.send(new DeleteTagsCommand({ Resources: resources, Tags: [{ Key: key }] }));
  }
  if (keys.size) log(`removed ${keys.size} cluster tags of bench clusters from the seeded network`);
}
