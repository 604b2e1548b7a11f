/**
 * Listeners whose group has `proxy_protocol_v2.enabled=true`, served in userspace (ADR 0012): a TCP server bound
 * to the LB address and port inside the router namespace; each connection goes to a target chosen by flow hash,
 * from the LB address, with a PPv2 header carrying the client's address first. A listener that goes away stops
 * accepting; its open connections run on. (TLS termination, issue 12, takes the same path.)
 */
import { type Server, type Socket, connect, createServer } from 'node:net';

import type { Endpoint, ForwardedListener } from './model.ts';
import { flowSlot, proxyProtocolV2Header } from './proxy-protocol.ts';

interface Served {
  server: Server;
  listener: ForwardedListener;
}

const keyOf = (listener: Pick<ForwardedListener, 'address' | 'port'>): string => `${listener.address}:${listener.port}`;

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

export function startProxies(log: (line: string) => void) {
  const served = new Map<string, Served>();

  const handle = (entry: Served) => (client: Socket) => {
    const { listener } = entry;
    const targets: readonly Endpoint[] = entry.listener.targets;
    if (targets.length === 0 || !client.remoteAddress || !client.remotePort) {
      client.resetAndDestroy();
      return;
    }
    const target = targets[flowSlot({ address: client.remoteAddress, port: client.remotePort }, listener, targets.length)]!;
    client.pause();
    const upstream = connect({ host: target.address, port: target.port, localAddress: listener.address });
    upstream.once('connect', () => {
      upstream.write(proxyProtocolV2Header({ address: client.remoteAddress!, port: client.remotePort! }, { address: listener.address, port: listener.port }));
      pipeBoth(client, upstream, listener.idleTimeoutSeconds * 1000);
      client.resume();
    });
    upstream.once('error', () => client.resetAndDestroy());
  };

  return {
    /** Serves exactly these listeners (TCP ones; PPv2 does not apply to UDP here). */
    async update(listeners: readonly ForwardedListener[]): Promise<void> {
      const wanted = new Map(listeners.filter((l) => l.protocol === 'tcp').map((listener) => [keyOf(listener), listener]));
      for (const [key, entry] of served) {
        if (wanted.has(key)) continue;
        entry.server.close();
        served.delete(key);
        log(`ppv2 proxy ${key}: stopped`);
      }
      for (const [key, listener] of wanted) {
        const existing = served.get(key);
        if (existing) {
          existing.listener = listener;
          continue;
        }
        const entry: Served = { server: createServer(), listener };
        entry.server.on('connection', handle(entry));
        await new Promise<void>((resolve) => {
          entry.server.once('error', (error) => {
            log(`ppv2 proxy ${key}: ${error.message}`);
            resolve();
          });
          entry.server.listen(listener.port, listener.address, () => {
            served.set(key, entry);
            log(`ppv2 proxy ${key}: serving`);
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
