import {
  CreateTagsCommand,
  DeleteNetworkInterfaceCommand,
  DeleteTagsCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DetachNetworkInterfaceCommand,
  TerminateInstancesCommand,
  type DescribeInstancesCommandOutput,
} from '@aws-sdk/client-ec2';
import {
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  type DescribeLoadBalancersCommandOutput,
  type DescribeTargetGroupsCommandOutput,
  type LoadBalancer,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { EniTags } from '../../src/cloud/eni.ts';
import { Tags } from '../../src/core/annotations.ts';
import { sweepSecurityGroups, type TestEnvironment } from '../../src/testing/index.ts';
import { mapLimit } from './measure.ts';

/** Adds the cluster to the seeded VPC's and subnets' cluster tags (subnet discovery); returns the undo. */
export async function joinNetwork(env: TestEnvironment, cluster: string): Promise<() => Promise<void>> {
  const resources = [env.network.vpcId, ...env.network.publicSubnets.map((s) => s.id), ...env.network.privateSubnets.map((s) => s.id)];
  await env.aws.ec2.send(new CreateTagsCommand({ Resources: resources, Tags: [{ Key: `kubernetes.io/cluster/${cluster}`, Value: 'shared' }] }));
  return async () => {
    await env.aws.ec2.send(new DeleteTagsCommand({ Resources: resources, Tags: [{ Key: `kubernetes.io/cluster/${cluster}` }] }));
  };
}

export async function allLoadBalancers(env: TestEnvironment): Promise<LoadBalancer[]> {
  const found: LoadBalancer[] = [];
  let marker: string | undefined;
  do {
    const page: DescribeLoadBalancersCommandOutput = await env.aws.elbv2.send(new DescribeLoadBalancersCommand({ Marker: marker, PageSize: 400 }));
    found.push(...(page.LoadBalancers ?? []));
    marker = page.NextMarker;
  } while (marker);
  return found;
}

export async function allTargetGroups(env: TestEnvironment): Promise<TargetGroup[]> {
  const found: TargetGroup[] = [];
  let marker: string | undefined;
  do {
    const page: DescribeTargetGroupsCommandOutput = await env.aws.elbv2.send(new DescribeTargetGroupsCommand({ Marker: marker, PageSize: 400 }));
    found.push(...(page.TargetGroups ?? []));
    marker = page.NextMarker;
  } while (marker);
  return found;
}

/** Every LB and target group of the region with its tags. */
export async function taggedResources(env: TestEnvironment): Promise<{ loadBalancers: LoadBalancer[]; targetGroups: TargetGroup[]; tags: Map<string, Record<string, string>> }> {
  const loadBalancers = await allLoadBalancers(env);
  const targetGroups = await allTargetGroups(env);
  const arns = [...loadBalancers.map((l) => l.LoadBalancerArn!), ...targetGroups.map((t) => t.TargetGroupArn!)];
  const tags = new Map<string, Record<string, string>>();
  const batches = Array.from({ length: Math.ceil(arns.length / 20) }, (_, i) => arns.slice(i * 20, i * 20 + 20));
  await mapLimit(batches, 4, async (batch) => {
    const described = await env.aws.elbv2.send(new DescribeTagsCommand({ ResourceArns: batch }));
    for (const d of described.TagDescriptions ?? []) tags.set(d.ResourceArn!, Object.fromEntries((d.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])));
  });
  return { loadBalancers, targetGroups, tags };
}

/**
 * The LBs and target groups carrying the cluster's tag, with their stack tag; with `namespace`, also those any
 * other cluster's controller made for a Service of that namespace (every controller sharing the Kubernetes
 * cluster reconciles every LoadBalancer Service, and one that stops early leaves them behind).
 */
export async function clusterResources(
  env: TestEnvironment,
  cluster: string,
  namespace?: string,
): Promise<{ loadBalancers: LoadBalancer[]; targetGroups: TargetGroup[]; stackOf: Map<string, string> }> {
  const { loadBalancers, targetGroups, tags } = await taggedResources(env);
  const stackOf = new Map<string, string>();
  for (const [arn, map] of tags) {
    const stack = map[Tags.stack] ?? '';
    if (map[Tags.cluster] === cluster || (namespace && stack.startsWith(`${namespace}/`))) stackOf.set(arn, stack);
  }
  return { loadBalancers: loadBalancers.filter((l) => stackOf.has(l.LoadBalancerArn!)), targetGroups: targetGroups.filter((t) => stackOf.has(t.TargetGroupArn!)), stackOf };
}

/**
 * Deletes everything tagged for the cluster (and NLBs and target groups of any cluster made for the
 * namespace's Services): load balancers, then target groups, instances, and the ENIs the pool created.
 * Paginated and a few calls at a time, so a thousand Services' worth goes in seconds.
 */
export async function sweepCluster(env: TestEnvironment, cluster: string, namespace?: string): Promise<{ loadBalancers: number; targetGroups: number; instances: number; enis: number }> {
  const { elbv2, ec2 } = env.aws;
  const { loadBalancers, targetGroups } = await clusterResources(env, cluster, namespace);
  await mapLimit(loadBalancers, 8, (lb) => elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lb.LoadBalancerArn })).catch(() => undefined));
  await mapLimit(targetGroups, 8, (tg) => elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: tg.TargetGroupArn })).catch(() => undefined));
  const ids: string[] = [];
  let token: string | undefined;
  do {
    const page: DescribeInstancesCommandOutput = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: `tag:kubernetes.io/cluster/${cluster}`, Values: ['owned'] }, { Name: 'instance-state-name', Values: ['pending', 'running'] }], NextToken: token }),
    );
    ids.push(...(page.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId!));
    token = page.NextToken;
  } while (token);
  const enis = (await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: `tag:${EniTags.cluster}`, Values: [cluster] }] }))).NetworkInterfaces ?? [];
  await mapLimit(enis, 8, async (eni) => {
    if (eni.Attachment?.AttachmentId) await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: eni.Attachment.AttachmentId, Force: true })).catch(() => undefined);
    await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId! })).catch(() => undefined);
  });
  for (let i = 0; i < ids.length; i += 100) await ec2.send(new TerminateInstancesCommand({ InstanceIds: ids.slice(i, i + 100) }));
  // The NLBs' security groups (ADR 0013): not counted, a scenario's Services keep the backend group by design.
  await sweepSecurityGroups(env, cluster);
  return { loadBalancers: loadBalancers.length, targetGroups: targetGroups.length, instances: ids.length, enis: enis.length };
}
