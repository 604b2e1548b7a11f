import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Two projects: `unit` is pure (no I/O, runs in parallel); `integration` talks to the real local control plane
// and the emulator, which its global setup brings up when they are not up already.
export default defineConfig({
  // Our own tests import the testing helpers the way users do, by package name, from the sources.
  resolve: { alias: { 'cloud-provider-localstack/testing': fileURLToPath(new URL('./src/testing/index.ts', import.meta.url)) } },
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/integration/global-setup.ts'],
          // From the host's namespace only loopback is reachable (src/testing/network-guard.ts says why).
          setupFiles: ['test/support/guard-network.ts'],
          // The environment is shared; files isolate themselves by namespace and AWS cluster tag, but the
          // 2-core machine is better used by one file at a time.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
