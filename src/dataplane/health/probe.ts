/**
 * One health check against one target: a TCP connect, or an HTTP/HTTPS GET whose status the matcher accepts,
 * from a given source address (the NLB's address in the target's zone, as AWS's nodes check from theirs),
 * within a timeout. Never throws: the result says passed or why not (for logs).
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';

export interface ProbeTarget {
  address: string;
  port: number;
  /** Bound as the check's source address when set. */
  sourceAddress?: string | undefined;
}

export type Probe =
  | { protocol: 'TCP' }
  | { protocol: 'HTTP' | 'HTTPS'; path: string; matches: (status: number) => boolean; host: string };

export interface ProbeResult {
  passed: boolean;
  /** Why it failed (error code, timeout, status), for logs. */
  detail?: string;
}

export function runProbe(probe: Probe, target: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  return probe.protocol === 'TCP' ? tcpConnect(target, timeoutMs) : httpGet(probe, target, timeoutMs);
}

function tcpConnect(target: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host: target.address, port: target.port, ...(target.sourceAddress ? { localAddress: target.sourceAddress } : {}) });
    const finish = (result: ProbeResult): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ passed: false, detail: `timeout after ${timeoutMs} ms` }), timeoutMs);
    socket.once('connect', () => finish({ passed: true }));
    socket.once('error', (error: NodeJS.ErrnoException) => finish({ passed: false, detail: error.code ?? error.message }));
  });
}

function httpGet(probe: Extract<Probe, { protocol: 'HTTP' | 'HTTPS' }>, target: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const send = probe.protocol === 'HTTPS' ? httpsRequest : httpRequest;
    const request = send({
      host: target.address,
      port: target.port,
      path: probe.path,
      method: 'GET',
      headers: { Host: probe.host, 'User-Agent': 'ELB-HealthChecker/2.0', Connection: 'close' },
      agent: false,
      // AWS does not validate the target's certificate.
      rejectUnauthorized: false,
      ...(target.sourceAddress ? { localAddress: target.sourceAddress } : {}),
    });
    let done = false;
    const finish = (result: ProbeResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      request.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ passed: false, detail: `timeout after ${timeoutMs} ms` }), timeoutMs);
    request.once('response', (response) => {
      const status = response.statusCode ?? 0;
      response.resume();
      finish(probe.matches(status) ? { passed: true } : { passed: false, detail: `status ${status}` });
    });
    request.once('error', (error: NodeJS.ErrnoException) => finish({ passed: false, detail: error.code ?? error.message }));
    request.end();
  });
}
