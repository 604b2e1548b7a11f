import { ACMClient } from '@aws-sdk/client-acm';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { AwsCallCounter, type CallOutcome } from './calls.ts';

export interface AwsSettings {
  region: string;
  /** An emulator's URL (LocalStack or moto: http://127.0.0.1:4566); absent for real AWS. */
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  maxAttempts?: number;
  /** Milliseconds a request may take before it fails (and is retried); the SDK's default is to wait forever. */
  requestTimeoutMs?: number;
}

export interface AwsClients {
  ec2: EC2Client;
  elbv2: ElasticLoadBalancingV2Client;
  /** ACM: tests and users import certificates with it; the controller itself never calls it (the LBC does not for Services). */
  acm: ACMClient;
  calls: AwsCallCounter;
  settings: AwsSettings;
  destroy(): void;
}

interface MiddlewareTarget {
  middlewareStack: {
    add(
      middleware: (next: (args: unknown) => Promise<unknown>, context: { clientName?: string; commandName?: string }) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize'; name: string },
    ): void;
  };
}

const THROTTLING = new Set(['Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'TooManyRequestsException']);

/** Adds the counting middleware: one count per logical call (SDK retries included in its duration). */
function countCalls(client: MiddlewareTarget, service: string, counter: AwsCallCounter): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      const end = counter.begin(service, operation);
      let outcome: CallOutcome = 'success';
      try {
        return await next(args);
      } catch (error) {
        outcome = THROTTLING.has((error as { name?: string }).name ?? '') ? 'throttled' : 'error';
        throw error;
      } finally {
        end(outcome);
      }
    },
    { step: 'initialize', name: 'cloudProviderLocalstackCallCounter' },
  );
}

/** The SDK v3 clients every part of the project uses, all counted by one AwsCallCounter. */
export function createAwsClients(settings: AwsSettings, counter = new AwsCallCounter()): AwsClients {
  const common = {
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
    maxAttempts: settings.maxAttempts ?? 5,
    // Without these a request whose answer never comes (an emulator thread lost under load, a half-open socket)
    // blocks its caller for good: the data plane's poller stopped applying changes that way in a 200-Service burst.
    requestHandler: { connectionTimeout: 5_000, requestTimeout: settings.requestTimeoutMs ?? 30_000 },
  };
  const ec2 = new EC2Client(common);
  const elbv2 = new ElasticLoadBalancingV2Client(common);
  const acm = new ACMClient(common);
  countCalls(ec2 as unknown as MiddlewareTarget, 'EC2', counter);
  countCalls(elbv2 as unknown as MiddlewareTarget, 'ELBv2', counter);
  countCalls(acm as unknown as MiddlewareTarget, 'ACM', counter);
  return {
    ec2,
    elbv2,
    acm,
    calls: counter,
    settings,
    destroy() {
      ec2.destroy();
      elbv2.destroy();
      acm.destroy();
    },
  };
}
