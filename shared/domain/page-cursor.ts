/**
 * Opaque page cursors: base64url of a small JSON position, so clients pass them back verbatim
 * and never build them. A cursor only says where a page starts; whose items a page holds always
 * comes from the caller's token, so a forged cursor can never reach another tenant's items.
 */
import * as z from '../zod-mini.ts';

const versionSchema = z.object({ v: z.literal(1) });

/** Encodes a page position as an opaque cursor. */
export function encodeCursor(position: Readonly<Record<string, unknown>>): string {
  return Buffer.from(JSON.stringify({ v: 1, ...position }), 'utf8').toString('base64url');
}

/** Decodes a cursor made by {@link encodeCursor}; `undefined` when it was altered or is not one. */
export function decodeCursor<S extends z.core.$ZodType>(cursor: string, schema: S): z.infer<S> | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!versionSchema.safeParse(value).success) return undefined;
  const parsed = z.safeParse(schema, value);
  return parsed.success ? parsed.data : undefined;
}
