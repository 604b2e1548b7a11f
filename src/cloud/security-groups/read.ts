import {
  DescribeInstancesCommand,
  DescribeManagedPrefixListsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
  type Filter,
  type IpPermission,
  type NetworkInterface,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import { Annotations, Tags, UserError } from '../../core/annotations.ts';
import type { NodeRule } from '../../core/node-rules.ts';
import type { ActualSecurityGroup, ActualSecurityGroups } from '../../core/security-group-plan.ts';
import { BACKEND_SG_RESOURCE, BACKEND_SG_RESOURCE_TAG, MANAGED_SG_RESOURCE, NODE_RULE_DESCRIPTION, PREFIX_LISTS_ANNOTATION, type IngressRule } from '../../core/security-groups.ts';
import { errorName } from '../elbv2/sdk.ts';
import type { SecurityGroupParts } from './parts.ts';
import type { SecurityGroupPass } from './prefetch.ts';

/** What one observe reads: the stack, the annotation's groups, and the targets whose node groups matter. */
export interface SecurityGroupReads {
  stackId: string;
  named: string[];
  /** Instance IDs (instance targets) or pod addresses (ip targets). */
  targets: { type: 'instance' | 'ip'; ids: string[] };
  /** The managed group's prefix lists (security-group-prefix-lists): each must exist before a rule names it. */
  prefixLists?: string[];
  /** Targets of groups a listener still forwards to during a flip (plan.ts servingTargetGroups): their node groups keep their rules too. */
  servingTargets?: { type: 'instance' | 'ip'; ids: string[] }[];
}

/** How long a target's node group is trusted: groups of an instance or pod ENI rarely change. */
const NODE_GROUP_TTL_MS = 60_000;

/**
 * The reader: this stack's managed groups with their ingress (by our tags), the cluster's backend group (by its
 * tags, then remembered), every rule of ours from it (groups that reference it, one call), our CIDR rules on
 * those and on every other node group (cluster-tagged, read once; the targets' since start; one more call if
 * that call did not return them all: EC2 cannot filter by a rule's description), the
 * annotation's groups as IDs (a name or ID that does not exist is a UserError), and the node groups of the targets.
 * The managed and node groups come from the resync pass's reads when it has them for this stack (prefetch.ts).
 */
export async function readSecurityGroups(parts: SecurityGroupParts, read: SecurityGroupReads, pass?: SecurityGroupPass): Promise<ActualSecurityGroups> {
  const { client, clusterName } = parts;
  const inVpc = vpcFilter(parts);
  const backendId = await backendGroupId(parts);
  const passReads = pass?.take(read.stackId, backendId);
  const managed = (
    passReads?.managed.get(read.stackId) ??
    (passReads
      ? []
      : await describeGroups(client, [inVpc, { Name: `tag:${Tags.cluster}`, Values: [clusterName] }, { Name: `tag:${Tags.stack}`, Values: [read.stackId] }, { Name: `tag:${Tags.resource}`, Values: [MANAGED_SG_RESOURCE] }]))
  ).map(actualGroup);
  const namedIds = read.named.length > 0 ? await resolveNamed(parts, read.named) : [];
  if (read.prefixLists?.length) await requirePrefixLists(parts, read.prefixLists);
  let targetGroups = await nodeGroupIds(parts, read.targets);
  for (const serving of read.servingTargets ?? []) targetGroups = [...new Set([...targetGroups, ...(await nodeGroupIds(parts, serving))])].sort();
  const seen = await nodeGroupsSeen(parts);
  const nodeGroups = passReads && seen.every((id) => passReads.covered.has(id)) ? passReads.nodeGroups : await readNodeGroups(parts, backendId, seen);
  const nodeRules = [...(backendId ? ourNodeRules(nodeGroups, backendId) : []), ...ourCidrNodeRules(nodeGroups)];
  return { managed, ...(backendId ? { backendId } : {}), namedIds, nodeGroupIds: targetGroups, nodeRules };
}

/** Groups with a rule from the backend group (one call), and the other node groups we know of that it missed. */
async function readNodeGroups(parts: SecurityGroupParts, backendId: string | undefined, seen: string[]): Promise<SecurityGroup[]> {
  const inVpc = vpcFilter(parts);
  const referencing = backendId ? await describeGroups(parts.client, [inVpc, { Name: 'ip-permission.group-id', Values: [backendId] }]) : [];
  // Node groups the backend read did not return (usually none: a group with backend rules comes whole).
  const returned = new Set(referencing.map((g) => g.GroupId));
  const unread = seen.filter((id) => !returned.has(id));
  const others = unread.length > 0 ? await describeGroups(parts.client, [inVpc, { Name: 'group-id', Values: unread }]) : [];
  return [...referencing, ...others];
}

export const vpcFilter = (parts: SecurityGroupParts): Filter => ({ Name: 'vpc-id', Values: [parts.vpcId] });

/** The node groups our CIDR rules may be on: the cluster-tagged ones (read once) and the targets' since start. */
export async function nodeGroupsSeen(parts: SecurityGroupParts): Promise<string[]> {
  parts.known.clusterGroups ??= (await describeGroups(parts.client, [vpcFilter(parts), { Name: 'tag-key', Values: [`kubernetes.io/cluster/${parts.clusterName}`] }])).map((g) => g.GroupId!);
  return [...new Set([...parts.known.clusterGroups, ...[...parts.known.nodeGroups.values()].flatMap((entry) => entry.groups)])].sort();
}

/** The backend group's ID: remembered once found or created, else looked up by its tags. */
export async function backendGroupId(parts: SecurityGroupParts): Promise<string | undefined> {
  if (parts.known.backendId) return parts.known.backendId;
  const found = await describeGroups(parts.client, [
    { Name: 'vpc-id', Values: [parts.vpcId] },
    { Name: `tag:${Tags.cluster}`, Values: [parts.clusterName] },
    { Name: `tag:${BACKEND_SG_RESOURCE_TAG}`, Values: [BACKEND_SG_RESOURCE] },
  ]);
  parts.known.backendId = found.map((g) => g.GroupId!).sort()[0];
  return parts.known.backendId;
}

export async function describeGroups(client: EC2Client, filters: Filter[]): Promise<SecurityGroup[]> {
  const groups: SecurityGroup[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new DescribeSecurityGroupsCommand({ Filters: filters, NextToken: token }));
    groups.push(...(page.SecurityGroups ?? []));
    token = page.NextToken;
  } while (token);
  return groups;
}

const actualGroup = (group: SecurityGroup): ActualSecurityGroup => ({ id: group.GroupId!, name: group.GroupName ?? '', ingress: (group.IpPermissions ?? []).flatMap(ingressRules) });

/** The rules of one permission, one per range or prefix list (the shape the managed group's desired ingress has). */
function ingressRules(permission: IpPermission): IngressRule[] {
  const protocol = permission.IpProtocol as IngressRule['protocol'];
  const ports = { fromPort: permission.FromPort ?? -1, toPort: permission.ToPort ?? -1 };
  return [
    ...(permission.IpRanges ?? []).map((r) => ({ protocol, ...ports, cidr: r.CidrIp ?? '' })),
    ...(permission.Ipv6Ranges ?? []).map((r) => ({ protocol, ...ports, cidr: r.CidrIpv6 ?? '' })),
    ...(permission.PrefixListIds ?? []).map((p) => ({ protocol, ...ports, prefixListId: p.PrefixListId ?? '' })),
  ];
}

/** Rules described as ours whose source is the backend group; someone else's rules are never touched. */
function ourNodeRules(groups: SecurityGroup[], backendId: string): NodeRule[] {
  const rules: NodeRule[] = [];
  for (const group of groups) {
    for (const permission of group.IpPermissions ?? []) {
      const protocol = permission.IpProtocol;
      if ((protocol !== 'tcp' && protocol !== 'udp') || permission.FromPort === undefined || permission.ToPort === undefined) continue;
      const fromUs = (permission.UserIdGroupPairs ?? []).some((pair) => pair.GroupId === backendId && pair.Description === NODE_RULE_DESCRIPTION);
      if (fromUs) rules.push({ groupId: group.GroupId!, protocol, fromPort: permission.FromPort, toPort: permission.ToPort });
    }
  }
  return rules;
}

/**
 * Rules whose CIDR carries our description (an NLB without groups, legacy-node-rules.ts), one per range, as the
 * plan keeps them. Read from node groups only (the cluster-tagged ones and the targets' since start, as the
 * LBC tracks its endpoint groups): one with a single untagged group that no target uses any more keeps them.
 */
function ourCidrNodeRules(groups: SecurityGroup[]): NodeRule[] {
  const rules: NodeRule[] = [];
  for (const group of groups) {
    for (const permission of group.IpPermissions ?? []) {
      const protocol = permission.IpProtocol;
      if ((protocol !== 'tcp' && protocol !== 'udp') || permission.FromPort === undefined || permission.ToPort === undefined) continue;
      const ranges = [
        ...(permission.IpRanges ?? []).map((r) => ({ cidr: r.CidrIp, description: r.Description })),
        ...(permission.Ipv6Ranges ?? []).map((r) => ({ cidr: r.CidrIpv6, description: r.Description })),
      ];
      for (const { cidr, description } of ranges) {
        if (cidr && description === NODE_RULE_DESCRIPTION) rules.push({ groupId: group.GroupId!, protocol, fromPort: permission.FromPort, toPort: permission.ToPort, cidr });
      }
    }
  }
  return rules;
}

/** The security-groups annotation's entries as IDs: `sg-…` as given (checked to exist), others by Name tag. */
async function resolveNamed(parts: SecurityGroupParts, named: string[]): Promise<string[]> {
  const field = `annotation ${Annotations.securityGroups}`;
  const raw = named.join(',');
  const ids = named.filter((n) => n.startsWith('sg-'));
  const names = named.filter((n) => !n.startsWith('sg-'));
  const byId = new Map<string, string>();
  // A group-id filter (not GroupIds) so that an unknown ID is simply not found, as an unknown name.
  if (ids.length > 0) for (const g of await describeGroups(parts.client, [{ Name: 'group-id', Values: ids }])) byId.set(g.GroupId!, g.GroupId!);
  if (names.length > 0) {
    for (const g of await describeGroups(parts.client, [{ Name: 'vpc-id', Values: [parts.vpcId] }, { Name: 'tag:Name', Values: names }])) {
      const name = g.Tags?.find((t) => t.Key === 'Name')?.Value ?? '';
      if (byId.has(name)) throw new UserError(field, raw, `more than one security group is named ${JSON.stringify(name)} in ${parts.vpcId}`);
      byId.set(name, g.GroupId!);
    }
  }
  return named.map((entry) => {
    const id = byId.get(entry);
    if (!id) throw new UserError(field, raw, `no security group ${JSON.stringify(entry)} in ${parts.vpcId}`);
    return id;
  });
}

/**
 * A UserError, before any write, when a prefix list the Service names does not exist (EC2 refuses a rule naming
 * it; moto would take it). A prefix-list-id filter, so an unknown or malformed ID is simply not found.
 */
async function requirePrefixLists(parts: SecurityGroupParts, ids: string[]): Promise<void> {
  const found = new Set<string>();
  let token: string | undefined;
  do {
    const page = await parts.client.send(new DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'prefix-list-id', Values: ids }], NextToken: token }));
    for (const list of page.PrefixLists ?? []) if (list.PrefixListId) found.add(list.PrefixListId);
    token = page.NextToken;
  } while (token);
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length > 0) throw new UserError(`annotation ${PREFIX_LISTS_ANNOTATION}`, ids.join(','), `no managed prefix list ${missing.join(', ')}`);
}

/**
 * The node groups of the targets, as the LBC's networking manager finds them: the primary ENI of an instance
 * target, the ENI holding a pod address; its sole group, else the one tagged kubernetes.io/cluster/<cluster>.
 */
async function nodeGroupIds(parts: SecurityGroupParts, targets: SecurityGroupReads['targets']): Promise<string[]> {
  const now = Date.now();
  const cache = parts.known.nodeGroups;
  const unknown = targets.ids.filter((id) => (cache.get(id)?.at ?? -Infinity) <= now - NODE_GROUP_TTL_MS);
  if (unknown.length > 0) {
    const found = targets.type === 'instance' ? await instanceGroups(parts.client, unknown) : await addressGroups(parts, unknown);
    const ambiguous = [...new Set([...found.values()].filter((g) => g.length > 1).flat())];
    const clusterTagged: Filter = { Name: 'tag-key', Values: [`kubernetes.io/cluster/${parts.clusterName}`] };
    const tagged = new Set(ambiguous.length > 0 ? (await describeGroups(parts.client, [{ Name: 'group-id', Values: ambiguous }, clusterTagged])).map((g) => g.GroupId!) : []);
    for (const [id, groups] of found) {
      const chosen = groups.length === 1 ? groups : groups.filter((g) => tagged.has(g));
      cache.set(id, { at: now, groups: chosen.length === 1 ? chosen : [] });
    }
  }
  return [...new Set(targets.ids.flatMap((id) => cache.get(id)?.groups ?? []))].sort();
}

async function instanceGroups(client: EC2Client, instanceIds: string[]): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  const page = await client.send(new DescribeInstancesCommand({ InstanceIds: instanceIds })).catch((error: unknown) => {
    // An instance terminated since the model was built: its node group does not matter any more.
    if (errorName(error) === 'InvalidInstanceID.NotFound') return { Reservations: [] };
    throw error;
  });
  for (const instance of (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
    const primary = instance.NetworkInterfaces?.find((eni) => eni.Attachment?.DeviceIndex === 0);
    const groups = primary?.Groups ?? instance.SecurityGroups ?? [];
    found.set(instance.InstanceId!, groups.map((g) => g.GroupId!));
  }
  for (const id of instanceIds) if (!found.has(id)) found.set(id, []);
  return found;
}

/**
 * ENIs holding the pod addresses. AWS's addresses.private-ip-address filter matches secondary addresses;
 * moto's matches the primary one only (docs/emulator.md), so addresses it did not find are looked for in the
 * VPC's ENIs, once.
 */
async function addressGroups(parts: SecurityGroupParts, addresses: string[]): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  const collect = (enis: NetworkInterface[]) => {
    for (const eni of enis) {
      for (const address of eni.PrivateIpAddresses ?? []) {
        if (address.PrivateIpAddress && addresses.includes(address.PrivateIpAddress)) found.set(address.PrivateIpAddress, (eni.Groups ?? []).map((g) => g.GroupId!));
      }
    }
  };
  collect(await describeInterfaces(parts.client, [{ Name: 'addresses.private-ip-address', Values: addresses }]));
  if (found.size < addresses.length) collect(await describeInterfaces(parts.client, [{ Name: 'vpc-id', Values: [parts.vpcId] }]));
  // An address on no ENI (a pod outside the VPC) has no node group: remembered as such.
  for (const address of addresses) if (!found.has(address)) found.set(address, []);
  return found;
}

async function describeInterfaces(client: EC2Client, filters: Filter[]): Promise<NetworkInterface[]> {
  const enis: NetworkInterface[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new DescribeNetworkInterfacesCommand({ Filters: filters, NextToken: token }));
    enis.push(...(page.NetworkInterfaces ?? []));
    token = page.NextToken;
  } while (token);
  return enis;
}
