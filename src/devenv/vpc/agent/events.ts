/**
 * The kubelet's Events, as the node agent writes them: core/v1 Events (the kubelet's recorder is client-go's
 * tools/record, not events.k8s.io) from source `kubelet` on host <node>, through the shared recorder
 * (src/kube/events.ts): repeats within 10 minutes bump `count` on one Event, each object's writes are held to
 * client-go's spam limits, a failed write is logged and dropped, never thrown or awaited by the agent.
 * Reasons and messages are the kubelet's (pkg/kubelet/events, kuberuntime, prober), so `kubectl describe`
 * reads as on a real node.
 */
import type { KubeConfig, V1ObjectReference, V1Pod } from '@kubernetes/client-node';
import { CLIENT_GO_SPAM_LIMITS } from '../../../kube/event-spam.ts';
import { createEventRecorder, type EventType } from '../../../kube/events.ts';
import type { ProbeKind } from './probe-state.ts';

export const KUBELET_COMPONENT = 'kubelet';

/** pkg/kubelet/events reasons the agent uses. */
export const KubeletReason = {
  created: 'Created',
  started: 'Started',
  failed: 'Failed',
  killing: 'Killing',
  backOff: 'BackOff',
  unhealthy: 'Unhealthy',
  starting: 'Starting',
  nodeReady: 'NodeReady',
} as const;

const capitalized = (kind: ProbeKind) => `${kind[0]!.toUpperCase()}${kind.slice(1)}`;

/** The kubelet's messages, word for word. */
export const kubeletMessage = {
  created: (container: string) => `Created container: ${container}`,
  started: (container: string) => `Started container ${container}`,
  failedToStart: (error: string) => `Error: ${error}`,
  /** prober.recordContainerEvent: every failed attempt, not only past the threshold. */
  probeFailed: (kind: ProbeKind, output: string) => `${capitalized(kind)} probe failed: ${output}`,
  probeErrored: (kind: ProbeKind, output: string) => `${capitalized(kind)} probe errored: ${output}`,
  /** computePodActions: a failed liveness or startup probe kills the container. */
  killedByProbe: (container: string, kind: ProbeKind) => `Container ${container} failed ${kind} probe, will be restarted`,
  stopping: (container: string) => `Stopping container ${container}`,
  /** doBackOff, with format.Pod's `name_namespace(uid)`. */
  backOff: (container: string, pod: V1Pod) => `Back-off restarting failed container ${container} in pod ${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})`,
  startingKubelet: 'Starting kubelet.',
  nodeStatus: (node: string, status: string) => `Node ${node} status is now: ${status}`,
} as const;

/** kubecontainer.GenerateContainerRef: the pod, with the container in fieldPath. */
export const containerRef = (pod: V1Pod, container: string): V1ObjectReference => ({
  kind: 'Pod',
  apiVersion: 'v1',
  namespace: pod.metadata?.namespace,
  name: pod.metadata?.name,
  uid: pod.metadata?.uid,
  resourceVersion: pod.metadata?.resourceVersion,
  fieldPath: `spec.containers{${container}}`,
});

/** The kubelet's nodeRef: UID is the node's name (kubectl describe node looks the events up so). */
export const nodeRef = (node: string): V1ObjectReference => ({ kind: 'Node', name: node, uid: node, namespace: '' });

export interface KubeletEvents {
  container(pod: V1Pod, container: string, type: EventType, reason: string, message: string): void;
  node(type: EventType, reason: string, message: string): void;
  /** Waits for the writes queued so far (shutdown). */
  flush(): Promise<void>;
}

export function createKubeletEvents(kc: KubeConfig, nodeName: string, log: (line: string) => void): KubeletEvents {
  const recorder = createEventRecorder(kc, KUBELET_COMPONENT, (msg) => log(msg), { host: nodeName, spam: CLIENT_GO_SPAM_LIMITS });
  return {
    container: (pod, container, type, reason, message) => recorder.eventOn(containerRef(pod, container), type, reason, message),
    node: (type, reason, message) => recorder.eventOn(nodeRef(nodeName), type, reason, message),
    flush: () => recorder.flush(),
  };
}
