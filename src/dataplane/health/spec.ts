/**
 * A target group's health check as DescribeTargetGroups answers it, with AWS's defaults (ELBv2 API
 * CreateTargetGroup) for fields an emulator leaves out: TCP, traffic-port, interval 30 s, timeout 10 s (6 s for
 * HTTP), healthy threshold 5, unhealthy 2, path `/`, matcher 200-399.
 */
import type { HealthCheckSpec } from './checker.ts';

/** The fields of an SDK TargetGroup this reads (structurally: no SDK import in a pure module). */
export interface DescribedHealthCheck {
  HealthCheckProtocol?: string;
  HealthCheckPort?: string;
  HealthCheckPath?: string;
  Matcher?: { HttpCode?: string };
  HealthCheckIntervalSeconds?: number;
  HealthCheckTimeoutSeconds?: number;
  HealthyThresholdCount?: number;
  UnhealthyThresholdCount?: number;
}

const PROTOCOLS = new Set(['TCP', 'HTTP', 'HTTPS']);

export function healthCheckSpec(group: DescribedHealthCheck): HealthCheckSpec {
  // NLB checks are TCP, HTTP or HTTPS; a TLS/UDP group's check protocol is TCP unless set.
  const protocol = (PROTOCOLS.has(group.HealthCheckProtocol ?? '') ? group.HealthCheckProtocol : 'TCP') as HealthCheckSpec['protocol'];
  const port = Number(group.HealthCheckPort);
  const spec: HealthCheckSpec = {
    protocol,
    port: group.HealthCheckPort && group.HealthCheckPort !== 'traffic-port' && Number.isInteger(port) ? port : 'traffic-port',
    intervalSeconds: group.HealthCheckIntervalSeconds ?? 30,
    timeoutSeconds: group.HealthCheckTimeoutSeconds ?? (protocol === 'HTTP' ? 6 : 10),
    healthyThreshold: group.HealthyThresholdCount ?? 5,
    unhealthyThreshold: group.UnhealthyThresholdCount ?? 2,
  };
  if (protocol !== 'TCP') {
    spec.path = group.HealthCheckPath || '/';
    spec.matcher = group.Matcher?.HttpCode || '200-399';
  }
  return spec;
}
