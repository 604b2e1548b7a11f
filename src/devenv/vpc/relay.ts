/**
 * Byte pipes across the boundary between the host's network namespace and the VPC's (ADR 0011). The two share
 * the file system, so a Unix socket crosses where no route does: nothing is ever routed between them.
 *
 * - serveUnixToTcp (host ns): a socket file whose connections go to a host TCP port (kube-apiserver).
 * - serveTcpToUnix (inside a namespace): a TCP listener whose connections go to such a socket file, so processes
 *   in the VPC reach the apiserver at its ordinary https://127.0.0.1:<port>.
 * - serveDoor (bastion ns) / dialThroughDoor (host ns): the client writes `<address>:<port>\n`; the door dials it
 *   from the bastion and answers `OK\n` (then pipes) or `ERR <reason>\n` (then closes), so a caller on the host
 *   gets a clear error instead of a connection that just closes.
 */
import { rmSync } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';

import { cidrContains, parseIpv4 } from './fabric-commands.ts';

const pipeBoth = (a: Socket, b: Socket): void => {
  a.pipe(b);
  b.pipe(a);
  const closeBoth = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', closeBoth).on('close', closeBoth);
  b.on('error', closeBoth).on('close', closeBoth);
};

const listening = (server: Server, listen: (done: () => void) => void): Promise<Server> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    listen(() => {
      server.off('error', reject);
      resolve(server);
    });
  });

/** Host side of a relay: connections to `socketPath` are piped to host:port. */
export const serveUnixToTcp = (socketPath: string, host: string, port: number): Promise<Server> => {
  rmSync(socketPath, { force: true });
  const server = createServer((client) => pipeBoth(client, connect({ host, port })));
  return listening(server, (done) => server.listen(socketPath, done));
};

/** Namespace side of a relay: connections to listenHost:listenPort are piped to `socketPath`. */
export const serveTcpToUnix = (listenHost: string, listenPort: number, socketPath: string): Promise<Server> => {
  const server = createServer((client) => pipeBoth(client, connect(socketPath)));
  return listening(server, (done) => server.listen(listenPort, listenHost, done));
};

/** `address:port` as a door request; throws naming the value when it is not an IPv4 address and TCP port. */
export const parseTarget = (text: string): { address: string; port: number } => {
  const at = text.lastIndexOf(':');
  const address = text.slice(0, at);
  const port = Number(text.slice(at + 1));
  if (at < 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${JSON.stringify(text)} is not ADDRESS:PORT (an IPv4 address and a TCP port 1-65535)`);
  }
  parseIpv4(address);
  return { address, port };
};

const MAX_REQUEST_BYTES = 64;

/**
 * The door inside the bastion ns. Only addresses in `allowedCidr` (the VPC) are dialled: the door is a way into
 * the VPC, never out of it.
 */
export const serveDoor = (socketPath: string, allowedCidr: string): Promise<Server> => {
  rmSync(socketPath, { force: true });
  const server = createServer((client) => {
    let request = '';
    const refuse = (reason: string): void => {
      client.end(`ERR ${reason}\n`);
    };
    const onData = (chunk: Buffer): void => {
      request += chunk.toString('latin1');
      const newline = request.indexOf('\n');
      if (newline < 0) {
        if (request.length > MAX_REQUEST_BYTES) refuse('request line too long');
        return;
      }
      client.off('data', onData);
      client.pause();
      const rest = Buffer.from(request.slice(newline + 1), 'latin1');
      let target: { address: string; port: number };
      try {
        target = parseTarget(request.slice(0, newline).trim());
        if (!cidrContains(allowedCidr, target.address)) throw new Error(`${target.address} is outside the VPC ${allowedCidr}`);
      } catch (error) {
        refuse((error as Error).message);
        return;
      }
      const upstream = connect({ host: target.address, port: target.port });
      const onDialError = (error: Error): void => refuse(`${target.address}:${target.port}: ${error.message}`);
      upstream.once('error', onDialError);
      upstream.once('connect', () => {
        upstream.off('error', onDialError);
        client.write('OK\n');
        if (rest.length > 0) upstream.write(rest);
        pipeBoth(client, upstream);
        client.resume();
      });
    };
    client.on('data', onData);
    client.on('error', () => client.destroy());
  });
  return listening(server, (done) => server.listen(socketPath, done));
};

/** A TCP stream to address:port inside the VPC, through the bastion's door; rejects with the door's reason. */
export const dialThroughDoor = (socketPath: string, address: string, port: number): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let reply = '';
    const fail = (error: Error): void => {
      socket.destroy();
      reject(error);
    };
    const onError = (error: Error): void =>
      fail(new Error(`cannot reach the VPC's door at ${socketPath} (is the environment up?): ${error.message}`));
    const onEnd = (): void => fail(new Error(`${address}:${port}: the VPC's door closed without an answer`));
    socket.once('error', onError);
    socket.once('end', onEnd);
    socket.once('connect', () => socket.write(`${address}:${port}\n`));
    // Read the status line in paused mode ('readable'), so the caller gets a socket that is neither flowing nor
    // explicitly paused: its first 'data' listener or pipe starts it, and nothing after the line is lost.
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) {
        reply += chunk.toString('latin1');
        const newline = reply.indexOf('\n');
        if (newline < 0) continue;
        socket.off('readable', onReadable);
        socket.off('end', onEnd);
        const status = reply.slice(0, newline);
        if (status !== 'OK') {
          fail(new Error(`${address}:${port} through the VPC's door: ${status.replace(/^ERR /, '')}`));
          return;
        }
        socket.off('error', onError);
        const rest = reply.slice(newline + 1);
        if (rest.length > 0) socket.unshift(Buffer.from(rest, 'latin1'));
        resolve(socket);
        return;
      }
    };
    socket.on('readable', onReadable);
  });
