/**
 * The node agent: the kubelet of one networked node, run by the vpc supervisor inside the node's network
 * namespace (`nsenter --net=/run/netns/<node ns> -- node src/devenv/vpc/node-agent.ts --node NAME --ip IP ...`,
 * arguments in agent/args.ts). It relays the apiserver into the namespace, keeps the Node Ready and its Lease
 * renewed, runs kube-proxy, and runs the node's pods as real processes (docs/pods.md).
 */
import { parseAgentArgs } from './agent/args.ts';
import { runAgent } from './agent/agent.ts';

const args = parseAgentArgs(process.argv.slice(2));
const agent = await runAgent(args, (line) => console.log(`${new Date().toISOString()} ${line}`));
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void agent.stop().finally(() => process.exit(0));
  });
}
