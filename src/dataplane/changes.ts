/**
 * What to re-read after the emulator's changes (ADR 0012), pure: the plugin's `/_cpl/changes` lists each mutating
 * request with the ELBv2 ARNs it named; a re-read of just those keeps a change at 200 NLBs to a few calls.
 */
export interface Change {
  version: number;
  service: string | null;
  action: string | null;
  arns: string[];
}

export interface Reread {
  /** List the NLBs again: one may have been created and the change does not name it. */
  discover: boolean;
  loadBalancers: Set<string>;
  targetGroups: Set<string>;
  /** An EC2 change: instance addresses may have moved. */
  instances: boolean;
}

/** A listener's ARN names its load balancer: …:listener/net/<name>/<lb id>/<listener id>. */
export const loadBalancerOfListener = (listenerArn: string): string =>
  listenerArn.replace(':listener/', ':loadbalancer/').replace(/\/[^/]+$/, '');

const CREATES = new Set(['CreateLoadBalancer', 'CreateTargetGroup']);
/** The plugin names what a create made (from its answer); one that does not makes us list every NLB again. */
const namesCreated = (change: Change): boolean => change.arns.some((arn) => arn.includes(':loadbalancer/') || arn.includes(':targetgroup/'));

export function rereadFor(changes: readonly Change[]): Reread {
  const reread: Reread = { discover: false, loadBalancers: new Set(), targetGroups: new Set(), instances: false };
  for (const change of changes) {
    if (change.service === 'ec2') {
      reread.instances = true;
      continue;
    }
    if (change.arns.length === 0 || (CREATES.has(change.action ?? '') && !namesCreated(change))) reread.discover = true;
    for (const arn of change.arns) {
      if (arn.includes(':loadbalancer/')) reread.loadBalancers.add(arn);
      else if (arn.includes(':targetgroup/')) reread.targetGroups.add(arn);
      else if (arn.includes(':listener/')) reread.loadBalancers.add(loadBalancerOfListener(arn));
      else if (arn.includes(':listener-rule/')) reread.loadBalancers.add(loadBalancerOfListener(arn.replace(':listener-rule/', ':listener/').replace(/\/[^/]+$/, '')));
    }
  }
  return reread;
}
