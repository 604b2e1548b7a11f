import { CreateSecurityGroupCommand, DeleteSecurityGroupCommand, DescribeSecurityGroupsCommand, DescribeVpcsCommand, RevokeSecurityGroupIngressCommand, type SecurityGroup } from '@aws-sdk/client-ec2';
import { DescribeListenersCommand, DescribeLoadBalancersCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { PatchStrategy, setHeaderOptions, type V1Service } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeService, renderServiceTree } from '../../src/cli/describe.ts';
import { callsBetween } from '../../src/cloud/calls.ts';
import { Annotations, Tags } from '../../src/core/annotations.ts';
import { INSTANCE_ID_ANNOTATION } from '../../src/core/nodes.ts';
import { NODE_RULE_DESCRIPTION } from '../../src/core/security-groups.ts';
import { connect, createKwokNode, createTestNamespace, deleteNodes, uniqueName, waitFor, waitForLoadBalancer, type TestEnvironment } from '../../src/testing/index.ts';
import { startTestCluster, waitForEvent, type TestCluster } from './support/controller.ts';
import { nodeRulesFrom } from './support/node-rules.ts';

// NLB security groups (issue 12) end to end: the service controller against the real kube-apiserver and the emulator.
describe('NLB security groups', () => {
  let env: TestEnvironment;
  let cluster: TestCluster;
  let ns: { name: string; remove: () => Promise<void> };
  const node = uniqueName('sg-node');
  const nodeLabel = { 'cloud-provider-localstack/test-node': 'security-groups' };
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

  const createService = (name: string, annotations: Record<string, string> = {}, spec: Partial<NonNullable<V1Service['spec']>> = {}) =>
    env.core.createNamespacedService({
      namespace: ns.name,
      body: { metadata: { name, annotations }, spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], ...spec } },
    });
  const groupsWhere = async (filters: { Name: string; Values: string[] }[]): Promise<SecurityGroup[]> =>
    (await env.aws.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [env.network.vpcId] }, ...filters] }))).SecurityGroups ?? [];
  const ourGroups = () => groupsWhere([{ Name: `tag:${Tags.cluster}`, Values: [cluster.name] }]);
  const managedGroupOf = async (name: string) => (await groupsWhere([{ Name: `tag:${Tags.stack}`, Values: [`${ns.name}/${name}`] }]))[0];
  const backendGroup = async () => (await groupsWhere([{ Name: `tag:${Tags.cluster}`, Values: [cluster.name] }, { Name: 'tag:elbv2.k8s.aws/resource', Values: ['backend-sg'] }]))[0];
  const ingressOf = (group: SecurityGroup | undefined) =>
    (group?.IpPermissions ?? []).flatMap((p) => (p.IpRanges ?? []).map((r) => `${p.IpProtocol} ${p.FromPort}-${p.ToPort} ${r.CidrIp}`)).sort();
  /** Our rules on the node group: from our backend group, described as ours. */
  const nodeRules = (backendId: string) => nodeRulesFrom(env, backendId);
  /** Our CIDR rules on the node group (an NLB without groups). */
  const cidrNodeRules = async () => {
    const [group] = (await env.aws.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [env.network.nodeSecurityGroupId] }))).SecurityGroups ?? [];
    return (group?.IpPermissions ?? []).flatMap((p) => (p.IpRanges ?? []).filter((r) => r.Description === NODE_RULE_DESCRIPTION).map((r) => `${p.IpProtocol} ${p.FromPort}-${p.ToPort} ${r.CidrIp}`)).sort();
  };
  const loadBalancerGroups = async (arn: string) => (await env.aws.elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [arn] }))).LoadBalancers?.[0]?.SecurityGroups ?? [];

  beforeAll(async () => {
    env = connect();
    ns = await createTestNamespace(env.core, 'sg');
    await createKwokNode(env.core, node, { labels: nodeLabel });
    cluster = await startTestCluster(env, { watchNamespace: ns.name, nodeSelector: 'cloud-provider-localstack/test-node=security-groups' });
    await waitFor(async () => (await env.core.readNode({ name: node })).metadata?.annotations?.[INSTANCE_ID_ANNOTATION], { description: `instance of ${node}` });
  });

  afterAll(async () => {
    await ns?.remove();
    await deleteNodes(env.core, [node]);
    await cluster?.stop();
    await cluster?.sweep();
    env?.close();
  });

  it('a new Service: its managed group lets its ports in from everyone, the node group lets the backend group in, the NLB carries both', async () => {
    await cluster.manager.idle();
    const before = cluster.manager.aws.calls.snapshot();
    const created = await createService('web');
    const nodePort = created.spec!.ports![0]!.nodePort!;
    const lb = await waitForLoadBalancer(env, ns.name, 'web', (observed) => observed.listeners.length === 1);
    await waitForEvent(env, ns.name, 'web', 'EnsuredLoadBalancer');
    await cluster.manager.idle();
    const calls = callsBetween(before, cluster.manager.aws.calls.snapshot());
    const writes = Object.entries(calls).filter(([op]) => !/:(Describe|List|Get)/.test(op));
    console.info('AWS calls for one new 1-port Service with security groups:', Object.values(calls).reduce((a, b) => a + b, 0), 'writes:', writes.reduce((a, [, n]) => a + n, 0), JSON.stringify(calls));

    const managed = await managedGroupOf('web');
    const backend = await backendGroup();
    expect(managed?.GroupName).toMatch(/^k8s-sg.*-web-[0-9a-f]{10}$/);
    expect(managed?.Description).toBe('[k8s] Managed SecurityGroup for LoadBalancer');
    expect(Object.fromEntries((managed?.Tags ?? []).map((t) => [t.Key, t.Value]))).toMatchObject({ [Tags.cluster]: cluster.name, [Tags.resource]: 'ManagedLBSecurityGroup' });
    expect(ingressOf(managed)).toEqual(['tcp 80-80 0.0.0.0/0']);
    expect(backend?.GroupName).toMatch(/^k8s-traffic-/);
    expect(await nodeRules(backend!.GroupId!)).toEqual([`tcp ${nodePort}-${nodePort}`]);
    expect((await loadBalancerGroups(lb.arn)).sort()).toEqual([managed!.GroupId!, backend!.GroupId!].sort());
    expect(calls['EC2:CreateSecurityGroup']).toBe(2);

    // describe shows them.
    const described = await describeService(cluster.manager, `${ns.name}/web`);
    expect(described.loadBalancers[0]!.securityGroups).toEqual([
      { id: managed!.GroupId!, role: 'managed', ingress: ['tcp 80 from 0.0.0.0/0'] },
      { id: backend!.GroupId!, role: 'backend' },
    ]);
    expect(described.nodeRules).toEqual([`${env.network.nodeSecurityGroupId} tcp ${nodePort}`]);
    expect(renderServiceTree(described)).toContain(`security groups ${managed!.GroupId!} (managed: tcp 80 from 0.0.0.0/0), ${backend!.GroupId!} (backend)`);
  });

  it('changing loadBalancerSourceRanges updates the ingress', async () => {
    await env.core.patchNamespacedService({ namespace: ns.name, name: 'web', body: { spec: { loadBalancerSourceRanges: ['203.0.113.0/24', '198.51.100.7/32'] } } }, mergePatch);
    await waitFor(async () => ingressOf(await managedGroupOf('web')).join() === ['tcp 80-80 198.51.100.7/32', 'tcp 80-80 203.0.113.0/24'].join(), { description: 'ingress from the new ranges only' });
  });

  it('a node rule removed by hand is repaired on the next resync', async () => {
    const backendId = (await backendGroup())!.GroupId!;
    const [rule] = await nodeRules(backendId);
    const [fromPort, toPort] = rule!.split(' ')[1]!.split('-').map(Number);
    await env.aws.ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: env.network.nodeSecurityGroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: fromPort, ToPort: toPort, UserIdGroupPairs: [{ GroupId: backendId, Description: NODE_RULE_DESCRIPTION }] }],
      }),
    );
    expect(await nodeRules(backendId)).toEqual([]);
    await cluster.manager.service!.resync();
    await waitFor(async () => (await nodeRules(backendId)).length === 1, { description: 'node rule authorized again' });
  });

  it('disable-nlb-sg: an NLB without security groups and no managed group', async () => {
    await createService('plain', { [Annotations.disableNlbSecurityGroup]: 'true' }, { ports: [{ name: 'http', port: 81, targetPort: 8080, protocol: 'TCP' }] });
    const lb = await waitForLoadBalancer(env, ns.name, 'plain', (observed) => observed.listeners.length === 1);
    await cluster.manager.idle();
    expect(await loadBalancerGroups(lb.arn)).toEqual([]);
    expect(await managedGroupOf('plain')).toBeUndefined();
    // Instead, as the LBC's legacy path: internal, instance targets preserve client IPs, so the VPC's CIDR on the NodePort.
    const nodePort = (await env.core.readNamespacedService({ namespace: ns.name, name: 'plain' })).spec!.ports![0]!.nodePort!;
    const vpcCidr = (await env.aws.ec2.send(new DescribeVpcsCommand({ VpcIds: [env.network.vpcId] }))).Vpcs?.[0]?.CidrBlock;
    await waitFor(async () => (await cidrNodeRules()).includes(`tcp ${nodePort}-${nodePort} ${vpcCidr}`), { description: `tcp ${nodePort} from ${vpcCidr} on the node group` });
  });

  it('a bad source range is a Warning naming the field and value, before any AWS write', async () => {
    await cluster.manager.idle();
    const before = cluster.manager.aws.calls.mutating;
    await createService('bad', {}, { ports: [{ name: 'http', port: 82, targetPort: 8080, protocol: 'TCP' }], loadBalancerSourceRanges: ['2001:db8::/32'] });
    const event = await waitForEvent(env, ns.name, 'bad', 'SyncLoadBalancerFailed');
    expect(event.message).toContain('spec.loadBalancerSourceRanges: invalid value "2001:db8::/32"');
    await cluster.manager.idle();
    expect(cluster.manager.aws.calls.mutating).toBe(before);
    await env.core.deleteNamespacedService({ namespace: ns.name, name: 'bad' });
  });

  it('security-groups by Name tag: only that group and, with manage-backend-security-group-rules, the backend group; an unknown name is a Warning', async () => {
    const frontendName = uniqueName('frontend');
    const { GroupId: frontendId } = await env.aws.ec2.send(
      new CreateSecurityGroupCommand({ GroupName: frontendName, Description: 'test', VpcId: env.network.vpcId, TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'Name', Value: frontendName }] }] }),
    );
    try {
      const annotations = { [Annotations.securityGroups]: frontendName, [Annotations.manageBackendSecurityGroupRules]: 'true' };
      await createService('named', annotations, { ports: [{ name: 'http', port: 83, targetPort: 8080, protocol: 'TCP' }] });
      const lb = await waitForLoadBalancer(env, ns.name, 'named', (observed) => observed.listeners.length === 1);
      await cluster.manager.idle();
      expect((await loadBalancerGroups(lb.arn)).sort()).toEqual([frontendId!, (await backendGroup())!.GroupId!].sort());
      expect(await managedGroupOf('named')).toBeUndefined();
      // Both Services' NodePorts, one rule: the LBC's aggregation per node group, protocol and source (EC2 allows 60 rules a group).
      const nodePorts = (await env.core.listNamespacedService({ namespace: ns.name })).items
        .filter((s) => ['web', 'named'].includes(s.metadata!.name!))
        .map((s) => s.spec!.ports![0]!.nodePort!)
        .sort((a, b) => a - b);
      const backendId = (await backendGroup())!.GroupId!;
      await waitFor(async () => (await nodeRules(backendId)).join() === `tcp ${nodePorts[0]}-${nodePorts[1]}`, { description: `one node rule over NodePorts ${nodePorts.join(', ')}` });

      await createService('unknown', { [Annotations.securityGroups]: 'no-such-group' }, { ports: [{ name: 'http', port: 84, targetPort: 8080, protocol: 'TCP' }] });
      const event = await waitForEvent(env, ns.name, 'unknown', 'SyncLoadBalancerFailed');
      expect(event.message).toContain(`annotation ${Annotations.securityGroups}: invalid value "no-such-group": no security group "no-such-group"`);
    } finally {
      for (const name of ['named', 'unknown']) await env.core.deleteNamespacedService({ namespace: ns.name, name }).catch(() => undefined);
      await waitFor(async () => (await env.core.listNamespacedService({ namespace: ns.name })).items.every((s) => !['named', 'unknown'].includes(s.metadata!.name!)), { description: 'named Services gone' });
      await env.aws.ec2.send(new DeleteSecurityGroupCommand({ GroupId: frontendId! }));
    }
  });

  it('deleting the Services leaves no security group, rule or listener behind', async () => {
    const backendId = (await backendGroup())!.GroupId!;
    const lb = await waitForLoadBalancer(env, ns.name, 'web', (observed) => observed.listeners.length === 1);
    for (const name of ['web', 'plain']) await env.core.deleteNamespacedService({ namespace: ns.name, name });
    await waitFor(async () => (await env.core.listNamespacedService({ namespace: ns.name })).items.length === 0, { description: 'Services gone (finalizers released)' });
    expect(await ourGroups()).toEqual([]);
    expect(await nodeRules(backendId)).toEqual([]);
    expect(await cidrNodeRules()).toEqual([]);
    const listeners = await env.aws.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.arn })).then((r) => r.Listeners ?? [], () => []);
    expect(listeners).toEqual([]);
  });
});
