/**
 * The VPC resolver (ADR 0012): UDP and TCP port 53 at the VPC's base+2, answering from dns.ts. Runs inside the
 * router namespace, where the address sits on its loopback (addresses.ts).
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

import { answer } from './dns.ts';

export interface DnsServer {
  close(): void;
}

export async function serveDns(address: string, lookup: (name: string) => readonly string[] | undefined, port = 53): Promise<DnsServer> {
  const udp = createSocket('udp4');
  udp.on('message', (query, peer) => {
    const response = answer(query, lookup);
    if (response) udp.send(response, peer.port, peer.address);
  });
  // DNS over TCP: each message preceded by its 2-byte length.
  const tcp = createServer((socket) => {
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const query = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
        buffered = buffered.subarray(2 + query.length);
        const response = answer(query, lookup);
        if (!response) continue;
        const length = Buffer.alloc(2);
        length.writeUInt16BE(response.length);
        socket.write(Buffer.concat([length, response]));
      }
    });
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(port, address, () => resolve());
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, address, () => resolve());
  });
  return {
    close() {
      udp.close();
      tcp.close();
    },
  };
}
