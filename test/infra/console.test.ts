/**
 * The console as deployed: a private bucket that only the distribution reads (Origin Access
 * Control), HTTPS, security headers, access logs, the API on the same origin, and the files with
 * their config.json put there by every deployment.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { App, Stack, Stage } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleContentSecurityPolicy } from '../../lib/console-security-headers.ts';
import { HeraldConsole } from '../../lib/constructs/herald-console.ts';
import { createConsoleSite } from '../../local/console-site.ts';
import { closeServer } from '../../local/http-gateway.ts';
import type { SynthesisedHerald } from './synth.ts';
import { synthesiseHerald, testSettings } from './synth.ts';
import { outputsOf, prop, resourcesOfType } from './template-queries.ts';

/** CloudFront's managed policies ("Use managed cache policies", "Use managed origin request policies"). */
const cachingDisabled = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
const allViewerExceptHostHeader = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';

describe('the console stack', () => {
  let herald: SynthesisedHerald;
  let siteBucket: string;
  let logBucket: string;
  let distribution: Record<string, unknown>;
  beforeAll(() => {
    herald = synthesiseHerald();
    const buckets = resourcesOfType(herald.console, 'AWS::S3::Bucket');
    siteBucket = buckets.find(([id]) => id.startsWith('ConsoleSite'))?.[0] ?? '';
    logBucket = buckets.find(([id]) => id.startsWith('ConsoleAccessLogs'))?.[0] ?? '';
    const [only] = resourcesOfType(herald.console, 'AWS::CloudFront::Distribution');
    distribution = (only ? prop(only[1], 'DistributionConfig') : {}) as Record<string, unknown>;
  });

  it('keeps the files in a private, encrypted bucket that logs its access', () => {
    herald.console.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: { DestinationBucketName: { Ref: logBucket }, LogFilePrefix: 's3/' },
    });
  });

  it('lets only this distribution read the bucket, through Origin Access Control, and refuses plain HTTP', () => {
    herald.console.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: siteBucket },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Action: 's3:GetObject',
            Principal: { Service: 'cloudfront.amazonaws.com' },
            Condition: { StringEquals: { 'AWS:SourceArn': Match.anyValue() } },
          }),
        ]),
      },
    });
    const origins = distribution.Origins as Array<Record<string, unknown>>;
    const s3 = origins.find((o) => 'S3OriginConfig' in o);
    expect(s3?.OriginAccessControlId).toBeDefined();
    expect(s3?.S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
  });

  it('serves index.html over HTTPS with security headers, and logs every request', () => {
    expect(distribution.DefaultRootObject).toBe('index.html');
    expect(distribution.DefaultCacheBehavior).toMatchObject({ ViewerProtocolPolicy: 'redirect-to-https', ResponseHeadersPolicyId: expect.anything() });
    expect(distribution.Logging).toEqual({ Bucket: { 'Fn::GetAtt': [logBucket, 'RegionalDomainName'] }, Prefix: 'cloudfront/' });
    herald.console.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: {
        SecurityHeadersConfig: {
          // Joined with the WebSocket API's URL (a token), so checked below as text.
          ContentSecurityPolicy: Match.objectLike({ Override: true }),
          StrictTransportSecurity: Match.objectLike({ AccessControlMaxAgeSec: 31_536_000 }),
          FrameOptions: { FrameOption: 'DENY', Override: true },
        },
      },
    });
    const [policy] = resourcesOfType(herald.console, 'AWS::CloudFront::ResponseHeadersPolicy');
    const csp = JSON.stringify(policy?.[1].Properties);
    expect(csp).toContain("default-src 'self'; connect-src 'self' ");
    expect(csp).toContain("object-src 'none'; base-uri 'none'; frame-ancestors 'none'");
    // Around the WebSocket API's URL, the policy is the shared one the local console sends too.
    for (const part of consoleContentSecurityPolicy('\u0000').split('\u0000')) expect(csp).toContain(JSON.stringify(part).slice(1, -1));
  });

  it('forwards /v1/* to the HTTP API uncached, with the bearer token, so the console and the API share an origin', () => {
    const [api] = distribution.CacheBehaviors as Array<Record<string, unknown>>;
    expect(api).toMatchObject({
      PathPattern: '/v1/*',
      ViewerProtocolPolicy: 'https-only',
      CachePolicyId: cachingDisabled,
      OriginRequestPolicyId: allViewerExceptHostHeader,
      AllowedMethods: expect.arrayContaining(['GET', 'POST', 'PATCH', 'DELETE', 'PUT']),
    });
    const origin = (distribution.Origins as Array<Record<string, unknown>>).find((o) => o.Id === api?.TargetOriginId);
    expect(origin?.CustomOriginConfig).toMatchObject({ OriginProtocolPolicy: 'https-only' });
    expect(JSON.stringify(origin?.DomainName)).toContain('.execute-api.');
  });

  it('deploys the console files with a config.json naming the WebSocket API, invalidates the cache, and empties the bucket when the stack goes', () => {
    const [deployment] = resourcesOfType(herald.console, 'Custom::CDKBucketDeployment');
    expect(deployment).toBeDefined();
    const properties = deployment?.[1].Properties as Record<string, unknown>;
    expect(properties).toMatchObject({ DestinationBucketName: { Ref: siteBucket }, DistributionPaths: ['/*'], Prune: true, RetainOnDelete: false });
    // Two sources: the console directory and the config.json whose markers are the WebSocket URL's parts.
    expect(properties.SourceObjectKeys).toHaveLength(2);
    expect(JSON.stringify(properties.SourceMarkers)).toContain('WebSocketApi');
  });

  it('deploys a config.json naming the claims the API reads the caller from, so the page shows what the API grants', () => {
    // The deployment's sources are the staged assets `<hash>.zip` of the cloud assembly's `asset.<hash>/`.
    const [deployment] = resourcesOfType(herald.console, 'Custom::CDKBucketDeployment');
    const keys = (deployment?.[1].Properties as { SourceObjectKeys: string[] }).SourceObjectKeys;
    const assembly = Stage.of(herald.stacks.console)?.synth();
    const configs = keys
      .map((key) => path.join(assembly?.directory ?? '', `asset.${key.replace(/\.zip$/, '')}`, 'config.json'))
      .filter((file) => existsSync(file))
      .map((file) => JSON.parse(readFileSync(file, 'utf8')) as { claims?: unknown });
    expect(configs).toHaveLength(1);
    expect(configs[0]?.claims).toEqual(testSettings.claims);
  });

  it('says where to open the console', () => {
    expect(Object.keys(outputsOf(herald.console))).toContain('ConsoleUrl');
  });

  it('adds no function to the service stack, whose functions stay exactly those of the description', () => {
    expect(resourcesOfType(herald.console, 'AWS::Lambda::Function')).toHaveLength(1);
    expect(resourcesOfType(herald.service, 'AWS::CloudFront::Distribution')).toHaveLength(0);
  });
});

describe('the local console', () => {
  // The distribution's policy for a WebSocket URL known at synthesis, as the local stack's is.
  const wsUrl = 'ws://127.0.0.1:22001';
  let securityHeaders: Record<string, Record<string, unknown>>;
  let base = '';
  const server = createServer();

  beforeAll(async () => {
    const stack = new Stack(new App(), 'ConsoleOnly', { env: { account: '111122223333', region: 'eu-west-1' } });
    new HeraldConsole(stack, 'Console', {
      apiDomainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      webSocketUrl: wsUrl,
      jwtIssuer: 'https://issuer.example.com/',
      claims: testSettings.claims,
    });
    const [[, policy] = []] = resourcesOfType(Template.fromStack(stack), 'AWS::CloudFront::ResponseHeadersPolicy');
    securityHeaders = (policy ? (prop(policy, 'ResponseHeadersPolicyConfig') as { SecurityHeadersConfig: typeof securityHeaders }).SecurityHeadersConfig : {});
    const site = await createConsoleSite(() => ({ apiUrl: '', wsUrl, issuer: 'http://127.0.0.1', claims: testSettings.claims, local: true }));
    server.on('request', (req, res) => {
      void site(req, res).then((handled) => {
        if (!handled) res.writeHead(418).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => closeServer(server));

  it.each(['/', '/app.js', '/config.json'])('answers %s with the security headers the distribution sets on AWS, but HSTS over plain HTTP', async (file) => {
    // Act
    const response = await fetch(`${base}${file}`);

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toBe(securityHeaders.ContentSecurityPolicy?.ContentSecurityPolicy);
    expect(response.headers.get('x-frame-options')).toBe(securityHeaders.FrameOptions?.FrameOption);
    expect(response.headers.get('referrer-policy')).toBe(securityHeaders.ReferrerPolicy?.ReferrerPolicy);
    expect(securityHeaders.ContentTypeOptions).toEqual({ Override: true });
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(securityHeaders.StrictTransportSecurity).toMatchObject({ AccessControlMaxAgeSec: 31_536_000, IncludeSubdomains: true });
    expect(response.headers.get('strict-transport-security')).toBeNull();
  });
});
