/**
 * Applies the rendered ruleset (nft.ts) in the current (router) namespace: one `nft -f -` transaction, skipped
 * when the text is unchanged; and ends the flows of targets whose deregistration delay is over when the group
 * asks for it (`conntrack -D`).
 */
import { TABLE } from './nft.ts';
import { SECURITY_TABLE } from './nft-security.ts';
import { runCommand } from './run.ts';

let applied: string | undefined;

export async function applyRuleset(ruleset: string): Promise<boolean> {
  if (ruleset === applied) return false;
  await runCommand(['nft', '-f', '-'], ruleset);
  applied = ruleset;
  return true;
}

/** Removes the table (shutdown): forwarding stops with the process. */
export async function removeRuleset(): Promise<void> {
  applied = undefined;
  for (const table of [TABLE, SECURITY_TABLE]) await runCommand(['nft', 'delete', 'table', 'ip', table]).catch(() => undefined);
}

/** Deletes the conntrack entries of flows DNATed to address:port (its open connections are cut). */
export async function endFlowsTo(address: string, port: number, protocol: 'tcp' | 'udp'): Promise<void> {
  // conntrack exits 1 when nothing matched.
  await runCommand(['conntrack', '-D', '-p', protocol, '--reply-src', address, '--reply-port-src', String(port)]).catch(() => undefined);
}
