/**
 * Traffic through a Service's NLB, from inside the local VPC (its bastion), as a client in the VPC would send
 * it: one request, N requests that must reach every target, continuous requests while something happens (a
 * flip, a rollout), and UDP. The NLB's addresses are found as on AWS (its `ELB net/…` network interfaces), so
 * these need the local environment's data plane; the requests go through the VPC's door, never a host route.
 */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadBalancerAddresses, type LoadBalancerAddress } from '../cloud/nlb-addresses.ts';
import { bastionExecArgv, httpGetThroughDoor, type VpcHttpResponse } from '../devenv/vpc/door.ts';
import type { TestEnvironment } from './environment.ts';
import { vpcExec } from './vpc.ts';
import { findLoadBalancerByDnsName } from './loadbalancer.ts';
import { waitFor } from './wait.ts';

export interface ServiceRef {
  namespace: string;
  name: string;
}

export interface ServiceLoadBalancer {
  arn: string;
  dnsName: string;
  addresses: LoadBalancerAddress[];
}

export interface ThroughLoadBalancerOptions {
  /** The listener port (default: the Service's first port). */
  port?: number;
  /** The HTTP path (default `/`). */
  path?: string;
  /** Per request (default 5000 ms). */
  timeoutMs?: number;
}

/** The Service's NLB (by its status hostname) and the NLB's addresses; waits until it has some. */
export async function serviceLoadBalancer(env: TestEnvironment, service: ServiceRef, timeoutMs = 60_000): Promise<ServiceLoadBalancer> {
  return waitFor(
    async () => {
      const svc = await env.core.readNamespacedService(service);
      const dnsName = svc.status?.loadBalancer?.ingress?.[0]?.hostname;
      const lb = dnsName ? await findLoadBalancerByDnsName(env, dnsName) : undefined;
      if (!lb?.LoadBalancerArn || !dnsName) return undefined;
      const addresses = await loadBalancerAddresses(env.aws.ec2, lb.LoadBalancerArn);
      return addresses.length > 0 && { arn: lb.LoadBalancerArn, dnsName, addresses };
    },
    { description: `the NLB of ${service.namespace}/${service.name} to have addresses (is the data plane up?)`, timeoutMs },
  );
}

async function listenerPort(env: TestEnvironment, service: ServiceRef, port: number | undefined): Promise<number> {
  if (port !== undefined) return port;
  const first = (await env.core.readNamespacedService(service)).spec?.ports?.[0]?.port;
  if (first === undefined) throw new Error(`Service ${service.namespace}/${service.name} has no ports`);
  return first;
}

/**
 * The addresses a client in the VPC gets for a name from the VPC's resolver (on the bastion). For an NLB that is
 * its addresses in the zones with a healthy target (DNS failover; all of them when none is healthy), so a client
 * never sends to a zone whose NLB node has nothing to forward to while cross-zone is off, as on AWS.
 */
export async function resolveInVpc(env: TestEnvironment, name: string): Promise<string[]> {
  const answer = await vpcExec(['getent', 'ahostsv4', name], { stateDir: env.stateDir, timeoutMs: 10_000 });
  const addresses = [...new Set(answer.stdout.split('\n').map((line) => line.split(/\s+/)[0] ?? '').filter((a) => a !== ''))];
  if (answer.code !== 0 || addresses.length === 0) throw new Error(`${name} does not resolve in the VPC (getent on the bastion: exit ${answer.code})`);
  return addresses.sort();
}

/** How long a sender keeps what the name resolved to, as a client honours the NLB record's short TTL. */
const RESOLVE_EVERY_MS = 5_000;

/** A sender of HTTP GETs through one NLB by its DNS name: resolved in the VPC, rotating over the answers. */
async function sender(env: TestEnvironment, service: ServiceRef, options: ThroughLoadBalancerOptions) {
  const lb = await serviceLoadBalancer(env, service);
  const port = await listenerPort(env, service, options.port);
  const path = options.path ?? '/';
  let addresses = await resolveInVpc(env, lb.dnsName);
  let resolvedAt = Date.now();
  let next = 0;
  return async (): Promise<VpcHttpResponse> => {
    if (Date.now() - resolvedAt > RESOLVE_EVERY_MS) {
      resolvedAt = Date.now();
      addresses = await resolveInVpc(env, lb.dnsName).catch(() => addresses);
    }
    const address = addresses[next++ % addresses.length]!;
    return httpGetThroughDoor(env.stateDir, `http://${address}:${port}${path}`, options.timeoutMs ?? 5000);
  };
}

/** One HTTP GET through the Service's NLB from the VPC's bastion. */
export async function httpThroughLoadBalancer(env: TestEnvironment, service: ServiceRef, options: ThroughLoadBalancerOptions = {}): Promise<VpcHttpResponse> {
  return (await sender(env, service, options))();
}

/**
 * Sends `requests` GETs (default 100, path `/hostname`) through the NLB and counts the answers' bodies; throws
 * naming what never answered when an `expected` body (e.g. a pod name) got no request, or a request failed.
 * Returns body → count.
 */
export async function expectEveryTargetServes(
  env: TestEnvironment,
  service: ServiceRef,
  expected: readonly string[],
  options: ThroughLoadBalancerOptions & { requests?: number } = {},
): Promise<Map<string, number>> {
  const send = await sender(env, service, { path: '/hostname', ...options });
  const counts = new Map<string, number>();
  const failures: string[] = [];
  for (let i = 0; i < (options.requests ?? 100); i++) {
    try {
      const response = await send();
      if (response.status !== 200) failures.push(`HTTP ${response.status}`);
      else counts.set(response.body.trim(), (counts.get(response.body.trim()) ?? 0) + 1);
    } catch (error) {
      failures.push((error as Error).message);
    }
  }
  const missing = expected.filter((body) => !counts.has(body));
  if (failures.length > 0 || missing.length > 0) {
    const seen = [...counts].map(([body, n]) => `${body}×${n}`).join(', ');
    throw new Error(
      `through the NLB of ${service.namespace}/${service.name}: ${failures.length} failed request(s)${failures.length ? ` (first: ${failures[0]})` : ''}; ` +
        `never answered: ${missing.join(', ') || 'none'}; answers: ${seen || 'none'}`,
    );
  }
  return counts;
}

export interface Availability<T> {
  /** What `during` returned. */
  result: T;
  sent: number;
  failed: number;
  /** The first few failures, for the message of a failing test. */
  failures: string[];
}

/**
 * Sends GETs through the NLB at `requestsPerSecond` (default 20) for as long as `during` runs, each on a new
 * connection (as the flows an NLB balances), and counts the failed ones (an error, a timeout or a status ≥ 500).
 */
export async function measureAvailability<T>(
  env: TestEnvironment,
  service: ServiceRef,
  during: () => Promise<T>,
  options: ThroughLoadBalancerOptions & { requestsPerSecond?: number } = {},
): Promise<Availability<T>> {
  const send = await sender(env, service, options);
  const intervalMs = 1000 / (options.requestsPerSecond ?? 20);
  const outcome = { sent: 0, failed: 0, failures: [] as string[] };
  const inFlight = new Set<Promise<void>>();
  let done = false;
  const fail = (why: string) => {
    outcome.failed++;
    if (outcome.failures.length < 10) outcome.failures.push(why);
  };
  const loop = (async () => {
    for (let at = Date.now(); !done; at += intervalMs) {
      outcome.sent++;
      const request: Promise<void> = send().then(
        (response) => (response.status >= 500 ? fail(`HTTP ${response.status}`) : undefined),
        (error: unknown) => fail((error as Error).message),
      );
      inFlight.add(request);
      void request.finally(() => inFlight.delete(request));
      await sleep(Math.max(0, at + intervalMs - Date.now()));
    }
  })();
  try {
    const result = await during();
    return { result, ...outcome };
  } finally {
    done = true;
    await loop;
    await Promise.all(inFlight);
  }
}

/** Sends one UDP datagram to the Service's NLB from the bastion and returns the first answer (agnhost: `hostname`). */
export async function udpThroughLoadBalancer(env: TestEnvironment, service: ServiceRef, port: number, message: string, timeoutMs = 3000): Promise<string> {
  const lb = await serviceLoadBalancer(env, service);
  const [address] = await resolveInVpc(env, lb.dnsName);
  const script =
    "const s=require('node:dgram').createSocket('udp4');const [a,p,m,t]=process.argv.slice(1);" +
    "const timer=setTimeout(()=>{console.error('no answer');process.exit(2)},Number(t));" +
    "s.on('message',(b)=>{process.stdout.write(b);clearTimeout(timer);s.close()});s.send(m,Number(p),a);";
  const [file, ...args] = bastionExecArgv(env.stateDir, [process.execPath, '-e', script, address!, String(port), message, String(timeoutMs)]);
  return new Promise((resolve, reject) => {
    const child = spawn(file!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`UDP ${message} to the NLB of ${service.namespace}/${service.name} port ${port}: ${stderr.trim() || `exit ${code}`}`)),
    );
  });
}

/**
 * A client in the bastion holding ONE TCP connection to host:port (HTTP keep-alive): each line written to it
 * sends `GET <line>` on that same connection and prints the answer (or `ERR ...` when the connection broke).
 */
export function keptConnection(env: TestEnvironment, host: string, port = 80): { get: (path: string) => Promise<string>; close: () => void } {
  const script = `
    const http = require('node:http');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let socketSeen;
    require('node:readline').createInterface({ input: process.stdin }).on('line', (path) => {
      const req = http.get({ host: process.argv[1], port: Number(process.argv[2]), path, agent, timeout: 5000 }, (res) => {
        let body = ''; res.on('data', (c) => (body += c));
        res.on('end', () => {
          const same = socketSeen === undefined || socketSeen === req.socket;
          socketSeen = req.socket;
          console.log((same ? '' : 'NEWCONN ') + body.trim());
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => console.log('ERR ' + e.message));
    });`;
  const [file, ...args] = bastionExecArgv(env.stateDir, [process.execPath, '-e', script, host, String(port)]);
  const child = spawn(file!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      const waiter = waiters.shift();
      if (waiter) waiter(line);
      else lines.push(line);
    }
  });
  return {
    get: (path) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`kept connection: no answer to ${path}`)), 10_000);
        waiters.push((line) => {
          clearTimeout(timer);
          resolve(line);
        });
        child.stdin.write(`${path}\n`);
      }),
    close: () => child.kill(),
  };
}
