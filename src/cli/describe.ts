import type { Manager } from '../controllers/manager.ts';
import { POD_IPS_ANNOTATION } from '../core/ipam/keys.ts';
import { instanceIdOf } from '../core/nodes.ts';
import { describePortRange } from '../core/security-group-plan.ts';
import { describeIngressRule } from '../core/security-groups.ts';

export interface DescribedTarget {
  id: string;
  port: number;
  health: string;
  /** ELBv2's reason for a state that is not healthy, e.g. Target.NotInUse. */
  reason?: string;
  what: string;
}

export interface DescribedService {
  service: string;
  targetType?: string;
  status?: string;
  loadBalancers: {
    arn: string;
    name: string;
    dnsName: string;
    scheme: string;
    state: string;
    /** The NLB's security groups: ours (managed, with its ingress; the cluster's backend group) or named. */
    securityGroups: { id: string; role: 'managed' | 'backend' | 'named'; ingress?: string[] }[];
    listeners: { port: number; protocol: string; targetGroup?: { arn: string; name: string; targetType: string; protocol: string; port: number; healthCheck: string; targets: DescribedTarget[] } }[];
  }[];
  /** Rules of ours on the nodes' groups: from the backend group (`<group> tcp 30080`) or a CIDR (`<group> tcp 30080 from 10.0.0.0/24`). */
  nodeRules: string[];
  waiting: string[];
}

/** Service → NLB → listener → target group → targets (with what each target is: which pod or node). */
export async function describeService(manager: Manager, key: string): Promise<DescribedService> {
  const [namespace, name] = key.split('/') as [string, string];
  const service = manager.informers.services.get(name, namespace);
  const planned = await manager.service!.planFor(key);
  const { actual } = planned;
  const podByIp = new Map<string, string>();
  for (const pod of manager.informers.pods.list()) {
    const ip = pod.metadata?.annotations?.[POD_IPS_ANNOTATION]?.split(',')[0] ?? pod.status?.podIP;
    if (ip) podByIp.set(ip, `pod ${pod.metadata?.namespace}/${pod.metadata?.name} on ${pod.spec?.nodeName ?? '?'}`);
  }
  const nodeByInstance = new Map<string, string>();
  for (const node of manager.informers.nodes.list()) {
    const id = instanceIdOf(node);
    if (id) nodeByInstance.set(id, `node ${node.metadata?.name}`);
  }
  return {
    service: key,
    ...(planned.desired ? { targetType: planned.desired.targetType } : {}),
    ...(service ? { status: service.status?.loadBalancer?.ingress?.[0]?.hostname ?? '(no hostname yet)' } : { status: '(Service not found)' }),
    loadBalancers: actual.loadBalancers.map((lb) => ({
      arn: lb.arn,
      name: lb.name,
      dnsName: lb.dnsName,
      scheme: lb.scheme,
      state: lb.state,
      securityGroups: (lb.securityGroups ?? []).map((id) => {
        const managed = actual.securityGroups?.managed.find((g) => g.id === id);
        if (managed) return { id, role: 'managed' as const, ingress: managed.ingress.map(describeIngressRule) };
        return { id, role: id === actual.securityGroups?.backendId ? ('backend' as const) : ('named' as const) };
      }),
      listeners: actual.listeners
        .filter((l) => l.loadBalancerArn === lb.arn)
        .sort((a, b) => a.port - b.port)
        .map((l) => {
          const tg = actual.targetGroups.find((t) => t.arn === l.targetGroupArn);
          return {
            port: l.port,
            protocol: l.protocol,
            ...(tg
              ? {
                  targetGroup: {
                    arn: tg.arn,
                    name: tg.name,
                    targetType: tg.targetType,
                    protocol: tg.protocol,
                    port: tg.port,
                    healthCheck: `${tg.healthCheck.protocol} ${tg.healthCheck.port}${tg.healthCheck.path ? ` ${tg.healthCheck.path}` : ''} every ${tg.healthCheck.intervalSeconds}s`,
                    targets: tg.targets
                      .map((t) => ({
                        id: t.id,
                        port: t.port,
                        health: t.state,
                        ...(t.reason ? { reason: t.reason } : {}),
                        what: (tg.targetType === 'ip' ? podByIp.get(t.id) : nodeByInstance.get(t.id)) ?? 'unknown',
                      }))
                      .sort((a, b) => a.id.localeCompare(b.id)),
                  },
                }
              : {}),
          };
        }),
    })),
    nodeRules: (actual.securityGroups?.nodeRules ?? [])
      .filter((r) => actual.securityGroups?.nodeGroupIds.includes(r.groupId))
      .map((r) => `${r.groupId} ${describePortRange(r)}${r.cidr ? ` from ${r.cidr}` : ''}`),
    waiting: planned.plan.waiting,
  };
}

export function renderServiceTree(d: DescribedService): string {
  const lines = [`Service ${d.service}${d.targetType ? ` (target type ${d.targetType})` : ''}  ${d.status ?? ''}`];
  if (d.loadBalancers.length === 0) lines.push('└─ no load balancer of ours');
  d.loadBalancers.forEach((lb, i) => {
    const lastLb = i === d.loadBalancers.length - 1;
    const pad = lastLb ? '   ' : '│  ';
    lines.push(`${lastLb ? '└─' : '├─'} NLB ${lb.name}  ${lb.scheme}  ${lb.state}`);
    lines.push(`${pad}DNS ${lb.dnsName}`);
    const groups = lb.securityGroups.map((g) => `${g.id} (${g.role}${g.ingress ? `: ${g.ingress.join(', ') || 'no ingress'}` : ''})`);
    lines.push(`${pad}security groups ${groups.join(', ') || 'none'}`);
    if (d.nodeRules.length > 0) lines.push(`${pad}node rules (from the backend group, or the CIDR named): ${d.nodeRules.join(', ')}`);
    lb.listeners.forEach((l, j) => {
      const lastL = j === lb.listeners.length - 1;
      const pad2 = pad + (lastL ? '   ' : '│  ');
      const tg = l.targetGroup;
      lines.push(`${pad}${lastL ? '└─' : '├─'} listener ${l.protocol}:${l.port} → ${tg ? `${tg.name} (${tg.targetType}, ${tg.protocol}:${tg.port}, health ${tg.healthCheck})` : '(no target group)'}`);
      (tg?.targets ?? []).forEach((t, k) => {
        const lastT = k === tg!.targets.length - 1;
        const health = t.reason ? `${t.health} (${t.reason})` : t.health;
        lines.push(`${pad2}${lastT ? '└─' : '├─'} ${`${t.id}:${t.port}`.padEnd(28)} ${health.padEnd(9)} ${t.what}`);
      });
    });
  });
  for (const reason of d.waiting) lines.push(`waiting: ${reason}`);
  return `${lines.join('\n')}\n`;
}

