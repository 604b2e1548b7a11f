import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type LoadBalancer,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { V1Service } from '@kubernetes/client-node';
import type { TestEnvironment } from './environment.ts';
import { waitFor, type WaitOptions } from './wait.ts';

export interface ObservedTarget {
  id: string;
  port: number;
  health: string;
}

export interface ObservedListener {
  port: number;
  protocol: string;
  targetGroupArn: string;
  targetType: string;
  targetGroupPort: number;
  targets: ObservedTarget[];
}

export interface ObservedLoadBalancer {
  arn: string;
  name: string;
  dnsName: string;
  scheme: string;
  state: string;
  listeners: ObservedListener[];
}

/** The NLB whose DNS name a Service's status carries, or undefined while there is none. */
export async function findLoadBalancerByDnsName(env: TestEnvironment, dnsName: string): Promise<LoadBalancer | undefined> {
  let marker: string | undefined;
  do {
    const page = await env.aws.elbv2.send(new DescribeLoadBalancersCommand({ Marker: marker }));
    const found = page.LoadBalancers?.find((lb) => lb.DNSName?.toLowerCase() === dnsName.toLowerCase());
    if (found) return found;
    marker = page.NextMarker;
  } while (marker);
  return undefined;
}

/** The NLB behind an ARN with its listeners, each listener's target group and its targets with health. */
export async function describeLoadBalancer(env: TestEnvironment, arn: string): Promise<ObservedLoadBalancer> {
  const { elbv2 } = env.aws;
  const lb = (await elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [arn] }))).LoadBalancers![0]!;
  const listeners: ObservedListener[] = [];
  for (const listener of (await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: arn }))).Listeners ?? []) {
    const targetGroupArn = listener.DefaultActions?.[0]?.TargetGroupArn ?? '';
    const tg = (await elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [targetGroupArn] }))).TargetGroups![0]!;
    const health = (await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }))).TargetHealthDescriptions ?? [];
    listeners.push({
      port: listener.Port ?? 0,
      protocol: listener.Protocol ?? '',
      targetGroupArn,
      targetType: tg.TargetType ?? '',
      targetGroupPort: tg.Port ?? 0,
      targets: health
        .map((h) => ({ id: h.Target?.Id ?? '', port: h.Target?.Port ?? 0, health: h.TargetHealth?.State ?? '' }))
        .sort((a, b) => a.id.localeCompare(b.id) || a.port - b.port),
    });
  }
  listeners.sort((a, b) => a.port - b.port);
  return { arn, name: lb.LoadBalancerName ?? '', dnsName: lb.DNSName ?? '', scheme: lb.Scheme ?? '', state: lb.State?.Code ?? '', listeners };
}

/**
 * Waits until the Service's status carries an NLB hostname, that NLB is active and (optionally) `until`
 * holds for it; returns the NLB as observed.
 */
export async function waitForLoadBalancer(
  env: TestEnvironment,
  namespace: string,
  name: string,
  until: (lb: ObservedLoadBalancer, service: V1Service) => boolean = () => true,
  options: WaitOptions = {},
): Promise<ObservedLoadBalancer> {
  return waitFor(
    async () => {
      const service = await env.core.readNamespacedService({ namespace, name });
      const hostname = service.status?.loadBalancer?.ingress?.[0]?.hostname;
      if (!hostname) return undefined;
      const found = await findLoadBalancerByDnsName(env, hostname);
      if (!found?.LoadBalancerArn) return undefined;
      const observed = await describeLoadBalancer(env, found.LoadBalancerArn);
      return observed.state === 'active' && until(observed, service) ? observed : undefined;
    },
    { description: `the NLB of Service ${namespace}/${name}`, timeoutMs: 60_000, ...options },
  );
}

/** `id:port` of every target behind a listener that reports healthy, sorted. */
export const healthyTargets = (listener: ObservedListener | undefined): string[] =>
  (listener?.targets ?? []).filter((t) => t.health === 'healthy').map((t) => `${t.id}:${t.port}`).sort();

/**
 * What an IP-mode target group should hold: `address:port` of every running, ready pod the selector picks,
 * with its VPC address from the ENI pool when it has one. Compare with `healthyTargets(listener)`.
 */
export async function podTargets(env: TestEnvironment, namespace: string, labelSelector: string, port: number): Promise<string[]> {
  const pods = await env.core.listNamespacedPod({ namespace, labelSelector });
  return pods.items
    .filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
    .map((p) => `${p.metadata?.annotations?.['vpc.amazonaws.com/pod-ips']?.split(',')[0] ?? p.status?.podIP}:${port}`)
    .sort();
}

/**
 * What an instance-mode target group should hold: `instance:nodePort` of every node (optionally those the
 * label selector picks) that has an EC2 instance, excluded nodes left out.
 */
export async function nodeTargets(env: TestEnvironment, nodePort: number, labelSelector?: string): Promise<string[]> {
  const nodes = await env.core.listNode(labelSelector ? { labelSelector } : {});
  return nodes.items
    .filter((n) => !n.metadata?.deletionTimestamp && (n.metadata?.labels?.['node.kubernetes.io/exclude-from-external-load-balancers'] ?? 'false') === 'false')
    .map((n) => /^aws:\/\/\/[^/]*\/(i-[0-9a-zA-Z]+)$/.exec(n.spec?.providerID ?? '')?.[1] ?? n.metadata?.annotations?.['cloud-provider-localstack.io/instance-id'])
    .filter((id): id is string => Boolean(id))
    .map((id) => `${id}:${nodePort}`)
    .sort();
}
