import type { V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { Annotations, Tags } from '../../src/core/annotations.ts';
import { LBC_DEFAULTS } from '../../src/core/controller-defaults.ts';
import type { DesiredTargetGroup, Protocol } from '../../src/core/model.ts';
import {
  buildSecurityGroups,
  managedIngress,
  nodeRulesFor,
  PREFIX_LISTS_ANNOTATION,
  sourceCidrs,
  wantsBackendGroup,
  type IngressRule,
  type PortRule,
} from '../../src/core/security-groups.ts';
import { model } from './support/lbc-model.ts';
import { thrownUserError as userError } from './support/user-error.ts';

/**
 * The security-group tables of the aws-load-balancer-controller (kubernetes-sigs/aws-load-balancer-controller
 * @225f4456: pkg/service/model_build_managed_sg_test.go, Test_defaultModelBuildTask_buildManageSecurityGroupRulesFlag
 * in model_build_load_balancer_test.go, Test_defaultModelBuilderTask_buildTargetGroupBindingNetworking in
 * model_build_target_group_test.go), each case a row named `<Go test function> "<case name>"`.
 * Translations: the LBC's IPPermission is our IngressRule (one CIDR each; ipRanges and ipv6Ranges alike); a
 * Service port without a protocol is TCP (the API server's default; the LBC's unit test leaves it "", which
 * EC2 would refuse); its TargetGroupBindingNetworking ports from the backend group are our node rules
 * (nodeRulesFor), compared as a set, as EC2 holds them. Every case of these tables is a row here.
 */

const svc = (annotations: Record<string, string> = {}, spec: Partial<NonNullable<V1Service['spec']>> = {}): V1Service => ({
  metadata: { namespace: 'default', name: 'web', uid: 'uid-1', annotations },
  spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 18080 }], ...spec },
});
const rule = (protocol: IngressRule['protocol'], fromPort: number, toPort: number, cidr: string): IngressRule => ({ protocol, fromPort, toPort, cidr });
const fromList = (prefixListId: string): IngressRule => ({ protocol: 'tcp', fromPort: 80, toPort: 80, prefixListId });
const DUALSTACK = { [Annotations.ipAddressType]: 'dualstack' };
const ICMP_ON = { [Annotations.icmpForPathMtuDiscovery]: 'on' };

describe('pkg/service/model_build_managed_sg_test.go', () => {
  const cidrsCase = 'Test_buildCIDRsFromSourceRanges_buildCIDRsFromSourceRanges';
  it.each<[string, V1Service, boolean, string[]]>([
    [`${cidrsCase} "default IPv4"`, svc(), false, ['0.0.0.0/0']],
    [`${cidrsCase} "default dualstack"`, svc(DUALSTACK), true, ['0.0.0.0/0', '::/0']],
    // The LBC's builder is told prefix lists are configured; ours reads the annotation (its nil is our []).
    [`${cidrsCase} "no ip range but prefix list"`, svc({ ...DUALSTACK, [PREFIX_LISTS_ANNOTATION]: 'pl-xxxxx' }), true, []],
  ])('%s', (_name, service, dualstack, want) => {
    expect(sourceCidrs(service, dualstack)).toEqual(want);
  });

  // The LBC's builder is given the ip address type; so is ours (the "default dualstack" case's annotation says
  // "daulstack", which the LBC's builder never reads there; our model refuses it, security-groups.test.ts).
  const ingressCase = 'Test_buildCIDRsFromSourceRanges_buildManagedSecurityGroupIngressPermissions';
  const tcp80 = [{ port: 80, protocol: 'TCP' as Protocol }];
  it.each<[string, V1Service, boolean, IngressRule[]]>([
    [`${ingressCase} "default IPv4"`, svc(), false, [rule('tcp', 80, 80, '0.0.0.0/0')]],
    [`${ingressCase} "default dualstack"`, svc(), true, [rule('tcp', 80, 80, '0.0.0.0/0'), rule('tcp', 80, 80, '::/0')]],
    [`${ingressCase} "IPv4 with ICMP for path MTU discovery"`, svc(ICMP_ON), false, [rule('tcp', 80, 80, '0.0.0.0/0'), rule('icmp', 3, 4, '0.0.0.0/0')]],
    [
      `${ingressCase} "dualstack with ICMP for path MTU discovery"`,
      svc(ICMP_ON),
      true,
      [rule('tcp', 80, 80, '0.0.0.0/0'), rule('icmp', 3, 4, '0.0.0.0/0'), rule('tcp', 80, 80, '::/0'), rule('icmpv6', 2, 0, '::/0')],
    ],
    [`${ingressCase} "no ip range but prefix list"`, svc({ [PREFIX_LISTS_ANNOTATION]: 'pl-xxxxx' }, { loadBalancerSourceRanges: [] }), true, [fromList('pl-xxxxx')]],
    [`${ingressCase} "no ip range but multiple prefix lists"`, svc({ [PREFIX_LISTS_ANNOTATION]: 'pl-xxxxx, pl-yyyyyy' }, { loadBalancerSourceRanges: [] }), true, [fromList('pl-xxxxx'), fromList('pl-yyyyyy')]],
  ])('%s', (_name, service, dualstack, want) => {
    expect(managedIngress(service, tcp80, sourceCidrs(service, dualstack))).toEqual(want);
  });

  // Through buildModel: --default-tags over the additional-resource-tags, or under them with EnableDefaultTagsLowPriority.
  const tagsCase = 'Test_defaultModelBuildTask_buildManagedSecurityGroupTags';
  const managedTags = (annotations: Record<string, string>, defaultTags: Record<string, string>, lowPriority = false) => {
    const featureGates = { ...LBC_DEFAULTS.featureGates, EnableDefaultTagsLowPriority: lowPriority };
    const tags = model(svc(annotations), { defaults: { ...LBC_DEFAULTS, tags: defaultTags, featureGates } }).securityGroups!.managed!.tags;
    // The tracking tags are the deployer's in the LBC, not its builder's.
    const { [Tags.cluster]: _c, [Tags.stack]: _s, [Tags.resource]: _r, ...rest } = tags;
    return rest;
  };
  const annotationTags = { [Annotations.additionalTags]: 'k1=v1,k2=v2,k3=v3' };
  it.each<[string, Record<string, string>, Record<string, string>, Record<string, string>]>([
    [`${tagsCase} "no default tags, no annotation tags"`, {}, {}, {}],
    [`${tagsCase} "no default tags, annotation tags"`, annotationTags, {}, { k1: 'v1', k2: 'v2', k3: 'v3' }],
    [`${tagsCase} "default tags, no annotation tags"`, {}, { k1: 'v10', k2: 'v20' }, { k1: 'v10', k2: 'v20' }],
    [`${tagsCase} "default tags, annotation tags, collision where default tags take priority"`, annotationTags, { k1: 'v10', k2: 'v20' }, { k1: 'v10', k2: 'v20', k3: 'v3' }],
  ])('%s', (_name, annotations, defaultTags, want) => {
    expect(managedTags(annotations, defaultTags)).toEqual(want);
  });

  it(`${tagsCase} "default tags, annotation tags, collision where annotation tags take priority"`, () => {
    expect(managedTags(annotationTags, { k1: 'v10', k2: 'v20' }, true)).toEqual({ k1: 'v1', k2: 'v2', k3: 'v3' });
  });
});

// --enable-manage-backend-security-group-rules (ControllerDefaults.enableManageBackendSGRules): whether rules are
// managed is whether the NLB carries the backend group (with the security-groups annotation naming its groups).
describe('pkg/service/model_build_load_balancer_test.go, Test_defaultModelBuildTask_buildManageSecurityGroupRulesFlag', () => {
  const flagCase = 'Test_defaultModelBuildTask_buildManageSecurityGroupRulesFlag';
  const manages = (annotations: Record<string, string>, enableManageBackendSGRules = false) => {
    const service = svc({ [Annotations.securityGroups]: 'sg-frontend', ...annotations });
    const flags = { ...LBC_DEFAULTS, enableManageBackendSGRules };
    const groups = buildSecurityGroups({ service, clusterName: 'my-cluster', additionalTags: {}, listeners: [{ port: 80, protocol: 'TCP' }], targetGroups: [], flags })!;
    expect(wantsBackendGroup(service, enableManageBackendSGRules)).toBe(groups.backend !== undefined);
    return groups.backend !== undefined;
  };
  const MANAGE = Annotations.manageBackendSecurityGroupRules;
  it.each<[string, Record<string, string>, boolean, boolean]>([
    [`${flagCase} "with no annotation and enableManageBackendSGRules=false - expect enable manage security group rules to be false"`, {}, false, false],
    [`${flagCase} "with no annotation and enableManageBackendSGRules=true - expect enable manage security group rules to be true"`, {}, true, true],
    [`${flagCase} "with annotation true and enableManageBackendSGRules=false - expect override and enable manage security group rules to be true"`, { [MANAGE]: 'true' }, false, true],
    [`${flagCase} "with annotation false and enableManageBackendSGRules=true - expect override and enable manage security group rules to be false"`, { [MANAGE]: 'false' }, true, false],
  ])('%s', (_name, annotations, flag, want) => {
    expect(manages(annotations, flag)).toBe(want);
  });

  it(`${flagCase} "with invalid annotation - expect error"`, () => {
    const error = userError(() => manages({ [MANAGE]: 'invalid' }));
    expect(error.field).toBe(`annotation ${MANAGE}`);
    expect(error.value).toBe('invalid');
  });
});

// The LBC's restricted rules for one target group (--disable-restricted-sg-rules false, its default). Ours are
// aggregated per node group afterwards (node-rules.ts, as its computeRestrictedIngressPermissionsPerSG).
describe('pkg/service/model_build_target_group_test.go, Test_defaultModelBuilderTask_buildTargetGroupBindingNetworking', () => {
  const networkingCase = 'Test_defaultModelBuilderTask_buildTargetGroupBindingNetworking';
  const tg = (protocol: Protocol, hcPort: string): DesiredTargetGroup => ({
    resourceId: 'default/web:80',
    name: 'tg',
    protocol,
    port: 80,
    targetType: 'ip',
    healthCheck: { protocol: 'TCP', port: hcPort, intervalSeconds: 10, timeoutSeconds: 10, healthyThreshold: 3, unhealthyThreshold: 3 },
    attributes: {},
    targets: [],
    tags: {},
  });
  const asSet = (rules: PortRule[]) => rules.map((r) => `${r.protocol}:${r.port}`).sort();
  it.each<[string, Protocol, string, PortRule[]]>([
    [`${networkingCase} "tcp with port restricted rules"`, 'TCP', 'traffic-port', [{ protocol: 'tcp', port: 80 }]],
    [`${networkingCase} "tls with port restricted rules"`, 'TLS', 'traffic-port', [{ protocol: 'tcp', port: 80 }]],
    [`${networkingCase} "udp with port restricted rules"`, 'UDP', 'traffic-port', [{ protocol: 'udp', port: 80 }, { protocol: 'tcp', port: 80 }]],
    [`${networkingCase} "tcp with port restricted rules, different hc"`, 'TCP', '808', [{ protocol: 'tcp', port: 80 }, { protocol: 'tcp', port: 808 }]],
    [`${networkingCase} "udp with port restricted rules, different hc"`, 'UDP', '808', [{ protocol: 'udp', port: 80 }, { protocol: 'tcp', port: 808 }]],
  ])('%s', (_name, protocol, hcPort, want) => {
    expect(asSet(nodeRulesFor([tg(protocol, hcPort)]))).toEqual(asSet(want));
  });

  // Ours beside them: the LBC's code lets TCP in on the traffic port of a UDP group whose health check names that port by number.
  it('udp with the health check on the traffic port by number: TCP on it too (buildTargetGroupBindingNetworking hcPort == tgPort)', () => {
    expect(asSet(nodeRulesFor([tg('UDP', '80')]))).toEqual(['tcp:80', 'udp:80']);
    expect(asSet(nodeRulesFor([tg('QUIC', '80')]))).toEqual(['tcp:80', 'udp:80']);
  });

  // --disable-restricted-sg-rules: every TCP port, and every UDP port for a group carrying UDP (a networking
  // port without a number, 0-65535 as the LBC's networking manager writes it).
  const all = (protocol: PortRule['protocol']): PortRule => ({ protocol, port: 0, toPort: 65535 });
  it.each<[string, Protocol, PortRule[]]>([
    [`${networkingCase} "tcp with restricted rules disabled"`, 'TCP', [all('tcp')]],
    [`${networkingCase} "udp with restricted rules disabled"`, 'UDP', [all('tcp'), all('udp')]],
  ])('%s', (_name, protocol, want) => {
    expect(nodeRulesFor([tg(protocol, 'traffic-port')], true)).toEqual(want);
  });

  it(`${networkingCase} "no backend SG configured"`, () => {
    // No backend group: the security-groups annotation names the NLB's groups and rules are not managed.
    const service = svc({ [Annotations.securityGroups]: 'sg-frontend' }, { ports: [{ port: 80, protocol: 'UDP', nodePort: 18080 }] });
    const groups = model(service).securityGroups!;
    expect(groups.backend).toBeUndefined();
    expect(groups.nodeRules).toEqual([]);
  });
});
