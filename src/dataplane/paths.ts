/**
 * Files of the NLB data plane under <state>/vpc/ (ADR 0012). Unix sockets cross between the host's namespace
 * and the router's, where no route does.
 */
import { join } from 'node:path';

import { vpcStatePaths } from '../devenv/vpc/names.ts';

export const nlbPaths = (stateRoot?: string) => {
  const root = vpcStatePaths(stateRoot).root;
  return {
    /** Host side of the emulator relay (served by the vpc supervisor): the data plane's AWS endpoint. */
    emulatorSocket: join(root, 'emulator.sock'),
    /** The data plane's /healthz (its readiness for `up`), served from inside the router namespace. */
    healthSocket: join(root, 'nlb.sock'),
    /** Addresses real namespaces hold (nodes, pods, the bastion), written by the vpc supervisor. */
    hostsJson: join(root, 'hosts.json'),
  } as const;
};
