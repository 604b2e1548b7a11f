/**
 * The proxy protocol v2 header an NLB prepends when the group's `proxy_protocol_v2.enabled` is true (pure):
 * the PROXY command over TCP/IPv4 with the client's and the listener's address and port (haproxy's
 * proxy-protocol.txt §2.2). No TLVs: AWS adds one only for PrivateLink (VPC endpoint id).
 */
const SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const VERSION_2_PROXY = 0x21;
const TCP_OVER_IPV4 = 0x11;
const IPV4_ADDRESSES_BYTES = 12;

const octets = (address: string): number[] => {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255)) {
    throw new Error(`${JSON.stringify(address)} is not an IPv4 address`);
  }
  return parts;
};

export function proxyProtocolV2Header(source: { address: string; port: number }, destination: { address: string; port: number }): Buffer {
  const header = Buffer.alloc(16 + IPV4_ADDRESSES_BYTES);
  SIGNATURE.copy(header, 0);
  header[12] = VERSION_2_PROXY;
  header[13] = TCP_OVER_IPV4;
  header.writeUInt16BE(IPV4_ADDRESSES_BYTES, 14);
  Buffer.from(octets(source.address)).copy(header, 16);
  Buffer.from(octets(destination.address)).copy(header, 20);
  header.writeUInt16BE(source.port, 24);
  header.writeUInt16BE(destination.port, 26);
  return header;
}

/** The flow hash of the userspace path: same client address and port → same slot while the list is unchanged. */
export function flowSlot(client: { address: string; port: number }, listener: { address: string; port: number }, slots: number): number {
  let hash = 0x811c9dc5;
  for (const byte of [...octets(client.address), client.port >> 8, client.port & 0xff, ...octets(listener.address), listener.port >> 8, listener.port & 0xff]) {
    hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  }
  return hash % slots;
}
