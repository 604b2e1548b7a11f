/**
 * Which nodes are networked: a Node labelled `cloud-provider-localstack.io/network=vpc` gets a namespace in the
 * local VPC with its instance's primary private IP, and a node agent instead of kwok runs its pods (ADR 0011).
 * Networked nodes are pool nodes too (`cloud-provider-localstack.io/ipam=enabled`), so their pods get VPC
 * addresses.
 */
export const NETWORK_NODE_LABEL = 'cloud-provider-localstack.io/network';
export const NETWORK_NODE_VALUE = 'vpc';

/** Label selectors: the nodes the supervisor watches, and the ones kwok keeps playing. */
export const NETWORKED_NODES_SELECTOR = `${NETWORK_NODE_LABEL}=${NETWORK_NODE_VALUE}`;
export const NOT_NETWORKED_SELECTOR = `${NETWORK_NODE_LABEL}!=${NETWORK_NODE_VALUE}`;

/** Tags of the bastion's network interface in the emulator, so its address is never handed to anyone else. */
export const BASTION_DESCRIPTION = 'cloud-provider-localstack bastion';
export const BASTION_TAG = 'cloud-provider-localstack/bastion';
