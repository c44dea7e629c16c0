/**
 * Reading a request's body whole, within a limit: every emulator and gateway of the local stack
 * reads its bodies through this one function.
 */
import type { IncomingMessage } from 'node:http';

/**
 * The whole body of `req` as bytes, or undefined when its declared `content-length` passes
 * `limit` bytes (nothing is read, so the refusal reaches a client still sending) or, without one,
 * as soon as what arrives passes it. The caller answers the refusal in its own service's shape.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  if (Number(req.headers['content-length'] ?? 0) > limit) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
