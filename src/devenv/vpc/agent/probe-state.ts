/**
 * The kubelet's probe bookkeeping, without I/O: each probe's result changes only after successThreshold
 * successes or failureThreshold failures in a row; what each kind of probe's result means is in pod-runner.ts.
 */
import type { V1Probe } from '@kubernetes/client-node';

export type ProbeKind = 'startup' | 'liveness' | 'readiness';

/** The probe's timing and thresholds with Kubernetes' defaults filled in (seconds). */
export interface ProbeTiming {
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
}

export function probeTiming(probe: V1Probe): ProbeTiming {
  const positive = (value: number | undefined, fallback: number) => (value !== undefined && value > 0 ? value : fallback);
  return {
    initialDelaySeconds: Math.max(0, probe.initialDelaySeconds ?? 0),
    periodSeconds: positive(probe.periodSeconds, 10),
    timeoutSeconds: positive(probe.timeoutSeconds, 1),
    successThreshold: positive(probe.successThreshold, 1),
    failureThreshold: positive(probe.failureThreshold, 3),
  };
}

export interface ProbeState {
  /** The probe's current result; undefined until it has one (readiness and startup start so). */
  passing: boolean | undefined;
  successes: number;
  failures: number;
}

/** As the kubelet starts them: liveness is assumed passing, readiness and startup are unknown. */
export const initialProbeState = (kind: ProbeKind): ProbeState => ({ passing: kind === 'liveness' ? true : undefined, successes: 0, failures: 0 });

/** One probe outcome applied. */
export function advanceProbe(state: ProbeState, timing: Pick<ProbeTiming, 'successThreshold' | 'failureThreshold'>, passed: boolean): ProbeState {
  const successes = passed ? state.successes + 1 : 0;
  const failures = passed ? 0 : state.failures + 1;
  let passing = state.passing;
  if (passed && successes >= timing.successThreshold) passing = true;
  if (!passed && failures >= timing.failureThreshold) passing = false;
  return { passing, successes, failures };
}
