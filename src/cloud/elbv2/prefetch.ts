import { DescribeLoadBalancersCommand, DescribeTargetGroupsCommand, type ElasticLoadBalancingV2Client, type LoadBalancer, type TargetGroup } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { OwnedStack, OwnershipIndex } from './ownership.ts';
import { chunks, ignoring } from './sdk.ts';

/** ARNs per DescribeLoadBalancers / DescribeTargetGroups call (the API's limit). */
const DESCRIBE_CHUNK = 20;
/** A bulk-read description older than this is not used: the stack reads for itself. */
const PREFETCH_TTL_MS = 30_000;

/** A description read in bulk, and when. */
interface Prefetched<T> {
  at: number;
  value: T;
}

/**
 * Load balancers and target groups read in bulk for a resync pass (ADR 0007), each used once by its stack's
 * next observe, which then reads only its listeners and target health (2 calls, not 4). Dropped for a stack
 * on any write of ours to it, and not used after 30 s.
 */
export class BulkReads {
  private readonly client: ElasticLoadBalancingV2Client;
  private readonly index: OwnershipIndex;
  private readonly loadBalancers = new Map<string, Prefetched<LoadBalancer>>();
  private readonly targetGroups = new Map<string, Prefetched<TargetGroup>>();
  /** Applies per stack, so a read that raced a write of ours is not kept. */
  private readonly writes = new Map<string, number>();

  constructor(client: ElasticLoadBalancingV2Client, index: OwnershipIndex) {
    this.client = client;
    this.index = index;
  }

  /**
   * Reads the load balancers and target groups of many stacks in calls of 20 ARNs. A call that names a
   * resource gone behind our back fails whole; the stacks in it simply read for themselves, which finds it.
   */
  async read(stackIds: string[]): Promise<void> {
    const writesBefore = new Map(stackIds.map((id) => [id, this.writes.get(id) ?? 0]));
    const unchanged = (id: string) => (this.writes.get(id) ?? 0) === writesBefore.get(id);
    const stackOf = new Map<string, string>();
    for (const id of stackIds) {
      const owned = this.index.find(id);
      for (const arn of [...(owned?.loadBalancers ?? []), ...(owned?.targetGroups.keys() ?? [])]) stackOf.set(arn, id);
    }
    const arns = [...stackOf.keys()];
    const at = Date.now();
    const read = async <T>(kind: string, cache: Map<string, Prefetched<T>>, describe: (batch: string[]) => Promise<[string, T][]>) => {
      for (const batch of chunks(arns.filter((arn) => arn.includes(`:${kind}/`)), DESCRIBE_CHUNK)) {
        for (const [arn, value] of await describe(batch)) if (unchanged(stackOf.get(arn)!)) cache.set(arn, { at, value });
      }
    };
    await read('loadbalancer', this.loadBalancers, async (batch) => {
      const page = await ignoring(['LoadBalancerNotFoundException'], () => this.client.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: batch })));
      return (page?.LoadBalancers ?? []).map((lb) => [lb.LoadBalancerArn!, lb]);
    });
    await read('targetgroup', this.targetGroups, async (batch) => {
      const page = await ignoring(['TargetGroupNotFoundException'], () => this.client.send(new DescribeTargetGroupsCommand({ TargetGroupArns: batch })));
      return (page?.TargetGroups ?? []).map((tg) => [tg.TargetGroupArn!, tg]);
    });
  }

  /** The bulk-read load balancers of exactly these ARNs, each used once (see `take`). */
  takeLoadBalancers(arns: string[]): LoadBalancer[] | undefined {
    return take(this.loadBalancers, arns);
  }

  /** The bulk-read target groups of exactly these ARNs, each used once (see `take`). */
  takeTargetGroups(arns: string[]): TargetGroup[] | undefined {
    return take(this.targetGroups, arns);
  }

  /** What a bulk read saw of this stack is out of date from now on (and one in flight will not be kept). */
  dropForWrite(stackId: string, owned: OwnedStack): void {
    this.writes.set(stackId, (this.writes.get(stackId) ?? 0) + 1);
    for (const arn of [...owned.loadBalancers, ...owned.targetGroups.keys()]) {
      this.loadBalancers.delete(arn);
      this.targetGroups.delete(arn);
    }
  }
}

/**
 * The bulk-read descriptions of exactly these ARNs, each used once; undefined (and none used) unless every
 * one is there and fresh, so a stack whose resources changed since the index was read reads for itself.
 */
function take<T>(cache: Map<string, Prefetched<T>>, arns: string[]): T[] | undefined {
  const found = arns.map((arn) => cache.get(arn));
  for (const arn of arns) cache.delete(arn);
  const now = Date.now();
  return found.every((entry): entry is Prefetched<T> => entry !== undefined && now - entry.at < PREFETCH_TTL_MS) ? found.map((entry) => entry!.value) : undefined;
}
