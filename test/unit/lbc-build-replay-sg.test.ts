import { DescribeSecurityGroupsCommand, type DescribeSecurityGroupsCommandInput, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { Annotations } from '../../src/core/annotations.ts';
import { PRIVATE_LINK_ANNOTATION } from '../../src/core/private-link.ts';
import { SecurityGroupCloud } from '../../src/cloud/security-groups/index.ts';
import { planSecurityGroups, type ActualSecurityGroups } from '../../src/core/security-group-plan.ts';
import { TlsAnnotations } from '../../src/core/tls.ts';
import { thrownUserError as userError } from './support/user-error.ts';
import { comparableLbc, comparableOurs, lbcSubnets, MANAGED_SG_REF, ourModel, service, tcp, udp, type Comparable, type ReplayCase } from './support/lbc-build-replay.ts';

/**
 * Test_defaultModelBuilderTask_Build of the aws-load-balancer-controller (kubernetes-sigs/aws-load-balancer-controller
 * @225f4456, pkg/service/model_builder_test.go), its cases from "Simple service with NLB SG" to the end: the NLB
 * security groups (feature gate NLBSecurityGroup on, as by default). Each row transcribes the case's inputs and
 * compares our whole model with the LBC's wantValue through support/lbc-build-replay.ts.
 *
 * A deliberate row asserts OUR behaviour: the LBC's stack with exactly the documented difference applied
 * (`differs`), everything else still compared. The LBC flags these cases set and we do not have, at their
 * default here: --enable-backend-security-group (true: the shared backend group is the node rules' source;
 * false makes each Service's managed group the source, a rule per Service on every node group, the 60-rule
 * limit at the 60th Service). --disable-restricted-sg-rules is built (ReplayCase.defaults).
 */

const NAME = 'Test_defaultModelBuilderTask_Build';

const NLB_IP = { [Annotations.type]: 'nlb-ip' };
const EXTERNAL_INSTANCE = { [Annotations.type]: 'external', [Annotations.targetType]: 'instance' };
const EXTERNAL_IP = { [Annotations.type]: 'external', [Annotations.targetType]: 'ip' };
const UID_TLS = 'bdca2bd0-bfc6-449a-88a3-03451f05f18c';
const UID_MULTI = '7ab4be33-11c2-4a7b-b655-7add8affab36';
const UID_INSTANCE = '2dc098f0-ae33-4378-af7b-83e2a0424495';
const HEALTH_CHECK = {
  [Annotations.healthCheckProtocol]: 'HTTP',
  [Annotations.healthCheckPath]: '/healthz',
  [Annotations.healthCheckInterval]: '10',
  [Annotations.healthCheckTimeout]: '30',
  [Annotations.healthCheckHealthyThreshold]: '2',
  [Annotations.healthCheckUnhealthyThreshold]: '2',
};
const MANUAL_GROUPS = { ...EXTERNAL_IP, [Annotations.securityGroups]: 'named security group,sg-id2' };
const RESOLVED = { 'named security group': 'sg-id1', 'sg-id2': 'sg-id2' };

/** Node rules of the LBC's stack with another source (its managed group when it has no backend group). */
const fromSource = (rules: string[], from: string, to: string) => rules.map((r) => r.replace(`<${from}`, `<${to}`)).sort();

/** --enable-backend-security-group false in the LBC: here the backend group as always (the flag's default). */
const withBackendGroup = (lbc: Comparable): Comparable => ({
  ...lbc,
  loadBalancer: { ...lbc.loadBalancer, securityGroups: [...(lbc.loadBalancer.securityGroups ?? []), 'sg-backend'] },
  nodeRules: fromSource(lbc.nodeRules, MANAGED_SG_REF, 'sg-backend'),
});

/** A 30 s timeout beside a 10 s interval, which AWS refuses: here refused before any write, so 10 s in its place. */
const AWS_TAKES_TIMEOUT = { [Annotations.healthCheckTimeout]: '10' };
const withTimeout = (lbc: Comparable, timeoutSeconds: number): Comparable => ({
  ...lbc,
  targetGroups: Object.fromEntries(Object.entries(lbc.targetGroups).map(([id, tg]) => [id, { ...tg, healthCheckConfig: { ...tg.healthCheckConfig, timeoutSeconds } }])),
});
/** ACM ARNs in place of certArn1/certArn2, which are no certificate ARNs (AWS refuses them; so do we). */
const CERTS = ['arn:aws:acm:us-west-2:123456789012:certificate/cert1', 'arn:aws:acm:us-west-2:123456789012:certificate/cert2'];
const withCertificates = (lbc: Comparable): Comparable => ({
  ...lbc,
  listeners: Object.fromEntries(Object.entries(lbc.listeners).map(([port, l]) => [port, l.certificates ? { ...l, certificates: CERTS } : l])),
});
const REFUSED = 'values AWS refuses';

interface Row {
  c: ReplayCase;
  /** A deliberate difference: its reason, and the LBC's stack with it applied. */
  differs?: { reason: string; apply: (lbc: Comparable) => Comparable };
  /** The case's own annotations our model refuses (a UserError naming each), replaced in `c` by ones AWS takes. */
  refused?: Record<string, string>;
}

/**
 * The two "external traffic policy local" cases (TCP, UDP). Their existing NLB is internet-facing: no annotation
 * names a scheme, so it keeps it (the default would be internal), as in the LBC.
 */
function trafficLocal(port: typeof tcp): Row {
  return {
    c: {
      service: service('app', 'traffic-local', UID_INSTANCE, EXTERNAL_INSTANCE, {
        externalTrafficPolicy: 'Local',
        healthCheckNodePort: 29123,
        loadBalancerSourceRanges: ['10.20.0.0/16', '1.2.3.4/19'],
        ports: [port(80, 80, { name: 'http', nodePort: 31223 }), port(83, 8883, { name: 'alt2', nodePort: 32323 })],
      }),
      subnets: lbcSubnets(3),
      existingScheme: 'internet-facing',
    },
    differs: { reason: 'the backend group always', apply: withBackendGroup },
  };
}

/** The two "ipv6 for NLB" cases: an IPv6 Service (instance targets) behind a dualstack NLB. */
function ipv6ForNlb(annotations: Record<string, string>, vpcIpv6Cidrs?: string[]): Row {
  return {
    c: {
      service: service('default', 'traffic-local', undefined, { ...EXTERNAL_INSTANCE, [Annotations.ipAddressType]: 'dualstack', ...annotations }, {
        ipFamilies: ['IPv6'],
        ports: [tcp(80, 80, { nodePort: 32332 })],
      }),
      subnets: lbcSubnets(1),
      ...(vpcIpv6Cidrs ? { vpcIpv6Cidrs } : {}),
    },
    differs: { reason: 'the backend group always', apply: withBackendGroup },
  };
}

const rows: [string, Row][] = [
  [
    'Simple service with NLB SG',
    {
      c: { service: service('default', 'nlb-ip-svc-tls', UID_TLS, NLB_IP, { ports: [tcp(80, 80)] }), subnets: lbcSubnets(1), defaults: { disableRestrictedSGRules: true } },
    },
  ],
  [
    'Dualstack service with SG',
    {
      c: {
        service: service('default', 'nlb-ip-svc-tls', UID_TLS, { ...NLB_IP, [Annotations.ipAddressType]: 'dualstack', [Annotations.scheme]: 'internet-facing' }, { ports: [tcp(80, 80)] }),
        subnets: lbcSubnets(1),
      },
    },
  ],
  [
    'Multiple listeners, multiple target groups with SG',
    {
      c: {
        service: service('default', 'nlb-ip-svc', UID_MULTI, { ...NLB_IP, [Annotations.scheme]: 'internal', ...HEALTH_CHECK, [Annotations.healthCheckPort]: '8888', ...AWS_TAKES_TIMEOUT }, {
          ports: [tcp(80, 80, { name: 'http' }), tcp(83, 80, { name: 'alt2' })],
        }),
        subnets: lbcSubnets(2),
      },
      refused: { [Annotations.healthCheckTimeout]: '30' },
      differs: { reason: REFUSED, apply: (lbc) => withTimeout(lbc, 10) },
    },
  ],
  [
    'TLS and access logging annotations with SG',
    {
      c: {
        service: service(
          'default',
          'nlb-ip-svc-tls',
          UID_MULTI,
          {
            ...NLB_IP,
            [Annotations.internal]: 'false',
            ...HEALTH_CHECK,
            [Annotations.healthCheckPort]: '80',
            [Annotations.accessLogEnabled]: 'true',
            [Annotations.accessLogBucket]: 'nlb-bucket',
            [Annotations.accessLogPrefix]: 'bkt-pfx',
            [Annotations.crossZoneLoadBalancing]: 'true',
            [TlsAnnotations.ports]: '83',
            [TlsAnnotations.certificates]: CERTS.join(','),
            ...AWS_TAKES_TIMEOUT,
          },
          { ports: [tcp(80, 80, { name: 'http' }), tcp(83, 8883, { name: 'alt2' })] },
        ),
        subnets: lbcSubnets(3),
      },
      refused: { [Annotations.healthCheckTimeout]: '30', [TlsAnnotations.certificates]: 'certArn1,certArn2' },
      differs: { reason: REFUSED, apply: (lbc) => withCertificates(withTimeout(lbc, 10)) },
    },
  ],
  [
    'Instance mode, external traffic policy cluster with SG',
    {
      c: {
        service: service('default', 'instance-mode', UID_INSTANCE, EXTERNAL_INSTANCE, {
          externalTrafficPolicy: 'Cluster',
          ports: [tcp(80, 80, { name: 'http', nodePort: 31223 }), tcp(83, 8883, { name: 'alt2', nodePort: 32323 })],
        }),
        subnets: lbcSubnets(3),
        vpcCidrs: ['192.168.0.0/16'],
        defaults: { disableRestrictedSGRules: true },
      },
      differs: { reason: 'the backend group always', apply: withBackendGroup },
    },
  ],
  ['Instance mode, external traffic policy local with SG', trafficLocal(tcp)],
  ['Instance mode, external traffic policy local, UDP as protocol with SG', trafficLocal(udp)],
  [
    'ip target, preserve client IP, scheme internal with SG',
    {
      c: {
        service: service('default', 'ip-target', '7ab4be33-11c2-4a7b-b622-7add8affab36', { ...EXTERNAL_IP, [Annotations.targetGroupAttributes]: 'preserve_client_ip.enabled=true' }, { ports: [tcp(80, 80)] }),
        subnets: lbcSubnets(1),
        vpcCidrs: ['192.160.0.0/16', '100.64.0.0/16'],
      },
    },
  ],
  ['ipv6 for NLB with SG', ipv6ForNlb({}, ['2600:1fe3:3c0:1d00::/56'])],
  ['ipv6 for NLB internet-facing scheme with SG', ipv6ForNlb({ [Annotations.scheme]: 'internet-facing' })],
  [
    'spec.loadBalancerClass specified with SG',
    {
      c: {
        service: service('awesome', 'lb-with-class', undefined, {}, { loadBalancerClass: 'service.k8s.aws/nlb', selector: { app: 'class' }, ports: [tcp(80, 8080, { name: 'http', nodePort: 32110 })] }),
        subnets: lbcSubnets(1),
        vpcCidrs: ['192.168.0.0/16'],
      },
      differs: { reason: 'the backend group always', apply: withBackendGroup },
    },
  ],
  [
    'With security groups annotation',
    { c: { service: service('default', 'manual-security-groups', UID_TLS, MANUAL_GROUPS, { ports: [tcp(80, 80)] }), subnets: lbcSubnets(1), resolveSecurityGroups: RESOLVED } },
  ],
  [
    'Manage backend rules with manual security groups',
    {
      c: {
        service: service('default', 'manual-security-groups', UID_TLS, { ...MANUAL_GROUPS, [Annotations.manageBackendSecurityGroupRules]: 'true' }, { ports: [tcp(80, 80)] }),
        subnets: lbcSubnets(1),
        resolveSecurityGroups: RESOLVED,
      },
    },
  ],
  [
    'Simple service with default load balancer scheme internet-facing',
    {
      c: {
        service: service('default', 'nlb-ip-svc-tls', UID_TLS, { ...NLB_IP, [PRIVATE_LINK_ANNOTATION]: 'on' }, { ports: [tcp(80, 80)] }),
        subnets: lbcSubnets(1),
        nlbSecurityGroup: false,
        defaults: { scheme: 'internet-facing' },
      },
    },
  ],
  [
    'Disable SG annotation should disable SG management without the feature flag.',
    {
      c: {
        service: service('default', 'nlb-ip-svc-tls', UID_TLS, { ...NLB_IP, [PRIVATE_LINK_ANNOTATION]: 'on', [Annotations.disableNlbSecurityGroup]: 'true' }, { ports: [tcp(80, 80)] }),
        subnets: lbcSubnets(1),
        defaults: { scheme: 'internet-facing' },
      },
    },
  ],
];

describe(`pkg/service/model_builder_test.go ${NAME}, the cases with NLB security groups`, () => {
  for (const [name, { c, differs, refused }] of rows) {
    it(`${NAME} "${name}"${differs ? ` (deliberate: ${differs.reason})` : ''}`, () => {
      for (const [key, value] of Object.entries(refused ?? {})) {
        const asGiven = { ...c.service, metadata: { ...c.service.metadata, annotations: { ...c.service.metadata?.annotations, [key]: value } } };
        expect(userError(() => ourModel({ ...c, service: asGiven })).field).toBe(`annotation ${key}`);
      }
      const lbc = comparableLbc(name);
      expect(lbc).not.toBeNull();
      expect(comparableOurs(c)).toEqual(differs ? differs.apply(lbc!) : lbc);
    });
  }
});

// The cases whose LBC inputs include an existing NLB, a failing read or a build error: replayed through the
// part of ours that meets the same situation (the security-group plan, the reader, the model's UserError).
describe(`pkg/service/model_builder_test.go ${NAME}, the cases with NLB security groups and an existing NLB or an error`, () => {
  const noneYet: ActualSecurityGroups = { managed: [], namedIds: [], nodeGroupIds: ['sg-node'], nodeRules: [], othersNeed: [] };

  it(`${NAME} "additional resource tags with SG"`, () => {
    const name = 'additional resource tags with SG';
    const tags = { [Annotations.additionalTags]: 'resource.tag1=value1,tag2/purpose=test.2' };
    const c: ReplayCase = { service: service('default', 'nlb-ip-svc-tls', UID_TLS, { ...NLB_IP, ...tags }, { ports: [tcp(80, 80)] }), subnets: lbcSubnets(1) };
    const stack = ourModel(c);
    // Its existing NLB has no security groups, which an NLB made without them can never get: the plan leaves it
    // without (no group made, none set) and lets the NLB's subnets in on the nodes' group instead.
    const plan = planSecurityGroups(stack.securityGroups, noneYet, [], stack.legacyNodeRules);
    expect([plan.before, plan.loadBalancerGroups, plan.setGroups]).toEqual([[], undefined, undefined]);
    expect(plan.nodeRules).toEqual([{ kind: 'AuthorizeNodeCidrRules', groupId: 'sg-node', rules: [{ protocol: 'tcp', fromPort: 80, toPort: 80, cidr: '192.168.0.0/19' }] }]);
    expect(comparableOurs({ ...c, keptWithoutSecurityGroups: true }, stack)).toEqual(comparableLbc(name));
  });

  it(`${NAME} "existing NLB with Security group, NLB SG feature disabled"`, () => {
    // The LBC fails the build ("conflicting security groups configuration"); the plan reports the same conflict
    // (a Warning event) and changes no group: an NLB's groups cannot be removed. The case's Service has no port,
    // which the API server refuses for a LoadBalancer (so does our model): one port here.
    const svc = service('some-namespace', 'some-svc', undefined, { [Annotations.type]: 'external', [Annotations.internal]: 'true', [Annotations.targetType]: 'ip' }, { ports: [tcp(80, 80)] });
    const stack = ourModel({ service: svc, subnets: lbcSubnets(3), nlbSecurityGroup: false });
    expect(stack.securityGroups).toBeUndefined();
    const plan = planSecurityGroups(stack.securityGroups, noneYet, ['sg-lb'], stack.legacyNodeRules);
    expect(plan.conflict).toMatch(/^conflicting security groups configuration/);
    expect([plan.before, plan.nodeRules, plan.last, plan.setGroups]).toEqual([[], [], [], undefined]);
  });

  const manageBackend = service('default', 'manual-security-groups', UID_TLS, { ...MANUAL_GROUPS, [Annotations.manageBackendSecurityGroupRules]: 'true' }, { ports: [tcp(80, 80)] });

  it(`${NAME} "Manage backend rules with manual security groups, backend sg not enabled" (deliberate: the backend group always)`, () => {
    // The LBC refuses: its --enable-backend-security-group is false in this case. Here the backend group is
    // always there, so the Service gets what the LBC builds with it: its case "Manage backend rules with manual security groups".
    const c: ReplayCase = { service: manageBackend, subnets: lbcSubnets(1), resolveSecurityGroups: RESOLVED };
    expect(comparableOurs(c)).toEqual(comparableLbc('Manage backend rules with manual security groups'));
  });

  it(`${NAME} "Manage backend rules with manual security groups, resolve SG error"`, async () => {
    // The reader resolves the annotation's groups before anything is planned; its failure fails the reconcile.
    const ec2 = mockClient(EC2Client);
    try {
      ec2.on(DescribeSecurityGroupsCommand).callsFake(async (input: DescribeSecurityGroupsCommandInput) => {
        if ((input.Filters ?? []).some((f) => f.Name === 'tag:Name')) throw new Error('unable to resolve security group');
        return { SecurityGroups: [] };
      });
      const stack = ourModel({ service: manageBackend, subnets: lbcSubnets(1) });
      const read = new SecurityGroupCloud(new EC2Client({}), 'my-cluster').observe('vpc-xxx', { stackId: 'default/manual-security-groups', named: stack.securityGroups!.named, targets: { type: 'ip', ids: [] } });
      await expect(read).rejects.toThrow('unable to resolve security group');
    } finally {
      ec2.restore();
    }
  });

  it(`${NAME} "ipv6 source ranges, but lb not dual stack"`, () => {
    const svc = service('default', 'traffic-local', undefined, EXTERNAL_INSTANCE, { loadBalancerSourceRanges: ['2002::1234:abcd:ffff:c0a8:101/64'], ports: [tcp(80, 80, { nodePort: 32332 })] });
    const error = userError(() => ourModel({ service: svc, subnets: lbcSubnets(1) }));
    expect([error.field, error.value]).toEqual(['spec.loadBalancerSourceRanges', '2002::1234:abcd:ffff:c0a8:101/64']);
  });
});
