/**
 * Listeners served in userspace (ADR 0012, ADR 0015): a server bound to the LB address and port inside the router
 * namespace; each connection goes to a target chosen by flow hash, from the LB address.
 * - PPv2 (`proxy_protocol_v2.enabled=true`): a PPv2 header with the client's address goes first.
 * - TLS listeners: the connection is terminated with the listener's certificate (its default one, or by SNI the
 *   one whose names match among its listed ones), and forwarded in plaintext, or re-encrypted when the target
 *   group is TLS (the target's certificate is not verified, as ELBv2 does not). The PPv2 header, when asked,
 *   precedes the target's TLS handshake.
 * A listener that goes away stops accepting; its open connections run on.
 */
import { X509Certificate } from 'node:crypto';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { connect as tlsConnect, createSecureContext, createServer as createTlsServer, type SecureContext, type TLSSocket } from 'node:tls';

import type { CertificateMaterial, CertificateStore } from './certificates.ts';
import type { Endpoint, ForwardedListener } from './model.ts';
import { flowSlot, proxyProtocolV2Header } from './proxy-protocol.ts';

interface Certificate {
  arn: string;
  material: CertificateMaterial;
  context: SecureContext;
  x509: X509Certificate;
}

interface Served {
  server: Server;
  listener: ForwardedListener;
  /** What the server was made for: a listener whose kind changes gets a new server. */
  kind: string;
  /** A TLS listener's certificates, the default one first. */
  certificates: Certificate[];
}

const keyOf = (listener: Pick<ForwardedListener, 'address' | 'port'>): string => `${listener.address}:${listener.port}`;
const kindOf = (listener: ForwardedListener): string => (listener.tls ? `tls ${JSON.stringify(listener.tls.policy ?? {})} ${listener.tls.alpnProtocols.join(',')}`.trimEnd() : 'tcp');

const pipeBoth = (a: Socket, b: Socket, idleMs: number): void => {
  a.pipe(b);
  b.pipe(a);
  const closeBoth = (): void => {
    a.destroy();
    b.destroy();
  };
  // The listener's idle timeout: after it, the NLB forgets the flow (late data would be reset).
  a.setTimeout(idleMs, closeBoth);
  a.on('error', closeBoth).on('close', closeBoth);
  b.on('error', closeBoth).on('close', closeBoth);
};

/** The certificate for an SNI name: the first listed one valid for it, else the default (ELBv2's choice, simplified). */
const certificateFor = (certificates: readonly Certificate[], servername: string): Certificate | undefined =>
  certificates.find((c) => c.x509.checkHost(servername) !== undefined) ?? certificates[0];

export function startProxies(log: (line: string) => void, store: CertificateStore) {
  const served = new Map<string, Served>();

  const handle = (entry: Served) => (client: Socket) => {
    const { listener } = entry;
    const targets: readonly Endpoint[] = entry.listener.targets;
    if (targets.length === 0 || !client.remoteAddress || !client.remotePort) {
      client.destroy();
      return;
    }
    const target = targets[flowSlot({ address: client.remoteAddress, port: client.remotePort }, listener, targets.length)]!;
    client.pause();
    const upstream = connect({ host: target.address, port: target.port, localAddress: listener.address });
    upstream.once('connect', () => {
      if (listener.proxyProtocolV2) {
        upstream.write(proxyProtocolV2Header({ address: client.remoteAddress!, port: client.remotePort! }, { address: listener.address, port: listener.port }));
      }
      const negotiated = (client as TLSSocket).alpnProtocol;
      const toTarget = listener.tls?.backendTls
        ? tlsConnect({ socket: upstream, rejectUnauthorized: false, ...(negotiated ? { ALPNProtocols: [negotiated] } : {}) })
        : upstream;
      pipeBoth(client, toTarget, listener.idleTimeoutSeconds * 1000);
      client.resume();
    });
    upstream.once('error', () => client.destroy());
  };

  /** The listener's certificates as secure contexts; undefined when its default one cannot be read. */
  const loadCertificates = async (listener: ForwardedListener): Promise<Certificate[] | undefined> => {
    const certificates: Certificate[] = [];
    for (const arn of listener.tls?.certificateArns ?? []) {
      const material = await store.get(arn);
      if (material) certificates.push({ arn, material, context: createSecureContext({ ...material, ...listener.tls?.policy }), x509: new X509Certificate(material.cert) });
      else if (certificates.length === 0) return undefined;
    }
    return certificates.length > 0 ? certificates : undefined;
  };

  const newServer = (entry: Served): Server => {
    const tls = entry.listener.tls;
    if (!tls) return createServer().on('connection', handle(entry));
    const alpn = tls.alpnProtocols.length > 0 ? { ALPNProtocols: tls.alpnProtocols } : {};
    // The default certificate answers clients that send no SNI name; SNICallback reads the listener's current list.
    const server = createTlsServer({
      ...entry.certificates[0]!.material,
      ...alpn,
      // The listener's security policy: its versions and ciphers, as ELBv2 describes it (DescribeSSLPolicies).
      ...tls.policy,
      SNICallback: (servername, done) => done(null, certificateFor(entry.certificates, servername)?.context),
    });
    return server.on('secureConnection', handle(entry)).on('tlsClientError', () => undefined);
  };

  return {
    /** Serves exactly these listeners (TCP ones; UDP is not proxied here). */
    async update(listeners: readonly ForwardedListener[]): Promise<void> {
      const wanted = new Map(listeners.filter((l) => l.protocol === 'tcp').map((listener) => [keyOf(listener), listener]));
      for (const [key, entry] of served) {
        const next = wanted.get(key);
        if (next && kindOf(next) === entry.kind) continue;
        entry.server.close();
        served.delete(key);
        log(`userspace listener ${key}: stopped`);
      }
      for (const [key, listener] of wanted) {
        const certificates = listener.tls ? await loadCertificates(listener) : [];
        if (!certificates) {
          log(`userspace listener ${key}: no certificate to serve TLS with yet (${listener.tls!.certificateArns.join(', ') || 'none listed'})`);
          continue;
        }
        const existing = served.get(key);
        if (existing) {
          existing.listener = listener;
          if (listener.tls && existing.certificates[0]?.arn !== certificates[0]?.arn) {
            (existing.server as ReturnType<typeof createTlsServer>).setSecureContext(certificates[0]!.material);
          }
          existing.certificates = certificates;
          continue;
        }
        const entry: Served = { server: createServer(), listener, kind: kindOf(listener), certificates };
        entry.server = newServer(entry);
        await new Promise<void>((resolve) => {
          entry.server.once('error', (error) => {
            log(`userspace listener ${key}: ${error.message}`);
            resolve();
          });
          entry.server.listen(listener.port, listener.address, () => {
            served.set(key, entry);
            log(`userspace listener ${key}: serving ${entry.kind}${listener.proxyProtocolV2 ? ' with PPv2' : ''}`);
            resolve();
          });
        });
      }
    },
    async stop(): Promise<void> {
      for (const entry of served.values()) entry.server.close();
      served.clear();
    },
  };
}
