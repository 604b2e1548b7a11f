/**
 * `<state>/vpc/hosts.json` (ADR 0012): the VPC addresses real namespaces hold (nodes, pods, the bastion), so the
 * NLB data plane tells real targets (health-checked) from simulated ones (kwok's, which nothing answers for).
 * Cheap at any pod count: one `ip` command per node and one for the bastion; pods from the fabric's markers
 * (which hold each pod's address), never a command per pod namespace (hundreds of `ip` processes a second
 * stalled the supervisor's apiserver relay at 200 pods). Written atomically (write then rename) and only when it
 * changed; the supervisor runs one pass at a time, 2 s apart.
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

const ipJson = async <T>(ns: string, ...args: string[]): Promise<T[]> => {
  const output = await runCommand(['ip', '-n', ns, '-j', '-4', ...args]).catch(() => '[]');
  return JSON.parse(output || '[]') as T[];
};

const uplinkAddresses = async (ns: string): Promise<string[]> =>
  (await ipJson<{ addr_info?: { local?: string }[] }>(ns, 'addr', 'show', 'dev', UPLINK)).flatMap((link) => link.addr_info ?? []).flatMap((info) => (info.local ? [info.local] : []));

let written = '';

/** Reads this environment's nodes, bastion and pod markers and writes what they hold, when it changed. */
export async function writeHostsFile(): Promise<HostsFile> {
  const hosts: HostsFile = { nodes: [], pods: podAddresses(), bastion: [] };
  for (const ns of await listNamespaces()) {
    const kind = classifyNs(ns)?.kind;
    if (kind === 'node') hosts.nodes.push(...(await uplinkAddresses(ns)));
    else if (kind === 'bastion') hosts.bastion.push(...(await uplinkAddresses(ns)));
  }
  for (const list of Object.values(hosts)) list.sort();
  const text = `${JSON.stringify(hosts)}\n`;
  if (text !== written) {
    const path = nlbPaths().hostsJson;
    writeFileSync(`${path}.tmp`, text);
    renameSync(`${path}.tmp`, path);
    written = text;
  }
  return hosts;
}

/** Rewrites hosts.json every `intervalMs` after the previous pass ended (never two at once); returns the stop. */
export function keepHostsFile(intervalMs: number, log: (line: string) => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const pass = (): void => {
    writeHostsFile()
      .catch((error: unknown) => log(`hosts.json: ${(error as Error).message}`))
      .finally(() => {
        if (!stopped) timer = setTimeout(pass, intervalMs);
      });
  };
  pass();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
