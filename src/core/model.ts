import { createHash } from 'node:crypto';
import type { V1EndpointSlice, V1Service, V1ServicePort } from '@kubernetes/client-node';
import {
  Annotations,
  boolAnnotation,
  keyValues,
  list,
  LOAD_BALANCER_CLASS,
  LOAD_BALANCER_RESOURCE,
  oneOf,
  reject,
  Tags,
  UserError,
} from './annotations.ts';
import { LBC_DEFAULTS, type ControllerDefaults } from './controller-defaults.ts';
import { listenerAttributesOf, strayListenerAttributeAnnotations } from './listener-attributes.ts';
import { loadBalancerAttributesOf, minimumCapacityOf } from './load-balancer-attributes.ts';
import { enablePrefixForIpv6SourceNatOf, type EnablePrefixForIpv6SourceNat } from './ipv6-source-nat.ts';
import { ipAddressTypeOf, requireIpv6Subnets, subnetMappingsOf, type IpAddressType, type SubnetMapping } from './subnet-mappings.ts';
import { targetGroupAttributesOf } from './target-group-attributes.ts';
import { healthCheckOf } from './target-health-check.ts';
import { eligibleNodes, ipTargets, ownTargetsOf } from './targets.ts';
import { targetGroupIpAddressTypeOf, type TargetGroupIpAddressType } from './target-group-ip-address-type.ts';
import { labelSelectorProblem } from './validation/labels.ts';
import { quicListenersProblem } from './validation/quic.ts';
import { tagsProblem } from './validation/tags.ts';
import { legacyNodeRules, legacyNodeRulesIfValid } from './legacy-node-rules.ts';
import { multiClusterOf, type OwnTargets } from './multi-cluster.ts';
import { buildSecurityGroups, type DesiredSecurityGroups, type PortRule } from './security-groups.ts';
import { PRIVATE_LINK_ANNOTATION, privateLinkEnforcementOf, type PrivateLinkEnforcement } from './private-link.ts';
import { tlsConfigOf, tlsOfPort, type ListenerTls } from './tls.ts';

/**
 * The desired model: what AWS should hold for one Service, built from the Service, the cluster's Nodes and
 * EndpointSlices and the VPC's subnets. Pure: no I/O, so every rule here is a table test.
 */

/** QUIC and TCP_QUIC only by the quic-enabled-ports annotation (UDP and TCP_UDP upgraded). */
export type Protocol = 'TCP' | 'UDP' | 'TCP_UDP' | 'QUIC' | 'TCP_QUIC' | 'TLS';
export type TargetType = 'instance' | 'ip';
export type { TargetGroupIpAddressType };
export type Scheme = 'internal' | 'internet-facing';

export interface HealthCheck {
  protocol: 'TCP' | 'HTTP' | 'HTTPS';
  /** 'traffic-port' or a port number as a string (ELBv2's own form). */
  port: string;
  path?: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  successCodes?: string;
}

export interface Target {
  id: string;
  port: number;
  /**
   * `all` for an ip target outside the VPC's subnets: ELBv2 requires it there (RegisterTargets
   * TargetDescription.AvailabilityZone) and detects the zone itself inside them.
   */
  availabilityZone?: 'all';
}

export interface DesiredTargetGroup {
  /** `<ns>/<name>:<port>`: the service.k8s.aws/resource tag; one per Service port number. */
  resourceId: string;
  name: string;
  protocol: Protocol;
  port: number;
  targetType: TargetType;
  /** ipv6 only (absent: ipv4, ELBv2's default); fixed at CreateTargetGroup, so part of the name's hash. */
  ipAddressType?: 'ipv6';
  healthCheck: HealthCheck;
  attributes: Record<string, string>;
  targets: Target[];
  tags: Record<string, string>;
  /** Shared with other clusters (multi-cluster-target-group): only targets of ours are deregistered. */
  multiCluster?: true;
}

export interface DesiredListener {
  port: number;
  protocol: Protocol;
  targetGroupResourceId: string;
  /** A TLS listener's certificates and policies (tls.ts). */
  tls?: ListenerTls;
  /** Our tags (resource = the port, as the LBC's listener resource ID) and the additional-resource-tags. */
  tags?: Record<string, string>;
  /** The listener-attributes annotation's (listener-attributes.ts); absent when it sets none. */
  attributes?: Record<string, string>;
}

export interface DesiredLoadBalancer {
  name: string;
  scheme: Scheme;
  subnetIds: string[];
  /** dualstack or absent (ipv4, ELBv2's default). */
  ipAddressType?: IpAddressType;
  /** Fixed addresses per subnet (EIPs, private IPv4, IPv6, source NAT prefixes), given to CreateLoadBalancer only (subnet-mappings.ts). */
  subnetMappings?: SubnetMapping[];
  /** enable-prefix-for-ipv6-source-nat as written (absent: ELBv2's off); given to CreateLoadBalancer only (ipv6-source-nat.ts). */
  enablePrefixForIpv6SourceNat?: EnablePrefixForIpv6SourceNat;
  /** minimum-load-balancer-capacity's CapacityUnits (ModifyCapacityReservation); absent: left as it is. */
  minimumCapacityUnits?: number;
  /** inbound-sg-rules-on-private-link-traffic (private-link.ts); absent: left as it is. */
  securityGroupsInboundRulesOnPrivateLink?: PrivateLinkEnforcement;
  attributes: Record<string, string>;
  tags: Record<string, string>;
}

export interface DesiredStack {
  /** `<ns>/<name>`: the service.k8s.aws/stack tag. */
  stackId: string;
  loadBalancer: DesiredLoadBalancer;
  targetGroups: DesiredTargetGroup[];
  listeners: DesiredListener[];
  targetType: TargetType;
  /** The NLB's security groups (core/security-groups.ts); absent when the Service turns them off. */
  securityGroups?: DesiredSecurityGroups;
  /** CIDR rules the nodes' group needs if the NLB has no security groups (legacy-node-rules.ts). */
  legacyNodeRules?: PortRule[];
  /** What of this cluster's may be a target, for multi-cluster target groups (multi-cluster.ts). */
  ownTargets?: OwnTargets;
}

export interface NodeInfo {
  name: string;
  instanceId?: string;
  labels: Record<string, string>;
  deleting: boolean;
  /**
   * Tainted ToBeDeletedByClusterAutoscaler. The only taint that decides eligibility, so the only one kept:
   * the node lifecycle controller's not-ready/unreachable taints come and go without changing any target.
   */
  toBeDeleted: boolean;
}

export interface SubnetInfo {
  id: string;
  zone: string;
  vpcId: string;
  /** The subnet's IPv4 CIDR block; a target outside every one of the VPC's is registered with zone `all`. */
  cidrBlock?: string;
  /** The subnet's associated IPv6 CIDR blocks (none in the local VPC), for ipv6-addresses. */
  ipv6CidrBlocks?: string[];
  tags: Record<string, string>;
}

export interface ModelInput {
  clusterName: string;
  vpcId: string;
  service: V1Service;
  nodes: NodeInfo[];
  endpointSlices: V1EndpointSlice[];
  /** The pod's VPC address from the ENI pool (`vpc.amazonaws.com/pod-ips`), if it has one. */
  podVpcIp: (namespace: string, podName: string) => string | undefined;
  subnets: SubnetInfo[];
  /** The VPC's IPv4 CIDRs: the default source of node rules for an internal NLB without security groups. */
  vpcCidrs?: string[];
  /** The VPC's associated IPv6 CIDRs: the same for IPv6 target groups. */
  vpcIpv6Cidrs?: string[];
  /** The controller's flags (controller-defaults.ts); the LBC's defaults when absent. */
  defaults?: ControllerDefaults;
  /**
   * For a multi-cluster Service, what else the controller knows is ours beside the Nodes' instances: the
   * cluster's addresses (ip targets) and the targets it wanted before that are still registered.
   */
  ownTargets?: OwnTargets;
  /** The scheme of the NLB the stack has now, when known: kept when no annotation names one (schemeOf). */
  existingScheme?: Scheme;
}

export interface ModelWarning {
  reason: string;
  message: string;
}

export interface ModelResult {
  stack: DesiredStack;
  warnings: ModelWarning[];
}

export { TARGET_GROUP_DEFAULT_ATTRIBUTES } from './target-group-attributes.ts';

export { EXCLUDE_FROM_LB_LABEL, TO_BE_DELETED_TAINT } from './targets.ts';
const ELB_ROLE = 'kubernetes.io/role/elb';
const INTERNAL_ELB_ROLE = 'kubernetes.io/role/internal-elb';

/** A Service is ours when it is a LoadBalancer with no class (we are the cloud provider) or the NLB class. */
export function wantsLoadBalancer(service: V1Service): boolean {
  if (service.spec?.type !== 'LoadBalancer') return false;
  const lbClass = service.spec.loadBalancerClass;
  return lbClass === undefined || lbClass === null || lbClass === '' || lbClass === LOAD_BALANCER_CLASS;
}

export const stackIdOf = (service: V1Service): string => `${service.metadata?.namespace ?? 'default'}/${service.metadata?.name ?? ''}`;

const shortHash = (...parts: string[]): string => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex').slice(0, 10);
};

/** `k8s-<ns[:8]>-<name[:8]>-<hash10>`: the aws-load-balancer-controller's scheme, always ≤ 32 characters. */
export function resourceName(namespace: string, name: string, ...hashed: string[]): string {
  const clean = (s: string) => s.replace(/[^a-zA-Z0-9]/g, '').slice(0, 8);
  return `k8s-${clean(namespace)}-${clean(name)}-${shortHash(namespace, name, ...hashed)}`;
}

const LB_NAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$/;

/** Which target type the Service asks for (nlb-target-type, the deprecated nlb-ip type, then --default-target-type). */
export function targetTypeOf(service: V1Service, defaultTargetType: TargetType = LBC_DEFAULTS.targetType): TargetType {
  const annotations = service.metadata?.annotations;
  const type = annotations?.[Annotations.type]?.trim();
  const fallback: TargetType = type === 'nlb-ip' ? 'ip' : defaultTargetType;
  return oneOf(annotations, Annotations.targetType, ['instance', 'ip'] as const, fallback);
}

/**
 * --feature-gates EnableIPTargetType=false: the LBC's buildTargetType error, named by the annotation that asks for
 * ip targets (--default-target-type cannot: the flags refuse ip with the gate off).
 */
function ipTargetsOff(annotations: Record<string, string> | undefined): never {
  const key = annotations?.[Annotations.targetType]?.trim() === 'ip' ? Annotations.targetType : Annotations.type;
  throw new UserError(`annotation ${key}`, annotations?.[key]?.trim() ?? '', 'unsupported targetType: ip when EnableIPTargetType is false (--feature-gates); use instance targets');
}

/**
 * The scheme as the LBC's buildLoadBalancerScheme: the scheme annotation, else the deprecated `internal` bool,
 * else the existing NLB's scheme (so a changed --default-load-balancer-scheme never replaces an NLB), else
 * --default-load-balancer-scheme.
 */
export function schemeOf(annotations: Record<string, string> | undefined, defaultScheme: Scheme, existingScheme?: Scheme): Scheme {
  return namedScheme(annotations) ?? existingScheme ?? defaultScheme;
}

/** The scheme a Service's annotations name (scheme, else the legacy internal), or undefined when neither does. */
export function namedScheme(annotations: Record<string, string> | undefined): Scheme | undefined {
  if (annotations?.[Annotations.scheme] !== undefined) return oneOf(annotations, Annotations.scheme, ['internal', 'internet-facing'] as const, 'internet-facing');
  const internal = boolAnnotation(annotations, Annotations.internal);
  if (internal === undefined) return undefined;
  return internal ? 'internal' : 'internet-facing';
}

/** Subnets by the subnets annotation (IDs or Name tags), else discovered by role and cluster tag, one per zone. */
function subnetsOf(input: ModelInput, scheme: Scheme): string[] {
  const annotations = input.service.metadata?.annotations;
  const requested = list(annotations, Annotations.subnets);
  const inVpc = input.subnets.filter((subnet) => subnet.vpcId === input.vpcId);
  if (requested) {
    const chosen = requested.map((ref) => {
      const found = ref.startsWith('subnet-') ? inVpc.find((s) => s.id === ref) : inVpc.find((s) => s.tags.Name === ref);
      if (!found) throw new UserError(`annotation ${Annotations.subnets}`, annotations![Annotations.subnets]!, `no subnet ${JSON.stringify(ref)} in ${input.vpcId}`);
      return found;
    });
    const zones = new Set(chosen.map((s) => s.zone));
    if (zones.size !== chosen.length) {
      throw new UserError(`annotation ${Annotations.subnets}`, annotations![Annotations.subnets]!, 'must name at most one subnet per availability zone');
    }
    return chosen.map((s) => s.id);
  }
  const role = scheme === 'internet-facing' ? ELB_ROLE : INTERNAL_ELB_ROLE;
  const clusterTag = `kubernetes.io/cluster/${input.clusterName}`;
  const candidates = inVpc.filter((subnet) => {
    const roleValue = subnet.tags[role];
    if (roleValue === undefined || !(roleValue === '' || roleValue === '1')) return false;
    // A subnet tagged for other clusters only is theirs; untagged or ours is usable (the LBC's rule).
    const clusterTags = Object.keys(subnet.tags).filter((key) => key.startsWith('kubernetes.io/cluster/'));
    return clusterTags.length === 0 || clusterTags.includes(clusterTag);
  });
  const byZone = new Map<string, SubnetInfo>();
  for (const subnet of [...candidates].sort((a, b) => a.id.localeCompare(b.id))) {
    if (!byZone.has(subnet.zone)) byZone.set(subnet.zone, subnet);
  }
  if (byZone.size === 0) {
    throw new UserError(
      `annotation ${Annotations.subnets}`,
      '',
      `no subnet in ${input.vpcId} is tagged ${role} for cluster ${input.clusterName}; tag subnets or name them in the annotation`,
    );
  }
  return [...byZone.values()].sort((a, b) => a.zone.localeCompare(b.zone)).map((s) => s.id);
}

interface PortGroup {
  port: number;
  protocol: Protocol;
  ports: V1ServicePort[];
}

/**
 * One listener per port number; a port number with both TCP and UDP becomes TCP_UDP. A port named (by number or
 * name) in quic-enabled-ports is upgraded as the LBC's buildListenerSpec does: UDP to QUIC, TCP_UDP to
 * TCP_QUIC, anything else an error; entries naming no port of the Service are ignored, as there.
 */
function groupPorts(service: V1Service, quicPorts: readonly string[] = []): PortGroup[] {
  const groups = new Map<number, V1ServicePort[]>();
  for (const port of service.spec?.ports ?? []) {
    const protocol = port.protocol ?? 'TCP';
    if (protocol !== 'TCP' && protocol !== 'UDP') {
      throw new UserError(`spec.ports[${port.name ?? port.port}].protocol`, protocol, 'an NLB forwards TCP and UDP only');
    }
    groups.set(port.port, [...(groups.get(port.port) ?? []), port]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a - b)
    .map(([port, ports]) => {
      const protocols = new Set(ports.map((p) => p.protocol ?? 'TCP'));
      // The LBC's validateMultiProtocolUsage: one listener per port number merges at most one TCP and one UDP port.
      if (protocols.size !== ports.length) {
        throw new UserError(`spec.ports[${port}].protocol`, ports.map((p) => p.protocol ?? 'TCP').join(','), 'ports sharing a number must be one TCP and one UDP port');
      }
      const protocol: Protocol = protocols.size > 1 ? 'TCP_UDP' : ([...protocols][0] as Protocol);
      if (!ports.some((p) => quicPorts.includes(String(p.port)) || (p.name && quicPorts.includes(p.name)))) return { port, ports, protocol };
      if (protocol === 'TCP') {
        throw new UserError(`annotation ${Annotations.quicEnabledPorts}`, quicPorts.join(','), `Unsupported QUIC upgrade for protocol ${protocol} (port ${port}): QUIC needs a UDP port`);
      }
      return { port, ports, protocol: protocol === 'UDP' ? 'QUIC' : 'TCP_QUIC' };
    });
}

export function buildModel(input: ModelInput): ModelResult {
  const { service, clusterName } = input;
  const namespace = service.metadata?.namespace ?? 'default';
  const name = service.metadata?.name ?? '';
  const uid = service.metadata?.uid ?? '';
  const annotations = service.metadata?.annotations;
  const stackId = `${namespace}/${name}`;
  const warnings: ModelWarning[] = [];

  const defaults = input.defaults ?? LBC_DEFAULTS;
  oneOf(annotations, Annotations.type, ['external', 'nlb-ip', 'nlb'] as const, 'external');
  const targetType = targetTypeOf(service, defaults.targetType);
  if (targetType === 'ip' && !defaults.featureGates.EnableIPTargetType) ipTargetsOff(annotations);
  const scheme = schemeOf(annotations, defaults.scheme, input.existingScheme);
  const explicitName = annotations?.[Annotations.name]?.trim();
  if (explicitName !== undefined && !LB_NAME.test(explicitName)) {
    throw new UserError(`annotation ${Annotations.name}`, explicitName, 'must be 1-32 letters, digits or hyphens, not starting or ending with a hyphen');
  }
  const annotationTags = keyValues(annotations, Annotations.additionalTags);
  for (const key of Object.keys(annotationTags)) {
    if (key === Tags.cluster || key === Tags.stack || key === Tags.resource) {
      throw new UserError(`annotation ${Annotations.additionalTags}`, annotations![Annotations.additionalTags]!, `tag ${key} is the controller's own and cannot be overridden`);
    }
    if (defaults.externalManagedTags.includes(key)) {
      throw new UserError(`annotation ${Annotations.additionalTags}`, annotations![Annotations.additionalTags]!, `external managed tag key ${key} cannot be specified on Service`);
    }
  }
  // The LBC's buildAdditionalResourceTags: --default-tags win over the Service's unless EnableDefaultTagsLowPriority.
  const additionalTags = defaults.featureGates.EnableDefaultTagsLowPriority ? { ...defaults.tags, ...annotationTags } : { ...annotationTags, ...defaults.tags };
  // AWS's limits (src/core/validation), checked here so that nothing AWS would refuse reaches the first write.
  reject(Annotations.additionalTags, tagsProblem(additionalTags, Object.keys(Tags).length));
  const lbAttributes = loadBalancerAttributesOf(annotations);
  const minimumCapacityUnits = minimumCapacityOf(annotations);
  const privateLink = privateLinkEnforcementOf(annotations);
  const ipAddressType = ipAddressTypeOf(annotations);
  const nodeSelector = keyValues(annotations, Annotations.targetNodeLabels);
  reject(Annotations.targetNodeLabels, labelSelectorProblem(nodeSelector));
  const multiCluster = multiClusterOf(annotations);
  const healthCheck = healthCheckOf(service, targetType);
  const subnetIds = subnetsOf(input, scheme);
  const chosenSubnets = subnetIds.map((id) => input.subnets.find((s) => s.id === id)!);
  // Before requireIpv6Subnets, as the LBC's table has it: `on` on subnets without IPv6 names its own annotation.
  const enablePrefixForIpv6SourceNat = enablePrefixForIpv6SourceNatOf(annotations, ipAddressType, chosenSubnets);
  requireIpv6Subnets(annotations, ipAddressType, chosenSubnets);
  const subnetMappings = subnetMappingsOf(annotations, scheme, ipAddressType, chosenSubnets, enablePrefixForIpv6SourceNat);
  const tgIpAddressType = targetGroupIpAddressTypeOf(service, ipAddressType);

  const portGroups = groupPorts(service, list(annotations, Annotations.quicEnabledPorts) ?? []);
  if (portGroups.length === 0) throw new UserError('spec.ports', '[]', 'a LoadBalancer Service needs at least one port');

  const tlsConfig = tlsConfigOf(service);
  const baseTags = { ...additionalTags, [Tags.cluster]: clusterName, [Tags.stack]: stackId };
  const nodes = targetType === 'instance' ? eligibleNodes(input.nodes, nodeSelector) : [];
  if (targetType === 'instance') {
    if (nodes.length === 0) {
      warnings.push({ reason: 'UnAvailableLoadBalancer', message: `There are no available nodes for LoadBalancer service ${stackId}` });
    } else if (nodes.some((node) => !node.instanceId)) {
      const missing = nodes.filter((node) => !node.instanceId).map((node) => node.name);
      warnings.push({ reason: 'NodeWithoutInstance', message: `nodes without an EC2 instance yet are not targets: ${missing.join(', ')}` });
    }
  }

  const targetGroups: DesiredTargetGroup[] = [];
  const listeners: DesiredListener[] = [];
  for (const group of portGroups) {
    const resourceId = `${stackId}:${group.port}`;
    const tls = tlsOfPort(tlsConfig, { port: group.port, names: group.ports.flatMap((p) => p.name ?? []) }, group.protocol);
    let tgPort: number;
    let targets: Target[];
    if (targetType === 'instance') {
      const nodePorts = new Set(group.ports.map((p) => p.nodePort ?? 0));
      const nodePort = [...nodePorts][0] ?? 0;
      if (nodePort === 0 || nodePorts.size !== 1) {
        if (service.spec?.allocateLoadBalancerNodePorts === false) {
          throw new UserError('spec.allocateLoadBalancerNodePorts', 'false', `instance targets need node ports; allocate them or set ${Annotations.targetType}: ip`);
        }
        throw new UserError(`spec.ports[${group.port}].nodePort`, String(nodePort), 'instance targets need one node port per port number');
      }
      tgPort = nodePort;
      targets = nodes.filter((node) => node.instanceId).map((node) => ({ id: node.instanceId!, port: nodePort }));
      targets.sort((a, b) => a.id.localeCompare(b.id));
    } else {
      const first = group.ports[0]!;
      // One TCP_UDP group has one port: UDP sent to the TCP port's targetPort would reach nothing.
      const targetPorts = new Set(group.ports.map((p) => String(p.targetPort ?? p.port)));
      if (targetPorts.size > 1) throw new UserError(`spec.ports[${group.port}].targetPort`, [...targetPorts].join(','), 'TCP and UDP on one port share one target group, so they need the same targetPort');
      const byTarget = ipTargets(input, first, tgIpAddressType);
      const numeric = typeof first.targetPort === 'number' ? first.targetPort : Number.isInteger(Number(first.targetPort)) ? Number(first.targetPort) : undefined;
      tgPort = numeric ?? byTarget[0]?.port ?? first.port;
      targets = byTarget;
    }
    targetGroups.push({
      resourceId,
      // The hash covers everything ELBv2 cannot change in place, so a change yields a new group (and name).
      name: resourceName(namespace, name, clusterName, uid, String(group.port), tls.targetGroupProtocol, targetType, String(tgPort), ...(tgIpAddressType === 'ipv6' ? ['ipv6'] : [])),
      protocol: tls.targetGroupProtocol,
      port: tgPort,
      targetType,
      ...(tgIpAddressType === 'ipv6' ? { ipAddressType: tgIpAddressType } : {}),
      healthCheck,
      attributes: targetGroupAttributesOf(annotations, group.port, group.protocol),
      targets,
      tags: { ...baseTags, [Tags.resource]: resourceId },
      ...(multiCluster ? { multiCluster: true as const } : {}),
    });
    const listenerAttributes = listenerAttributesOf(annotations, group.port, tls.listenerProtocol);
    listeners.push({
      port: group.port,
      protocol: tls.listenerProtocol,
      targetGroupResourceId: resourceId,
      ...(tls.tls ? { tls: tls.tls } : {}),
      tags: { ...baseTags, [Tags.resource]: String(group.port) },
      ...(Object.keys(listenerAttributes).length > 0 ? { attributes: listenerAttributes } : {}),
    });
  }
  for (const key of strayListenerAttributeAnnotations(annotations, listeners)) {
    warnings.push({ reason: 'UnusedListenerAttributes', message: `annotation ${key} names no listener of ${stackId} (listeners: ${listeners.map((l) => `${l.protocol}-${l.port}`).join(', ')}); ignored` });
  }

  const securityGroups = buildSecurityGroups({ service, clusterName, additionalTags, listeners, targetGroups, flags: defaults });
  const legacyInput = {
    service,
    targetGroups,
    scheme,
    subnetCidrs: chosenSubnets.flatMap((s) => s.cidrBlock ?? []),
    subnetIpv6Cidrs: chosenSubnets.flatMap((s) => s.ipv6CidrBlocks ?? []),
    vpcCidrs: input.vpcCidrs ?? [],
    vpcIpv6Cidrs: input.vpcIpv6Cidrs ?? [],
  };
  // Needed without groups (a bad source range is an error); with groups only if the NLB was made without them.
  const legacyRules = securityGroups ? legacyNodeRulesIfValid(legacyInput) : legacyNodeRules(legacyInput);
  const quicPorts = annotations?.[Annotations.quicEnabledPorts] ?? '';
  reject(Annotations.quicEnabledPorts, quicListenersProblem({ listeners, securityGroups: securityGroups !== undefined, dualstack: ipAddressType === 'dualstack', quicPorts }));
  if (privateLink && !securityGroups) {
    // The LBC sends it anyway and AWS refuses it on an NLB without groups; here it is said and not sent.
    warnings.push({ reason: 'UnusedPrivateLinkSetting', message: `annotation ${PRIVATE_LINK_ANNOTATION} has no effect: the NLB of ${stackId} has no security groups (${Annotations.disableNlbSecurityGroup})` });
  }
  return {
    stack: {
      stackId,
      targetType,
      ...(securityGroups ? { securityGroups } : {}),
      ...(legacyRules.length > 0 ? { legacyNodeRules: legacyRules } : {}),
      ...(multiCluster ? { ownTargets: ownTargetsOf(input, targetType) } : {}),
      loadBalancer: {
        name: explicitName ?? resourceName(namespace, name, clusterName, uid, scheme),
        scheme,
        subnetIds,
        ...(ipAddressType === 'dualstack' ? { ipAddressType } : {}),
        ...(subnetMappings ? { subnetMappings } : {}),
        ...(enablePrefixForIpv6SourceNat ? { enablePrefixForIpv6SourceNat } : {}),
        ...(minimumCapacityUnits !== undefined ? { minimumCapacityUnits } : {}),
        ...(privateLink ? { securityGroupsInboundRulesOnPrivateLink: privateLink } : {}),
        attributes: lbAttributes,
        tags: { ...baseTags, [Tags.resource]: LOAD_BALANCER_RESOURCE },
      },
      targetGroups,
      listeners,
    },
    warnings,
  };
}
