/**
 * The NLB data plane's nftables ruleset (ADR 0012), rendered as the text `nft -f` reads. Pure: nft-apply.ts runs it.
 *
 * One table `ip cpl_nlb` in the VPC router's namespace, replaced in one transaction on every change. Its rules
 * live in nat chains, which only see a flow's first packet: a flow keeps the target (and source address) its
 * first packet got from conntrack, so replacing the table never moves or drops an open flow; a target removed
 * from a map (deregistered, unhealthy) only stops getting new flows.
 *
 * - prerouting: one verdict map from LB address . protocol . port to the listener's chain.
 * - a listener's chain: its idle timeout (a `ct timeout` object), the SNAT mark when the client IP is not
 *   preserved, and DNAT to a target chosen by a hash of the flow's addresses and ports (`jhash … mod N`).
 * - postrouting: flows marked with an LB address's number leave with that address as source.
 */
import { inUserspace, type ForwardedListener, type Protocol } from './model.ts';

export const TABLE = 'cpl_nlb';
/** Fixed, so a re-render hashes a flow to the same target while the target list is unchanged. */
const HASH_SEED = '0xc91b';

const timeoutName = (protocol: Protocol, seconds: number): string => `${protocol}_${seconds}`;

const timeoutObject = (protocol: Protocol, seconds: number): string =>
  protocol === 'tcp'
    ? `  ct timeout ${timeoutName(protocol, seconds)} { protocol tcp; l3proto ip; policy = { established: ${seconds} }; }`
    : `  ct timeout ${timeoutName(protocol, seconds)} { protocol udp; l3proto ip; policy = { unreplied: ${seconds}, replied: ${seconds} }; }`;

/** The listeners nftables forwards: not PPv2 or TLS ones (the userspace proxy serves those), only ones with targets. */
export const kernelForwarded = (listeners: readonly ForwardedListener[]): ForwardedListener[] => {
  // One entry per address . protocol . port: a duplicate key would fail the whole transaction (two NLBs can
  // only share an address by an emulator mistake; the first keeps it).
  const seen = new Set<string>();
  return listeners.filter((listener) => {
    const key = `${listener.address} ${listener.protocol} ${listener.port}`;
    if (inUserspace(listener) || listener.targets.length === 0 || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
};

const listenerChain = (listener: ForwardedListener, index: number, snatMark: number | undefined): string[] => {
  const { protocol, targets } = listener;
  const elements = targets.map((target, slot) => `${slot} : ${target.address} . ${target.port}`).join(', ');
  const hash = `jhash ip saddr . ${protocol} sport . ip daddr . ${protocol} dport mod ${targets.length} seed ${HASH_SEED}`;
  return [
    `  chain l${index} {`,
    `    ct timeout set "${timeoutName(protocol, listener.idleTimeoutSeconds)}"`,
    ...(snatMark === undefined ? [] : [`    ct mark set ${snatMark}`]),
    `    dnat ip to ${hash} map { ${elements} }`,
    '  }',
  ];
};

const byAddressValue = (a: string, b: string): number => {
  const value = (address: string): number => address.split('.').reduce((sum, part) => sum * 256 + Number(part), 0);
  return value(a) - value(b);
};

/** The whole table: deletes the previous one and creates the new one in the same transaction. */
export function renderRuleset(listeners: readonly ForwardedListener[]): string {
  const forwarded = kernelForwarded(listeners).sort(
    (a, b) => byAddressValue(a.address, b.address) || a.protocol.localeCompare(b.protocol) || a.port - b.port,
  );
  const timeouts = [...new Set(forwarded.map((listener) => `${listener.protocol} ${listener.idleTimeoutSeconds}`))].sort();
  // Marks number the LB addresses that SNAT (1-based: mark 0 is "not ours").
  const snatAddresses = [...new Set(forwarded.filter((l) => !l.preserveClientIp).map((l) => l.address))].sort(byAddressValue);
  const markOf = new Map(snatAddresses.map((address, index) => [address, index + 1]));

  const lines = [`table ip ${TABLE}`, `delete table ip ${TABLE}`, `table ip ${TABLE} {`];
  for (const entry of timeouts) {
    const [protocol, seconds] = entry.split(' ');
    lines.push(timeoutObject(protocol as Protocol, Number(seconds)));
  }
  lines.push('  map snat_to {', '    type mark : ipv4_addr');
  if (snatAddresses.length > 0) lines.push(`    elements = { ${snatAddresses.map((address) => `${markOf.get(address)} : ${address}`).join(', ')} }`);
  lines.push('  }');
  lines.push('  chain prerouting {', '    type nat hook prerouting priority dstnat; policy accept;');
  if (forwarded.length > 0) {
    const verdicts = forwarded.map((listener, index) => `${listener.address} . ${listener.protocol} . ${listener.port} : jump l${index}`);
    lines.push(`    ip daddr . meta l4proto . th dport vmap { ${verdicts.join(', ')} }`);
  }
  lines.push('  }');
  forwarded.forEach((listener, index) => lines.push(...listenerChain(listener, index, listener.preserveClientIp ? undefined : markOf.get(listener.address))));
  lines.push('  chain postrouting {', '    type nat hook postrouting priority srcnat; policy accept;');
  if (snatAddresses.length > 0) lines.push('    ct mark != 0 snat ip to ct mark map @snat_to');
  lines.push('  }', '}');
  return `${lines.join('\n')}\n`;
}
