/**
 * Runs the health checks of every target group in use (the caller passes only those: AWS checks no other) and
 * keeps each target's state by AWS's state machine (state.ts); pushes changes to the emulator (report.ts).
 * Each target is checked every interval from the NLB's address in its zone, the first check jittered so that
 * many groups do not check at once; at most `maxInFlight` checks run at a time (200 NLBs on 2 cores).
 * Simulated targets (addresses no namespace holds: kwok's) cannot answer and are healthy from registration.
 */
import { DEFAULT_HTTP_MATCHER, parseMatcher } from './matcher.ts';
import { runProbe, type Probe, type ProbeResult, type ProbeTarget } from './probe.ts';
import { startReporter, type HealthPush, type Reporter } from './report.ts';
import { afterCheck, registeredTracker, sameHealth, simulatedTracker, type MeasuredHealth, type TargetTracker } from './state.ts';

export interface CheckedTarget {
  targetGroupArn: string;
  id: string;
  port: number;
  address: string;
  zone: string;
}

export interface HealthCheckSpec {
  protocol: 'TCP' | 'HTTP' | 'HTTPS';
  port: 'traffic-port' | number;
  path?: string;
  matcher?: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
}

/** A group some listener uses. `listenerPort`: the HTTP Host header is LB address:listener port, as on AWS. */
export interface CheckedGroup {
  arn: string;
  spec: HealthCheckSpec;
  targets: CheckedTarget[];
  listenerPort?: number;
}

export interface HealthChecksOptions {
  /** The group's NLB's address in a zone, bound as the checks' source; undefined: the kernel picks. */
  sourceAddress: (zone: string, targetGroupArn: string) => string | undefined;
  isSimulated: (address: string) => boolean;
  emulatorEndpoint: string;
  /** Called (coalesced) when some group's set of healthy targets changed. */
  onChange: () => void;
  maxInFlight?: number;
  /** The first check of a target comes after a random delay below min(interval, this). */
  firstCheckJitterMs?: number;
  reportIntervalMs?: number;
  log?: (line: string) => void;
  random?: () => number;
  probe?: (probe: Probe, target: ProbeTarget, timeoutMs: number) => Promise<ProbeResult>;
}

export interface HealthChecks {
  update(groups: readonly CheckedGroup[]): void;
  healthy(targetGroupArn: string): Set<string>;
  states(targetGroupArn: string): Map<string, { state: string; reason?: string }>;
  stop(): Promise<void>;
}

interface TargetRun {
  key: string;
  target: CheckedTarget;
  simulated: boolean;
  tracker: TargetTracker;
  timer?: NodeJS.Timeout;
  removed: boolean;
}

interface GroupRun {
  arn: string;
  spec: HealthCheckSpec;
  listenerPort?: number;
  matches: (status: number) => boolean;
  targets: Map<string, TargetRun>;
}

const targetKey = (target: { id: string; port: number }): string => `${target.id}:${target.port}`;

/** At most `limit` tasks at once, the rest in arrival order. */
function limiter(limit: number): (task: () => Promise<void>) => void {
  let running = 0;
  const queue: (() => Promise<void>)[] = [];
  const next = (): void => {
    while (running < limit && queue.length > 0) {
      const task = queue.shift()!;
      running += 1;
      void task().finally(() => {
        running -= 1;
        next();
      });
    }
  };
  return (task) => {
    queue.push(task);
    next();
  };
}

export function startHealthChecks(options: HealthChecksOptions): HealthChecks {
  const log = options.log ?? (() => {});
  const random = options.random ?? Math.random;
  const probeOnce = options.probe ?? runProbe;
  const jitterMs = options.firstCheckJitterMs ?? 2000;
  const enqueue = limiter(options.maxInFlight ?? 64);
  const groups = new Map<string, GroupRun>();
  let stopped = false;

  const snapshot = (): HealthPush => {
    const push: HealthPush = {};
    for (const group of groups.values()) {
      push[group.arn] = Object.fromEntries([...group.targets.values()].map((run) => [run.key, run.tracker.health]));
    }
    return push;
  };
  const reporter: Reporter = startReporter({
    emulatorEndpoint: options.emulatorEndpoint,
    snapshot,
    ...(options.reportIntervalMs !== undefined ? { minIntervalMs: options.reportIntervalMs } : {}),
    log,
  });

  let notifying = false;
  const notify = (): void => {
    if (notifying || stopped) return;
    notifying = true;
    setImmediate(() => {
      notifying = false;
      if (!stopped) options.onChange();
    });
  };

  const setHealth = (group: GroupRun, run: TargetRun, tracker: TargetTracker, detail?: string): void => {
    const before = run.tracker.health;
    run.tracker = tracker;
    if (sameHealth(before, tracker.health)) return;
    reporter.changed(group.arn, run.key, tracker.health);
    if (before.state !== tracker.health.state) {
      log(`target ${run.key} of ${group.arn}: ${describe(before)} → ${describe(tracker.health)}${detail ? ` (${detail})` : ''}`);
    }
    if ((before.state === 'healthy') !== (tracker.health.state === 'healthy')) notify();
  };

  const schedule = (group: GroupRun, run: TargetRun, delayMs: number): void => {
    if (stopped || run.removed || run.simulated) return;
    run.timer = setTimeout(() => enqueue(() => check(group, run)), delayMs);
    run.timer.unref?.();
  };

  async function check(group: GroupRun, run: TargetRun): Promise<void> {
    if (stopped || run.removed) return;
    const startedAt = Date.now();
    const { spec } = group;
    const port = spec.port === 'traffic-port' ? run.target.port : spec.port;
    const source = options.sourceAddress(run.target.zone, group.arn);
    const probe: Probe =
      spec.protocol === 'TCP'
        ? { protocol: 'TCP' }
        : {
            protocol: spec.protocol,
            path: spec.path || '/',
            matches: group.matches,
            host: source && group.listenerPort ? `${source}:${group.listenerPort}` : `${run.target.address}:${port}`,
          };
    const result = await probeOnce(probe, { address: run.target.address, port, sourceAddress: source }, spec.timeoutSeconds * 1000);
    if (stopped || run.removed) return;
    setHealth(group, run, afterCheck(run.tracker, result.passed, spec), result.detail);
    schedule(group, run, Math.max(0, spec.intervalSeconds * 1000 - (Date.now() - startedAt)));
  }

  const matcherOf = (arn: string, spec: HealthCheckSpec): ((status: number) => boolean) => {
    if (spec.protocol === 'TCP') return () => true;
    try {
      return parseMatcher(spec.matcher);
    } catch (error) {
      log(`target group ${arn}: ${(error as Error).message}; checking with ${DEFAULT_HTTP_MATCHER}`);
      return parseMatcher(DEFAULT_HTTP_MATCHER);
    }
  };

  /**
   * `carried`: the state so far of a target that turned out to be real after being taken for simulated (hosts.json
   * is written every 2 s, so a new node can be checked before it lists it): its checks continue from that state
   * instead of starting over at initial, which made a healthy group look unhealthy for a moment and let a flip
   * switch at once ("nothing to protect").
   */
  const startTarget = (group: GroupRun, target: CheckedTarget, carried?: TargetTracker): TargetRun => {
    const simulated = options.isSimulated(target.address);
    const tracker = simulated ? simulatedTracker() : (carried ?? registeredTracker());
    const run: TargetRun = { key: targetKey(target), target, simulated, tracker, removed: false };
    group.targets.set(run.key, run);
    reporter.changed(group.arn, run.key, run.tracker.health);
    if (simulated) notify();
    schedule(group, run, random() * Math.min(group.spec.intervalSeconds * 1000, jitterMs));
    return run;
  };

  const stopTarget = (run: TargetRun): void => {
    run.removed = true;
    if (run.timer) clearTimeout(run.timer);
  };

  return {
    update(wanted) {
      if (stopped) return;
      const wantedArns = new Set(wanted.map((group) => group.arn));
      for (const [arn, group] of groups) {
        if (wantedArns.has(arn)) continue;
        for (const run of group.targets.values()) stopTarget(run);
        groups.delete(arn);
        reporter.forgetGroup(arn);
        notify();
      }
      for (const { arn, spec, targets, listenerPort } of wanted) {
        let group = groups.get(arn);
        if (!group) {
          group = { arn, spec, matches: matcherOf(arn, spec), targets: new Map() };
          groups.set(arn, group);
        } else if (JSON.stringify(group.spec) !== JSON.stringify(spec)) {
          // Takes effect from each target's next check; the state so far is kept, as on AWS.
          group.spec = spec;
          group.matches = matcherOf(arn, spec);
        }
        if (listenerPort === undefined) delete group.listenerPort;
        else group.listenerPort = listenerPort;
        const wantedKeys = new Set<string>();
        for (const target of targets) {
          const key = targetKey(target);
          wantedKeys.add(key);
          const run = group.targets.get(key);
          if (!run) startTarget(group, target);
          else if (run.simulated !== options.isSimulated(target.address)) {
            stopTarget(run);
            startTarget(group, target, run.tracker);
          } else run.target = target;
        }
        for (const [key, run] of group.targets) {
          if (wantedKeys.has(key)) continue;
          stopTarget(run);
          group.targets.delete(key);
          reporter.changed(arn, key, null);
          if (run.tracker.health.state === 'healthy') notify();
        }
      }
    },
    healthy(targetGroupArn) {
      const group = groups.get(targetGroupArn);
      return new Set([...(group?.targets.values() ?? [])].filter((run) => run.tracker.health.state === 'healthy').map((run) => run.key));
    },
    states(targetGroupArn) {
      const group = groups.get(targetGroupArn);
      return new Map(
        [...(group?.targets.values() ?? [])].map((run) => {
          const { state, reason } = run.tracker.health;
          return [run.key, reason === undefined ? { state } : { state, reason }];
        }),
      );
    },
    async stop() {
      stopped = true;
      for (const group of groups.values()) for (const run of group.targets.values()) stopTarget(run);
      await reporter.stop();
    },
  };
}

const describe = (health: MeasuredHealth): string => (health.reason ? `${health.state} (${health.reason})` : health.state);
