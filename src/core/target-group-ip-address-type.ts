import type { V1Service } from '@kubernetes/client-node';
import { Annotations, UserError } from './annotations.ts';
import type { IpAddressType } from './subnet-mappings.ts';

/** A target group's address family (CreateTargetGroup's IpAddressType). */
export type TargetGroupIpAddressType = 'ipv4' | 'ipv6';

/**
 * The LBC's buildTargetGroupIPAddressType (pkg/service/model_build_target_group.go): a Service with an IPv6 family
 * anywhere in spec.ipFamilies (IPv6-only or dual-stack) gets IPv6 target groups, which ELBv2 only puts behind a
 * dualstack NLB; every other Service IPv4 ones.
 */
export function targetGroupIpAddressTypeOf(service: V1Service, loadBalancer: IpAddressType): TargetGroupIpAddressType {
  const families = service.spec?.ipFamilies ?? [];
  if (!families.includes('IPv6')) return 'ipv4';
  if (loadBalancer !== 'dualstack') {
    throw new UserError('spec.ipFamilies', families.join(','), `unsupported IPv6 configuration, lb not dual-stack: IPv6 targets need ${Annotations.ipAddressType}: dualstack`);
  }
  return 'ipv6';
}
