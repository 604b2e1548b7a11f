/**
 * One pod on a networked node, run as a kubelet would: once the pool has given it an address, its network
 * namespace (fabric.addPod) and one process per container; probes against those processes; the pod's status;
 * on deletion the processes stopped (SIGTERM, SIGKILL after the grace period), the namespace removed and the pod
 * object deleted with grace 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PatchStrategy, setHeaderOptions, type CoreV1Api, type V1Container, type V1Pod, type V1Probe } from '@kubernetes/client-node';
import { POD_IPS_ANNOTATION } from '../../../core/ipam/keys.ts';
import { isNotFound } from '../../../kube/objects.ts';
import { addPod, removePod } from '../fabric.ts';
import { netnsPath, podNs } from '../names.ts';
import { containerEnv, containerProgram, podHostname, wrapInPodNamespace, type Binaries } from './container-command.ts';
import { KubeletReason, kubeletMessage, type KubeletEvents } from './events.ts';
import type { Limiter } from './limiter.ts';
import { advanceProbe, initialProbeState, probeTiming, type ProbeKind, type ProbeState } from './probe-state.ts';
import { runProbe } from './probe-runner.ts';
import { podStatus, type ContainerState, type ContainerView } from './pod-status.ts';

export interface PodRunnerContext {
  core: CoreV1Api;
  nodeName: string;
  nodeIp: string;
  nodeNs: string;
  binaries: Binaries;
  /** Containers' stdout/stderr go to <logDir>/<namespace>_<pod>_<container>.log. */
  logDir: string;
  log: (line: string) => void;
  /** Namespace setups run through this, a few at a time. */
  setupLimit: Limiter;
  /** The kubelet's Events about the pod's containers (written in the background). */
  events: KubeletEvents;
}

interface Probe {
  kind: ProbeKind;
  spec: V1Probe;
  state: ProbeState;
}

interface Container {
  spec: V1Container;
  child: ChildProcess | undefined;
  current: ContainerState;
  last: Extract<ContainerState, { state: 'terminated' }> | undefined;
  restartCount: number;
  probes: Probe[];
  /** Bumped at every start: timers of an earlier run see they are stale and stop. */
  run: number;
  timers: Set<NodeJS.Timeout>;
}

/** Delay before restarting an exited container: 1 s doubling to 30 s (kubelet: 10 s to 5 min). */
const restartDelayMs = (restartCount: number) => Math.min(1000 * 2 ** Math.min(restartCount, 5), 30_000);

/** The pool's address for the pod (the first of `vpc.amazonaws.com/pod-ips`). */
export const poolAddress = (pod: V1Pod): string | undefined => pod.metadata?.annotations?.[POD_IPS_ANNOTATION]?.split(',')[0]?.trim() || undefined;

const key = (pod: V1Pod) => `${pod.metadata?.namespace}/${pod.metadata?.name}`;

export class PodRunner {
  readonly uid: string;
  readonly #ctx: PodRunnerContext;
  #pod: V1Pod;
  #podIp: string | undefined;
  #netns: string | undefined;
  #startTime = new Date();
  #phase: 'waiting' | 'starting' | 'running' | 'terminating' = 'waiting';
  #containers: Container[] = [];
  #statusTimer: NodeJS.Timeout | undefined;
  #lastStatus = '';
  /** After a failed status write: the next try waits this long (doubling to 30 s), so an unreachable apiserver is not hammered by every pod each second. */
  #statusRetryMs = 0;
  #terminated: Promise<void> | undefined;
  /** The start in progress: termination waits for it, so a namespace being made is not left behind. */
  #starting: Promise<void> | undefined;

  constructor(ctx: PodRunnerContext, pod: V1Pod) {
    this.#ctx = ctx;
    this.#pod = pod;
    this.uid = pod.metadata!.uid!;
  }

  get name(): string {
    return key(this.#pod);
  }

  /** The latest copy of the pod: starts it once it has its address, stops it once it is being deleted. */
  update(pod: V1Pod, before: Promise<void> | undefined): void {
    this.#pod = pod;
    if (pod.metadata?.deletionTimestamp) {
      void this.terminate(true);
      return;
    }
    if (this.#phase !== 'waiting') return;
    const ip = pod.spec?.hostNetwork ? this.#ctx.nodeIp : poolAddress(pod);
    if (!ip) return;
    this.#phase = 'starting';
    this.#podIp = ip;
    this.#starting = (async () => {
      await before;
      await this.#start();
    })().catch((error: unknown) => {
      if (this.#phase === 'terminating') return;
      this.#ctx.log(`pod ${this.name}: start failed: ${(error as Error).message}; retrying in 5 s`);
      this.#phase = 'waiting';
      setTimeout(() => this.#phase === 'waiting' && this.update(this.#pod, undefined), 5000).unref();
    });
  }

  async #start(): Promise<void> {
    const pod = this.#pod;
    const began = performance.now();
    if (!pod.spec?.hostNetwork) {
      const ns = podNs(this.uid);
      this.#netns = await this.#ctx.setupLimit(async () => {
        // Left by an agent that died: start clean (its processes are killed with it).
        if (existsSync(netnsPath(ns))) await removePod({ uid: this.uid });
        return addPod(this.#ctx.nodeNs, { uid: this.uid, namespace: pod.metadata!.namespace!, name: pod.metadata!.name! }, this.#podIp!);
      });
    }
    if (this.#phase !== 'starting') return;
    this.#phase = 'running';
    const restartCounts = new Map(pod.status?.containerStatuses?.map((s) => [s.name, s.restartCount]) ?? []);
    mkdirSync(this.#ctx.logDir, { recursive: true });
    this.#containers = (pod.spec?.containers ?? []).map((spec) => ({
      spec,
      child: undefined,
      current: { state: 'waiting', reason: 'ContainerCreating' },
      last: undefined,
      restartCount: restartCounts.get(spec.name) ?? 0,
      probes: [],
      run: 0,
      timers: new Set(),
    }));
    const networked = performance.now();
    for (const container of this.#containers) this.#startContainer(container);
    // How long the namespace and the spawns took: what this agent adds to a pod's start.
    this.#ctx.log(`pod ${this.name}: started ${this.#containers.length} container(s) at ${this.#podIp} (namespace ${Math.round(networked - began)} ms, spawn ${Math.round(performance.now() - networked)} ms)`);
  }

  #startContainer(container: Container): void {
    const run = ++container.run;
    const pod = { ...this.#pod, status: { ...this.#pod.status, podIP: this.#podIp, hostIP: this.#ctx.nodeIp } };
    const argv = wrapInPodNamespace(this.#netns, podHostname(pod), containerProgram(pod, container.spec, this.#ctx.binaries));
    const logFile = join(this.#ctx.logDir, `${pod.metadata?.namespace}_${pod.metadata?.name}_${container.spec.name}.log`);
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', fd, fd], env: containerEnv(pod, container.spec, { PATH: process.env.PATH ?? '/usr/bin:/bin' }) });
    } finally {
      closeSync(fd);
    }
    const startedAt = new Date();
    // The process exists from here (a spawn that fails reports 'error' below): created and started at once.
    this.#event(container, 'Normal', KubeletReason.created, kubeletMessage.created(container.spec.name));
    this.#event(container, 'Normal', KubeletReason.started, kubeletMessage.started(container.spec.name));
    container.child = child;
    container.current = { state: 'running', startedAt };
    container.probes = (
      [
        ['startup', container.spec.startupProbe],
        ['liveness', container.spec.livenessProbe],
        ['readiness', container.spec.readinessProbe],
      ] as const
    )
      .filter((entry): entry is [ProbeKind, V1Probe] => entry[1] !== undefined)
      .map(([kind, spec]) => ({ kind, spec, state: initialProbeState(kind) }));
    child.once('error', (error) => {
      this.#ctx.log(`pod ${this.name} container ${container.spec.name}: ${error.message}`);
      this.#event(container, 'Warning', KubeletReason.failed, kubeletMessage.failedToStart(error.message));
      this.#exited(container, run, startedAt, 127, null);
    });
    child.once('exit', (code, signal) => this.#exited(container, run, startedAt, code, signal));
    for (const probe of container.probes) this.#scheduleProbe(container, run, probe, probeTiming(probe.spec).initialDelaySeconds * 1000);
    this.#scheduleStatus();
  }

  #event(container: Container, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.#ctx.events.container(this.#pod, container.spec.name, type, reason, message);
  }

  #timer(container: Container, ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      container.timers.delete(timer);
      action();
    }, ms);
    container.timers.add(timer);
  }

  #scheduleProbe(container: Container, run: number, probe: Probe, delayMs: number): void {
    this.#timer(container, delayMs, () => void this.#probe(container, run, probe));
  }

  /** Liveness and readiness wait for the startup probe, as the kubelet's do. */
  #started(container: Container): boolean {
    if (container.current.state !== 'running') return false;
    const startup = container.probes.find((p) => p.kind === 'startup');
    return !startup || startup.state.passing === true;
  }

  async #probe(container: Container, run: number, probe: Probe): Promise<void> {
    const timing = probeTiming(probe.spec);
    const live = () => container.run === run && this.#phase === 'running' && container.current.state === 'running';
    if (!live()) return;
    const waiting = probe.kind !== 'startup' && !this.#started(container);
    const startupDone = probe.kind === 'startup' && probe.state.passing === true;
    if (!waiting && !startupDone) {
      const outcome = await runProbe(probe.spec, { podIp: this.#podIp!, container: container.spec, pid: container.child?.pid, binaries: this.#ctx.binaries }, timing.timeoutSeconds * 1000);
      if (!live()) return;
      const passed = outcome.passed;
      if (!passed) {
        const message = (outcome.errored ? kubeletMessage.probeErrored : kubeletMessage.probeFailed)(probe.kind, outcome.output);
        this.#event(container, 'Warning', KubeletReason.unhealthy, message);
      }
      const before = probe.state.passing;
      probe.state = advanceProbe(probe.state, timing, passed);
      if (probe.state.passing !== before) {
        this.#ctx.log(`pod ${this.name} container ${container.spec.name}: ${probe.kind} probe ${probe.state.passing ? 'passes' : 'fails'}`);
        this.#scheduleStatus();
      }
      if (probe.state.passing === false && probe.kind !== 'readiness') {
        // A failed liveness or startup probe: the kubelet kills the container and the restart policy applies.
        this.#event(container, 'Normal', KubeletReason.killing, kubeletMessage.killedByProbe(container.spec.name, probe.kind));
        this.#kill(container, 'SIGTERM');
        return;
      }
    }
    this.#scheduleProbe(container, run, probe, timing.periodSeconds * 1000);
  }

  #exited(container: Container, run: number, startedAt: Date, code: number | null, signal: NodeJS.Signals | null): void {
    // Once per run: a process that could not start may report both 'error' and 'exit'.
    if (container.run !== run || container.current.state !== 'running') return;
    for (const timer of container.timers) clearTimeout(timer);
    container.timers.clear();
    container.child = undefined;
    const exitCode = code ?? 128 + (signal === 'SIGKILL' ? 9 : 15);
    container.current = { state: 'terminated', exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt, finishedAt: new Date() };
    this.#scheduleStatus();
    if (this.#phase !== 'running') return;
    const policy = this.#pod.spec?.restartPolicy ?? 'Always';
    if (policy === 'Never' || (policy === 'OnFailure' && exitCode === 0)) return;
    const delay = restartDelayMs(container.restartCount);
    this.#ctx.log(`pod ${this.name} container ${container.spec.name}: exited (${exitCode}); restarting in ${delay} ms`);
    // The kubelet restarts a container's first exit at once and reports BackOff from the second on.
    if (container.restartCount > 0) this.#event(container, 'Warning', KubeletReason.backOff, kubeletMessage.backOff(container.spec.name, this.#pod));
    container.last = container.current;
    container.current = { state: 'waiting', reason: 'CrashLoopBackOff', message: `back-off ${delay / 1000}s restarting failed container` };
    this.#timer(container, delay, () => {
      if (this.#phase !== 'running' || container.run !== run) return;
      container.restartCount++;
      this.#startContainer(container);
    });
  }

  #kill(container: Container, signal: NodeJS.Signals): void {
    try {
      container.child?.kill(signal);
    } catch {
      // Already gone.
    }
  }

  #view(): ContainerView[] {
    return this.#containers.map((c) => {
      const started = this.#started(c);
      const readiness = c.probes.find((p) => p.kind === 'readiness');
      return {
        name: c.spec.name,
        image: c.spec.image ?? '',
        pid: c.child?.pid,
        current: c.current,
        last: c.last,
        restartCount: c.restartCount,
        started,
        ready: started && (!readiness || readiness.state.passing === true),
      };
    });
  }

  /** Coalesces status writes: many changes in a few milliseconds (start, probes) make one write. */
  #scheduleStatus(): void {
    if (this.#statusTimer || this.#phase === 'terminating') return;
    this.#statusTimer = setTimeout(() => {
      this.#statusTimer = undefined;
      void this.#writeStatus();
    }, 20);
  }

  async #writeStatus(): Promise<void> {
    if (this.#phase === 'terminating') return;
    const body = podStatus(
      this.#pod,
      { podIp: this.#podIp, hostIp: this.#ctx.nodeIp, startTime: this.#startTime, sandboxReady: this.#phase === 'running', containers: this.#view(), restartPolicy: this.#pod.spec?.restartPolicy ?? 'Always' },
      new Date(),
    );
    const text = JSON.stringify(body);
    if (text === this.#lastStatus) return;
    try {
      await this.#ctx.core.patchNamespacedPodStatus(
        { name: this.#pod.metadata!.name!, namespace: this.#pod.metadata!.namespace!, body },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      this.#lastStatus = text;
      this.#statusRetryMs = 0;
    } catch (error) {
      if (isNotFound(error)) return;
      this.#statusRetryMs = Math.min(Math.max(this.#statusRetryMs * 2, 1000), 30_000);
      this.#ctx.log(`pod ${this.name}: status write failed: ${(error as Error).message}; retrying in ${this.#statusRetryMs} ms`);
      setTimeout(() => this.#scheduleStatus(), this.#statusRetryMs).unref();
    }
  }

  /**
   * Stops the pod: processes (SIGTERM, SIGKILL after the grace period), its namespace, and, when the API asked
   * for it (deletionTimestamp), the pod object with grace 0. Resolves when done; safe to call again.
   */
  terminate(deleteObject: boolean): Promise<void> {
    this.#terminated ??= this.#terminate(deleteObject);
    return this.#terminated;
  }

  async #terminate(deleteObject: boolean): Promise<void> {
    this.#phase = 'terminating';
    await this.#starting;
    const wasStarted = this.#starting !== undefined;
    clearTimeout(this.#statusTimer);
    for (const container of this.#containers) {
      for (const timer of container.timers) clearTimeout(timer);
      container.timers.clear();
      // Deleted through the API: the kubelet's Killing. (An agent stopping leaves no Events.)
      if (deleteObject && container.child) this.#event(container, 'Normal', KubeletReason.killing, kubeletMessage.stopping(container.spec.name));
      this.#kill(container, 'SIGTERM');
    }
    const graceSeconds = this.#pod.metadata?.deletionGracePeriodSeconds ?? this.#pod.spec?.terminationGracePeriodSeconds ?? 30;
    const deadline = Date.now() + graceSeconds * 1000;
    while (this.#containers.some((c) => c.child && c.child.exitCode === null && c.child.signalCode === null) && Date.now() < deadline) await sleep(50);
    for (const container of this.#containers) this.#kill(container, 'SIGKILL');
    if (wasStarted && !this.#pod.spec?.hostNetwork) await removePod({ uid: this.uid }).catch((error: unknown) => this.#ctx.log(`pod ${this.name}: ${(error as Error).message}`));
    if (deleteObject) {
      await this.#ctx.core
        .deleteNamespacedPod({ name: this.#pod.metadata!.name!, namespace: this.#pod.metadata!.namespace!, gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid: this.uid } } })
        .catch((error: unknown) => {
          if (!isNotFound(error)) this.#ctx.log(`pod ${this.name}: delete failed: ${(error as Error).message}`);
        });
    }
    this.#ctx.log(`pod ${this.name}: stopped`);
  }
}
