import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IPAM_NODE_LABEL } from '../../src/core/ipam/keys.ts';
import { instanceIdOf } from '../../src/core/nodes.ts';
import { NETWORK_NODE_LABEL, NETWORK_NODE_VALUE } from '../../src/devenv/vpc/keys.ts';
import { bastionNs, envIdOf, namespacePrefix, netnsPath, nodeNs, routerNs, vpcStatePaths } from '../../src/devenv/vpc/names.ts';
import { connect, forwardToVpc, httpGetInVpc, isPodReady, vpcExec, waitFor, type TestEnvironment } from '../../src/testing/index.ts';

// The local VPC (ADR 0011) of an environment of its own (state folder and ports, as devenv-cli.test.ts does):
// up makes the router and bastion namespaces; a networked Node gets a namespace holding its instance's IP; the
// bastion (vpc exec) reaches it; forward carries a request from the host to a process in a namespace and to a
// pod; down leaves the host's namespace exactly as it was and no process of the environment behind, also after
// the vpc supervisor was killed. Its ports sit below the kernel's ephemeral range (32768+), where an outgoing
// connection could hold one for a moment.
const stateDir = mkdtempSync(join(tmpdir(), 'cpl-vpcnet-'));
const env = {
  ...process.env,
  CPL_STATE_DIR: stateDir,
  CPL_CLUSTER_NAME: 'cpl-vpcnet-test',
  CPL_EMULATOR_PORT: '31566',
  CPL_ETCD_PORT: '31379',
  CPL_ETCD_PEER_PORT: '31380',
  CPL_APISERVER_PORT: '31443',
  CPL_KCM_PORT: '31257',
  CPL_SCHEDULER_PORT: '31259',
  CPL_KWOK_PORT: '31247',
  CPL_KWOK_VPC_PORT: '31248',
  CPL_CONTROLLER_METRICS_PORT: '31080',
  CPL_CONTROLLER_HEALTH_PORT: '31081',
  CPL_VPC_PORT: '31249',
};
const id = envIdOf(stateDir);
const ours = namespacePrefix(id);
const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.53';

const cli = (...args: string[]) => {
  const result = spawnSync(process.execPath, ['src/cli/main.ts', ...args], { env, encoding: 'utf8', timeout: 300_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};

const run = (command: string, ...args: string[]): string => {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return result.error ? `(${command}: ${result.error.message})` : `${result.stdout}${result.stderr}`;
};

/**
 * The host's network namespace as `down` must leave it. Namespaces of other environments on this machine
 * (other state folders: cpl<other id>-…) are left out, since they come and go on their own; ours are not.
 */
const hostSnapshot = (): Record<string, string> => ({
  netns: run('ip', 'netns', 'list')
    .split('\n')
    .filter((line) => !/^cpl[0-9a-f]{6}-/.test(line) || line.startsWith(ours))
    .join('\n'),
  links: run('ip', '-d', 'link'),
  routes: run('ip', 'route', 'show', 'table', 'all'),
  rules: run('ip', 'rule'),
  iptables: run('iptables-save').replace(/^#.*\n/gm, ''),
  nftables: run('nft', 'list', 'ruleset'),
  forwarding: run('sysctl', 'net.ipv4.ip_forward'),
});

const ourNamespaces = (): string[] => run('ip', 'netns', 'list').split('\n').map((line) => line.split(' ')[0] ?? '').filter((name) => name.startsWith(ours));

/** A process that runs (a zombie, e.g. our own killed listener not yet reaped while spawnSync blocks, does not). */
const isLive = (pid: number): boolean => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

/** Pids whose command line names our state folder: every process of this environment does. */
const ourProcesses = (): string[] =>
  readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .flatMap((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
        return cmdline.includes(stateDir) ? [`${pid}: ${cmdline}`] : [];
      } catch {
        return [];
      }
    });

const get = (port: number, path: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: 5000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve(body.trim()));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });

/** Starts `cloud-provider-localstack forward TARGET` and resolves with the local port it prints. */
const startForwardCli = (target: string): Promise<{ child: ChildProcess; port: number }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['src/cli/main.ts', 'forward', target], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /^(\d+)\n/.exec(out);
      if (match) resolve({ child, port: Number(match[1]) });
    });
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`forward exited with ${code}: ${err}`)));
  });

describe('the local VPC: namespaces, the door, and a clean down', () => {
  const before = hostSnapshot();
  let cluster: TestEnvironment;
  const node = 'vpcnet-node-1';
  let nodeIp = '';
  let listener: ChildProcess | undefined;

  beforeAll(() => {
    const up = cli('up', '--no-demo');
    expect(up.code, up.stderr).toBe(0);
    cluster = connect(stateDir);
  }, 300_000);

  afterAll(() => {
    listener?.kill('SIGKILL');
    cluster?.close();
    cli('down');
    rmSync(stateDir, { recursive: true, force: true });
  }, 120_000);

  it('up makes the router and the bastion, with the VPC resolver in the bastion', () => {
    expect(ourNamespaces().sort()).toEqual([bastionNs(id), routerNs(id)].sort());
    expect(readFileSync(`/etc/netns/${bastionNs(id)}/resolv.conf`, 'utf8')).toBe('nameserver 10.0.0.2\n');
    // Nothing of the VPC in the host's namespace.
    expect(run('ip', 'route', 'show', 'table', 'all')).not.toMatch(/\b10\.0\./);
    expect(run('ip', '-4', 'addr')).not.toMatch(/\b10\.0\./);
  });

  it("a networked Node gets a namespace holding its instance's primary private IP, reachable from the bastion", async () => {
    await cluster.core.createNode({
      body: {
        metadata: {
          name: node,
          labels: { 'kubernetes.io/hostname': node, [NETWORK_NODE_LABEL]: NETWORK_NODE_VALUE, [IPAM_NODE_LABEL]: 'enabled', 'node.kubernetes.io/instance-type': 'm5.large' },
        },
        status: { allocatable: { cpu: '2', memory: '8Gi', pods: '29' }, capacity: { cpu: '2', memory: '8Gi', pods: '29' } },
      },
    });
    const instanceId = await waitFor(async () => instanceIdOf(await cluster.core.readNode({ name: node })), { description: 'the node controller launches the instance', timeoutMs: 60_000 });
    const described = await cluster.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    nodeIp = described.Reservations![0]!.Instances![0]!.PrivateIpAddress!;
    expect(nodeIp).toMatch(/^10\.0\./);

    const eth0 = () => run('ip', '-n', nodeNs(node, id), '-4', '-o', 'addr', 'show', 'eth0');
    await waitFor(() => existsSync(netnsPath(nodeNs(node, id))) && eth0().includes('inet '), { description: `namespace ${nodeNs(node, id)} with eth0`, timeoutMs: 60_000 });
    expect(eth0()).toContain(`inet ${nodeIp}/`);

    // From the bastion (vpc exec, the CLI and the helper): ping, then kube-proxy's /healthz once the agent runs it.
    const ping = cli('vpc', 'exec', '--', 'ping', '-c', '1', '-W', '5', nodeIp);
    expect(ping.code, ping.stderr).toBe(0);
    expect(ping.stdout).toContain('1 received');
    await waitFor(async () => (await vpcExec(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', `http://${nodeIp}:10256/healthz`], { stateDir })).stdout === '200', {
      description: `kube-proxy /healthz on ${nodeIp}:10256 from the bastion`,
      timeoutMs: 90_000,
    });
    expect((await httpGetInVpc(`http://${nodeIp}:10256/healthz`, { stateDir })).status).toBe(200);
  });

  it('forward carries TCP from 127.0.0.1 on the host to a process listening in a namespace', async () => {
    // A listener started by hand in the node's namespace (nsenter keeps the host's mount namespace).
    listener = spawn('nsenter', [`--net=${netnsPath(nodeNs(node, id))}`, '--', process.execPath, '-e',
      `require('node:http').createServer((q, s) => s.end('hello from ' + q.socket.localAddress + '\\n')).listen(18080, '0.0.0.0')`], { stdio: 'ignore' });
    const forward = await startForwardCli(`${nodeIp}:18080`);
    try {
      expect(await waitFor(() => get(forward.port, '/').catch(() => undefined), { description: 'the listener through forward' })).toBe(`hello from ${nodeIp}`);
    } finally {
      forward.child.kill('SIGTERM');
    }
    // Bad input names the value before anything listens.
    const bad = cli('forward', `${nodeIp}:99999`);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`"${nodeIp}:99999" is not ADDRESS:PORT`);
    const outside = await forwardToVpc('192.168.1.1', 80, { stateDir });
    try {
      await expect(get(outside.port, '/')).rejects.toThrow();
    } finally {
      await outside.close();
    }
  });

  it("forward carries a request from the host to a pod at its VPC address", async () => {
    const name = 'vpcnet-agnhost';
    await cluster.core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name },
        spec: { nodeName: node, containers: [{ name: 'agnhost', image: AGNHOST, args: ['netexec', '--http-port=8080'], ports: [{ containerPort: 8080 }] }] },
      },
    });
    const pod = await waitFor(async () => {
      const current: V1Pod = await cluster.core.readNamespacedPod({ name, namespace: 'default' });
      return isPodReady(current) && current.status?.podIP ? current : undefined;
    }, { description: 'the agnhost pod Ready with its VPC address', timeoutMs: 90_000 });
    const forward = await forwardToVpc(pod.status!.podIP!, 8080, { stateDir });
    try {
      // Ready says the process started; its listener may be a moment behind.
      expect(await waitFor(() => get(forward.port, '/hostname').catch(() => undefined), { description: 'the pod through forward' })).toBe(name);
    } finally {
      await forward.close();
    }
  });

  it('a deleted Node loses its namespace and its identity', async () => {
    const second = 'vpcnet-node-2';
    await cluster.core.createNode({
      body: {
        metadata: { name: second, labels: { 'kubernetes.io/hostname': second, [NETWORK_NODE_LABEL]: NETWORK_NODE_VALUE, [IPAM_NODE_LABEL]: 'enabled', 'node.kubernetes.io/instance-type': 'm5.large' } },
      },
    });
    // Its agent's identity (system:node:<name>) is issued with the node and removed with it.
    const identity = vpcStatePaths(stateDir).nodeKubeconfig(second);
    await waitFor(() => existsSync(netnsPath(nodeNs(second, id))) && existsSync(identity), { description: `namespace ${nodeNs(second, id)} and ${identity}`, timeoutMs: 60_000 });
    await cluster.core.deleteNode({ name: second });
    await waitFor(() => !existsSync(netnsPath(nodeNs(second, id))) && !existsSync(identity), { description: `namespace ${nodeNs(second, id)} and ${identity} removed`, timeoutMs: 60_000 });
  });

  it('up after the vpc supervisor was killed starts clean: what ran in the old namespaces is gone', () => {
    const record = JSON.parse(readFileSync(join(stateDir, 'pids', 'vpc.json'), 'utf8')) as { pid: number };
    const before = run('ip', 'netns', 'pids', nodeNs(node, id)).split('\n').filter(Boolean).map(Number);
    expect(before.length).toBeGreaterThan(0);
    process.kill(record.pid, 'SIGKILL');
    const up = cli('up', '--no-demo');
    expect(up.code, up.stderr).toBe(0);
    expect(before.filter(isLive)).toEqual([]);
    expect(ourNamespaces()).toContain(routerNs(id));
  }, 120_000);

  it('down after the vpc supervisor was killed leaves the host exactly as before up, and no process behind', async () => {
    await waitFor(() => existsSync(netnsPath(nodeNs(node, id))), { description: `namespace ${nodeNs(node, id)} made again`, timeoutMs: 60_000 });
    const record = JSON.parse(readFileSync(join(stateDir, 'pids', 'vpc.json'), 'utf8')) as { pid: number };
    process.kill(record.pid, 'SIGKILL');
    // The node's agent, kube-proxy and the pod still run in the namespaces: down must end them.
    expect(ourNamespaces().length).toBeGreaterThan(2);
    const down = cli('down');
    expect(down.code, down.stderr).toBe(0);
    expect(ourNamespaces()).toEqual([]);
    expect(existsSync('/etc/netns') ? readdirSync('/etc/netns').filter((entry) => entry.startsWith(ours)) : []).toEqual([]);
    expect(hostSnapshot()).toEqual(before);
    expect(await waitFor(() => ourProcesses().length === 0 || undefined, { description: 'no process of the environment', timeoutMs: 10_000 }).catch(() => ourProcesses())).toBe(true);
  }, 120_000);
});
