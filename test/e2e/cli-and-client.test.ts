/**
 * `herald/client` and `npx herald` against a local stack: the README's client example runs as
 * written, and each CLI command does what its help says, in human and `--json` form.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startHarness } from './support/harness.ts';
import type { Harness } from './support/harness.ts';
import { channels } from '../../shared/domain/notification.ts';
import { repoRoot, spawnInRepo } from '../unit/support/processes.ts';
import type { Run, Running } from '../unit/support/processes.ts';

describe('the client and the CLI', () => {
  let harness: Harness;
  let admin: string;
  let scratch: string;

  /** Runs a command of the repository with its Node 24, the stack as target unless `env` says otherwise. */
  function run(command: readonly string[], env: Record<string, string> = {}): Promise<Run> & { child: Running['child'] } {
    const running = spawnInRepo(command, { HERALD_URL: harness.stack.httpUrl, HERALD_TOKEN: admin, ...env });
    return Object.assign(
      running.exited.then((code) => ({ code, ...running.output })),
      { child: running.child },
    );
  }

  const herald = (args: readonly string[], env?: Record<string, string>): Promise<Run> => run(['node', 'cli/herald.ts', ...args], env);
  const heraldJson = async (args: readonly string[]): Promise<Record<string, unknown>> => {
    const result = await herald(['--json', ...args]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  };

  beforeAll(async () => {
    harness = await startHarness();
    admin = await harness.token('ops', { role: 'admin' });
    scratch = await mkdtemp(join(tmpdir(), 'herald-cli-'));
  });
  afterAll(async () => {
    await harness.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('imports recipients from CSV and JSON Lines in batches, and says which entries failed', async () => {
    // Prepare: 150 recipients over two files (two batches for the CSV), one entry with a bad time zone
    const csvRows = Array.from({ length: 120 }, (_, i) => `user${i},user${i}@example.com,Europe/Paris,"staff;ops"`);
    await writeFile(join(scratch, 'people.csv'), ['id,email,timezone,groups', 'alice,alice@example.com,,staff', ...csvRows].join('\n'));
    await writeFile(join(scratch, 'people.jsonl'), ['{"id":"bob","groups":["staff"]}', '{"id":"carol","timezone":"Mars/Olympus"}'].join('\n'));

    // Act
    const fromCsv = await heraldJson(['recipients', 'import', join(scratch, 'people.csv')]);
    const fromJsonl = await herald(['--json', 'recipients', 'import', join(scratch, 'people.jsonl')]);

    // Assess
    expect(fromCsv).toEqual({ total: 121, succeeded: 121, failed: [], notSent: 0 });
    expect(fromJsonl.code).toBe(1);
    expect(JSON.parse(fromJsonl.stdout)).toMatchObject({ total: 2, succeeded: 1, failed: [{ line: 2, id: 'carol', error: { code: 'VALIDATION_ERROR' } }], notSent: 0 });
    const user7 = await harness.api('GET', '/v1/recipients/user7', { token: admin });
    expect(user7.body).toMatchObject({ email: 'user7@example.com', timezone: 'Europe/Paris', groups: ['staff', 'ops'] });
  }, 60_000);

  it("imports the README's example file, examples/people.csv, whole", async () => {
    // Act
    const imported = await heraldJson(['recipients', 'import', join(repoRoot, 'examples', 'people.csv')]);
    const bob = await harness.api('GET', '/v1/recipients/bob', { token: admin });

    // Assess
    expect(imported).toEqual({ total: 3, succeeded: 3, failed: [], notSent: 0 });
    expect(bob.body).toMatchObject({ email: 'bob@example.com', timezone: 'America/New_York', groups: ['staff', 'ops'] });
  });

  it("runs the README's client example as written", async () => {
    // Prepare: the example is in the README verbatim, and typed by `npm run typecheck`
    const example = await readFile(join(repoRoot, 'client', 'example.ts'), 'utf8');
    const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
    expect(readme).toContain(`\`\`\`ts\n${example}\`\`\``);

    // Act
    const result = await run(['node', 'client/example.ts']);

    // Assess
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^ntf_\w+ pending \d{4}-\d\d-\d\dT/);
  });

  it('notifies, reads, lists, reschedules and cancels a notification', async () => {
    // Act
    const created = await heraldJson(['notify', 'alice', '--title', 'Standup', '--message', 'In 5 minutes', '--at', '+1h', '--priority', 'high']);
    const [id] = created.notificationIds as string[];
    const read = await heraldJson(['get', String(id)]);
    const listed = await heraldJson(['list', '--recipient', 'alice', '--status', 'pending']);
    const moved = await heraldJson(['reschedule', String(id), '+2h']);
    const cancelled = await heraldJson(['cancel', String(id)]);
    const shown = await herald(['get', String(id)]);

    // Assess
    expect(read).toMatchObject({ id, status: 'pending', priority: 'high', recipientId: 'alice' });
    expect((listed.items as { id: string }[]).map((n) => n.id)).toContain(id);
    expect(Date.parse(String(moved.scheduledAt)) - Date.parse(String(read.scheduledAt))).toBeGreaterThan(3_500_000);
    expect(cancelled).toEqual({ notificationId: id, status: 'cancelled' });
    expect(shown.stdout).toContain(`${id}  cancelled`);
  }, 60_000);

  it('broadcasts to a group and follows its progress to the end', async () => {
    // Act
    const finished = await heraldJson(['broadcast', '--groups', 'staff', '--title', 'Maintenance', '--message', 'Down at 2', '--channels', 'inbox', '--wait']);
    const followed = await heraldJson(['progress', String(finished.id)]);
    const human = await herald(['progress', String(finished.id)]);

    // Assess: alice, bob and the 120 users of the CSV are staff
    expect(finished).toMatchObject({ status: 'completed', progress: { total: 122, sent: 122, percent: 100 } });
    expect(followed).toMatchObject({ id: finished.id, status: 'completed' });
    expect(human.stdout).toBe(`${String(finished.id)}  completed: 122 sent, 0 failed, 0 cancelled, 0 pending of 122 (100%)\n`);
  }, 60_000);

  it('exits 1 after following a broadcast that failed (nobody got it), its summary printed', async () => {
    // Prepare: SES refuses every e-mail for good
    await harness.api('POST', '/_local/faults', { body: [{ service: 'ses', probability: 1, error: { statusCode: 400, code: 'MessageRejected', message: 'Injected' } }] });

    // Act
    const failed = await herald(['broadcast', '--recipients', 'alice', '--title', 'Mail', '--message', 'Only by e-mail', '--channels', 'email', '--wait']);
    await harness.api('DELETE', '/_local/faults');

    // Assess
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/failed: 0 sent, 1 failed, 0 cancelled, 0 pending of 1/);
  }, 60_000);

  it('answers --wait and progress of a draft at once: a draft goes nowhere until it is scheduled', async () => {
    // Act
    const draft = await heraldJson(['broadcast', '--groups', 'staff', '--title', 'Later', '--message', 'Not yet', '--draft', '--wait']);
    const progress = await herald(['progress', String(draft.id)]);

    // Assess
    expect(draft).toMatchObject({ status: 'draft' });
    expect(progress.code).toBe(0);
    expect(progress.stdout).toContain(`${String(draft.id)}  draft`);
  }, 60_000);

  it('tails the WebSocket live', async () => {
    // Prepare: alice listens for one notification
    const alice = await harness.token('alice');
    const tail = run(['node', 'cli/herald.ts', '--json', 'tail', '--count', '1'], { HERALD_TOKEN: alice });
    await eventually(async () => (await harness.api('GET', '/v1/me', { token: alice })).status, (status) => status === 200);
    await new Promise((settle) => setTimeout(settle, 1_000));

    // Act: sent now, one at a time, until the tail has seen one (its socket may open after the
    // first). One after the other, not on a timer: on a loaded machine a timer would start CLI
    // processes faster than they end, each slowing the next, and the stack with them.
    let ended = false;
    void tail.finally(() => (ended = true));
    for (let sent = 1; !ended && sent <= 30; sent += 1) {
      await herald(['notify', 'alice', '--title', `Live ${sent}`, '--message', 'now']);
      await Promise.race([tail, new Promise((settle) => setTimeout(settle, 1_000))]);
    }
    if (!ended) tail.child.kill('SIGINT');
    const result = await tail;

    // Assess
    expect(result.code).toBe(0);
    const frame = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as { type: string; notification: { title: string } };
    expect(frame).toMatchObject({ type: 'notification', notification: { title: expect.stringMatching(/^Live \d+$/) } });
  }, 60_000);

  it('warns a tail whose caller is not a recipient that nothing will come, and listens all the same', async () => {
    // Prepare: a token for a user nobody registered
    const stranger = await harness.token('stranger');

    // Act: the warning comes before the socket opens; the tail then listens until stopped
    const running = spawnInRepo(['node', 'cli/herald.ts', 'tail'], { HERALD_URL: harness.stack.httpUrl, HERALD_TOKEN: stranger });
    await eventually(async () => running.output.stderr, (stderr) => stderr.includes('listening on'), 60_000);
    running.child.kill('SIGINT');
    const code = await running.exited;

    // Assess
    const lines = running.output.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^herald: You \(stranger\) are not in the directory of tenant .+: nothing is delivered to this tail until you are \(listening all the same\)$/);
    expect(lines[1]).toMatch(/^listening on ws:/);
    expect(code).toBe(0);
  }, 90_000);

  it('says what the API refused, in one line, and exits 1', async () => {
    // Act
    const unknown = await herald(['get', 'ntf_01ARZ3NDEKTSV4RRFFQ69G5FAV']);
    const noToken = await herald(['list'], { HERALD_TOKEN: '' });

    // Assess
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^herald: 404 NOT_FOUND: .+\n$/);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain('herald: 401 Unauthorized (pass a token with --token or HERALD_TOKEN');
  }, 120_000);

  it('exits 2 for a command line it cannot use, as for one it cannot parse, saying why in one line', async () => {
    // Act
    const badTime = await herald(['notify', 'alice', '--title', 't', '--message', 'm', '--at', 'tomorrow']);
    const badData = await herald(['notify', 'alice', '--title', 't', '--message', 'm', '--data', '[1]']);
    const twoAudiences = await herald(['broadcast', '--all', '--groups', 'staff', '--title', 't', '--message', 'm']);
    const unknownOption = await herald(['notify', 'alice', '--colour', 'red']);
    const badLimit = await herald(['list', '--limit', 'abc']);
    const badPriority = await herald(['notify', 'alice', '--title', 't', '--message', 'm', '--priority', 'bogus']);
    const badUrl = await herald(['list', '--url', 'notaurl']);

    // Assess
    expect([badTime.code, badData.code, twoAudiences.code, unknownOption.code, badLimit.code, badPriority.code, badUrl.code]).toEqual([2, 2, 2, 2, 2, 2, 2]);
    expect(badLimit.stderr).toContain("option '--limit <n>' argument 'abc' is invalid. must be a whole number of at least 1");
    expect(badUrl.stderr).toBe('herald: --url "notaurl" is not a URL: use http://... or https://...\n');
    expect(badTime.stderr).toMatch(/^herald: "tomorrow" is not a time: .+\n$/);
    expect(badData.stderr).toBe('herald: --data must be a JSON object: [1]\n');
    expect(twoAudiences.stderr).toContain('say who hears it with exactly one of');
  }, 120_000);

  // This test and the two above spawn three to seven Node processes each (npx resolves the bin
  // first): 2-10 s on an idle machine, 11-30 s on one running two suites at once (CI run 164), so
  // the three wait up to 120 s.
  it('works as npx herald, with --help on every command', async () => {
    // Act
    const help = await run(['npx', 'herald', '--help']);
    const importHelp = await run(['npx', 'herald', 'recipients', 'import', '--help']);
    const notifyHelp = await run(['npx', 'herald', 'notify', '--help']);

    // Assess
    expect(help.code).toBe(0);
    for (const command of ['notify', 'get', 'list', 'cancel', 'reschedule', 'broadcast', 'progress', 'recipients', 'tail']) expect(help.stdout).toContain(`  ${command}`);
    expect(importHelp.code).toBe(0);
    expect(importHelp.stdout).toContain('Usage: herald recipients import');
    // Every channel the API takes is named in --channels' help
    expect(notifyHelp.stdout.replace(/\s+/g, ' ')).toContain(`comma-separated: ${channels.join(', ')}`);
  }, 120_000);
});
