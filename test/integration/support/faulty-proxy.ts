import { createServer, connect as tcpConnect, type AddressInfo, type Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

/**
 * A TCP proxy in front of the apiserver, so a test can break, stall or partition a client's connections the
 * way a flaky network or a restarting apiserver would (TLS passes through untouched).
 */
export async function startFaultyProxy(target: URL) {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  const held = new Set<Socket>();
  let mode: 'pass' | 'refuse' | 'blackhole' = 'pass';
  const destroyPairs = () => {
    for (const { client, upstream } of pairs) {
      client.destroy();
      upstream.destroy();
    }
  };
  const server = createServer((client) => {
    client.on('error', () => client.destroy());
    if (mode === 'refuse') {
      client.destroy();
      return;
    }
    if (mode === 'blackhole') {
      held.add(client);
      return;
    }
    const upstream = tcpConnect(Number(target.port), target.hostname);
    const pair = { client, upstream };
    pairs.add(pair);
    const close = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    for (const socket of [client, upstream]) {
      socket.on('error', close);
      socket.on('close', close);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    /** Resets every open connection (what an apiserver restart looks like to a watcher). */
    breakAll: () => {
      for (const { client, upstream } of pairs) {
        client.resetAndDestroy();
        upstream.destroy();
      }
    },
    /** New connections are refused while on. */
    refuse: (on: boolean) => (mode = on ? 'refuse' : 'pass'),
    /** Open connections stay up but deliver nothing more: a silently stalled watch. New ones work. */
    stallAll: () => {
      for (const { upstream, client } of pairs) {
        upstream.unpipe(client);
        upstream.pause();
      }
    },
    /** Open connections stop delivering anything; new ones are accepted and never answered. */
    partition: () => {
      mode = 'blackhole';
      for (const { client, upstream } of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    /** Ends a partition: held and stalled connections are closed, new ones pass. */
    heal: () => {
      mode = 'pass';
      destroyPairs();
      for (const socket of held) socket.destroy();
      held.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        destroyPairs();
        for (const socket of held) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The same kubeconfig, with every cluster's server replaced by the proxy's URL. */
export function throughProxy(kc: KubeConfig, url: string): KubeConfig {
  const proxied = new KubeConfig();
  proxied.loadFromOptions({
    clusters: kc.clusters.map((cluster) => ({ ...cluster, server: url })),
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.currentContext,
  });
  return proxied;
}
