import { DescribeNetworkInterfacesCommand, DescribeSecurityGroupsCommand, EC2Client, GetManagedPrefixListEntriesCommand } from '@aws-sdk/client-ec2';
import type { V1Service } from '@kubernetes/client-node';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { Annotations } from '../../src/core/annotations.ts';
import { describeIngressRule, PREFIX_LISTS_ANNOTATION, prefixListIdsOf, sourceCidrs } from '../../src/core/security-groups.ts';
import { readSecurityFacts } from '../../src/dataplane/aws.ts';
import { model } from './support/lbc-model.ts';
import { thrownUserError as userError } from './support/user-error.ts';

/** security-group-prefix-lists: the managed group's rules (ours beyond the LBC's tables, which R2's file ports) and the data plane's reading of them. */

function service(annotations: Record<string, string>, spec: Partial<NonNullable<V1Service['spec']>> = {}): V1Service {
  return {
    metadata: { namespace: 'ns', name: 'svc', uid: 'uid-1', annotations },
    spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }, { name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 }], ...spec },
  };
}

describe('security-group-prefix-lists in the model', () => {
  it('each list on every listener port and protocol, after the CIDR rules; no 0.0.0.0/0 without source ranges', () => {
    const ingress = model(service({ [PREFIX_LISTS_ANNOTATION]: 'pl-0123abcd, pl-4567ef01' })).securityGroups!.managed!.ingress;
    expect(ingress.map(describeIngressRule)).toEqual(['udp 53 from pl-0123abcd', 'tcp 80 from pl-0123abcd', 'udp 53 from pl-4567ef01', 'tcp 80 from pl-4567ef01']);
    expect(prefixListIdsOf(ingress)).toEqual(['pl-0123abcd', 'pl-4567ef01']);
  });

  it('with source ranges: the ranges and the lists (ICMP for path MTU discovery from the ranges only, as the LBC)', () => {
    const svc = service({ [PREFIX_LISTS_ANNOTATION]: 'pl-0123abcd', [Annotations.icmpForPathMtuDiscovery]: 'on' }, { ports: [{ port: 80, protocol: 'TCP', nodePort: 30080 }], loadBalancerSourceRanges: ['10.0.0.0/8'] });
    expect(model(svc).securityGroups!.managed!.ingress.map(describeIngressRule)).toEqual(['tcp 80 from 10.0.0.0/8', 'icmp 3-4 from 10.0.0.0/8', 'tcp 80 from pl-0123abcd']);
    expect(sourceCidrs(svc, false)).toEqual(['10.0.0.0/8']);
  });

  it('a list named twice is one rule per port', () => {
    expect(model(service({ [PREFIX_LISTS_ANNOTATION]: 'pl-0123abcd,pl-0123abcd' })).securityGroups!.managed!.ingress).toHaveLength(2);
  });

  it('with the security-groups annotation (no managed group) the lists are not used, as in the LBC', () => {
    expect(model(service({ [PREFIX_LISTS_ANNOTATION]: 'pl-0123abcd', [Annotations.securityGroups]: 'sg-1' })).securityGroups!.managed).toBeUndefined();
  });

  it.each([
    ['a CIDR', '10.0.0.0/8', 'is not a managed prefix list ID (pl-…)'],
    ['a security group', 'pl-0123abcd,sg-1', 'is not a managed prefix list ID (pl-…)'],
    ['nothing', ' , ', 'must list at least one value'],
  ])('refused before any write: %s', (_name, value, problem) => {
    const error = userError(() => model(service({ [PREFIX_LISTS_ANNOTATION]: value })));
    expect(error.field).toBe(`annotation ${PREFIX_LISTS_ANNOTATION}`);
    expect(error.message).toContain(problem);
  });
});

describe('the data plane reads a prefix list as its CIDRs', () => {
  const ec2 = mockClient(EC2Client);
  beforeEach(() => ec2.reset());

  it("a rule naming a list allows the list's IPv4 entries; a list that cannot be read allows nothing", async () => {
    ec2.on(DescribeSecurityGroupsCommand).resolves({
      SecurityGroups: [
        {
          GroupId: 'sg-m',
          IpPermissions: [
            { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '10.0.0.0/8' }], PrefixListIds: [{ PrefixListId: 'pl-1' }] },
            { IpProtocol: 'tcp', FromPort: 81, ToPort: 81, PrefixListIds: [{ PrefixListId: 'pl-1' }, { PrefixListId: 'pl-gone' }] },
          ],
        },
      ],
    });
    ec2.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [] });
    ec2.on(GetManagedPrefixListEntriesCommand, { PrefixListId: 'pl-1' }).resolves({ Entries: [{ Cidr: '198.51.100.0/24' }, { Cidr: '2001:db8::/32' }] });
    ec2.on(GetManagedPrefixListEntriesCommand, { PrefixListId: 'pl-gone' }).rejects(Object.assign(new Error('gone'), { name: 'InvalidPrefixListID.NotFound' }));
    const facts = await readSecurityFacts(new EC2Client({}), 'vpc-1');
    expect(facts.rules.get('sg-m')!.map((r) => r.cidrs)).toEqual([['10.0.0.0/8', '198.51.100.0/24'], ['198.51.100.0/24']]);
    // Each list read once, however many rules name it.
    expect(ec2.commandCalls(GetManagedPrefixListEntriesCommand).map((c) => c.args[0].input.PrefixListId)).toEqual(['pl-1', 'pl-gone']);
  });
});
