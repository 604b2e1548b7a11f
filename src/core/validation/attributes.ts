import { entry, type Problem } from './problem.ts';

/**
 * The load balancer and target group attributes a Network Load Balancer takes, with the values AWS accepts,
 * so the `attributes` and `target-group-attributes` annotations are checked before the first write instead
 * of failing halfway through a stack (CreateLoadBalancer done, ModifyLoadBalancerAttributes refused).
 *
 * Source: Elastic Load Balancing API reference, LoadBalancerAttribute and TargetGroupAttribute
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_LoadBalancerAttribute.html,
 * .../API_TargetGroupAttribute.html; the same text is in @aws-sdk/client-elastic-load-balancing-v2's
 * models_0.d.ts), keys "supported by all load balancers", "by Application and Network Load Balancers" and
 * "only by Network Load Balancers"; ALB- and GWLB-only keys are not here, so they are refused. The key syntax
 * is botocore's elbv2 model (LoadBalancerAttributeKey/TargetGroupAttributeKey: at most 256 of [a-zA-Z0-9._]).
 */

export type ValueRule =
  | { type: 'bool' }
  | { type: 'enum'; values: readonly string[] }
  /** A whole number in [min, max]; `off` also accepted when offAllowed. */
  | { type: 'int'; min: number; max?: number; offAllowed?: boolean }
  | { type: 'text'; check: (value: string) => string | undefined };

const bool: ValueRule = { type: 'bool' };

/**
 * S3 bucket naming rules (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html):
 * 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit, no two
 * adjacent dots, not an IP address.
 */
function bucketNameProblem(value: string): string | undefined {
  const ok = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(value) && !value.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(value);
  return ok ? undefined : 'must be an S3 bucket name: 3-63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit';
}

/** "The prefix that you specify must not include AWSLogs" (NLB guide, Enable access logs); values ≤ 1024. */
function logPrefixProblem(value: string): string | undefined {
  if (value.includes('AWSLogs')) return 'must not include AWSLogs (AWS adds it after the prefix)';
  if (value.length > 1024) return 'must be at most 1024 characters';
  return undefined;
}

/** LoadBalancerAttribute keys of a Network Load Balancer. */
export const LOAD_BALANCER_ATTRIBUTES: Readonly<Record<string, ValueRule>> = {
  'deletion_protection.enabled': bool,
  'load_balancing.cross_zone.enabled': bool,
  'access_logs.s3.enabled': bool,
  'access_logs.s3.bucket': { type: 'text', check: bucketNameProblem },
  'access_logs.s3.prefix': { type: 'text', check: logPrefixProblem },
  'ipv6.deny_all_igw_traffic': bool,
  'zonal_shift.config.enabled': bool,
  'dns_record.client_routing_policy': { type: 'enum', values: ['availability_zone_affinity', 'partial_availability_zone_affinity', 'any_availability_zone'] },
  // "The valid range is 0 to 7 ... After you set this value, you can't decrease it."
  'secondary_ips.auto_assigned.per_subnet': { type: 'int', min: 0, max: 7 },
};

/** TargetGroupAttribute keys of a Network Load Balancer's target group. */
export const TARGET_GROUP_ATTRIBUTES: Readonly<Record<string, ValueRule>> = {
  'deregistration_delay.timeout_seconds': { type: 'int', min: 0, max: 3600 },
  'deregistration_delay.connection_termination.enabled': bool,
  'preserve_client_ip.enabled': bool,
  'proxy_protocol_v2.enabled': bool,
  'stickiness.enabled': bool,
  // lb_cookie/app_cookie are ALB's, source_ip_dest_ip(_proto) GWLB's.
  'stickiness.type': { type: 'enum', values: ['source_ip'] },
  'load_balancing.cross_zone.enabled': { type: 'enum', values: ['true', 'false', 'use_load_balancer_configuration'] },
  // "off or an integer from 1 to the maximum number of targets" (a quota, so no fixed upper bound here).
  'target_group_health.dns_failover.minimum_healthy_targets.count': { type: 'int', min: 1, offAllowed: true },
  'target_group_health.dns_failover.minimum_healthy_targets.percentage': { type: 'int', min: 1, max: 100, offAllowed: true },
  'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count': { type: 'int', min: 1 },
  'target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage': { type: 'int', min: 1, max: 100, offAllowed: true },
  'target_health_state.unhealthy.connection_termination.enabled': bool,
  'target_health_state.unhealthy.draining_interval_seconds': { type: 'int', min: 0, max: 360_000 },
};

const KEY_SYNTAX = /^[a-zA-Z0-9._]{1,256}$/;

/** Why a value breaks its rule, or undefined. */
export function valueProblem(rule: ValueRule, value: string): string | undefined {
  switch (rule.type) {
    case 'bool':
      return value === 'true' || value === 'false' ? undefined : 'must be true or false';
    case 'enum':
      return rule.values.includes(value) ? undefined : `must be one of ${rule.values.join(', ')}`;
    case 'int': {
      if (rule.offAllowed && value === 'off') return undefined;
      const n = /^\d+$/.test(value) ? Number(value) : NaN;
      if (Number.isSafeInteger(n) && n >= rule.min && (rule.max === undefined || n <= rule.max)) return undefined;
      const range = rule.max === undefined ? `a whole number of at least ${rule.min}` : `a whole number from ${rule.min} to ${rule.max}`;
      return `must be ${rule.offAllowed ? `off or ${range}` : range}`;
    }
    case 'text':
      return rule.check(value);
  }
}

function tableProblem(table: Readonly<Record<string, ValueRule>>, attributes: Record<string, string>, kind: string): Problem | undefined {
  for (const [key, value] of Object.entries(attributes)) {
    const rule = Object.hasOwn(table, key) ? table[key] : undefined;
    if (!rule) {
      const why = KEY_SYNTAX.test(key) ? `${key} is not a ${kind} attribute of a Network Load Balancer` : `${JSON.stringify(key)} is not an attribute name`;
      return { value: entry(key, value), problem: `${why}; known: ${Object.keys(table).join(', ')}` };
    }
    const problem = valueProblem(rule, value);
    if (problem) return { value: entry(key, value), problem: `${key} ${problem}` };
  }
  return undefined;
}

/** The first load balancer attribute AWS would refuse, or undefined. */
export function loadBalancerAttributesProblem(attributes: Record<string, string>): Problem | undefined {
  const found = tableProblem(LOAD_BALANCER_ATTRIBUTES, attributes, 'load balancer');
  if (found) return found;
  if (attributes['access_logs.s3.enabled'] === 'true' && !attributes['access_logs.s3.bucket']) {
    // "This attribute is required if access logs are enabled."
    return { value: entry('access_logs.s3.enabled', 'true'), problem: 'access logs need access_logs.s3.bucket' };
  }
  return undefined;
}

/** Target group protocols whose attributes AWS restricts (TargetGroupAttribute, "only by Network Load Balancers"). */
const UDP_PROTOCOLS = new Set(['UDP', 'TCP_UDP', 'QUIC', 'TCP_QUIC']);

/** The first target group attribute AWS would refuse for a target group of this protocol, or undefined. */
export function targetGroupAttributesProblem(attributes: Record<string, string>, protocol: string): Problem | undefined {
  const found = tableProblem(TARGET_GROUP_ATTRIBUTES, attributes, 'target group');
  if (found) return found;
  const udp = UDP_PROTOCOLS.has(protocol);
  const at = (key: string, problem: string): Problem => ({ value: entry(key, attributes[key]!), problem });
  // "Client IP preservation can't be disabled for UDP and TCP_UDP target groups."
  if (udp && attributes['preserve_client_ip.enabled'] === 'false') {
    return at('preserve_client_ip.enabled', `client IP preservation cannot be disabled for a ${protocol} target group`);
  }
  const termination = 'target_health_state.unhealthy.connection_termination.enabled';
  // "This attribute can't be enabled for UDP and TCP_UDP target groups."
  if (udp && attributes[termination] === 'true') return at(termination, `cannot be enabled for a ${protocol} target group`);
  // "This attribute can only be configured when ...connection_termination.enabled is false" (default true; UDP: never on).
  const draining = 'target_health_state.unhealthy.draining_interval_seconds';
  if (!udp && attributes[draining] !== undefined && attributes[draining] !== '0' && attributes[termination] !== 'false') {
    return at(draining, `needs ${termination}=false`);
  }
  return undefined;
}
