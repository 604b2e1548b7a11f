/**
 * Time of `up` and `down` with the local VPC (issue 10), on an environment of its own (state folder and ports
 * apart from the shared one, as test/integration/vpc-network.test.ts does):
 *   sh scripts/toolchain.sh node bench/vpc-up-down.ts [--nodes 4] [--rounds 2]
 * Per round: `up --no-demo` (total, and the vpc component's own start from its "vpc ready" line), N networked
 * Nodes created → every Node Ready with its namespace (the agent heartbeats, kube-proxy runs), then `down`
 * (total, with the agents, kube-proxies and namespaces it removes). Prints a markdown table; asserts nothing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IPAM_NODE_LABEL } from '../src/core/ipam/keys.ts';
import { NETWORK_NODE_LABEL, NETWORK_NODE_VALUE } from '../src/devenv/vpc/keys.ts';
import { connect, isNodeReady, waitFor } from '../src/testing/index.ts';

const flag = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(`--${name}`);
  const value = index < 0 ? fallback : Number(process.argv[index + 1]);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} ${process.argv[index + 1]}: not a whole number`);
  return value;
};
const nodes = flag('nodes', 4);
const rounds = flag('rounds', 2);

const stateDir = mkdtempSync(join(tmpdir(), 'cpl-bench-vpc-'));
const env = {
  ...process.env,
  CPL_STATE_DIR: stateDir,
  CPL_CLUSTER_NAME: 'cpl-bench-vpc',
  CPL_EMULATOR_PORT: '32566',
  CPL_ETCD_PORT: '32379',
  CPL_ETCD_PEER_PORT: '32380',
  CPL_APISERVER_PORT: '32443',
  CPL_KCM_PORT: '32257',
  CPL_SCHEDULER_PORT: '32259',
  CPL_KWOK_PORT: '32247',
  CPL_KWOK_VPC_PORT: '32248',
  CPL_CONTROLLER_METRICS_PORT: '32080',
  CPL_CONTROLLER_HEALTH_PORT: '32081',
  CPL_VPC_PORT: '32249',
};

const cli = (...args: string[]) => {
  const started = performance.now();
  const result = spawnSync(process.execPath, ['src/cli/main.ts', ...args], { env, encoding: 'utf8', timeout: 600_000 });
  if (result.status !== 0) throw new Error(`${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  return { ms: performance.now() - started, stderr: result.stderr };
};

const rows: [string, string][] = [];
try {
  cli('setup');
  for (let round = 1; round <= rounds; round++) {
    const up = cli('up', '--no-demo');
    const vpcReady = /vpc ready \(pid \d+, ([\d.]+)s\)/.exec(up.stderr)?.[1];
    const cluster = connect(stateDir);
    const names = Array.from({ length: nodes }, (_, i) => `bench-vpc-${i + 1}`);
    const created = performance.now();
    for (const name of names) {
      await cluster.core.createNode({
        body: {
          metadata: { name, labels: { 'kubernetes.io/hostname': name, [NETWORK_NODE_LABEL]: NETWORK_NODE_VALUE, [IPAM_NODE_LABEL]: 'enabled', 'node.kubernetes.io/instance-type': 'm5.large' } },
          status: { allocatable: { cpu: '2', memory: '8Gi', pods: '29' }, capacity: { cpu: '2', memory: '8Gi', pods: '29' } },
        },
      });
    }
    await waitFor(async () => (await cluster.core.listNode()).items.filter((node) => names.includes(node.metadata!.name!) && isNodeReady(node)).length === nodes, {
      description: `${nodes} networked nodes Ready`,
      timeoutMs: 300_000,
      intervalMs: 100,
    });
    const nodesReadyMs = performance.now() - created;
    cluster.close();
    const down = cli('down');
    rows.push(
      [`round ${round}: up --no-demo (total)`, `${(up.ms / 1000).toFixed(1)} s`],
      [`round ${round}: vpc component ready`, vpcReady ? `${vpcReady} s` : '?'],
      [`round ${round}: ${nodes} networked Nodes created → all Ready (agent, kube-proxy)`, `${(nodesReadyMs / 1000).toFixed(1)} s`],
      [`round ${round}: down with ${nodes} networked nodes (total)`, `${(down.ms / 1000).toFixed(1)} s`],
    );
  }
} finally {
  spawnSync(process.execPath, ['src/cli/main.ts', 'down'], { env, stdio: 'ignore' });
  rmSync(stateDir, { recursive: true, force: true });
}
console.log(`| figure (${nodes} nodes, ${rounds} rounds) | value |\n| --- | --- |\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}`);
