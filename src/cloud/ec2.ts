import {
  DescribeInstancesCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  type EC2Client,
  type Instance,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import type { SubnetInfo } from '../core/model.ts';

const SUBNET_CACHE_MS = 60_000;

/** The cluster's VPC and subnets, cached briefly so reconciles do not describe them every time. */
export class NetworkCloud {
  private readonly client: EC2Client;
  private readonly clusterName: string;
  private vpcId: string | undefined;
  private subnetCache: { at: number; subnets: SubnetInfo[] } | undefined;
  private cidrCache: { at: number; cidrs: string[]; ipv6: string[] } | undefined;

  constructor(client: EC2Client, clusterName: string, vpcId?: string) {
    this.client = client;
    this.clusterName = clusterName;
    this.vpcId = vpcId;
  }

  /** The configured VPC, else the one tagged kubernetes.io/cluster/<name>. */
  async vpc(): Promise<string> {
    if (this.vpcId) return this.vpcId;
    const result = await this.client.send(new DescribeVpcsCommand({ Filters: [{ Name: 'tag-key', Values: [`kubernetes.io/cluster/${this.clusterName}`] }] }));
    const ids = (result.Vpcs ?? []).map((v) => v.VpcId!).sort();
    if (ids.length === 0) throw new Error(`no VPC is tagged kubernetes.io/cluster/${this.clusterName}; pass --vpc-id`);
    if (ids.length > 1) throw new Error(`several VPCs are tagged kubernetes.io/cluster/${this.clusterName} (${ids.join(', ')}); pass --vpc-id`);
    this.vpcId = ids[0]!;
    return this.vpcId;
  }

  /** The VPC's associated IPv4 CIDRs (the LBC's VPCInfo.AssociatedIPv4CIDRs), cached as the subnets are. */
  async vpcCidrs(): Promise<string[]> {
    return (await this.vpcCidrBlocks()).cidrs;
  }

  /** The VPC's associated IPv6 CIDRs (VPCInfo.AssociatedIPv6CIDRs), from the same DescribeVpcs. */
  async vpcIpv6Cidrs(): Promise<string[]> {
    return (await this.vpcCidrBlocks()).ipv6;
  }

  private async vpcCidrBlocks(): Promise<{ cidrs: string[]; ipv6: string[] }> {
    if (this.cidrCache && Date.now() - this.cidrCache.at < SUBNET_CACHE_MS) return this.cidrCache;
    const result = await this.client.send(new DescribeVpcsCommand({ VpcIds: [await this.vpc()] }));
    const associations = (result.Vpcs ?? []).flatMap((v) => v.CidrBlockAssociationSet ?? []);
    const cidrs = associations.filter((a) => a.CidrBlockState?.State === 'associated' && a.CidrBlock).map((a) => a.CidrBlock!);
    const ipv6Associations = (result.Vpcs ?? []).flatMap((v) => v.Ipv6CidrBlockAssociationSet ?? []);
    const ipv6 = ipv6Associations.filter((a) => a.Ipv6CidrBlockState?.State === 'associated' && a.Ipv6CidrBlock).map((a) => a.Ipv6CidrBlock!);
    this.cidrCache = { at: Date.now(), cidrs, ipv6 };
    return this.cidrCache;
  }

  async subnets(): Promise<SubnetInfo[]> {
    if (this.subnetCache && Date.now() - this.subnetCache.at < SUBNET_CACHE_MS) return this.subnetCache.subnets;
    const vpcId = await this.vpc();
    const result = await this.client.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }));
    const subnets = (result.Subnets ?? []).map((s) => ({
      id: s.SubnetId!,
      zone: s.AvailabilityZone ?? '',
      vpcId: s.VpcId ?? vpcId,
      cidrBlock: s.CidrBlock,
      ipv6CidrBlocks: (s.Ipv6CidrBlockAssociationSet ?? []).filter((a) => a.Ipv6CidrBlockState?.State === 'associated' && a.Ipv6CidrBlock).map((a) => a.Ipv6CidrBlock!),
      tags: Object.fromEntries((s.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
    }));
    this.subnetCache = { at: Date.now(), subnets };
    return subnets;
  }
}

export const NODE_TAG = 'cloud-provider-localstack/node';
export const clusterTag = (cluster: string) => `kubernetes.io/cluster/${cluster}`;

export interface LaunchedInstance {
  id: string;
  zone: string;
  instanceType: string;
  privateIp?: string;
  nodeName?: string;
}

const toLaunched = (instance: Instance): LaunchedInstance => ({
  id: instance.InstanceId!,
  zone: instance.Placement?.AvailabilityZone ?? '',
  instanceType: instance.InstanceType ?? '',
  privateIp: instance.PrivateIpAddress,
  nodeName: instance.Tags?.find((t) => t.Key === NODE_TAG)?.Value,
});

/** EC2 instances that stand behind Nodes which have none of their own (kind's, kwok's). */
export class InstanceCloud {
  private readonly client: EC2Client;
  private readonly clusterName: string;

  constructor(client: EC2Client, clusterName: string) {
    this.client = client;
    this.clusterName = clusterName;
  }

  private async describe(filters: { Name: string; Values: string[] }[]): Promise<LaunchedInstance[]> {
    const found: LaunchedInstance[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new DescribeInstancesCommand({
          Filters: [{ Name: `tag:${clusterTag(this.clusterName)}`, Values: ['owned'] }, { Name: 'instance-state-name', Values: ['pending', 'running'] }, ...filters],
          NextToken: token,
        }),
      );
      for (const reservation of page.Reservations ?? []) for (const instance of reservation.Instances ?? []) found.push(toLaunched(instance));
      token = page.NextToken;
    } while (token);
    return found;
  }

  /** Our running instances launched for a Node (by tag), oldest first. */
  async forNode(nodeName: string): Promise<LaunchedInstance[]> {
    return this.describe([{ Name: `tag:${NODE_TAG}`, Values: [nodeName] }]);
  }

  /** Every running instance we launched for any Node. */
  async all(): Promise<LaunchedInstance[]> {
    return this.describe([{ Name: 'tag-key', Values: [NODE_TAG] }]);
  }

  async describeById(instanceId: string): Promise<LaunchedInstance | undefined> {
    try {
      const page = await this.client.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
      const instance = page.Reservations?.[0]?.Instances?.[0];
      return instance ? toLaunched(instance) : undefined;
    } catch {
      return undefined;
    }
  }

  async launch(nodeName: string, subnetId: string, instanceType: string, imageId: string, securityGroupIds: string[]): Promise<LaunchedInstance> {
    const tags = [
      { Key: clusterTag(this.clusterName), Value: 'owned' },
      { Key: NODE_TAG, Value: nodeName },
      { Key: 'Name', Value: `${this.clusterName}-${nodeName}` },
    ];
    const result = await this.client.send(
      new RunInstancesCommand({
        ImageId: imageId,
        InstanceType: instanceType as never,
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnetId,
        ...(securityGroupIds.length ? { SecurityGroupIds: securityGroupIds } : {}),
        TagSpecifications: [
          { ResourceType: 'instance', Tags: tags },
          { ResourceType: 'network-interface', Tags: tags },
        ],
      }),
    );
    return toLaunched(result.Instances![0]!);
  }

  async terminate(instanceIds: string[]): Promise<void> {
    if (instanceIds.length === 0) return;
    await this.client.send(new TerminateInstancesCommand({ InstanceIds: instanceIds }));
  }
}
