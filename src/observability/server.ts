/**
 * The health and metrics endpoint: GET /metrics (Prometheus text), /healthz (liveness) and /readyz
 * (readiness), on plain node:http so the probes work without any framework.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthServerOptions {
  /** `host:port`; `:port` listens on every interface, `[::1]:port` for IPv6; port 0 picks a free one. */
  address: string;
  registry: Registry;
  healthz: () => Promise<boolean> | boolean;
  readyz: () => Promise<{ ready: boolean; reason?: string }>;
}

export interface HealthServer {
  /** `http://host:port` with the port actually bound (a loopback host when listening on every interface). */
  url: string;
  close(): Promise<void>;
}

/** Splits `host:port`; throws an Error naming the value when it is not one. */
export function parseAddress(address: string): { host: string | undefined; port: number } {
  const fail = (why: string): never => {
    throw new Error(`invalid listen address ${JSON.stringify(address)}: ${why} (expected host:port, e.g. 127.0.0.1:10258, :10258 or [::1]:10258)`);
  };
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*)):([^:]*)$/.exec(address);
  if (!match) return fail('not host:port');
  const [, bracketed, plain, portText = ''] = match;
  if (bracketed !== undefined && isIP(bracketed) !== 6) return fail(`${JSON.stringify(bracketed)} is not an IPv6 address`);
  if (!/^\d{1,5}$/.test(portText)) return fail(`port ${JSON.stringify(portText)} is not a number`);
  const port = Number(portText);
  if (port > 65_535) return fail(`port ${port} is out of range`);
  const host = bracketed ?? plain;
  if (host !== undefined && host !== '' && isIP(host) === 0 && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host)) {
    return fail(`${JSON.stringify(host)} is not a host name or IP address`);
  }
  return { host: host || undefined, port };
}

/** A 5 s cap on a probe, so a hung check answers 500/503 instead of hanging the kubelet's probe. */
const CHECK_TIMEOUT_MS = 5_000;

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const { host, port } = parseAddress(options.address);
  const { registry } = options;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path !== '/metrics' && path !== '/healthz' && path !== '/readyz') return send(response, 404, 'not found\n');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      return send(response, 405, 'method not allowed\n');
    }
    if (path === '/metrics') {
      try {
        const body = await registry.metrics();
        return send(response, 200, body, registry.contentType);
      } catch (error) {
        return send(response, 500, `collecting metrics failed: ${message(error)}\n`);
      }
    }
    if (path === '/healthz') {
      const healthy = await withTimeout(async () => options.healthz()).catch(() => false);
      return healthy ? send(response, 200, 'ok\n') : send(response, 500, 'unhealthy\n');
    }
    const readiness = await withTimeout(() => options.readyz()).catch((error: unknown) => ({ ready: false, reason: `readiness check failed: ${message(error)}` }));
    return readiness.ready ? send(response, 200, 'ok\n') : send(response, 503, `not ready${readiness.reason ? `: ${readiness.reason}` : ''}\n`);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, `internal error: ${message(error)}\n`);
      else response.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, ...(host ? { host } : {}) }, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((error: unknown) => {
    throw new Error(`cannot listen on ${options.address}: ${message(error)}`, { cause: error });
  });

  const bound = server.address() as AddressInfo;
  return {
    url: `http://${urlHost(bound)}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // Keep-alive connections of scrapers would otherwise hold close() open; busy ones get a second.
        const force = setTimeout(() => server.closeAllConnections(), 1_000);
        server.close((error) => {
          clearTimeout(force);
          if (error) reject(error);
          else resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

function send(response: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  response.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

function urlHost(bound: AddressInfo): string {
  const address = bound.address === '0.0.0.0' ? '127.0.0.1' : bound.address === '::' ? '::1' : bound.address;
  return bound.family === 'IPv6' || address.includes(':') ? `[${address}]` : address;
}

async function withTimeout<T>(check: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`check timed out after ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));
