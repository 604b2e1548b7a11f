import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeInstancesCommand,
  DescribeManagedPrefixListsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  type DescribeSecurityGroupsCommandInput,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SecurityGroupCloud } from '../../src/cloud/security-groups/index.ts';
import { UserError } from '../../src/core/annotations.ts';
import type { SecurityGroupAction } from '../../src/core/security-group-plan.ts';
import { NODE_RULE_DESCRIPTION } from '../../src/core/security-groups.ts';

const ec2 = mockClient(EC2Client);
const requests = () => ec2.calls().map((call) => [(call.args[0] as { constructor: { name: string } }).constructor.name.replace(/Command$/, ''), (call.args[0] as { input: unknown }).input]);
const filterNames = (input: DescribeSecurityGroupsCommandInput) => (input.Filters ?? []).map((f) => `${f.Name}=${f.Values?.join('|')}`);

beforeEach(() => ec2.reset());

describe('SecurityGroupCloud.apply: the request of each action kind', () => {
  const cases: [SecurityGroupAction, unknown[][]][] = [
    [
      { kind: 'CreateSecurityGroup', key: 'sg:managed', spec: { name: 'k8s-ns-web-0123456789', description: 'd', tags: { a: '1' } } },
      [['CreateSecurityGroup', { GroupName: 'k8s-ns-web-0123456789', Description: 'd', VpcId: 'vpc-1', TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'a', Value: '1' }] }] }]],
    ],
    [
      { kind: 'AuthorizeIngress', group: { id: 'sg-m' }, rules: [{ protocol: 'tcp', fromPort: 80, toPort: 80, cidr: '10.0.0.0/8' }, { protocol: 'icmpv6', fromPort: 2, toPort: 0, cidr: '::/0' }] },
      [['AuthorizeSecurityGroupIngress', { GroupId: 'sg-m', IpPermissions: [
        { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
        { IpProtocol: 'icmpv6', FromPort: 2, ToPort: 0, Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
      ] }]],
    ],
    [
      { kind: 'RevokeIngress', groupId: 'sg-m', rules: [{ protocol: 'udp', fromPort: 53, toPort: 53, cidr: '0.0.0.0/0' }] },
      [['RevokeSecurityGroupIngress', { GroupId: 'sg-m', IpPermissions: [{ IpProtocol: 'udp', FromPort: 53, ToPort: 53, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }]],
    ],
    [
      { kind: 'AuthorizeNodeRules', groupId: 'sg-node', source: { id: 'sg-b' }, rules: [{ protocol: 'tcp', fromPort: 30080, toPort: 30080 }] },
      [['AuthorizeSecurityGroupIngress', { GroupId: 'sg-node', IpPermissions: [{ IpProtocol: 'tcp', FromPort: 30080, ToPort: 30080, UserIdGroupPairs: [{ GroupId: 'sg-b', Description: NODE_RULE_DESCRIPTION }] }] }]],
    ],
    [
      { kind: 'RevokeNodeRules', groupId: 'sg-node', sourceId: 'sg-b', rules: [{ protocol: 'udp', fromPort: 30053, toPort: 30100 }] },
      [['RevokeSecurityGroupIngress', { GroupId: 'sg-node', IpPermissions: [{ IpProtocol: 'udp', FromPort: 30053, ToPort: 30100, UserIdGroupPairs: [{ GroupId: 'sg-b', Description: NODE_RULE_DESCRIPTION }] }] }]],
    ],
    [
      { kind: 'AuthorizeNodeCidrRules', groupId: 'sg-node', rules: [{ protocol: 'tcp', fromPort: 30080, toPort: 30080, cidr: '10.0.1.0/24' }, { protocol: 'udp', fromPort: 30053, toPort: 30053, cidr: '2001:db8::/32' }] },
      [['AuthorizeSecurityGroupIngress', { GroupId: 'sg-node', IpPermissions: [
        { IpProtocol: 'tcp', FromPort: 30080, ToPort: 30080, IpRanges: [{ CidrIp: '10.0.1.0/24', Description: NODE_RULE_DESCRIPTION }] },
        { IpProtocol: 'udp', FromPort: 30053, ToPort: 30053, Ipv6Ranges: [{ CidrIpv6: '2001:db8::/32', Description: NODE_RULE_DESCRIPTION }] },
      ] }]],
    ],
    [
      { kind: 'RevokeNodeCidrRules', groupId: 'sg-node', rules: [{ protocol: 'tcp', fromPort: 30080, toPort: 30080, cidr: '0.0.0.0/0' }] },
      [['RevokeSecurityGroupIngress', { GroupId: 'sg-node', IpPermissions: [{ IpProtocol: 'tcp', FromPort: 30080, ToPort: 30080, IpRanges: [{ CidrIp: '0.0.0.0/0', Description: NODE_RULE_DESCRIPTION }] }] }]],
    ],
    [
      { kind: 'AuthorizeIngress', group: { id: 'sg-m' }, rules: [{ protocol: 'tcp', fromPort: 80, toPort: 80, prefixListId: 'pl-0123abcd' }] },
      [['AuthorizeSecurityGroupIngress', { GroupId: 'sg-m', IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, PrefixListIds: [{ PrefixListId: 'pl-0123abcd' }] }] }]],
    ],
    [{ kind: 'DeleteSecurityGroup', groupId: 'sg-m', name: 'k8s-ns-web', reason: 'test' }, [['DeleteSecurityGroup', { GroupId: 'sg-m' }]]],
  ];

  it.each(cases.map(([action, expected]) => [action.kind, action, expected] as const))('%s', async (_kind, action, expected) => {
    ec2.onAnyCommand().resolves({});
    ec2.on(CreateSecurityGroupCommand).resolves({ GroupId: 'sg-new' });
    const created = new Map<string, string>();
    await new SecurityGroupCloud(new EC2Client({}), 'c1').apply('vpc-1', [action], created);
    expect(requests()).toEqual(expected);
    if (action.kind === 'CreateSecurityGroup') expect(created.get('sg:managed')).toBe('sg-new');
  });

  it('the backend group: concurrent reconciles of new Services create it once; one made elsewhere meanwhile is found by its tags', async () => {
    ec2.on(CreateSecurityGroupCommand).resolves({ GroupId: 'sg-b' });
    const cloud = new SecurityGroupCloud(new EC2Client({}), 'c1');
    const create: SecurityGroupAction = { kind: 'CreateSecurityGroup', key: 'sg:backend', spec: { name: 'k8s-traffic-c1-0123456789', description: 'd', tags: {} } };
    const created = [new Map<string, string>(), new Map<string, string>()];
    await Promise.all(created.map((map) => cloud.apply('vpc-1', [create], map)));
    expect(created.map((map) => map.get('sg:backend'))).toEqual(['sg-b', 'sg-b']);
    expect(requests().map(([op]) => op)).toEqual(['CreateSecurityGroup']);

    ec2.reset();
    ec2.on(CreateSecurityGroupCommand).rejects(Object.assign(new Error('exists'), { name: 'InvalidGroup.Duplicate' }));
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-other-process' }] });
    const map = new Map<string, string>();
    await new SecurityGroupCloud(new EC2Client({}), 'c1').apply('vpc-1', [create], map);
    expect(map.get('sg:backend')).toBe('sg-other-process');
  });

  it('a rule already there or already gone is not an error (a retried plan)', async () => {
    const duplicate = Object.assign(new Error('exists'), { name: 'InvalidPermission.Duplicate' });
    const missing = Object.assign(new Error('gone'), { name: 'InvalidPermission.NotFound' });
    ec2.on(AuthorizeSecurityGroupIngressCommand).rejects(duplicate);
    ec2.on(RevokeSecurityGroupIngressCommand).rejects(missing);
    await new SecurityGroupCloud(new EC2Client({}), 'c1').apply('vpc-1', [cases[3]![0], cases[4]![0], cases[5]![0], cases[6]![0]], new Map());
    expect(requests().map(([op]) => op)).toEqual(['AuthorizeSecurityGroupIngress', 'RevokeSecurityGroupIngress', 'AuthorizeSecurityGroupIngress', 'RevokeSecurityGroupIngress']);
  });

  it('a group still in use (DependencyViolation) is retried, then the error surfaces', { timeout: 20_000 }, async () => {
    ec2.on(DeleteSecurityGroupCommand).rejectsOnce(Object.assign(new Error('in use'), { name: 'DependencyViolation' })).resolves({});
    await new SecurityGroupCloud(new EC2Client({}), 'c1').apply('vpc-1', [cases.at(-1)![0]], new Map());
    expect(requests().map(([op]) => op)).toEqual(['DeleteSecurityGroup', 'DeleteSecurityGroup']);
  });
});

describe('SecurityGroupCloud.observe', () => {
  const backend = { GroupId: 'sg-b', GroupName: 'k8s-traffic-c1-0123456789' };
  const managed = { GroupId: 'sg-m', GroupName: 'k8s-ns-web-0123456789', Tags: [{ Key: 'service.k8s.aws/stack', Value: 'ns/web' }], IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] };
  const node = {
    GroupId: 'sg-node',
    IpPermissions: [
      { IpProtocol: 'tcp', FromPort: 30080, ToPort: 31000, UserIdGroupPairs: [{ GroupId: 'sg-b', Description: NODE_RULE_DESCRIPTION }] },
      // Someone else's rule from our backend group (no description of ours): never ours to revoke.
      { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, UserIdGroupPairs: [{ GroupId: 'sg-b' }] },
      // A CIDR rule of ours (an NLB without groups) and someone else's from the same range.
      { IpProtocol: 'udp', FromPort: 30053, ToPort: 30053, IpRanges: [{ CidrIp: '0.0.0.0/0', Description: NODE_RULE_DESCRIPTION }, { CidrIp: '10.0.0.0/16' }] },
    ],
  };

  beforeEach(() => {
    ec2.on(DescribeSecurityGroupsCommand).callsFake((input: DescribeSecurityGroupsCommandInput) => {
      const filters = filterNames(input).join(' ');
      if (filters.includes('tag:service.k8s.aws/resource=ManagedLBSecurityGroup')) return { SecurityGroups: [managed] };
      if (filters.includes('tag:elbv2.k8s.aws/resource=backend-sg')) return { SecurityGroups: [backend] };
      if (filters.includes('ip-permission.group-id=sg-b')) return { SecurityGroups: [node] };
      if (filters.includes('tag:Name=frontend')) return { SecurityGroups: [{ GroupId: 'sg-f', Tags: [{ Key: 'Name', Value: 'frontend' }] }] };
      if (filters.includes('group-id=sg-x')) return { SecurityGroups: [{ GroupId: 'sg-x' }] };
      // The node group is cluster-tagged (and comes whole with the backend read: no read of its own).
      if (filters.includes('tag-key=kubernetes.io/cluster/c1')) return { SecurityGroups: [{ GroupId: 'sg-node' }] };
      return { SecurityGroups: [] };
    });
    ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [{ Instances: [{ InstanceId: 'i-1', NetworkInterfaces: [{ Attachment: { DeviceIndex: 0 }, Groups: [{ GroupId: 'sg-node' }] }] }] }],
    });
  });

  it('instance targets: managed group with ingress, backend group, our node rules only, the primary ENI group; the backend group and node groups remembered', async () => {
    const cloud = new SecurityGroupCloud(new EC2Client({}), 'c1');
    const read = { stackId: 'ns/web', named: [], targets: { type: 'instance' as const, ids: ['i-1'] } };
    expect(await cloud.observe('vpc-1', read)).toEqual({
      managed: [{ id: 'sg-m', name: managed.GroupName, ingress: [{ protocol: 'tcp', fromPort: 80, toPort: 80, cidr: '0.0.0.0/0' }] }],
      backendId: 'sg-b',
      namedIds: [],
      nodeGroupIds: ['sg-node'],
      nodeRules: [{ groupId: 'sg-node', protocol: 'tcp', fromPort: 30080, toPort: 31000 }, { groupId: 'sg-node', protocol: 'udp', fromPort: 30053, toPort: 30053, cidr: '0.0.0.0/0' }],
    });
    // The cluster-tagged groups once per process, after the targets' (where CIDR node rules are looked for).
    expect(requests().map(([op]) => op)).toEqual(['DescribeSecurityGroups', 'DescribeSecurityGroups', 'DescribeInstances', 'DescribeSecurityGroups', 'DescribeSecurityGroups']);
    ec2.resetHistory();
    await cloud.observe('vpc-1', read);
    // Steady state: the stack's group and our node rules, 2 calls.
    expect(requests().map(([op]) => op)).toEqual(['DescribeSecurityGroups', 'DescribeSecurityGroups']);
  });

  it('a resync pass reads every stack\'s groups at once: each stack of it then reads none, once; a write of ours drops the pass', async () => {
    const cloud = new SecurityGroupCloud(new EC2Client({}), 'c1');
    const web = { stackId: 'ns/web', named: [], targets: { type: 'instance' as const, ids: ['i-1'] } };
    const api = { ...web, stackId: 'ns/api' };
    await cloud.observe('vpc-1', web);
    const direct = await cloud.observe('vpc-1', web);
    ec2.resetHistory();
    await cloud.prefetch('vpc-1', ['ns/web', 'ns/api']);
    // All managed groups of the cluster, and the groups holding our node rules.
    expect(requests().map(([op]) => op)).toEqual(['DescribeSecurityGroups', 'DescribeSecurityGroups']);
    ec2.resetHistory();
    expect(await cloud.observe('vpc-1', web)).toEqual(direct);
    expect(await cloud.observe('vpc-1', api)).toEqual({ ...direct, managed: [] });
    expect(requests()).toEqual([]);
    // Taken once: the next observe of a stack reads for itself.
    await cloud.observe('vpc-1', web);
    expect(requests().map(([op]) => op)).toEqual(['DescribeSecurityGroups', 'DescribeSecurityGroups']);
    await cloud.prefetch('vpc-1', ['ns/web']);
    await cloud.apply('vpc-1', [], new Map());
    ec2.resetHistory();
    await cloud.observe('vpc-1', web);
    expect(requests().map(([op]) => op)).toEqual(['DescribeSecurityGroups', 'DescribeSecurityGroups']);
  });

  it('a stack whose targets sit in a node group the pass did not cover reads its node groups itself', async () => {
    const cloud = new SecurityGroupCloud(new EC2Client({}), 'c1');
    await cloud.prefetch('vpc-1', ['ns/web']);
    ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [{ Instances: [{ InstanceId: 'i-2', NetworkInterfaces: [{ Attachment: { DeviceIndex: 0 }, Groups: [{ GroupId: 'sg-new' }] }] }] }],
    });
    ec2.resetHistory();
    await cloud.observe('vpc-1', { stackId: 'ns/web', named: [], targets: { type: 'instance', ids: ['i-2'] } });
    expect(requests().map(([op, input]) => `${op} ${filterNames(input as DescribeSecurityGroupsCommandInput).join(' ')}`)).toEqual([
      'DescribeInstances ',
      'DescribeSecurityGroups vpc-id=vpc-1 ip-permission.group-id=sg-b',
      'DescribeSecurityGroups vpc-id=vpc-1 group-id=sg-new',
    ]);
  });

  it('CIDR node rules on a cluster-tagged group the backend read did not return: read by ID, ours only', async () => {
    ec2.on(DescribeSecurityGroupsCommand).callsFake((input: DescribeSecurityGroupsCommandInput) => {
      const filters = filterNames(input).join(' ');
      if (filters.includes('tag-key=kubernetes.io/cluster/c1')) return { SecurityGroups: [{ GroupId: 'sg-legacy' }] };
      if (filters.includes(' group-id=sg-legacy')) {
        const ranges = [{ CidrIp: '10.0.1.0/24', Description: NODE_RULE_DESCRIPTION }, { CidrIp: '10.0.2.0/24' }];
        return { SecurityGroups: [{ GroupId: 'sg-legacy', IpPermissions: [{ IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, IpRanges: ranges }] }] };
      }
      return { SecurityGroups: [] };
    });
    const actual = await new SecurityGroupCloud(new EC2Client({}), 'c1').observe('vpc-1', { stackId: 'ns/web', named: [], targets: { type: 'ip', ids: [] } });
    expect(actual.nodeRules).toEqual([{ groupId: 'sg-legacy', protocol: 'tcp', fromPort: 8080, toPort: 8080, cidr: '10.0.1.0/24' }]);
  });

  it('ip targets: a pod address the address filter misses (moto: primary addresses only) is found in the VPC ENIs', async () => {
    ec2.on(DescribeNetworkInterfacesCommand).callsFake((input: { Filters?: { Name?: string }[] }) =>
      input.Filters?.[0]?.Name === 'vpc-id'
        ? { NetworkInterfaces: [{ Groups: [{ GroupId: 'sg-pod' }], PrivateIpAddresses: [{ PrivateIpAddress: '10.0.64.10' }, { PrivateIpAddress: '10.0.64.11' }] }] }
        : { NetworkInterfaces: [] },
    );
    const actual = await new SecurityGroupCloud(new EC2Client({}), 'c1').observe('vpc-1', { stackId: 'ns/web', named: [], targets: { type: 'ip', ids: ['10.0.64.11'] } });
    expect(actual.nodeGroupIds).toEqual(['sg-pod']);
  });

  it('security-groups annotation: IDs and Name tags resolved in order; an unknown name is a UserError naming the annotation', async () => {
    const cloud = new SecurityGroupCloud(new EC2Client({}), 'c1');
    const targets = { type: 'instance' as const, ids: [] };
    expect((await cloud.observe('vpc-1', { stackId: 'ns/web', named: ['frontend', 'sg-x'], targets })).namedIds).toEqual(['sg-f', 'sg-x']);
    const error = await cloud.observe('vpc-1', { stackId: 'ns/web', named: ['nope'], targets }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toBe('annotation service.beta.kubernetes.io/aws-load-balancer-security-groups: invalid value "nope": no security group "nope" in vpc-1');
  });

  it('security-group-prefix-lists: rules naming a list are read back as such; a list that does not exist is a UserError naming the annotation', async () => {
    const withList = { ...managed, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, PrefixListIds: [{ PrefixListId: 'pl-0123abcd' }] }] };
    ec2.on(DescribeSecurityGroupsCommand).callsFake((input: DescribeSecurityGroupsCommandInput) => ({ SecurityGroups: filterNames(input).join(' ').includes('ManagedLBSecurityGroup') ? [withList] : [] }));
    ec2.on(DescribeManagedPrefixListsCommand).resolves({ PrefixLists: [{ PrefixListId: 'pl-0123abcd' }] });
    const cloud = new SecurityGroupCloud(new EC2Client({}), 'c1');
    const targets = { type: 'instance' as const, ids: [] };
    const actual = await cloud.observe('vpc-1', { stackId: 'ns/web', named: [], targets, prefixLists: ['pl-0123abcd'] });
    expect(actual.managed[0]!.ingress).toEqual([{ protocol: 'tcp', fromPort: 80, toPort: 80, prefixListId: 'pl-0123abcd' }]);
    expect(ec2.commandCalls(DescribeManagedPrefixListsCommand).map((c) => c.args[0].input)).toEqual([{ Filters: [{ Name: 'prefix-list-id', Values: ['pl-0123abcd'] }] }]);
    const error = await cloud.observe('vpc-1', { stackId: 'ns/web', named: [], targets, prefixLists: ['pl-0123abcd', 'pl-gone'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toBe('annotation service.beta.kubernetes.io/aws-load-balancer-security-group-prefix-lists: invalid value "pl-0123abcd,pl-gone": no managed prefix list pl-gone');
  });
});
