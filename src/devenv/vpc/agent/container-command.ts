/**
 * Which process runs for a container (docs/pods.md), as an argv, without I/O: the real agnhost for the
 * Kubernetes e2e image, the stand-in podserver for any other image; wrapped so it runs in the pod's network
 * namespace with a UTS namespace of its own whose hostname is the pod's.
 */
import type { V1Container, V1EnvVar, V1Pod } from '@kubernetes/client-node';
import { netnsPath } from '../names.ts';

export interface Binaries {
  agnhost: string;
  podserver: string;
}

const AGNHOST_IMAGE = /^registry\.k8s\.io\/e2e-test-images\/agnhost(?::[^/@]+)?(?:@sha256:[0-9a-f]+)?$/;

export const isAgnhostImage = (image: string | undefined): boolean => AGNHOST_IMAGE.test(image ?? '');

/** `/agnhost` (the image's entrypoint) as the first word of a command means our agnhost binary. */
const resolveAgnhost = (argv: readonly string[], binaries: Binaries): string[] =>
  argv[0] === '/agnhost' || argv[0] === 'agnhost' ? [binaries.agnhost, ...argv.slice(1)] : [...argv];

/** The program and its arguments for a container, before the namespace wrapper. */
export function containerProgram(pod: V1Pod, container: V1Container, binaries: Binaries): string[] {
  if (isAgnhostImage(container.image)) {
    const command = container.command?.length ? container.command : ['/agnhost'];
    return resolveAgnhost([...command, ...(container.args ?? [])], binaries);
  }
  const ports = (container.ports ?? []).map((port) => `${(port.protocol ?? 'TCP').toLowerCase()}:${port.containerPort}`);
  return [binaries.podserver, pod.metadata?.name ?? 'pod', ...ports.filter((spec) => !spec.startsWith('sctp:'))];
}

/** An exec probe's command, with `/agnhost` resolved as for containers. */
export const execProbeProgram = (command: readonly string[], binaries: Binaries): string[] => resolveAgnhost(command, binaries);

/** Kubernetes' pod hostname: the name, cut to 63 characters without a trailing dash or dot. */
export const podHostname = (pod: V1Pod): string => (pod.spec?.hostname ?? pod.metadata?.name ?? 'pod').slice(0, 63).replace(/[-.]+$/, '');

/**
 * The full argv: into the pod's network namespace (nsenter, which execs), a new UTS namespace (unshare, which
 * execs), set the hostname, exec the program. So the spawned pid is the program's own pid.
 */
export function wrapInPodNamespace(podNetns: string | undefined, hostname: string, program: readonly string[]): string[] {
  const uts = ['unshare', '--uts', '--', 'sh', '-c', 'hostname "$0" && exec "$@"', hostname, ...program];
  return podNetns ? ['nsenter', `--net=${netnsPath(podNetns)}`, '--', ...uts] : uts;
}

/** The fields of a pod a container's env may refer to (downward API `fieldRef`s a kubelet resolves). */
const fieldValue = (pod: V1Pod, fieldPath: string): string | undefined => {
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata?.name;
    case 'metadata.namespace':
      return pod.metadata?.namespace;
    case 'metadata.uid':
      return pod.metadata?.uid;
    case 'spec.nodeName':
      return pod.spec?.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName;
    case 'status.podIP':
      return pod.status?.podIP;
    case 'status.hostIP':
      return pod.status?.hostIP;
    default:
      return undefined;
  }
};

/** The container's environment: literal values and the fieldRefs above (Secrets and ConfigMaps are not read). */
export function containerEnv(pod: V1Pod, container: V1Container, base: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { ...base, HOSTNAME: podHostname(pod) };
  for (const variable of container.env ?? ([] as V1EnvVar[])) {
    const value = variable.value ?? (variable.valueFrom?.fieldRef ? fieldValue(pod, variable.valueFrom.fieldRef.fieldPath) : undefined);
    if (value !== undefined) env[variable.name] = value;
  }
  return env;
}
