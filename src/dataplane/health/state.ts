/**
 * AWS's target health state machine for NLB health checks, as pure functions (ELBv2 API TargetHealth; NLB guide,
 * target-group-health-checks): a registered target is `initial` (Elb.RegistrationInProgress) until its first
 * check result, then `initial` (Elb.InitialHealthChecking) until `healthyThreshold` consecutive successes make it
 * `healthy`; `unhealthyThreshold` consecutive failures make it `unhealthy` (Target.FailedHealthChecks, NLB's only
 * reason), from `initial` too; an unhealthy target recovers after `healthyThreshold` consecutive successes.
 */

export type MeasuredState = 'initial' | 'healthy' | 'unhealthy';

export interface MeasuredHealth {
  state: MeasuredState;
  reason?: string;
  description?: string;
}

export interface Thresholds {
  healthyThreshold: number;
  unhealthyThreshold: number;
}

/** A target's health and the run of equal check results that leads to the next state. */
export interface TargetTracker {
  health: MeasuredHealth;
  consecutiveSuccesses: number;
  consecutiveFailures: number;
}

export const REGISTRATION_IN_PROGRESS: MeasuredHealth = {
  state: 'initial',
  reason: 'Elb.RegistrationInProgress',
  description: 'Target registration is in progress',
};
export const INITIAL_HEALTH_CHECKING: MeasuredHealth = {
  state: 'initial',
  reason: 'Elb.InitialHealthChecking',
  description: 'Initial health checks in progress',
};
export const HEALTHY: MeasuredHealth = { state: 'healthy' };
export const FAILED_HEALTH_CHECKS: MeasuredHealth = {
  state: 'unhealthy',
  reason: 'Target.FailedHealthChecks',
  description: 'Health checks failed',
};

export function registeredTracker(): TargetTracker {
  return { health: REGISTRATION_IN_PROGRESS, consecutiveSuccesses: 0, consecutiveFailures: 0 };
}

/** A target that nothing can check (a simulated host): healthy from registration, as moto reports it. */
export function simulatedTracker(): TargetTracker {
  return { health: HEALTHY, consecutiveSuccesses: 0, consecutiveFailures: 0 };
}

/** The tracker after one check result. */
export function afterCheck(tracker: TargetTracker, passed: boolean, thresholds: Thresholds): TargetTracker {
  const consecutiveSuccesses = passed ? tracker.consecutiveSuccesses + 1 : 0;
  const consecutiveFailures = passed ? 0 : tracker.consecutiveFailures + 1;
  const { state } = tracker.health;
  let health = tracker.health;
  if (passed && state !== 'healthy' && consecutiveSuccesses >= thresholds.healthyThreshold) health = HEALTHY;
  else if (!passed && state !== 'unhealthy' && consecutiveFailures >= thresholds.unhealthyThreshold) health = FAILED_HEALTH_CHECKS;
  else if (state === 'initial') health = INITIAL_HEALTH_CHECKING;
  return { health, consecutiveSuccesses, consecutiveFailures };
}

export function sameHealth(a: MeasuredHealth | undefined, b: MeasuredHealth | undefined): boolean {
  return a?.state === b?.state && a?.reason === b?.reason && a?.description === b?.description;
}
