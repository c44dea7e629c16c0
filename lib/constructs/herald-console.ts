import path from 'node:path';
import { DefaultStackSynthesizer, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import type { ClaimsConfig } from '../../shared/config.ts';
import { consoleContentSecurityPolicy, consoleSecurityHeaders } from '../console-security-headers.ts';
import { repositoryRoot } from './herald-function.ts';
import { acknowledgeFinding, acknowledgeWildcardResource } from './nag-acknowledgements.ts';

/** CloudFront's names of the `Referrer-Policy` values lib/console-security-headers.ts may choose. */
const referrerPolicies: Readonly<Record<(typeof consoleSecurityHeaders)['referrerPolicy'], HeadersReferrerPolicy>> = {
  'no-referrer': HeadersReferrerPolicy.NO_REFERRER,
};

/** Properties of {@link HeraldConsole}. */
export interface HeraldConsoleProps {
  /**
   * The HTTP API's domain (`<id>.execute-api.<region>.amazonaws.com`): the distribution serves
   * `/v1/*` from it, so the console calls the API on its own origin (no CORS) with its token.
   */
  readonly apiDomainName: string;
  /** The WebSocket API's URL, for `config.json`. */
  readonly webSocketUrl: string;
  /** The JWT issuer whose tokens the API accepts, shown on the sign-in page. */
  readonly jwtIssuer: string;
  /**
   * The claims the API reads the caller from (`herald:tenantClaim`, `herald:roleClaim`,
   * `herald:singleTenant`), for `config.json`: the page shows the tenant and roles the API grants.
   */
  readonly claims: ClaimsConfig;
  /** Where the console's static files are. @default the repository's `console/` */
  readonly sourceDirectory?: string;
  /** How long the access logs of the bucket and the distribution are kept. @default 90 days */
  readonly logRetention?: Duration;
}

/**
 * The console as a static site: the files of `console/` in a private S3 bucket, read only by a
 * CloudFront distribution through Origin Access Control, over HTTPS, with security headers and
 * access logs; `config.json` beside them tells the page where the API is. The distribution also
 * forwards `/v1/*` (and the API reference, `/docs` and `/openapi.json`) to the HTTP API, uncached and with every viewer header but Host (so the bearer
 * token reaches the JWT authorizer), which keeps the console and the API on one origin.
 */
export class HeraldConsole extends Construct {
  readonly bucket: Bucket;
  readonly logBucket: Bucket;
  readonly distribution: Distribution;
  /** `https://<distribution domain>`: where people open the console. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: HeraldConsoleProps) {
    super(scope, id);
    const logRetention = props.logRetention ?? Duration.days(90);

    // Both access logs land here. CloudFront's standard logs are written with ACLs, hence
    // OBJECT_WRITER ownership (S3's server access logs need none).
    this.logBucket = new Bucket(this, 'AccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [{ expiration: logRetention }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledgeFinding(this.logBucket, 'AwsSolutions-S1', 'This is the access-log bucket of the console: logging its own access would log the logs.');

    this.bucket = new Bucket(this, 'Site', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: 's3/',
      // Its files are the repository's console/, put back by every deployment.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const stack = Stack.of(this);
    // The values are lib/console-security-headers.ts's, which the local stack's console sends too.
    const { frameOption, referrerPolicy, strictTransportSecurity } = consoleSecurityHeaders;
    const securityHeaders = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: consoleContentSecurityPolicy(props.webSocketUrl), override: true },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.seconds(strictTransportSecurity.maxAgeSeconds),
          includeSubdomains: strictTransportSecurity.includeSubdomains,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption[frameOption], override: true },
        referrerPolicy: { referrerPolicy: referrerPolicies[referrerPolicy], override: true },
      },
    });

    // The API on the console's own origin: never cached, every viewer header but Host. With caching
    // disabled, this is how CloudFront forwards the Authorization header ("How do I configure
    // CloudFront to forward the Authorization header to the origin?", AWS re:Post knowledge center).
    const api = {
      origin: new HttpOrigin(props.apiDomainName, { protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY }),
      viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: AllowedMethods.ALLOW_ALL,
      cachePolicy: CachePolicy.CACHING_DISABLED,
      originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
    };
    this.distribution = new Distribution(this, 'Distribution', {
      comment: `Herald console (${stack.stackName})`,
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        responseHeadersPolicy: securityHeaders,
      },
      // The API, and its reference (which the console links to), on the console's origin.
      additionalBehaviors: { '/v1/*': api, '/docs': api, '/openapi.json': api },
      enableLogging: true,
      logBucket: this.logBucket,
      logFilePrefix: 'cloudfront/',
    });
    acknowledgeFinding(
      this.distribution,
      'AwsSolutions-CFR1',
      'The console is for operators wherever they are; every call it makes is authorised by a bearer token.',
    );
    acknowledgeFinding(
      this.distribution,
      'AwsSolutions-CFR2',
      'Static files and a pass-through to the HTTP API, whose stage throttling and JWT authorizer guard every call; add a WAF web ACL here when the API gets one.',
    );
    acknowledgeFinding(
      this.distribution,
      'AwsSolutions-CFR4',
      'On the default *.cloudfront.net certificate the viewer TLS policy is fixed by CloudFront (TLSv1); a custom domain with an ACM certificate and TLSv1.2_2021 is the way to raise it (docs/console.md).',
    );
    this.url = `https://${this.distribution.distributionDomainName}`;

    const deployment = new BucketDeployment(this, 'Files', {
      destinationBucket: this.bucket,
      sources: [
        Source.asset(props.sourceDirectory ?? path.join(repositoryRoot, 'console'), { exclude: ['*.d.ts'] }),
        // What console/app.js reads first: the API on this origin, the WebSocket API's URL, and the
        // claim names the API reads (local/console-site.ts's ConsoleConfig, locally).
        Source.jsonData('config.json', { apiUrl: '', wsUrl: props.webSocketUrl, issuer: props.jwtIssuer, claims: props.claims, local: false }),
      ],
      distribution: this.distribution,
      distributionPaths: ['/*'],
      // Files of an earlier deployment that are gone from console/ go from the bucket too, and
      // every file goes when the stack does, so that CloudFormation can delete the emptied bucket.
      prune: true,
      retainOnDelete: false,
    });
    acknowledgeDeploymentHandler(deployment, this.bucket);
  }
}

/**
 * The CDK's BucketDeployment runs one Lambda function per stack (a singleton) with the basic
 * execution managed policy and wildcard actions on the buckets it copies between. Its findings are
 * those of the CDK's own construct, acknowledged on the stack's handler and its role.
 */
function acknowledgeDeploymentHandler(deployment: BucketDeployment, site: Bucket): void {
  const stack = Stack.of(deployment);
  const role = deployment.handlerRole;
  const why = "The CDK's own BucketDeployment handler, which runs only while CloudFormation deploys the console";
  acknowledgeFinding(role, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', `${why}: it writes its logs with the basic execution role.`);
  // The CDK grants read on the asset, write on the site, by action families.
  for (const action of ['s3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:Abort*', 's3:DeleteObject*']) {
    acknowledgeFinding(role, `AwsSolutions-IAM5[Action::${action}]`, `${why}: it copies the console's files from the CDK asset bucket to the site bucket.`);
  }
  // The bootstrap's file-asset bucket (DefaultStackSynthesizer's default name and qualifier).
  const qualifier = (stack.node.tryGetContext('@aws-cdk/core:bootstrapQualifier') as string | undefined) ?? DefaultStackSynthesizer.DEFAULT_QUALIFIER;
  const assets = `arn:${stack.partition}:s3:::cdk-${qualifier}-assets-${stack.account}-${stack.region}/*`;
  acknowledgeWildcardResource(role, assets, `${why}: it reads the zipped files the CDK put in its asset bucket.`);
  acknowledgeWildcardResource(role, site.arnForObjects('*'), `${why}: it writes (and prunes) every file of the site bucket.`);
  acknowledgeWildcardResource(role, '*', `${why}: CloudFront's CreateInvalidation and GetInvalidation take no resource narrower than *.`);
  const handler = stack.node.children.find((child) => child.node.id.startsWith('Custom::CDKBucketDeployment'));
  if (handler) acknowledgeFinding(handler, 'AwsSolutions-L1', `${why}: its runtime is the one the CDK release chose, upgraded with aws-cdk-lib.`);
}
