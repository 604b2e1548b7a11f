import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { assertLoopback, installNetworkGuard } from '../../src/testing/network-guard.ts';

describe('network guard (the test process reaches only loopback from the host namespace)', () => {
  it.each(['127.0.0.1', '127.3.4.5', '::1', 'localhost', undefined])('allows %s', (host) => {
    expect(() => assertLoopback(host, 'x')).not.toThrow();
  });
  it.each(['10.0.64.4', '172.20.0.1', '192.168.1.1', '8.8.8.8', '100.64.0.7'])('refuses %s, naming the rule', (host) => {
    expect(() => assertLoopback(host, 'a TCP connection')).toThrow(/network rule: a TCP connection to .* only 127\.0\.0\.0\/8/);
  });
  it('refuses a TCP connection to a VPC address before any packet is sent', () => {
    installNetworkGuard();
    expect(() => net.connect({ host: '10.0.64.4', port: 10256 })).toThrow(/network rule/);
  });
  it('lets a loopback connection through', async () => {
    installNetworkGuard();
    const server = net.createServer((socket) => socket.end('hi'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => undefined);
      let data = '';
      socket.on('data', (chunk) => (data += chunk.toString())).on('end', () => resolve(data)).on('error', reject);
    });
    server.close();
    expect(reply).toBe('hi');
  });
});
