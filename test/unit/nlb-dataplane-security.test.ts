import { describe, expect, it } from 'vitest';
import type { DesiredDataPlane, ForwardedListener, LoadBalancerState, TargetGroupState } from '../../src/dataplane/model.ts';
import { renderSecurityRuleset } from '../../src/dataplane/nft-security.ts';
import { securityFilters } from '../../src/dataplane/security-filters.ts';
import {
  allowedSources,
  backendFilters,
  blockedLocalConnections,
  frontendFilters,
  normalizeCidrs,
  ruleCovers,
  targetAllows,
  type IngressRule,
  type SecurityFacts,
} from '../../src/dataplane/security-groups.ts';

// Who the NLBs' security groups let in (ADR 0014), and the nftables table that enforces it.

const rule = (overrides: Partial<IngressRule>): IngressRule => ({ protocol: 'tcp', fromPort: 80, toPort: 80, cidrs: [], groups: [], ...overrides });

const facts = (rules: Record<string, IngressRule[]>, interfaces: SecurityFacts['interfaces'] = []): SecurityFacts => ({ rules: new Map(Object.entries(rules)), interfaces });

const nlb = (overrides: Partial<LoadBalancerState> = {}): LoadBalancerState => ({
  arn: 'lb',
  name: 'lb',
  dnsName: 'lb.elb',
  state: 'active',
  type: 'network',
  subnets: [{ subnetId: 's1', zone: 'a' }],
  attributes: {},
  listeners: [{ arn: 'l80', port: 80, protocol: 'TCP', targetGroupArn: 'tg' }],
  securityGroups: ['sg-front'],
  ...overrides,
});

const forwarded = (overrides: Partial<ForwardedListener> = {}): ForwardedListener => ({
  loadBalancerArn: 'lb',
  listenerArn: 'l80',
  targetGroupArn: 'tg',
  address: '10.0.64.200',
  zone: 'a',
  port: 80,
  protocol: 'tcp',
  targets: [{ address: '10.0.64.10', port: 30080 }],
  preserveClientIp: true,
  proxyProtocolV2: false,
  idleTimeoutSeconds: 350,
  ...overrides,
});

describe('a rule covers a protocol and port', () => {
  it.each([
    [rule({}), 'tcp', 80, true],
    [rule({}), 'tcp', 81, false],
    [rule({}), 'udp', 80, false],
    [rule({ protocol: '6' }), 'tcp', 80, true],
    [rule({ protocol: '17', fromPort: 53, toPort: 53 }), 'udp', 53, true],
    [rule({ protocol: '-1', fromPort: -1, toPort: -1 }), 'udp', 9999, true],
    [rule({ fromPort: 30000, toPort: 32767 }), 'tcp', 30080, true],
    [rule({ fromPort: -1, toPort: -1 }), 'tcp', 443, true],
    [rule({ protocol: 'icmp', fromPort: 3, toPort: 4 }), 'tcp', 3, false],
  ] as const)('%o on %s/%i: %s', (r, protocol, port, expected) => {
    expect(ruleCovers(r, protocol, port)).toBe(expected);
  });
});

describe('CIDRs merged for nftables intervals', () => {
  it.each([
    [['10.0.0.5/32', '10.0.0.0/16'], ['10.0.0.0/16']],
    [['10.0.0.5/16'], ['10.0.0.0/16']],
    [['10.0.0.7/32', '10.0.0.5/32', '10.0.0.5/32'], ['10.0.0.5/32', '10.0.0.7/32']],
    [['0.0.0.0/0', '192.168.1.0/24'], ['0.0.0.0/0']],
    [['::/0', 'not-a-cidr', '10.1.0.0/24'], ['10.1.0.0/24']],
  ])('%o → %o', (cidrs, expected) => {
    expect(normalizeCidrs(cidrs)).toEqual(expected);
  });
});

describe('frontend: who may reach a listener', () => {
  const eni = { id: 'eni-b', addresses: ['10.0.1.5', '10.0.1.6'], groups: ['sg-bastion'] };

  it.each([
    ['source range', { 'sg-front': [rule({ cidrs: ['10.0.1.5/32'] })] }, ['10.0.1.5/32']],
    ['two groups, both count', { 'sg-front': [rule({ cidrs: ['10.0.1.5/32'] })], 'sg-back': [rule({ cidrs: ['10.9.0.0/16'] })] }, ['10.0.1.5/32', '10.9.0.0/16']],
    ['a referenced group: its interfaces\' addresses', { 'sg-front': [rule({ groups: ['sg-bastion'] })] }, ['10.0.1.5/32', '10.0.1.6/32']],
    ['another port only: nobody', { 'sg-front': [rule({ fromPort: 443, toPort: 443, cidrs: ['0.0.0.0/0'] })] }, []],
    ['ICMP only: nobody', { 'sg-front': [rule({ protocol: 'icmp', fromPort: 3, toPort: 4, cidrs: ['0.0.0.0/0'] })] }, []],
  ])('%s', (_, rules, expected) => {
    expect(allowedSources(['sg-front', 'sg-back'], 'tcp', 80, facts(rules, [eni]))).toEqual(expected);
  });

  it('each address of an NLB with groups is guarded on each listener protocol; one without groups is not', () => {
    const addresses = new Map([
      ['lb', [{ address: '10.0.64.200' }, { address: '10.0.128.200' }]],
      ['open', [{ address: '10.0.64.201' }]],
    ]);
    const lbs = [
      nlb({ listeners: [{ arn: 'l', port: 53, protocol: 'TCP_UDP' }] }),
      nlb({ arn: 'open', securityGroups: [] }),
    ];
    const filters = frontendFilters(lbs, addresses, facts({ 'sg-front': [rule({ protocol: 'udp', fromPort: 53, toPort: 53, cidrs: ['10.0.0.0/16'] })] }));
    expect(filters).toEqual([
      { address: '10.0.64.200', protocol: 'tcp', port: 53, sources: [] },
      { address: '10.0.128.200', protocol: 'tcp', port: 53, sources: [] },
      { address: '10.0.64.200', protocol: 'udp', port: 53, sources: ['10.0.0.0/16'] },
      { address: '10.0.128.200', protocol: 'udp', port: 53, sources: ['10.0.0.0/16'] },
    ]);
  });
});

describe('backend: what a target\'s groups let through', () => {
  const node = { id: 'eni-node', addresses: ['10.0.64.10', '10.0.64.50'], groups: ['sg-node'] };
  const withNodeRules = (rules: IngressRule[]) => facts({ 'sg-node': rules }, [node]);

  it.each([
    ['a rule from the NLB\'s group lets everything through', [rule({ fromPort: 30080, toPort: 30080, groups: ['sg-back'] })], true, ['0.0.0.0/0']],
    ['the same rule on another port: nothing', [rule({ fromPort: 30081, toPort: 30081, groups: ['sg-back'] })], true, []],
    ['client IP preserved: the client CIDRs', [rule({ fromPort: 30080, toPort: 30080, cidrs: ['10.0.1.5/32'] })], true, ['10.0.1.5/32']],
    ['client IP not preserved: a CIDR holding the NLB address lets all in', [rule({ fromPort: 30080, toPort: 30080, cidrs: ['10.0.0.0/16'] })], false, ['0.0.0.0/0']],
    ['client IP not preserved: a client CIDR alone lets nobody in', [rule({ fromPort: 30080, toPort: 30080, cidrs: ['10.0.1.5/32'] })], false, []],
    ['no rule at all', [], true, []],
  ])('%s', (_, rules, preserveClientIp, expected) => {
    const lbs = [nlb({ securityGroups: ['sg-front', 'sg-back'] })];
    expect(backendFilters([forwarded({ preserveClientIp })], lbs, withNodeRules(rules)).map((f) => f.sources)).toEqual([expected]);
  });

  it('a target no interface holds (outside the VPC model) is not filtered', () => {
    expect(backendFilters([forwarded({ targets: [{ address: '10.0.99.9', port: 30080 }] })], [nlb()], withNodeRules([]))).toEqual([]);
  });

  it('an ip target is judged by the interface holding its (secondary) address', () => {
    expect(targetAllows(['sg-node'], ['sg-back'], 'tcp', 8080, withNodeRules([rule({ fromPort: 8080, toPort: 8080, groups: ['sg-back'] })])).fromLoadBalancer).toBe(true);
    const filters = backendFilters([forwarded({ targets: [{ address: '10.0.64.50', port: 8080 }] })], [nlb()], withNodeRules([]));
    expect(filters).toEqual([{ address: '10.0.64.200', protocol: 'tcp', port: 80, targetAddress: '10.0.64.50', targetPort: 8080, sources: [] }]);
  });

  it('the NLB\'s own connections (health checks) are blocked unless the target lets the NLB address or group in', () => {
    const wanted = [{ loadBalancerArn: 'lb', source: '10.0.64.200', targetAddress: '10.0.64.10', port: 30080 }];
    const lbs = [nlb({ securityGroups: ['sg-back'] })];
    expect(blockedLocalConnections(wanted, lbs, withNodeRules([]))).toEqual(wanted);
    expect(blockedLocalConnections(wanted, lbs, withNodeRules([rule({ fromPort: 30080, toPort: 30080, groups: ['sg-back'] })]))).toEqual([]);
    expect(blockedLocalConnections(wanted, lbs, withNodeRules([rule({ fromPort: 30080, toPort: 30080, cidrs: ['10.0.64.0/24'] })]))).toEqual([]);
    expect(blockedLocalConnections(wanted, lbs, withNodeRules([rule({ fromPort: 30080, toPort: 30080, cidrs: ['10.0.1.5/32'] })]))).toEqual(wanted);
  });
});

describe('all filters of one read', () => {
  it('health checks on their own port leave from the group\'s NLB address in the target\'s zone', () => {
    const group: TargetGroupState = {
      arn: 'tg',
      targetType: 'instance',
      protocol: 'TCP',
      port: 30080,
      attributes: {},
      targets: [],
      healthCheck: { protocol: 'HTTP', port: 10256, path: '/healthz', intervalSeconds: 10, timeoutSeconds: 6, healthyThreshold: 2, unhealthyThreshold: 2 },
    };
    const desired: DesiredDataPlane = {
      listeners: [forwarded()],
      dns: new Map(),
      groups: [{ arn: 'tg', listenerPort: 80, targets: [{ id: 'i-1', key: 'i-1:30080', address: '10.0.64.10', port: 30080, zone: 'b' }] }],
    };
    const addresses = new Map([['lb', [{ subnetId: 's1', zone: 'a', address: '10.0.64.200' }, { subnetId: 's2', zone: 'b', address: '10.0.128.200' }]]]);
    const security = facts({ 'sg-node': [rule({ fromPort: 30080, toPort: 30080, groups: ['sg-back'] })] }, [{ id: 'eni', addresses: ['10.0.64.10'], groups: ['sg-node'] }]);
    const filters = securityFilters({ loadBalancers: [nlb({ securityGroups: ['sg-back'] })], groups: [group], addresses, security }, desired);
    // Traffic on 30080 is let in by the backend rule; the check on 10256 is not.
    expect(filters.backend.map((f) => f.sources)).toEqual([['0.0.0.0/0']]);
    expect(filters.blocked).toEqual([{ loadBalancerArn: 'lb', source: '10.0.128.200', targetAddress: '10.0.64.10', port: 10256 }]);
    expect(filters.frontend).toEqual([
      { address: '10.0.64.200', protocol: 'tcp', port: 80, sources: [] },
      { address: '10.0.128.200', protocol: 'tcp', port: 80, sources: [] },
    ]);
  });
});

describe('the security table', () => {
  it('judges new flows only, with sets: frontend before the DNAT, backend after it, the NLB\'s own connections on output', () => {
    const ruleset = renderSecurityRuleset(
      [{ address: '10.0.64.200', protocol: 'tcp', port: 80, sources: ['10.0.1.5/32'] }],
      [
        { address: '10.0.64.200', protocol: 'tcp', port: 80, targetAddress: '10.0.64.10', targetPort: 30080, sources: ['10.0.1.5/32'] },
        // Another listener of the same address to the same target port: one key, the CIDRs merged.
        { address: '10.0.64.200', protocol: 'tcp', port: 8080, targetAddress: '10.0.64.10', targetPort: 30080, sources: ['10.0.0.0/16'] },
      ],
      [{ loadBalancerArn: 'lb', source: '10.0.64.200', targetAddress: '10.0.64.11', port: 10256 }],
    );
    expect(ruleset.split('\n')).toEqual([
      'table ip cpl_nlb_sg',
      'delete table ip cpl_nlb_sg',
      'table ip cpl_nlb_sg {',
      '  set frontend_guarded {',
      '    type ipv4_addr . inet_proto . inet_service',
      '    elements = { 10.0.64.200 . tcp . 80 }',
      '  }',
      '  set frontend_allowed {',
      '    type ipv4_addr . inet_proto . inet_service . ipv4_addr',
      '    flags interval',
      '    elements = { 10.0.64.200 . tcp . 80 . 10.0.1.5/32 }',
      '  }',
      '  set backend_guarded {',
      '    type ipv4_addr . inet_proto . ipv4_addr . inet_service',
      '    elements = { 10.0.64.200 . tcp . 10.0.64.10 . 30080 }',
      '  }',
      '  set backend_allowed {',
      '    type ipv4_addr . inet_proto . ipv4_addr . inet_service . ipv4_addr',
      '    flags interval',
      '    elements = { 10.0.64.200 . tcp . 10.0.64.10 . 30080 . 10.0.0.0/16 }',
      '  }',
      '  set local_blocked {',
      '    type ipv4_addr . ipv4_addr . inet_service',
      '    elements = { 10.0.64.200 . 10.0.64.11 . 10256 }',
      '  }',
      '  chain frontend {',
      '    type filter hook prerouting priority dstnat - 10; policy accept;',
      '    ct state new ip daddr . meta l4proto . th dport @frontend_guarded ip daddr . meta l4proto . th dport . ip saddr != @frontend_allowed drop',
      '  }',
      '  chain backend {',
      '    type filter hook forward priority filter; policy accept;',
      '    ct state new ct status dnat ct original ip daddr . meta l4proto . ip daddr . th dport @backend_guarded ct original ip daddr . meta l4proto . ip daddr . th dport . ip saddr != @backend_allowed drop',
      '  }',
      '  chain local {',
      '    type filter hook output priority filter; policy accept;',
      '    ct state new ip saddr . ip daddr . tcp dport @local_blocked drop',
      '  }',
      '}',
      '',
    ]);
  });

  it('nothing guarded: empty sets, no elements lines', () => {
    expect(renderSecurityRuleset([], [], [])).not.toContain('elements');
  });
});
