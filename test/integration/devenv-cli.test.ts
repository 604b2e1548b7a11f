import { componentNames } from '../../src/devenv/environment.ts';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isProcessAlive, type ProcessRecord } from '../../src/devenv/processes.ts';

// Runs the CLI as a user would (`up`, `status`, `down`, `up`) on a second environment of its own: its own
// state folder and ports, so the shared environment the other tests use is not touched.
const stateDir = mkdtempSync(join(tmpdir(), 'cpl-devenv-'));
const env = {
  ...process.env,
  CPL_STATE_DIR: stateDir,
  CPL_CLUSTER_NAME: 'cpl-cli-test',
  CPL_EMULATOR_PORT: '24566',
  CPL_ETCD_PORT: '22379',
  CPL_ETCD_PEER_PORT: '22380',
  CPL_APISERVER_PORT: '26443',
  CPL_KCM_PORT: '30257',
  CPL_SCHEDULER_PORT: '30259',
  CPL_KWOK_PORT: '30247',
  CPL_KWOK_VPC_PORT: '30248',
  CPL_CONTROLLER_METRICS_PORT: '28080',
  CPL_CONTROLLER_HEALTH_PORT: '28081',
  CPL_VPC_PORT: '20951',
};

const cli = (...args: string[]) => {
  const result = spawnSync(process.execPath, ['src/cli/main.ts', ...args], { env, encoding: 'utf8', timeout: 240_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};

const alive = isProcessAlive;

describe('npm run up / status / down', () => {
  afterAll(() => {
    cli('down');
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('up, status, down, up: idempotent, and down leaves no process behind', () => {
    const first = cli('up');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('local environment is up');
    // ...and shows it working: the demo Service's NLB with both node instances as healthy targets.
    expect(first.stdout).toMatch(/└─ NLB k8s-demo-web-[0-9a-f]{10} {2}internal {2}active/);
    expect(first.stdout.match(/i-[0-9a-f]+:\d+ +healthy +node demo-node-\d/g)).toHaveLength(2);
    expect(existsSync(join(stateDir, 'kubeconfig'))).toBe(true);
    const awsEnv = readFileSync(join(stateDir, 'aws.env'), 'utf8');
    expect(awsEnv).toContain('AWS_ENDPOINT_URL=http://127.0.0.1:24566');
    expect(awsEnv).toMatch(/CPL_VPC_ID=vpc-/);
    // The tour's kubectl: the one built with the control plane, of the server's version.
    const kubectl = (...args: string[]) => spawnSync(join(stateDir, 'bin', 'kubectl'), ['--kubeconfig', join(stateDir, 'kubeconfig'), ...args], { encoding: 'utf8' });
    expect(kubectl('version', '--client', '-o', 'json').stdout).toContain('"gitVersion": "v1.36.');
    const hostname = kubectl('-n', 'demo', 'get', 'service', 'web', '-o', 'jsonpath={.status.loadBalancer.ingress[0].hostname}');
    expect(hostname.status, hostname.stderr).toBe(0);
    expect(hostname.stdout).toMatch(/^k8s-demo-web-[0-9a-f]{10}-.*elb.*amazonaws\.com$/);

    const again = cli('up');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('already up');

    const status = cli('status', '--json');
    expect(status.code).toBe(0);
    const components = JSON.parse(status.stdout) as { name: string; state: string; pid: number }[];
    // Every component the environment has (control plane, emulator, kwok ×2, the VPC, the NLB data plane, the controller).
    expect(components.map((c) => c.name)).toEqual(componentNames);
    expect(components.map((c) => c.state)).toEqual(Array(componentNames.length).fill('up'));
    const pids = components.map((c) => c.pid);

    const stopped = cli('down');
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
    expect(existsSync(stateDir)).toBe(false);
    expect(cli('status').code).toBe(3);

    const revived = cli('up');
    expect(revived.code, revived.stderr).toBe(0);
    const records = ['emulator', 'kube-apiserver'].map((name) => JSON.parse(readFileSync(join(stateDir, 'pids', `${name}.json`), 'utf8')) as ProcessRecord);
    expect(records.every((record) => alive(record.pid))).toBe(true);
  });

  it('a port already taken ends with a message naming the component, the port and the variable to move it', async () => {
    cli('down');
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(26443, '127.0.0.1', resolve));
    try {
      const result = cli('up');
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('kube-apiserver: port 127.0.0.1:26443 is already in use');
      expect(result.stderr).toContain('CPL_APISERVER_PORT');
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
