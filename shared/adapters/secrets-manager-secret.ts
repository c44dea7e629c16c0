/**
 * One secret string from AWS Secrets Manager (`GetSecretValue`), read on first use and kept for a
 * while, as AWS advises for Lambda ("Use AWS Secrets Manager secrets in AWS Lambda functions"):
 * a rotation is picked up within `ttlMs`, or at once after `forget()`. The value is never logged.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export interface CachedSecret {
  /** The secret string; throws when the secret holds none. */
  value(): Promise<string>;
  /** Drops the cached value (after the provider refused it). */
  forget(): void;
}

/** Reads `secretId` (a name or ARN) through `client`, cached for `ttlMs` (default 5 minutes). */
export function cachedSecret(client: () => SecretsManagerClient, secretId: string, ttlMs: number = 5 * 60 * 1000, now: () => number = Date.now): CachedSecret {
  let cached: { value: Promise<string>; until: number } | undefined;
  return {
    value() {
      if (cached && cached.until > now()) return cached.value;
      const value = client()
        .send(new GetSecretValueCommand({ SecretId: secretId }))
        .then(({ SecretString }) => {
          if (!SecretString) throw new Error(`Secret ${secretId} holds no string`);
          return SecretString.trim();
        });
      cached = { value, until: now() + ttlMs };
      // A failed read is not kept.
      value.catch(() => {
        cached = undefined;
      });
      return value;
    },
    forget() {
      cached = undefined;
    },
  };
}
