import { DescribeSecurityGroupsCommand, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { DescribeTargetGroupsCommand, DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Annotations, Tags } from '../../src/core/annotations.ts';
import { NODE_RULE_DESCRIPTION } from '../../src/core/security-groups.ts';
import {
  connect,
  FAST_HEALTH_CHECK_ANNOTATIONS,
  httpThroughLoadBalancer,
  keptConnection,
  loadBalancerServiceBody,
  nodeExec,
  resolveInVpc,
  serviceLoadBalancer,
  vpcExec,
  waitFor,
  type ServiceLoadBalancer,
  type TestEnvironment,
} from '../../src/testing/index.ts';
import type { TestCluster } from './support/controller.ts';
import { startNetworkedWeb, type NetworkedWeb } from './support/networked-web.ts';


// The NLB data plane enforces security groups (ADR 0014): the Service's managed group (loadBalancerSourceRanges)
// decides who reaches the listener, the node group's backend rule decides whether the targets get anything.
describe('NLB security groups in the data plane: source ranges and backend rules carry real traffic', () => {
  let env: TestEnvironment;
  let web: NetworkedWeb | undefined;
  let cluster: TestCluster;
  let ns: { name: string; remove: () => Promise<void> };
  let lb: ServiceLoadBalancer;
  let bastionIp = '';
  let nodeIp = '';
  let node = '';
  const service = () => ({ namespace: ns.name, name: 'guarded' });
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

  /** The NLB's address in the pod's zone (cross-zone is off: the others forward nowhere), once DNS gives only it. */
  let nlbAddress = '';

  /** curl from the bastion or the node's namespace to that address: its exit code (0 answered, 28 timed out, 7 refused). */
  const curlFrom = async (from: 'bastion' | 'node'): Promise<number> => {
    const args = ['curl', '-s', '-o', '/dev/null', '-m', '3', `http://${nlbAddress}/hostname`];
    return (from === 'bastion' ? await vpcExec(args, { timeoutMs: 15_000 }) : await nodeExec(node, args, { timeoutMs: 15_000 })).code;
  };

  const targetStates = async (): Promise<string[]> => {
    const [group] = (await env.aws.elbv2.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: lb.arn }))).TargetGroups ?? [];
    const health = await env.aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: group!.TargetGroupArn! }));
    return (health.TargetHealthDescriptions ?? []).map((d) => `${d.TargetHealth?.State}${d.TargetHealth?.Reason ? ` ${d.TargetHealth.Reason}` : ''}`);
  };

  beforeAll(async () => {
    env = connect();
    // Resyncs only when the test asks: a periodic one would repair the revoked rule before it is seen to matter.
    web = await startNetworkedWeb(env, 'sg-traffic');
    ({ cluster, ns, node, nodeIp } = web);
    bastionIp = (await vpcExec(['sh', '-c', "ip -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1"])).stdout.trim();
    // ip targets over TCP: the client IP is not preserved, so the node can be a client of its own pod.
    await env.core.createNamespacedService({
      namespace: ns.name,
      body: loadBalancerServiceBody('guarded', {
        // A 2 s timeout: a dropped check fails fast, so the revoked rule shows as unhealthy sooner.
        annotations: { [Annotations.scheme]: 'internal', [Annotations.targetType]: 'ip', ...FAST_HEALTH_CHECK_ANNOTATIONS, [Annotations.healthCheckTimeout]: '2' },
        selector: { app: 'web' },
        ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
        spec: { loadBalancerSourceRanges: [`${bastionIp}/32`] },
      }),
    });
    lb = await serviceLoadBalancer(env, service(), 120_000);
  }, 400_000);

  afterAll(async () => {
    await web?.tearDown();
    env?.close();
  }, 180_000);

  it('the bastion (in loadBalancerSourceRanges) is answered; the node, another source in the VPC, is dropped (a timeout, not a refusal)', async () => {
    const answer = await waitFor(
      async () => {
        const response = await httpThroughLoadBalancer(env, service(), { path: '/hostname', timeoutMs: 3000 }).catch(() => undefined);
        return response?.status === 200 && response.body;
      },
      { description: 'the bastion answered through the NLB', timeoutMs: 90_000 },
    );
    expect(answer).toMatch(/^web-/);
    await waitFor(async () => (await targetStates()).join() === 'healthy', { description: 'the pod target healthy', timeoutMs: 60_000 });
    [nlbAddress = ''] = await resolveInVpc(env, lb.dnsName);
    expect(await curlFrom('node')).toBe(28);
    expect(await curlFrom('bastion')).toBe(0);
  });

  it('widening loadBalancerSourceRanges lets the node in', async () => {
    await env.core.patchNamespacedService(
      { namespace: ns.name, name: 'guarded', body: { spec: { loadBalancerSourceRanges: [`${bastionIp}/32`, `${nodeIp}/32`] } } },
      mergePatch,
    );
    // The node's pod is the target: the flow is DNATed back into the node's own subnet (routed, not bridged).
    await waitFor(async () => (await curlFrom('node')) === 0, { description: 'the node answered through the NLB once its address is a source range', timeoutMs: 60_000 });
    expect(await curlFrom('bastion')).toBe(0);
  });

  it('an open connection outlives the rule that let it in (tracked, as EC2 does); new ones from its source are dropped', async () => {
    const kept = keptConnection(env, nlbAddress);
    try {
      expect(await kept.get('/hostname')).toMatch(/^web-/);
      const setRanges = (ranges: string[]) =>
        env.core.patchNamespacedService({ namespace: ns.name, name: 'guarded', body: { spec: { loadBalancerSourceRanges: ranges } } }, mergePatch);
      await setRanges([`${nodeIp}/32`]);
      await waitFor(async () => (await curlFrom('bastion')) === 28, { description: 'new connections from the bastion dropped', timeoutMs: 60_000 });
      // Same connection (no NEWCONN mark): the frontend judges only a flow's first packet.
      expect(await kept.get('/hostname')).toMatch(/^web-/);
      await setRanges([`${bastionIp}/32`, `${nodeIp}/32`]);
      await waitFor(async () => (await curlFrom('bastion')) === 0, { description: 'the bastion let in again', timeoutMs: 60_000 });
    } finally {
      kept.close();
    }
  });

  it('the node group\'s backend rule revoked by hand: traffic and health checks stop reaching the pod; the next resync restores both', async () => {
    const [backend] =
      (
        await env.aws.ec2.send(
          new DescribeSecurityGroupsCommand({
            Filters: [
              { Name: `tag:${Tags.cluster}`, Values: [cluster.name] },
              { Name: 'tag:elbv2.k8s.aws/resource', Values: ['backend-sg'] },
            ],
          }),
        )
      ).SecurityGroups ?? [];
    await waitFor(async () => (await targetStates()).join() === 'healthy', { description: 'the pod target healthy', timeoutMs: 60_000 });
    await env.aws.ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: env.network.nodeSecurityGroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, UserIdGroupPairs: [{ GroupId: backend!.GroupId!, Description: NODE_RULE_DESCRIPTION }] }],
      }),
    );
    // The checks fail (the pod's group no longer lets the NLB in), so the target turns unhealthy as AWS reports it.
    await waitFor(async () => (await targetStates()).join() === 'unhealthy Target.FailedHealthChecks', { description: 'the pod target unhealthy', timeoutMs: 60_000 });
    // Fail-open sends the flows to it anyway; its group drops them.
    expect(await curlFrom('bastion')).toBe(28);
    expect(await curlFrom('node')).toBe(28);

    await cluster.manager.service!.resync();
    await waitFor(async () => (await targetStates()).join() === 'healthy', { description: 'the pod target healthy again after the resync', timeoutMs: 60_000 });
    await waitFor(async () => (await curlFrom('bastion')) === 0 && (await curlFrom('node')) === 0, { description: 'both answered again', timeoutMs: 30_000 });
  });
});
