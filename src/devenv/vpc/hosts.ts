/**
 * `<state>/vpc/hosts.json` (ADR 0012): the VPC addresses real namespaces hold (nodes, pods, the bastion), so the
 * NLB data plane tells real targets (health-checked) from simulated ones (kwok's, which nothing answers for).
 * Written by the vpc supervisor on each pass, atomically (write then rename).
 */
import { renameSync, writeFileSync } from 'node:fs';

import { nlbPaths } from '../../dataplane/paths.ts';
import { listNamespaces, podAddresses, runCommand } from './fabric.ts';
import { UPLINK, classifyNs } from './names.ts';

export interface HostsFile {
  nodes: string[];
  pods: string[];
  bastion: string[];
}

const addressesOf = async (ns: string): Promise<string[]> => {
  const output = await runCommand(['ip', '-n', ns, '-j', '-4', 'addr', 'show', 'dev', UPLINK]).catch(() => '[]');
  return (JSON.parse(output || '[]') as { addr_info?: { local?: string }[] }[]).flatMap((link) => link.addr_info ?? []).flatMap((info) => (info.local ? [info.local] : []));
};

/**
 * Writes what this environment's namespaces hold: nodes and the bastion asked (a few), pods from the fabric's
 * markers — asking each of hundreds of pod namespaces every pass spawned hundreds of `ip` processes a second.
 */
export async function writeHostsFile(): Promise<HostsFile> {
  const hosts: HostsFile = { nodes: [], pods: podAddresses(), bastion: [] };
  for (const ns of await listNamespaces()) {
    const kind = classifyNs(ns)?.kind;
    if (kind === 'node') hosts.nodes.push(...(await addressesOf(ns)));
    else if (kind === 'bastion') hosts.bastion.push(...(await addressesOf(ns)));
  }
  for (const list of Object.values(hosts)) list.sort();
  const path = nlbPaths().hostsJson;
  writeFileSync(`${path}.tmp`, `${JSON.stringify(hosts)}\n`);
  renameSync(`${path}.tmp`, path);
  return hosts;
}
