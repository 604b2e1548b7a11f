/**
 * What ELBv2's target-health states say about registration. `unused` has two meanings told apart only by the
 * reason: `Target.NotRegistered` (not registered) and `Target.NotInUse` / `Target.InvalidState` /
 * `Target.IpUnusable` (registered, but the group serves no listener, the instance is stopped, ...). Reading
 * every `unused` as "not registered" re-registers the same targets on every pass while a group waits unattached.
 * (ELBv2 API reference, TargetHealth; NLB guide, target-group-health-checks.)
 */
export interface TargetHealthState {
  state: string;
  reason?: string;
}

const NOT_REGISTERED = 'Target.NotRegistered';

/** Registered and not on its way out: what a plan compares with the desired targets. */
export const isRegistered = ({ state, reason }: TargetHealthState): boolean =>
  state !== 'draining' && !(state === 'unused' && (reason === undefined || reason === NOT_REGISTERED));

/**
 * Still holds its address in the target group (registered, or draining its deregistration delay): an ENI-pool
 * address in such a group is not reused yet.
 */
export const holdsAddress = (health: TargetHealthState): boolean => health.state === 'draining' || isRegistered(health);
