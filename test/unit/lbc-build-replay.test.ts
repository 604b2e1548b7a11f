import { DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeLoadBalancersCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { V1Service } from '@kubernetes/client-node';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { NetworkCloud } from '../../src/cloud/ec2.ts';
import { DeletionProtectedError, unprotectForDeletion } from '../../src/core/deletion-protection.ts';
import { DEFAULT_FEATURE_GATES } from '../../src/core/feature-gates.ts';
import { LoadBalancerCloud } from '../../src/cloud/elbv2.ts';
import { wantsLoadBalancer, type HealthCheck } from '../../src/core/model.ts';
import { planDeletion, type ActualStack } from '../../src/core/plan.ts';
import { comparableLbc, lbcCase, lbcSubnets, MANAGED_SG_REF, replay, service, tcp, udp, type Comparable, type ReplayCase } from './support/lbc-build-replay.ts';
import { thrownUserError as userError } from './support/user-error.ts';

/**
 * Test_defaultModelBuilderTask_Build of the aws-load-balancer-controller (kubernetes-sigs/aws-load-balancer-controller
 * @225f4456, pkg/service/model_builder_test.go), replayed case by case: each row transcribes the case's inputs and
 * compares our whole model with the LBC's wantValue (test/unit/fixtures/lbc/model_builder_test.json) through
 * support/lbc-build-replay.ts, which says what is compared and normalised. This file: the cases in file order up
 * to "with backend SG rule management disabled for legacy nlb"; lbc-build-replay-sg.test.ts the rest.
 *
 * The LBC runs most of these with its feature gate NLBSecurityGroup off; our equivalent is the Service's
 * `disable-nlb-sg: "true"` (ReplayCase.nlbSecurityGroup false adds it), which the LBC reads the same way.
 * The LBC also runs every case twice, with --enable-tcp-udp-listener on and off; their wantValue is one, and
 * the only case with TCP and UDP on one port skips the "off" run, so one row stands for both.
 */

const NAME = 'Test_defaultModelBuilderTask_Build';
const T = 'service.beta.kubernetes.io/aws-load-balancer-';

/** The two ports of the instance-mode cases. */
const httpAlt2 = [tcp(80, 80, { name: 'http', nodePort: 31223 }), tcp(83, 8883, { name: 'alt2', nodePort: 32323 })];

const agreeing: [string, ReplayCase][] = [
  [
    'Simple service',
    {
      service: service('default', 'nlb-ip-svc-tls', 'bdca2bd0-bfc6-449a-88a3-03451f05f18c', { [`${T}type`]: 'nlb-ip', [`${T}inbound-sg-rules-on-private-link-traffic`]: 'on' }, { ports: [tcp(80, 80)] }),
      subnets: lbcSubnets(1),
      nlbSecurityGroup: false,
    },
  ],
  [
    'Dualstack service',
    {
      service: service(
        'default',
        'nlb-ip-svc-tls',
        'bdca2bd0-bfc6-449a-88a3-03451f05f18c',
        { [`${T}type`]: 'nlb-ip', [`${T}ip-address-type`]: 'dualstack', [`${T}scheme`]: 'internet-facing', [`${T}inbound-sg-rules-on-private-link-traffic`]: 'on' },
        { ports: [tcp(80, 80)] },
      ),
      subnets: lbcSubnets(1),
      nlbSecurityGroup: false,
    },
  ],
  [
    'Instance mode, external traffic policy cluster',
    {
      service: service('default', 'instance-mode', '2dc098f0-ae33-4378-af7b-83e2a0424495', { [`${T}type`]: 'external', [`${T}nlb-target-type`]: 'instance' }, { externalTrafficPolicy: 'Cluster', ports: httpAlt2 }),
      subnets: lbcSubnets(3),
      vpcCidrs: ['192.168.0.0/16'],
      nlbSecurityGroup: false,
    },
  ],
  [
    'additional resource tags',
    {
      service: service(
        'default',
        'nlb-ip-svc-tls',
        'bdca2bd0-bfc6-449a-88a3-03451f05f18c',
        { [`${T}type`]: 'nlb-ip', [`${T}additional-resource-tags`]: 'resource.tag1=value1,tag2/purpose=test.2' },
        { ports: [tcp(80, 80)] },
      ),
      subnets: lbcSubnets(1),
      nlbSecurityGroup: false,
    },
  ],
  [
    'ip target, preserve client IP, scheme internal',
    {
      service: service(
        'default',
        'ip-target',
        '7ab4be33-11c2-4a7b-b622-7add8affab36',
        { [`${T}type`]: 'external', [`${T}nlb-target-type`]: 'ip', [`${T}target-group-attributes`]: 'preserve_client_ip.enabled=true' },
        { ports: [tcp(80, 80)] },
      ),
      subnets: lbcSubnets(1),
      vpcCidrs: ['192.160.0.0/16', '100.64.0.0/16'],
      nlbSecurityGroup: false,
    },
  ],
  [
    'default ip target',
    {
      service: service('default', 'default-ip-target', '7ab4be33-11c2-4a7b-b622-7add8affab36', {}, { loadBalancerClass: 'service.k8s.aws/nlb', ports: [tcp(80, 80)] }),
      subnets: lbcSubnets(1),
      vpcCidrs: ['192.160.0.0/16', '100.64.0.0/16'],
      defaults: { targetType: 'ip' },
      nlbSecurityGroup: false,
    },
  ],
  [
    'spec.loadBalancerClass specified',
    {
      service: {
        metadata: { namespace: 'awesome', name: 'lb-with-class', annotations: {} },
        spec: { type: 'LoadBalancer', loadBalancerClass: 'service.k8s.aws/nlb', selector: { app: 'class' }, ports: [tcp(80, 8080, { name: 'http', nodePort: 32110 })] },
      },
      subnets: lbcSubnets(1),
      vpcCidrs: ['192.168.0.0/16'],
      nlbSecurityGroup: false,
    },
  ],
  [
    'with backend SG rule management disabled for legacy nlb',
    {
      service: service('default', 'manual-sg-rule', 'c93458ad-9ef5-4c4c-bc0b-b31599ff585b', { [`${T}type`]: 'external', [`${T}nlb-target-type`]: 'ip', [`${T}manage-backend-security-group-rules`]: 'false' }, { ports: [tcp(80, 80)] }),
      subnets: lbcSubnets(1),
      keptWithoutSecurityGroups: true,
    },
  ],
  // IPv6 target groups (an IPv6 family), behind a dualstack NLB.
  [
    'ipv6 for NLB',
    {
      service: service('default', 'traffic-local', undefined, { [`${T}type`]: 'external', [`${T}nlb-target-type`]: 'instance', [`${T}ip-address-type`]: 'dualstack' }, { ipFamilies: ['IPv6'], ports: [tcp(80, 80, { nodePort: 32332 })] }),
      subnets: lbcSubnets(1),
      vpcIpv6Cidrs: ['2600:1fe3:3c0:1d00::/56'],
      nlbSecurityGroup: false,
    },
  ],
  [
    'ipv6 for NLB internet-facing scheme',
    {
      service: service(
        'default',
        'traffic-local',
        undefined,
        { [`${T}type`]: 'external', [`${T}nlb-target-type`]: 'instance', [`${T}ip-address-type`]: 'dualstack', [`${T}scheme`]: 'internet-facing' },
        { ipFamilies: ['IPv6'], ports: [tcp(80, 80, { nodePort: 32332 })] },
      ),
      subnets: lbcSubnets(1),
      nlbSecurityGroup: false,
    },
  ],
  [
    // The LBC's listLoadBalancerCalls finds the Service's NLB, internet-facing and made without groups: the scheme
    // is kept (no annotation names one; the flag's internal would replace it), and so is the NLB without groups.
    'Instance mode, external traffic policy local',
    {
      service: service('app', 'traffic-local', '2dc098f0-ae33-4378-af7b-83e2a0424495', { [`${T}type`]: 'external', [`${T}nlb-target-type`]: 'instance' }, {
        externalTrafficPolicy: 'Local',
        healthCheckNodePort: 29123,
        loadBalancerSourceRanges: ['10.20.0.0/16', '1.2.3.4/19'],
        ports: httpAlt2,
      }),
      subnets: lbcSubnets(3),
      existingScheme: 'internet-facing',
      keptWithoutSecurityGroups: true,
    },
  ],
];

/** A deliberate difference: why, and the LBC's stack with it applied (everything else is still compared). */
interface Deliberate {
  reason: string;
  apply: (lbc: Comparable) => Comparable;
}

const deliberate: [string, ReplayCase, Deliberate][] = [
  [
    'Instance mode, TCP/UDP same port test',
    {
      service: service(
        'app',
        'tcpudp-protocol',
        '2dc098f0-ae33-4378-af7b-83e2a0424495',
        { [`${T}type`]: 'external', [`${T}scheme`]: 'internet-facing', [`${T}nlb-target-type`]: 'instance' },
        {
          externalTrafficPolicy: 'Cluster',
          healthCheckNodePort: 29123,
          ports: [tcp(80, 80, { name: 'p1', nodePort: 31223 }), udp(80, 80, { name: 'p2', nodePort: 31223 }), tcp(83, 8883, { name: 'alt2', nodePort: 32323 })],
        },
      ),
      subnets: lbcSubnets(3),
    },
    {
      // The case runs the LBC with --enable-backend-security-group=false (its default is true): node rules from
      // each Service's managed group. We have no such flag: the shared backend group, the LBC's default.
      reason: 'no --enable-backend-security-group, the backend group always',
      apply: (lbc) => ({
        ...lbc,
        loadBalancer: { ...lbc.loadBalancer, securityGroups: [...(lbc.loadBalancer.securityGroups ?? []), 'sg-backend'] },
        nodeRules: lbc.nodeRules.map((rule) => rule.replace(`<${MANAGED_SG_REF}`, '<sg-backend')).sort(),
      }),
    },
  ],
];

/** The cases whose health check AWS refuses: timeout 30 s, interval 10 s (ADR 0008: refused before any write). */
const HC = {
  [`${T}healthcheck-protocol`]: 'HTTP',
  [`${T}healthcheck-path`]: '/healthz',
  [`${T}healthcheck-interval`]: '10',
  [`${T}healthcheck-timeout`]: '30',
  [`${T}healthcheck-healthy-threshold`]: '2',
  [`${T}healthcheck-unhealthy-threshold`]: '2',
};
const CERT_1 = 'arn:aws:acm:us-west-2:123456789012:certificate/cert1';
const CERT_2 = 'arn:aws:acm:us-west-2:123456789012:certificate/cert2';
const multiple = (annotations: Record<string, string>) =>
  service('default', 'nlb-ip-svc', '7ab4be33-11c2-4a7b-b655-7add8affab36', { [`${T}type`]: 'nlb-ip', [`${T}scheme`]: 'internal', ...HC, [`${T}healthcheck-port`]: '8888', [`${T}inbound-sg-rules-on-private-link-traffic`]: 'off', ...annotations }, {
    ports: [tcp(80, 80, { name: 'http' }), tcp(83, 80, { name: 'alt2' })],
  });
const tlsAndLogs = (annotations: Record<string, string>) =>
  service(
    'default',
    'nlb-ip-svc-tls',
    '7ab4be33-11c2-4a7b-b655-7add8affab36',
    {
      [`${T}type`]: 'nlb-ip',
      [`${T}internal`]: 'false',
      ...HC,
      [`${T}healthcheck-port`]: '80',
      [`${T}access-log-enabled`]: 'true',
      [`${T}access-log-s3-bucket-name`]: 'nlb-bucket',
      [`${T}access-log-s3-bucket-prefix`]: 'bkt-pfx',
      [`${T}cross-zone-load-balancing-enabled`]: 'true',
      [`${T}ssl-ports`]: '83',
      [`${T}ssl-cert`]: 'certArn1,certArn2',
      ...annotations,
    },
    { ports: [tcp(80, 80, { name: 'http' }), tcp(83, 8883, { name: 'alt2' })] },
  );
/** The LBC's stack with a 10 s health-check timeout, what we build once the timeout is one AWS takes. */
const timeout10 = (lbc: Comparable): Comparable => ({
  ...lbc,
  targetGroups: Object.fromEntries(Object.entries(lbc.targetGroups).map(([id, tg]) => [id, { ...tg, healthCheckConfig: { ...tg.healthCheckConfig, timeoutSeconds: 10 } }])),
});

describe(`pkg/service/model_builder_test.go ${NAME}`, () => {
  it.each(agreeing)(`${NAME} "%s"`, (name, c) => {
    const { ours, lbc } = replay(name, c);
    expect(ours).toEqual(lbc);
  });

  for (const [name, c, differs] of deliberate) {
    it(`${NAME} "${name}" (deliberate: ${differs.reason})`, () => {
      const { ours, lbc } = replay(name, c);
      expect(ours).not.toEqual(lbc);
      expect(ours).toEqual(differs.apply(lbc!));
    });
  }

  const refusedTimeout = (svc: V1Service) => {
    const error = userError(() => replay('Simple service', { service: svc, subnets: lbcSubnets(3), nlbSecurityGroup: false }));
    expect([error.field, error.value]).toEqual([`annotation ${T}healthcheck-timeout`, '30']);
  };

  it(`${NAME} "Multiple listeners, multiple target groups" (deliberate: a health-check timeout longer than the interval is refused before any write)`, () => {
    refusedTimeout(multiple({}));
    // With a timeout AWS takes, everything else is the LBC's.
    const { ours, lbc } = replay('Multiple listeners, multiple target groups', { service: multiple({ [`${T}healthcheck-timeout`]: '10' }), subnets: lbcSubnets(2), nlbSecurityGroup: false });
    expect(ours).toEqual(timeout10(lbc!));
  });

  it(`${NAME} "TLS and access logging annotations" (deliberate: the refused health-check timeout; certArn1/certArn2 are no certificate ARNs)`, () => {
    refusedTimeout(tlsAndLogs({}));
    const notArn = userError(() => replay('Simple service', { service: tlsAndLogs({ [`${T}healthcheck-timeout`]: '10' }), subnets: lbcSubnets(3), nlbSecurityGroup: false }));
    expect([notArn.field, notArn.value]).toEqual([`annotation ${T}ssl-cert`, 'certArn1,certArn2']);
    // With a timeout AWS takes and ACM ARNs in the placeholders' place, everything else is the LBC's.
    const c = { service: tlsAndLogs({ [`${T}healthcheck-timeout`]: '10', [`${T}ssl-cert`]: `${CERT_1},${CERT_2}` }), subnets: lbcSubnets(3), nlbSecurityGroup: false };
    const { ours, lbc } = replay('TLS and access logging annotations', c);
    const withArns = timeout10(lbc!);
    withArns.listeners['83'] = { ...withArns.listeners['83']!, certificates: [CERT_1, CERT_2] };
    expect(ours).toEqual(withArns);
  });
});

/** An NLB and a target group of ours, as read. */
const actual = (deletionProtection: boolean): ActualStack => ({
  loadBalancers: [
    { arn: 'arn:lb', name: 'k8s-default-hellosvc-0', scheme: 'internal', dnsName: 'lb.local', state: 'active', createdAt: 0, attributes: { 'deletion_protection.enabled': String(deletionProtection) } },
  ],
  listeners: [],
  targetGroups: [
    {
      arn: 'arn:tg',
      name: 'k8s-default-hellosvc-1',
      resourceId: 'default/hello-svc:80',
      protocol: 'TCP',
      port: 80,
      targetType: 'ip',
      healthCheck: { protocol: 'TCP', port: 'traffic-port', intervalSeconds: 10, timeoutSeconds: 10, healthyThreshold: 3, unhealthyThreshold: 3 } satisfies HealthCheck,
      targets: [],
      loadBalancerArns: ['arn:lb'],
    },
  ],
});
/** A Service being deleted, as the cases give it. */
const deleted = (svc: V1Service): V1Service => ({ ...svc, metadata: { ...svc.metadata, deletionTimestamp: new Date(), finalizers: ['service.k8s.aws/resources'] } });

describe(`pkg/service/model_builder_test.go ${NAME}: refused before any write`, () => {
  const refused = (svc: V1Service, defaults?: ReplayCase['defaults']) => userError(() => replay('Simple service', { service: svc, subnets: lbcSubnets(1), nlbSecurityGroup: false, ...(defaults ? { defaults } : {}) }));

  it(`${NAME} "service with enableIPTargetType set to false and type IP"`, () => {
    expect(lbcCase('service with enableIPTargetType set to false and type IP').wantError).toBe(true);
    const svc = service('default', 'traffic-local', undefined, { [`${T}type`]: 'external', [`${T}nlb-target-type`]: 'ip' }, { ipFamilies: ['IPv6'], ports: [tcp(80, 80, { nodePort: 32332 })] });
    const error = refused(svc, { featureGates: { ...DEFAULT_FEATURE_GATES, EnableIPTargetType: false } });
    expect([error.field, error.value]).toEqual([`annotation ${T}nlb-target-type`, 'ip']);
  });

  it(`${NAME} "ipv6 service without dualstask"`, () => {
    expect(lbcCase('ipv6 service without dualstask').wantError).toBe(true);
    const svc = service('default', 'traffic-local', undefined, { [`${T}type`]: 'external', [`${T}nlb-target-type`]: 'instance' }, { ipFamilies: ['IPv6'], ports: [tcp(80, 80, { nodePort: 32332 })] });
    expect([refused(svc).field, refused(svc).value]).toEqual(['spec.ipFamilies', 'IPv6']);
  });
});

describe(`pkg/service/model_builder_test.go ${NAME}: Services that are not, or no longer, ours`, () => {
  const nodePort = (name: string, annotations: Record<string, string>): V1Service => ({ metadata: { namespace: 'some-namespace', name, annotations }, spec: { type: 'NodePort' } });
  it.each<[string, V1Service]>([
    // With its gate ServiceTypeLoadBalancerOnly on, the LBC builds nothing for a NodePort Service; we never do.
    ['service type NodePort, restrict to LoadBalancer enabled', nodePort('type-nodeport', { [`${T}type`]: 'external', [`${T}internal`]: 'true', [`${T}nlb-target-type`]: 'ip' })],
    // Despite its name, the case's Service is a NodePort: nothing on either side.
    ['service type LoadBalancer, no lb type annotation', nodePort('type-loadbalancer', {})],
  ])(`${NAME} "%s"`, (name, svc) => {
    expect(comparableLbc(name)).toBeNull();
    expect(wantsLoadBalancer(svc)).toBe(false);
  });

  it(`${NAME} "Service being deleted"`, () => {
    // The LBC's stack is empty, so its deployer deletes every resource of the stack; ours plans the same deletion.
    expect(comparableLbc('Service being deleted')).toBeNull();
    const svc = deleted(service('doesnt-exist', 'service-deleted', undefined, { [`${T}type`]: 'external', [`${T}internal`]: 'true', [`${T}nlb-target-type`]: 'ip' }, {}));
    const stack = actual(false);
    expect(planDeletion(stack, false, unprotectForDeletion(stack, svc)).actions.map((a) => a.kind)).toEqual(['DeleteLoadBalancer', 'DeleteTargetGroup']);
  });

  it(`${NAME} "deletion protection enabled error"`, () => {
    // The LBC refuses to build a Service being deleted whose attributes annotation keeps deletion protection on;
    // here its deletion stops before any write (deletion-protection.ts), to be tried again.
    expect(lbcCase('deletion protection enabled error').wantError).toBe(true);
    const svc = deleted(
      service('default', 'hello-svc', 'bdca2bd0-bfc6-449a-88a3-03451f05f18c', { [`${T}type`]: 'external', [`${T}nlb-target-type`]: 'ip', [`${T}attributes`]: 'deletion_protection.enabled=true' }, { ports: [tcp(80, 80)] }),
    );
    expect(() => unprotectForDeletion(actual(true), svc)).toThrow(DeletionProtectedError);
  });
});

describe(`pkg/service/model_builder_test.go ${NAME}: a failed read is the reconcile's error, before any write`, () => {
  it(`${NAME} "list load balancers error"`, async () => {
    expect(lbcCase('list load balancers error').wantError).toBe(true);
    const elbv2 = mockClient(ElasticLoadBalancingV2Client);
    elbv2.on(DescribeLoadBalancersCommand).rejects(new Error('error listing load balancer'));
    const cloud = new LoadBalancerCloud(new ElasticLoadBalancingV2Client({ region: 'us-west-2' }), 'my-cluster');
    await expect(cloud.observe('default/traffic-local', { loadBalancerAttributes: false, targetGroupAttributes: false })).rejects.toThrow('error listing load balancer');
    expect(elbv2.calls().every((call) => (call.args[0] as object).constructor.name.startsWith('Describe'))).toBe(true);
    elbv2.restore();
  });

  it(`${NAME} "resolve VPC CIDRs error"`, async () => {
    // The controller reads the VPC's CIDRs before building the model: the reconcile fails there, nothing is planned.
    expect(lbcCase('resolve VPC CIDRs error').wantError).toBe(true);
    const ec2 = mockClient(EC2Client);
    ec2.on(DescribeVpcsCommand).rejects(new Error('unable to resolve VPC CIDRs'));
    await expect(new NetworkCloud(new EC2Client({ region: 'us-west-2' }), 'my-cluster', 'vpc-xxx').vpcCidrs()).rejects.toThrow('unable to resolve VPC CIDRs');
    ec2.restore();
  });
});
