/**
 * kube-proxy of the server's version as the agent's child, inside the node's namespace: iptables mode, the
 * node's name and address, restarted whenever it exits. Its output goes to the agent's log, prefixed.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface KubeProxyOptions {
  binary: string;
  kubeconfig: string;
  nodeName: string;
  nodeIp: string;
}

export const KUBE_PROXY_HEALTHZ_PORT = 10256;

/** The flags (pure, so a unit test pins them). */
export function kubeProxyArgs(options: Omit<KubeProxyOptions, 'binary'>): string[] {
  return [
    `--kubeconfig=${options.kubeconfig}`,
    `--hostname-override=${options.nodeName}`,
    `--bind-address=${options.nodeIp}`,
    '--proxy-mode=iptables',
    // Conntrack limits are machine-wide, not per namespace: never touch them.
    '--conntrack-max-per-core=0',
    `--healthz-bind-address=0.0.0.0:${KUBE_PROXY_HEALTHZ_PORT}`,
    '--metrics-bind-address=127.0.0.1:10249',
    '--v=1',
  ];
}

export interface KubeProxy {
  stop(): Promise<void>;
}

export function startKubeProxy(options: KubeProxyOptions, log: (line: string) => void): KubeProxy {
  let child: ChildProcess | undefined;
  let stopped = false;
  let restartTimer: NodeJS.Timeout | undefined;
  const prefix = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line) log(`kube-proxy: ${line}`);
  };
  const start = () => {
    const startedAt = Date.now();
    child = spawn(options.binary, kubeProxyArgs(options), { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', prefix);
    child.stderr?.on('data', prefix);
    let ended = false;
    // A binary that cannot start emits 'error' and maybe no 'exit': either one ends this run, once.
    const runEnded = (how: string) => {
      if (ended) return;
      ended = true;
      child = undefined;
      if (stopped) return;
      // Back off when it dies right away (a bad flag, no iptables), not when it ran for a while.
      const delay = Date.now() - startedAt < 10_000 ? 5000 : 500;
      log(`kube-proxy ${how}; restarting in ${delay} ms`);
      restartTimer = setTimeout(start, delay);
    };
    child.once('error', (error) => runEnded(`failed: ${error.message}`));
    child.once('exit', (code, signal) => runEnded(`exited (${code ?? signal})`));
  };
  start();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(restartTimer);
      const running = child;
      if (!running) return;
      await new Promise<void>((resolve) => {
        running.once('exit', () => resolve());
        running.kill('SIGTERM');
        setTimeout(() => running.kill('SIGKILL'), 5000).unref();
      });
    },
  };
}
