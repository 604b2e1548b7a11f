import type { V1Service } from '@kubernetes/client-node';
import { Annotations } from './annotations.ts';
import { loadBalancerAttributesOf } from './load-balancer-attributes.ts';
import type { Action, ActualStack } from './plan.ts';

export const DELETION_PROTECTION = 'deletion_protection.enabled';

/** A stack that cannot be deleted while its NLB's deletion protection is on: nothing is written. */
export class DeletionProtectedError extends Error {
  constructor(loadBalancerArns: string[]) {
    super(
      `deletion protection is enabled on ${loadBalancerArns.join(', ')}: set deletion_protection.enabled=false in ${Annotations.attributes} ` +
        '(or turn it off on the load balancer) to delete it',
    );
    this.name = 'DeletionProtectedError';
  }
}

/**
 * What deleting a stack does first about NLBs whose deletion protection is on (ELBv2 refuses to delete them).
 * The Service's own word decides, as in the LBC (which refuses to delete a Service whose attributes annotation
 * keeps protection on): `deletion_protection.enabled=false` in its annotation turns it off before the deletion;
 * otherwise the deletion stops before any write (DeletionProtectedError), and is tried again later, so turning
 * protection off on the NLB by hand also lets it go. An unreadable annotation counts as not saying "false".
 */
export function unprotectForDeletion(actual: ActualStack, service: V1Service | undefined): Action[] {
  const protectedArns = actual.loadBalancers.filter((lb) => lb.attributes?.[DELETION_PROTECTION] === 'true').map((lb) => lb.arn);
  if (protectedArns.length === 0) return [];
  if (saidOff(service)) return protectedArns.map((arn): Action => ({ kind: 'ModifyLoadBalancerAttributes', loadBalancer: { arn }, attributes: { [DELETION_PROTECTION]: 'false' } }));
  throw new DeletionProtectedError(protectedArns);
}

function saidOff(service: V1Service | undefined): boolean {
  try {
    return loadBalancerAttributesOf(service?.metadata?.annotations)[DELETION_PROTECTION] === 'false';
  } catch {
    return false;
  }
}
