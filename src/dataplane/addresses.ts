/**
 * The NLB's addresses (ADR 0012): one network interface per active NLB and subnet, created in the emulator as
 * AWS makes an NLB's ENIs (description `ELB net/<name>/<id>`), so moto never hands the address to a pod or
 * node; its address sits as a /32 on the router namespace's loopback, labelled `lo:elb` (the environment's
 * kernel may lack the dummy interface type; the router answers ARP for any of its addresses on every bridge).
 * Interfaces of NLBs that are gone (or subnets they left) are deleted.
 */
import {
  CreateNetworkInterfaceCommand,
  DeleteNetworkInterfaceCommand,
  DescribeNetworkInterfacesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';

import { mapLimit } from './aws.ts';
import type { LoadBalancerAddress, LoadBalancerState } from './model.ts';
import { runCommand } from './run.ts';

/** Tag on each NLB interface: the load balancer's ARN. */
export const NLB_ENI_TAG = 'cloud-provider-localstack/nlb';
const DEVICE = 'lo';
/** The label of our addresses on lo: which of its addresses are ours. */
export const ELB_LABEL = 'lo:elb';

interface NlbInterface extends LoadBalancerAddress {
  id: string;
  loadBalancerArn: string;
}

/**
 * `ELB net/<name>/<id>`: how AWS describes an NLB's interfaces (tools match on it). moto writes `app/` into
 * every load balancer's ARN, NLBs' too (docs/emulator.md), so the type segment is not trusted.
 */
export const interfaceDescription = (loadBalancerArn: string): string => {
  const match = /:loadbalancer\/(?:net|app)\/([^/]+)\/([^/]+)$/.exec(loadBalancerArn);
  if (!match) throw new Error(`${JSON.stringify(loadBalancerArn)} is not the ARN of a load balancer`);
  return `ELB net/${match[1]}/${match[2]}`;
};

/** Every private address of the VPC's interfaces (primary and secondary): what a new NLB address must not be. */
async function takenAddresses(ec2: EC2Client, subnetIds: readonly string[]): Promise<Set<string>> {
  const taken = new Set<string>();
  let NextToken: string | undefined;
  do {
    const page = await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'subnet-id', Values: [...subnetIds] }], NextToken }));
    for (const eni of page.NetworkInterfaces ?? []) for (const ip of eni.PrivateIpAddresses ?? []) if (ip.PrivateIpAddress) taken.add(ip.PrivateIpAddress);
    NextToken = page.NextToken;
  } while (NextToken);
  return taken;
}

/** Attempts at an address no other interface holds (moto picks at random and does not check: in a /18, 200 NLBs collide). */
const CREATE_ATTEMPTS = 5;

async function listInterfaces(ec2: EC2Client): Promise<NlbInterface[]> {
  const found: NlbInterface[] = [];
  let NextToken: string | undefined;
  do {
    const page = await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'tag-key', Values: [NLB_ENI_TAG] }], NextToken }));
    for (const eni of page.NetworkInterfaces ?? []) {
      const arn = eni.TagSet?.find((tag) => tag.Key === NLB_ENI_TAG)?.Value;
      if (eni.NetworkInterfaceId && eni.PrivateIpAddress && eni.SubnetId && arn) {
        found.push({ id: eni.NetworkInterfaceId, loadBalancerArn: arn, subnetId: eni.SubnetId, zone: eni.AvailabilityZone ?? '', address: eni.PrivateIpAddress });
      }
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return found;
}

/**
 * Makes the emulator's interfaces match the active NLBs' subnets; returns each NLB's addresses. Interfaces are
 * listed each time (one call): the emulator, not this process, remembers them across restarts.
 */
export async function syncInterfaces(ec2: EC2Client, loadBalancers: readonly LoadBalancerState[]): Promise<Map<string, LoadBalancerAddress[]>> {
  const existing = await listInterfaces(ec2);
  const wanted = new Map<string, { lb: LoadBalancerState; subnetId: string; zone: string; fixedAddress?: string }>();
  for (const lb of loadBalancers) {
    // A provisioning NLB gets its addresses too: they exist before it turns active, as on AWS.
    if (lb.type !== 'network' || lb.state === 'failed') continue;
    for (const subnet of lb.subnets) wanted.set(`${lb.arn} ${subnet.subnetId}`, { lb, ...subnet });
  }
  const kept: NlbInterface[] = [];
  const stale: NlbInterface[] = [];
  const seen = new Set<string>();
  const keptAddresses = new Set<string>();
  for (const eni of existing) {
    const key = `${eni.loadBalancerArn} ${eni.subnetId}`;
    // An address two interfaces share (made before duplicates were refused) is given up and made again.
    const fixed = wanted.get(key)?.fixedAddress;
    if (wanted.has(key) && !seen.has(key) && !keptAddresses.has(eni.address) && (!fixed || fixed === eni.address)) {
      kept.push({ ...eni, zone: wanted.get(key)!.zone });
      seen.add(key);
      keptAddresses.add(eni.address);
    } else stale.push(eni);
  }
  const missing = [...wanted.entries()].filter(([key]) => !seen.has(key)).map(([, value]) => value);
  const taken = missing.length > 0 ? await takenAddresses(ec2, [...new Set(missing.map((m) => m.subnetId))]) : new Set<string>();
  // Addresses this pass hands out (creations run in parallel).
  const claimed = new Set<string>();
  // An interface holding a fixed address the NLB no longer has goes first, so the address is free to take again.
  await deleteInterfaces(ec2, stale);
  const created = await mapLimit(missing, 8, async ({ lb, subnetId, zone, fixedAddress }) => {
    for (let attempt = 1; ; attempt++) {
      const result = await ec2.send(
        new CreateNetworkInterfaceCommand({
          SubnetId: subnetId,
          // A fixed address (CreateLoadBalancer's SubnetMappings) is the NLB's in that subnet, as on AWS.
          ...(fixedAddress ? { PrivateIpAddress: fixedAddress } : {}),
          Description: interfaceDescription(lb.arn),
          TagSpecifications: [{ ResourceType: 'network-interface', Tags: [{ Key: NLB_ENI_TAG, Value: lb.arn }] }],
        }),
      );
      const eni = result.NetworkInterface;
      if (!eni?.NetworkInterfaceId || !eni.PrivateIpAddress) throw new Error(`CreateNetworkInterface in ${subnetId} for ${lb.arn} returned no address`);
      const address = eni.PrivateIpAddress;
      const duplicate = claimed.has(address) || taken.has(address);
      if (fixedAddress || !duplicate || attempt >= CREATE_ATTEMPTS) {
        claimed.add(address);
        return { id: eni.NetworkInterfaceId, loadBalancerArn: lb.arn, subnetId, zone, address };
      }
      await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId }));
    }
  });
  const byLoadBalancer = new Map<string, LoadBalancerAddress[]>();
  for (const eni of [...kept, ...created]) {
    const list = byLoadBalancer.get(eni.loadBalancerArn) ?? [];
    list.push({ subnetId: eni.subnetId, zone: eni.zone, address: eni.address });
    byLoadBalancer.set(eni.loadBalancerArn, list);
  }
  return byLoadBalancer;
}

async function deleteInterfaces(ec2: EC2Client, interfaces: readonly NlbInterface[]): Promise<void> {
  await mapLimit(interfaces, 8, (eni) =>
    ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni.id })).catch((error: unknown) => {
      if (!/NotFound/.test((error as { name?: string }).name ?? '')) throw error;
    }),
  );
}

/** The `ip -batch` lines that make lo hold exactly `wanted` as our /32s, given which of ours it holds now. */
export function addressCommands(current: ReadonlySet<string>, wanted: ReadonlySet<string>): string[] {
  return [
    ...[...wanted].filter((address) => !current.has(address)).map((address) => `addr add ${address}/32 dev ${DEVICE} label ${ELB_LABEL}`),
    ...[...current].filter((address) => !wanted.has(address)).map((address) => `addr del ${address}/32 dev ${DEVICE}`),
  ];
}

/** The addresses of ours (label lo:elb) in the current (router) namespace. */
export async function elbAddresses(): Promise<Set<string>> {
  const output = JSON.parse(await runCommand(['ip', '-j', '-4', 'addr', 'show', 'dev', DEVICE])) as { addr_info?: { local?: string; label?: string }[] }[];
  return new Set(output.flatMap((link) => link.addr_info ?? []).flatMap((info) => (info.local && info.label === ELB_LABEL ? [info.local] : [])));
}

/** Sets our addresses to exactly `wanted`. */
export async function syncElbAddresses(wanted: ReadonlySet<string>): Promise<void> {
  const commands = addressCommands(await elbAddresses(), wanted);
  if (commands.length > 0) await runCommand(['ip', '-batch', '-'], `${commands.join('\n')}\n`);
}
