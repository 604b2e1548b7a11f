import {
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeInternetGatewaysCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  type EC2Client,
  type Tag,
} from '@aws-sdk/client-ec2';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from './paths.ts';

export interface SeedTopology {
  vpc: { cidr: string };
  zones: { zone: string; public: string; private: string }[];
}

export interface SeededSubnet {
  id: string;
  zone: string;
  cidr: string;
}

export interface SeededNetwork {
  vpcId: string;
  publicSubnets: SeededSubnet[];
  privateSubnets: SeededSubnet[];
  nodeSecurityGroupId: string;
}

export const SEED_TAG = 'cloud-provider-localstack/seed';
export const clusterTagKey = (cluster: string) => `kubernetes.io/cluster/${cluster}`;
export const ELB_ROLE_TAG = 'kubernetes.io/role/elb';
export const INTERNAL_ELB_ROLE_TAG = 'kubernetes.io/role/internal-elb';

export function readSeedTopology(path = join(repoRoot, 'localstack', 'seed.yaml')): SeedTopology {
  const topology = parse(readFileSync(path, 'utf8')) as SeedTopology;
  if (!topology?.vpc?.cidr || !Array.isArray(topology.zones) || topology.zones.length === 0) {
    throw new Error(`${path}: expected vpc.cidr and at least one entry in zones`);
  }
  return topology;
}

const tagsOf = (tags: Record<string, string>): Tag[] => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/**
 * Creates (or finds) the cluster's VPC: a public and a private subnet per zone, tagged for load-balancer
 * subnet discovery as on EKS, an internet gateway, and a node security group.
 */
export async function seedNetwork(ec2: EC2Client, cluster: string, topology: SeedTopology): Promise<SeededNetwork> {
  const seedFilter = { Name: `tag:${SEED_TAG}`, Values: [cluster] };
  const clusterTags = { [clusterTagKey(cluster)]: 'shared', [SEED_TAG]: cluster };

  let vpcId = (await ec2.send(new DescribeVpcsCommand({ Filters: [seedFilter] }))).Vpcs?.[0]?.VpcId;
  if (!vpcId) {
    const created = await ec2.send(
      new CreateVpcCommand({
        CidrBlock: topology.vpc.cidr,
        TagSpecifications: [{ ResourceType: 'vpc', Tags: tagsOf({ ...clusterTags, Name: cluster }) }],
      }),
    );
    vpcId = created.Vpc!.VpcId!;
  }

  const igws = await ec2.send(new DescribeInternetGatewaysCommand({ Filters: [seedFilter] }));
  if (!igws.InternetGateways?.length) {
    const igw = await ec2.send(
      new CreateInternetGatewayCommand({ TagSpecifications: [{ ResourceType: 'internet-gateway', Tags: tagsOf({ ...clusterTags, Name: cluster }) }] }),
    );
    await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw.InternetGateway!.InternetGatewayId!, VpcId: vpcId }));
  }

  const existing = (await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, seedFilter] }))).Subnets ?? [];
  const ensureSubnet = async (zone: string, cidr: string, role: 'public' | 'private'): Promise<SeededSubnet> => {
    const found = existing.find((subnet) => subnet.CidrBlock === cidr);
    if (found) return { id: found.SubnetId!, zone: found.AvailabilityZone!, cidr };
    const created = await ec2.send(
      new CreateSubnetCommand({
        VpcId: vpcId,
        CidrBlock: cidr,
        AvailabilityZone: zone,
        TagSpecifications: [
          {
            ResourceType: 'subnet',
            Tags: tagsOf({
              ...clusterTags,
              Name: `${cluster}-${role}-${zone}`,
              [role === 'public' ? ELB_ROLE_TAG : INTERNAL_ELB_ROLE_TAG]: '1',
            }),
          },
        ],
      }),
    );
    return { id: created.Subnet!.SubnetId!, zone, cidr };
  };
  const publicSubnets: SeededSubnet[] = [];
  const privateSubnets: SeededSubnet[] = [];
  for (const { zone, public: publicCidr, private: privateCidr } of topology.zones) {
    publicSubnets.push(await ensureSubnet(zone, publicCidr, 'public'));
    privateSubnets.push(await ensureSubnet(zone, privateCidr, 'private'));
  }

  const groupName = `${cluster}-nodes`;
  const groups = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, seedFilter] }));
  let nodeSecurityGroupId = groups.SecurityGroups?.[0]?.GroupId;
  if (!nodeSecurityGroupId) {
    const created = await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: groupName,
        Description: `Nodes of the ${cluster} cluster`,
        VpcId: vpcId,
        TagSpecifications: [{ ResourceType: 'security-group', Tags: tagsOf({ [clusterTagKey(cluster)]: 'owned', [SEED_TAG]: cluster, Name: groupName }) }],
      }),
    );
    nodeSecurityGroupId = created.GroupId!;
  }
  return { vpcId, publicSubnets, privateSubnets, nodeSecurityGroupId };
}
