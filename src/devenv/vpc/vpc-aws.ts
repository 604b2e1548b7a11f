/**
 * What the vpc supervisor asks the emulator: the subnets of the VPC (one bridge each), a networked node's
 * instance address, and the bastion's address (a network interface of its own, so moto never hands it out).
 */
import {
  CreateNetworkInterfaceCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';

import { BASTION_DESCRIPTION, BASTION_TAG } from './keys.ts';

export interface VpcSubnet {
  id: string;
  cidr: string;
}

export interface InstanceAddress {
  ip: string;
  subnetId: string;
}

/** Every subnet of the VPC, in a stable order (by CIDR, then id). */
export async function describeVpcSubnets(ec2: EC2Client, vpcId: string): Promise<VpcSubnet[]> {
  const subnets: VpcSubnet[] = [];
  let NextToken: string | undefined;
  do {
    const page = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }], NextToken }));
    for (const subnet of page.Subnets ?? []) {
      if (subnet.SubnetId && subnet.CidrBlock) subnets.push({ id: subnet.SubnetId, cidr: subnet.CidrBlock });
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return subnets.sort((a, b) => a.cidr.localeCompare(b.cidr) || a.id.localeCompare(b.id));
}

/** The instance's primary private IP and subnet; undefined while it has none (or is gone). */
export async function describeInstanceAddress(ec2: EC2Client, instanceId: string): Promise<InstanceAddress | undefined> {
  const result = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })).catch((error: unknown) => {
    if ((error as { name?: string }).name === 'InvalidInstanceID.NotFound') return undefined;
    throw error;
  });
  const instance = result?.Reservations?.[0]?.Instances?.[0];
  if (!instance?.PrivateIpAddress || !instance.SubnetId) return undefined;
  return { ip: instance.PrivateIpAddress, subnetId: instance.SubnetId };
}

/** The bastion's address in `subnetId`: the interface tagged for this cluster, created on first use. */
export async function ensureBastionAddress(ec2: EC2Client, subnetId: string, cluster: string): Promise<string> {
  const existing = await ec2.send(
    new DescribeNetworkInterfacesCommand({
      Filters: [
        { Name: 'subnet-id', Values: [subnetId] },
        { Name: `tag:${BASTION_TAG}`, Values: [cluster] },
      ],
    }),
  );
  const found = existing.NetworkInterfaces?.find((eni) => eni.PrivateIpAddress)?.PrivateIpAddress;
  if (found) return found;
  const created = await ec2.send(
    new CreateNetworkInterfaceCommand({
      SubnetId: subnetId,
      Description: BASTION_DESCRIPTION,
      TagSpecifications: [{ ResourceType: 'network-interface', Tags: [{ Key: BASTION_TAG, Value: cluster }] }],
    }),
  );
  const address = created.NetworkInterface?.PrivateIpAddress;
  if (!address) throw new Error(`CreateNetworkInterface in ${subnetId} returned no private IP for the bastion`);
  return address;
}
