/**
 * The stage's VAPID key pair (RFC 8292), derived from a Secrets Manager secret: CloudFormation can
 * generate a random secret string but not an EC key, so the P-256 private key is SHA-256 of the
 * secret (any 32-byte value below the curve order is a valid key; a hash falls outside with
 * probability about 2^-32) and the public key follows from it. The same secret always gives the
 * same keys, so every function (and every cold start) signs with the pair browsers subscribed to.
 */
import { createECDH, createHash } from 'node:crypto';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** A VAPID key pair, base64url: the 65-byte uncompressed public point and the 32-byte private scalar. */
export interface VapidKeys {
  readonly publicKey: string;
  readonly privateKey: string;
}

/** The key pair derived from `secret` (see the module comment). Throws on an empty secret. */
export function vapidKeysFromSecret(secret: string): VapidKeys {
  if (secret.length < 32) throw new Error('The VAPID secret must hold at least 32 characters');
  const privateKey = createHash('sha256').update(`herald-vapid:${secret}`).digest();
  const ecdh = createECDH('prime256v1');
  // Throws for a scalar outside the curve's range, which a hash practically never is.
  ecdh.setPrivateKey(privateKey);
  return { publicKey: ecdh.getPublicKey().toString('base64url'), privateKey: privateKey.toString('base64url') };
}

/** Reads the secret once (per cold start) and derives the keys; a failed read is tried again next time. */
export function secretsManagerVapidKeys(client: () => SecretsManagerClient, secretArn: string): () => Promise<VapidKeys> {
  let keys: Promise<VapidKeys> | undefined;
  return () => {
    keys ??= client()
      .send(new GetSecretValueCommand({ SecretId: secretArn }))
      .then(({ SecretString }) => {
        if (!SecretString) throw new Error(`Secret ${secretArn} holds no SecretString`);
        return vapidKeysFromSecret(SecretString);
      })
      .catch((error: unknown) => {
        keys = undefined;
        throw error;
      });
    return keys;
  };
}
