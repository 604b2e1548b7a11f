/**
 * Keeps the router's bridges out of iptables/nftables (ADR 0014). When the host has `br_netfilter` loaded (Docker
 * loads it), frames crossing a bridge go through the IP hooks too (`net.bridge.bridge-nf-call-iptables=1`, per
 * network namespace), and a flow the NLB DNATs to a target on the same subnet bridge as its client is then
 * *bridged* back out instead of routed: the host ports are isolated (ADR 0012), so it was dropped. A node
 * calling an NLB whose target is a pod on itself (or on another node of its subnet) never got an answer. The
 * VPC is routed, nothing needs bridged IP filtering, so the data plane turns it off in the router's namespace
 * (it runs there) before each ruleset it applies: the module may be loaded after the router was made.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const SETTING = '/proc/sys/net/bridge/bridge-nf-call-iptables';

/** Sets the router namespace's bridge-nf-call-iptables to 0 when br_netfilter is loaded and it is on; true when it did. */
export function routeBridgedFlows(): boolean {
  let value: string;
  try {
    value = readFileSync(SETTING, 'utf8').trim();
  } catch {
    return false; // no br_netfilter: bridges never call the IP hooks
  }
  if (value === '0') return false;
  writeFileSync(SETTING, '0\n');
  return true;
}
