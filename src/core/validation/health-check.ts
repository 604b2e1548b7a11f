import type { Problem } from './problem.ts';

/**
 * What AWS accepts in a Network Load Balancer target group's health check (CreateTargetGroup/
 * ModifyTargetGroup), so the healthcheck-* annotations are checked before the first write.
 *
 * Sources: botocore's elbv2 model (HealthCheckIntervalSeconds 5-300, HealthCheckTimeoutSeconds 2-120,
 * HealthCheckThresholdCount 2-10, Path 1-1024 characters) and the API reference's Matcher: "For Network Load
 * Balancers, you can specify values between 200 and 599 ... multiple values (for example, "200,202") or a
 * range of values (for example, "200-299")"
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_Matcher.html).
 */
export const HEALTH_CHECK_LIMITS = {
  intervalSeconds: { min: 5, max: 300 },
  timeoutSeconds: { min: 2, max: 120 },
  threshold: { min: 2, max: 10 },
  pathMaxLength: 1024,
  successCodes: { min: 200, max: 599 },
} as const;

/** Visible ASCII: the path is sent as an HTTP request-target, which holds no spaces or raw non-ASCII (RFC 9112 §3.2). */
const REQUEST_TARGET = /^[\x21-\x7e]+$/;

export function healthCheckPathProblem(path: string): Problem | undefined {
  const problem = !path.startsWith('/')
    ? 'must start with /'
    : path.length > HEALTH_CHECK_LIMITS.pathMaxLength
      ? `is ${path.length} characters; AWS allows at most ${HEALTH_CHECK_LIMITS.pathMaxLength}`
      : !REQUEST_TARGET.test(path)
        ? 'must be visible ASCII without spaces (percent-encode anything else)'
        : undefined;
  return problem ? { value: path, problem } : undefined;
}

const CODE = /^\d{3}$/;

/** `200`, `200-399`, `200,202,300-310`: each code from 200 to 599, each range low to high. */
export function successCodesProblem(codes: string): Problem | undefined {
  const { min, max } = HEALTH_CHECK_LIMITS.successCodes;
  const usage = `must be HTTP codes from ${min} to ${max}, such as 200, 200-399 or 200,202`;
  for (const part of codes.split(',')) {
    const bounds = part.split('-');
    if (bounds.length > 2 || !bounds.every((b) => CODE.test(b))) return { value: codes, problem: usage };
    const [low, high] = [Number(bounds[0]), Number(bounds.at(-1))];
    if (low < min || high > max) return { value: codes, problem: usage };
    if (low > high) return { value: codes, problem: `range ${part} runs backwards` };
  }
  return undefined;
}

/**
 * ELBv2 refuses a health check whose timeout is longer than its interval (CreateTargetGroup/ModifyTargetGroup
 * answer ValidationError "Health check timeout '10' must be smaller than or equal to the interval '5'"; the
 * emulator gives the same answer). The annotation named is the one the user set (the timeout if both).
 */
export function timeoutProblem(intervalSeconds: number, timeoutSeconds: number): Problem | undefined {
  if (timeoutSeconds <= intervalSeconds) return undefined;
  return { value: String(timeoutSeconds), problem: `must be at most the health check interval (${intervalSeconds} s): AWS refuses a timeout longer than the interval` };
}
