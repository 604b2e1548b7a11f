import { DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll } from 'vitest';
import { Tags } from '../../../src/core/annotations.ts';
import { BACKEND_SG_RESOURCE, BACKEND_SG_RESOURCE_TAG, NODE_RULE_DESCRIPTION } from '../../../src/core/security-groups.ts';
import { INSTANCE_ID_ANNOTATION } from '../../../src/core/nodes.ts';
import { connect, createKwokNode, createTestNamespace, deleteNodes, uniqueName, waitFor, type TestEnvironment } from '../../../src/testing/index.ts';
import { startTestCluster, type TestCluster } from './controller.ts';

/** The test cluster's backend group ID, read from EC2 by its tags (undefined when there is none). */
export async function backendGroupId(env: TestEnvironment, clusterName: string): Promise<string | undefined> {
  const filters = [
    { Name: 'vpc-id', Values: [env.network.vpcId] },
    { Name: `tag:${Tags.cluster}`, Values: [clusterName] },
    { Name: `tag:${BACKEND_SG_RESOURCE_TAG}`, Values: [BACKEND_SG_RESOURCE] },
  ];
  return (await env.aws.ec2.send(new DescribeSecurityGroupsCommand({ Filters: filters }))).SecurityGroups?.[0]?.GroupId;
}

/** Our rules on the environment's node group from `backendId`, described as ours, as EC2 holds them: `tcp 30080-30090`. */
export async function nodeRulesFrom(env: TestEnvironment, backendId: string): Promise<string[]> {
  const [group] = (await env.aws.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [env.network.nodeSecurityGroupId] }))).SecurityGroups ?? [];
  return (group?.IpPermissions ?? [])
    .filter((p) => p.UserIdGroupPairs?.some((pair) => pair.GroupId === backendId && pair.Description === NODE_RULE_DESCRIPTION))
    .map((p) => `${p.IpProtocol} ${p.FromPort}-${p.ToPort}`)
    .sort();
}

export interface NodeClusterContext {
  env: TestEnvironment;
  cluster: TestCluster;
  ns: { name: string; remove: () => Promise<void> };
}

/**
 * A file's test cluster with one kwok Node (its instance launched, in the node group) and a namespace, set up
 * in beforeAll and torn down in afterAll; the returned object is filled in by beforeAll.
 */
export function useNodeCluster(prefix: string, options: Omit<Parameters<typeof startTestCluster>[1] & object, 'watchNamespace' | 'nodeSelector'> = {}): NodeClusterContext {
  const context = {} as NodeClusterContext;
  const node = uniqueName(`${prefix}-node`);
  beforeAll(async () => {
    context.env = connect();
    context.ns = await createTestNamespace(context.env.core, prefix);
    await createKwokNode(context.env.core, node, { labels: { 'cloud-provider-localstack/test-node': prefix } });
    context.cluster = await startTestCluster(context.env, { ...options, watchNamespace: context.ns.name, nodeSelector: `cloud-provider-localstack/test-node=${prefix}` });
    await waitFor(async () => (await context.env.core.readNode({ name: node })).metadata?.annotations?.[INSTANCE_ID_ANNOTATION], { description: `instance of ${node}` });
  });
  afterAll(async () => {
    await context.ns?.remove();
    if (context.env) await deleteNodes(context.env.core, [node]);
    await context.cluster?.stop();
    await context.cluster?.sweep();
    context.env?.close();
  });
  return context;
}
