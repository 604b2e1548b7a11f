import {
  AssignPrivateIpAddressesCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  DeleteNetworkInterfaceCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeNetworkInterfacesCommand,
  DetachNetworkInterfaceCommand,
  type EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
  type NetworkInterface,
  UnassignPrivateIpAddressesCommand,
} from '@aws-sdk/client-ec2';
import { setTimeout as sleep } from 'node:timers/promises';
import type { InstanceLimits } from '../core/ipam/pool.ts';

/** VPC CNI's ENI tags, so its tooling and ours recognise the same ENIs. */
export const EniTags = {
  instanceId: 'node.k8s.amazonaws.com/instance_id',
  createdAt: 'node.k8s.amazonaws.com/createdAt',
  cluster: 'cluster.k8s.amazonaws.com/name',
} as const;

export interface NodeEni {
  id: string;
  deviceIndex: number;
  attachmentId?: string;
  subnetId: string;
  primaryIp: string;
  /** Secondary addresses. */
  addresses: string[];
  createdAt: number;
  /** Carries our cluster tag (created by us), as opposed to the instance's own ENI. */
  ours: boolean;
}

export interface InstanceNetwork {
  instanceId: string;
  instanceType: string;
  subnetId: string;
  securityGroupIds: string[];
}

const errorName = (error: unknown) => (error as { name?: string }).name ?? '';

/**
 * EC2 calls of the ENI pool. Limits are read from DescribeInstanceTypes (the emulator does not enforce them,
 * so the pool does); ENIs are found by `attachment.instance-id` and our tags, filters the emulator supports.
 */
export class EniCloud {
  private readonly client: EC2Client;
  private readonly clusterName: string;
  private readonly limitsCache = new Map<string, Promise<InstanceLimits>>();

  constructor(client: EC2Client, clusterName: string) {
    this.client = client;
    this.clusterName = clusterName;
  }

  limits(instanceType: string): Promise<InstanceLimits> {
    let cached = this.limitsCache.get(instanceType);
    if (!cached) {
      cached = this.client.send(new DescribeInstanceTypesCommand({ InstanceTypes: [instanceType as never] })).then((result) => {
        const info = result.InstanceTypes?.[0]?.NetworkInfo;
        if (!info?.MaximumNetworkInterfaces || !info.Ipv4AddressesPerInterface) throw new Error(`DescribeInstanceTypes has no network limits for ${instanceType}`);
        return { instanceType, maxEnis: info.MaximumNetworkInterfaces, ipv4PerEni: info.Ipv4AddressesPerInterface };
      });
      cached.catch(() => this.limitsCache.delete(instanceType));
      this.limitsCache.set(instanceType, cached);
    }
    return cached;
  }

  async instance(instanceId: string): Promise<InstanceNetwork> {
    const result = await this.client.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const instance = result.Reservations?.[0]?.Instances?.[0];
    if (!instance) throw new Error(`instance ${instanceId} not found`);
    return {
      instanceId,
      instanceType: instance.InstanceType ?? '',
      subnetId: instance.SubnetId ?? '',
      securityGroupIds: (instance.SecurityGroups ?? []).map((g) => g.GroupId!).filter(Boolean),
    };
  }

  async enisOf(instanceId: string): Promise<NodeEni[]> {
    const result = await this.client.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [instanceId] }] }));
    return (result.NetworkInterfaces ?? []).map((eni) => this.toNodeEni(eni)).sort((a, b) => a.deviceIndex - b.deviceIndex);
  }

  private toNodeEni(eni: NetworkInterface): NodeEni {
    const tags = Object.fromEntries((eni.TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
    const created = Date.parse(tags[EniTags.createdAt] ?? '');
    return {
      id: eni.NetworkInterfaceId!,
      deviceIndex: eni.Attachment?.DeviceIndex ?? -1,
      ...(eni.Attachment?.AttachmentId ? { attachmentId: eni.Attachment.AttachmentId } : {}),
      subnetId: eni.SubnetId ?? '',
      primaryIp: (eni.PrivateIpAddresses ?? []).find((p) => p.Primary)?.PrivateIpAddress ?? eni.PrivateIpAddress ?? '',
      addresses: (eni.PrivateIpAddresses ?? []).filter((p) => !p.Primary).map((p) => p.PrivateIpAddress!),
      createdAt: Number.isFinite(created) ? created : 0,
      ours: tags[EniTags.cluster] === this.clusterName,
    };
  }

  /**
   * Creates an ENI with its secondary addresses in one call, attaches it at the device index given, and sets
   * delete-on-termination; an ENI that fails to attach is deleted again so nothing leaks.
   */
  async createAndAttach(node: InstanceNetwork, deviceIndex: number, addresses: number): Promise<NodeEni> {
    const now = new Date();
    const created = await this.client.send(
      new CreateNetworkInterfaceCommand({
        SubnetId: node.subnetId,
        ...(node.securityGroupIds.length ? { Groups: node.securityGroupIds } : {}),
        Description: `aws-K8S-${node.instanceId}`,
        ...(addresses > 0 ? { SecondaryPrivateIpAddressCount: addresses } : {}),
        TagSpecifications: [
          {
            ResourceType: 'network-interface',
            Tags: [
              { Key: EniTags.cluster, Value: this.clusterName },
              { Key: EniTags.instanceId, Value: node.instanceId },
              { Key: EniTags.createdAt, Value: now.toISOString() },
            ],
          },
        ],
      }),
    );
    const eniId = created.NetworkInterface!.NetworkInterfaceId!;
    try {
      const attached = await this.client.send(new AttachNetworkInterfaceCommand({ InstanceId: node.instanceId, NetworkInterfaceId: eniId, DeviceIndex: deviceIndex }));
      await this.client.send(
        new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, Attachment: { AttachmentId: attached.AttachmentId!, DeleteOnTermination: true } }),
      );
      return { ...this.toNodeEni(created.NetworkInterface!), deviceIndex, attachmentId: attached.AttachmentId!, createdAt: now.getTime(), ours: true };
    } catch (error) {
      await this.client.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eniId })).catch(() => undefined);
      throw error;
    }
  }

  /** Adds `count` secondary addresses; returns the new ones (the emulator answers with all of the ENI's). */
  async assign(eniId: string, before: string[], count: number): Promise<string[]> {
    const result = await this.client.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, SecondaryPrivateIpAddressCount: count }));
    const known = new Set(before);
    return (result.AssignedPrivateIpAddresses ?? []).map((a) => a.PrivateIpAddress!).filter((ip) => ip && !known.has(ip));
  }

  async unassign(eniId: string, ips: string[]): Promise<void> {
    for (let i = 0; i < ips.length; i += 100) {
      await this.client.send(new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, PrivateIpAddresses: ips.slice(i, i + 100) }));
    }
  }

  /** Detach, then delete (retried while the detach settles, as ipamd does). */
  async detachAndDelete(eni: { id: string; attachmentId?: string }): Promise<void> {
    if (eni.attachmentId) {
      await this.client.send(new DetachNetworkInterfaceCommand({ AttachmentId: eni.attachmentId, Force: true })).catch((error: unknown) => {
        if (!['InvalidAttachmentID.NotFound', 'InvalidNetworkInterfaceID.NotFound'].includes(errorName(error))) throw error;
      });
    }
    for (let attempt = 0; ; attempt++) {
      try {
        await this.client.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni.id }));
        return;
      } catch (error) {
        if (errorName(error) === 'InvalidNetworkInterfaceID.NotFound') return;
        if (attempt >= 5) throw error;
        await sleep(500 * 2 ** attempt);
      }
    }
  }

  /** Every address on any ENI of a subnet: the emulator may hand out one already in use (it does not check). */
  async addressesInSubnet(subnetId: string): Promise<Map<string, string>> {
    const result = await this.client.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'subnet-id', Values: [subnetId] }] }));
    const owners = new Map<string, string>();
    for (const eni of result.NetworkInterfaces ?? []) {
      for (const address of eni.PrivateIpAddresses ?? []) {
        const ip = address.PrivateIpAddress;
        if (!ip) continue;
        owners.set(ip, owners.has(ip) ? `${owners.get(ip)},${eni.NetworkInterfaceId}` : eni.NetworkInterfaceId!);
      }
    }
    return owners;
  }

  /** Our ENIs that are attached to nothing (status available), for the leaked-ENI sweep. */
  async unattachedOurs(): Promise<NodeEni[]> {
    const result = await this.client.send(
      new DescribeNetworkInterfacesCommand({ Filters: [{ Name: `tag:${EniTags.cluster}`, Values: [this.clusterName] }, { Name: 'status', Values: ['available'] }] }),
    );
    return (result.NetworkInterfaces ?? []).map((eni) => this.toNodeEni(eni));
  }
}
