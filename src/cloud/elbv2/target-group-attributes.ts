import { DescribeTargetGroupAttributesCommand, type ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { TARGET_GROUP_DEFAULT_ATTRIBUTES } from '../../core/model.ts';
import { keyValueRecord } from './sdk.ts';

/** Target group attributes per group of ours, as this process last read or wrote them (ADR 0009). */
export class KnownTargetGroupAttributes {
  private readonly client: ElasticLoadBalancingV2Client;
  private readonly known = new Map<string, Record<string, string>>();

  constructor(client: ElasticLoadBalancingV2Client) {
    this.client = client;
  }

  /** The group's attributes: as known when `knownWillDo` and known, else read (and then known). */
  async read(arn: string, knownWillDo: boolean): Promise<Record<string, string>> {
    const known = this.known.get(arn);
    if (knownWillDo && known) return known;
    const result = await this.client.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }));
    // ELBv2 returns every attribute; one an emulator leaves out has ELBv2's default.
    const attributes = { ...TARGET_GROUP_DEFAULT_ATTRIBUTES, ...keyValueRecord(result.Attributes) };
    this.known.set(arn, attributes);
    return attributes;
  }

  /** A group we just created has ELBv2's defaults. */
  created(arn: string): void {
    this.known.set(arn, { ...TARGET_GROUP_DEFAULT_ATTRIBUTES });
  }

  /** Our write changed these keys (of a group whose attributes are known; an unknown one is read when asked). */
  modified(arn: string, attributes: Record<string, string>): void {
    const known = this.known.get(arn);
    if (known) this.known.set(arn, { ...known, ...attributes });
  }

  forget(arn: string): void {
    this.known.delete(arn);
  }
}
