import type { DesiredStack, DesiredTargetGroup, HealthCheck } from '../../../src/core/model.ts';
import type { ActualTargetGroup } from '../../../src/core/plan.ts';

/** A one-port Service's desired and actual stacks for plan tables (ns/web, port 80, NLB lb-1). */
export const tcpCheck: HealthCheck = { protocol: 'TCP', port: 'traffic-port', intervalSeconds: 10, timeoutSeconds: 10, healthyThreshold: 3, unhealthyThreshold: 3 };

export const desiredTg = (targetType: 'instance' | 'ip', targets: string[], port = targetType === 'ip' ? 8080 : 30080): DesiredTargetGroup => ({
  resourceId: 'ns/web:80',
  name: `tg-${targetType}`,
  protocol: 'TCP',
  port,
  targetType,
  healthCheck: tcpCheck,
  attributes: {},
  targets: targets.map((id) => ({ id, port })),
  tags: {},
});

export const desired = (tg: DesiredTargetGroup): DesiredStack => ({
  stackId: 'ns/web',
  targetType: tg.targetType,
  loadBalancer: { name: 'lb', scheme: 'internal', subnetIds: ['s1'], attributes: {}, tags: {} },
  targetGroups: [tg],
  listeners: [{ port: 80, protocol: 'TCP', targetGroupResourceId: 'ns/web:80' }],
});

export const actualTg = (arn: string, targetType: 'instance' | 'ip', targets: [string, string][], port = targetType === 'ip' ? 8080 : 30080): ActualTargetGroup => ({
  arn,
  name: arn,
  resourceId: 'ns/web:80',
  protocol: 'TCP',
  port,
  targetType,
  healthCheck: tcpCheck,
  targets: targets.map(([id, state]) => ({ id, port, state })),
  loadBalancerArns: ['lb-1'],
});

export const lb = { arn: 'lb-1', name: 'lb', scheme: 'internal' as const, dnsName: 'lb.example', state: 'active', createdAt: 1 };
export const listener = (tgArn: string) => ({ arn: 'listener-80', loadBalancerArn: 'lb-1', port: 80, protocol: 'TCP' as const, targetGroupArn: tgArn });
