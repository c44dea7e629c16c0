import type { Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { IdempotencyConflictError, IdempotencyInProgressError, NotFoundError, PayloadTooLargeError, ValidationError } from '../../../../shared/errors.ts';
import { bodyFingerprint, idempotencyKeyOf, idempotent } from '../../../../shared/http/idempotency.ts';
import { bodyCapOf } from '../../../../shared/http/body-limits.ts';
import { json, parseBody } from '../../../../shared/http/request.ts';
import type { HttpEvent, HttpResult } from '../../../../shared/http/request.ts';
import type { IdempotencyStore } from '../../../../shared/ports.ts';
import { InMemoryIdempotencyStore } from '../../fakes/index.ts';
import { aLambdaContext, anHttpEvent } from '../../fakes/lambda.ts';

const senderClaims = { sub: 'sam', tenant: 'acme', role: 'sender' };

function aCreate(options: { key?: string; body?: string; claims?: Record<string, string>; path?: string } = {}): HttpEvent {
  const event = anHttpEvent({
    routeKey: 'POST /v1/notifications',
    ...(options.path ? { path: options.path } : {}),
    body: options.body ?? '{"title":"Hi","recipients":["bob"]}',
    claims: options.claims ?? senderClaims,
  });
  if (options.key !== undefined) event.headers['idempotency-key'] = options.key;
  return event;
}

/** A create route that counts its runs and answers 201 with the run number. */
function aCountingRoute(answer: (run: number) => Promise<HttpResult> | HttpResult = (run) => json(201, { run })): {
  route: (event: HttpEvent) => Promise<HttpResult>;
  runs: () => number;
} {
  let runs = 0;
  return {
    route: async () => answer(++runs),
    runs: () => runs,
  };
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('idempotent routes', () => {
  it('runs the route as it is when no key is given', async () => {
    // Prepare
    const store = new InMemoryIdempotencyStore();
    const { route, runs } = aCountingRoute();
    const handler = idempotent(route, () => store);

    // Act
    await handler(aCreate());
    await handler(aCreate());

    // Assess
    expect(runs()).toBe(2);
    expect(store.keys()).toEqual([]);
  });

  it('answers a repeat with the first response, marked as replayed, without running again', async () => {
    // Prepare
    const store = new InMemoryIdempotencyStore();
    const { route, runs } = aCountingRoute();
    const handler = idempotent(route, () => store);

    // Act
    const first = await handler(aCreate({ key: 'k1' }));
    const second = await handler(aCreate({ key: 'k1' }));

    // Assess
    expect(runs()).toBe(1);
    expect(second.statusCode).toBe(first.statusCode);
    expect(second.body).toBe(first.body);
    expect(second.headers).toMatchObject({ 'idempotent-replayed': 'true' });
    expect(first.headers).not.toHaveProperty('idempotent-replayed');
  });

  it('takes the same JSON written differently as the same body', async () => {
    // Prepare
    const store = new InMemoryIdempotencyStore();
    const { route, runs } = aCountingRoute();
    const handler = idempotent(route, () => store);

    // Act
    await handler(aCreate({ key: 'k1', body: '{"title":"Hi","recipients":["bob"]}' }));
    await handler(aCreate({ key: 'k1', body: '{ "recipients": ["bob"],\n  "title": "Hi" }' }));

    // Assess
    expect(runs()).toBe(1);
  });

  it('refuses the key with a different body (422)', async () => {
    // Prepare
    const store = new InMemoryIdempotencyStore();
    const { route, runs } = aCountingRoute();
    const handler = idempotent(route, () => store);
    await handler(aCreate({ key: 'k1', body: '{"title":"Hi"}' }));

    // Act
    const error = await rejectionOf(handler(aCreate({ key: 'k1', body: '{"title":"Ho"}' })));

    // Assess
    expect(error).toBeInstanceOf(IdempotencyConflictError);
    expect((error as IdempotencyConflictError).statusCode).toBe(422);
    expect(runs()).toBe(1);
  });

  it('scopes keys by tenant, caller and path', async () => {
    // Prepare
    const store = new InMemoryIdempotencyStore();
    const { route, runs } = aCountingRoute();
    const handler = idempotent(route, () => store);

    // Act
    await handler(aCreate({ key: 'k1' }));
    await handler(aCreate({ key: 'k1', claims: { sub: 'olga', tenant: 'acme', role: 'sender' } }));
    await handler(aCreate({ key: 'k1', claims: { sub: 'sam', tenant: 'globex', role: 'sender' } }));
    await handler(aCreate({ key: 'k1', path: '/v1/notifications/ntf_01J0000000000000000000000A/retry' }));

    // Assess
    expect(runs()).toBe(4);
  });

  it('takes the path with a trailing slash as the same path, which reaches the same route', async () => {
    // Prepare
    const store = new InMemoryIdempotencyStore();
    const { route, runs } = aCountingRoute();
    const handler = idempotent(route, () => store);

    // Act
    const first = await handler(aCreate({ key: 'k1', path: '/v1/notifications' }));
    const again = await handler(aCreate({ key: 'k1', path: '/v1/notifications/' }));

    // Assess: one run; the repeat is the first answer, replayed
    expect(runs()).toBe(1);
    expect(again.body).toBe(first.body);
  });

  it('takes a path spelled with percent-encoding as the path it names, as the route reads it', async () => {
    // Prepare
    const store = new InMemoryIdempotencyStore();
    const { route, runs } = aCountingRoute();
    const handler = idempotent(route, () => store);

    // Act
    const first = await handler(aCreate({ key: 'k1', path: '/v1/templates/t-a' }));
    const encoded = await handler(aCreate({ key: 'k1', path: '/v1/templates/t%2Da' }));
    const other = await handler(aCreate({ key: 'k1', path: '/v1/templates/%74-a' }));
    const slash = await handler(aCreate({ key: 'k1', path: '/v1/templates/t%2Fa' }));
    const bad = await handler(aCreate({ key: 'k1', path: '/v1/templates/t%E0a' }));

    // Assess: one run for t-a; an encoded slash names another resource, as does text that is not percent-encoding
    expect(encoded.body).toBe(first.body);
    expect(other.body).toBe(first.body);
    expect(slash.body).not.toBe(first.body);
    expect(bad.body).not.toBe(first.body);
    expect(runs()).toBe(3);
  });

  it('forgets the key when the route throws, so a retry runs', async () => {
    // Prepare
    const store = new InMemoryIdempotencyStore();
    const { route, runs } = aCountingRoute((run) => {
      if (run === 1) throw new NotFoundError('Recipients not registered: bob');
      return json(201, { run });
    });
    const handler = idempotent(route, () => store);

    // Act
    const error = await rejectionOf(handler(aCreate({ key: 'k1' })));
    const retried = await handler(aCreate({ key: 'k1' }));

    // Assess
    expect(error).toBeInstanceOf(NotFoundError);
    expect(retried.statusCode).toBe(201);
    expect(runs()).toBe(2);
  });

  it('does not remember a 5xx the route returns, so a retry runs', async () => {
    // Prepare
    const store = new InMemoryIdempotencyStore();
    const { route, runs } = aCountingRoute((run) => (run === 1 ? json(503, { error: 'busy' }) : json(201, { run })));
    const handler = idempotent(route, () => store);

    // Act
    const failed = await handler(aCreate({ key: 'k1' }));
    const retried = await handler(aCreate({ key: 'k1' }));

    // Assess
    expect(failed.statusCode).toBe(503);
    expect(retried.statusCode).toBe(201);
    expect(runs()).toBe(2);
  });

  it('makes a concurrent duplicate wait for the first response instead of running', async () => {
    // Prepare
    const store = new InMemoryIdempotencyStore();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { route, runs } = aCountingRoute(async (run) => {
      await gate;
      return json(201, { run });
    });
    const handler = idempotent(route, () => store);

    // Act
    const first = handler(aCreate({ key: 'k1' }));
    const duplicate = handler(aCreate({ key: 'k1' }));
    setTimeout(release, 120);
    const [a, b] = await Promise.all([first, duplicate]);

    // Assess
    expect(runs()).toBe(1);
    expect(b.body).toBe(a.body);
  });

  it('answers 409 to a duplicate that waited longer than allowed', async () => {
    // Prepare
    const store = new InMemoryIdempotencyStore();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const handler = idempotent(
      async () => {
        await gate;
        return json(201, {});
      },
      () => store,
      { waitMs: 100 },
    );

    // Act
    const first = handler(aCreate({ key: 'k1' }));
    const error = await rejectionOf(handler(aCreate({ key: 'k1' })));
    release();
    await first;

    // Assess
    expect(error).toBeInstanceOf(IdempotencyInProgressError);
    expect((error as IdempotencyInProgressError).statusCode).toBe(409);
  });

  it('locks the key for the time the invocation has left', async () => {
    // Prepare
    const seen: number[] = [];
    const handler = idempotent(
      async () => json(201, {}),
      () => ({
        has: async () => false,
        run: async (request, work) => {
          seen.push(request.lockSeconds);
          return { result: await work(), replayed: false };
        },
      }),
    );
    const context: Context = { ...aLambdaContext(), getRemainingTimeInMillis: () => 12_345 };

    // Act
    await handler(aCreate({ key: 'k1' }), context);

    // Assess
    expect(seen).toEqual([13]);
  });

  it.each([
    ['empty', ''],
    ['longer than 255 characters', 'k'.repeat(256)],
    ['not visible ASCII', 'key with spaces'],
  ])('refuses a key that is %s, naming the header', async (_case, key) => {
    // Prepare
    const store = new InMemoryIdempotencyStore();
    const { route, runs } = aCountingRoute();

    // Act
    const error = await rejectionOf(idempotent(route, () => store)(aCreate({ key })));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details).toEqual([expect.objectContaining({ field: 'header Idempotency-Key' })]);
    expect(runs()).toBe(0);
  });

  it('answers 413 to a body over the limit before taking the key', async () => {
    // Prepare
    const store = new InMemoryIdempotencyStore();
    const { route } = aCountingRoute();

    // Act
    const error = await rejectionOf(idempotent(route, () => store)(aCreate({ key: 'k1', body: 'x'.repeat(bodyCapOf('POST /v1/notifications') + 1) })));

    // Assess
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(store.keys()).toEqual([]);
  });
});

describe('bodyFingerprint', () => {
  it('tells different bodies apart and ignores key order and spacing', () => {
    // Act
    const a = bodyFingerprint('{"a":1,"b":{"c":[1,2],"d":null}}');
    const reordered = bodyFingerprint('{ "b": { "d": null, "c": [1, 2] }, "a": 1 }');
    const other = bodyFingerprint('{"a":1,"b":{"c":[2,1],"d":null}}');
    const notJson = bodyFingerprint('{"a":1');

    // Assess
    expect(reordered).toBe(a);
    expect(other).not.toBe(a);
    expect(notJson).not.toBe(a);
    expect(bodyFingerprint(undefined)).not.toBe(bodyFingerprint('""'));
  });

  it.each([
    ['12345678901234567890', '12345678901234567891'],
    ['1e400', '2e400'],
    ['0', '-0'],
    ['0.1', '0.10000000000000000001'],
  ])('tells apart numbers a double cannot tell apart, as the stores keep them (%s, %s)', (one, other) => {
    // Act
    const first = bodyFingerprint(`{"data":{"x":${one}}}`);
    const second = bodyFingerprint(`{"data":{"x":${other}}}`);

    // Assess
    expect(second).not.toBe(first);
  });

  it('hashes the same number written two ways the same, and a raw number unlike an object naming it', () => {
    // Act / Assess
    expect(bodyFingerprint('{"x":1.50,"y":12345678901234567890}')).toBe(bodyFingerprint('{"y":12345678901234567890,"x":1.5}'));
    expect(bodyFingerprint('{"x":12345678901234567890}')).not.toBe(bodyFingerprint('{"x":{"rawJSON":"12345678901234567890"}}'));
  });
});

describe('the precheck of an idempotent route', () => {
  it('refuses a new key with what the route would refuse, before taking the key', async () => {
    // Prepare
    const store = new InMemoryIdempotencyStore();
    const { route, runs } = aCountingRoute();
    const handler = idempotent(route, () => store, {
      precheck: async () => {
        throw new NotFoundError('No such notification');
      },
    });

    // Act
    const error = await rejectionOf(handler(aCreate({ key: 'k1' })));

    // Assess: nothing was written, not even the key's in-progress record
    expect(error).toBeInstanceOf(NotFoundError);
    expect(store.keys()).toEqual([]);
    expect(runs()).toBe(0);
  });

  it('answers a repeat of a taken key as the first request was, without prechecking it again', async () => {
    // Prepare: the first request succeeded; since then, the precheck would refuse
    const store = new InMemoryIdempotencyStore();
    const { route } = aCountingRoute();
    let refuse = false;
    const handler = idempotent(route, () => store, {
      precheck: async () => {
        if (refuse) throw new NotFoundError('Recipient gone');
      },
    });
    await handler(aCreate({ key: 'k1' }));
    refuse = true;

    // Act
    const repeat = await handler(aCreate({ key: 'k1' }));

    // Assess
    expect(repeat.statusCode).toBe(201);
    expect(repeat.headers?.['idempotent-replayed']).toBe('true');
  });
});

describe('a keyed request\'s body', () => {
  it('is parsed once, though its key, its precheck and its route each read it', async () => {
    // Prepare: a create's body as the routes read it, and a route that reads its key as a create does
    const schema = z.object({ title: z.string(), recipients: z.array(z.string()) });
    const body = '{"title":"Hi","recipients":["bob"]}';
    const store = new InMemoryIdempotencyStore();
    const handler = idempotent(
      async (event) => {
        const read = parseBody(event, schema);
        return json(201, { read, key: idempotencyKeyOf(event)?.fingerprint });
      },
      () => store,
      { precheck: async (event) => void parseBody(event, schema) },
    );
    const parse = vi.spyOn(JSON, 'parse');

    // Act
    try {
      const response = await handler(aCreate({ key: 'k1', body }));

      // Assess: one parse of the body's text, and the fingerprint is still that of its value
      expect(response.statusCode).toBe(201);
      expect(parse.mock.calls.filter(([text]) => text === body)).toHaveLength(1);
      expect(JSON.parse(response.body ?? '')).toMatchObject({ read: { title: 'Hi' }, key: bodyFingerprint(body) });
    } finally {
      parse.mockRestore();
    }
  });
});

describe('idempotencyKeyOf', () => {
  it('gives a route the very key and fingerprint the store is given, so what it records under them has the same scope', async () => {
    // Prepare: a store that remembers what it was asked to run
    const seen: { key: string; fingerprint: string }[] = [];
    const store: IdempotencyStore = {
      has: async () => false,
      run: async (request, work) => {
        seen.push({ key: request.key, fingerprint: request.fingerprint });
        return { result: await work(), replayed: false };
      },
    };
    let routeSaw: ReturnType<typeof idempotencyKeyOf>;
    const handler = idempotent(async (event) => {
      routeSaw = idempotencyKeyOf(event);
      return json(201, {});
    }, () => store);

    // Act
    await handler(aCreate({ key: 'k1', path: '/v1/notifications/' }));

    // Assess
    expect(routeSaw).toEqual(seen[0]);
    expect(JSON.parse(routeSaw?.key ?? '[]')).toEqual(['acme', 'sam', 'POST /v1/notifications', '/v1/notifications', 'k1']);
    expect(idempotencyKeyOf(aCreate())).toBeUndefined();
  });

  it('reads a key the gateway joined with itself (the header sent twice) as that key, so a retry converges', async () => {
    // Prepare: API Gateway joins a repeated header's values with commas
    const once = idempotencyKeyOf(aCreate({ key: 'k1' }));

    // Act
    const twice = idempotencyKeyOf(aCreate({ key: 'k1,k1' }));
    const twiceSpaced = idempotencyKeyOf(aCreate({ key: 'k1, k1' }));

    // Assess
    expect(twice).toEqual(once);
    expect(twiceSpaced).toEqual(once);
  });

  it('keeps a key holding commas as it came', () => {
    // Act
    const scoped = idempotencyKeyOf(aCreate({ key: 'order-1,order-2' }));

    // Assess
    expect(JSON.parse(scoped?.key ?? '[]')).toEqual(['acme', 'sam', 'POST /v1/notifications', '/v1/notifications', 'order-1,order-2']);
  });
});
