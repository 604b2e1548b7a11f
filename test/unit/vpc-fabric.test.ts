import { describe, expect, it } from 'vitest';
import {
  bastionCommands,
  cidrContains,
  nodeCommands,
  parseNamespaceList,
  podCommands,
  podDefaultsCommand,
  routerCommands,
  subnetCommands,
  subnetGateway,
  teardownOrder,
  vpcResolver,
} from '../../src/devenv/vpc/fabric-commands.ts';
import { classifyNs, envIdOf, nodeNs, nodeUplinkPeer, podHostVeth, podNs } from '../../src/devenv/vpc/names.ts';
import { parseTarget } from '../../src/devenv/vpc/relay.ts';
import { runCommand } from '../../src/devenv/vpc/fabric.ts';

// Which commands each step of the VPC's fabric runs, and in which namespace: every `ip` names its namespace
// (`-n`), every sysctl runs under nsenter --net, so nothing can land in the caller's (the host's) namespace.

const sh = (commands: readonly (readonly string[])[]): string[] => commands.map((command) => command.join(' '));
const ENI = podHostVeth('shop', 'web-1');
const NODE_PEER = nodeUplinkPeer('node-a');

describe('fabric commands', () => {
  it.each([
    ['router', routerCommands('cplabc123-vpc'), [
      'ip netns add cplabc123-vpc',
      'ip -n cplabc123-vpc link set lo up',
      'nsenter --net=/run/netns/cplabc123-vpc -- sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0',
    ]],
    ['subnet bridge', subnetCommands('cplabc123-vpc', 2, '10.0.32.0/20'), [
      'ip -n cplabc123-vpc link add br-2 type bridge',
      'nsenter --net=/run/netns/cplabc123-vpc -- sysctl -q -w net.ipv4.conf.br-2.proxy_arp=1 net.ipv4.conf.br-2.proxy_arp_pvlan=1 net.ipv4.conf.br-2.send_redirects=0 net.ipv4.neigh.br-2.proxy_delay=0',
      'ip -n cplabc123-vpc addr add 10.0.32.1/20 dev br-2',
      'ip -n cplabc123-vpc link set br-2 up',
    ]],
    ['node', nodeCommands({ router: 'R', ns: 'N', nodeName: 'node-a', address: '10.0.32.7', subnetIndex: 2, subnetCidr: '10.0.32.0/20' }), [
      'ip netns add N',
      'ip -n N link set lo up',
      `ip -n R link add ${NODE_PEER} type veth peer name eth0 netns N`,
      `ip -n R link set ${NODE_PEER} master br-2 up`,
      `ip -n R link set dev ${NODE_PEER} type bridge_slave isolated on`,
      'ip -n N addr add 10.0.32.7/20 dev eth0',
      'ip -n N link set eth0 up',
      'ip -n N route add default via 10.0.32.1 dev eth0',
      'nsenter --net=/run/netns/N -- sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.conf.eth0.proxy_arp=1 net.ipv4.neigh.eth0.proxy_delay=0 net.ipv4.conf.all.route_localnet=1 net.ipv4.conf.default.proxy_arp=1',
    ]],
    ['bastion', bastionCommands({ router: 'R', ns: 'B', address: '10.0.0.9', subnetIndex: 0, subnetCidr: '10.0.0.0/24' }), [
      'ip netns add B',
      'ip -n B link set lo up',
      'ip -n R link add bastion type veth peer name eth0 netns B',
      'ip -n R link set bastion master br-0 up',
      'ip -n R link set dev bastion type bridge_slave isolated on',
      'ip -n B addr add 10.0.0.9/24 dev eth0',
      'ip -n B link set eth0 up',
      'ip -n B route add default via 10.0.0.1 dev eth0',
    ]],
  ])('%s', (_step, commands, expected) => {
    expect(sh(commands)).toEqual(expected);
  });

  // The same network as one command per change (ip netns add; pod: lo up, /32 on eth0, eth0 up, the gateway's
  // link route, default route; node: the veth pair, proxy ARP without delay, veth up, the /32 route), in 3
  // processes: the node's proxy_arp comes from its conf.default (above), proxy_delay from `ip ntable`.
  it('a pod: its namespace, then one ip batch in the node and one in the pod', () => {
    expect(podCommands('N', 'P', { uid: 'u-1', namespace: 'shop', name: 'web-1' }, '10.0.32.50')).toEqual([
      ['ip', 'netns', 'add', 'P'],
      {
        argv: ['ip', '-n', 'N', '-batch', '-'],
        input: [`link add ${ENI} type veth peer name eth0 netns P`, `ntable change name arp_cache dev ${ENI} proxy_delay 0`, `link set ${ENI} up`, `route add 10.0.32.50/32 dev ${ENI}`, ''].join('\n'),
      },
      {
        argv: ['ip', '-n', 'P', '-batch', '-'],
        input: ['link set lo up', 'addr add 10.0.32.50/32 dev eth0', 'link set eth0 up', 'route add 169.254.1.1 dev eth0 scope link', 'route add default via 169.254.1.1 dev eth0', ''].join('\n'),
      },
    ]);
  });

  it("a node's pod defaults alone (the agent reapplies them at its start)", () => {
    expect(podDefaultsCommand('N').join(' ')).toBe('nsenter --net=/run/netns/N -- sysctl -q -w net.ipv4.conf.default.proxy_arp=1');
  });

  it('runs a batch with its lines on stdin, and names the command and its lines when it fails', async () => {
    expect(await runCommand({ argv: ['cat'], input: 'link set lo up\n' })).toBe('link set lo up\n');
    await expect(runCommand({ argv: ['sh', '-c', 'cat >/dev/null; echo "Command failed -:1" >&2; exit 1'], input: 'route add x\n' })).rejects.toThrow(
      'sh -c cat >/dev/null; echo "Command failed -:1" >&2; exit 1 <<< "route add x\\n" failed: Command failed -:1',
    );
  });

  it('refuses a pod address that is not IPv4, naming it', () => {
    expect(() => podCommands('N', 'P', { uid: 'u', namespace: 'a', name: 'b' }, '10.0.1')).toThrow('"10.0.1" is not an IPv4 address');
  });

  it('tears pods down before nodes, nodes before the bastion and router, and leaves other environments alone', () => {
    const listed = parseNamespaceList('cplabc123-vpc (id: 0)\ncplabc123-n-a (id: 2)\ncplfff000-n-x\ncplabc123-bastion\ncplabc123-p-0011\n');
    expect(teardownOrder(listed, 'cplabc123-')).toEqual(['cplabc123-p-0011', 'cplabc123-n-a', 'cplabc123-bastion', 'cplabc123-vpc']);
  });
});

describe('addresses', () => {
  it.each([
    ['10.0.0.0/24', '10.0.0.1'],
    ['10.0.32.0/20', '10.0.32.1'],
    ['10.0.33.5/20', '10.0.32.1'],
  ])('the router of %s is %s', (cidr, gateway) => expect(subnetGateway(cidr)).toBe(gateway));

  it('the resolver is base+2 of the VPC', () => expect(vpcResolver('10.0.0.0/16')).toBe('10.0.0.2'));

  it.each([
    ['10.0.0.0/16', '10.0.255.255', true],
    ['10.0.0.0/16', '10.1.0.0', false],
    ['10.0.0.0/16', '127.0.0.1', false],
  ])('%s contains %s: %s', (cidr, address, inside) => expect(cidrContains(cidr, address)).toBe(inside));

  it.each(['10.0.0.0', '10.0.0.0/33', 'x/8'])('refuses CIDR %s', (cidr) => expect(() => subnetGateway(cidr)).toThrow(JSON.stringify(cidr)));
});

describe('names', () => {
  it('keeps interface names within 15 characters', () => {
    expect(podHostVeth('a-very-long-namespace-name', 'a-very-long-pod-name-0123456789')).toMatch(/^eni[0-9a-f]{11}$/);
    expect(nodeUplinkPeer('ip-10-0-1-23.ec2.internal')).toMatch(/^n[0-9a-f]{10}$/);
  });

  it('derives the environment id from the state folder', () => {
    expect(envIdOf('/tmp/cpl-A')).toMatch(/^[0-9a-f]{6}$/);
    expect(envIdOf('/tmp/cpl-A')).not.toBe(envIdOf('/tmp/cpl-B'));
  });

  it('names and recognises namespaces', () => {
    expect(nodeNs('node-a', 'abc123')).toBe('cplabc123-n-node-a');
    expect(nodeNs('n'.repeat(41), 'abc123')).toMatch(/^cplabc123-n-[0-9a-f]{12}$/);
    expect(podNs('0123abcd-4567-89ef-0123-456789abcdef', 'abc123')).toBe('cplabc123-p-0123abcd456789ef');
    expect(classifyNs('cplabc123-n-node-a', 'abc123')).toEqual({ kind: 'node', part: 'node-a' });
    expect(classifyNs('cplabc123-vpc', 'abc123')).toEqual({ kind: 'router' });
    expect(classifyNs('cplfff000-vpc', 'abc123')).toBeUndefined();
  });
});

describe('door requests', () => {
  it('parses ADDRESS:PORT', () => expect(parseTarget('10.0.1.5:8080')).toEqual({ address: '10.0.1.5', port: 8080 }));
  it.each(['10.0.1.5', '10.0.1.5:0', '10.0.1.5:70000', 'host:80'])('refuses %s, naming it', (text) =>
    expect(() => parseTarget(text)).toThrow(/".*"/));
});
