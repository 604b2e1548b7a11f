import {
  AddTagsCommand,
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  ModifyLoadBalancerAttributesCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  RegisterTargetsCommand,
  type LoadBalancer,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { type Protocol, type Scheme, type TargetType } from '../core/model.ts';
import type { Action, ActualListener, ActualLoadBalancer, ActualStack, ActualTargetGroup, Ref } from '../core/plan.ts';
import { BulkReads } from './elbv2/prefetch.ts';
import { Registrations } from './elbv2/registrations.ts';
import { KnownTargetGroupAttributes } from './elbv2/target-group-attributes.ts';
import { type ExpectedNames, type OwnedStack, OwnershipIndex } from './elbv2/ownership.ts';
import { healthCheckOf, healthCheckParameters } from './elbv2/health-check.ts';
import { chunks, errorName, TAG_CHUNK, ignoring, keyValueList, keyValueRecord } from './elbv2/sdk.ts';

/**
 * ELBv2 adapter: finds what we own by tags and applies plan actions.
 *
 * Ownership is the cluster tag plus the stack tag, never the name (the emulator lets two LBs share one, and a
 * foreign LB may carry ours). The index of our ARNs is built once, at start, from one pass over the region's
 * LBs and target groups (DescribeTags in chunks of 20), and then kept up to date by our own creates and
 * deletes, so a reconcile never lists the region.
 */

const TARGET_CHUNK = 200;

export class LoadBalancerCloud {
  private readonly client: ElasticLoadBalancingV2Client;
  private readonly index: OwnershipIndex;
  private readonly bulkReads: BulkReads;
  private readonly registrations: Registrations;
  private readonly targetGroupAttributes: KnownTargetGroupAttributes;

  constructor(client: ElasticLoadBalancingV2Client, clusterName: string) {
    this.client = client;
    this.index = new OwnershipIndex(client, clusterName);
    this.bulkReads = new BulkReads(client, this.index);
    this.registrations = new Registrations(client, this.index);
    this.targetGroupAttributes = new KnownTargetGroupAttributes(client);
  }

  /** Builds the index of our resources (once; concurrent callers share the load). */
  loadIndex(): Promise<void> {
    return this.index.load();
  }

  /** Stacks the index knows, for garbage collection of Services that vanished while we were away. */
  knownStacks(): Promise<string[]> {
    return this.index.knownStacks();
  }

  /**
   * Reads the load balancers and target groups of many stacks in calls of 20 ARNs, for a resync pass: each
   * stack's next observe then reads only its listeners and target health (2 calls, not 4). A call that names a
   * resource gone behind our back fails whole; the stacks in it simply read for themselves, which finds it.
   */
  async prefetch(stackIds: string[]): Promise<void> {
    await this.loadIndex();
    await this.bulkReads.read(stackIds);
  }

  /**
   * Everything of ours for one Service, with target health; attributes and listener tags only when asked for.
   * `targetGroupAttributes: 'known'` gives each group's attributes as this process last read or wrote them,
   * reading only groups it has not seen (ADR 0009).
   */
  async observe(
    stackId: string,
    read: { loadBalancerAttributes: boolean; targetGroupAttributes: boolean | 'known'; listenerTags?: boolean },
    expected: ExpectedNames = {},
  ): Promise<ActualStack> {
    await this.loadIndex();
    const entry = this.index.stack(stackId);
    await this.index.adoptByName(stackId, expected);
    const loadBalancers = await this.describeLoadBalancers(entry);
    const targetGroups = await this.describeTargetGroups(entry);
    const listeners: ActualListener[] = [];
    for (const lb of loadBalancers) {
      const page = await this.client.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
      for (const l of page.Listeners ?? []) {
        const action = l.DefaultActions?.find((a) => a.Type === 'forward');
        listeners.push({
          arn: l.ListenerArn!,
          loadBalancerArn: lb.LoadBalancerArn!,
          port: l.Port ?? 0,
          protocol: l.Protocol as Protocol,
          targetGroupArn: action?.TargetGroupArn ?? action?.ForwardConfig?.TargetGroups?.[0]?.TargetGroupArn,
        });
      }
    }
    const actualLbs: ActualLoadBalancer[] = [];
    for (const lb of loadBalancers) {
      actualLbs.push({
        arn: lb.LoadBalancerArn!,
        name: lb.LoadBalancerName ?? '',
        scheme: (lb.Scheme ?? 'internal') as Scheme,
        dnsName: (lb.DNSName ?? '').toLowerCase(),
        state: lb.State?.Code ?? 'unknown',
        createdAt: lb.CreatedTime?.getTime() ?? 0,
        ...(read.loadBalancerAttributes ? { attributes: await this.loadBalancerAttributes(lb.LoadBalancerArn!) } : {}),
      });
    }
    const actualTgs: ActualTargetGroup[] = [];
    for (const tg of targetGroups) {
      const health = await this.client.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn }));
      this.registrations.observed(tg.TargetGroupArn!, health.TargetHealthDescriptions);
      actualTgs.push({
        arn: tg.TargetGroupArn!,
        name: tg.TargetGroupName ?? '',
        resourceId: entry.targetGroups.get(tg.TargetGroupArn!) ?? '',
        protocol: tg.Protocol as Protocol,
        port: tg.Port ?? 0,
        targetType: (tg.TargetType ?? 'instance') as TargetType,
        healthCheck: healthCheckOf(tg),
        targets: (health.TargetHealthDescriptions ?? []).map((d) => ({
          id: d.Target?.Id ?? '',
          port: d.Target?.Port ?? 0,
          state: d.TargetHealth?.State ?? 'unknown',
          ...(d.TargetHealth?.Reason ? { reason: d.TargetHealth.Reason } : {}),
        })),
        loadBalancerArns: tg.LoadBalancerArns ?? [],
        ...(read.targetGroupAttributes ? { attributes: await this.targetGroupAttributes.read(tg.TargetGroupArn!, read.targetGroupAttributes === 'known') } : {}),
      });
    }
    if (read.listenerTags) await this.readListenerTags(listeners);
    return { loadBalancers: actualLbs, listeners, targetGroups: actualTgs };
  }

  private async readListenerTags(listeners: ActualListener[]): Promise<void> {
    for (const batch of chunks(listeners, TAG_CHUNK)) {
      const described = await this.client.send(new DescribeTagsCommand({ ResourceArns: batch.map((l) => l.arn) }));
      for (const description of described.TagDescriptions ?? []) {
        const listener = batch.find((l) => l.arn === description.ResourceArn);
        if (listener) listener.tags = keyValueRecord(description.Tags);
      }
    }
  }

  private async describeLoadBalancers(entry: OwnedStack): Promise<LoadBalancer[]> {
    const arns = [...entry.loadBalancers];
    if (arns.length === 0) return [];
    const prefetched = this.bulkReads.takeLoadBalancers(arns);
    if (prefetched) return prefetched;
    try {
      return (await this.client.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: arns }))).LoadBalancers ?? [];
    } catch (error) {
      if (errorName(error) !== 'LoadBalancerNotFoundException') throw error;
      // One of them was deleted behind our back: look them up one by one and forget the missing.
      const found: LoadBalancer[] = [];
      for (const arn of arns) {
        try {
          found.push(...((await this.client.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [arn] }))).LoadBalancers ?? []));
        } catch (inner) {
          if (errorName(inner) !== 'LoadBalancerNotFoundException') throw inner;
          entry.loadBalancers.delete(arn);
        }
      }
      return found;
    }
  }

  private async describeTargetGroups(entry: OwnedStack): Promise<TargetGroup[]> {
    const arns = [...entry.targetGroups.keys()];
    if (arns.length === 0) return [];
    const prefetched = this.bulkReads.takeTargetGroups(arns);
    if (prefetched) return prefetched;
    try {
      return (await this.client.send(new DescribeTargetGroupsCommand({ TargetGroupArns: arns }))).TargetGroups ?? [];
    } catch (error) {
      if (errorName(error) !== 'TargetGroupNotFoundException') throw error;
      const found: TargetGroup[] = [];
      for (const arn of arns) {
        try {
          found.push(...((await this.client.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] }))).TargetGroups ?? []));
        } catch (inner) {
          if (errorName(inner) !== 'TargetGroupNotFoundException') throw inner;
          entry.targetGroups.delete(arn);
        }
      }
      return found;
    }
  }

  private async loadBalancerAttributes(arn: string): Promise<Record<string, string>> {
    const result = await this.client.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: arn }));
    return keyValueRecord(result.Attributes);
  }

  /** Applies actions in order; resources created earlier in the list are referenced by key. */
  async apply(stackId: string, vpcId: string, actions: Action[], onAction?: (action: Action) => void): Promise<void> {
    const entry = this.index.stack(stackId);
    this.bulkReads.dropForWrite(stackId, entry);
    const created = new Map<string, string>();
    const arnOf = (ref: Ref): string => {
      if ('arn' in ref) return ref.arn;
      const arn = created.get(ref.key);
      if (!arn) throw new Error(`plan refers to ${ref.key} before creating it`);
      return arn;
    };
    for (const action of actions) {
      onAction?.(action);
      switch (action.kind) {
        case 'CreateLoadBalancer': {
          const result = await this.client.send(
            new CreateLoadBalancerCommand({
              Name: action.spec.name,
              Type: 'network',
              Scheme: action.spec.scheme,
              Subnets: action.spec.subnetIds,
              IpAddressType: 'ipv4',
              Tags: keyValueList(action.spec.tags),
            }),
          );
          const arn = result.LoadBalancers![0]!.LoadBalancerArn!;
          entry.loadBalancers.add(arn);
          created.set(action.key, arn);
          break;
        }
        case 'ModifyLoadBalancerAttributes':
          await this.client.send(
            new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: arnOf(action.loadBalancer), Attributes: keyValueList(action.attributes) }),
          );
          break;
        case 'DeleteLoadBalancer':
          await ignoring(['LoadBalancerNotFoundException'], () => this.client.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: action.arn })));
          entry.loadBalancers.delete(action.arn);
          break;
        case 'CreateTargetGroup': {
          const { spec } = action;
          const result = await this.client.send(
            new CreateTargetGroupCommand({
              Name: spec.name,
              Protocol: spec.protocol,
              Port: spec.port,
              VpcId: vpcId,
              TargetType: spec.targetType,
              ...healthCheckParameters(spec.healthCheck),
              Tags: keyValueList(spec.tags),
            }),
          );
          const arn = result.TargetGroups![0]!.TargetGroupArn!;
          entry.targetGroups.set(arn, spec.resourceId);
          this.targetGroupAttributes.created(arn);
          created.set(action.key, arn);
          break;
        }
        case 'ModifyTargetGroup':
          await this.client.send(new ModifyTargetGroupCommand({ TargetGroupArn: action.arn, ...healthCheckParameters(action.healthCheck) }));
          break;
        case 'ModifyTargetGroupAttributes': {
          const arn = arnOf(action.targetGroup);
          await this.client.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: arn, Attributes: keyValueList(action.attributes) }));
          this.targetGroupAttributes.modified(arn, action.attributes);
          break;
        }
        case 'RegisterTargets': {
          const arn = arnOf(action.targetGroup);
          for (const batch of chunks(action.targets, TARGET_CHUNK)) {
            const targets = batch.map((t) => ({ Id: t.id, Port: t.port, ...(t.availabilityZone ? { AvailabilityZone: t.availabilityZone } : {}) }));
            await this.client.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: targets }));
          }
          this.registrations.registered(arn, action.targets.map((t) => t.id));
          break;
        }
        case 'DeregisterTargets':
          for (const batch of chunks(action.targets, TARGET_CHUNK)) {
            await ignoring(['InvalidTargetException', 'TargetGroupNotFoundException'], () =>
              this.client.send(new DeregisterTargetsCommand({ TargetGroupArn: action.arn, Targets: batch.map((t) => ({ Id: t.id, Port: t.port })) })),
            );
          }
          this.registrations.deregistered(action.arn, action.targets.map((t) => t.id));
          break;
        case 'CreateListener':
          await this.client.send(
            new CreateListenerCommand({
              LoadBalancerArn: arnOf(action.loadBalancer),
              Port: action.port,
              Protocol: action.protocol,
              DefaultActions: [{ Type: 'forward', TargetGroupArn: arnOf(action.targetGroup) }],
              ...(action.tags ? { Tags: keyValueList(action.tags) } : {}),
            }),
          );
          break;
        case 'AddListenerTags':
          await this.client.send(new AddTagsCommand({ ResourceArns: [action.arn], Tags: keyValueList(action.tags) }));
          break;
        case 'ModifyListener':
          await this.client.send(new ModifyListenerCommand({ ListenerArn: action.arn, DefaultActions: [{ Type: 'forward', TargetGroupArn: arnOf(action.targetGroup) }] }));
          break;
        case 'DeleteListener':
          await ignoring(['ListenerNotFoundException'], () => this.client.send(new DeleteListenerCommand({ ListenerArn: action.arn })));
          break;
        case 'DeleteTargetGroup':
          await ignoring(['TargetGroupNotFoundException'], () => this.client.send(new DeleteTargetGroupCommand({ TargetGroupArn: action.arn })));
          entry.targetGroups.delete(action.arn);
          this.registrations.forget(action.arn);
          this.targetGroupAttributes.forget(action.arn);
          break;
      }
    }
  }

  /**
   * Every target ID registered in any target group of ours. Groups not seen since start are read once, so the
   * answer is complete even before the first reconcile of their Service.
   */
  async registeredTargetIds(): Promise<Set<string>> {
    await this.loadIndex();
    return this.registrations.targetIds();
  }

  /** Target health of one target group, for the flip test and `describe`. */
  async targetHealth(targetGroupArn: string) {
    const result = await this.client.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
    return result.TargetHealthDescriptions ?? [];
  }
}
