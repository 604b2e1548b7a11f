/**
 * SIGTERM/SIGINT for the environment's long-running components (the vpc supervisor, the nlb data plane): the
 * first signal runs `shutdown` once and exits 0 (1 when it failed); later signals are ignored while it runs.
 */
export function onStopSignals(shutdown: () => Promise<void>, log: (line: string) => void): void {
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log(`${signal}: stopping`);
      shutdown().then(
        () => process.exit(0),
        (error: unknown) => {
          log(`shutdown: ${(error as Error).message}`);
          process.exit(1);
        },
      );
    });
  }
}
