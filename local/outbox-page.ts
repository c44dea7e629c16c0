/**
 * The outbox for people: `GET /_local/outbox.html?channel=&limit=&cursor=` renders the page that
 * `GET /_local/outbox` answers as JSON (newest first), one table, with a link to the older entries,
 * as the local SES's page shows the sent mail. Everything shown is escaped; the page loads nothing
 * and runs no script (its CSP says so).
 */
import type { LocalPage } from './newest-first-page.ts';
import type { OutboxChannel, OutboxEntry } from './outbox.ts';
import { outboxChannels } from './outbox.ts';

/** The content security policy of the page: its inline styles and nothing else. */
export const outboxPageCsp = "default-src 'none'; style-src 'unsafe-inline'";

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function row(entry: OutboxEntry): string {
  const body = typeof entry.body === 'string' ? entry.body : JSON.stringify(entry.body, null, 2);
  return (
    `<tr><td>${escapeHtml(new Date(entry.at).toISOString())}</td><td>${escapeHtml(entry.channel)}</td>` +
    `<td>${escapeHtml(entry.provider)}</td><td class="to">${escapeHtml(entry.to)}</td>` +
    `<td>${escapeHtml(entry.providerMessageId ?? '')}</td><td><pre>${escapeHtml(body)}</pre></td></tr>`
  );
}

/** The HTML page of one page of the outbox (already filtered to `channel`, when given), with a link to the next. */
export function outboxPage(page: LocalPage<OutboxEntry>, channel: OutboxChannel | undefined): string {
  const entries = page.items;
  const links = ['all', ...outboxChannels]
    .map((name) => {
      const current = (channel ?? 'all') === name;
      const href = name === 'all' ? '/_local/outbox.html' : `/_local/outbox.html?channel=${name}`;
      return current ? `<strong>${name}</strong>` : `<a href="${href}">${name}</a>`;
    })
    .join(' · ');
  const older = page.nextCursor
    ? `<p>${entries.length} of ${page.total} shown here. <a href="/_local/outbox.html?${escapeHtml(new URLSearchParams({ ...(channel ? { channel } : {}), cursor: page.nextCursor }).toString())}">Older</a></p>`
    : '';
  const rows = entries.length > 0 ? entries.map(row).join('\n') : '<tr><td colspan="6">Nothing received yet.</td></tr>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Herald local outbox</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:.35rem .5rem;vertical-align:top;text-align:left;font-size:.9rem}
th{background:#f3f3f3}pre{margin:0;white-space:pre-wrap;word-break:break-word;max-height:20rem;overflow:auto}.to{word-break:break-all}
</style></head><body>
<h1>Herald local outbox</h1>
<p>What the local push, SMS and Telegram providers received, and every webhook Herald posted, newest first (JSON: <a href="/_local/outbox${channel ? `?channel=${channel}` : ''}">/_local/outbox</a>). Reload to refresh.</p>
<p>${links}</p>
<table><thead><tr><th>At (UTC)</th><th>Channel</th><th>Provider</th><th>To</th><th>Provider's id</th><th>Received</th></tr></thead>
<tbody>
${rows}
</tbody></table>
${older}
</body></html>
`;
}
