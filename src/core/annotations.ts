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
  ipAddressType: `${ANNOTATION_PREFIX}ip-address-type`,
  securityGroups: `${ANNOTATION_PREFIX}security-groups`,
  manageBackendSecurityGroupRules: `${ANNOTATION_PREFIX}manage-backend-security-group-rules`,
  disableNlbSecurityGroup: `${ANNOTATION_PREFIX}disable-nlb-sg`,
  icmpForPathMtuDiscovery: `${ANNOTATION_PREFIX}enable-icmp-for-path-mtu-discovery`,
  crossZoneLoadBalancing: `${ANNOTATION_PREFIX}cross-zone-load-balancing-enabled`,
  accessLogEnabled: `${ANNOTATION_PREFIX}access-log-enabled`,
  accessLogBucket: `${ANNOTATION_PREFIX}access-log-s3-bucket-name`,
  accessLogPrefix: `${ANNOTATION_PREFIX}access-log-s3-bucket-prefix`,
  eipAllocations: `${ANNOTATION_PREFIX}eip-allocations`,
  privateIpv4Addresses: `${ANNOTATION_PREFIX}private-ipv4-addresses`,
  ipv6Addresses: `${ANNOTATION_PREFIX}ipv6-addresses`,
  enablePrefixForIpv6SourceNat: `${ANNOTATION_PREFIX}enable-prefix-for-ipv6-source-nat`,
  sourceNatIpv6Prefixes: `${ANNOTATION_PREFIX}source-nat-ipv6-prefixes`,
  proxyProtocolPerTargetGroup: `${ANNOTATION_PREFIX}proxy-protocol-per-target-group`,
  /** Deprecated for `scheme`, read only when `scheme` is absent (the LBC's buildLoadBalancerSchemeLegacyAnnotation). */
  internal: `${ANNOTATION_PREFIX}internal`,
  quicEnabledPorts: `${ANNOTATION_PREFIX}quic-enabled-ports`,
  minimumCapacity: `${ANNOTATION_PREFIX}minimum-load-balancer-capacity`,
  /** Other clusters register targets in the same groups: only ours are deregistered (multi-cluster.ts). */
  multiClusterTargetGroup: `${ANNOTATION_PREFIX}multi-cluster-target-group`,
  /** Not under the aws-load-balancer- prefix: the legacy in-tree provider's key, which the LBC reads too. */
  sourceRanges: 'service.beta.kubernetes.io/load-balancer-source-ranges',
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

/**
 * `k1=v1,k2=v2`, as the aws-load-balancer-controller's ParseStringMapAnnotation reads maps: keys and values
 * trimmed, a value may hold `=`, and `\,` is a comma inside a value (`\` escapes any character). A comma
 * starts a new entry only when an `=` follows somewhere after it, so a trailing comma stays in the last value.
 */
export function keyValues(annotations: AnnotationMap, key: string): Record<string, string> {
  const raw = annotations?.[key];
  if (raw === undefined) return {};
  const result: Record<string, string> = {};
  for (const entry of splitKeyValuePairs(raw)) {
    const eq = entry.indexOf('=');
    if (eq < 0 || entry.slice(0, eq).trim() === '') throw new UserError(`annotation ${key}`, raw, `entry ${JSON.stringify(entry)} is not key=value`);
    result[entry.slice(0, eq).trim()] = entry.slice(eq + 1).trim();
  }
  return result;
}

/** The LBC's splitKeyValuePairs (pkg/annotations/parser.go), so the same annotation splits the same way. */
function splitKeyValuePairs(raw: string): string[] {
  const result: string[] = [];
  let current = '';
  for (let i = 0; i < raw.length; i++) {
    const char = raw[i]!;
    if (char === '\\' && i + 1 < raw.length) {
      current += raw[++i];
    } else if (char === ',') {
      const remaining = raw.slice(i + 1).trim();
      if (remaining.includes('=')) {
        result.push(current.trim());
        current = '';
      } else if (remaining.length > 0) {
        // Text without `=` after the comma: a malformed entry, reported by the caller.
        result.push(current.trim(), remaining);
        return result;
      } else {
        current += char;
      }
    } else {
      current += char;
    }
  }
  if (current.length > 0) result.push(current.trim());
  return result;
}

/** Go's strconv.ParseBool, which the LBC uses for boolean values such as preserve_client_ip.enabled. */
export function goBool(value: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return undefined;
}

/** A boolean annotation as the LBC's ParseBoolAnnotation reads it (strconv.ParseBool); undefined when absent. */
export function boolAnnotation(annotations: AnnotationMap, key: string): boolean | undefined {
  const raw = annotations?.[key];
  if (raw === undefined) return undefined;
  const value = goBool(raw);
  if (value === undefined) throw new UserError(`annotation ${key}`, raw, 'must be true or false');
  return value;
}

export function list(annotations: AnnotationMap, key: string): string[] | undefined {
  const raw = annotations?.[key];
  if (raw === undefined) return undefined;
  const items = raw.split(',').map((item) => item.trim()).filter(Boolean);
  if (items.length === 0) throw new UserError(`annotation ${key}`, raw, 'must list at least one value');
  return items;
}
