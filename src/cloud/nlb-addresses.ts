import { DescribeNetworkInterfacesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { interfaceDescription } from '../dataplane/addresses.ts';

/** One address of an NLB: AWS gives it one network interface per enabled subnet. */
export interface LoadBalancerAddress {
  address: string;
  zone: string;
  subnetId: string;
}

/**
 * An NLB's addresses, found as on AWS: its network interfaces are described `ELB net/<name>/<id>` (the ARN's
 * last two segments), one per subnet (NLB guide, network-load-balancers: "Availability Zones"). The local data
 * plane creates them in the emulator the same way; an NLB without any (not active yet, or no data plane) has none.
 */
export async function loadBalancerAddresses(ec2: EC2Client, loadBalancerArn: string): Promise<LoadBalancerAddress[]> {
  const description = interfaceDescription(loadBalancerArn);
  const found = await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'description', Values: [description] }] }));
  return (found.NetworkInterfaces ?? [])
    .map((eni) => ({ address: eni.PrivateIpAddress ?? '', zone: eni.AvailabilityZone ?? '', subnetId: eni.SubnetId ?? '' }))
    .filter((a) => a.address !== '')
    .sort((a, b) => a.zone.localeCompare(b.zone));
}
