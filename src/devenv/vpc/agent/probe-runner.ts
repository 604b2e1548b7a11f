/**
 * Runs one probe attempt against a container, from the node's namespace (where the agent runs) as a kubelet
 * probes from the host: httpGet and tcpSocket dial the pod's address; exec runs the command inside the
 * container's network and UTS namespaces. Resolves true (passed) or false, never rejects.
 */
import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { V1Container, V1Probe } from '@kubernetes/client-node';
import { execProbeProgram, type Binaries } from './container-command.ts';

export interface ProbeTarget {
  podIp: string;
  container: V1Container;
  /** The container's process: exec probes enter its namespaces. */
  pid: number | undefined;
  binaries: Binaries;
}

/** A named port (`http`) is the container's port of that name; a number is itself. */
export function resolvePort(port: number | string | undefined, container: V1Container): number | undefined {
  if (typeof port === 'number') return port;
  if (port === undefined) return undefined;
  if (/^\d+$/.test(port)) return Number(port);
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

export function runProbe(probe: V1Probe, target: ProbeTarget, timeoutMs: number): Promise<boolean> {
  if (probe.httpGet) {
    const { httpGet } = probe;
    const port = resolvePort(httpGet.port as number | string, target.container);
    if (port === undefined) return Promise.resolve(false);
    return new Promise((resolve) => {
      const send = httpGet.scheme === 'HTTPS' ? httpsRequest : httpRequest;
      const headers = Object.fromEntries((httpGet.httpHeaders ?? []).map((h) => [h.name, h.value]));
      const req = send(
        { host: httpGet.host || target.podIp, port, path: httpGet.path || '/', method: 'GET', headers: { 'User-Agent': 'kube-probe/1.36', ...headers }, timeout: timeoutMs, rejectUnauthorized: false, agent: false },
        (response) => {
          response.resume();
          const code = response.statusCode ?? 0;
          resolve(code >= 200 && code < 400);
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(false));
      req.end();
    });
  }
  if (probe.tcpSocket) {
    const port = resolvePort(probe.tcpSocket.port as number | string, target.container);
    if (port === undefined) return Promise.resolve(false);
    return new Promise((resolve) => {
      const socket = connect({ host: probe.tcpSocket!.host || target.podIp, port, timeout: timeoutMs });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(false));
    });
  }
  if (probe.exec?.command?.length) {
    if (target.pid === undefined) return Promise.resolve(false);
    const argv = ['nsenter', `--target=${target.pid}`, '--net', '--uts', '--', ...execProbeProgram(probe.exec.command, target.binaries)];
    return new Promise((resolve) => {
      execFile(argv[0]!, argv.slice(1), { timeout: timeoutMs, killSignal: 'SIGKILL' }, (error) => resolve(!error));
    });
  }
  // gRPC probes are not run: a container with one never becomes ready (docs/pods.md).
  return Promise.resolve(false);
}
