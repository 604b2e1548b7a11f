import type { V1Service } from '@kubernetes/client-node';
import { Annotations, integer, oneOf, reject, UserError } from './annotations.ts';
import type { HealthCheck, TargetType } from './model.ts';
import { HEALTH_CHECK_LIMITS, healthCheckPathProblem, successCodesProblem, timeoutProblem } from './validation/health-check.ts';

/**
 * A target group's health check from the Service's healthcheck-* annotations, with the LBC's defaults
 * (model_build_target_group.go buildTargetGroupHealthCheckConfig): TCP on the traffic port, or for instance
 * targets with externalTrafficPolicy Local kube-proxy's health port over HTTP. Values AWS refuses are a
 * UserError naming the annotation.
 */
export function healthCheckOf(service: V1Service, targetType: TargetType): HealthCheck {
  const annotations = service.metadata?.annotations;
  const local = service.spec?.externalTrafficPolicy === 'Local' && targetType === 'instance' && service.spec.healthCheckNodePort;
  // Instance mode with externalTrafficPolicy Local checks kube-proxy's health port, as the LBC does.
  const defaults = local
    ? { protocol: 'http' as const, port: String(service.spec!.healthCheckNodePort), path: '/healthz', interval: 10, timeout: 6, healthy: 2, unhealthy: 2 }
    : { protocol: 'tcp' as const, port: 'traffic-port', path: '/', interval: 10, timeout: 10, healthy: 3, unhealthy: 3 };
  const protocol = oneOf(annotations, Annotations.healthCheckProtocol, ['tcp', 'http', 'https', 'TCP', 'HTTP', 'HTTPS'] as const, defaults.protocol).toUpperCase() as HealthCheck['protocol'];
  const port = healthCheckPortOf(service, targetType, defaults.port);
  const limits = HEALTH_CHECK_LIMITS;
  const check: HealthCheck = {
    protocol,
    port,
    intervalSeconds: integer(annotations, Annotations.healthCheckInterval, defaults.interval, limits.intervalSeconds.min, limits.intervalSeconds.max),
    timeoutSeconds: integer(annotations, Annotations.healthCheckTimeout, defaults.timeout, limits.timeoutSeconds.min, limits.timeoutSeconds.max),
    healthyThreshold: integer(annotations, Annotations.healthCheckHealthyThreshold, defaults.healthy, limits.threshold.min, limits.threshold.max),
    unhealthyThreshold: integer(annotations, Annotations.healthCheckUnhealthyThreshold, defaults.unhealthy, limits.threshold.min, limits.threshold.max),
  };
  const tooLong = timeoutProblem(check.intervalSeconds, check.timeoutSeconds);
  if (tooLong) {
    // Name what the user wrote: the timeout if they set it, else the interval that made the default too long.
    const key = annotations?.[Annotations.healthCheckTimeout] !== undefined ? Annotations.healthCheckTimeout : Annotations.healthCheckInterval;
    reject(key, key === Annotations.healthCheckTimeout ? tooLong : { value: String(check.intervalSeconds), problem: `is shorter than the health check timeout (${check.timeoutSeconds} s, the default here): AWS refuses a timeout longer than the interval; set ${Annotations.healthCheckTimeout} too` });
  }
  if (protocol !== 'TCP') {
    const path = annotations?.[Annotations.healthCheckPath]?.trim() ?? defaults.path;
    reject(Annotations.healthCheckPath, healthCheckPathProblem(path));
    check.path = path;
    const codes = annotations?.[Annotations.healthCheckSuccessCodes]?.trim() ?? '200-399';
    reject(Annotations.healthCheckSuccessCodes, successCodesProblem(codes));
    check.successCodes = codes;
  }
  return check;
}

/**
 * The healthcheck-port annotation as the LBC's buildTargetGroupHealthCheckPort reads it: `traffic-port`, a port
 * number, or the name of a Service port, which means its nodePort for instance targets and its targetPort for
 * ip targets (a named targetPort can differ per pod, so it cannot be used).
 */
function healthCheckPortOf(service: V1Service, targetType: TargetType, fallback: string): string {
  const raw = service.metadata?.annotations?.[Annotations.healthCheckPort]?.trim() ?? fallback;
  const field = `annotation ${Annotations.healthCheckPort}`;
  if (raw === 'traffic-port') return raw;
  if (/^-?\d+$/.test(raw)) {
    const port = Number(raw);
    if (port < 1 || port > 65535) throw new UserError(field, raw, 'must be traffic-port, a port number from 1 to 65535 or the name of a Service port');
    return String(port);
  }
  const named = service.spec?.ports?.find((p) => p.name === raw);
  if (!named) throw new UserError(field, raw, 'must be traffic-port, a port number or the name of a port of the Service');
  if (targetType === 'instance') {
    if (!named.nodePort) throw new UserError(field, raw, `Service port ${raw} has no nodePort for instance targets to be checked on`);
    return String(named.nodePort);
  }
  const targetPort = named.targetPort ?? named.port;
  if (typeof targetPort !== 'number') throw new UserError(field, raw, `Service port ${raw} has a named targetPort (${targetPort}), which ip targets cannot be checked on`);
  return String(targetPort);
}
