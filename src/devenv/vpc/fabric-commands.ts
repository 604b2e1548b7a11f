/**
 * The commands that build and take down the local VPC (ADR 0011), as data: each builder returns the argv lists
 * one step runs, in order, so a unit table pins exactly which `ip`/`sysctl` commands touch which namespace.
 * fabric.ts runs them. Every command names its namespace (`ip -n NS`, `nsenter --net=/run/netns/NS`), so they
 * work from any network namespace that shares the host's mount namespace (the supervisor in the host ns, a
 * node agent inside its node ns) and nothing ever lands in the caller's own namespace.
 */
import {
  BASTION_UPLINK_PEER,
  POD_GATEWAY,
  UPLINK,
  netnsPath,
  nodeUplinkPeer,
  podHostVeth,
  subnetBridge,
} from './names.ts';

export type Command = readonly string[];

/**
 * Several changes of one namespace in one process: `ip -n NS -batch -` reads them from stdin, one per line, and
 * stops at the first that fails (non-zero exit). A pod costs 3 processes this way instead of 10.
 */
export interface IpBatch {
  readonly argv: Command;
  readonly input: string;
}

/** One process of a step: a plain command, or an `ip` batch with its stdin. */
export type Step = Command | IpBatch;

export const isBatch = (step: Step): step is IpBatch => 'input' in step;

const ipBatch = (ns: string, lines: readonly Command[]): IpBatch => ({
  argv: ['ip', '-n', ns, '-batch', '-'],
  input: lines.map((line) => `${line.join(' ')}\n`).join(''),
});

/** A pod as the fabric needs it: the UID names its namespace, namespace/name its host-side veth. */
export interface PodKey {
  uid: string;
  namespace: string;
  name: string;
}

/** An IPv4 CIDR taken apart; throws naming the value when it is not one. */
export interface Ipv4Cidr {
  base: number;
  prefix: number;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export const parseIpv4 = (text: string): number => {
  const match = IPV4.exec(text);
  const octets = match?.slice(1).map(Number);
  if (!octets || octets.some((octet) => octet > 255)) throw new Error(`${JSON.stringify(text)} is not an IPv4 address`);
  return octets.reduce((value, octet) => value * 256 + octet, 0);
};

export const formatIpv4 = (value: number): string =>
  [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');

export const parseCidr = (text: string): Ipv4Cidr => {
  const [address = '', prefixText, extra] = text.split('/');
  const prefix = Number(prefixText);
  const value = IPV4.test(address) ? parseIpv4(address) : Number.NaN;
  if (Number.isNaN(value) || extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
    throw new Error(`${JSON.stringify(text)} is not an IPv4 CIDR (a.b.c.d/prefix)`);
  }
  return { base: value - (value % 2 ** (32 - prefix)), prefix };
};

export const cidrContains = (cidr: string, address: string): boolean => {
  const { base, prefix } = parseCidr(cidr);
  const value = parseIpv4(address);
  return value >= base && value < base + 2 ** (32 - prefix);
};

/** AWS reserves base+1 of every subnet for the VPC router: our subnet bridge holds it. */
export const subnetGateway = (cidr: string): string => formatIpv4(parseCidr(cidr).base + 1);

/** AWS's VPC resolver lives at base+2 of the VPC's CIDR (issue 11 serves it). */
export const vpcResolver = (vpcCidr: string): string => formatIpv4(parseCidr(vpcCidr).base + 2);

const ip = (ns: string, ...args: string[]): Command => ['ip', '-n', ns, ...args];

/** sysctl inside a namespace without `ip netns exec` (which would make a mount namespace): net.* is per netns. */
const sysctl = (ns: string, ...settings: string[]): Command => [
  'nsenter',
  `--net=${netnsPath(ns)}`,
  '--',
  'sysctl',
  '-q',
  '-w',
  ...settings,
];

/** A fresh namespace with its loopback up. */
const newNamespace = (ns: string): Command[] => [['ip', 'netns', 'add', ns], ip(ns, 'link', 'set', 'lo', 'up')];

/**
 * The VPC router: forwards between subnet bridges; no default route, so nothing leaves the VPC. It sends no ICMP
 * redirects: it routes between hosts of one subnet on purpose (see subnetCommands), and a redirect would teach
 * them to bypass it.
 */
export const routerCommands = (router: string): Command[] => [
  ...newNamespace(router),
  sysctl(router, 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.send_redirects=0', 'net.ipv4.conf.default.send_redirects=0'),
];

/**
 * One subnet's bridge in the router, holding the subnet's .1 (the AWS VPC router address). The VPC is routed, as
 * AWS's is (ADR 0012): host ports are isolated (subnetHostCommands), so the router answers ARP for every
 * neighbour (proxy_arp with proxy_arp_pvlan: also back out of the same bridge, at once) and every packet, even
 * within a subnet, crosses it; the NLB's connection tracking there sees a target's reply to a preserved client IP.
 */
export const subnetCommands = (router: string, index: number, subnetCidr: string): Command[] => {
  const bridge = subnetBridge(index);
  return [
    ip(router, 'link', 'add', bridge, 'type', 'bridge'),
    sysctl(
      router,
      `net.ipv4.conf.${bridge}.proxy_arp=1`,
      `net.ipv4.conf.${bridge}.proxy_arp_pvlan=1`,
      `net.ipv4.conf.${bridge}.send_redirects=0`,
      `net.ipv4.neigh.${bridge}.proxy_delay=0`,
    ),
    ip(router, 'addr', 'add', `${subnetGateway(subnetCidr)}/${parseCidr(subnetCidr).prefix}`, 'dev', bridge),
    ip(router, 'link', 'set', bridge, 'up'),
  ];
};

/** A host on a subnet (node or bastion): eth0 on the subnet's bridge with its address, default via the .1. */
export interface SubnetHost {
  router: string;
  ns: string;
  /** Name of eth0's peer in the router ns. */
  peer: string;
  address: string;
  subnetIndex: number;
  subnetCidr: string;
}

const subnetHostCommands = (host: SubnetHost): Command[] => [
  ...newNamespace(host.ns),
  ip(host.router, 'link', 'add', host.peer, 'type', 'veth', 'peer', 'name', UPLINK, 'netns', host.ns),
  ip(host.router, 'link', 'set', host.peer, 'master', subnetBridge(host.subnetIndex), 'up'),
  // Isolated: hosts of one subnet reach each other only through the router (subnetCommands).
  ip(host.router, 'link', 'set', 'dev', host.peer, 'type', 'bridge_slave', 'isolated', 'on'),
  ip(host.ns, 'addr', 'add', `${host.address}/${parseCidr(host.subnetCidr).prefix}`, 'dev', UPLINK),
  ip(host.ns, 'link', 'set', UPLINK, 'up'),
  ip(host.ns, 'route', 'add', 'default', 'via', subnetGateway(host.subnetCidr), 'dev', UPLINK),
];

export interface NodeHost {
  router: string;
  ns: string;
  nodeName: string;
  /** The instance's primary private IP (the Node's InternalIP). */
  address: string;
  subnetIndex: number;
  subnetCidr: string;
}

/**
 * A networked node: forwards for its pods and answers ARP on its subnet for their addresses (proxy_arp on eth0,
 * as the ENI owning the secondary address would). proxy_delay=0: by default the kernel answers a broadcast ARP
 * request for a proxied address after a random delay of up to 0.8 s, which loses first packets. route_localnet
 * lets kube-proxy's NodePort rules reach 127/8. conf.default.proxy_arp=1: every interface made later in the
 * node's namespace (a pod's veth, podCommands) proxies ARP from birth, so a pod needs no sysctl process.
 */
export const nodeCommands = (node: NodeHost): Command[] => [
  ...subnetHostCommands({ ...node, peer: nodeUplinkPeer(node.nodeName) }),
  sysctl(
    node.ns,
    'net.ipv4.ip_forward=1',
    `net.ipv4.conf.${UPLINK}.proxy_arp=1`,
    `net.ipv4.neigh.${UPLINK}.proxy_delay=0`,
    'net.ipv4.conf.all.route_localnet=1',
    'net.ipv4.conf.default.proxy_arp=1',
  ),
];

/**
 * The node-side setting podCommands relies on, alone: the node agent applies it at its start too, so a node
 * namespace made by an older supervisor (one running since before pods relied on it) still gets it.
 */
export const podDefaultsCommand = (nodeNs: string): Command => sysctl(nodeNs, 'net.ipv4.conf.default.proxy_arp=1');

/** The bastion: a plain host in a public subnet (no forwarding). */
export const bastionCommands = (bastion: Omit<SubnetHost, 'peer'>): Command[] =>
  subnetHostCommands({ ...bastion, peer: BASTION_UPLINK_PEER });

/**
 * A pod on a node, VPC-CNI style: the pod's eth0 holds its address as a /32 with a default route via
 * 169.254.1.1, which the node-side veth answers by proxy ARP; the node routes the /32 to that veth. So every
 * packet to or from the pod crosses the node's netfilter (kube-proxy), as on EKS.
 * Three processes (the namespace, then one `ip` batch per side): the node side first makes the pair (the pod's
 * end moved into the pod's namespace), sets the veth's proxy_delay to 0 (proxy_arp it has from the node's
 * conf.default, nodeCommands), brings it up and routes the /32 to it (accepted while the pod's end is still
 * down: the route is linkdown until then); the pod side then gives eth0 its address and routes.
 */
export const podCommands = (nodeNs: string, podNs: string, pod: PodKey, podIp: string): Step[] => {
  parseIpv4(podIp);
  const veth = podHostVeth(pod.namespace, pod.name);
  return [
    ['ip', 'netns', 'add', podNs],
    ipBatch(nodeNs, [
      ['link', 'add', veth, 'type', 'veth', 'peer', 'name', UPLINK, 'netns', podNs],
      ['ntable', 'change', 'name', 'arp_cache', 'dev', veth, 'proxy_delay', '0'],
      ['link', 'set', veth, 'up'],
      ['route', 'add', `${podIp}/32`, 'dev', veth],
    ]),
    ipBatch(podNs, [
      ['link', 'set', 'lo', 'up'],
      ['addr', 'add', `${podIp}/32`, 'dev', UPLINK],
      ['link', 'set', UPLINK, 'up'],
      ['route', 'add', POD_GATEWAY, 'dev', UPLINK, 'scope', 'link'],
      ['route', 'add', 'default', 'via', POD_GATEWAY, 'dev', UPLINK],
    ]),
  ];
};

/** Listing and killing what runs in a namespace, then deleting it (its interfaces, routes and rules go with it). */
export const listPidsCommand = (ns: string): Command => ['ip', 'netns', 'pids', ns];
export const deleteNamespaceCommand = (ns: string): Command => ['ip', 'netns', 'del', ns];
export const listNamespacesCommand: Command = ['ip', 'netns', 'list'];

/** Names out of `ip netns list` output ("name (id: 3)" or "name" per line). */
export const parseNamespaceList = (output: string): string[] =>
  output
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name !== '');

/**
 * Teardown order: pods before nodes before the bastion and router, so a veth is never left waiting on a peer
 * namespace that is mid-deletion and a node's processes cannot recreate a pod namespace we already removed.
 */
export const teardownOrder = (names: readonly string[], prefix: string): string[] => {
  const rank = (name: string): number => {
    const rest = name.slice(prefix.length);
    if (rest.startsWith('p-')) return 0;
    if (rest.startsWith('n-')) return 1;
    if (rest === 'bastion') return 2;
    return 3;
  };
  return names.filter((name) => name.startsWith(prefix)).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
};
