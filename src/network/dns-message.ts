/**
 * The part of the DNS wire format (RFC 1035) the embedded server needs: the header and the first
 * question of a query, and answers with A and PTR records. Everything else is forwarded as bytes.
 */
export const TYPE_A = 1;
export const TYPE_PTR = 12;
export const TYPE_AAAA = 28;
export const RCODE_NXDOMAIN = 3;
export const RCODE_SERVFAIL = 2;

export interface DnsQuestion {
  id: number;
  flags: number;
  name: string;
  type: number;
  klass: number;
  /** Offset just past the question section (answers are appended after it). */
  questionEnd: number;
}

/** The first question of a standard query, or undefined when the packet is not one. */
export function parseQuery(packet: Buffer): DnsQuestion | undefined {
  if (packet.length < 12) return undefined;
  const flags = packet.readUInt16BE(2);
  if (flags & 0x8000 || ((flags >> 11) & 0xf) !== 0 || packet.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let offset = 12;
  for (;;) {
    if (offset >= packet.length) return undefined;
    const length = packet[offset]!;
    if (length === 0) {
      offset++;
      break;
    }
    if (length > 63 || offset + 1 + length > packet.length) return undefined; // no compression in questions
    labels.push(packet.toString('latin1', offset + 1, offset + 1 + length));
    offset += 1 + length;
  }
  if (offset + 4 > packet.length) return undefined;
  return { id: packet.readUInt16BE(0), flags, name: labels.join('.').toLowerCase(), type: packet.readUInt16BE(offset), klass: packet.readUInt16BE(offset + 2), questionEnd: offset + 4 };
}

function encodeName(name: string): Buffer {
  const parts = name.split('.').filter(Boolean).map((label) => {
    const bytes = Buffer.from(label, 'latin1');
    return Buffer.concat([Buffer.from([bytes.length]), bytes]);
  });
  return Buffer.concat([...parts, Buffer.from([0])]);
}

export interface DnsAnswer {
  type: typeof TYPE_A | typeof TYPE_PTR;
  /** An IPv4 address for A, a name for PTR. */
  data: string;
  ttl: number;
}

/** A response to `query` (its question echoed) with these answers and response code. */
export function buildResponse(query: Buffer, question: DnsQuestion, answers: DnsAnswer[], rcode = 0): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(question.id, 0);
  // QR, the query's opcode and RD, RA, and the response code.
  header.writeUInt16BE(0x8000 | (question.flags & 0x7900) | 0x0080 | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  const records = answers.map((a) => {
    const data = a.type === TYPE_A ? Buffer.from(a.data.split('.').map(Number)) : encodeName(a.data);
    const fixed = Buffer.alloc(12);
    fixed.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    fixed.writeUInt16BE(a.type, 2);
    fixed.writeUInt16BE(1, 4);
    fixed.writeUInt32BE(a.ttl, 6);
    fixed.writeUInt16BE(data.length, 10);
    return Buffer.concat([fixed, data]);
  });
  return Buffer.concat([header, query.subarray(12, question.questionEnd), ...records]);
}

/** "4.3.2.1.in-addr.arpa" into "1.2.3.4", or undefined. */
export function reverseName(name: string): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\.in-addr\.arpa$/.exec(name);
  return m ? `${m[4]}.${m[3]}.${m[2]}.${m[1]}` : undefined;
}
