import type { EC2Client } from '@aws-sdk/client-ec2';

/** What the security-group reader and applier share: the counted client and what this process knows. */
export interface SecurityGroupParts {
  /** The counted client (clients.ts): every call goes through it. */
  client: EC2Client;
  clusterName: string;
  vpcId: string;
  known: {
    /** The backend group once found or created; forgotten when deleted. */
    backendId?: string | undefined;
    /** The backend group's create in flight: concurrent reconciles of new Services share it. */
    backendCreate?: Promise<string> | undefined;
    /**
     * The VPC's groups tagged kubernetes.io/cluster/<cluster>, read once per process (the LBC's
     * fetchEndpointSGsFromAWS): with the targets' groups, where our CIDR node rules are looked for.
     */
    clusterGroups?: string[] | undefined;
    /** Node groups per target (instance ID or pod address), with when they were read. */
    nodeGroups: Map<string, { at: number; groups: string[] }>;
  };
}
