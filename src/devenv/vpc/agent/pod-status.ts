/**
 * The status the agent writes for a pod it runs, from what it knows of the pod's containers, as a kubelet
 * builds it. Pure: conditions keep their lastTransitionTime while their status does not change.
 */
import type { V1Pod, V1PodCondition } from '@kubernetes/client-node';

export type ContainerState =
  | { state: 'waiting'; reason: string; message?: string }
  | { state: 'running'; startedAt: Date }
  | { state: 'terminated'; exitCode: number; reason: string; startedAt: Date; finishedAt: Date };

export interface ContainerView {
  name: string;
  image: string;
  pid: number | undefined;
  current: ContainerState;
  /** The previous run's end, after a restart. */
  last: Extract<ContainerState, { state: 'terminated' }> | undefined;
  restartCount: number;
  /** Startup probe passed (or there is none) while running. */
  started: boolean;
  /** Readiness probe passing (or there is none) while running and started. */
  ready: boolean;
}

export interface PodView {
  podIp: string | undefined;
  hostIp: string;
  /** When the agent took the pod in (status.startTime). */
  startTime: Date;
  /** The pod's namespace and addresses exist (PodReadyToStartContainers). */
  sandboxReady: boolean;
  containers: ContainerView[];
  restartPolicy: string;
}

/** Phase as the kubelet derives it from container states and the restart policy. */
export function podPhase(view: Pick<PodView, 'containers' | 'restartPolicy'>): 'Pending' | 'Running' | 'Succeeded' | 'Failed' {
  const states = view.containers.map((c) => c.current);
  if (states.length === 0) return 'Pending';
  if (states.some((s) => s.state === 'running')) return 'Running';
  if (states.every((s) => s.state === 'terminated')) {
    const failed = states.some((s) => s.state === 'terminated' && s.exitCode !== 0);
    if (view.restartPolicy === 'Always' || (failed && view.restartPolicy === 'OnFailure')) return 'Running';
    return failed ? 'Failed' : 'Succeeded';
  }
  // Some container waits and none runs: before the first start that is Pending, between restarts Running.
  return view.containers.some((c) => c.restartCount > 0 || c.current.state === 'terminated') ? 'Running' : 'Pending';
}

const stateJson = (s: ContainerState) => {
  switch (s.state) {
    case 'waiting':
      return { waiting: { reason: s.reason, ...(s.message ? { message: s.message } : {}) } };
    case 'running':
      return { running: { startedAt: s.startedAt.toISOString() } };
    case 'terminated':
      return { terminated: { exitCode: s.exitCode, reason: s.reason, startedAt: s.startedAt.toISOString(), finishedAt: s.finishedAt.toISOString() } };
  }
};

/** The whole status, as a merge patch (lists replace what was there; PodScheduled is kept from the scheduler). */
export function podStatus(pod: V1Pod, view: PodView, now: Date) {
  const previous = pod.status?.conditions ?? [];
  const condition = (type: string, status: boolean, reason?: string): V1PodCondition => {
    const before = previous.find((c) => c.type === type);
    const text = status ? 'True' : 'False';
    const since = before?.status === text && before.lastTransitionTime ? new Date(before.lastTransitionTime) : now;
    return { type, status: text, lastTransitionTime: since.toISOString() as unknown as Date, ...(reason && !status ? { reason } : {}) };
  };
  const containersReady = view.containers.length > 0 && view.containers.every((c) => c.ready);
  const scheduled = previous.find((c) => c.type === 'PodScheduled') ?? condition('PodScheduled', true);
  const phase = podPhase(view);
  const ips = view.podIp ? { podIP: view.podIp, podIPs: [{ ip: view.podIp }] } : {};
  return {
    status: {
      phase,
      ...ips,
      hostIP: view.hostIp,
      hostIPs: [{ ip: view.hostIp }],
      startTime: view.startTime.toISOString(),
      conditions: [
        condition('PodReadyToStartContainers', view.sandboxReady),
        condition('Initialized', true),
        condition('ContainersReady', containersReady, 'ContainersNotReady'),
        condition('Ready', containersReady && phase === 'Running', 'ContainersNotReady'),
        { ...scheduled, lastTransitionTime: scheduled.lastTransitionTime ? new Date(scheduled.lastTransitionTime).toISOString() : now.toISOString() },
      ],
      containerStatuses: view.containers.map((c) => ({
        name: c.name,
        image: c.image,
        imageID: '',
        ...(c.pid !== undefined && c.current.state === 'running' ? { containerID: `cpl://${c.pid}` } : {}),
        ready: c.ready,
        started: c.started,
        restartCount: c.restartCount,
        state: stateJson(c.current),
        lastState: c.last ? stateJson(c.last) : {},
      })),
    },
  };
}
