import type { RemovalPolicy } from 'aws-cdk-lib';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledgeFinding } from './nag-acknowledgements.ts';

/** Properties of {@link HeraldVapidSecret}. */
export interface HeraldVapidSecretProps {
  /** The secret's name (`herald-<stage>-vapid`). */
  readonly secretName: string;
  /** What happens to the secret when it leaves the stack (a production stage keeps it). */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The secret the stage's VAPID key pair is derived from (shared/adapters/vapid-keys.ts): 64 random
 * characters Secrets Manager generates at creation. CloudFormation cannot make an EC key, so the
 * functions derive the P-256 pair from it; the private key never leaves Secrets Manager and the
 * functions' memory.
 */
export class HeraldVapidSecret extends Construct {
  readonly secret: Secret;

  constructor(scope: Construct, id: string, props: HeraldVapidSecretProps) {
    super(scope, id);
    this.secret = new Secret(this, 'Secret', {
      secretName: props.secretName,
      description: 'Herald: the seed of the VAPID key pair that signs Web Push (never rotate: every browser subscription is bound to it)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: props.removalPolicy,
    });
    acknowledgeFinding(
      this.secret,
      'AwsSolutions-SMG4',
      'A VAPID key cannot rotate: every browser subscribed with its public key, and a new one orphans every subscription (RFC 8292)',
    );
  }

  /** Lets `grantee` read the secret (GetSecretValue, DescribeSecret). */
  grantRead(grantee: IGrantable): void {
    this.secret.grantRead(grantee);
  }
}
