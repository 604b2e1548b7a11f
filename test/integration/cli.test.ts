import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Annotations } from '../../src/core/annotations.ts';
import { IPAM_NODE_LABEL } from '../../src/core/ipam/keys.ts';
import { connect, createKwokNode, createTestNamespace, deleteNodes, healthyTargets, podTargets, uniqueName, waitFor, waitForLoadBalancer, type TestEnvironment } from '../../src/testing/index.ts';
import { startTestCluster, type TestCluster } from './support/controller.ts';

// The CLI as a user runs it (a separate process), against what an in-process controller built.
describe('cloud-provider-localstack CLI', () => {
  let env: TestEnvironment;
  let cluster: TestCluster;
  let ns: { name: string; remove: () => Promise<void> };
  const node = uniqueName('cli-node');
  const nodeLabel = 'cloud-provider-localstack/test-node=cli';

  const cli = (...args: string[]) => {
    const result = spawnSync(process.execPath, ['src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 60_000 });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const connection = () => ['--local', '--cluster-name', cluster.name];

  beforeAll(async () => {
    env = connect();
    ns = await createTestNamespace(env.core, 'cli');
    await createKwokNode(env.core, node, { labels: { 'cloud-provider-localstack/test-node': 'cli', [IPAM_NODE_LABEL]: 'enabled' } });
    cluster = await startTestCluster(env, { controllers: ['service', 'node', 'ipam'], watchNamespace: ns.name, nodeSelector: nodeLabel });
    await env.apps.createNamespacedDeployment({
      namespace: ns.name,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: { nodeSelector: { 'cloud-provider-localstack/test-node': 'cli' }, containers: [{ name: 'web', image: 'nginx' }] } },
        },
      },
    });
    await env.core.createNamespacedService({
      namespace: ns.name,
      body: {
        metadata: { name: 'web', annotations: { [Annotations.targetType]: 'ip' } },
        spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
      },
    });
    await waitForLoadBalancer(env, ns.name, 'web', (lb) => healthyTargets(lb.listeners[0]).length === 2);
  });

  afterAll(async () => {
    await ns?.remove();
    await deleteNodes(env.core, [node]);
    await cluster?.manager.idle();
    await cluster?.stop();
    await cluster?.sweep();
    env?.close();
  });

  it('describe service: a tree a person reads, and the same as JSON', async () => {
    const text = cli('describe', 'service', `${ns.name}/web`, ...connection());
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`Service ${ns.name}/web (target type ip)`);
    expect(text.stdout).toMatch(/└─ NLB k8s-cli.*-web-[0-9a-f]{10} {2}internal {2}active/);
    expect(text.stdout).toMatch(/└─ listener TCP:80 → k8s-.* \(ip, TCP:8080, health TCP traffic-port every 10s\)/);
    const pods = await podTargets(env, ns.name, 'app=web', 8080);
    for (const target of pods) expect(text.stdout).toMatch(new RegExp(`${target.replace(/\./g, '\\.')} +healthy +pod ${ns.name}/web-`));

    const json = cli('describe', 'service', `${ns.name}/web`, ...connection(), '-o', 'json');
    const described = JSON.parse(json.stdout) as { loadBalancers: { listeners: { targetGroup: { targets: { id: string; port: number; health: string; what: string }[] } }[] }[] };
    const targets = described.loadBalancers[0]!.listeners[0]!.targetGroup.targets;
    expect(targets.map((t) => `${t.id}:${t.port}`).sort()).toEqual(pods);
    expect(targets.every((t) => t.health === 'healthy' && t.what.startsWith(`pod ${ns.name}/web-`))).toBe(true);
  });

  it('plan: in sync after convergence; the action list for a change it has not made yet', async () => {
    const synced = cli('plan', `${ns.name}/web`, ...connection());
    expect(synced.stdout.trim()).toBe(`${ns.name}/web: in sync`);
    await cluster.manager.service!.queue.stop();
    try {
      await env.core.patchNamespacedService({ namespace: ns.name, name: 'web', body: [{ op: 'add', path: '/spec/ports/-', value: { name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' } }] });
      const planned = await waitFor(() => {
        const result = cli('plan', `${ns.name}/web`, ...connection(), '-o', 'json');
        const [plan] = JSON.parse(result.stdout) as { actions: string[] }[];
        return plan!.actions.length > 0 && plan!.actions;
      }, { description: 'a plan with actions' });
      expect(planned.some((a) => a.startsWith('create target group') && a.includes(`${ns.name}/web:443`))).toBe(true);
      expect(planned.some((a) => a.startsWith('create listener TCP:443'))).toBe(true);
    } finally {
      cluster.manager.service!.queue.start();
    }
    await waitForLoadBalancer(env, ns.name, 'web', (lb) => lb.listeners.length === 2);
  });

  it('ipam show: the node’s ENIs and which pod has which address', async () => {
    const result = cli('ipam', 'show', node, ...connection(), '-o', 'json');
    expect(result.code, result.stderr).toBe(0);
    const [pool] = JSON.parse(result.stdout) as { node: string; assigned: number; allocations: { ip: string; pod: string }[] }[];
    expect(pool!.node).toBe(node);
    expect(pool!.allocations.map((a) => `${a.ip}:8080`).sort()).toEqual(await podTargets(env, ns.name, 'app=web', 8080));
    const text = cli('ipam', 'show', node, ...connection());
    expect(text.stdout).toMatch(new RegExp(`^${node} +i-[0-9a-f]+ m5\\.large +ENIs \\d/3`, 'm'));
    expect(cli('ipam', 'show', 'no-such-node', ...connection()).stderr).toContain('no ENIPool for node "no-such-node"');
  });

  it('invalid flag values fail at start with a message naming the flag', () => {
    const cases: [string[], string][] = [
      [['run', '--local', '--concurrency', 'zero'], '--concurrency'],
      [['run', '--local', '--resync-period', 'soon'], '--resync-period'],
      [['run', '--local', '--controllers', 'service,lb'], '--controllers'],
      [['run', '--local', '--log-format', 'xml'], '--log-format'],
      [['run', '--local', '--leader-elect', 'maybe'], '--leader-elect'],
      [['run', '--local', '--ip-cooldown-period', '-5s'], '--ip-cooldown-period'],
      [['run', '--local', '--target-batch-period', 'briefly'], '--target-batch-period'],
      [['run', '--local', '--metrics-address', 'nowhere'], 'nowhere'],
    ];
    for (const [args, flag] of cases) {
      const result = cli(...args);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(1);
      expect(result.stderr).toContain(flag);
    }
  });

  it('every command has --help', () => {
    for (const command of [[], ['up'], ['down'], ['status'], ['run'], ['describe', 'service'], ['plan'], ['ipam', 'show'], ['seed']]) {
      const result = cli(...command, '--help');
      expect(result.code, command.join(' ')).toBe(0);
      expect(result.stdout).toMatch(/^Usage: cloud-provider-localstack/m);
    }
  });

  it('logs: JSON lines that name the Service, text with --log-format text, and never the credentials', async () => {
    const secret = 'cpl-secret-key-do-not-log';
    const run = (format: string) =>
      new Promise<string>((resolve) => {
        const child = spawn(
          process.execPath,
          ['src/cli/main.ts', 'run', ...connection(), '--controllers', 'service', '--watch-namespace', ns.name, '--log-level', 'debug', '--log-format', format, '--metrics-address', 'off', '--health-address', 'off'],
          { env: { ...process.env, AWS_ACCESS_KEY_ID: 'cpl-access-key', AWS_SECRET_ACCESS_KEY: secret } },
        );
        let output = '';
        // Stop once it has reconciled our Service (or after 60 s, whatever the machine's load).
        const timer = setTimeout(() => child.kill('SIGTERM'), 60_000);
        const collect = (d: Buffer) => {
          output += d.toString();
          if (/reconciled/.test(output)) {
            clearTimeout(timer);
            child.kill('SIGTERM');
          }
        };
        child.stdout.on('data', collect);
        child.stderr.on('data', collect);
        child.on('close', () => resolve(output));
      });
    // A different cluster name would create a second NLB: this process only reads (the Service is converged).
    const json = await run('json');
    const lines = json.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.some((l) => l.msg === 'started')).toBe(true);
    const aboutServices = lines.filter((l) => l.msg === 'reconciled');
    expect(aboutServices.length).toBeGreaterThan(0);
    expect(aboutServices.every((l) => l.service === `${ns.name}/web`)).toBe(true);
    expect(json).not.toContain(secret);
    const text = await run('text');
    expect(text).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO +starting /m);
    expect(text).toMatch(/DEBUG reconciled .*service=[a-z0-9-]+\/web/);
    expect(text).not.toContain(secret);
  });
});
