import type { Scenario } from '../lib/types.ts';
import burst from './burst.ts';
import churn from './churn.ts';
import footprint from './footprint.ts';
import nlbDataplane from './nlb-dataplane.ts';
import nlbLatency from './nlb-latency.ts';
import oneService from './one-service.ts';
import pool from './pool.ts';
import restart from './restart.ts';
import steadyState from './steady-state.ts';
import vpcPods from './vpc-pods.ts';

/** In the order `npm run bench` runs them (the order). */
export const scenarios: Scenario[] = [oneService, burst, steadyState, churn, restart, pool, footprint, vpcPods, nlbDataplane, nlbLatency];
