import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observability/metrics.ts';
import { parseAddress, startHealthServer, type HealthServer } from '../../src/observability/server.ts';

describe('parseAddress', () => {
  it.each([
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    [':10258', { host: undefined, port: 10258 }],
    ['0.0.0.0:8080', { host: '0.0.0.0', port: 8080 }],
    ['[::1]:9090', { host: '::1', port: 9090 }],
    ['localhost:65535', { host: 'localhost', port: 65535 }],
  ])('parses %s', (address, expected) => {
    expect(parseAddress(address)).toEqual(expected);
  });

  it.each(['', '8080', '127.0.0.1', '127.0.0.1:', '127.0.0.1:http', '127.0.0.1:65536', '::1:80', '[nope]:80', 'bad_host:80', 'a:b:c'])(
    'rejects %j naming the value',
    (address) => {
      expect(() => parseAddress(address)).toThrow(`invalid listen address ${JSON.stringify(address)}`);
    },
  );
});

describe('startHealthServer', () => {
  let server: HealthServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('serves /metrics, /healthz and /readyz', async () => {
    const metrics = createMetrics();
    metrics.reconcile('service', 5, false);
    let healthy: boolean | Error = true;
    let ready: { ready: boolean; reason?: string } = { ready: false, reason: 'informers not synced' };
    server = await startHealthServer({
      address: '127.0.0.1:0',
      registry: metrics.registry,
      healthz: () => {
        if (healthy instanceof Error) throw healthy;
        return healthy;
      },
      readyz: async () => ready,
    });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.url).not.toMatch(/:0$/);

    const scrape = await fetch(`${server.url}/metrics`);
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toBe(metrics.registry.contentType);
    expect(await scrape.text()).toContain('cloud_provider_localstack_reconcile_total{controller="service",result="success"} 1');

    let response = await fetch(`${server.url}/healthz`);
    expect([response.status, await response.text()]).toEqual([200, 'ok\n']);
    healthy = false;
    response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(500);
    healthy = new Error('boom');
    response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(500);

    response = await fetch(`${server.url}/readyz`);
    expect([response.status, await response.text()]).toEqual([503, 'not ready: informers not synced\n']);
    ready = { ready: true };
    response = await fetch(`${server.url}/readyz?verbose`);
    expect([response.status, await response.text()]).toEqual([200, 'ok\n']);

    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/healthz`, { method: 'POST' })).status).toBe(405);
    const head = await fetch(`${server.url}/readyz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it('answers 503 with the error when the readiness check throws', async () => {
    server = await startHealthServer({
      address: '127.0.0.1:0',
      registry: createMetrics().registry,
      healthz: () => true,
      readyz: () => Promise.reject(new Error('apiserver unreachable')),
    });
    const response = await fetch(`${server.url}/readyz`);
    expect([response.status, await response.text()]).toEqual([503, 'not ready: readiness check failed: apiserver unreachable\n']);
  });

  it('closes even with a keep-alive connection open, and reports a port in use naming the address', async () => {
    const first = await startHealthServer({ address: '127.0.0.1:0', registry: createMetrics().registry, healthz: () => true, readyz: async () => ({ ready: true }) });
    await (await fetch(`${first.url}/healthz`)).text();
    const address = first.url.replace('http://', '');
    await expect(startHealthServer({ address, registry: createMetrics().registry, healthz: () => true, readyz: async () => ({ ready: true }) })).rejects.toThrow(
      `cannot listen on ${address}`,
    );
    await first.close();
  });

  it('throws on a malformed address before listening', async () => {
    await expect(startHealthServer({ address: 'localhost', registry: createMetrics().registry, healthz: () => true, readyz: async () => ({ ready: true }) })).rejects.toThrow(
      'invalid listen address "localhost"',
    );
  });
});
