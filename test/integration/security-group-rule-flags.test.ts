import { CreateSecurityGroupCommand, DeleteSecurityGroupCommand } from '@aws-sdk/client-ec2';
import { DescribeLoadBalancersCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { V1ServicePort } from '@kubernetes/client-node';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { defaultsOf, lbcDefaultOptions, type RunFlags } from '../../src/cli/run-command.ts';
import { Annotations } from '../../src/core/annotations.ts';
import type { ControllerDefaults } from '../../src/core/controller-defaults.ts';
import { uniqueName, waitFor, waitForLoadBalancer } from '../../src/testing/index.ts';
import { backendGroupId, nodeRulesFrom, useNodeCluster } from './support/node-rules.ts';

/** The flags as `run` parses them (commander, then the LBC's validation), the way they reach the manager. */
const flags = (...argv: string[]): ControllerDefaults => defaultsOf(lbcDefaultOptions(new Command()).exitOverride().parse(argv, { from: 'user' }).opts<RunFlags>());

/**
 * The LBC's --disable-restricted-sg-rules and --enable-manage-backend-security-group-rules, parsed by the run
 * command's options and given to a running controller, against the real kube-apiserver and the emulator: what
 * lands on the node group (read back from EC2), switching on a restart, and removal when no Service needs it.
 */
describe('service controller: --disable-restricted-sg-rules, --enable-manage-backend-security-group-rules', () => {
  const context = useNodeCluster('sgflags', { defaults: flags('--disable-restricted-sg-rules') });

  const createService = (name: string, port: V1ServicePort, annotations: Record<string, string> = {}) =>
    context.env.core.createNamespacedService({ namespace: context.ns.name, body: { metadata: { name, annotations }, spec: { type: 'LoadBalancer', selector: { app: name }, ports: [port] } } });
  const backendId = () => backendGroupId(context.env, context.cluster.name);
  const nodeRules = (backend: string) => nodeRulesFrom(context.env, backend);
  const nodePortOf = async (name: string) => (await context.env.core.readNamespacedService({ namespace: context.ns.name, name })).spec!.ports![0]!.nodePort!;
  /** Waits for exactly `want`, and fails if a sample on the way lacked a rule letting `port` in over TCP (a gap). */
  const converge = async (backend: string, want: string[], port: number) => {
    const gaps: string[][] = [];
    await waitFor(
      async () => {
        const rules = await nodeRules(backend);
        if (!rules.some((r) => r.startsWith('tcp ') && Number(r.split(' ')[1]!.split('-')[0]) <= port && port <= Number(r.split('-')[1]))) gaps.push(rules);
        return rules.join() === want.join();
      },
      { description: `node rules ${want.join(', ')}` },
    );
    expect(gaps).toEqual([]);
  };

  it('--disable-restricted-sg-rules: every TCP port from the backend group, every UDP port for a UDP Service; without it on a restart, the NodePorts, with no gap', async () => {
    await createService('web', { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' });
    await createService('dns', { name: 'dns', port: 53, targetPort: 53, protocol: 'UDP' });
    for (const name of ['web', 'dns']) await waitForLoadBalancer(context.env, context.ns.name, name, (observed) => observed.listeners.length === 1);
    await context.cluster.manager.idle();
    const backend = (await backendId())!;
    expect(await nodeRules(backend)).toEqual(['tcp 0-65535', 'udp 0-65535']);

    // Restricted (the LBC's default): one range per protocol over the NodePorts (a UDP group checked on its
    // traffic port lets TCP in there too); the all-port rules go only after the ranges are in.
    await context.cluster.restart({ defaults: flags('--disable-restricted-sg-rules=false') });
    const [web, dns] = [await nodePortOf('web'), await nodePortOf('dns')];
    await converge(backend, [`tcp ${Math.min(web, dns)}-${Math.max(web, dns)}`, `udp ${dns}-${dns}`], web);
  });

  it('--enable-manage-backend-security-group-rules: a Service naming its groups gets the backend group and its node rule without the annotation', async () => {
    await context.cluster.restart({ defaults: flags('--enable-manage-backend-security-group-rules') });
    const frontendName = uniqueName('sgflags-frontend');
    const { GroupId: frontendId } = await context.env.aws.ec2.send(
      new CreateSecurityGroupCommand({ GroupName: frontendName, Description: 'test', VpcId: context.env.network.vpcId, TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'Name', Value: frontendName }] }] }),
    );
    try {
      await createService('named', { name: 'http', port: 81, targetPort: 8080, protocol: 'TCP' }, { [Annotations.securityGroups]: frontendId! });
      const lb = await waitForLoadBalancer(context.env, context.ns.name, 'named', (observed) => observed.listeners.length === 1);
      await context.cluster.manager.idle();
      const backend = (await backendId())!;
      const groups = (await context.env.aws.elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [lb.arn] }))).LoadBalancers?.[0]?.SecurityGroups ?? [];
      expect(groups.sort()).toEqual([frontendId!, backend].sort());
      const ports = await Promise.all(['web', 'dns', 'named'].map(nodePortOf));
      const dns = ports[1]!;
      expect(await nodeRules(backend)).toEqual([`tcp ${Math.min(...ports)}-${Math.max(...ports)}`, `udp ${dns}-${dns}`]);
    } finally {
      await context.env.core.deleteNamespacedService({ namespace: context.ns.name, name: 'named' }).catch(() => undefined);
      await waitFor(async () => !(await context.env.core.listNamespacedService({ namespace: context.ns.name })).items.some((s) => s.metadata?.name === 'named'), { description: 'named gone' });
      await context.env.aws.ec2.send(new DeleteSecurityGroupCommand({ GroupId: frontendId! }));
    }
  });

  it('unrestricted again on a restart, with no gap; the all-port rules and the backend group removed when no Service needs them', async () => {
    const backend = (await backendId())!;
    await context.cluster.restart({ defaults: flags('--disable-restricted-sg-rules') });
    await converge(backend, ['tcp 0-65535', 'udp 0-65535'], await nodePortOf('web'));

    await context.env.core.deleteNamespacedService({ namespace: context.ns.name, name: 'dns' });
    await converge(backend, ['tcp 0-65535'], await nodePortOf('web'));
    await context.env.core.deleteNamespacedService({ namespace: context.ns.name, name: 'web' });
    await waitFor(async () => (await context.env.core.listNamespacedService({ namespace: context.ns.name })).items.length === 0, { description: 'Services gone (finalizers released)' });
    expect(await nodeRules(backend)).toEqual([]);
    expect(await backendId()).toBeUndefined();
  });
});
