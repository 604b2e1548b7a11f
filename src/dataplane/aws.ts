/**
 * What the NLB data plane reads from the emulator (ADR 0012), through the ELBv2/EC2 APIs like any client and
 * with its own call counter (createAwsClients): load balancers with listeners and attributes, the target groups
 * listeners use with their attributes and registered targets, the instances those name, and the VPC's subnets.
 */
import {
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  GetManagedPrefixListEntriesCommand,
  type EC2Client,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import {
  DescribeListenerAttributesCommand,
  DescribeListenerCertificatesCommand,
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeSSLPoliciesCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';

import { healthCheckSpec } from './health/spec.ts';
import type { ListenerState, LoadBalancerState, NetworkFacts, SslPolicyTerms, TargetGroupState } from './model.ts';
import type { IngressRule, InterfaceFacts, SecurityFacts } from './security-groups.ts';

/** Calls in flight at once: the emulator answers a few in parallel; 200 NLBs read one by one take seconds. */
const PARALLEL_READS = 8;

export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const attributeMap = (attributes: { Key?: string; Value?: string }[] | undefined): Record<string, string> =>
  Object.fromEntries((attributes ?? []).flatMap((a) => (a.Key !== undefined && a.Value !== undefined ? [[a.Key, a.Value]] : [])));

const isNotFound = (error: unknown): boolean => /NotFound/.test((error as { name?: string }).name ?? '');

const toState = (lb: {
  LoadBalancerArn?: string;
  LoadBalancerName?: string;
  DNSName?: string;
  State?: { Code?: string };
  Type?: string;
  AvailabilityZones?: { SubnetId?: string; ZoneName?: string; LoadBalancerAddresses?: { PrivateIPv4Address?: string }[] }[];
  SecurityGroups?: string[];
}): LoadBalancerState => ({
  arn: lb.LoadBalancerArn ?? '',
  name: lb.LoadBalancerName ?? '',
  dnsName: lb.DNSName ?? '',
  state: lb.State?.Code ?? 'unknown',
  type: lb.Type ?? '',
  subnets: (lb.AvailabilityZones ?? []).flatMap((az) => {
    if (!az.SubnetId || !az.ZoneName) return [];
    const fixedAddress = az.LoadBalancerAddresses?.find((a) => a.PrivateIPv4Address)?.PrivateIPv4Address;
    return [{ subnetId: az.SubnetId, zone: az.ZoneName, ...(fixedAddress ? { fixedAddress } : {}) }];
  }),
  attributes: {},
  listeners: [],
  ...(lb.SecurityGroups?.length ? { securityGroups: [...lb.SecurityGroups] } : {}),
});

/** Network load balancers, without listeners and attributes: all of them, or the ones named (gone ones left out). */
export async function describeLoadBalancers(elbv2: ElasticLoadBalancingV2Client, arns?: readonly string[]): Promise<LoadBalancerState[]> {
  const found: LoadBalancerState[] = [];
  if (arns) {
    // One by one: a batch naming one deleted NLB fails whole.
    await mapLimit(arns, PARALLEL_READS, async (arn) => {
      try {
        const page = await elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [arn] }));
        for (const lb of page.LoadBalancers ?? []) if (lb.Type === 'network' && lb.LoadBalancerArn) found.push(toState(lb));
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    });
    return found;
  }
  let Marker: string | undefined;
  do {
    const page = await elbv2.send(new DescribeLoadBalancersCommand({ Marker, PageSize: 400 }));
    for (const lb of page.LoadBalancers ?? []) if (lb.Type === 'network' && lb.LoadBalancerArn) found.push(toState(lb));
    Marker = page.NextMarker;
  } while (Marker);
  return found;
}

/** Fills in each NLB's listeners and attributes; an NLB gone meanwhile is left out. */
export async function readLoadBalancerDetails(elbv2: ElasticLoadBalancingV2Client, loadBalancers: readonly LoadBalancerState[]): Promise<LoadBalancerState[]> {
  const complete = await mapLimit(loadBalancers, PARALLEL_READS, async (lb) => {
    try {
      const [listeners, attributes] = await Promise.all([
        elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.arn })),
        elbv2.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: lb.arn })),
      ]);
      lb.attributes = attributeMap(attributes.Attributes);
      lb.listeners = await Promise.all(
        (listeners.Listeners ?? []).flatMap((listener): Promise<ListenerState>[] => {
          if (!listener.ListenerArn || listener.Port === undefined || !listener.Protocol) return [];
          const forward = listener.DefaultActions?.find((action) => action.Type === 'forward');
          const targetGroupArn = forward?.TargetGroupArn ?? forward?.ForwardConfig?.TargetGroups?.[0]?.TargetGroupArn;
          const state: ListenerState = { arn: listener.ListenerArn, port: listener.Port, protocol: listener.Protocol, ...(targetGroupArn ? { targetGroupArn } : {}) };
          if (listener.Protocol === 'TLS') return [readTlsListener(elbv2, { ...state, ...(listener.SslPolicy ? { sslPolicy: listener.SslPolicy } : {}) }, listener.AlpnPolicy?.[0])];
          // tcp.idle_timeout.seconds: a TCP listener's own idle timeout (UDP's is fixed).
          if (listener.Protocol !== 'TCP' && listener.Protocol !== 'TCP_UDP') return [Promise.resolve(state)];
          return [
            elbv2
              .send(new DescribeListenerAttributesCommand({ ListenerArn: listener.ListenerArn }))
              .then((answer) => ({ ...state, attributes: attributeMap(answer.Attributes) })),
          ];
        }),
      );
      return lb;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  });
  return complete.filter((lb): lb is LoadBalancerState => lb !== undefined);
}

/** Security policies' terms by name: ELBv2's policies never change, so each is read once per process. */
const policyTerms = new Map<string, Promise<SslPolicyTerms | undefined>>();

/** A security policy's protocols and ciphers (DescribeSSLPolicies), once per name; undefined if unknown. */
function readPolicyTerms(elbv2: ElasticLoadBalancingV2Client, name: string): Promise<SslPolicyTerms | undefined> {
  let terms = policyTerms.get(name);
  if (!terms) {
    terms = elbv2.send(new DescribeSSLPoliciesCommand({ Names: [name] })).then((answer) => {
      const policy = answer.SslPolicies?.[0];
      if (!policy) return undefined;
      const ciphers = [...(policy.Ciphers ?? [])].sort((a, b) => (a.Priority ?? 0) - (b.Priority ?? 0)).flatMap((c) => (c.Name ? [c.Name] : []));
      return { protocols: policy.SslProtocols ?? [], ciphers };
    });
    // A failed read is tried again next time rather than remembered.
    terms.catch(() => policyTerms.delete(name));
    policyTerms.set(name, terms);
  }
  return terms;
}

/** A TLS listener's certificates (the default one first), ALPN policy and its security policy's terms. */
async function readTlsListener(elbv2: ElasticLoadBalancingV2Client, state: ListenerState, alpnPolicy: string | undefined): Promise<ListenerState> {
  const sslPolicyTerms = state.sslPolicy ? await readPolicyTerms(elbv2, state.sslPolicy).catch(() => undefined) : undefined;
  const listed: { arn: string; isDefault: boolean }[] = [];
  let Marker: string | undefined;
  do {
    const page = await elbv2.send(new DescribeListenerCertificatesCommand({ ListenerArn: state.arn, Marker }));
    for (const c of page.Certificates ?? []) if (c.CertificateArn) listed.push({ arn: c.CertificateArn, isDefault: c.IsDefault === true });
    Marker = page.NextMarker;
  } while (Marker);
  const certificates = [...new Set([...listed.filter((c) => c.isDefault), ...listed.filter((c) => !c.isDefault)].map((c) => c.arn))];
  return { ...state, certificates, ...(alpnPolicy ? { alpnPolicy } : {}), ...(sslPolicyTerms ? { sslPolicyTerms } : {}) };
}

/** Every network load balancer with its listeners and attributes. */
export async function readLoadBalancers(elbv2: ElasticLoadBalancingV2Client): Promise<LoadBalancerState[]> {
  return readLoadBalancerDetails(elbv2, await describeLoadBalancers(elbv2));
}

/** The target groups named in `arns` (those listeners use) with attributes and registered targets. */
export async function readTargetGroups(elbv2: ElasticLoadBalancingV2Client, arns: readonly string[]): Promise<TargetGroupState[]> {
  const groups = await mapLimit(arns, PARALLEL_READS, async (arn): Promise<TargetGroupState | undefined> => {
    try {
      const [described, attributes, health] = await Promise.all([
        elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] })),
        elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn })),
        elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn })),
      ]);
      const group = described.TargetGroups?.[0];
      if (!group) return undefined;
      return {
        arn,
        targetType: group.TargetType ?? 'instance',
        protocol: group.Protocol ?? 'TCP',
        port: group.Port ?? 0,
        attributes: attributeMap(attributes.Attributes),
        healthCheck: healthCheckSpec(group),
        targets: (health.TargetHealthDescriptions ?? []).flatMap((description) => {
          const target = description.Target;
          if (!target?.Id || target.Port === undefined) return [];
          return [
            {
              id: target.Id,
              port: target.Port,
              ...(target.AvailabilityZone ? { availabilityZone: target.AvailabilityZone } : {}),
              state: description.TargetHealth?.State ?? 'unknown',
              ...(description.TargetHealth?.Reason ? { reason: description.TargetHealth.Reason } : {}),
            },
          ];
        }),
      };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  });
  return groups.filter((group): group is TargetGroupState => group !== undefined);
}

/** Primary private IP and zone of each instance named (unknown ones are absent). */
export async function readInstances(ec2: EC2Client, ids: readonly string[]): Promise<NetworkFacts['instances']> {
  const instances = new Map<string, { address: string; zone: string }>();
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += 200) batches.push(ids.slice(i, i + 200));
  await mapLimit(batches, PARALLEL_READS, async (batch) => {
    let NextToken: string | undefined;
    do {
      const page = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: batch }], NextToken }));
      for (const instance of (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
        if (instance.InstanceId && instance.PrivateIpAddress && instance.Placement?.AvailabilityZone) {
          instances.set(instance.InstanceId, { address: instance.PrivateIpAddress, zone: instance.Placement.AvailabilityZone });
        }
      }
      NextToken = page.NextToken;
    } while (NextToken);
  });
  return instances;
}

export async function readSubnets(ec2: EC2Client, vpcId: string): Promise<NetworkFacts['subnets']> {
  const subnets: { id: string; cidr: string; zone: string }[] = [];
  let NextToken: string | undefined;
  do {
    const page = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }], NextToken }));
    for (const subnet of page.Subnets ?? []) {
      if (subnet.SubnetId && subnet.CidrBlock && subnet.AvailabilityZone) subnets.push({ id: subnet.SubnetId, cidr: subnet.CidrBlock, zone: subnet.AvailabilityZone });
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return subnets;
}

/**
 * The VPC's security groups' inbound rules and its network interfaces with their groups (security-groups.ts):
 * two paged reads, whatever the number of NLBs, and one per managed prefix list a rule names (its CIDRs
 * become the rule's: security-group-prefix-lists).
 */
export async function readSecurityFacts(ec2: EC2Client, vpcId: string): Promise<SecurityFacts> {
  const vpc = [{ Name: 'vpc-id', Values: [vpcId] }];
  const permissions = new Map<string, IpPermission[]>();
  let NextToken: string | undefined;
  do {
    const page = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: vpc, MaxResults: 1000, NextToken }));
    for (const group of page.SecurityGroups ?? []) if (group.GroupId) permissions.set(group.GroupId, group.IpPermissions ?? []);
    NextToken = page.NextToken;
  } while (NextToken);
  const prefixLists = await readPrefixLists(ec2, [...permissions.values()].flat().flatMap((p) => (p.PrefixListIds ?? []).flatMap((l) => l.PrefixListId ?? [])));
  const rules = new Map<string, IngressRule[]>();
  for (const [groupId, groupPermissions] of permissions) {
    rules.set(
      groupId,
      groupPermissions.map((permission) => ({
        protocol: permission.IpProtocol ?? '-1',
        ...(permission.FromPort !== undefined ? { fromPort: permission.FromPort } : {}),
        ...(permission.ToPort !== undefined ? { toPort: permission.ToPort } : {}),
        cidrs: [...(permission.IpRanges ?? []).flatMap((range) => range.CidrIp ?? []), ...(permission.PrefixListIds ?? []).flatMap((l) => prefixLists.get(l.PrefixListId ?? '') ?? [])],
        groups: (permission.UserIdGroupPairs ?? []).flatMap((pair) => pair.GroupId ?? []),
      })),
    );
  }
  const interfaces: InterfaceFacts[] = [];
  let interfacesToken: string | undefined;
  do {
    const page = await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: vpc, MaxResults: 1000, NextToken: interfacesToken }));
    for (const eni of page.NetworkInterfaces ?? []) {
      if (!eni.NetworkInterfaceId) continue;
      interfaces.push({
        id: eni.NetworkInterfaceId,
        addresses: (eni.PrivateIpAddresses ?? []).flatMap((p) => p.PrivateIpAddress ?? []),
        groups: (eni.Groups ?? []).flatMap((g) => g.GroupId ?? []),
      });
    }
    interfacesToken = page.NextToken;
  } while (interfacesToken);
  return { rules, interfaces };
}

/** The IPv4 CIDRs of each prefix list, once per list; one that cannot be read (deleted) lets nobody in. */
async function readPrefixLists(ec2: EC2Client, ids: string[]): Promise<Map<string, string[]>> {
  const entries = new Map<string, string[]>();
  for (const id of new Set(ids)) {
    const cidrs: string[] = [];
    try {
      let NextToken: string | undefined;
      do {
        const page = await ec2.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: id, NextToken }));
        cidrs.push(...(page.Entries ?? []).flatMap((entry) => (entry.Cidr && !entry.Cidr.includes(':') ? [entry.Cidr] : [])));
        NextToken = page.NextToken;
      } while (NextToken);
    } catch {
      cidrs.length = 0;
    }
    entries.set(id, cidrs);
  }
  return entries;
}
