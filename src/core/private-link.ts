import { ANNOTATION_PREFIX, UserError } from './annotations.ts';

/**
 * `inbound-sg-rules-on-private-link-traffic: on|off` (the LBC's buildSecurityGroupsInboundRulesOnPrivateLink):
 * whether the NLB's security groups also filter traffic that reaches it through AWS PrivateLink. ELBv2 takes it
 * in SetSecurityGroups only (EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic, `on` for a new NLB with
 * groups) and answers it in DescribeLoadBalancers, so it is set right after a create, as the LBC's Create
 * does, and compared with what each observe reads (no extra call). Absent: left as it is.
 */
export const PRIVATE_LINK_ANNOTATION = `${ANNOTATION_PREFIX}inbound-sg-rules-on-private-link-traffic`;

export type PrivateLinkEnforcement = 'on' | 'off';

/** The annotation's value, exactly `on` or `off` as the LBC takes it (no trimming); undefined when absent. */
export function privateLinkEnforcementOf(annotations: Record<string, string> | undefined): PrivateLinkEnforcement | undefined {
  const raw = annotations?.[PRIVATE_LINK_ANNOTATION];
  if (raw === undefined) return undefined;
  if (raw !== 'on' && raw !== 'off') throw new UserError(`annotation ${PRIVATE_LINK_ANNOTATION}`, raw, 'must be one of on, off');
  return raw;
}

/**
 * The value to send in SetSecurityGroups for a kept NLB, or undefined when nothing changes: only on an NLB
 * with groups (ELBv2 applies it to their inbound rules; one without has none to enforce).
 */
export function privateLinkChange(
  desired: PrivateLinkEnforcement | undefined,
  kept: { securityGroups?: string[]; securityGroupsInboundRulesOnPrivateLink?: string } | undefined,
): PrivateLinkEnforcement | undefined {
  if (desired === undefined || !kept?.securityGroups?.length) return undefined;
  return kept.securityGroupsInboundRulesOnPrivateLink === desired ? undefined : desired;
}
