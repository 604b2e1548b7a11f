import { DEFAULT_FEATURE_GATES, FeatureGateError, parseFeatureGates, type FeatureGates } from './feature-gates.ts';
import { goBool } from './annotations.ts';
import type { Scheme, TargetType } from './model.ts';

/**
 * Controller-wide defaults, with the aws-load-balancer-controller's flag names and defaults
 * (pkg/config/controller_config.go): `--default-tags`, `--external-managed-tags`, `--default-target-type`,
 * `--default-load-balancer-scheme`, `--enable-manage-backend-security-group-rules`, `--disable-restricted-sg-rules`
 * and `--feature-gates` (feature-gates.ts). The model reads them; the run command parses them.
 */
export interface ControllerDefaults {
  /** Tags on every resource we create; they win over a Service's additional-resource-tags unless EnableDefaultTagsLowPriority. */
  tags: Readonly<Record<string, string>>;
  /** Tag keys someone else manages: a Service may not set them (its Warning names the key). */
  externalManagedTags: readonly string[];
  targetType: TargetType;
  scheme: Scheme;
  featureGates: FeatureGates;
  /**
   * Whether a Service whose security-groups annotation names its NLB's groups gets the backend group and node
   * rules without manage-backend-security-group-rules (which, when set, decides); the LBC's buildManageSecurityGroupRulesFlag.
   */
  enableManageBackendSGRules: boolean;
  /** Node rules from the backend group open every port of the protocol, not the Services' ports (node-rules.ts). */
  disableRestrictedSGRules: boolean;
}

export const LBC_DEFAULTS: ControllerDefaults = {
  tags: {},
  externalManagedTags: [],
  targetType: 'instance',
  scheme: 'internal',
  featureGates: DEFAULT_FEATURE_GATES,
  enableManageBackendSGRules: false,
  disableRestrictedSGRules: false,
};

/** The LBC's trackingTagKeys (controller_config.go): no flag may name them, they are how we find our resources. */
export const TRACKING_TAG_KEYS: readonly string[] = [
  'elbv2.k8s.aws/cluster',
  'elbv2.k8s.aws/resource',
  'ingress.k8s.aws/stack',
  'ingress.k8s.aws/resource',
  'service.k8s.aws/stack',
  'service.k8s.aws/resource',
  'gateway.k8s.aws.nlb/resource',
  'gateway.k8s.aws.alb/resource',
  'gateway.k8s.aws.nlb/stack',
  'gateway.k8s.aws.alb/stack',
];

/** What a flag value breaks, named with the flag (the run command raises it as a FlagError). */
export class DefaultsError extends Error {}

/**
 * pflag's StringToString (`k1=v1,k2=v2`, what `--default-tags` is): entries split on commas, each split at its
 * first `=`; an entry without `=` is an error. No escapes (pflag reads the value as CSV, so a quoted entry
 * may hold a comma: `"k=a,b"`).
 */
export function parseStringToString(flag: string, raw: string): Record<string, string> {
  const result: Record<string, string> = {};
  if (raw.trim() === '') return result;
  for (const entry of csvFields(raw)) {
    const eq = entry.indexOf('=');
    if (eq < 0) throw new DefaultsError(`${flag}: ${JSON.stringify(entry)} must be formatted as key=value`);
    result[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return result;
}

/** Go's encoding/csv reading of one line, as pflag's StringSlice and StringToString use it. */
function csvFields(raw: string): string[] {
  const fields: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const char = raw[i]!;
    if (quoted) {
      if (char === '"' && raw[i + 1] === '"') current += raw[++i];
      else if (char === '"') quoted = false;
      else current += char;
    } else if (char === '"' && current === '') quoted = true;
    else if (char === ',') {
      fields.push(current);
      current = '';
    } else current += char;
  }
  fields.push(current);
  return fields;
}

/** pflag's StringSlice (`--external-managed-tags`): CSV fields. */
export const parseStringSlice = (raw: string): string[] => (raw.trim() === '' ? [] : csvFields(raw));

/** The flags' values checked as the LBC's ControllerConfig.Validate does, then as defaults for the model. */
export function controllerDefaults(flags: {
  defaultTags?: string;
  externalManagedTags?: string;
  defaultTargetType?: string;
  defaultScheme?: string;
  featureGates?: string;
  enableManageBackendSGRules?: string;
  disableRestrictedSGRules?: string;
}): ControllerDefaults {
  const tags = parseStringToString('--default-tags', flags.defaultTags ?? '');
  const external = parseStringSlice(flags.externalManagedTags ?? '');
  for (const key of Object.keys(tags)) {
    if (TRACKING_TAG_KEYS.includes(key)) throw new DefaultsError(`--default-tags: tag key ${key} cannot be specified in --default-tags flag`);
  }
  for (const key of external) {
    if (TRACKING_TAG_KEYS.includes(key)) throw new DefaultsError(`--external-managed-tags: tag key ${key} cannot be specified in --external-managed-tags flag`);
    if (Object.hasOwn(tags, key)) throw new DefaultsError(`--external-managed-tags: tag key ${key} cannot be specified in both --default-tags and --external-managed-tags flag`);
  }
  const targetType = flags.defaultTargetType ?? LBC_DEFAULTS.targetType;
  if (targetType !== 'instance' && targetType !== 'ip') throw new DefaultsError(`--default-target-type: invalid value ${JSON.stringify(targetType)} for default target type (instance or ip)`);
  const scheme = flags.defaultScheme ?? LBC_DEFAULTS.scheme;
  if (scheme !== 'internal' && scheme !== 'internet-facing') {
    throw new DefaultsError(`--default-load-balancer-scheme: invalid value ${JSON.stringify(scheme)} for default scheme (internal or internet-facing)`);
  }
  let featureGates: FeatureGates;
  try {
    featureGates = parseFeatureGates(flags.featureGates ?? '');
  } catch (error) {
    throw error instanceof FeatureGateError ? new DefaultsError(error.message) : error;
  }
  // The LBC finds this out per Service (every Service without nlb-target-type fails); the flags alone say it.
  if (targetType === 'ip' && !featureGates.EnableIPTargetType) {
    throw new DefaultsError('--default-target-type: invalid value "ip": ip targets are off (--feature-gates EnableIPTargetType=false)');
  }
  return {
    tags,
    externalManagedTags: external,
    targetType,
    scheme,
    featureGates,
    enableManageBackendSGRules: boolFlag('--enable-manage-backend-security-group-rules', flags.enableManageBackendSGRules, LBC_DEFAULTS.enableManageBackendSGRules),
    disableRestrictedSGRules: boolFlag('--disable-restricted-sg-rules', flags.disableRestrictedSGRules, LBC_DEFAULTS.disableRestrictedSGRules),
  };
}

/** A pflag bool (strconv.ParseBool): `--flag` alone is true (the run command passes "true"), `--flag=false` false. */
function boolFlag(flag: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined) return fallback;
  const value = goBool(raw.trim());
  if (value === undefined) throw new DefaultsError(`${flag}: invalid value ${JSON.stringify(raw)}: must be true or false`);
  return value;
}
