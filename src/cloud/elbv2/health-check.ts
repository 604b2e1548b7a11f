import type { TargetGroup } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { HealthCheck } from '../../core/model.ts';

/** A target group's health check as CreateTargetGroup / ModifyTargetGroup parameters. */
export function healthCheckParameters(check: HealthCheck) {
  return {
    HealthCheckProtocol: check.protocol,
    HealthCheckPort: check.port,
    HealthCheckIntervalSeconds: check.intervalSeconds,
    HealthCheckTimeoutSeconds: check.timeoutSeconds,
    HealthyThresholdCount: check.healthyThreshold,
    UnhealthyThresholdCount: check.unhealthyThreshold,
    // Path and matcher exist only for HTTP(S) checks; ELBv2 refuses them on TCP.
    ...(check.protocol !== 'TCP' ? { HealthCheckPath: check.path, Matcher: { HttpCode: check.successCodes } } : {}),
  };
}

/** The health check a described target group has, in the model's terms (what the plan compares). */
export function healthCheckOf(tg: TargetGroup): HealthCheck {
  const protocol = (tg.HealthCheckProtocol ?? 'TCP') as HealthCheck['protocol'];
  return {
    protocol,
    port: tg.HealthCheckPort ?? 'traffic-port',
    intervalSeconds: tg.HealthCheckIntervalSeconds ?? 0,
    timeoutSeconds: tg.HealthCheckTimeoutSeconds ?? 0,
    healthyThreshold: tg.HealthyThresholdCount ?? 0,
    unhealthyThreshold: tg.UnhealthyThresholdCount ?? 0,
    ...(protocol !== 'TCP' ? { path: tg.HealthCheckPath, successCodes: tg.Matcher?.HttpCode } : {}),
  };
}
