/**
 * The pods bound to this node (an informer on spec.nodeName), each handed to its PodRunner. A pod recreated
 * under the same name (a StatefulSet's) starts only once the previous one's namespace and veth are gone, since
 * the node-side veth is named after namespace/name.
 */
import type { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import { startInformer, type Informer } from '../../../kube/informer.ts';
import { PodRunner, type PodRunnerContext } from './pod-runner.ts';

export interface PodManager {
  readonly informer: Informer<V1Pod>;
  stop(): Promise<void>;
}

const terminal = (pod: V1Pod) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

export function startPodManager(kc: KubeConfig, core: CoreV1Api, ctx: PodRunnerContext): PodManager {
  const fieldSelector = `spec.nodeName=${ctx.nodeName}`;
  // ListWatch keeps the path's query string on its watch request, so the watch is filtered as the list is.
  const informer = startInformer<V1Pod>(kc, `/api/v1/pods?fieldSelector=${encodeURIComponent(fieldSelector)}`, () => core.listPodForAllNamespaces({ fieldSelector }), {
    name: `pods on ${ctx.nodeName}`,
    log: (msg, err) => ctx.log(`${msg} ${err instanceof Error ? err.message : (err ?? '')}`),
  });
  const runners = new Map<string, PodRunner>();
  /** namespace/name → the teardown of the last pod of that name. */
  const teardowns = new Map<string, Promise<void>>();
  const retire = (runner: PodRunner, deleteObject: boolean) => {
    const done = runner.terminate(deleteObject).finally(() => {
      runners.delete(runner.uid);
      if (teardowns.get(runner.name) === done) teardowns.delete(runner.name);
    });
    teardowns.set(runner.name, done);
  };
  informer.onChange((kind, pod) => {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    let runner = runners.get(uid);
    if (kind === 'delete') {
      if (runner) retire(runner, false);
      return;
    }
    if (!runner) {
      // Finished before this agent saw it (or before it restarted): nothing to run.
      if (terminal(pod) && !pod.metadata?.deletionTimestamp) return;
      runner = new PodRunner(ctx, pod);
      runners.set(uid, runner);
    }
    if (pod.metadata?.deletionTimestamp) retire(runner, true);
    else runner.update(pod, teardowns.get(runner.name));
  });
  return {
    informer,
    stop: async () => {
      informer.stop();
      await Promise.all([...runners.values()].map((runner) => runner.terminate(false)));
    },
  };
}
