/**
 * The workplace's network rule, enforced in the test process: from the host's own namespace, traffic goes only
 * to loopback (or Unix sockets). VPC addresses (10.0.0.0/16) and every other private or public address are
 * reachable only from inside the namespaces the environment made (the bastion's door, `vpc exec`), so a helper
 * that dials one directly by mistake fails here at once with a message saying why, instead of sending a packet
 * off the machine. Our integration suite installs it (test/support/guard-network.ts, vitest setupFiles) and so
 * do the benchmarks; users' suites can too (`installNetworkGuard` from the testing entry point).
 */
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import net from 'node:net';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+|localhost)$/i;

export function assertLoopback(host: string | undefined, what: string): void {
  if (host === undefined || host === '' || LOOPBACK.test(host)) return;
  throw new Error(
    `network rule: ${what} to ${host} from the host's namespace; only 127.0.0.0/8 is reachable here. ` +
      `Reach VPC addresses through the bastion (testing's httpGetInVpc, forwardToVpc, vpcExec).`,
  );
}

type ConnectArgs = [unknown, ...unknown[]];

/** host of net.Socket#connect's arguments: (options), (port, host), (path) — undefined for Unix sockets. */
function hostOf(args: ConnectArgs): string | undefined {
  const [first, second] = args;
  if (Array.isArray(first)) return hostOf(first as ConnectArgs);
  if (typeof first === 'object' && first !== null) {
    const options = first as { host?: string; path?: string; port?: number };
    if (options.path !== undefined && options.port === undefined) return undefined;
    return options.host ?? 'localhost';
  }
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) return typeof second === 'string' ? second : 'localhost';
  return undefined; // a path: a Unix socket
}

export function installNetworkGuard(): void {
  const marker = Symbol.for('cpl.networkGuard');
  const socketProto = net.Socket.prototype as unknown as Record<symbol, boolean> & { connect: (...args: ConnectArgs) => net.Socket };
  if (socketProto[marker]) return;
  socketProto[marker] = true;
  const connect = socketProto.connect;
  socketProto.connect = function guardedConnect(this: net.Socket, ...args: ConnectArgs) {
    const host = hostOf(args);
    if (host !== undefined && isIP(host)) assertLoopback(host, 'a TCP connection');
    // A name is resolved first: refuse what it resolves to before the connection is attempted.
    if (host !== undefined && !isIP(host)) {
      this.once('lookup', (error: Error | null, address: string) => {
        if (error) return;
        try {
          assertLoopback(address, `a TCP connection (${host})`);
        } catch (refused) {
          this.destroy(refused as Error);
        }
      });
    }
    return connect.apply(this, args);
  };
  const udpProto = dgram.Socket.prototype as unknown as { send: (...args: unknown[]) => void };
  const send = udpProto.send;
  udpProto.send = function guardedSend(this: dgram.Socket, ...args: unknown[]) {
    const address = args.find((arg, i) => i > 0 && typeof arg === 'string' && isIP(arg) !== 0) as string | undefined;
    if (address !== undefined) assertLoopback(address, 'a UDP datagram');
    return send.apply(this, args);
  };
}

