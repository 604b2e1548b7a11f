/**
 * A relay as its own process, for namespaces where no other process of ours runs (Node cannot setns, so the
 * supervisor starts this under `nsenter --net=…`):
 *   node relay-main.ts door SOCKET ALLOWED_CIDR          the bastion's door (serveDoor)
 *   node relay-main.ts tcp-to-unix HOST PORT SOCKET      serveTcpToUnix
 * It exits on SIGTERM/SIGINT, removing its socket file.
 */
import { rmSync } from 'node:fs';

import { serveDoor, serveTcpToUnix } from './relay.ts';

const [mode, ...args] = process.argv.slice(2);

const usage = 'usage: relay-main.ts door SOCKET ALLOWED_CIDR | tcp-to-unix HOST PORT SOCKET';

const start = async (): Promise<() => void> => {
  if (mode === 'door' && args.length === 2) {
    const [socketPath = '', cidr = ''] = args;
    const server = await serveDoor(socketPath, cidr);
    return () => {
      server.close();
      rmSync(socketPath, { force: true });
    };
  }
  if (mode === 'tcp-to-unix' && args.length === 3) {
    const [host = '', port = '', socketPath = ''] = args;
    const server = await serveTcpToUnix(host, Number(port), socketPath);
    return () => server.close();
  }
  throw new Error(`${usage} (got: ${process.argv.slice(2).join(' ')})`);
};

start().then(
  (stop) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.on(signal, () => {
        stop();
        process.exit(0);
      });
    }
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
