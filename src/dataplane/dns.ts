/**
 * The VPC resolver's answers (ADR 0012), pure: a DNS query message in, the response message out. An NLB's DNS
 * name answers with A records of its addresses (dns-server.ts serves this on UDP and TCP 53 at the VPC's base+2);
 * AAAA and other types of a known name answer NOERROR with no records (so a resolver asking A and AAAA together
 * uses the A records); any other name is NXDOMAIN. Only what a stub resolver sends is understood: one question.
 */

/** Seconds a resolver may cache an answer: Route 53's 60 s for ELB names. */
export const ANSWER_TTL = 60;

const TYPE_A = 1;
const CLASS_IN = 1;
const RCODE = { noError: 0, formatError: 1, nameError: 3, notImplemented: 4 } as const;
const HEADER_BYTES = 12;

export interface Question {
  name: string;
  type: number;
  class: number;
  /** Byte offset just after the question. */
  end: number;
}

/** The first question of a query; undefined when the message is not one a stub resolver sends. */
export function parseQuestion(message: Buffer): Question | undefined {
  if (message.length < HEADER_BYTES || message.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let offset = HEADER_BYTES;
  for (;;) {
    const length = message[offset];
    if (length === undefined || length > 63) return undefined; // compression pointers never appear in a question
    offset += 1;
    if (length === 0) break;
    if (offset + length > message.length) return undefined;
    labels.push(message.toString('latin1', offset, offset + length));
    offset += length;
  }
  if (offset + 4 > message.length) return undefined;
  return { name: labels.join('.').toLowerCase(), type: message.readUInt16BE(offset), class: message.readUInt16BE(offset + 2), end: offset + 4 };
}

const header = (query: Buffer, rcode: number, questions: number, answers: number): Buffer => {
  const out = Buffer.alloc(HEADER_BYTES);
  out.writeUInt16BE(query.readUInt16BE(0), 0);
  const opcodeAndRd = query.readUInt16BE(2) & 0x7900;
  // QR=1, AA=1 (we are the authority for these names), RA=0.
  out.writeUInt16BE(0x8000 | opcodeAndRd | 0x0400 | rcode, 2);
  out.writeUInt16BE(questions, 4);
  out.writeUInt16BE(answers, 6);
  return out;
};

const aRecord = (address: string): Buffer => {
  const record = Buffer.alloc(16);
  record.writeUInt16BE(0xc000 | HEADER_BYTES, 0); // the name: a pointer to the question's
  record.writeUInt16BE(TYPE_A, 2);
  record.writeUInt16BE(CLASS_IN, 4);
  record.writeUInt32BE(ANSWER_TTL, 6);
  record.writeUInt16BE(4, 10);
  address.split('.').forEach((octet, index) => record.writeUInt8(Number(octet), 12 + index));
  return record;
};

/**
 * The response to `query`, or undefined when it is too short to answer at all (no id). `lookup` gives a name's
 * addresses, undefined for a name we do not serve.
 */
export function answer(query: Buffer, lookup: (name: string) => readonly string[] | undefined): Buffer | undefined {
  if (query.length < HEADER_BYTES) return undefined;
  if ((query.readUInt16BE(2) & 0x8000) !== 0) return undefined; // a response, not a query
  const question = parseQuestion(query);
  if (!question) return header(query, RCODE.formatError, 0, 0);
  const echoed = query.subarray(HEADER_BYTES, question.end);
  if (((query.readUInt16BE(2) >> 11) & 0xf) !== 0) return Buffer.concat([header(query, RCODE.notImplemented, 1, 0), echoed]);
  const addresses = lookup(question.name.replace(/\.$/, ''));
  if (addresses === undefined) return Buffer.concat([header(query, RCODE.nameError, 1, 0), echoed]);
  const records = question.type === TYPE_A && question.class === CLASS_IN ? addresses.map(aRecord) : [];
  return Buffer.concat([header(query, RCODE.noError, 1, records.length), echoed, ...records]);
}

/** A query with one question (tests, and clients of our own). */
export function buildQuery(id: number, name: string, type = TYPE_A): Buffer {
  const labels = name.split('.').filter((label) => label !== '');
  const body = Buffer.concat([
    ...labels.map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'latin1')])),
    Buffer.from([0, type >> 8, type & 0xff, 0, CLASS_IN]),
  ]);
  const head = Buffer.alloc(HEADER_BYTES);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(0x0100, 2); // RD
  head.writeUInt16BE(1, 4);
  return Buffer.concat([head, body]);
}

/** rcode and A-record addresses of a response (tests). */
export function readResponse(response: Buffer): { id: number; rcode: number; addresses: string[] } {
  const question = parseQuestion(response);
  const addresses: string[] = [];
  let offset = question?.end ?? HEADER_BYTES;
  for (let i = 0; i < response.readUInt16BE(6); i++) {
    const length = response.readUInt16BE(offset + 10);
    if (response.readUInt16BE(offset + 2) === TYPE_A) addresses.push([...response.subarray(offset + 12, offset + 12 + length)].join('.'));
    offset += 12 + length;
  }
  return { id: response.readUInt16BE(0), rcode: response.readUInt16BE(2) & 0xf, addresses };
}
