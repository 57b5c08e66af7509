/**
 * API Gateway's WebSocket size quotas, checked on the raw byte stream before the WebSocket parser
 * sees it: a frame over 32 KB, or a message over 128 KB (its frames added up), closes the
 * connection with 1009. https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
 * (The `ws` library only limits whole messages, and browsers send each message as one frame, so a
 * 40 KB message from a browser is refused by AWS and must be refused here too.)
 */

type SizeViolation = "frame" | "message";

export class FrameGuard {
  private pending: Buffer = Buffer.alloc(0);
  private payloadLeft = 0;
  private messageBytes = 0;

  constructor(
    private readonly maxFrameBytes: number,
    private readonly maxMessageBytes: number,
  ) {}

  /** Reads the frame headers in `chunk`; returns the first violation it finds. */
  push(chunk: Buffer): SizeViolation | undefined {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.payloadLeft > 0) {
        const skipped = Math.min(this.payloadLeft, chunk.length - offset);
        this.payloadLeft -= skipped;
        offset += skipped;
        continue;
      }
      const header = Buffer.concat([this.pending, chunk.subarray(offset, offset + 14)]);
      const headerLength = frameHeaderLength(header);
      if (headerLength === undefined || header.length < headerLength) {
        this.pending = header;
        return undefined;
      }
      offset += headerLength - this.pending.length;
      this.pending = Buffer.alloc(0);

      const opcode = (header[0] as number) & 0x0f;
      const fin = ((header[0] as number) & 0x80) !== 0;
      const payloadLength = framePayloadLength(header);
      this.payloadLeft = payloadLength;
      if (opcode >= 0x8) continue; // control frames are at most 125 bytes and not part of a message
      if (payloadLength > this.maxFrameBytes) return "frame";
      this.messageBytes += payloadLength;
      if (this.messageBytes > this.maxMessageBytes) return "message";
      if (fin) this.messageBytes = 0;
    }
    return undefined;
  }
}

/** Bytes before the payload (RFC 6455 §5.2), or undefined until the first two bytes are in. */
function frameHeaderLength(header: Buffer): number | undefined {
  if (header.length < 2) return undefined;
  const second = header[1] as number;
  const lengthCode = second & 0x7f;
  const extended = lengthCode === 126 ? 2 : lengthCode === 127 ? 8 : 0;
  const mask = second & 0x80 ? 4 : 0;
  return 2 + extended + mask;
}

function framePayloadLength(header: Buffer): number {
  const lengthCode = (header[1] as number) & 0x7f;
  if (lengthCode === 126) return header.readUInt16BE(2);
  if (lengthCode === 127) return Number(header.readBigUInt64BE(2));
  return lengthCode;
}
