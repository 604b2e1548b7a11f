/** VPC CNI's own pod annotation (ANNOTATE_POD_IP): the pod's VPC address, read by the Service controller. */
export const POD_IPS_ANNOTATION = 'vpc.amazonaws.com/pod-ips';
/** The ENI the pod's address is on. */
export const POD_ENI_ANNOTATION = 'cloud-provider-localstack.io/eni';
/** Nodes whose pods get their addresses from the pool (as nodes running the aws-node DaemonSet): value `enabled`. */
export const IPAM_NODE_LABEL = 'cloud-provider-localstack.io/ipam';
/** Per-node overrides of the cluster-wide pool settings. */
export const NodeSettingAnnotations = {
  warmEniTarget: 'cloud-provider-localstack.io/warm-eni-target',
  warmIpTarget: 'cloud-provider-localstack.io/warm-ip-target',
  minimumIpTarget: 'cloud-provider-localstack.io/minimum-ip-target',
  maxEni: 'cloud-provider-localstack.io/max-eni',
} as const;
