import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Deployment, V1Probe, V1Service, V1ServicePort } from '@kubernetes/client-node';
import { Annotations } from '../core/annotations.ts';
import { uniqueName } from './kube.ts';

/** The Kubernetes e2e image: on networked nodes its pods run the real agnhost (built from the Kubernetes module). */
export const AGNHOST_IMAGE = 'registry.k8s.io/e2e-test-images/agnhost:2.53';

/**
 * NLB health checks every 5 s, healthy or unhealthy after 2: a new target group serves within ~10 s instead of
 * the 30 s or more of the defaults, so a test or the demo need not wait them out.
 */
export const FAST_HEALTH_CHECK_ANNOTATIONS: Readonly<Record<string, string>> = Object.freeze({
  [Annotations.healthCheckInterval]: '5',
  [Annotations.healthCheckTimeout]: '5',
  [Annotations.healthCheckHealthyThreshold]: '2',
  [Annotations.healthCheckUnhealthyThreshold]: '2',
});

/** agnhost netexec answering HTTP on 8080, the probe most callers want: ready once /healthz answers. */
export const AGNHOST_HTTP_READY: V1Probe = { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1 };

export interface AgnhostOptions {
  replicas?: number;
  /** The pods' labels and the Deployment's selector (default `{ app: <name> }`). */
  labels?: Record<string, string>;
  nodeSelector?: Record<string, string>;
  /** Pins every pod to one node (bypasses the scheduler). */
  nodeName?: string;
  /** Also `--udp-port=8081` (port `udp`; agnhost answers a datagram with its hostname). */
  udp?: boolean;
  /** More netexec arguments, e.g. `--tls-cert-file=…`. */
  args?: string[];
  /** Default `AGNHOST_HTTP_READY`; `null` for none. */
  readinessProbe?: V1Probe | null;
  startupProbe?: V1Probe;
  livenessProbe?: V1Probe;
  /** Default 1 s: test pods hold nothing worth draining, and namespaces go faster. */
  terminationGracePeriodSeconds?: number;
}

/**
 * The body of a Deployment of agnhost `netexec` pods (HTTP on 8080 named `http`, `/hostname` answers the pod's
 * name), for `apps.createNamespacedDeployment({ namespace, body })`.
 */
export function agnhostDeployment(name: string, options: AgnhostOptions = {}): V1Deployment {
  const labels = options.labels ?? { app: name };
  const readinessProbe = options.readinessProbe === undefined ? AGNHOST_HTTP_READY : options.readinessProbe;
  return {
    metadata: { name },
    spec: {
      replicas: options.replicas ?? 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          ...(options.nodeSelector ? { nodeSelector: options.nodeSelector } : {}),
          ...(options.nodeName ? { nodeName: options.nodeName } : {}),
          terminationGracePeriodSeconds: options.terminationGracePeriodSeconds ?? 1,
          containers: [
            {
              name: 'agnhost',
              image: AGNHOST_IMAGE,
              args: ['netexec', '--http-port=8080', ...(options.udp ? ['--udp-port=8081'] : []), ...(options.args ?? [])],
              ports: [{ name: 'http', containerPort: 8080 }, ...(options.udp ? [{ name: 'udp', containerPort: 8081, protocol: 'UDP' }] : [])],
              ...(readinessProbe ? { readinessProbe } : {}),
              ...(options.startupProbe ? { startupProbe: options.startupProbe } : {}),
              ...(options.livenessProbe ? { livenessProbe: options.livenessProbe } : {}),
            },
          ],
        },
      },
    },
  };
}

/** Port 80 → the pods' port named `http` (agnhost's 8080), TCP. */
export const HTTP_SERVICE_PORT: V1ServicePort = { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' };

/**
 * The body of a LoadBalancer Service (an NLB through the controller) selecting `selector` (default
 * `{ app: <name> }`) on `ports` (default `HTTP_SERVICE_PORT`); `spec` adds to or overrides the spec.
 */
export function loadBalancerServiceBody(
  name: string,
  options: { annotations?: Record<string, string>; selector?: Record<string, string>; ports?: V1ServicePort[]; spec?: Partial<NonNullable<V1Service['spec']>> } = {},
): V1Service {
  return {
    metadata: { name, ...(options.annotations ? { annotations: { ...options.annotations } } : {}) },
    spec: { type: 'LoadBalancer', selector: options.selector ?? { app: name }, ports: options.ports ?? [HTTP_SERVICE_PORT], ...options.spec },
  };
}

/** Readiness a test turns off and on per pod: `agnhostDeployment(name, { ...readiness.probes })`. */
export interface ReadinessSwitch {
  /** A startup probe (8080 accepts) and a readiness probe failing while the pod is marked unready. */
  probes: { startupProbe: V1Probe; readinessProbe: V1Probe };
  unready(podName: string): void;
  ready(podName: string): void;
  /** Every pod ready again. */
  readyAll(): void;
  /** Deletes the switch's folder (afterAll). */
  remove(): void;
}

/**
 * Pods fail readiness while a file named after them exists in a folder of this host: the probe runs in the
 * pod's UTS namespace (`hostname` is the pod's name) and a pod's process shares the host's files (docs/pods.md).
 * The startup probe holds readiness back until agnhost listens.
 */
export function readinessSwitch(prefix = 'cpl-unready'): ReadinessSwitch {
  const dir = join(tmpdir(), uniqueName(prefix));
  mkdirSync(dir, { recursive: true });
  const remove = () => rmSync(dir, { recursive: true, force: true });
  return {
    probes: {
      startupProbe: { tcpSocket: { port: 'http' }, periodSeconds: 1, failureThreshold: 30 },
      readinessProbe: { exec: { command: ['sh', '-c', `test ! -e ${dir}/$(hostname)`] }, periodSeconds: 1 },
    },
    unready: (podName) => writeFileSync(join(dir, podName), ''),
    ready: (podName) => rmSync(join(dir, podName), { force: true }),
    readyAll: () => {
      remove();
      mkdirSync(dir, { recursive: true });
    },
    remove,
  };
}
