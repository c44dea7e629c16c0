// Herald's console: Preact + htm from one vendored ES module, no build step. It reads
// `config.json` (where the API is and which token claims it reads; the local stack serves it, the
// CDK deploys it beside these files), signs in with a bearer token of the API's
// issuer, and shows the token's tenant and roles as the API reads them (claims.js).
import { html, render, useCallback, useEffect, useRef, useState } from './vendor/htm-preact-standalone.js';
import { callerOf } from './claims.js';
import { latenessSeries, percentile, latenessMs } from './lateness.js';
import { reconnectDelayMs } from './reconnect.js';
import { unattemptedChannelStatus } from './outcomes.js';
import { applyUnread } from './unread.js';

const tokenKey = 'herald.console.token';

/** A call that failed: status 0 when the API could not be reached, else its non-2xx status (or a 2xx that is not JSON), with Herald's (or the gateway's) message. */
class ApiError extends Error {
  constructor(status, message) {
    super(status === 0 ? message : `${status}: ${message}`);
    this.status = status;
  }
}

/** Whether a token's `exp` (seconds) has passed; a token without one does not expire. */
const isExpired = (claims) => typeof claims?.exp === 'number' && claims.exp * 1000 <= Date.now();

/** The claims of a JWT, unverified: what the page shows (the API verifies the token itself). */
function claimsOf(token) {
  try {
    const payload = token.split('.')[1] ?? '';
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(payload.length / 4) * 4, '='));
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}

/**
 * Calls the API with the token. Every failure is an `ApiError` whose message says what happened in
 * words: an API that cannot be reached (status 0), an answer that is not JSON (a proxy's or
 * gateway's page), or Herald's own `error.message`. A 401 also calls `onUnauthorized` with it.
 */
function client(config, token, onUnauthorized) {
  return async function call(method, path, body) {
    let response;
    try {
      response = await fetch(`${config.apiUrl}${path}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (cause) {
      throw new ApiError(0, `The API cannot be reached (${cause.message}).`);
    }
    const text = await response.text().catch(() => '');
    let json;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = undefined;
    }
    const fallback = [response.statusText, json === undefined ? 'an answer that is not JSON' : ''].filter(Boolean).join(', ');
    const message = json?.error?.message ?? json?.message ?? (fallback || 'no message');
    if (response.status === 401) onUnauthorized(`The API refused the token (401: ${message}). Sign in again.`);
    if (!response.ok || json === undefined) throw new ApiError(response.status, message);
    return json;
  };
}

/**
 * Calls `load` now and every `ms` while mounted; answers its last result, or its last error beside
 * the result before it. An answer of a load that a newer one has overtaken (its `deps`, such as a
 * filter, changed meanwhile) is dropped, so the page never shows a list under the wrong filter.
 */
function usePolled(load, ms, deps) {
  const [state, setState] = useState({ loading: true });
  const latest = useRef(0);
  const refresh = useCallback(() => {
    latest.current += 1;
    const mine = latest.current;
    load().then(
      (value) => mine === latest.current && setState({ value }),
      (error) => mine === latest.current && setState((previous) => ({ value: previous.value, error: ms ? `${sentence(error.message)} Read again every ${ms / 1000} s.` : error.message })),
    );
  }, deps);
  useEffect(() => {
    refresh();
    if (!ms) return undefined;
    const timer = setInterval(refresh, ms);
    return () => clearInterval(timer);
  }, [refresh, ms]);
  return [state, refresh];
}

const sentence = (text) => (/[.!?]$/.test(text) ? text : `${text}.`);
const time = (iso) => (iso ? new Date(iso).toISOString().replace('T', ' ').slice(0, 19) : '—');
const ms = (value) => (value === undefined ? '—' : Math.abs(value) >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`);
const ErrorLine = ({ error }) => (error ? html`<p class="error" role="alert">${error}</p>` : null);

// ---------------------------------------------------------------------------------------------
// Sign-in
// ---------------------------------------------------------------------------------------------

function SignIn({ config, onToken, notice }) {
  const [error, setError] = useState('');
  const [pasted, setPasted] = useState('');
  const devSignIn = async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const roles = ['admin', 'sender', 'operator'].filter((role) => form.get(role) === 'on');
    try {
      const answer = await client(config, undefined, () => undefined)('POST', '/_local/token', { sub: form.get('sub'), tenant: form.get('tenant'), roles });
      onToken(answer.token);
    } catch (e) {
      setError(e.message);
    }
  };
  const usePasted = (event) => {
    event.preventDefault();
    const token = pasted.trim().replace(/^Bearer\s+/i, '');
    const claims = claimsOf(token);
    if (!claims) setError('That is not a JWT (three base64url parts separated by dots).');
    else if (isExpired(claims)) setError(`That token expired at ${time(new Date(claims.exp * 1000).toISOString())} (UTC).`);
    else onToken(token);
  };
  return html`<main class="sign-in">
    <h1>Herald console</h1>
    <${ErrorLine} error=${error || notice} />
    ${config.local &&
    html`<form onSubmit=${devSignIn} aria-label="Local sign-in">
      <h2>Local sign-in</h2>
      <p>Mints a one-hour token with the local issuer, as <code>npm run token</code> does.</p>
      <label>Subject <input name="sub" value="console" required /></label>
      <label>Tenant <input name="tenant" value="default" required /></label>
      <fieldset>
        <legend>Roles</legend>
        <label><input type="checkbox" name="admin" checked /> admin</label>
        <label><input type="checkbox" name="sender" /> sender</label>
        <label><input type="checkbox" name="operator" checked /> operator</label>
      </fieldset>
      <button type="submit">Sign in</button>
    </form>`}
    <form onSubmit=${usePasted} aria-label="Sign in with a token">
      <h2>Sign in with a token</h2>
      <p>A bearer token from <code>${config.issuer}</code>; it stays in this tab only.</p>
      <textarea name="token" rows="4" placeholder="eyJhbGciOi…" value=${pasted} onInput=${(e) => setPasted(e.target.value)}></textarea>
      <button type="submit">Use token</button>
    </form>
  </main>`;
}

// ---------------------------------------------------------------------------------------------
// Panels
// ---------------------------------------------------------------------------------------------

/**
 * Pages of a list the API answers as `{ items, nextCursor }`, newest first: the cursors of the
 * pages passed, so Newer goes back one and a page's polls keep reading that page.
 */
function usePages() {
  const [cursors, setCursors] = useState([undefined]);
  return {
    cursor: cursors[cursors.length - 1],
    page: cursors.length,
    older: (nextCursor) => setCursors([...cursors, nextCursor]),
    newer: () => setCursors(cursors.slice(0, -1)),
    first: () => setCursors([undefined]),
  };
}

const withCursor = (path, cursor) => (cursor ? `${path}${path.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(cursor)}` : path);

function Pager({ pages, nextCursor, label }) {
  if (pages.page === 1 && !nextCursor) return null;
  return html`<div class="pager" role="group" aria-label=${`Pages of ${label}`}>
    <button type="button" onClick=${pages.newer} disabled=${pages.page === 1}>Newer</button>
    <span>page ${pages.page}</span>
    <button type="button" onClick=${() => pages.older(nextCursor)} disabled=${!nextCursor}>Older</button>
  </div>`;
}

function ChannelOutcomes({ notification }) {
  return html`<ul class="outcomes">
    ${notification.channels.map((channel) => {
      const outcome = notification.deliveries?.[channel];
      const status = outcome?.status ?? unattemptedChannelStatus(notification);
      // A failure's reason is written out, not only in a tooltip: a keyboard or screen-reader user never hovers.
      // Admins, senders and operators read the provider's text; anyone else the API gives its category only.
      const reason = outcome?.error ?? outcome?.errorCategory;
      return html`<li class=${`outcome ${status.replaceAll(' ', '-')}`} title=${reason ?? outcome?.detail ?? ''}>${channel}: ${status}${reason ? html`<span class="reason">: ${reason}</span>` : ''}</li>`;
    })}
  </ul>`;
}

function Notifications({ call }) {
  const [filters, setFilters] = useState({});
  const pages = usePages();
  const query = new URLSearchParams({ limit: '50', ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v)) });
  const path = withCursor(`/v1/notifications?${query}`, pages.cursor);
  const [state, refresh] = usePolled(() => call('GET', path), 3000, [call, path]);
  const apply = (event) => {
    event.preventDefault();
    setFilters(Object.fromEntries(new FormData(event.target).entries()));
    pages.first();
  };
  const items = state.value?.items ?? [];
  return html`<section aria-label="Notifications">
    <form class="filters" onSubmit=${apply}>
      <label>Status <select name="status">
        <option value="">any</option>
        ${['pending', 'sending', 'sent', 'failed', 'cancelled'].map((s) => html`<option value=${s}>${s}</option>`)}
      </select></label>
      <label>Recipient <input name="recipientId" placeholder="recipient id" /></label>
      <label>Type <input name="type" placeholder="type" /></label>
      <button type="submit">Filter</button>
      <button type="button" onClick=${refresh}>Refresh</button>
    </form>
    <${ErrorLine} error=${state.error} />
    <table>
      <thead><tr><th>Id</th><th>Recipient</th><th>Title</th><th>Status</th><th>Scheduled (UTC)</th><th>Per channel</th><th>Lateness</th></tr></thead>
      <tbody>
        ${items.map(
          (n) => html`<tr data-notification=${n.id}>
            <td><code>${n.id}</code></td><td>${n.recipientId}</td><td>${n.title}</td>
            <td class=${`status ${n.status}`}>${n.status}</td><td>${time(n.scheduledAt)}</td>
            <td><${ChannelOutcomes} notification=${n} /></td><td>${ms(latenessMs(n))}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${!state.loading && items.length === 0 && html`<p class="empty">No notifications match.</p>`}
    <${Pager} pages=${pages} nextCursor=${state.value?.nextCursor} label="notifications" />
  </section>`;
}

/**
 * The WebSocket API, open while signed in: the `broadcastProgress` frames it carries (sent to a
 * broadcast's creator after each delivered batch), by broadcast id, with how many came and when;
 * and the signed-in user's unread count (`unread`, with its `unreadVersion`), read at each opening
 * and then from the `notification` and `inboxChanged` frames, newest version kept (unread.js): the
 * frames of different invocations, and the read, may arrive out of order.
 */
function useLiveProgress(config, token, call) {
  const [live, setLive] = useState({ open: false, broadcasts: {}, unread: undefined });
  useEffect(() => {
    if (!config.wsUrl) return undefined;
    let socket;
    let retry;
    let keepAlive;
    let closed = false;
    let failures = 0;
    const connect = () => {
      socket = new WebSocket(`${config.wsUrl}?token=${encodeURIComponent(token)}`);
      socket.onopen = () => {
        failures = 0;
        setLive((l) => ({ ...l, open: true, retry: undefined }));
        const open = socket;
        // Frames carry changes only: the count to start from is read once the socket hears them.
        // An answer that comes after this socket closed is dropped: the next socket reads afresh,
        // and an erasure in between started the versions again at 0.
        call('GET', '/v1/me/inbox/unread-count')
          .then((answer) => {
            if (socket === open && open.readyState === WebSocket.OPEN) setLive((l) => ({ ...l, unread: applyUnread(l.unread, answer).count }));
          })
          .catch(() => undefined);
        // API Gateway closes a connection without a frame for 10 minutes: ping well within that.
        keepAlive = setInterval(() => open.send('{"action":"ping"}'), 5 * 60 * 1000);
      };
      socket.onmessage = (event) => {
        const frame = JSON.parse(event.data);
        if (frame.type === 'notification' || frame.type === 'inboxChanged') {
          setLive((l) => ({ ...l, unread: applyUnread(l.unread, frame).count }));
          return;
        }
        if (frame.type !== 'broadcastProgress') return;
        setLive((l) => {
          const previous = l.broadcasts[frame.broadcast.id];
          const entry = { ...frame.broadcast, frames: (previous?.frames ?? 0) + 1, at: Date.now() };
          return { ...l, broadcasts: { ...l.broadcasts, [frame.broadcast.id]: entry } };
        });
      };
      socket.onclose = () => {
        clearInterval(keepAlive);
        // Read again at the next opening: an erasure in between starts the versions again at 0.
        if (closed) {
          setLive((l) => ({ ...l, open: false, unread: undefined }));
          return;
        }
        // Refused or closed: a growing wait (reconnect.js), never a loop that keeps the user at their limit.
        failures += 1;
        const waitMs = reconnectDelayMs(failures, Math.random());
        setLive((l) => ({ ...l, open: false, unread: undefined, retry: { failures, at: Date.now() + waitMs } }));
        retry = setTimeout(connect, waitMs);
      };
    };
    connect();
    return () => {
      closed = true;
      clearTimeout(retry);
      clearInterval(keepAlive);
      socket?.close();
    };
  }, [config, token, call]);
  return live;
}

/** What the socket badge says when hovered: why it may be offline and when it tries again. */
function socketTitle(live) {
  if (live.open || !live.retry) return 'The WebSocket API';
  const seconds = Math.max(1, Math.ceil((live.retry.at - Date.now()) / 1000));
  return `The WebSocket API: failed or refused ${live.retry.failures} time(s) in a row (a browser is not told why: too many connections open for this user, 100 at most, an expired token, or the network); trying again in about ${seconds} s`;
}

/** Every counter of a broadcast's `progress`, so its parts add up to the total as the API's do. */
function progressText(p) {
  const parts = [`${p.sent} sent`, `${p.failed} failed`, ...(p.cancelled ? [`${p.cancelled} cancelled`] : []), `${p.pending} pending${p.held ? ` (${p.held} held by quiet hours)` : ''}`];
  return `${p.percent}% · ${parts.join(' · ')} of ${p.total}`;
}

function Broadcasts({ call, live }) {
  // Frames carry the progress as it happens; the list is still read, less often while they flow.
  const [polled, setPolled] = useState(0);
  const pages = usePages();
  const path = withCursor('/v1/broadcasts?limit=20', pages.cursor);
  const [state, refresh] = usePolled(() => call('GET', path).then((v) => (setPolled(Date.now()), v)), live.open ? 10_000 : 2000, [call, path]);
  // A frame of a broadcast not listed yet (created since the last read): read the list again.
  const listed = new Set((state.value?.items ?? []).map((b) => b.id));
  const unlisted = Object.keys(live.broadcasts).filter((id) => !listed.has(id)).join(',');
  useEffect(() => {
    if (unlisted && state.value && pages.page === 1) refresh();
  }, [unlisted]);
  const items = (state.value?.items ?? []).map((b) => {
    const frame = live.broadcasts[b.id];
    return frame && frame.at > polled ? { ...b, status: frame.status, progress: frame.progress, frames: frame.frames } : { ...b, frames: frame?.frames ?? 0 };
  });
  return html`<section aria-label="Broadcasts">
    <p class="note">${live.open
      ? html`<span class="live">live</span> Progress arrives over the WebSocket after each delivered batch of the broadcasts you created; the list is re-read every 10 s.`
      : 'The WebSocket is not connected: progress is read from GET /v1/broadcasts every 2 s.'}</p>
    <${ErrorLine} error=${state.error} />
    ${items.length === 0 && html`<p class="empty">No broadcasts yet.</p>`}
    ${items.map(
      (b) => html`<article class="broadcast" data-broadcast=${b.id} data-live-frames=${b.frames}>
        <header><strong>${b.title}</strong> <span class=${`status ${b.status}`}>${b.status}</span> <code>${b.id}</code></header>
        <progress max="100" value=${b.progress.percent} aria-label=${`Progress of ${b.title}`}>${b.progress.percent}%</progress>
        <span class="progress-text">${progressText(b.progress)}</span>
      </article>`,
    )}
    <${Pager} pages=${pages} nextCursor=${state.value?.nextCursor} label="broadcasts" />
  </section>`;
}

function DeadLetters({ call }) {
  const [state, refresh] = usePolled(() => call('GET', '/v1/admin/dead-letters'), 5000, [call]);
  const [note, setNote] = useState('');
  const redrive = async (name) => {
    setNote(`Redriving ${name}…`);
    try {
      const result = await call('POST', `/v1/admin/dead-letters/${encodeURIComponent(name)}/redrive`);
      setNote(`${result.name}: moved ${result.moved} to ${result.redriveTo}, ${result.remaining} left.`);
    } catch (e) {
      setNote(e.message);
    }
    refresh();
  };
  return html`<section aria-label="Dead letters">
    <p class="note">The deployment's dead-letter queues, shared by every tenant (operators only). A redrive moves messages back; each still obeys every delivery rule.</p>
    <${ErrorLine} error=${state.error} />
    ${note && html`<p class="note" role="status">${note}</p>`}
    <table>
      <thead><tr><th>Queue</th><th>Waiting</th><th>In flight</th><th>Redrives to</th><th></th></tr></thead>
      <tbody>
        ${(state.value?.queues ?? []).map(
          (q) => html`<tr data-queue=${q.name}>
            <td>${q.name}</td><td class="count">${q.messages}</td><td>${q.inFlight}</td><td>${q.redriveTo ?? '— (not redriven)'}</td>
            <td>${q.redriveTo && html`<button onClick=${() => redrive(q.name)} disabled=${q.messages === 0} aria-label=${`Redrive ${q.name}`}>Redrive</button>`}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

async function sentNotifications(call, pages) {
  const items = [];
  let cursor;
  for (let page = 0; page < pages; page += 1) {
    const answer = await call('GET', `/v1/notifications?status=sent&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...answer.items);
    cursor = answer.nextCursor;
    if (!cursor) break;
  }
  return items;
}

function LatenessChart({ series }) {
  const width = 640;
  const height = 220;
  const pad = 40;
  const top = Math.max(1, ...series.map((s) => s.p99));
  const x = (i) => pad + (series.length === 1 ? (width - 2 * pad) / 2 : (i * (width - 2 * pad)) / (series.length - 1));
  const y = (v) => height - pad - (Math.max(0, v) / top) * (height - 2 * pad);
  const line = (key) => series.map((s, i) => `${x(i).toFixed(1)},${y(s[key]).toFixed(1)}`).join(' ');
  return html`<svg viewBox=${`0 0 ${width} ${height}`} role="img" aria-label="Delivery lateness, p50 and p99 over time">
    <line x1=${pad} y1=${height - pad} x2=${width - pad} y2=${height - pad} class="axis" />
    <line x1=${pad} y1=${pad} x2=${pad} y2=${height - pad} class="axis" />
    <text x=${pad - 4} y=${pad} text-anchor="end" class="tick">${ms(top)}</text>
    <text x=${pad - 4} y=${height - pad} text-anchor="end" class="tick">0</text>
    <text x=${pad} y=${height - pad + 16} class="tick">${time(new Date(series[0].from).toISOString())}</text>
    <text x=${width - pad} y=${height - pad + 16} text-anchor="end" class="tick">${time(new Date(series[series.length - 1].to).toISOString())}</text>
    <polyline points=${line('p99')} class="p99" />
    <polyline points=${line('p50')} class="p50" />
    ${series.map((s, i) => html`<circle cx=${x(i)} cy=${y(s.p99)} r="3" class="p99"><title>${`${s.count} notifications: p50 ${ms(s.p50)}, p99 ${ms(s.p99)}`}</title></circle>`)}
  </svg>`;
}

function Lateness({ call }) {
  const [state, refresh] = usePolled(() => sentNotifications(call, 5), 0, [call]);
  const items = state.value ?? [];
  const series = latenessSeries(items);
  const all = items.map(latenessMs).filter((v) => v !== undefined);
  return html`<section aria-label="Lateness">
    <p class="note">How long after its scheduled time each notification first reached its recipient, over the last ${items.length} sent notifications (up to 500),
      in ${series.length} slices of time. Computed here from <code>GET /v1/notifications</code>: <code>GET /v1/metrics</code> keeps counts, not lateness.</p>
    <button onClick=${refresh}>Refresh</button>
    <${ErrorLine} error=${state.error} />
    <p class="summary">p50 <strong data-stat="p50">${ms(percentile(all, 50))}</strong> · p99 <strong data-stat="p99">${ms(percentile(all, 99))}</strong> · ${all.length} delivered</p>
    ${series.length > 0 ? html`<${LatenessChart} series=${series} /><p class="legend"><span class="p50">p50</span> <span class="p99">p99</span></p>` : html`<p class="empty">Nothing delivered yet.</p>`}
  </section>`;
}

/**
 * The local stores keep thousands (the outbox 10,000 a channel, the sent mail every e-mail of a
 * broadcast) and are read every 3 s: the panels ask for the newest ones only, one page of the
 * store's answer (`limit`, with the store's `total`), and draw that page.
 */
const localRowsShown = 200;

function Newest({ shown, total, href, where }) {
  if (total === undefined || total <= shown) return null;
  return html`<p class="note" data-newest>The newest ${shown} of ${total}; every one is on <a href=${href} target="_blank" rel="noreferrer">${where}</a>.</p>`;
}

function SentMail({ call, config }) {
  const [state] = usePolled(() => call('GET', `/_local/mail?limit=${localRowsShown}`), 3000, [call]);
  const emails = state.value?.emails ?? [];
  return html`<section aria-label="Sent mail">
    <p class="note">What the local SES accepted. Full messages: <a href=${config.mailViewerUrl} target="_blank" rel="noreferrer">its own viewer</a>.</p>
    <${ErrorLine} error=${state.error} />
    <${Newest} shown=${emails.length} total=${state.value?.total} href=${config.mailViewerUrl} where="the local SES's viewer" />
    <table>
      <thead><tr><th>At (UTC)</th><th>To</th><th>Subject</th><th>Text</th></tr></thead>
      <tbody>
        ${emails.map(
          (m) => html`<tr><td>${time(new Date(m.at).toISOString())}</td><td>${m.to.join(', ')}</td><td>${m.subject}</td><td class="clip">${m.text ?? ''}</td></tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

function Outbox({ call, config }) {
  const [channel, setChannel] = useState('');
  const query = channel ? `?channel=${channel}` : '';
  const [state] = usePolled(() => call('GET', `/_local/outbox?${new URLSearchParams({ ...(channel ? { channel } : {}), limit: String(localRowsShown) })}`), 3000, [call, channel]);
  const entries = state.value?.entries ?? [];
  return html`<section aria-label="Outbox">
    <p class="note">What the local push, SMS, Telegram and webhook providers received.</p>
    <label>Channel <select value=${channel} onChange=${(e) => setChannel(e.target.value)}>
      <option value="">all</option>
      ${['push', 'sms', 'telegram', 'webhook'].map((c) => html`<option value=${c}>${c}</option>`)}
    </select></label>
    <${ErrorLine} error=${state.error} />
    <${Newest} shown=${entries.length} total=${state.value?.total} href=${`${config.apiUrl}/_local/outbox.html${query}`} where="the outbox page" />
    <table>
      <thead><tr><th>At (UTC)</th><th>Channel</th><th>Provider</th><th>To</th><th>Body</th></tr></thead>
      <tbody>
        ${entries.map(
          (e) => html`<tr><td>${time(new Date(e.at).toISOString())}</td><td>${e.channel}</td><td>${e.provider}</td><td>${e.to}</td><td class="clip"><code>${JSON.stringify(e.body)}</code></td></tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

// ---------------------------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------------------------

function Console({ config, token, onSignOut, onRefused }) {
  const claims = claimsOf(token) ?? {};
  const { sub, tenant, roles } = callerOf(claims, config.claims);
  const call = useCallback(client(config, token, onRefused), [config, token]);
  const live = useLiveProgress(config, token, call);
  const tabs = [
    ['notifications', 'Notifications', Notifications],
    ['broadcasts', 'Broadcasts', Broadcasts],
    ...(roles.includes('operator') ? [['dead-letters', 'Dead letters', DeadLetters]] : []),
    ['lateness', 'Lateness', Lateness],
    ...(config.local ? [['mail', 'Sent mail', SentMail], ['outbox', 'Outbox', Outbox]] : []),
  ];
  const [tab, setTab] = useState(location.hash.slice(1) || 'notifications');
  // The tab follows the address, so Back and Forward (and a pasted #link) move between tabs.
  useEffect(() => {
    const follow = () => setTab(location.hash.slice(1) || 'notifications');
    window.addEventListener('hashchange', follow);
    return () => window.removeEventListener('hashchange', follow);
  }, []);
  const current = tabs.find(([id]) => id === tab) ?? tabs[0];
  const Panel = current[2];
  return html`<div class="console">
    <header class="top">
      <h1>Herald</h1>
      <span class="who">tenant <strong data-claim="tenant">${tenant ?? 'none (the API refuses this token)'}</strong> · ${sub} · <span data-claim="roles">${roles.join(', ') || 'no role'}</span>
        ${claims.exp ? ` · until ${time(new Date(claims.exp * 1000).toISOString())}` : ''}</span>
      <span class=${live.open ? 'socket open' : 'socket'} title=${socketTitle(live)}>${live.open ? 'live' : 'offline'}</span>
      ${live.unread ? html`<span class="unread" data-unread=${live.unread.unread} data-unread-version=${live.unread.unreadVersion} title="Your inbox's unread count, as the WebSocket API last told it">${live.unread.unread} unread</span>` : ''}
      <button onClick=${onSignOut}>Sign out</button>
    </header>
    <nav>
      ${tabs.map(
        ([id, label]) => html`<a href=${`#${id}`} aria-current=${id === current[0] ? 'page' : undefined} onClick=${() => setTab(id)}>${label}</a>`,
      )}
    </nav>
    <main><h2>${current[1]}</h2><${Panel} call=${call} config=${config} live=${live} /></main>
  </div>`;
}

/**
 * The signed-in page, or the sign-in form saying why it is back: the token expired (checked every
 * second, so a page left open is signed out when it does, not at its next call) or the API
 * answered 401.
 */
function App({ config }) {
  const [token, setToken] = useState(sessionStorage.getItem(tokenKey) ?? '');
  const [notice, setNotice] = useState('');
  const keep = (value, why = '') => {
    if (value) sessionStorage.setItem(tokenKey, value);
    else sessionStorage.removeItem(tokenKey);
    setNotice(why);
    setToken(value);
  };
  const claims = claimsOf(token);
  const expiredNotice = () => `The token expired at ${time(new Date(claims.exp * 1000).toISOString())} (UTC). Sign in again.`;
  useEffect(() => {
    if (!token || typeof claims?.exp !== 'number') return undefined;
    const timer = setInterval(() => isExpired(claims) && keep('', expiredNotice()), 1000);
    return () => clearInterval(timer);
  }, [token]);
  if (token && isExpired(claims)) return html`<${SignIn} config=${config} onToken=${keep} notice=${expiredNotice()} />`;
  if (!token) return html`<${SignIn} config=${config} onToken=${keep} notice=${notice} />`;
  return html`<${Console} config=${config} token=${token} onSignOut=${() => keep('')} onRefused=${(why) => keep('', why)} />`;
}

/** `config.json`, or why it could not be read (the page cannot call the API without it). */
async function readConfig() {
  try {
    const response = await fetch('config.json', { cache: 'no-store' });
    if (!response.ok) return { problem: `its server answered ${response.status} ${response.statusText}`.trim() };
    return { config: await response.json() };
  } catch (cause) {
    return { problem: cause.message };
  }
}

const { config, problem } = await readConfig();
const root = document.getElementById('app');
root.textContent = '';
render(
  config
    ? html`<${App} config=${config} />`
    : html`<main class="sign-in"><h1>Herald console</h1><p class="error" role="alert">The console could not read its config.json (${problem}). Reload the page to try again.</p></main>`,
  root,
);
