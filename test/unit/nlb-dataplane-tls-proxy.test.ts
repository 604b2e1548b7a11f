import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type ConnectionOptions, type PeerCertificate } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertificateMaterial, CertificateStore } from '../../src/dataplane/certificates.ts';
import type { ForwardedListener } from '../../src/dataplane/model.ts';
import { startProxies } from '../../src/dataplane/proxy.ts';
import { createTestCertificate, type TestCertificate } from '../../src/testing/tls.ts';

// The userspace proxy's TLS listeners (ADR 0015) on loopback: terminated with the listener's certificate (by SNI
// among its listed ones), ALPN by the listener's policy, plaintext or re-encrypted to the target, PPv2 first.

const material = (c: TestCertificate): CertificateMaterial => ({ cert: c.certificatePem + c.caPem, key: c.privateKeyPem });
const PPV2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

describe('TLS listeners in the userspace proxy', () => {
  let a: TestCertificate;
  let b: TestCertificate;
  let backendCert: TestCertificate;
  const servers: Server[] = [];
  /** What each target received on its last connection (plaintext, after TLS for the TLS target). */
  const received: Record<string, Buffer> = {};
  let plainPort = 0;
  let tlsPort = 0;
  const proxies = startProxies(() => undefined, {
    get: async (arn: string) => ({ 'cert-a': material(a), 'cert-b': material(b) })[arn],
  } as CertificateStore);

  const listen = async (server: Server): Promise<number> => {
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as AddressInfo).port;
  };
  const collect = (name: string) => (socket: import('node:net').Socket) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received[name] = Buffer.concat(chunks);
      if (received[name]!.includes('ping')) socket.end(`pong from ${name}`);
    });
  };

  beforeAll(async () => {
    a = createTestCertificate('us-east-1', ['a.example']);
    b = createTestCertificate('us-east-1', ['b.example']);
    backendCert = createTestCertificate('us-east-1', ['backend.internal']);
    plainPort = await listen(createServer(collect('plain')));
    tlsPort = await listen(createTlsServer({ key: backendCert.privateKeyPem, cert: backendCert.certificatePem }, collect('tls')));
  });

  afterAll(async () => {
    await proxies.stop();
    for (const server of servers) server.close();
  });

  const listener = (port: number, overrides: Partial<ForwardedListener>): ForwardedListener => ({
    loadBalancerArn: 'lb-1',
    listenerArn: `l-${port}`,
    targetGroupArn: 'tg-1',
    address: '127.0.0.1',
    zone: 'us-east-1a',
    port,
    protocol: 'tcp',
    targets: [{ address: '127.0.0.1', port: plainPort }],
    preserveClientIp: false,
    proxyProtocolV2: false,
    idleTimeoutSeconds: 350,
    tls: { certificateArns: ['cert-a', 'cert-b'], backendTls: false, alpnProtocols: [] },
    ...overrides,
  });

  /** A free loopback port for a listener (the proxy binds it). */
  const freePort = async (): Promise<number> => {
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as AddressInfo;
    probe.close();
    return port;
  };

  /** Connects with TLS, trusting `ca`, sends `ping`, and returns the answer, the certificate and the ALPN protocol. */
  const ping = async (port: number, ca: string, servername?: string, alpn?: string[]) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, ...(servername ? { servername } : { checkServerIdentity: () => undefined }), ...(alpn ? { ALPNProtocols: alpn } : {}) });
    await once(socket, 'secureConnect');
    const certificate: PeerCertificate = socket.getPeerCertificate();
    const protocol = socket.alpnProtocol;
    socket.write('ping');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    await once(socket, 'end');
    socket.destroy();
    return { answer, subject: certificate.subject.CN, protocol };
  };

  it('terminates with the default certificate, or by SNI the listed one for the name; plaintext to the target', async () => {
    const port = await freePort();
    await proxies.update([listener(port, {})]);
    expect(await ping(port, a.caPem)).toMatchObject({ answer: 'pong from plain', subject: 'a.example' });
    expect(await ping(port, b.caPem, 'b.example')).toMatchObject({ answer: 'pong from plain', subject: 'b.example' });
    expect(received.plain!.toString()).toBe('ping');
  });

  it('ALPN: the listener policy\'s protocols in its order of preference', async () => {
    const port = await freePort();
    await proxies.update([listener(port, { tls: { certificateArns: ['cert-a'], backendTls: false, alpnProtocols: ['h2', 'http/1.1'] } })]);
    expect((await ping(port, a.caPem, 'a.example', ['http/1.1', 'h2'])).protocol).toBe('h2');
  });

  it('a TLS 1.3-only policy refuses a TLS 1.2 client', async () => {
    const port = await freePort();
    const policy = { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384' } as const;
    await proxies.update([listener(port, { tls: { certificateArns: ['cert-a'], backendTls: false, alpnProtocols: [], policy } })]);
    const old = tlsConnect({ host: '127.0.0.1', port, ca: a.caPem, servername: 'a.example', maxVersion: 'TLSv1.2' });
    const [error] = (await once(old, 'error')) as [Error];
    expect(error.message).toMatch(/version|alert/i);
    expect((await ping(port, a.caPem, 'a.example')).answer).toBe('pong from plain');
  });

  it('a TLS 1.2-only policy (ELBSecurityPolicy-FS-1-2-Res-2020-10) refuses TLS 1.3 and a cipher it does not list', async () => {
    const port = await freePort();
    const ciphers = 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384';
    await proxies.update([listener(port, { tls: { certificateArns: ['cert-a'], backendTls: false, alpnProtocols: [], policy: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers } } })]);
    const refused = async (options: ConnectionOptions) => {
      const client = tlsConnect({ host: '127.0.0.1', port, ca: a.caPem, servername: 'a.example', ...options });
      const [error] = (await once(client, 'error')) as [Error];
      return error.message;
    };
    expect(await refused({ minVersion: 'TLSv1.3' })).toMatch(/version|alert/i);
    expect(await refused({ maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA256' })).toMatch(/handshake|alert|cipher/i);
    expect(await ping(port, a.caPem, 'a.example')).toMatchObject({ answer: 'pong from plain' });
  });

  it('a TLS target group: re-encrypted to the target without verifying it, the PPv2 header before its handshake', async () => {
    const port = await freePort();
    await proxies.update([listener(port, { targets: [{ address: '127.0.0.1', port: tlsPort }], tls: { certificateArns: ['cert-a'], backendTls: true, alpnProtocols: [] } })]);
    expect((await ping(port, a.caPem, 'a.example')).answer).toBe('pong from tls');
    expect(received.tls!.toString()).toBe('ping');

    const withHeader = await freePort();
    const raw: Buffer[] = [];
    const rawPort = await listen(createServer((socket) => socket.on('data', (chunk: Buffer) => raw.push(chunk)).once('data', () => socket.destroy())));
    await proxies.update([listener(withHeader, { proxyProtocolV2: true, targets: [{ address: '127.0.0.1', port: rawPort }], tls: { certificateArns: ['cert-a'], backendTls: true, alpnProtocols: [] } })]);
    const client = tlsConnect({ host: '127.0.0.1', port: withHeader, ca: a.caPem, servername: 'a.example' });
    client.on('error', () => undefined);
    await once(client, 'secureConnect');
    await waitUntil(() => raw.length > 0);
    client.destroy();
    const first = Buffer.concat(raw);
    expect(first.subarray(0, 12)).toEqual(PPV2_SIGNATURE);
    // After the 28-byte header comes the target-side ClientHello (a TLS handshake record, 0x16).
    expect(first[28]).toBe(0x16);
  });
});

async function waitUntil(done: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
