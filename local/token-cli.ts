/**
 * `npm run token -- --sub alice [--role admin|sender ...] [--tenant acme | --no-tenant] [--expires-in 1h]
 *                  [--shape herald|cognito|auth0] [--namespace https://herald.example.com/]`
 *
 * `--shape` lays the tenant and role claims out as Cognito (`custom:tenant`, `cognito:groups`,
 * `token_use`) or Auth0 (namespaced claims) do, to test a deployment configured for them
 * (`herald:tenantClaim`, `herald:roleClaim`); `--no-tenant` leaves the tenant claim out.
 *
 * Prints a bearer token for the local stack on stdout and nothing else, so that
 * `TOKEN=$(npm run -s token -- --sub alice)` works. Diagnostics go to stderr; bad arguments
 * exit with 2, other failures with 1.
 *
 * The signing key file defaults to `.herald/jwt-signing-key.json`; `--key-file` or the
 * HERALD_JWT_KEY_FILE variable point elsewhere (tests use a temporary file).
 */
import { parseArgs } from 'node:util';
import {
  DEFAULT_AUTH0_NAMESPACE,
  InvalidDurationError,
  LOCAL_JWT_AUDIENCE,
  LOCAL_JWT_ISSUER,
  parseDuration,
  signToken,
  tokenRoles,
  tokenShapes,
} from './jwt-keys.ts';
import type { TokenRole, TokenShape } from './jwt-keys.ts';

// Overrides where the signing key file lives (documented above; tests point it at a temp file).
const keyFileVariable = 'HERALD_JWT_KEY_FILE';

const usage = `Usage: npm run token -- --sub <subject> [--role ${tokenRoles.join('|')} ...] [--tenant <tenant> | --no-tenant]
                      [--shape ${tokenShapes.join('|')}] [--namespace <https://.../>]
                      [--expires-in <90s|15m|1h|7d>] [--issuer <iss>] [--audience <aud>] [--key-file <path>]`;

const help = `${usage}

Prints a bearer token of the local stack's issuer on stdout, and nothing else.

  --sub <subject>        the user (required)
  --role <role>          ${tokenRoles.join(', ')}; repeat it, or join with commas, for several
                         (default: none, a plain user)
  --tenant <tenant>      the tenant (default: default)
  --no-tenant            no tenant claim at all: a multi-tenant stack refuses the token (401)
  --shape <shape>        where the tenant and roles go: herald (tenant, role), cognito
                         (custom:tenant, cognito:groups, token_use) or auth0 (namespaced claims)
                         (default: herald)
  --namespace <url>      the claims' namespace with --shape auth0 (default: ${DEFAULT_AUTH0_NAMESPACE})
  --expires-in <time>    how long it is valid: 90s, 15m, 1h, 7d (default: 1h)
  --issuer <iss>         its iss (default: ${LOCAL_JWT_ISSUER})
  --audience <aud>       its aud (default: ${LOCAL_JWT_AUDIENCE})
  --key-file <path>      the signing key, made on first use (default: .herald/jwt-signing-key.json,
                         the key npm start verifies with; HERALD_JWT_KEY_FILE overrides it)
  --help                 this text`;

class UsageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
  }
}

function isTokenRole(value: string): value is TokenRole {
  return (tokenRoles as readonly string[]).includes(value);
}

function isTokenShape(value: string): value is TokenShape {
  return (tokenShapes as readonly string[]).includes(value);
}

interface CliRequest {
  readonly sub: string;
  /** One role, or several (`--role admin --role operator`, or `--role admin,operator`). */
  readonly role?: TokenRole | readonly TokenRole[];
  readonly tenant?: string | null;
  readonly shape?: TokenShape;
  readonly namespace?: string;
  readonly expiresIn: string;
  readonly issuer: string;
  readonly audience: string;
  readonly keyFile?: string;
}

const cliOptions = {
  sub: { type: 'string' },
  role: { type: 'string', multiple: true },
  tenant: { type: 'string' },
  'no-tenant': { type: 'boolean' },
  shape: { type: 'string' },
  namespace: { type: 'string' },
  'expires-in': { type: 'string', default: '1h' },
  issuer: { type: 'string', default: LOCAL_JWT_ISSUER },
  audience: { type: 'string', default: LOCAL_JWT_AUDIENCE },
  'key-file': { type: 'string' },
} as const;

function readOptions(args: readonly string[]): ReturnType<typeof parseArgs<{ options: typeof cliOptions }>>['values'] {
  try {
    return parseArgs({ args: [...args], strict: true, allowPositionals: false, options: cliOptions }).values;
  } catch (error) {
    // parseArgs throws TypeErrors naming the unknown option or missing value: show them as usage errors.
    throw new UsageError((error as Error).message, { cause: error });
  }
}

function parseCommandLine(args: readonly string[]): CliRequest {
  const values = readOptions(args);
  if (!values.sub) throw new UsageError('--sub is required');
  const roles = [...new Set((values.role ?? []).flatMap((role) => role.split(',').map((r) => r.trim())))];
  const unknownRole = roles.find((role) => !isTokenRole(role));
  if (unknownRole !== undefined) throw new UsageError(`Unknown role "${unknownRole}": use one of ${tokenRoles.join(', ')}`);
  if (values.tenant === '') throw new UsageError('--tenant must not be empty');
  if (values.tenant !== undefined && values['no-tenant']) throw new UsageError('--tenant and --no-tenant exclude each other');
  if (values.shape !== undefined && !isTokenShape(values.shape)) {
    throw new UsageError(`Unknown shape "${values.shape}": use one of ${tokenShapes.join(', ')}`);
  }
  if (values.namespace !== undefined && values.shape !== 'auth0') throw new UsageError('--namespace goes with --shape auth0');
  if (values.namespace !== undefined && !URL.canParse(values.namespace)) throw new UsageError(`--namespace must be a URL, got "${values.namespace}"`);
  try {
    parseDuration(values['expires-in']);
  } catch (error) {
    if (error instanceof InvalidDurationError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
  return {
    sub: values.sub,
    ...(roles.length === 1 ? { role: roles[0] as TokenRole } : roles.length > 1 ? { role: roles as TokenRole[] } : {}),
    tenant: values['no-tenant'] ? null : values.tenant,
    shape: values.shape,
    namespace: values.namespace,
    expiresIn: values['expires-in'],
    issuer: values.issuer,
    audience: values.audience,
    keyFile: values['key-file'] ?? (process.env[keyFileVariable] || undefined),
  };
}

async function main(args: readonly string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  let request: CliRequest;
  try {
    request = parseCommandLine(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n${usage}\n`);
    return 2;
  }
  try {
    const { keyFile, ...claims } = request;
    const token = await signToken(claims, { keyFile });
    process.stdout.write(`${token}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`Cannot sign a token: ${(error as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
