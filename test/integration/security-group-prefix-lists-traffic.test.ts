import { CreateManagedPrefixListCommand, DeleteManagedPrefixListCommand, DescribeManagedPrefixListsCommand, ModifyManagedPrefixListCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Annotations } from '../../src/core/annotations.ts';
import { PREFIX_LISTS_ANNOTATION } from '../../src/core/security-groups.ts';
import {
  connect,
  FAST_HEALTH_CHECK_ANNOTATIONS,
  httpThroughLoadBalancer,
  loadBalancerServiceBody,
  nodeExec,
  resolveInVpc,
  serviceLoadBalancer,
  vpcExec,
  waitFor,
  type ServiceLoadBalancer,
  type TestEnvironment,
} from '../../src/testing/index.ts';
import { startNetworkedWeb, type NetworkedWeb } from './support/networked-web.ts';

// security-group-prefix-lists in the data plane (ADR 0014): the managed group lets the list in, and the list's
// entries decide who reaches the listener; editing the list (no Service change) moves who gets in.
describe('NLB security groups in the data plane: a managed prefix list decides who reaches the listener', () => {
  let env: TestEnvironment;
  let web: NetworkedWeb | undefined;
  let lb: ServiceLoadBalancer;
  let prefixList = '';
  let bastionIp = '';
  let nodeIp = '';
  let node = '';
  let nlbAddress = '';
  let namespace = '';

  /** curl from the bastion or the node's namespace to the NLB: its exit code (0 answered, 28 timed out). */
  const curlFrom = async (from: 'bastion' | 'node'): Promise<number> => {
    const args = ['curl', '-s', '-o', '/dev/null', '-m', '3', `http://${nlbAddress}/hostname`];
    return (from === 'bastion' ? await vpcExec(args, { timeoutMs: 15_000 }) : await nodeExec(node, args, { timeoutMs: 15_000 })).code;
  };
  /** Adds and removes entries of the list, as someone editing it in the console would. */
  const editList = async (add: string[], remove: string[]) => {
    const [list] = (await env.aws.ec2.send(new DescribeManagedPrefixListsCommand({ PrefixListIds: [prefixList] }))).PrefixLists ?? [];
    await env.aws.ec2.send(
      new ModifyManagedPrefixListCommand({
        PrefixListId: prefixList,
        PrefixListName: list!.PrefixListName!,
        CurrentVersion: list!.Version!,
        AddEntries: add.map((Cidr) => ({ Cidr })),
        RemoveEntries: remove.map((Cidr) => ({ Cidr })),
      }),
    );
  };

  beforeAll(async () => {
    env = connect();
    web = await startNetworkedWeb(env, 'pl-traffic');
    ({ node, nodeIp } = web);
    namespace = web.ns.name;
    bastionIp = (await vpcExec(['sh', '-c', "ip -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1"])).stdout.trim();
    const created = await env.aws.ec2.send(
      new CreateManagedPrefixListCommand({ PrefixListName: `${namespace}-clients`, AddressFamily: 'IPv4', MaxEntries: 5, Entries: [{ Cidr: `${bastionIp}/32` }] }),
    );
    prefixList = created.PrefixList!.PrefixListId!;
    await env.core.createNamespacedService({
      namespace,
      body: loadBalancerServiceBody('listed', {
        annotations: { [Annotations.scheme]: 'internal', [Annotations.targetType]: 'ip', ...FAST_HEALTH_CHECK_ANNOTATIONS, [PREFIX_LISTS_ANNOTATION]: prefixList },
        selector: { app: 'web' },
        ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
      }),
    });
    lb = await serviceLoadBalancer(env, { namespace, name: 'listed' }, 120_000);
  }, 400_000);

  afterAll(async () => {
    await web?.tearDown();
    if (prefixList) await env.aws.ec2.send(new DeleteManagedPrefixListCommand({ PrefixListId: prefixList })).catch(() => undefined);
    env?.close();
  }, 180_000);

  it('the bastion (in the list) is answered; the node, not in it, is dropped: no 0.0.0.0/0 beside the list', async () => {
    const answer = await waitFor(
      async () => {
        const response = await httpThroughLoadBalancer(env, { namespace, name: 'listed' }, { path: '/hostname', timeoutMs: 3000 }).catch(() => undefined);
        return response?.status === 200 && response.body;
      },
      { description: 'the bastion answered through the NLB', timeoutMs: 90_000 },
    );
    expect(answer).toMatch(/^web-/);
    [nlbAddress = ''] = await resolveInVpc(env, lb.dnsName);
    expect(await curlFrom('node')).toBe(28);
    expect(await curlFrom('bastion')).toBe(0);
  });

  it("editing the list moves who gets in, without touching the Service or its groups", async () => {
    await editList([`${nodeIp}/32`], []);
    await waitFor(async () => (await curlFrom('node')) === 0, { description: 'the node answered once the list holds its address', timeoutMs: 60_000 });
    await editList([], [`${bastionIp}/32`]);
    await waitFor(async () => (await curlFrom('bastion')) === 28, { description: 'the bastion dropped once the list no longer holds it', timeoutMs: 60_000 });
    expect(await curlFrom('node')).toBe(0);
  });
});
