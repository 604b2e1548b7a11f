import { readFileSync } from 'node:fs';
import type { V1Service, V1ServicePort } from '@kubernetes/client-node';
import { Annotations, Tags } from '../../../src/core/annotations.ts';
import { LBC_DEFAULTS, type ControllerDefaults } from '../../../src/core/controller-defaults.ts';
import { buildModel, type DesiredStack, type HealthCheck, type NodeInfo, type Scheme, type SubnetInfo } from '../../../src/core/model.ts';
import { ALL_PORTS, ingressKey, type IngressRule, type PortRule } from '../../../src/core/security-groups.ts';
import type { LbcBuildCase } from './extract-lbc-build-cases.ts';

/**
 * Replays the aws-load-balancer-controller's Test_defaultModelBuilderTask_Build (pkg/service/model_builder_test.go):
 * a case's inputs, transcribed by hand into a ReplayCase, go through our buildModel; our stack and the LBC's
 * wantValue (test/unit/fixtures/lbc/model_builder_test.json, extracted by extract-lbc-build-cases.ts) are both
 * mapped to one comparable shape, so `expect(ours).toEqual(lbc)` fails on any difference in what is compared.
 *
 * Normalised (docs/lbc-parity.md "Deliberate differences"), nothing else:
 * - names and hashes: a load balancer's name is compared only when the Service names it (the name annotation);
 *   a target group's never;
 * - the tracking tags (cluster, stack, resource) are dropped from ours: the LBC adds them when it deploys, they
 *   are not in its model;
 * - node rules: the LBC lists them per TargetGroupBinding, ours are per stack (they land on the nodes' group,
 *   where a rule two bindings share is one rule): both are compared as the stack's set of `proto:port<source>`.
 * Not compared: ARNs/references between resources other than a listener's target group, targets, the binding's
 * serviceRef/vpcID/targetGroupProtocol (the target group's own fields are compared).
 */

const FIXTURE = new URL('../fixtures/lbc/model_builder_test.json', import.meta.url);
const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { commit: string; cases: LbcBuildCase[] };
export const LBC_CASES: readonly LbcBuildCase[] = fixture.cases;

/** One case's inputs as the Go test gives them to NewDefaultModelBuilder and its mocks. */
export interface ReplayCase {
  service: V1Service;
  /** What the subnet resolver returns (lbcSubnets), or the VPC's subnets for our own discovery. */
  subnets: SubnetInfo[];
  /** fetchVPCInfoCalls' associated IPv4 CIDRs. */
  vpcCidrs?: string[];
  /** fetchVPCInfoCalls' associated IPv6 CIDRs. */
  vpcIpv6Cidrs?: string[];
  nodes?: NodeInfo[];
  defaults?: Partial<ControllerDefaults>;
  /**
   * The feature gate NLBSecurityGroup; false: our equivalent, the Service's `disable-nlb-sg: "true"` (the LBC
   * reads the annotation the same way: its case "Disable SG annotation should disable SG management without
   * the feature flag."). Default true, as the gate.
   */
  nlbSecurityGroup?: boolean;
  /** The backend group's ID the case's BackendSGProvider returns (`backendSecurityGroup`, default sg-backend). */
  backendSecurityGroup?: string;
  /**
   * listLoadBalancerCalls finds the Service's NLB, with the scheme ours wants and made without security groups:
   * our plan keeps it so (ELBv2 cannot add groups to it), with CIDR node rules (legacy-node-rules.ts), as the LBC.
   */
  keptWithoutSecurityGroups?: boolean;
  /** resolveSGViaNameOrIDCall: the security-groups annotation's entries to IDs (default: unchanged). */
  resolveSecurityGroups?: Record<string, string>;
  /** listLoadBalancerCalls' NLB has this scheme: kept when no annotation names one (the controller's schemeToKeep). */
  existingScheme?: Scheme;
}

/** The compared subset, in the LBC's field names (its marshalled stack), ours mapped into it. */
export interface Comparable {
  loadBalancer: {
    name?: string;
    type: 'network';
    scheme: string;
    ipAddressType: string;
    subnetMapping: Record<string, string>[];
    securityGroups?: string[];
    securityGroupsInboundRulesOnPrivateLink?: string;
    enablePrefixForIpv6SourceNat: string;
    attributes: Record<string, string>;
    tags: Record<string, string>;
  };
  /** By port. */
  listeners: Record<string, { port: number; protocol: string; certificates?: string[]; sslPolicy?: string; alpnPolicy?: string[]; targetGroup: string; tags: Record<string, string> }>;
  /** By resource ID (`ns/name:port`). */
  targetGroups: Record<string, { targetType: string; port: number; protocol: string; ipAddressType: string; healthCheckConfig: Record<string, unknown>; attributes: Record<string, string>; tags: Record<string, string> }>;
  bindings: Record<string, { targetType: string; ipAddressType: string; nodeSelector?: Record<string, string> }>;
  /** The nodes' group rules of every binding: `proto:port<cidr or group ID>`, sorted, each once. */
  nodeRules: string[];
  managedSecurityGroup?: { description: string; ingress: string[]; tags: Record<string, string> };
}

export const MANAGED_SG_REF = '$ManagedLBSecurityGroup';

/**
 * The Go test's resolver answers: subnet-1.. with 192.168.0.0/19, 192.168.32.0/19, 192.168.64.0/19. Ours
 * discovers subnets itself, so each is tagged for both roles (discovery finds them for either scheme) in a
 * zone of its own, and carries IPv6 blocks (dualstack needs them; the LBC's mock does not check).
 */
export function lbcSubnets(count: 1 | 2 | 3): SubnetInfo[] {
  return [0, 1, 2].slice(0, count).map((i) => ({
    id: `subnet-${i + 1}`,
    zone: `us-west-2${'abc'[i]}`,
    vpcId: 'vpc-xxx',
    cidrBlock: `192.168.${i * 32}.0/19`,
    ipv6CidrBlocks: [`2600:1fe3:3c0:1d0${i}::/64`],
    tags: { 'kubernetes.io/role/elb': '1', 'kubernetes.io/role/internal-elb': '1' },
  }));
}

/** A case's Service: `type: LoadBalancer`, the cases' selector, the given metadata and spec. */
export function service(namespace: string, name: string, uid: string | undefined, annotations: Record<string, string>, spec: Partial<NonNullable<V1Service['spec']>>): V1Service {
  return { metadata: { namespace, name, ...(uid ? { uid } : {}), annotations }, spec: { type: 'LoadBalancer', selector: { app: 'hello' }, ...spec } };
}
export const tcp = (port: number, targetPort: number, extra: Partial<V1ServicePort> = {}): V1ServicePort => ({ port, targetPort, protocol: 'TCP', ...extra });
export const udp = (port: number, targetPort: number, extra: Partial<V1ServicePort> = {}): V1ServicePort => ({ ...tcp(port, targetPort, extra), protocol: 'UDP' });

/** The fixture's case by its exact Go name. */
export function lbcCase(name: string): LbcBuildCase {
  const found = LBC_CASES.find((c) => c.name === name);
  if (!found) throw new Error(`no case ${JSON.stringify(name)} in ${FIXTURE.pathname}`);
  return found;
}

/** Our model of the case; `disable-nlb-sg` added when the LBC runs it with NLBSecurityGroup off. */
export function ourModel(c: ReplayCase): DesiredStack {
  const annotations = { ...c.service.metadata?.annotations, ...(c.nlbSecurityGroup === false ? { [Annotations.disableNlbSecurityGroup]: 'true' } : {}) };
  const service: V1Service = { ...c.service, metadata: { ...c.service.metadata, annotations } };
  return buildModel({
    clusterName: 'my-cluster',
    vpcId: 'vpc-xxx',
    service,
    nodes: c.nodes ?? [],
    endpointSlices: [],
    podVpcIp: () => undefined,
    subnets: c.subnets,
    vpcCidrs: c.vpcCidrs ?? [],
    ...(c.vpcIpv6Cidrs ? { vpcIpv6Cidrs: c.vpcIpv6Cidrs } : {}),
    defaults: { ...LBC_DEFAULTS, ...c.defaults },
    ...(c.existingScheme ? { existingScheme: c.existingScheme } : {}),
  }).stack;
}

/** The name is compared only when the Service names its load balancer (the hash is ours otherwise). */
const namesItself = (c: ReplayCase) => c.service.metadata?.annotations?.[Annotations.name] !== undefined;
const TRACKING = new Set<string>(Object.values(Tags));
const untracked = (tags: Record<string, string>) => Object.fromEntries(Object.entries(tags).filter(([key]) => !TRACKING.has(key)));
/** A node rule, `proto:port<source>` (a CIDR or a group ID; port `*` for all). */
const ruleKey = (protocol: string, port: number | '*', source: string) => `${protocol}:${port}<${source}`;
const sorted = (items: Iterable<string>) => [...new Set(items)].sort();

function healthCheck(check: HealthCheck): Record<string, unknown> {
  return {
    port: check.port === 'traffic-port' ? check.port : Number(check.port),
    protocol: check.protocol,
    ...(check.path !== undefined ? { path: check.path } : {}),
    intervalSeconds: check.intervalSeconds,
    timeoutSeconds: check.timeoutSeconds,
    healthyThresholdCount: check.healthyThreshold,
    unhealthyThresholdCount: check.unhealthyThreshold,
    ...(check.successCodes !== undefined ? { matcher: { httpCode: check.successCodes } } : {}),
  };
}

/** Our stack in the comparable shape. */
export function comparableOurs(c: ReplayCase, stack: DesiredStack = ourModel(c)): Comparable {
  const { loadBalancer: lb } = stack;
  const groups = c.keptWithoutSecurityGroups ? undefined : stack.securityGroups;
  const backendId = c.backendSecurityGroup ?? 'sg-backend';
  const named = (groups?.named ?? []).map((entry) => c.resolveSecurityGroups?.[entry] ?? entry);
  const lbGroups = groups ? [...(groups.managed ? [MANAGED_SG_REF] : []), ...named, ...(groups.backend ? [backendId] : [])] : [];
  const ipAddressTypeOf = (tg: object) => ('ipAddressType' in tg && typeof tg.ipAddressType === 'string' ? tg.ipAddressType : 'ipv4');
  // Every port (--disable-restricted-sg-rules) is the LBC's port without a number.
  const nodeRule = (rule: PortRule) => ruleKey(rule.protocol, rule.port === ALL_PORTS.port && rule.toPort === ALL_PORTS.toPort ? '*' : rule.port, rule.cidr ?? backendId);
  return {
    loadBalancer: {
      ...(namesItself(c) ? { name: lb.name } : {}),
      type: 'network',
      scheme: lb.scheme,
      ipAddressType: lb.ipAddressType ?? 'ipv4',
      subnetMapping: lb.subnetMappings ?? lb.subnetIds.map((subnetId) => ({ subnetId })),
      ...(lbGroups.length ? { securityGroups: lbGroups } : {}),
      ...(lb.securityGroupsInboundRulesOnPrivateLink ? { securityGroupsInboundRulesOnPrivateLink: lb.securityGroupsInboundRulesOnPrivateLink } : {}),
      // Absent: off, as the LBC writes it.
      enablePrefixForIpv6SourceNat: 'enablePrefixForIpv6SourceNat' in lb && typeof lb.enablePrefixForIpv6SourceNat === 'string' ? lb.enablePrefixForIpv6SourceNat : 'off',
      attributes: lb.attributes,
      tags: untracked(lb.tags),
    },
    listeners: Object.fromEntries(
      stack.listeners.map((l) => [
        String(l.port),
        {
          port: l.port,
          protocol: l.protocol,
          ...(l.tls ? { certificates: l.tls.certificates, sslPolicy: l.tls.sslPolicy, ...(l.tls.alpnPolicy ? { alpnPolicy: [l.tls.alpnPolicy] } : {}) } : {}),
          targetGroup: l.targetGroupResourceId,
          tags: untracked(l.tags ?? {}),
        },
      ]),
    ),
    targetGroups: Object.fromEntries(
      stack.targetGroups.map((tg) => [
        tg.resourceId,
        { targetType: tg.targetType, port: tg.port, protocol: tg.protocol, ipAddressType: ipAddressTypeOf(tg), healthCheckConfig: healthCheck(tg.healthCheck), attributes: tg.attributes, tags: untracked(tg.tags) },
      ]),
    ),
    bindings: Object.fromEntries(stack.targetGroups.map((tg) => [tg.resourceId, { targetType: tg.targetType, ipAddressType: ipAddressTypeOf(tg) }])),
    // With groups the rules come from the backend group; without (none wanted, or a kept NLB made without), CIDR rules.
    nodeRules: sorted((groups ? (groups.backend ? groups.nodeRules : []) : (stack.legacyNodeRules ?? [])).map(nodeRule)),
    ...(groups?.managed ? { managedSecurityGroup: { description: groups.managed.description, ingress: sorted(groups.managed.ingress.map(ingressKey)), tags: untracked(groups.managed.tags) } } : {}),
  };
}

// The LBC's marshalled stack, typed as loosely as it is read.
type Json = Record<string, unknown>;
const obj = (value: unknown): Json => (value ?? {}) as Json;
const arr = (value: unknown): Json[] => (value ?? []) as Json[];
const keyValueList = (value: unknown) => Object.fromEntries(arr(value).map((kv) => [kv.key as string, kv.value as string]));
/** A `{"$ref": "#/resources/<type>/<id>/status/<field>"}` as `<id>`; a literal as itself. */
const ref = (value: unknown): string => {
  const path = obj(value).$ref;
  if (typeof path !== 'string') return String(value);
  if (path.includes('AWS::EC2::SecurityGroup/ManagedLBSecurityGroup/')) return MANAGED_SG_REF;
  return /^#\/resources\/[^/]*\/(.*)\/status\/[^/]+$/.exec(path)?.[1] ?? path;
};
const PROTOCOLS: Record<string, IngressRule['protocol']> = { tcp: 'tcp', udp: 'udp', icmp: 'icmp', '1': 'icmp', icmpv6: 'icmpv6', '58': 'icmpv6' };

/** The LBC's wantValue in the comparable shape; null for a stack with no resources (nothing of ours). */
export function comparableLbc(name: string, withName = false): Comparable | null {
  const want = lbcCase(name).wantValue;
  if (want === undefined) throw new Error(`case ${JSON.stringify(name)} expects an error, not a stack`);
  const resources = obj(obj(want).resources);
  if (Object.keys(resources).length === 0) return null;
  const lb = obj(obj(obj(resources['AWS::ElasticLoadBalancingV2::LoadBalancer']).LoadBalancer).spec);
  const specs = (type: string) => Object.entries(obj(resources[type])).map(([id, r]) => [id, obj(obj(r).spec)] as const);
  const bySpec = <T>(type: string, map: (spec: Json) => T) => Object.fromEntries(specs(type).map(([id, spec]) => [id, map(spec)]));
  const groups = arr(lb.securityGroups).map(ref);
  const managed = obj(obj(obj(resources['AWS::EC2::SecurityGroup']).ManagedLBSecurityGroup).spec);
  const nodeRules = specs('K8S::ElasticLoadBalancingV2::TargetGroupBinding').flatMap(([, spec]) =>
    arr(obj(obj(obj(spec.template).spec).networking).ingress).flatMap((rule) =>
      arr(rule.from).flatMap((peer) => {
        const source = peer.ipBlock ? (obj(peer.ipBlock).cidr as string) : ref(obj(peer.securityGroup).groupID);
        // No port: every port of the protocol (the LBC's --disable-restricted-sg-rules).
        return arr(rule.ports).map((p) => ruleKey(String(p.protocol).toLowerCase(), (p.port as number | undefined) ?? '*', source));
      }),
    ),
  );
  return {
    loadBalancer: {
      ...(withName ? { name: lb.name as string } : {}),
      type: lb.type as 'network',
      scheme: lb.scheme as string,
      ipAddressType: lb.ipAddressType as string,
      subnetMapping: arr(lb.subnetMapping).map((m) =>
        Object.fromEntries(
          Object.entries({ subnetId: m.subnetID, allocationId: m.allocationID, privateIPv4Address: m.privateIPv4Address, ipv6Address: m.ipv6Address }).filter(([, v]) => v !== undefined),
        ) as Record<string, string>,
      ),
      ...(groups.length ? { securityGroups: groups } : {}),
      ...(lb.securityGroupsInboundRulesOnPrivateLink !== undefined ? { securityGroupsInboundRulesOnPrivateLink: lb.securityGroupsInboundRulesOnPrivateLink as string } : {}),
      enablePrefixForIpv6SourceNat: lb.enablePrefixForIpv6SourceNat as string,
      attributes: keyValueList(lb.loadBalancerAttributes),
      tags: obj(lb.tags) as Record<string, string>,
    },
    listeners: bySpec('AWS::ElasticLoadBalancingV2::Listener', (spec) => ({
      port: spec.port as number,
      protocol: spec.protocol as string,
      ...(spec.certificates ? { certificates: arr(spec.certificates).map((cert) => ref(cert.certificateARN)) } : {}),
      ...(spec.sslPolicy !== undefined ? { sslPolicy: spec.sslPolicy as string } : {}),
      ...(spec.alpnPolicy !== undefined ? { alpnPolicy: spec.alpnPolicy as string[] } : {}),
      targetGroup: ref(obj(arr(obj(arr(spec.defaultActions)[0]?.forwardConfig).targetGroups)[0]).targetGroupARN),
      tags: obj(spec.tags) as Record<string, string>,
    })),
    targetGroups: bySpec('AWS::ElasticLoadBalancingV2::TargetGroup', (spec) => ({
      targetType: spec.targetType as string,
      port: spec.port as number,
      protocol: spec.protocol as string,
      ipAddressType: spec.ipAddressType as string,
      healthCheckConfig: obj(spec.healthCheckConfig),
      attributes: keyValueList(spec.targetGroupAttributes),
      tags: obj(spec.tags) as Record<string, string>,
    })),
    bindings: bySpec('K8S::ElasticLoadBalancingV2::TargetGroupBinding', (spec) => {
      const binding = obj(obj(spec.template).spec);
      const selector = binding.nodeSelector ? { nodeSelector: obj(obj(binding.nodeSelector).matchLabels) as Record<string, string> } : {};
      return { targetType: binding.targetType as string, ipAddressType: binding.ipAddressType as string, ...selector };
    }),
    nodeRules: sorted(nodeRules),
    ...(Object.keys(managed).length
      ? {
          managedSecurityGroup: {
            description: managed.description as string,
            ingress: sorted(
              arr(managed.ingress).flatMap((rule) => {
                const base = { protocol: PROTOCOLS[String(rule.ipProtocol)]!, fromPort: rule.fromPort as number, toPort: rule.toPort as number };
                const cidrs = [...arr(rule.ipRanges).map((r) => r.cidrIP as string), ...arr(rule.ipv6Ranges).map((r) => r.cidrIPv6 as string)];
                return cidrs.map((cidr) => ingressKey({ ...base, cidr }));
              }),
            ),
            tags: obj(managed.tags) as Record<string, string>,
          },
        }
      : {}),
  };
}

/** Both sides of a case, for `expect(ours).toEqual(lbc)`. */
export function replay(name: string, c: ReplayCase): { ours: Comparable; lbc: Comparable | null } {
  return { ours: comparableOurs(c), lbc: comparableLbc(name, namesItself(c)) };
}
