/**
 * The node agent's parts, started in order: the apiserver relay into the namespace (everything after it talks
 * to https://127.0.0.1:<port>), the Node's heartbeat, kube-proxy, the pods.
 */
import { join } from 'node:path';
import { CoordinationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { serveTcpToUnix } from '../relay.ts';
import { ensurePodDefaults } from '../fabric.ts';
import { nodeNs } from '../names.ts';
import type { AgentArgs } from './args.ts';
import { createKubeletEvents, KubeletReason, kubeletMessage } from './events.ts';
import { startHeartbeat } from './heartbeat.ts';
import { startKubeProxy } from './kube-proxy.ts';
import { createLimiter } from './limiter.ts';
import { startPodManager } from './pods.ts';

/** Pod namespaces set up at once per node (each is 3 short `ip` processes, fabric-commands.podCommands). */
const SETUP_CONCURRENCY = 4;

export interface RunningAgent {
  stop(): Promise<void>;
}

export async function runAgent(args: AgentArgs, log: (line: string) => void): Promise<RunningAgent> {
  const relay = await serveTcpToUnix('127.0.0.1', args.apiserverPort, args.apiserverSocket);
  log(`apiserver relay: 127.0.0.1:${args.apiserverPort} → ${args.apiserverSocket}`);
  const kc = new KubeConfig();
  kc.loadFromFile(args.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const node = { name: args.node, ip: args.ip };
  const events = createKubeletEvents(kc, args.node, log);
  const nodeReady = () => events.node('Normal', KubeletReason.nodeReady, kubeletMessage.nodeStatus(args.node, KubeletReason.nodeReady));
  // The Node may be a moment from existing (the supervisor saw it first): retry until it answers.
  let heartbeat;
  let announced = false;
  for (let attempt = 1; ; attempt++) {
    try {
      // Once the Node answers, before its first status (as the kubelet's Starting comes first).
      if (!announced) {
        await core.readNode({ name: args.node });
        events.node('Normal', KubeletReason.starting, kubeletMessage.startingKubelet);
        announced = true;
      }
      heartbeat = await startHeartbeat({ core, coordination }, node, args.leaseSeconds, log, nodeReady);
      break;
    } catch (error) {
      if (attempt % 10 === 1) log(`node ${args.node}: first heartbeat failed (${(error as Error).message}); retrying`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  const kubeProxy = startKubeProxy({ binary: args.kubeProxy, kubeconfig: args.kubeProxyKubeconfig, nodeName: args.node, nodeIp: args.ip }, log);
  await ensurePodDefaults(nodeNs(args.node));
  const pods = startPodManager(kc, core, {
    core,
    nodeName: args.node,
    nodeIp: args.ip,
    nodeNs: nodeNs(args.node),
    binaries: { agnhost: args.agnhost, podserver: args.podserver },
    logDir: join(args.stateDir, 'containers'),
    log,
    setupLimit: createLimiter(SETUP_CONCURRENCY),
    events,
  });
  return {
    stop: async () => {
      heartbeat.stop();
      await pods.stop();
      // Events already queued (a pod's last probe failure) get their chance to be written, a few seconds at most.
      await Promise.race([events.flush(), new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
      await kubeProxy.stop();
      relay.close();
    },
  };
}
