import { describe, expect, it } from 'vitest';
import {
  candidates,
  crossZoneEnabled,
  desiredDataPlane,
  preservesClientIp,
  resolveTarget,
  type LoadBalancerState,
  type NetworkFacts,
  type RegisteredTarget,
  type ResolvedTarget,
  type TargetGroupState,
} from '../../src/dataplane/model.ts';

// What the NLB data plane forwards (src/dataplane/model.ts), against AWS's documented behaviour
// (research note nlb-data-plane.md): zones, fail-open, draining, client IP, DNS failover.

const facts: NetworkFacts = {
  instances: new Map([
    ['i-a', { address: '10.0.64.10', zone: 'us-east-1a' }],
    ['i-b', { address: '10.0.128.10', zone: 'us-east-1b' }],
  ]),
  subnets: [
    { id: 'subnet-pa', cidr: '10.0.64.0/18', zone: 'us-east-1a' },
    { id: 'subnet-pb', cidr: '10.0.128.0/18', zone: 'us-east-1b' },
  ],
};

const group = (overrides: Partial<TargetGroupState> = {}): TargetGroupState => ({
  arn: 'tg-1',
  targetType: 'instance',
  protocol: 'TCP',
  port: 30080,
  attributes: {},
  targets: [
    { id: 'i-a', port: 30080, state: 'healthy' },
    { id: 'i-b', port: 30080, state: 'healthy' },
  ],
  ...overrides,
});

const loadBalancer = (overrides: Partial<LoadBalancerState> = {}): LoadBalancerState => ({
  arn: 'arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/web/abc',
  name: 'web',
  dnsName: 'Web-abc.elb.us-east-1.amazonaws.com',
  state: 'active',
  type: 'network',
  subnets: [
    { subnetId: 'subnet-pa', zone: 'us-east-1a' },
    { subnetId: 'subnet-pb', zone: 'us-east-1b' },
  ],
  attributes: {},
  listeners: [{ arn: 'l-1', port: 80, protocol: 'TCP', targetGroupArn: 'tg-1' }],
  ...overrides,
});

const addresses = new Map([
  [
    loadBalancer().arn,
    [
      { subnetId: 'subnet-pa', zone: 'us-east-1a', address: '10.0.64.200' },
      { subnetId: 'subnet-pb', zone: 'us-east-1b', address: '10.0.128.200' },
    ],
  ],
]);

const all = (g: TargetGroupState) => new Set(g.targets.map((t) => `${t.id}:${t.port}`));
const none = () => new Set<string>();

const resolved = (key: string, zone: string): ResolvedTarget => ({ id: key.split(':')[0]!, key, address: key.split(':')[0]!, port: 80, zone });

describe('NLB data plane model', () => {
  it.each<[string, Partial<TargetGroupState>, RegisteredTarget, { address: string; port: number; zone: string } | undefined]>([
    ['instance → its private IP on the registered port', {}, { id: 'i-a', port: 31000, state: 'healthy' }, { address: '10.0.64.10', port: 31000, zone: 'us-east-1a' }],
    ['unknown instance → left out', {}, { id: 'i-gone', port: 31000, state: 'healthy' }, undefined],
    ['ip target → address:port, zone of its subnet', { targetType: 'ip' }, { id: '10.0.130.5', port: 8080, state: 'healthy' }, { address: '10.0.130.5', port: 8080, zone: 'us-east-1b' }],
    ['ip target with a zone → that zone', { targetType: 'ip' }, { id: '10.0.130.5', port: 8080, availabilityZone: 'us-east-1a', state: 'healthy' }, { address: '10.0.130.5', port: 8080, zone: 'us-east-1a' }],
    ['ip target outside the VPC (AvailabilityZone all) → every zone', { targetType: 'ip' }, { id: '192.168.1.5', port: 8080, availabilityZone: 'all', state: 'healthy' }, { address: '192.168.1.5', port: 8080, zone: 'all' }],
    ['lambda/alb targets → not forwarded', { targetType: 'alb' }, { id: 'arn:alb', port: 80, state: 'healthy' }, undefined],
  ])('resolveTarget: %s', (_name, overrides, target, expected) => {
    const result = resolveTarget(group(overrides), target, facts);
    expect(result && { address: result.address, port: result.port, zone: result.zone }).toEqual(expected);
  });

  it.each<[string, ResolvedTarget[], string[], string, boolean, string[]]>([
    ['cross-zone off: healthy targets of the own zone', [resolved('a1:80', 'z1'), resolved('b1:80', 'z2')], ['a1:80', 'b1:80'], 'z1', false, ['a1:80']],
    ['cross-zone on: healthy targets of every zone', [resolved('a1:80', 'z1'), resolved('b1:80', 'z2')], ['a1:80', 'b1:80'], 'z1', true, ['a1:80', 'b1:80']],
    ['unhealthy targets take no new flows', [resolved('a1:80', 'z1'), resolved('a2:80', 'z1')], ['a2:80'], 'z1', false, ['a2:80']],
    ['fail-open: none healthy anywhere → every registered target of the zone', [resolved('a1:80', 'z1'), resolved('a2:80', 'z1'), resolved('b1:80', 'z2')], [], 'z1', false, ['a1:80', 'a2:80']],
    ['healthy only in another zone → nothing here (DNS leaves this address out)', [resolved('a1:80', 'z1'), resolved('b1:80', 'z2')], ['b1:80'], 'z1', false, []],
    ['zone all counts in every zone', [resolved('x:80', 'all')], ['x:80'], 'z2', false, ['x:80']],
  ])('candidates: %s', (_name, targets, healthy, zone, crossZone, expected) => {
    expect(candidates(targets, new Set(healthy), zone, crossZone).map((t) => t.key)).toEqual(expected);
  });

  it.each<[string, Record<string, string>, Record<string, string>, boolean]>([
    ['default off', {}, {}, false],
    ['LB attribute on', {}, { 'load_balancing.cross_zone.enabled': 'true' }, true],
    ['group off overrides LB on', { 'load_balancing.cross_zone.enabled': 'false' }, { 'load_balancing.cross_zone.enabled': 'true' }, false],
    ['group on', { 'load_balancing.cross_zone.enabled': 'true' }, {}, true],
    ['group use_load_balancer_configuration → LB', { 'load_balancing.cross_zone.enabled': 'use_load_balancer_configuration' }, { 'load_balancing.cross_zone.enabled': 'true' }, true],
  ])('cross-zone: %s', (_name, groupAttributes, lbAttributes, expected) => {
    expect(crossZoneEnabled(group({ attributes: groupAttributes }), loadBalancer({ attributes: lbAttributes }))).toBe(expected);
  });

  it.each<[string, Partial<TargetGroupState>, boolean]>([
    ['instance TCP: on by default', {}, true],
    ['ip TCP: off by default', { targetType: 'ip' }, false],
    ['ip TLS: off by default', { targetType: 'ip', protocol: 'TLS' }, false],
    ['ip TCP with the attribute on', { targetType: 'ip', attributes: { 'preserve_client_ip.enabled': 'true' } }, true],
    ['instance TCP with the attribute off', { attributes: { 'preserve_client_ip.enabled': 'false' } }, false],
    ['UDP: always on', { targetType: 'ip', protocol: 'UDP', attributes: { 'preserve_client_ip.enabled': 'false' } }, true],
    ['TCP_UDP: always on', { targetType: 'ip', protocol: 'TCP_UDP' }, true],
    ['QUIC: always on', { targetType: 'ip', protocol: 'QUIC', attributes: { 'preserve_client_ip.enabled': 'false' } }, true],
    ['TCP_QUIC: always on', { targetType: 'ip', protocol: 'TCP_QUIC' }, true],
  ])('preserve client IP: %s', (_name, overrides, expected) => {
    expect(preservesClientIp(group(overrides))).toBe(expected);
  });

  it('each LB address forwards to its own zone; DNS lists every address while both zones have a healthy target', () => {
    const desired = desiredDataPlane([loadBalancer()], [group()], addresses, facts, (arn) => all(group({ arn })));
    expect(desired.listeners.map((l) => [l.address, l.protocol, l.port, l.targets])).toEqual([
      ['10.0.64.200', 'tcp', 80, [{ address: '10.0.64.10', port: 30080 }]],
      ['10.0.128.200', 'tcp', 80, [{ address: '10.0.128.10', port: 30080 }]],
    ]);
    expect(desired.dns.get('web-abc.elb.us-east-1.amazonaws.com')).toEqual(['10.0.64.200', '10.0.128.200']);
    expect(desired.groups.map((g) => g.targets.map((t) => t.key))).toEqual([['i-a:30080', 'i-b:30080']]);
  });

  it('DNS failover: a zone without a healthy target leaves DNS; with none healthy anywhere every address stays', () => {
    const onlyB = desiredDataPlane([loadBalancer()], [group()], addresses, facts, () => new Set(['i-b:30080']));
    expect(onlyB.dns.get('web-abc.elb.us-east-1.amazonaws.com')).toEqual(['10.0.128.200']);
    const noneHealthy = desiredDataPlane([loadBalancer()], [group()], addresses, facts, none);
    expect(noneHealthy.dns.get('web-abc.elb.us-east-1.amazonaws.com')).toEqual(['10.0.64.200', '10.0.128.200']);
    // Fail-open forwards to the registered targets.
    expect(noneHealthy.listeners.map((l) => l.targets.length)).toEqual([1, 1]);
  });

  it('draining and not-registered targets take no new flows; NotInUse ones count as registered', () => {
    const g = group({
      targetType: 'ip',
      targets: [
        { id: '10.0.64.20', port: 8080, state: 'draining', reason: 'Target.DeregistrationInProgress' },
        { id: '10.0.64.21', port: 8080, state: 'unused', reason: 'Target.NotRegistered' },
        { id: '10.0.64.22', port: 8080, state: 'unused', reason: 'Target.NotInUse' },
        { id: '10.0.64.23', port: 8080, state: 'initial', reason: 'Elb.RegistrationInProgress' },
      ],
    });
    const desired = desiredDataPlane([loadBalancer()], [g], addresses, facts, (arn) => all(g) && new Set(arn ? ['10.0.64.22:8080', '10.0.64.23:8080'] : []));
    expect(desired.listeners[0]?.targets.map((t) => t.address)).toEqual(['10.0.64.22', '10.0.64.23']);
    expect(desired.listeners[0]?.preserveClientIp).toBe(false);
  });

  it('TCP_UDP listens on both; UDP idles after 120 s, TCP after 350 s or the listener attribute', () => {
    const lb = loadBalancer({ listeners: [{ arn: 'l-1', port: 53, protocol: 'TCP_UDP', targetGroupArn: 'tg-1', attributes: { 'tcp.idle_timeout.seconds': '600' } }] });
    const desired = desiredDataPlane([lb], [group({ protocol: 'TCP_UDP' })], new Map([[lb.arn, addresses.get(lb.arn)!.slice(0, 1)]]), facts, (arn) => all(group({ arn })));
    expect(desired.listeners.map((l) => [l.protocol, l.idleTimeoutSeconds, l.preserveClientIp])).toEqual([
      ['tcp', 600, true],
      ['udp', 120, true],
    ]);
  });

  it('QUIC is forwarded as UDP, TCP_QUIC as TCP and UDP', () => {
    const lb = loadBalancer({ listeners: [{ arn: 'l-1', port: 443, protocol: 'TCP_QUIC', targetGroupArn: 'tg-1' }] });
    const desired = desiredDataPlane([lb], [group({ protocol: 'TCP_QUIC' })], new Map([[lb.arn, addresses.get(lb.arn)!.slice(0, 1)]]), facts, (arn) => all(group({ arn })));
    expect(desired.listeners.map((l) => [l.protocol, l.port, l.preserveClientIp])).toEqual([
      ['tcp', 443, true],
      ['udp', 443, true],
    ]);
  });

  it('only active network load balancers; listeners without a group are not forwarded; TLS ones are, marked for the userspace proxy', () => {
    const lbs = [
      loadBalancer({ state: 'provisioning' }),
      loadBalancer({ arn: 'arn-app', type: 'application' }),
      loadBalancer({ arn: 'arn-2', listeners: [{ arn: 'l-2', port: 443, protocol: 'TLS', targetGroupArn: 'tg-1' }, { arn: 'l-3', port: 81, protocol: 'TCP' }] }),
    ];
    const desired = desiredDataPlane(lbs, [group()], new Map([['arn-2', addresses.get(loadBalancer().arn)!]]), facts, (arn) => all(group({ arn })));
    expect(desired.listeners.map((l) => [l.listenerArn, l.port, l.tls !== undefined])).toEqual([
      ['l-2', 443, true],
      ['l-2', 443, true],
    ]);
    expect([...desired.dns.keys()]).toEqual(['web-abc.elb.us-east-1.amazonaws.com']);
  });
});
