// http_ece (Encrypted Content-Encoding for HTTP, RFC 8188) ships no types; this is the part the tests use.
declare module 'http_ece' {
  import type { ECDH } from 'node:crypto';

  interface EceParams {
    readonly version: 'aes128gcm' | 'aesgcm' | 'aesgcm128';
    /** The receiver's key pair (RFC 8291: the subscription's). */
    readonly privateKey?: ECDH;
    /** The subscription's auth secret, base64url or bytes. */
    readonly authSecret?: string | Buffer;
    readonly dh?: string | Buffer;
    readonly key?: string | Buffer;
  }

  export function decrypt(buffer: Buffer, params: EceParams): Buffer;
  export function encrypt(buffer: Buffer, params: EceParams): Buffer;
}
