import { CreateNetworkInterfaceCommand, DeleteNetworkInterfaceCommand, DescribeNetworkInterfacesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { NLB_ENI_TAG, syncInterfaces } from '../../src/dataplane/addresses.ts';
import type { LoadBalancerState } from '../../src/dataplane/model.ts';

const ec2 = mockClient(EC2Client);
const ARN = 'arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/k8s-ns-web/0123456789abcdef';
const nlb = (subnet: LoadBalancerState['subnets'][number]): LoadBalancerState => ({
  arn: ARN,
  name: 'k8s-ns-web',
  dnsName: 'k8s-ns-web.elb',
  state: 'active',
  type: 'network',
  subnets: [subnet],
  attributes: {},
  listeners: [],
});
const existing = (id: string, address: string) => ({ NetworkInterfaceId: id, PrivateIpAddress: address, SubnetId: 'subnet-a', TagSet: [{ Key: NLB_ENI_TAG, Value: ARN }] });
const calls = () => ec2.calls().map((call) => [call.args[0].constructor.name.replace(/Command$/, ''), call.args[0].input] as const);

describe('syncInterfaces: an NLB address per subnet, fixed where the subnet mapping fixed it', () => {
  beforeEach(() => {
    ec2.reset();
    ec2.on(CreateNetworkInterfaceCommand).callsFake((input: { PrivateIpAddress?: string }) => ({
      NetworkInterface: { NetworkInterfaceId: 'eni-new', PrivateIpAddress: input.PrivateIpAddress ?? '10.0.1.77' },
    }));
    ec2.on(DeleteNetworkInterfaceCommand).resolves({});
  });

  it('a fixed private address is asked for, and kept once held', async () => {
    ec2.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [] });
    const addresses = await syncInterfaces(new EC2Client({}), [nlb({ subnetId: 'subnet-a', zone: 'az-a', fixedAddress: '10.0.1.250' })]);
    expect(addresses.get(ARN)).toEqual([{ subnetId: 'subnet-a', zone: 'az-a', address: '10.0.1.250' }]);
    expect(calls().filter(([op]) => op === 'CreateNetworkInterface').map(([, input]) => input)).toMatchObject([{ SubnetId: 'subnet-a', PrivateIpAddress: '10.0.1.250' }]);

    ec2.resetHistory();
    ec2.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [existing('eni-1', '10.0.1.250')] });
    await syncInterfaces(new EC2Client({}), [nlb({ subnetId: 'subnet-a', zone: 'az-a', fixedAddress: '10.0.1.250' })]);
    expect(calls().map(([op]) => op)).toEqual(['DescribeNetworkInterfaces']);
  });

  it('an interface on another address than the fixed one is replaced: deleted first, so the address is free', async () => {
    ec2.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [existing('eni-1', '10.0.1.9')] });
    const addresses = await syncInterfaces(new EC2Client({}), [nlb({ subnetId: 'subnet-a', zone: 'az-a', fixedAddress: '10.0.1.250' })]);
    expect(calls().map(([op]) => op)).toEqual(['DescribeNetworkInterfaces', 'DescribeNetworkInterfaces', 'DeleteNetworkInterface', 'CreateNetworkInterface']);
    expect(addresses.get(ARN)?.map((a) => a.address)).toEqual(['10.0.1.250']);
  });

  it('without a fixed address any address of the emulator\'s pick is kept', async () => {
    ec2.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [existing('eni-1', '10.0.1.9')] });
    const addresses = await syncInterfaces(new EC2Client({}), [nlb({ subnetId: 'subnet-a', zone: 'az-a' })]);
    expect(calls().map(([op]) => op)).toEqual(['DescribeNetworkInterfaces']);
    expect(addresses.get(ARN)?.map((a) => a.address)).toEqual(['10.0.1.9']);
  });
});
