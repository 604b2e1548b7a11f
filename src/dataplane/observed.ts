/**
 * The data plane's picture of the emulator (ADR 0012): load balancers with listeners and attributes, the target
 * groups listeners use, instance addresses, subnets and the NLBs' own interfaces. A full read fills it; after
 * that, the changes the plugin lists re-read only what they named (changes.ts).
 */
import type { AwsClients } from '../cloud/clients.ts';
import { syncInterfaces } from './addresses.ts';
import { describeLoadBalancers, readInstances, readLoadBalancerDetails, readSecurityFacts, readSubnets, readTargetGroups } from './aws.ts';
import { rereadFor, type Change } from './changes.ts';
import type { LoadBalancerAddress, LoadBalancerState, NetworkFacts, TargetGroupState } from './model.ts';
import { NO_SECURITY_FACTS, type SecurityFacts } from './security-groups.ts';

export interface Snapshot {
  loadBalancers: LoadBalancerState[];
  groups: TargetGroupState[];
  addresses: Map<string, LoadBalancerAddress[]>;
  facts: NetworkFacts;
  /** The VPC's security groups and interfaces (security-groups.ts). */
  security: SecurityFacts;
}

export function createObserved(clients: AwsClients, vpcId: string) {
  const loadBalancers = new Map<string, LoadBalancerState>();
  const groups = new Map<string, TargetGroupState>();
  let instances: NetworkFacts['instances'] = new Map();
  let subnets: NetworkFacts['subnets'] = [];
  let addresses = new Map<string, LoadBalancerAddress[]>();
  let security: SecurityFacts = NO_SECURITY_FACTS;

  const groupsInUse = (): Set<string> =>
    new Set([...loadBalancers.values()].flatMap((lb) => lb.listeners.flatMap((listener) => listener.targetGroupArn ?? [])));
  const instanceIds = (): string[] => [...new Set([...groups.values()].filter((g) => g.targetType === 'instance').flatMap((g) => g.targets.map((t) => t.id)))];

  // A draining target leaves DescribeTargetHealth when its delay ends, with no request to tell: its group is read
  // again then (the delay counted from our read, so at most that late).
  const drainEnds = new Map<string, number>();
  const readGroups = async (arns: readonly string[]): Promise<void> => {
    const found = await readTargetGroups(clients.elbv2, arns);
    for (const arn of arns) {
      groups.delete(arn);
      drainEnds.delete(arn);
    }
    for (const group of found) {
      groups.set(group.arn, group);
      if (!group.targets.some((target) => target.state === 'draining')) continue;
      const delaySeconds = Number(group.attributes['deregistration_delay.timeout_seconds'] ?? 300);
      drainEnds.set(group.arn, Date.now() + (Number.isFinite(delaySeconds) ? delaySeconds : 300) * 1000 + 1000);
    }
  };
  /** Groups no listener uses any more are forgotten; ones newly used are read. */
  const followListeners = async (): Promise<void> => {
    const used = groupsInUse();
    for (const arn of groups.keys()) if (!used.has(arn)) groups.delete(arn);
    const fresh = [...used].filter((arn) => !groups.has(arn));
    if (fresh.length > 0) await readGroups(fresh);
  };

  return {
    snapshot: (): Snapshot => ({ loadBalancers: [...loadBalancers.values()], groups: [...groups.values()], addresses, facts: { instances, subnets }, security }),

    async full(): Promise<void> {
      const described = await readLoadBalancerDetails(clients.elbv2, await describeLoadBalancers(clients.elbv2));
      loadBalancers.clear();
      for (const lb of described) loadBalancers.set(lb.arn, lb);
      groups.clear();
      await readGroups([...groupsInUse()]);
      subnets = await readSubnets(clients.ec2, vpcId);
      instances = await readInstances(clients.ec2, instanceIds());
      addresses = await syncInterfaces(clients.ec2, [...loadBalancers.values()]);
      security = await readSecurityFacts(clients.ec2, vpcId);
    },

    /** Re-reads groups whose draining targets' delay is over; true when one was read. */
    async drained(): Promise<boolean> {
      const due = [...drainEnds].filter(([, end]) => end <= Date.now()).map(([arn]) => arn);
      if (due.length === 0) return false;
      await readGroups(due.filter((arn) => groups.has(arn)));
      for (const arn of due) if (!groups.has(arn)) drainEnds.delete(arn);
      return true;
    },

    /** Re-reads what `changes` named. */
    async changed(changes: readonly Change[]): Promise<void> {
      const reread = rereadFor(changes);
      // A provisioning NLB turns active without a request: read it again while it is.
      for (const lb of loadBalancers.values()) if (lb.state === 'provisioning') reread.loadBalancers.add(lb.arn);
      let lbSetChanged = false;
      if (reread.discover) {
        const listed = await describeLoadBalancers(clients.elbv2);
        const listedArns = new Set(listed.map((lb) => lb.arn));
        for (const arn of [...loadBalancers.keys()]) {
          if (listedArns.has(arn)) continue;
          loadBalancers.delete(arn);
          lbSetChanged = true;
        }
        for (const lb of listed) {
          const known = loadBalancers.get(lb.arn);
          if (!known || known.state !== lb.state || JSON.stringify(known.subnets) !== JSON.stringify(lb.subnets)) reread.loadBalancers.add(lb.arn);
        }
      }
      if (reread.loadBalancers.size > 0) {
        const arns = [...reread.loadBalancers];
        const described = await readLoadBalancerDetails(clients.elbv2, await describeLoadBalancers(clients.elbv2, arns));
        for (const arn of arns) loadBalancers.delete(arn);
        for (const lb of described) loadBalancers.set(lb.arn, lb);
        lbSetChanged = true;
      }
      const used = groupsInUse();
      const named = [...reread.targetGroups].filter((arn) => used.has(arn));
      if (named.length > 0) await readGroups(named);
      await followListeners();
      const known = new Set(instances.keys());
      if (reread.instances || instanceIds().some((id) => !known.has(id))) instances = await readInstances(clients.ec2, instanceIds());
      // Any EC2 change may be a rule, a group or an interface moving (two paged reads, whatever the size).
      if (reread.instances) security = await readSecurityFacts(clients.ec2, vpcId);
      if (lbSetChanged) addresses = await syncInterfaces(clients.ec2, [...loadBalancers.values()]);
    },
  };
}
