/**
 * CDK app entry (`cdk.json`: `node bin/herald.ts`): builds Herald's stacks, nothing else.
 *
 * Settings come from CDK context; cdk.json holds the defaults. The JWT and email values there
 * are placeholders on documentation domains (example.com) so that `cdk synth` works anywhere;
 * deploy with real ones, e.g.
 *   cdk deploy --all -c herald:stage=prod -c herald:jwtIssuer=https://auth.acme.io/ \
 *     -c herald:jwtAudience=herald -c herald:jwksUrl=https://auth.acme.io/.well-known/jwks.json \
 *     -c herald:emailFrom=notifications@acme.io
 */
import { App } from 'aws-cdk-lib';
import { addHeraldStacks } from '../lib/stacks/herald-app.ts';
import { SettingsError } from '../lib/stacks/herald-settings.ts';

const app = new App();
try {
  addHeraldStacks(app, {
    account: process.env.CDK_DEFAULT_ACCOUNT,
    region: process.env.CDK_DEFAULT_REGION,
  });
} catch (error) {
  // A setting to correct, not a bug: its one line, not a stack trace around it.
  if (!(error instanceof SettingsError)) throw error;
  console.error(`Herald: ${error.message}\n(every setting, its default and its form: docs/deploying.md, "Settings (CDK context)")`);
  process.exit(1);
}
