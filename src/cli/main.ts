#!/usr/bin/env node
import { Command } from 'commander';
import { registerEnvironmentCommands } from './env-commands.ts';
import { registerInspectCommands } from './inspect-commands.ts';
import { registerRunCommand } from './run-command.ts';
import { registerVpcCommands } from './vpc-commands.ts';

const program = new Command('cloud-provider-localstack')
  .description('A load-balancer provider for Kubernetes that creates ELBv2 NLBs in a local AWS emulator')
  .showHelpAfterError();

registerEnvironmentCommands(program);
registerRunCommand(program);
registerInspectCommands(program);
registerVpcCommands(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  // Exit now: a failure after start-up (informers, timers) would otherwise keep the process alive.
  process.exit(1);
});
