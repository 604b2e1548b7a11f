// vitest setupFiles of the integration project: from the host's namespace only loopback is reachable.
import { installNetworkGuard } from '../../src/testing/network-guard.ts';

installNetworkGuard();
