import type { SecurityGroup } from '@aws-sdk/client-ec2';
import { Tags } from '../../core/annotations.ts';
import { MANAGED_SG_RESOURCE } from '../../core/security-groups.ts';
import type { SecurityGroupParts } from './parts.ts';
import { backendGroupId, describeGroups, nodeGroupsSeen, vpcFilter } from './read.ts';

/** A pass's reads older than this are not used: the stack reads for itself. */
const PASS_TTL_MS = 30_000;

/** What a resync pass read once for every stack: the groups our rules live in are the same for all of them. */
export interface PassReads {
  /** Managed frontend groups of the cluster, by the stack tag. */
  managed: Map<string, SecurityGroup[]>;
  backendId: string | undefined;
  /** Groups with a rule from the backend group, and the other node groups we knew of, read whole. */
  nodeGroups: SecurityGroup[];
  /** Every group ID that read covered: a stack whose node groups are all in it needs no read of its own. */
  covered: Set<string>;
}

/**
 * The security groups of a resync pass read in three calls instead of two or three per stack (as BulkReads does
 * for ELBv2, ADR 0007): each stack of the pass takes them once, within 30 s, unless we wrote a group since (a
 * node rule of one Service is every Service's concern, so any write of ours drops the whole pass). Drift made
 * by others is seen at the next pass, as with per-stack reads.
 */
export class SecurityGroupPass {
  private reads: (PassReads & { at: number; stacks: Set<string> }) | undefined;
  private writes = 0;

  async read(parts: SecurityGroupParts, stackIds: string[]): Promise<void> {
    const writesBefore = this.writes;
    const { client, clusterName } = parts;
    const inVpc = vpcFilter(parts);
    const managedGroups = await describeGroups(client, [
      inVpc,
      { Name: `tag:${Tags.cluster}`, Values: [clusterName] },
      { Name: `tag:${Tags.resource}`, Values: [MANAGED_SG_RESOURCE] },
    ]);
    const managed = new Map<string, SecurityGroup[]>();
    for (const group of managedGroups) {
      const stackId = group.Tags?.find((t) => t.Key === Tags.stack)?.Value;
      if (stackId) managed.set(stackId, [...(managed.get(stackId) ?? []), group]);
    }
    const backendId = await backendGroupId(parts);
    const referencing = backendId ? await describeGroups(client, [inVpc, { Name: 'ip-permission.group-id', Values: [backendId] }]) : [];
    const returned = new Set(referencing.map((g) => g.GroupId!));
    const unread = (await nodeGroupsSeen(parts)).filter((id) => !returned.has(id));
    const others = unread.length > 0 ? await describeGroups(client, [inVpc, { Name: 'group-id', Values: unread }]) : [];
    if (this.writes !== writesBefore) return;
    this.reads = { at: Date.now(), stacks: new Set(stackIds), managed, backendId, nodeGroups: [...referencing, ...others], covered: new Set([...returned, ...unread]) };
  }

  /** This pass's reads for a stack of it, once; undefined when there are none fit to use. */
  take(stackId: string, backendId: string | undefined): PassReads | undefined {
    const reads = this.reads;
    if (!reads || !reads.stacks.delete(stackId)) return undefined;
    if (Date.now() - reads.at >= PASS_TTL_MS || reads.backendId !== backendId) return undefined;
    return reads;
  }

  /** A group of ours changed: nothing read before is used any more (and a read in flight is not kept). */
  dropForWrite(): void {
    this.writes++;
    this.reads = undefined;
  }
}
