/**
 * The door into the local VPC for people and tests (ADR 0011), on top of the bastion's door socket:
 * - forwardThroughDoor: a TCP listener on 127.0.0.1 of the host whose connections are carried to an address
 *   inside the VPC (`cloud-provider-localstack forward`, testing's forwardToVpc);
 * - httpGetThroughDoor: one HTTP GET to a VPC address (testing's httpGetInVpc);
 * - bastionExecArgv: a command run in the bastion's namespace (`vpc exec`, testing's vpcExec). `ip netns exec`
 *   bind-mounts /etc/netns/<bastion>/resolv.conf, so the command uses the VPC's resolver.
 * All take the environment's state folder, so a test can point them at an environment of its own.
 */
import { request } from 'node:http';
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

import { bastionNs, envIdOf, netnsPath, vpcStatePaths } from './names.ts';
import { dialThroughDoor, parseTarget } from './relay.ts';

export interface Forward {
  /** The local port on 127.0.0.1. */
  port: number;
  close(): Promise<void>;
}

const doorOf = (stateRoot: string): string => vpcStatePaths(resolve(stateRoot)).doorSocket;

const requireVpc = (stateRoot: string): void => {
  const bastion = bastionNs(envIdOf(resolve(stateRoot)));
  if (!existsSync(netnsPath(bastion)) || !existsSync(doorOf(stateRoot))) {
    throw new Error(`the local VPC of ${resolve(stateRoot)} is not up (no namespace ${bastion} or door ${doorOf(stateRoot)}): run 'npm run up'`);
  }
};

/** Listens on 127.0.0.1:localPort (0: a free port) and carries each connection to address:port in the VPC. */
export async function forwardThroughDoor(
  stateRoot: string,
  target: string,
  localPort = 0,
  onError: (error: Error) => void = () => undefined,
): Promise<Forward> {
  const { address, port } = parseTarget(target);
  if (!Number.isInteger(localPort) || localPort < 0 || localPort > 65535) {
    throw new Error(`LOCAL_PORT ${JSON.stringify(localPort)} is not a TCP port (0-65535; 0 picks a free one)`);
  }
  requireVpc(stateRoot);
  const door = doorOf(stateRoot);
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    client.pause();
    dialThroughDoor(door, address, port).then(
      (upstream) => {
        sockets.add(upstream);
        upstream.once('close', () => sockets.delete(upstream));
        client.pipe(upstream).pipe(client);
        const closeBoth = (): void => {
          client.destroy();
          upstream.destroy();
        };
        client.on('error', closeBoth).on('close', closeBoth);
        upstream.on('error', closeBoth).on('close', closeBoth);
        client.resume();
      },
      (error: unknown) => {
        onError(error as Error);
        client.destroy();
      },
    );
  });
  await new Promise<void>((done, fail) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      fail(error.code === 'EADDRINUSE' ? new Error(`LOCAL_PORT ${localPort} is already in use on 127.0.0.1; choose another or omit it`) : error),
    );
    server.listen(localPort, '127.0.0.1', done);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((done) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => done());
      }),
  };
}

export interface VpcHttpResponse {
  status: number;
  body: string;
}

/** GET http://ADDRESS:PORT/PATH inside the VPC, through the door. */
export async function httpGetThroughDoor(stateRoot: string, url: string, timeoutMs = 5000): Promise<VpcHttpResponse> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:') throw new Error(`${url}: only http:// URLs are supported`);
  const target = parseTarget(`${parsed.hostname}:${parsed.port || '80'}`);
  requireVpc(stateRoot);
  const socket = await dialThroughDoor(doorOf(stateRoot), target.address, target.port);
  return new Promise((done, fail) => {
    // The request must go only over the door's socket. No `agent` option: with one (even `agent: false`) Node
    // ignores createConnection and dials host:port itself, from the host's namespace; and host:port name the
    // host's own loopback (the discard port), never the VPC address, so that mistake could not leave the host.
    const options = {
      createConnection: () => socket,
      host: '127.0.0.1',
      port: 9,
      path: `${parsed.pathname}${parsed.search}`,
      setHost: false,
      headers: { host: parsed.host },
      timeout: timeoutMs,
    };
    const req = request(options, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => done({ status: response.statusCode ?? 0, body }));
      response.on('error', fail);
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', fail);
    req.end();
  });
}

/** The argv that runs `command` in the bastion's namespace. */
export function bastionExecArgv(stateRoot: string, command: readonly string[]): string[] {
  if (command.length === 0) throw new Error('vpc exec: no command given (usage: vpc exec -- CMD [ARGS...])');
  requireVpc(stateRoot);
  return ['ip', 'netns', 'exec', bastionNs(envIdOf(resolve(stateRoot))), ...command];
}
