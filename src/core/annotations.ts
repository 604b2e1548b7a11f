import { quoted, type Problem } from './validation/problem.ts';

/**
 * Annotation keys, values and defaults of the aws-load-balancer-controller (docs/guide/service/annotations.md,
 * pkg/annotations/constants.go), so manifests written for EKS work unchanged; and the parsers that turn them
 * into values or a UserError naming the annotation and the value.
 */
export const ANNOTATION_PREFIX = 'service.beta.kubernetes.io/aws-load-balancer-';

export const Annotations = {
  type: `${ANNOTATION_PREFIX}type`,
  targetType: `${ANNOTATION_PREFIX}nlb-target-type`,
  scheme: `${ANNOTATION_PREFIX}scheme`,
  name: `${ANNOTATION_PREFIX}name`,
  subnets: `${ANNOTATION_PREFIX}subnets`,
  attributes: `${ANNOTATION_PREFIX}attributes`,
  additionalTags: `${ANNOTATION_PREFIX}additional-resource-tags`,
  targetGroupAttributes: `${ANNOTATION_PREFIX}target-group-attributes`,
  targetNodeLabels: `${ANNOTATION_PREFIX}target-node-labels`,
  proxyProtocol: `${ANNOTATION_PREFIX}proxy-protocol`,
  healthCheckProtocol: `${ANNOTATION_PREFIX}healthcheck-protocol`,
  healthCheckPort: `${ANNOTATION_PREFIX}healthcheck-port`,
  healthCheckPath: `${ANNOTATION_PREFIX}healthcheck-path`,
  healthCheckInterval: `${ANNOTATION_PREFIX}healthcheck-interval`,
  healthCheckTimeout: `${ANNOTATION_PREFIX}healthcheck-timeout`,
  healthCheckHealthyThreshold: `${ANNOTATION_PREFIX}healthcheck-healthy-threshold`,
  healthCheckUnhealthyThreshold: `${ANNOTATION_PREFIX}healthcheck-unhealthy-threshold`,
  healthCheckSuccessCodes: `${ANNOTATION_PREFIX}healthcheck-success-codes`,
} as const;

/** The loadBalancerClass of the aws-load-balancer-controller; Services with no class are ours too. */
export const LOAD_BALANCER_CLASS = 'service.k8s.aws/nlb';
/** The aws-load-balancer-controller's Service finalizer. */
export const SERVICE_FINALIZER = 'service.k8s.aws/resources';

/** Tags that mark what we created (the aws-load-balancer-controller's, so its tooling recognises them). */
export const Tags = {
  cluster: 'elbv2.k8s.aws/cluster',
  stack: 'service.k8s.aws/stack',
  resource: 'service.k8s.aws/resource',
} as const;
export const LOAD_BALANCER_RESOURCE = 'LoadBalancer';

/** A user error: bad annotation or impossible spec. Reported as a Warning event; never retried hot. */
export class UserError extends Error {
  readonly field: string;
  readonly value: string;
  constructor(field: string, value: string, problem: string) {
    super(`${field}: invalid value ${quoted(value)}: ${problem}`);
    this.name = 'UserError';
    this.field = field;
    this.value = value;
  }
}

type AnnotationMap = Record<string, string> | undefined;

/** Raises what a validator (src/core/validation) found in the annotation `key` as a UserError. */
export function reject(key: string, found: Problem | undefined): void {
  if (found) throw new UserError(`annotation ${key}`, found.value, found.problem);
}

export function oneOf<T extends string>(annotations: AnnotationMap, key: string, allowed: readonly T[], fallback: T): T {
  const raw = annotations?.[key];
  if (raw === undefined) return fallback;
  const value = raw.trim();
  if (!(allowed as readonly string[]).includes(value)) throw new UserError(`annotation ${key}`, raw, `must be one of ${allowed.join(', ')}`);
  return value as T;
}

export function integer(annotations: AnnotationMap, key: string, fallback: number, min: number, max: number): number {
  const raw = annotations?.[key];
  if (raw === undefined) return fallback;
  const value = Number(raw.trim());
  if (!/^\s*-?\d+\s*$/.test(raw) || !Number.isInteger(value) || value < min || value > max) {
    throw new UserError(`annotation ${key}`, raw, `must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/** `k1=v1,k2=v2` (as the aws-load-balancer-controller writes maps); empty entries are ignored. */
export function keyValues(annotations: AnnotationMap, key: string): Record<string, string> {
  const raw = annotations?.[key];
  if (raw === undefined) return {};
  const result: Record<string, string> = {};
  for (const entry of raw.split(',')) {
    const trimmed = entry.trim();
    if (trimmed === '') continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) throw new UserError(`annotation ${key}`, raw, `entry ${JSON.stringify(trimmed)} is not key=value`);
    result[trimmed.slice(0, eq).trim()] = trimmed.slice(eq + 1).trim();
  }
  return result;
}

export function list(annotations: AnnotationMap, key: string): string[] | undefined {
  const raw = annotations?.[key];
  if (raw === undefined) return undefined;
  const items = raw.split(',').map((item) => item.trim()).filter(Boolean);
  if (items.length === 0) throw new UserError(`annotation ${key}`, raw, 'must list at least one value');
  return items;
}
