import { RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { ENIPOOL_GROUP, ENIPOOL_PLURAL, ENIPOOL_VERSION } from '../../src/controllers/ipam/crd.ts';
import { IPAM_NODE_LABEL } from '../../src/core/ipam/keys.ts';
import { INSTANCE_TYPE_LABEL, ZONE_LABEL } from '../../src/core/nodes.ts';
import { createKwokNode, deleteNodes, isNodeReady, waitFor } from '../../src/testing/index.ts';
import { mapLimit } from './measure.ts';
import type { BenchContext } from './types.ts';

export interface NodeOptions {
  /** In the ENI pool (label cloud-provider-localstack.io/ipam=enabled): pods get VPC addresses. */
  ipam?: boolean;
  /** EC2 instance type of the node's instance (default m5.large). */
  instanceType?: string;
}

export interface BenchNode {
  name: string;
  instanceId: string;
  zone: string;
  /** performance.now() when the Node was created. */
  createdAt: number;
}

export const BENCH_NODE_LABEL = 'cloud-provider-localstack.io/bench';

/**
 * kwok Nodes with EC2 instances of their own: the bench launches the instances (tagged with the scenario's
 * cluster, so the sweep terminates them) and sets providerID, as a real AWS node has. So no node controller
 * has to run, and nodes of other tests sharing the cluster never get instances of ours.
 */
export async function createBenchNodes(ctx: BenchContext, count: number, options: NodeOptions = {}): Promise<BenchNode[]> {
  const { env } = ctx;
  const instanceType = options.instanceType ?? 'm5.large';
  const subnets = env.network.privateSubnets;
  const names = Array.from({ length: count }, (_, i) => `${ctx.cluster}-n${i}`);
  ctx.defer('kube', async () => {
    await deleteNodes(env.core, names);
    const custom = env.kubeconfig.makeApiClient(CustomObjectsApi);
    await Promise.all(names.map((name) => custom.deleteClusterCustomObject({ group: ENIPOOL_GROUP, version: ENIPOOL_VERSION, plural: ENIPOOL_PLURAL, name }).catch(() => undefined)));
  });
  const nodes = await mapLimit(names, 4, async (name, i) => {
    const subnet = subnets[i % subnets.length]!;
    const tags = [
      { Key: `kubernetes.io/cluster/${ctx.cluster}`, Value: 'owned' },
      { Key: 'Name', Value: name },
    ];
    const result = await env.aws.ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-12c6146b',
        InstanceType: instanceType as never,
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnet.id,
        SecurityGroupIds: [env.network.nodeSecurityGroupId],
        TagSpecifications: [{ ResourceType: 'instance', Tags: tags }],
      }),
    );
    const instanceId = result.Instances![0]!.InstanceId!;
    const createdAt = performance.now();
    await createKwokNode(env.core, name, {
      providerID: `aws:///${subnet.zone}/${instanceId}`,
      labels: {
        ...ctx.nodeLabels,
        [ZONE_LABEL]: subnet.zone,
        [INSTANCE_TYPE_LABEL]: instanceType,
        ...(options.ipam ? { [IPAM_NODE_LABEL]: 'enabled' } : {}),
      },
    });
    return { name, instanceId, zone: subnet.zone, createdAt };
  });
  const selector = Object.entries(ctx.nodeLabels).map(([k, v]) => `${k}=${v}`).join(',');
  await waitFor(
    async () => {
      const list = await env.core.listNode({ labelSelector: selector });
      return list.items.filter((n) => names.includes(n.metadata?.name ?? '') && isNodeReady(n)).length === count;
    },
    { description: `${count} bench nodes Ready`, timeoutMs: 60_000 },
  );
  return nodes;
}
