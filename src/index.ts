/**
 * cloud-provider-localstack as a library: the controller manager, the pure core (desired model and plan, for
 * dry runs), and the AWS call counter. Test helpers are in `cloud-provider-localstack/testing`.
 */
export { Manager, CONTROLLERS, type ControllerName, type ManagerConfig } from './controllers/manager.ts';
export { buildModel, wantsLoadBalancer, type DesiredStack, type ModelInput } from './core/model.ts';
export { plan, planDeletion, describeAction, type Action, type ActualStack, type Plan } from './core/plan.ts';
export { decide as decidePool, maxPods, type InstanceLimits, type WarmSettings } from './core/ipam/pool.ts';
export { Annotations, LOAD_BALANCER_CLASS, SERVICE_FINALIZER, UserError } from './core/annotations.ts';
export { AwsCallCounter, isMutating, type CallRecord } from './cloud/calls.ts';
export { createAwsClients, type AwsClients, type AwsSettings } from './cloud/clients.ts';
