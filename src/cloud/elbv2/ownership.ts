import { DescribeLoadBalancersCommand, type DescribeLoadBalancersCommandOutput, DescribeTagsCommand, DescribeTargetGroupsCommand, type DescribeTargetGroupsCommandOutput, type ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { Tags } from '../../core/annotations.ts';
import { chunks, ignoring, keyValueRecord, TAG_CHUNK } from './sdk.ts';

/** What one stack (one Service) owns. Our own creates and deletes update it in place (see apply.ts). */
export interface OwnedStack {
  loadBalancers: Set<string>;
  /** Target group ARN → its service.k8s.aws/resource tag. */
  targetGroups: Map<string, string>;
}

/** Names a stack's resources will have, for adoption before anything is created. */
export interface ExpectedNames {
  loadBalancerName?: string;
  targetGroupNames?: string[];
}

/**
 * The index of our ARNs per stack. Ownership is the cluster tag plus the stack tag, never the name (the
 * emulator lets two LBs share one, and a foreign LB may carry ours). Built once, at start, from one pass over
 * the region's LBs and target groups (DescribeTags in chunks of 20), then kept up to date by our own creates
 * and deletes, so a reconcile never lists the region.
 */
export class OwnershipIndex {
  private readonly client: ElasticLoadBalancingV2Client;
  private readonly clusterName: string;
  private readonly stacks = new Map<string, OwnedStack>();
  private loaded: Promise<void> | undefined;

  constructor(client: ElasticLoadBalancingV2Client, clusterName: string) {
    this.client = client;
    this.clusterName = clusterName;
  }

  /** Builds the index (once; concurrent callers share the load; a failed scan is tried again next time). */
  load(): Promise<void> {
    this.loaded ??= this.scanRegion().catch((error: unknown) => {
      this.loaded = undefined;
      throw error;
    });
    return this.loaded;
  }

  /** The stack's record, created empty for a stack not seen yet. */
  stack(stackId: string): OwnedStack {
    let owned = this.stacks.get(stackId);
    if (!owned) {
      owned = { loadBalancers: new Set(), targetGroups: new Map() };
      this.stacks.set(stackId, owned);
    }
    return owned;
  }

  /** The stack's record if it has one (without creating it). */
  find(stackId: string): OwnedStack | undefined {
    return this.stacks.get(stackId);
  }

  /** Every stack's record. */
  all(): Iterable<OwnedStack> {
    return this.stacks.values();
  }

  /** Stacks the index knows, for garbage collection of Services that vanished while we were away. */
  async knownStacks(): Promise<string[]> {
    await this.load();
    return [...this.stacks.entries()].filter(([, owned]) => owned.loadBalancers.size + owned.targetGroups.size > 0).map(([id]) => id);
  }

  /**
   * Before anything would be created, looks for it by name: a create whose answer was lost (or one made by
   * another replica since the index was built) left a resource with our tags that the index does not know.
   * Only resources carrying our cluster and stack tags are adopted; names are never trusted alone.
   */
  async adoptByName(stackId: string, expected: ExpectedNames): Promise<void> {
    const owned = this.stack(stackId);
    const candidates: string[] = [];
    if (expected.loadBalancerName && owned.loadBalancers.size === 0) {
      const found = await ignoring(['LoadBalancerNotFoundException'], () => this.client.send(new DescribeLoadBalancersCommand({ Names: [expected.loadBalancerName!] })));
      for (const lb of found?.LoadBalancers ?? []) if (lb.LoadBalancerArn) candidates.push(lb.LoadBalancerArn);
    }
    const knownNames = new Set([...owned.targetGroups.keys()].map((arn) => arn.split('/')[1]));
    const missing = (expected.targetGroupNames ?? []).filter((name) => !knownNames.has(name));
    if (missing.length > 0) {
      const found = await ignoring(['TargetGroupNotFoundException'], () => this.client.send(new DescribeTargetGroupsCommand({ Names: missing })));
      for (const tg of found?.TargetGroups ?? []) if (tg.TargetGroupArn) candidates.push(tg.TargetGroupArn);
    }
    await this.claimTagged(candidates, stackId);
  }

  private async scanRegion(): Promise<void> {
    const lbArns: string[] = [];
    let marker: string | undefined;
    do {
      const page: DescribeLoadBalancersCommandOutput = await this.client.send(new DescribeLoadBalancersCommand({ Marker: marker, PageSize: 400 }));
      for (const lb of page.LoadBalancers ?? []) if (lb.Type === 'network' && lb.LoadBalancerArn) lbArns.push(lb.LoadBalancerArn);
      marker = page.NextMarker;
    } while (marker);
    const tgArns: string[] = [];
    marker = undefined;
    do {
      const page: DescribeTargetGroupsCommandOutput = await this.client.send(new DescribeTargetGroupsCommand({ Marker: marker, PageSize: 400 }));
      for (const tg of page.TargetGroups ?? []) if (tg.TargetGroupArn) tgArns.push(tg.TargetGroupArn);
      marker = page.NextMarker;
    } while (marker);
    await this.claimTagged([...lbArns, ...tgArns]);
  }

  /** Reads the tags of `arns` and records those with our cluster tag under their stack (only `onlyStack`'s, if given). */
  private async claimTagged(arns: string[], onlyStack?: string): Promise<void> {
    for (const batch of chunks(arns, TAG_CHUNK)) {
      const described = await this.client.send(new DescribeTagsCommand({ ResourceArns: batch }));
      for (const description of described.TagDescriptions ?? []) {
        const tags = keyValueRecord(description.Tags);
        const stack = tags[Tags.stack];
        if (tags[Tags.cluster] !== this.clusterName || !stack || !description.ResourceArn) continue;
        if (onlyStack !== undefined && stack !== onlyStack) continue;
        if (description.ResourceArn.includes(':loadbalancer/')) this.stack(stack).loadBalancers.add(description.ResourceArn);
        else this.stack(stack).targetGroups.set(description.ResourceArn, tags[Tags.resource] ?? '');
      }
    }
  }
}
