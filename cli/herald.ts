#!/usr/bin/env node
/**
 * `npx herald <command>`: Herald from a terminal, built on the typed client (`herald/client`).
 * Target: `--url`/`HERALD_URL` (default http://127.0.0.1:3000) and `--token`/`HERALD_TOKEN`;
 * `--json` prints one JSON value (or one a line for `tail`). Exit codes: 0 done, 1 the API or the
 * input refused, 2 a command line commander cannot parse.
 */
import { Command, CommanderError } from 'commander';
import { addBroadcastCommands } from './commands/broadcasts.ts';
import { addNotificationCommands } from './commands/notifications.ts';
import { addRecipientCommands } from './commands/recipients.ts';
import { addTailCommand } from './commands/tail.ts';
import { CliError, defaultUrl, targetUrl, UsageError } from './target.ts';
import type { GlobalOptions } from './target.ts';

/** The whole command tree. */
export function heraldProgram(): Command {
  const program = new Command('herald')
    .description('Schedule, follow and cancel Herald notifications and broadcasts.')
    .option('--url <url>', `the API's base URL (default: HERALD_URL, or ${defaultUrl})`)
    .option('--token <jwt>', 'a JWT for the API (default: HERALD_TOKEN)')
    .option('--json', 'print machine-readable JSON')
    .showHelpAfterError('(add --help for usage)')
    // Subcommands added below inherit the override: their parsing errors come back here too.
    .exitOverride();
  addNotificationCommands(program);
  addBroadcastCommands(program);
  addRecipientCommands(program);
  addTailCommand(program);
  return program;
}

/**
 * What to say when the API could not be reached at all (fetch's `TypeError: fetch failed`, its
 * cause the system's or TLS's error): nothing listening, a host that does not resolve, https to a
 * plain http port, ...; undefined for any other error.
 */
export function unreachableApi(error: unknown, options: GlobalOptions): string | undefined {
  if (!(error instanceof TypeError) || error.message !== 'fetch failed') return undefined;
  const cause = error.cause as { code?: unknown; message?: unknown; address?: unknown; port?: unknown } | undefined;
  if (cause?.code === 'ECONNREFUSED') {
    return `nothing answers at ${String(cause.address)}:${String(cause.port)}: start a local stack (npm start) or pass --url / HERALD_URL`;
  }
  const why = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : error.message;
  let url: string;
  try {
    url = targetUrl(options);
  } catch {
    url = 'the API';
  }
  return `cannot reach ${url} (${why}): check --url or HERALD_URL (locally: npm start's HTTP API, ${defaultUrl} by default)`;
}

async function main(args: readonly string[]): Promise<number> {
  const program = heraldProgram();
  try {
    await program.parseAsync([...args], { from: 'user' });
    return Number(process.exitCode ?? 0);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof CliError) {
      if (program.opts<{ json?: boolean }>().json) process.stderr.write(`${JSON.stringify({ error: error.message, body: error.body ?? null })}\n`);
      else process.stderr.write(`herald: ${error.message}\n`);
      return error instanceof UsageError ? 2 : 1;
    }
    const unreachable = unreachableApi(error, program.opts<GlobalOptions>());
    if (unreachable !== undefined) {
      if (program.opts<{ json?: boolean }>().json) process.stderr.write(`${JSON.stringify({ error: unreachable, body: null })}\n`);
      else process.stderr.write(`herald: ${unreachable}\n`);
      return 1;
    }
    throw error;
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
