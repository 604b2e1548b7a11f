import { DescribeLoadBalancersCommand, DescribeTagsCommand, DescribeTargetGroupsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { TestEnvironment } from '../../../src/testing/index.ts';

export interface OwnedResource {
  arn: string;
  stack: string;
}

/** Every LB and target group in the emulator that carries the cluster's tag, with its stack tag. */
export async function ourResources(env: TestEnvironment, cluster: string): Promise<{ loadBalancers: OwnedResource[]; targetGroups: OwnedResource[] }> {
  const { elbv2 } = env.aws;
  const arns = await allLoadBalancerAndTargetGroupArns(env);
  const owned: OwnedResource[] = [];
  for (let i = 0; i < arns.length; i += 20) {
    const tags = await elbv2.send(new DescribeTagsCommand({ ResourceArns: arns.slice(i, i + 20) }));
    for (const d of tags.TagDescriptions ?? []) {
      const map = Object.fromEntries((d.Tags ?? []).map((t) => [t.Key, t.Value]));
      if (map['elbv2.k8s.aws/cluster'] === cluster) owned.push({ arn: d.ResourceArn!, stack: map['service.k8s.aws/stack'] ?? '' });
    }
  }
  return {
    loadBalancers: owned.filter((r) => r.arn.includes(':loadbalancer/')),
    targetGroups: owned.filter((r) => r.arn.includes(':targetgroup/')),
  };
}

/** Every LB and target group ARN in the region, through all pages. */
export async function allLoadBalancerAndTargetGroupArns(env: TestEnvironment): Promise<string[]> {
  const { elbv2 } = env.aws;
  const arns: string[] = [];
  let marker: string | undefined;
  do {
    const page = await elbv2.send(new DescribeLoadBalancersCommand({ Marker: marker }));
    arns.push(...(page.LoadBalancers ?? []).map((l) => l.LoadBalancerArn!));
    marker = page.NextMarker;
  } while (marker);
  do {
    const page = await elbv2.send(new DescribeTargetGroupsCommand({ Marker: marker }));
    arns.push(...(page.TargetGroups ?? []).map((t) => t.TargetGroupArn!));
    marker = page.NextMarker;
  } while (marker);
  return arns;
}
