import { goBool } from './annotations.ts';

/**
 * `--feature-gates`, with the aws-load-balancer-controller's syntax (pkg/config/feature_gates.go: `k1=true,k2=false`,
 * values as strconv.ParseBool reads them, names and values trimmed). Only the gates that change what we build are
 * known; every other gate of the LBC is refused by name, so a manifest that counts on one is not silently run
 * without it.
 */
export interface FeatureGates {
  /** On: a Service's additional-resource-tags win over --default-tags (the LBC's default: off). */
  EnableDefaultTagsLowPriority: boolean;
  /** Off: ip targets are refused (the LBC's default: on). */
  EnableIPTargetType: boolean;
}

export const DEFAULT_FEATURE_GATES: FeatureGates = { EnableDefaultTagsLowPriority: false, EnableIPTargetType: true };

/** The LBC's other gates (feature_gates.go NewFeatureGates): named in the error, as they are real but not built here. */
const LBC_ONLY_GATES = [
  'ListenerRulesTagging',
  'WeightedTargetGroups',
  'ServiceTypeLoadBalancerOnly',
  'EndpointsFailOpen',
  'EnableServiceController',
  'EnableRGTAPI',
  'SubnetsClusterTagCheck',
  'NLBHealthCheckAdvancedConfig',
  'NLBSecurityGroup',
  'ALBSingleSubnet',
  'SubnetDiscoveryByReachability',
  'LBCapacityReservation',
  'NLBGatewayAPI',
  'ALBGatewayAPI',
  'GlobalAcceleratorController',
  'EnableTCPUDPListener',
  'EnhancedDefaultBehavior',
  'ALBTargetControlAgent',
  'GatewayListenerSet',
  'EnableCertificateManagement',
  'IngressPlanAnnotation',
];

/** A value the flag cannot take; the message names the flag and the entry. */
export class FeatureGateError extends Error {}

export function parseFeatureGates(raw: string): FeatureGates {
  const gates = { ...DEFAULT_FEATURE_GATES };
  const known = Object.keys(DEFAULT_FEATURE_GATES);
  for (const entry of raw.split(',')) {
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    const name = entry.slice(0, eq).trim();
    const value = eq < 0 ? undefined : goBool(entry.slice(eq + 1).trim());
    if (value === undefined) throw new FeatureGateError(`--feature-gates: invalid value ${JSON.stringify(entry)}: must be Name=true or Name=false`);
    if (!known.includes(name)) {
      const why = LBC_ONLY_GATES.includes(name) ? 'a gate of the aws-load-balancer-controller this controller does not have' : 'unknown feature';
      throw new FeatureGateError(`--feature-gates: invalid value ${JSON.stringify(entry)}: ${why} (known: ${known.join(', ')})`);
    }
    gates[name as keyof FeatureGates] = value;
  }
  return gates;
}
