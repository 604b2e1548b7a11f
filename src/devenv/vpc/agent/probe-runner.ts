/**
 * Runs one probe attempt against a container, from the node's namespace (where the agent runs) as a kubelet
 * probes from the host: httpGet and tcpSocket dial the pod's address; exec runs the command inside the
 * container's network and UTS namespaces. Resolves with whether it passed and the kubelet's text for it, never
 * rejects.
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

/** One attempt's outcome, with the text the kubelet puts in its Unhealthy event ("<Kind> probe failed: <output>"). */
export interface ProbeOutcome {
  passed: boolean;
  output: string;
  /** The probe could not be run at all (kubelet: "<Kind> probe errored: <output>"). */
  errored?: boolean;
}

/** Go's net error text for a failed dial, which the kubelet's probes report (`dial tcp 10.0.0.5:8080: connect: connection refused`). */
export function dialError(host: string, port: number, error: { code?: string; message: string } | 'timeout'): string {
  const what = error === 'timeout' ? 'i/o timeout' : ({ ECONNREFUSED: 'connect: connection refused', EHOSTUNREACH: 'connect: no route to host', ENETUNREACH: 'connect: network is unreachable', ECONNRESET: 'read: connection reset by peer' }[error.code ?? ''] ?? error.message);
  return `dial tcp ${host}:${port}: ${what}`;
}

const failed = (output: string): ProbeOutcome => ({ passed: false, output });
const errored = (output: string): ProbeOutcome => ({ passed: false, output, errored: true });

export function runProbe(probe: V1Probe, target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  if (probe.httpGet) {
    const { httpGet } = probe;
    const port = resolvePort(httpGet.port as number | string, target.container);
    if (port === undefined) return Promise.resolve(errored(`port ${String(httpGet.port)} not found`));
    const host = httpGet.host || target.podIp;
    const path = httpGet.path || '/';
    const url = `${httpGet.scheme === 'HTTPS' ? 'https' : 'http'}://${host}:${port}${path.startsWith('/') ? '' : '/'}${path}`;
    return new Promise((resolve) => {
      const send = httpGet.scheme === 'HTTPS' ? httpsRequest : httpRequest;
      const headers = Object.fromEntries((httpGet.httpHeaders ?? []).map((h) => [h.name, h.value]));
      let timedOut = false;
      const req = send(
        { host, port, path, method: 'GET', headers: { 'User-Agent': 'kube-probe/1.36', ...headers }, timeout: timeoutMs, rejectUnauthorized: false, agent: false },
        (response) => {
          response.resume();
          const code = response.statusCode ?? 0;
          resolve(code >= 200 && code < 400 ? { passed: true, output: '' } : failed(`HTTP probe failed with statuscode: ${code}`));
        },
      );
      req.on('timeout', () => {
        timedOut = true;
        req.destroy(new Error('timeout'));
      });
      // Go's http.Client error, as the kubelet reports it.
      req.on('error', (error: NodeJS.ErrnoException) =>
        resolve(failed(`Get "${url}": ${timedOut ? 'context deadline exceeded (Client.Timeout exceeded while awaiting headers)' : error.code ? dialError(host, port, error) : error.message}`)),
      );
      req.end();
    });
  }
  if (probe.tcpSocket) {
    const port = resolvePort(probe.tcpSocket.port as number | string, target.container);
    if (port === undefined) return Promise.resolve(errored(`port ${String(probe.tcpSocket.port)} not found`));
    const host = probe.tcpSocket.host || target.podIp;
    return new Promise((resolve) => {
      const socket = connect({ host, port, timeout: timeoutMs });
      socket.once('connect', () => {
        socket.destroy();
        resolve({ passed: true, output: '' });
      });
      socket.once('timeout', () => {
        socket.destroy();
        resolve(failed(dialError(host, port, 'timeout')));
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(failed(dialError(host, port, error))));
    });
  }
  if (probe.exec?.command?.length) {
    if (target.pid === undefined) return Promise.resolve(errored('container is not running'));
    const command = probe.exec.command;
    const argv = ['nsenter', `--target=${target.pid}`, '--net', '--uts', '--', ...execProbeProgram(command, target.binaries)];
    return new Promise((resolve) => {
      execFile(argv[0]!, argv.slice(1), { timeout: timeoutMs, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
        // The kubelet reports the command's combined output, or that it timed out.
        if (error?.killed) resolve(failed(`command "${command.join(' ')}" timed out`));
        else resolve({ passed: !error, output: `${stdout}${stderr}` });
      });
    });
  }
  // gRPC probes are not run: a container with one never becomes ready (docs/pods.md).
  return Promise.resolve(errored('gRPC probes are not supported by this node agent'));
}
