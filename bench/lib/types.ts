import type { TestEnvironment } from '../../src/testing/index.ts';
import type { ControllerOptions, InProcessController } from './controller.ts';
import type { BenchNode, NodeOptions } from './nodes.ts';

export type SizeName = 'smoke' | 'default';

/** One reported figure: a number (milliseconds are named …Ms), a note, or counts by key (calls by operation). */
export type Figure = number | string | Record<string, number>;
export type Figures = Record<string, Figure>;

/** Cleanup runs phase by phase in this order (and within a phase, last registered first), failure or not. */
export type CleanupPhase = 'controllers' | 'kube' | 'aws' | 'network';

export interface BenchContext {
  env: TestEnvironment;
  scenario: string;
  sizeName: SizeName;
  /** The AWS cluster name of this scenario: every resource it causes carries it, and the sweep removes them. */
  cluster: string;
  namespace: string;
  /** Labels every bench node of this scenario carries; Services and pods select nodes by them. */
  nodeLabels: Record<string, string>;
  log(message: string): void;
  defer(phase: CleanupPhase, cleanup: () => Promise<unknown>): void;
  /** A Manager in this process, under this scenario's cluster name; stopped at cleanup. */
  startController(options: ControllerOptions): Promise<InProcessController>;
  /** kwok Nodes backed by EC2 instances launched here (providerID aws:///zone/i-…); deleted at cleanup. */
  createNodes(count: number, options?: NodeOptions): Promise<BenchNode[]>;
}

export interface Scenario<S extends Record<string, number> = Record<string, number>> {
  name: string;
  /** One line: what it measures. */
  description: string;
  sizes: { smoke: S; default: S };
  run(ctx: BenchContext, size: S): Promise<Figures>;
}

/** Keeps a scenario's own size type while letting the runner hold them all in one list. */
export function defineScenario<S extends Record<string, number>>(scenario: Scenario<S>): Scenario {
  return scenario as unknown as Scenario;
}
