import { DescribeSecurityGroupsCommand, DescribeSubnetsCommand, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { DescribeLoadBalancersCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeService, renderServiceTree } from '../../src/cli/describe.ts';
import { Annotations } from '../../src/core/annotations.ts';
import { NODE_RULE_DESCRIPTION } from '../../src/core/security-groups.ts';
import {
  connect,
  describeLoadBalancer,
  FAST_HEALTH_CHECK_ANNOTATIONS,
  httpThroughLoadBalancer,
  loadBalancerServiceBody,
  resolveInVpc,
  serviceLoadBalancer,
  vpcExec,
  waitFor,
  type ServiceLoadBalancer,
  type TestEnvironment,
} from '../../src/testing/index.ts';
import { startNetworkedWeb, type NetworkedWeb } from './support/networked-web.ts';


// An NLB without security groups (disable-nlb-sg) filters nothing itself, but the data plane still enforces the
// targets' group (ADR 0014): only the CIDR node rules the controller adds as the LBC's legacy path does
// (legacy-node-rules.ts) let its traffic and health checks reach the pod.
describe('disable-nlb-sg: CIDR node rules carry the traffic of an NLB without security groups', () => {
  let env: TestEnvironment;
  let web: NetworkedWeb;
  let lb: ServiceLoadBalancer;
  let subnetCidrs: string[] = [];
  let nlbAddress = '';
  const service = () => ({ namespace: web.ns.name, name: 'plain' });

  /** Our CIDR rules on the node group (`tcp 8080 from 10.0.1.0/24`), sorted. */
  const cidrRules = async (): Promise<string[]> => {
    const [group] = (await env.aws.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [env.network.nodeSecurityGroupId] }))).SecurityGroups ?? [];
    return (group?.IpPermissions ?? [])
      .flatMap((p) => (p.IpRanges ?? []).filter((r) => r.Description === NODE_RULE_DESCRIPTION).map((r) => `${p.IpProtocol} ${p.FromPort === p.ToPort ? p.FromPort : `${p.FromPort}-${p.ToPort}`} from ${r.CidrIp}`))
      .sort();
  };
  /** The health of the NLB's targets as ELBv2 reports it (`healthy`, `unhealthy`). */
  const targetStates = async (): Promise<string> => (await describeLoadBalancer(env, lb.arn)).listeners.flatMap((l) => l.targets.map((t) => t.health)).join();
  /** curl from the bastion to the NLB's address: its exit code (0 answered, 28 timed out). */
  const curlFromBastion = async (): Promise<number> => (await vpcExec(['curl', '-s', '-o', '/dev/null', '-m', '3', `http://${nlbAddress}/hostname`], { timeoutMs: 15_000 })).code;

  beforeAll(async () => {
    env = connect();
    web = await startNetworkedWeb(env, 'sg-legacy');
    // ip targets over TCP: the client IP is not preserved, so traffic and checks both come from the NLB's subnets.
    await env.core.createNamespacedService({
      namespace: web.ns.name,
      body: loadBalancerServiceBody('plain', {
        annotations: {
          [Annotations.disableNlbSecurityGroup]: 'true',
          [Annotations.scheme]: 'internal',
          [Annotations.targetType]: 'ip',
          ...FAST_HEALTH_CHECK_ANNOTATIONS,
          [Annotations.healthCheckTimeout]: '2',
        },
        selector: { app: 'web' },
        ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
      }),
    });
    lb = await serviceLoadBalancer(env, service(), 120_000);
    const [described] = (await env.aws.elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [lb.arn] }))).LoadBalancers ?? [];
    const subnetIds = (described?.AvailabilityZones ?? []).map((z) => z.SubnetId!);
    subnetCidrs = ((await env.aws.ec2.send(new DescribeSubnetsCommand({ SubnetIds: subnetIds }))).Subnets ?? []).map((s) => s.CidrBlock!);
  }, 400_000);

  afterAll(async () => {
    await web?.tearDown();
    env?.close();
  }, 180_000);

  it('the NLB has no security groups; the node group lets the traffic port in from its subnets (no separate check rule: the same port); describe shows them', async () => {
    const [described] = (await env.aws.elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [lb.arn] }))).LoadBalancers ?? [];
    expect(described?.SecurityGroups ?? []).toEqual([]);
    expect(subnetCidrs.length).toBeGreaterThan(0);
    const expected = subnetCidrs.map((cidr) => `tcp 8080 from ${cidr}`).sort();
    await waitFor(async () => (await cidrRules()).join() === expected.join(), { description: `CIDR node rules ${expected.join(', ')}`, timeoutMs: 60_000 });
    const tree = await describeService(web.cluster.manager, `${web.ns.name}/plain`);
    expect(tree.nodeRules.sort()).toEqual(subnetCidrs.map((cidr) => `${env.network.nodeSecurityGroupId} tcp 8080 from ${cidr}`).sort());
    expect(renderServiceTree(tree)).toContain('security groups none');
  });

  it('the bastion is answered through the NLB, and the pod target is healthy', async () => {
    const answer = await waitFor(
      async () => {
        const response = await httpThroughLoadBalancer(env, service(), { path: '/hostname', timeoutMs: 3000 }).catch(() => undefined);
        return response?.status === 200 && response.body;
      },
      { description: 'the bastion answered through the NLB', timeoutMs: 90_000 },
    );
    expect(answer).toMatch(/^web-/);
    await waitFor(async () => (await targetStates()) === 'healthy', { description: 'the pod target healthy', timeoutMs: 60_000 });
    [nlbAddress = ''] = await resolveInVpc(env, lb.dnsName);
    expect(await curlFromBastion()).toBe(0);
  });

  it('the CIDR rules revoked by hand: checks and traffic are dropped; the next resync authorizes them again', async () => {
    await env.aws.ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: env.network.nodeSecurityGroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, IpRanges: subnetCidrs.map((CidrIp) => ({ CidrIp, Description: NODE_RULE_DESCRIPTION })) }],
      }),
    );
    expect(await cidrRules()).toEqual([]);
    await waitFor(async () => (await targetStates()) === 'unhealthy', { description: 'the pod target unhealthy', timeoutMs: 60_000 });
    expect(await curlFromBastion()).toBe(28);

    await web.cluster.manager.service!.resync();
    await waitFor(async () => (await cidrRules()).length === subnetCidrs.length, { description: 'CIDR node rules back', timeoutMs: 60_000 });
    await waitFor(async () => (await targetStates()) === 'healthy', { description: 'the pod target healthy again', timeoutMs: 60_000 });
    await waitFor(async () => (await curlFromBastion()) === 0, { description: 'the bastion answered again', timeoutMs: 30_000 });
  });

  it('deleting the Service revokes its CIDR rules', async () => {
    await env.core.deleteNamespacedService({ namespace: web.ns.name, name: 'plain' });
    await waitFor(async () => (await env.core.listNamespacedService({ namespace: web.ns.name })).items.length === 0, { description: 'Service gone (finalizer released)', timeoutMs: 90_000 });
    expect(await cidrRules()).toEqual([]);
  });
});
