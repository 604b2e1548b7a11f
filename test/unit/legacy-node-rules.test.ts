import type { V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/annotations.ts';
import { legacyNodeRules, legacyNodeRulesIfValid, preservesClientIp } from '../../src/core/legacy-node-rules.ts';
import type { DesiredTargetGroup, Protocol, Scheme } from '../../src/core/model.ts';
import type { PortRule } from '../../src/core/security-groups.ts';

const tg = (protocol: Protocol, hcPort: string, preserve?: boolean, targetType: 'instance' | 'ip' = 'ip'): DesiredTargetGroup => ({
  resourceId: 'ns/web:80',
  name: 'tg',
  protocol,
  port: 80,
  targetType,
  healthCheck: { protocol: 'TCP', port: hcPort, intervalSeconds: 10, timeoutSeconds: 10, healthyThreshold: 3, unhealthyThreshold: 3 },
  attributes: preserve === undefined ? {} : { 'preserve_client_ip.enabled': String(preserve) },
  targets: [],
  tags: {},
});
const service = (ranges?: string[], annotations?: Record<string, string>): V1Service => ({
  metadata: { name: 'web', namespace: 'ns', ...(annotations ? { annotations } : {}) },
  spec: { type: 'LoadBalancer', ...(ranges ? { loadBalancerSourceRanges: ranges } : {}) },
});
const rules = (protocol: 'tcp' | 'udp', port: number, cidrs: string[]): PortRule[] => cidrs.map((cidr) => ({ protocol, port, cidr }));
const SUBNET = ['172.16.0.0/19'];
const SUBNETS = ['172.16.0.0/19', '1.2.3.4/19'];
const VPC = ['172.16.0.0/16', '1.2.0.0/16'];
const SOURCE_RANGES = 'service.beta.kubernetes.io/load-balancer-source-ranges';
const MANAGE = 'service.beta.kubernetes.io/aws-load-balancer-manage-backend-security-group-rules';

// Test_defaultModelBuilderTask_buildTargetGroupBindingNetworkingLegacy (pkg/service/model_build_target_group_test.go),
// its cases by name; the LBC's preserveClientIP flag is the target group's preserve_client_ip.enabled here.
describe('legacyNodeRules (the LBC: buildTargetGroupBindingNetworkingLegacy)', () => {
  it.each<[string, V1Service, DesiredTargetGroup, Scheme, string[], PortRule[]]>([
    ['udp-service with source ranges', service(['10.0.0.0/16', '1.2.3.4/24']), tg('UDP', 'traffic-port'), 'internet-facing', SUBNET, [...rules('udp', 80, ['10.0.0.0/16', '1.2.3.4/24']), ...rules('tcp', 80, SUBNET)]],
    ['udp-service with source ranges annotation', service(undefined, { [SOURCE_RANGES]: '1.2.3.4/17, 5.6.7.8/18' }), tg('UDP', '808'), 'internal', SUBNET, [...rules('udp', 80, ['1.2.3.4/17', '5.6.7.8/18']), ...rules('tcp', 808, SUBNET)]],
    ['udp-service with no source ranges configuration', service(), tg('UDP', '808'), 'internet-facing', SUBNET, [...rules('udp', 80, ['0.0.0.0/0']), ...rules('tcp', 808, SUBNET)]],
    ['udp-service with no source ranges configuration, internal', service(), tg('UDP', '808'), 'internal', SUBNET, [...rules('udp', 80, VPC), ...rules('tcp', 808, SUBNET)]],
    ['tcp-service with traffic-port hc', service(), tg('TCP', 'traffic-port', false), 'internet-facing', SUBNETS, rules('tcp', 80, SUBNETS)],
    ['tcp-service with preserveClient IP, traffic-port hc, scheme internet-facing', service(), tg('TCP', 'traffic-port', true), 'internet-facing', SUBNETS, rules('tcp', 80, ['0.0.0.0/0'])],
    ['tcp-service with preserveClient IP, traffic-port hc, scheme internal', service(), tg('TCP', 'traffic-port', true), 'internal', SUBNETS, rules('tcp', 80, VPC)],
    ['tcp-service with preserveClient IP, hc different', service(), tg('TCP', '808', true), 'internet-facing', SUBNETS, [...rules('tcp', 80, ['0.0.0.0/0']), ...rules('tcp', 808, SUBNETS)]],
    ['tcp-service with preserve Client IP with different hc port and source range specified', service(['10.0.0.0/16', '1.2.3.4/24']), tg('TCP', '808', true), 'internet-facing', SUBNETS, [...rules('tcp', 80, ['10.0.0.0/16', '1.2.3.4/24']), ...rules('tcp', 808, SUBNETS)]],
    ['tcp-service with preserve Client IP, hc is traffic port, source range specified', service(['10.0.0.0/16', '1.2.3.4/24']), tg('TCP', '80', true), 'internet-facing', SUBNETS, [...rules('tcp', 80, ['10.0.0.0/16', '1.2.3.4/24']), ...rules('tcp', 80, SUBNETS)]],
    ['tcp-service with preserve Client IP, hc is traffic port, source range specified and contains 0/0', service(['10.0.0.0/16', '1.2.3.4/24', '0.0.0.0/0']), tg('TCP', '80', true), 'internet-facing', SUBNETS, rules('tcp', 80, ['10.0.0.0/16', '1.2.3.4/24', '0.0.0.0/0'])],
    ['with manage backend SG disabled via annotation', service(undefined, { [MANAGE]: 'false' }), tg('TCP', '808'), 'internet-facing', SUBNET, []],
    ['tcpudp-service with no source ranges configuration', service(), tg('TCP_UDP', '808'), 'internet-facing', SUBNET, [...rules('tcp', 80, ['0.0.0.0/0']), ...rules('udp', 80, ['0.0.0.0/0']), ...rules('tcp', 808, SUBNET)]],
    ['tcpudp-service with no source ranges configuration with same hc', service(), tg('TCP_UDP', '80'), 'internet-facing', SUBNET, [...rules('tcp', 80, ['0.0.0.0/0']), ...rules('udp', 80, ['0.0.0.0/0'])]],
    // Ours: an instance target preserves client IPs by default (buildPreserveClientIPFlag), as does a QUIC group.
    ['instance target, no attribute: client IP preserved, 0.0.0.0/0 only', service(), tg('TCP', 'traffic-port', undefined, 'instance'), 'internet-facing', SUBNET, rules('tcp', 80, ['0.0.0.0/0'])],
    ['ip target, no attribute: from the subnets', service(), tg('TCP', 'traffic-port'), 'internal', SUBNET, rules('tcp', 80, SUBNET)],
    ['manage-backend-security-group-rules true: as without it', service(undefined, { [MANAGE]: 'true' }), tg('TCP', 'traffic-port'), 'internal', SUBNET, rules('tcp', 80, SUBNET)],
  ])('Test_defaultModelBuilderTask_buildTargetGroupBindingNetworkingLegacy "%s"', (_name, svc, group, scheme, subnetCidrs, expected) => {
    expect(legacyNodeRules({ service: svc, targetGroups: [group], scheme, subnetCidrs, vpcCidrs: VPC })).toEqual(expected);
  });

  // The three IPv6 cases: an IPv6 target group (ipv6 Service family) takes the subnets' IPv6 blocks, ::/0, the VPC's IPv6 blocks.
  const ipv6 = (preserve: boolean): DesiredTargetGroup => ({ ...tg('TCP', '80', preserve), ipAddressType: 'ipv6' });
  it.each<[string, DesiredTargetGroup, Scheme | undefined, string[], PortRule[]]>([
    ['ipv6 preserve client IP enabled', ipv6(true), undefined, ['2300:1ab3:ab0:1900::/56', '2000:1ee3:5d0:fe00::/56'], rules('tcp', 80, ['::/0'])],
    ['ipv6 preserve client IP disabled', ipv6(false), undefined, ['2300:1ab3:ab0:1900::/64', '2300:1ab3:ab0:1901::/64'], rules('tcp', 80, ['2300:1ab3:ab0:1900::/64', '2300:1ab3:ab0:1901::/64'])],
    ['ipv6 preserve client IP enabled, vpc range default', ipv6(true), 'internal', ['2300:1ab3:ab0:1900::/64', '2300:1ab3:ab0:1901::/64'], rules('tcp', 80, ['2300:1ab3:ab0:1900::/56'])],
  ])('Test_defaultModelBuilderTask_buildTargetGroupBindingNetworkingLegacy "%s"', (_name, group, scheme, subnetIpv6Cidrs, expected) => {
    // The LBC's first two cases leave the scheme empty (neither internal nor internet-facing): internet-facing here.
    const input = { service: service(), targetGroups: [group], scheme: scheme ?? ('internet-facing' as const), subnetCidrs: SUBNETS, subnetIpv6Cidrs, vpcCidrs: VPC, vpcIpv6Cidrs: ['2300:1ab3:ab0:1900::/56'] };
    expect(legacyNodeRules(input)).toEqual(expected);
  });

  it('two target groups sharing a source: each rule once', () => {
    const groups = [tg('TCP', 'traffic-port', true), { ...tg('TCP', 'traffic-port', true), port: 81 }];
    expect(legacyNodeRules({ service: service(), targetGroups: [groups[0]!, groups[0]!, groups[1]!], scheme: 'internet-facing', subnetCidrs: SUBNET, vpcCidrs: VPC })).toEqual([
      ...rules('tcp', 80, ['0.0.0.0/0']),
      ...rules('tcp', 81, ['0.0.0.0/0']),
    ]);
  });

  it('a source range that is not a CIDR is a UserError naming the field and value; ignored where the NLB has groups', () => {
    const input = { service: service(['10.0.0.0/33']), targetGroups: [tg('UDP', 'traffic-port')], scheme: 'internal' as const, subnetCidrs: SUBNET, vpcCidrs: VPC };
    const error = (() => {
      try {
        return legacyNodeRules(input);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toContain('spec.loadBalancerSourceRanges');
    expect((error as UserError).message).toContain('10.0.0.0/33');
    expect(legacyNodeRulesIfValid(input)).toEqual([]);
  });

  it.each<[string, boolean | undefined, 'instance' | 'ip', boolean]>([
    ['IP mode default', undefined, 'ip', false],
    ['IP mode annotation', true, 'ip', true],
    ['Instance mode default', undefined, 'instance', true],
    ['Instance mode annotation', false, 'instance', false],
  ])('Test_defaultModelBuilder_buildPreserveClientIPFlag "%s" (its parse error: target-group-attributes tables)', (_name, attribute, targetType, expected) => {
    expect(preservesClientIp(tg('TCP', 'traffic-port', attribute, targetType))).toBe(expected);
  });
});
