import {
  DescribeListenerAttributesCommand,
  DescribeListenerCertificatesCommand,
  DescribeCapacityReservationCommand,
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  type LoadBalancer,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Protocol, Scheme, TargetType } from '../../core/model.ts';
import type { ActualListener, ActualLoadBalancer, ActualStack, ActualTargetGroup } from '../../core/plan.ts';
import { healthCheckOf } from './health-check.ts';
import type { ExpectedNames } from './ownership.ts';
import type { Elbv2Parts } from './parts.ts';
import { chunks, errorName, keyValueRecord, TAG_CHUNK } from './sdk.ts';

/** What to read beyond resources and target health (each costs calls). */
export interface StackReads {
  loadBalancerAttributes: boolean;
  /** 'known': as this process last read or wrote them, reading only groups it has not seen (ADR 0009). */
  targetGroupAttributes: boolean | 'known';
  listenerTags?: boolean;
  /** DescribeCapacityReservation per load balancer (the Service asks for a minimum capacity). */
  capacityReservation?: boolean;
  /** DescribeListenerAttributes per listener of these ports (the Service sets their attributes). */
  listenerAttributes?: number[];
}

/**
 * Everything of ours for one stack (the index must be loaded): its load balancers and target groups (from a
 * bulk read when there is a fresh one), listeners, target health, and attributes and listener tags when asked.
 */
export async function readStack(parts: Elbv2Parts, stackId: string, read: StackReads, expected: ExpectedNames): Promise<ActualStack> {
  const { client, index, bulkReads } = parts;
  const owned = index.stack(stackId);
  await index.adoptByName(stackId, expected);
  const loadBalancers = await describeEach({
    arns: [...owned.loadBalancers],
    bulkRead: (arns) => bulkReads.takeLoadBalancers(arns),
    describe: async (arns) => (await client.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: arns }))).LoadBalancers ?? [],
    notFound: 'LoadBalancerNotFoundException',
    forget: (arn) => owned.loadBalancers.delete(arn),
  });
  const targetGroups = await describeEach({
    arns: [...owned.targetGroups.keys()],
    bulkRead: (arns) => bulkReads.takeTargetGroups(arns),
    describe: async (arns) => (await client.send(new DescribeTargetGroupsCommand({ TargetGroupArns: arns }))).TargetGroups ?? [],
    notFound: 'TargetGroupNotFoundException',
    forget: (arn) => owned.targetGroups.delete(arn),
  });
  const listeners = await readListeners(client, loadBalancers);
  const actualLbs: ActualLoadBalancer[] = [];
  for (const lb of loadBalancers) {
    actualLbs.push({
      ...actualLoadBalancer(lb),
      ...(read.loadBalancerAttributes ? { attributes: await loadBalancerAttributes(client, lb.LoadBalancerArn!) } : {}),
      ...(read.capacityReservation ? { minimumCapacityUnits: await capacityUnits(client, lb.LoadBalancerArn!) } : {}),
    });
  }
  const actualTgs: ActualTargetGroup[] = [];
  for (const tg of targetGroups) {
    const arn = tg.TargetGroupArn!;
    const health = await client.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
    parts.registrations.observed(arn, health.TargetHealthDescriptions);
    actualTgs.push({
      arn,
      name: tg.TargetGroupName ?? '',
      resourceId: owned.targetGroups.get(arn) ?? '',
      protocol: tg.Protocol as Protocol,
      port: tg.Port ?? 0,
      targetType: (tg.TargetType ?? 'instance') as TargetType,
      ...(tg.IpAddressType === 'ipv4' || tg.IpAddressType === 'ipv6' ? { ipAddressType: tg.IpAddressType } : {}),
      healthCheck: healthCheckOf(tg),
      targets: (health.TargetHealthDescriptions ?? []).map((d) => ({
        id: d.Target?.Id ?? '',
        port: d.Target?.Port ?? 0,
        state: d.TargetHealth?.State ?? 'unknown',
        ...(d.TargetHealth?.Reason ? { reason: d.TargetHealth.Reason } : {}),
      })),
      loadBalancerArns: tg.LoadBalancerArns ?? [],
      ...(read.targetGroupAttributes ? { attributes: await parts.targetGroupAttributes.read(arn, read.targetGroupAttributes === 'known') } : {}),
    });
  }
  if (read.listenerTags) await readListenerTags(client, listeners);
  for (const listener of listeners) {
    if (!read.listenerAttributes?.includes(listener.port)) continue;
    const described = await client.send(new DescribeListenerAttributesCommand({ ListenerArn: listener.arn }));
    listener.attributes = keyValueRecord(described.Attributes);
  }
  return { loadBalancers: actualLbs, listeners, targetGroups: actualTgs };
}

/**
 * The descriptions of `arns`: the bulk read's if it has all of them, else one call; when that call fails
 * because one was deleted behind our back, they are looked up one by one and the missing forgotten.
 */
async function describeEach<T>(how: {
  arns: string[];
  bulkRead: (arns: string[]) => T[] | undefined;
  describe: (arns: string[]) => Promise<T[]>;
  notFound: string;
  forget: (arn: string) => void;
}): Promise<T[]> {
  if (how.arns.length === 0) return [];
  const prefetched = how.bulkRead(how.arns);
  if (prefetched) return prefetched;
  try {
    return await how.describe(how.arns);
  } catch (error) {
    if (errorName(error) !== how.notFound) throw error;
    const found: T[] = [];
    for (const arn of how.arns) {
      try {
        found.push(...(await how.describe([arn])));
      } catch (inner) {
        if (errorName(inner) !== how.notFound) throw inner;
        how.forget(arn);
      }
    }
    return found;
  }
}

/** The listeners of these load balancers, a TLS one with its certificates (exported for its unit table). */
export async function readListeners(client: ElasticLoadBalancingV2Client, loadBalancers: LoadBalancer[]): Promise<ActualListener[]> {
  const listeners: ActualListener[] = [];
  for (const lb of loadBalancers) {
    const page = await client.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
    for (const l of page.Listeners ?? []) {
      const action = l.DefaultActions?.find((a) => a.Type === 'forward');
      const defaultCertificate = l.Certificates?.[0]?.CertificateArn;
      listeners.push({
        arn: l.ListenerArn!,
        loadBalancerArn: lb.LoadBalancerArn!,
        port: l.Port ?? 0,
        protocol: l.Protocol as Protocol,
        targetGroupArn: action?.TargetGroupArn ?? action?.ForwardConfig?.TargetGroups?.[0]?.TargetGroupArn,
        ...(defaultCertificate ? { defaultCertificate } : {}),
        ...(l.SslPolicy ? { sslPolicy: l.SslPolicy } : {}),
        ...(l.AlpnPolicy?.length ? { alpnPolicy: l.AlpnPolicy } : {}),
        // The listed certificates of a TLS listener, to plan Add/RemoveListenerCertificates (one read each, as the LBC).
        ...(l.Protocol === 'TLS' ? { listedCertificates: await listedCertificates(client, l.ListenerArn!) } : {}),
      });
    }
  }
  return listeners;
}

/** A listener's non-default certificates (DescribeListenerCertificates lists the default one too, marked). */
async function listedCertificates(client: ElasticLoadBalancingV2Client, listenerArn: string): Promise<string[]> {
  const arns: string[] = [];
  let Marker: string | undefined;
  do {
    const page = await client.send(new DescribeListenerCertificatesCommand({ ListenerArn: listenerArn, Marker }));
    for (const certificate of page.Certificates ?? []) if (!certificate.IsDefault && certificate.CertificateArn) arns.push(certificate.CertificateArn);
    Marker = page.NextMarker;
  } while (Marker);
  return arns;
}

const actualLoadBalancer = (lb: LoadBalancer): ActualLoadBalancer => ({
  arn: lb.LoadBalancerArn!,
  name: lb.LoadBalancerName ?? '',
  scheme: (lb.Scheme ?? 'internal') as Scheme,
  dnsName: (lb.DNSName ?? '').toLowerCase(),
  state: lb.State?.Code ?? 'unknown',
  createdAt: lb.CreatedTime?.getTime() ?? 0,
  securityGroups: lb.SecurityGroups ?? [],
  ...(lb.EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic ? { securityGroupsInboundRulesOnPrivateLink: lb.EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic } : {}),
  ...(lb.IpAddressType === 'ipv4' || lb.IpAddressType === 'dualstack' ? { ipAddressType: lb.IpAddressType } : {}),
});

/** The reserved capacity units; none reserved reads as 0 (ModifyCapacityReservation's reset). */
async function capacityUnits(client: ElasticLoadBalancingV2Client, arn: string): Promise<number> {
  const result = await client.send(new DescribeCapacityReservationCommand({ LoadBalancerArn: arn }));
  return result.MinimumLoadBalancerCapacity?.CapacityUnits ?? 0;
}

async function loadBalancerAttributes(client: ElasticLoadBalancingV2Client, arn: string): Promise<Record<string, string>> {
  const result = await client.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: arn }));
  return keyValueRecord(result.Attributes);
}

/** Sets each listener's tags, 20 listeners a DescribeTags call. */
async function readListenerTags(client: ElasticLoadBalancingV2Client, listeners: ActualListener[]): Promise<void> {
  for (const batch of chunks(listeners, TAG_CHUNK)) {
    const described = await client.send(new DescribeTagsCommand({ ResourceArns: batch.map((l) => l.arn) }));
    for (const description of described.TagDescriptions ?? []) {
      const listener = batch.find((l) => l.arn === description.ResourceArn);
      if (listener) listener.tags = keyValueRecord(description.Tags);
    }
  }
}
