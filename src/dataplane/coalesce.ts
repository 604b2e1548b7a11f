/**
 * Runs `work` one at a time, and folds every request made while a run waits to start into that run: the run
 * reads the latest state when it starts, so it serves them all. A burst of health changes (one per target at
 * 1000 NLBs) is then one or two applies of the ruleset, not one apply each queued behind the others.
 */
export function coalescing(work: () => Promise<void>): () => Promise<void> {
  let tail: Promise<void> = Promise.resolve();
  let waiting: Promise<void> | undefined;
  return () => {
    if (waiting) return waiting;
    const start = (): Promise<void> => {
      waiting = undefined;
      return work();
    };
    const run = tail.then(start, start);
    waiting = run;
    tail = run;
    return run;
  };
}
