/**
 * The node agent's command line: what the vpc supervisor passes when it spawns an agent inside a node's
 * namespace. Pure, so the supervisor and the agent agree on one parser (and a unit table checks it).
 */
import { isIPv4 } from 'node:net';

export interface AgentArgs {
  /** The Node object this agent is the kubelet of. */
  node: string;
  /** The instance's primary private IP (the node namespace's eth0): InternalIP, kube-proxy's bind address. */
  ip: string;
  /** The host's apiserver relay socket; the agent serves it on 127.0.0.1:<apiserverPort> inside the node ns. */
  apiserverSocket: string;
  apiserverPort: number;
  /** Binaries built by the toolchain (the supervisor knows where they are; the agent never builds). */
  kubeProxy: string;
  agnhost: string;
  podserver: string;
  /** The agent's kubeconfig, as the node (system:node:<node>; server https://127.0.0.1:<apiserverPort>, the relay). */
  kubeconfig: string;
  /**
   * kube-proxy's kubeconfig (system:kube-proxy), same server. Optional on the command line: a vpc supervisor
   * started before identities existed passes none (and an admin --kubeconfig), and its agents must still start.
   */
  kubeProxyKubeconfig: string;
  /** Per-node state: containers' logs. */
  stateDir: string;
  /** Node Lease duration; renewed every quarter of it (kubelet's default 40 s → every 10 s). */
  leaseSeconds: number;
}

export const AGENT_USAGE =
  'node-agent.ts --node NAME --ip IPV4 --apiserver-socket PATH --apiserver-port PORT --kube-proxy PATH --agnhost PATH --podserver PATH --kubeconfig PATH [--kube-proxy-kubeconfig PATH] --state-dir DIR [--lease-seconds 40]';

const FLAGS = {
  '--node': 'node',
  '--ip': 'ip',
  '--apiserver-socket': 'apiserverSocket',
  '--apiserver-port': 'apiserverPort',
  '--kube-proxy': 'kubeProxy',
  '--agnhost': 'agnhost',
  '--podserver': 'podserver',
  '--kubeconfig': 'kubeconfig',
  '--kube-proxy-kubeconfig': 'kubeProxyKubeconfig',
  '--state-dir': 'stateDir',
  '--lease-seconds': 'leaseSeconds',
} as const satisfies Record<string, keyof AgentArgs>;

type Flag = keyof typeof FLAGS;

/** `--flag value` or `--flag=value`; throws naming the flag and the value on anything wrong. */
export function parseAgentArgs(argv: readonly string[]): AgentArgs {
  const raw: Partial<Record<keyof AgentArgs, string>> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const flag = (eq === -1 ? arg : arg.slice(0, eq)) as Flag;
    if (!(flag in FLAGS)) throw new Error(`node agent: unknown argument ${JSON.stringify(arg)}; usage: ${AGENT_USAGE}`);
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || value === '') throw new Error(`node agent: ${flag} needs a value`);
    raw[FLAGS[flag]] = value;
  }
  for (const [flag, key] of Object.entries(FLAGS)) {
    if (key !== 'leaseSeconds' && key !== 'kubeProxyKubeconfig' && raw[key] === undefined) throw new Error(`node agent: ${flag} is required; usage: ${AGENT_USAGE}`);
  }
  const integer = (flag: string, value: string, min: number, max: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`node agent: ${flag}=${JSON.stringify(value)} is not an integer in ${min}-${max}`);
    return n;
  };
  if (!isIPv4(raw.ip!)) throw new Error(`node agent: --ip=${JSON.stringify(raw.ip)} is not an IPv4 address`);
  return {
    node: raw.node!,
    ip: raw.ip!,
    apiserverSocket: raw.apiserverSocket!,
    apiserverPort: integer('--apiserver-port', raw.apiserverPort!, 1, 65535),
    kubeProxy: raw.kubeProxy!,
    agnhost: raw.agnhost!,
    podserver: raw.podserver!,
    kubeconfig: raw.kubeconfig!,
    kubeProxyKubeconfig: raw.kubeProxyKubeconfig ?? raw.kubeconfig!,
    stateDir: raw.stateDir!,
    leaseSeconds: raw.leaseSeconds === undefined ? 40 : integer('--lease-seconds', raw.leaseSeconds, 4, 3600),
  };
}

/** The argument list for parseAgentArgs (the supervisor's side). */
export function agentArgv(args: AgentArgs): string[] {
  return Object.entries(FLAGS).flatMap(([flag, key]) => [flag, String(args[key])]);
}
