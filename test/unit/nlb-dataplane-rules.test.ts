import { describe, expect, it } from 'vitest';
import { addressCommands, interfaceDescription } from '../../src/dataplane/addresses.ts';
import { loadBalancerOfListener, rereadFor, type Change } from '../../src/dataplane/changes.ts';
import { ANSWER_TTL, answer, buildQuery, readResponse } from '../../src/dataplane/dns.ts';
import type { ForwardedListener } from '../../src/dataplane/model.ts';
import { renderRuleset } from '../../src/dataplane/nft.ts';
import { flowSlot, proxyProtocolV2Header } from '../../src/dataplane/proxy-protocol.ts';

// The NLB data plane's pure renderings: the nftables ruleset, DNS answers, the PPv2 header, address commands.

const listener = (overrides: Partial<ForwardedListener> = {}): ForwardedListener => ({
  loadBalancerArn: 'lb',
  listenerArn: 'l',
  targetGroupArn: 'tg',
  address: '10.0.64.200',
  zone: 'us-east-1a',
  port: 80,
  protocol: 'tcp',
  targets: [
    { address: '10.0.64.10', port: 30080 },
    { address: '10.0.64.11', port: 30080 },
  ],
  preserveClientIp: true,
  proxyProtocolV2: false,
  idleTimeoutSeconds: 350,
  ...overrides,
});

describe('nftables ruleset', () => {
  it('replaces the table in one transaction; a listener chain hashes the flow onto its targets', () => {
    expect(renderRuleset([listener()]).split('\n')).toEqual([
      'table ip cpl_nlb',
      'delete table ip cpl_nlb',
      'table ip cpl_nlb {',
      '  ct timeout tcp_350 { protocol tcp; l3proto ip; policy = { established: 350 }; }',
      '  map snat_to {',
      '    type mark : ipv4_addr',
      '  }',
      '  chain prerouting {',
      '    type nat hook prerouting priority dstnat; policy accept;',
      '    ip daddr . meta l4proto . th dport vmap { 10.0.64.200 . tcp . 80 : jump l0 }',
      '  }',
      '  chain l0 {',
      '    ct timeout set "tcp_350"',
      '    dnat ip to jhash ip saddr . tcp sport . ip daddr . tcp dport mod 2 seed 0xc91b map { 0 : 10.0.64.10 . 30080, 1 : 10.0.64.11 . 30080 }',
      '  }',
      '  chain postrouting {',
      '    type nat hook postrouting priority srcnat; policy accept;',
      '  }',
      '}',
      '',
    ]);
  });

  it('client IP not preserved: the flow is marked with its LB address number and SNATed to it', () => {
    const rules = renderRuleset([
      listener({ address: '10.0.128.200', preserveClientIp: false }),
      listener({ address: '10.0.64.200', preserveClientIp: false, protocol: 'udp', port: 53, idleTimeoutSeconds: 120 }),
    ]);
    expect(rules).toContain('    elements = { 1 : 10.0.64.200, 2 : 10.0.128.200 }');
    expect(rules).toContain('  ct timeout udp_120 { protocol udp; l3proto ip; policy = { unreplied: 120, replied: 120 }; }');
    expect(rules).toContain('vmap { 10.0.64.200 . udp . 53 : jump l0, 10.0.128.200 . tcp . 80 : jump l1 }');
    expect(rules).toContain('  chain l0 {\n    ct timeout set "udp_120"\n    ct mark set 1\n    dnat ip to jhash ip saddr . udp sport . ip daddr . udp dport mod 2');
    expect(rules).toContain('  chain l1 {\n    ct timeout set "tcp_350"\n    ct mark set 2\n');
    expect(rules).toContain('    ct mark != 0 snat ip to ct mark map @snat_to');
  });

  it.each([
    ['no targets: not in the map (the router refuses: RST / port unreachable)', listener({ targets: [] })],
    ['PPv2: served by the userspace proxy', listener({ proxyProtocolV2: true })],
  ])('%s', (_name, l) => {
    expect(renderRuleset([l])).not.toContain('vmap');
  });

  it('an address . protocol . port twice (an emulator handing one address out twice) is forwarded once, the first kept', () => {
    const rules = renderRuleset([listener(), listener({ loadBalancerArn: 'other', targets: [{ address: '10.0.64.99', port: 1 }] })]);
    expect(rules.match(/: jump l\d+/g)).toHaveLength(1);
    expect(rules).not.toContain('10.0.64.99');
  });

  it('is the same text for the same listeners in any order (applied only when it changes)', () => {
    const a = listener({ address: '10.0.64.200' });
    const b = listener({ address: '10.0.128.200', idleTimeoutSeconds: 600 });
    expect(renderRuleset([a, b])).toBe(renderRuleset([b, a]));
  });
});

describe('VPC resolver answers', () => {
  const names = new Map([['web-abc.elb.us-east-1.amazonaws.com', ['10.0.64.200', '10.0.128.200']]]);
  const lookup = (name: string) => names.get(name);

  it.each<[string, Buffer, { rcode: number; addresses: string[] }]>([
    ['A of an NLB name: its addresses', buildQuery(7, 'web-abc.elb.us-east-1.amazonaws.com'), { rcode: 0, addresses: ['10.0.64.200', '10.0.128.200'] }],
    ['case and trailing dot do not matter', buildQuery(7, 'WEB-abc.ELB.us-east-1.amazonaws.com.'), { rcode: 0, addresses: ['10.0.64.200', '10.0.128.200'] }],
    ['AAAA of an NLB name: NOERROR, no records', buildQuery(7, 'web-abc.elb.us-east-1.amazonaws.com', 28), { rcode: 0, addresses: [] }],
    ['another name: NXDOMAIN', buildQuery(7, 'example.com'), { rcode: 3, addresses: [] }],
  ])('%s', (_name, query, expected) => {
    const response = answer(query, lookup)!;
    expect(readResponse(response)).toEqual({ id: 7, ...expected });
    expect(response.readUInt16BE(2) & 0x8400).toBe(0x8400); // QR, AA
  });

  it('answers with a TTL of 60 s; refuses garbage with FORMERR and ignores what has no header', () => {
    const response = answer(buildQuery(1, 'web-abc.elb.us-east-1.amazonaws.com'), lookup)!;
    expect(response.readUInt32BE(response.length - 10)).toBe(ANSWER_TTL);
    const garbage = Buffer.concat([buildQuery(9, 'x').subarray(0, 12), Buffer.from([200, 1, 2])]);
    expect(readResponse(answer(garbage, lookup)!).rcode).toBe(1);
    expect(answer(Buffer.from([1, 2, 3]), lookup)).toBeUndefined();
  });
});

describe('proxy protocol v2 header', () => {
  it('PROXY over TCP/IPv4 with the client and the listener address', () => {
    const header = proxyProtocolV2Header({ address: '10.0.0.9', port: 40000 }, { address: '10.0.64.200', port: 80 });
    expect(header.toString('hex')).toBe('0d0a0d0a000d0a515549540a' + '21' + '11' + '000c' + '0a000009' + '0a0040c8' + '9c40' + '0050');
  });

  it('the flow slot is stable for a flow and spreads flows over the slots', () => {
    const listenerAddress = { address: '10.0.64.200', port: 80 };
    expect(flowSlot({ address: '10.0.0.9', port: 40000 }, listenerAddress, 3)).toBe(flowSlot({ address: '10.0.0.9', port: 40000 }, listenerAddress, 3));
    const used = new Set(Array.from({ length: 60 }, (_, i) => flowSlot({ address: '10.0.0.9', port: 40000 + i }, listenerAddress, 3)));
    expect(used).toEqual(new Set([0, 1, 2]));
  });
});

describe('NLB addresses', () => {
  it('describes interfaces as AWS does: ELB net/<name>/<id>', () => {
    expect(interfaceDescription('arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/k8s-demo-web/50dc6c495c0c9188')).toBe('ELB net/k8s-demo-web/50dc6c495c0c9188');
  });

  it('adds the missing /32s with our label and removes ours that are no longer wanted', () => {
    expect(addressCommands(new Set(['10.0.0.2', '10.0.64.9']), new Set(['10.0.0.2', '10.0.64.200']))).toEqual([
      'addr add 10.0.64.200/32 dev lo label lo:elb',
      'addr del 10.0.64.9/32 dev lo',
    ]);
  });
});

describe('what a change re-reads', () => {
  const lb = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/web/50dc6c495c0c9188';
  const tg = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/73e2d6bc24d8a067';
  const listenerArn = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/web/50dc6c495c0c9188/f2f7dc8efc522ab2';
  const change = (action: string, arns: string[], service = 'elbv2'): Change => ({ version: 1, service, action, arns });

  it.each<[string, Change[], { discover: boolean; loadBalancers: string[]; targetGroups: string[]; instances: boolean }]>([
    ['RegisterTargets: the group', [change('RegisterTargets', [tg])], { discover: false, loadBalancers: [], targetGroups: [tg], instances: false }],
    ['CreateListener: its NLB and group', [change('CreateListener', [lb, tg])], { discover: false, loadBalancers: [lb], targetGroups: [tg], instances: false }],
    ['DeleteListener: the NLB its ARN names', [change('DeleteListener', [listenerArn])], { discover: false, loadBalancers: [lb], targetGroups: [], instances: false }],
    ['CreateLoadBalancer without its ARN (an older plugin): list the NLBs again', [change('CreateLoadBalancer', [])], { discover: true, loadBalancers: [], targetGroups: [], instances: false }],
    ['CreateLoadBalancer naming what it created: just that NLB', [change('CreateLoadBalancer', [lb])], { discover: false, loadBalancers: [lb], targetGroups: [], instances: false }],
    ['CreateTargetGroup naming what it created: that group', [change('CreateTargetGroup', [tg])], { discover: false, loadBalancers: [], targetGroups: [tg], instances: false }],
    ['an EC2 change: instance addresses', [change('RunInstances', [], 'ec2')], { discover: false, loadBalancers: [], targetGroups: [], instances: true }],
  ])('%s', (_name, changes, expected) => {
    const reread = rereadFor(changes);
    expect({ ...reread, loadBalancers: [...reread.loadBalancers], targetGroups: [...reread.targetGroups] }).toEqual(expected);
  });

  it('a listener ARN names its load balancer', () => {
    expect(loadBalancerOfListener(listenerArn)).toBe(lb);
  });
});
