import { describe, expect, it } from 'vitest';
import { holdsAddress, isRegistered } from '../../src/core/target-health.ts';

// ELBv2 API reference, TargetHealth: states and reasons (NLB).
describe('target health: registered or not', () => {
  const table: [string, string | undefined, boolean, boolean][] = [
    // state, reason, isRegistered, holdsAddress
    ['healthy', undefined, true, true],
    ['initial', 'Elb.RegistrationInProgress', true, true],
    ['initial', 'Elb.InitialHealthChecking', true, true],
    ['unhealthy', 'Target.FailedHealthChecks', true, true],
    ['unused', 'Target.NotInUse', true, true],
    ['unused', 'Target.InvalidState', true, true],
    ['unused', 'Target.IpUnusable', true, true],
    ['unused', 'Target.NotRegistered', false, false],
    ['unused', undefined, false, false],
    ['draining', 'Target.DeregistrationInProgress', false, true],
    ['unavailable', 'Elb.InternalError', true, true],
  ];
  it.each(table)('%s (%s): registered %s, holds its address %s', (state, reason, registered, holds) => {
    const health = reason === undefined ? { state } : { state, reason };
    expect(isRegistered(health)).toBe(registered);
    expect(holdsAddress(health)).toBe(holds);
  });
});
