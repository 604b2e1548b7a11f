import { DeleteSecurityGroupCommand, DescribeSecurityGroupsCommand, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { Tags } from '../core/annotations.ts';
import type { TestEnvironment } from './environment.ts';

/**
 * Deletes a cluster's NLB security groups (managed and backend, ADR 0013) and first the rules other groups
 * (the shared node group) have from them, for tests and benchmarks that stop their controller before it
 * could. Returns the IDs it deleted.
 */
export async function sweepSecurityGroups(env: TestEnvironment, cluster: string): Promise<string[]> {
  const { ec2 } = env.aws;
  const ours = (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: `tag:${Tags.cluster}`, Values: [cluster] }] }))).SecurityGroups ?? [];
  for (const group of ours) {
    const referencing = (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'ip-permission.group-id', Values: [group.GroupId!] }] }))).SecurityGroups ?? [];
    for (const other of referencing) {
      const permissions = (other.IpPermissions ?? [])
        .map((p) => ({ ...p, IpRanges: [], Ipv6Ranges: [], PrefixListIds: [], UserIdGroupPairs: (p.UserIdGroupPairs ?? []).filter((pair) => pair.GroupId === group.GroupId) }))
        .filter((p) => p.UserIdGroupPairs.length > 0);
      if (permissions.length) await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: other.GroupId!, IpPermissions: permissions })).catch(() => undefined);
    }
  }
  for (const group of ours) await ec2.send(new DeleteSecurityGroupCommand({ GroupId: group.GroupId! })).catch(() => undefined);
  return ours.map((g) => g.GroupId!);
}
