/**
 * `GET /docs`: the OpenAPI document rendered for people, as one self-contained HTML page.
 *
 * Rendered on the server from the document itself, so it says exactly what `/openapi.json`
 * says. No script and nothing fetched: its content security policy allows only its own inline
 * styles. (A standalone renderer such as Swagger UI or Redoc is a megabyte or more of JavaScript
 * to ship inside the api function, for a page that needs none.)
 */
import type { JsonObject, OpenApiDocument, OperationObject } from './openapi.ts';

/** The content security policy the page is served with: it needs nothing but its inline styles. */
export const docsPageContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const componentsPrefix = '#/components/schemas/';

/** Escapes text for HTML. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Escaped text, with the `code` spans of CommonMark kept as code. */
function inline(text: string): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

/** Paragraphs of {@link inline} text. */
function prose(text: string): string {
  return text
    .split(/\n{2,}/)
    .map((paragraph) => `<p>${inline(paragraph)}</p>`)
    .join('');
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function anchorOfSchema(name: string): string {
  return `schema-${name}`;
}

function refName(schema: JsonObject): string | undefined {
  return typeof schema.$ref === 'string' && schema.$ref.startsWith(componentsPrefix) ? schema.$ref.slice(componentsPrefix.length) : undefined;
}

/** A one-line summary of a schema's type: `string`, `array of Notification`, `"low" | "normal"`, ... */
function typeSummary(schema: JsonObject): string {
  const name = refName(schema);
  if (name) return `<a href="#${anchorOfSchema(name)}">${escapeHtml(name)}</a>`;
  if (Array.isArray(schema.enum)) return schema.enum.map((value) => `<code>${escapeHtml(JSON.stringify(value))}</code>`).join(' | ');
  if ('const' in schema) return `<code>${escapeHtml(JSON.stringify(schema.const))}</code>`;
  for (const combinator of ['anyOf', 'oneOf'] as const) {
    const options = schema[combinator];
    if (Array.isArray(options)) return options.filter(isObject).map(typeSummary).join(' or ');
  }
  if (isObject(schema.not) && Object.keys(schema.not).length === 0) return '<em>never</em>';
  const type = Array.isArray(schema.type) ? schema.type.join(' | ') : typeof schema.type === 'string' ? schema.type : undefined;
  if (type === 'array' && isObject(schema.items)) return `array of ${typeSummary(schema.items)}`;
  if (type === 'object' && isObject(schema.additionalProperties) && !isObject(schema.properties)) {
    const values = schema.additionalProperties;
    return Object.keys(values).length === 0 ? 'object (any JSON)' : `map of ${typeSummary(values)}`;
  }
  if (type !== undefined) return escapeHtml(typeof schema.format === 'string' ? `${type} (${schema.format})` : type);
  return 'any JSON';
}

/** The constraints JSON Schema states beside the type, in words. */
function constraints(schema: JsonObject): string[] {
  const said: string[] = [];
  const numberAt = (key: string): number | undefined => {
    const value = schema[key];
    return typeof value === 'number' && Math.abs(value) < Number.MAX_SAFE_INTEGER ? value : undefined;
  };
  const range = (min: number | undefined, max: number | undefined, unit: string): void => {
    if (min !== undefined && max !== undefined) said.push(`${min} to ${max}${unit}`);
    else if (min !== undefined) said.push(`at least ${min}${unit}`);
    else if (max !== undefined) said.push(`at most ${max}${unit}`);
  };
  range(numberAt('minLength'), numberAt('maxLength'), ' characters');
  range(numberAt('minimum'), numberAt('maximum'), '');
  range(numberAt('minItems'), numberAt('maxItems'), ' items');
  // A date-time's pattern says no more than its format, and at great length.
  if (typeof schema.pattern === 'string' && schema.format === undefined) said.push(`matches <code>${escapeHtml(schema.pattern)}</code>`);
  if (schema.uniqueItems === true) said.push('no repeats');
  if ('default' in schema) said.push(`default <code>${escapeHtml(JSON.stringify(schema.default))}</code>`);
  const items = isObject(schema.items) ? schema.items : undefined;
  if (items && !refName(items)) said.push(...constraints(items).map((text) => `each: ${text}`));
  return said;
}

/** The object schema a field's value holds (directly, in an array, or among `anyOf` options). */
function nestedObjects(schema: JsonObject): JsonObject[] {
  if (refName(schema)) return [];
  if (isObject(schema.properties)) return [schema];
  if (isObject(schema.items)) return nestedObjects(schema.items);
  for (const combinator of ['anyOf', 'oneOf'] as const) {
    const options = schema[combinator];
    if (Array.isArray(options)) return options.filter(isObject).flatMap(nestedObjects);
  }
  return [];
}

/** A schema as people read it: an object as a table of its fields (nested objects inside), anything else as one line. */
export function renderSchema(schema: JsonObject): string {
  const description = typeof schema.description === 'string' ? prose(schema.description) : '';
  if (!isObject(schema.properties)) {
    const said = constraints(schema);
    return `<p class="type">${typeSummary(schema)}${said.length > 0 ? ` — ${said.join(', ')}` : ''}</p>${description}`;
  }
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  const rows = Object.entries(schema.properties)
    .filter((entry): entry is [string, JsonObject] => isObject(entry[1]))
    .map(([name, field]) => {
      const said = constraints(field);
      const nested = nestedObjects(field).map(renderSchema).join('');
      return (
        `<tr><td><code>${escapeHtml(name)}</code>${required.has(name) ? ' <span class="required">required</span>' : ''}</td>` +
        `<td>${typeSummary(field)}${said.length > 0 ? `<div class="constraints">${said.join(' · ')}</div>` : ''}</td>` +
        `<td>${typeof field.description === 'string' ? prose(field.description) : ''}${nested}</td></tr>`
      );
    })
    .join('');
  const closed = schema.additionalProperties === false ? '<p class="note">No other fields are accepted.</p>' : '';
  return `${description}<table><thead><tr><th>field</th><th>type</th><th>notes</th></tr></thead><tbody>${rows}</tbody></table>${closed}`;
}

function renderParameters(parameters: readonly JsonObject[]): string {
  const rows = parameters
    .map((parameter) => {
      const schema = isObject(parameter.schema) ? parameter.schema : {};
      const said = constraints(schema);
      return (
        `<tr><td><code>${escapeHtml(String(parameter.name))}</code>${parameter.required === true ? ' <span class="required">required</span>' : ''}</td>` +
        `<td>${escapeHtml(String(parameter.in))}</td>` +
        `<td>${typeSummary(schema)}${said.length > 0 ? `<div class="constraints">${said.join(' · ')}</div>` : ''}</td>` +
        `<td>${typeof parameter.description === 'string' ? prose(parameter.description) : ''}</td></tr>`
      );
    })
    .join('');
  return `<h4>Parameters</h4><table><thead><tr><th>name</th><th>in</th><th>type</th><th>notes</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function contentSchemas(holder: JsonObject): { type: string; schema: JsonObject }[] {
  if (!isObject(holder.content)) return [];
  return Object.entries(holder.content).flatMap(([type, media]) => (isObject(media) && isObject(media.schema) ? [{ type, schema: media.schema }] : []));
}

/** A schema that refers to a component, with that component's content shown in place. */
function renderInPlace(schema: JsonObject, components: Readonly<Record<string, JsonObject>>): string {
  const name = refName(schema);
  const target = name === undefined ? undefined : components[name];
  if (name === undefined || target === undefined) return renderSchema(schema);
  return `<p class="note">${typeSummary(schema)}</p>${renderSchema(target)}`;
}

function renderOperation(method: string, path: string, operation: OperationObject, components: Readonly<Record<string, JsonObject>>): string {
  const isPublic = operation.security.length === 0;
  const parts = [
    `<section class="operation" id="${escapeHtml(operation.operationId)}">`,
    `<h3><span class="method ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h3>`,
    `<p class="summary">${inline(operation.summary)} <span class="auth">${isPublic ? 'public' : 'bearer token'}</span></p>`,
    operation.description ? prose(operation.description) : '',
    operation.parameters && operation.parameters.length > 0 ? renderParameters(operation.parameters) : '',
  ];
  if (operation.requestBody) {
    const required = operation.requestBody.required === true ? 'required' : 'optional';
    for (const { type, schema } of contentSchemas(operation.requestBody)) {
      parts.push(`<h4>Body <span class="note">(${escapeHtml(type)}, ${required})</span></h4>`, renderInPlace(schema, components));
    }
  }
  parts.push('<h4>Responses</h4><dl class="responses">');
  for (const [status, response] of Object.entries(operation.responses)) {
    // A success shows its body in full; errors share a few shapes, which a link names.
    const bodies = contentSchemas(response)
      .map(({ type, schema }) =>
        status.startsWith('2') && (refName(schema) !== undefined || isObject(schema.properties))
          ? `<details class="body"><summary>${escapeHtml(type)}: ${typeSummary(schema)}</summary>${renderInPlace(schema, components)}</details>`
          : `<div class="body">${escapeHtml(type)}: ${typeSummary(schema)}</div>`,
      )
      .join('');
    parts.push(`<dt class="status s${status.charAt(0)}">${escapeHtml(status)}</dt><dd>${prose(String(response.description))}${bodies}</dd>`);
  }
  parts.push('</dl></section>');
  return parts.join('');
}

const styles = `
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d2330;background:#fafbfc}
header,main{max-width:1100px;margin:0 auto;padding:0 24px}
header{padding-top:24px}
nav ul{columns:2;padding-left:18px}
code{font:13px ui-monospace,monospace;background:#eef1f5;padding:1px 4px;border-radius:3px;overflow-wrap:anywhere}
summary{cursor:pointer}
h2{border-bottom:2px solid #d5dbe3;padding-bottom:4px;margin-top:40px}
.operation{background:#fff;border:1px solid #d5dbe3;border-radius:6px;padding:4px 18px 12px;margin:18px 0}
.method{display:inline-block;min-width:64px;text-align:center;color:#fff;border-radius:4px;padding:0 6px;font-size:13px}
.get{background:#2b7bb9}.post{background:#2f9e44}.put{background:#b7791f}.patch{background:#8e44ad}.delete{background:#c92a2a}
.summary{font-weight:600}.auth{font-weight:400;font-size:12px;border:1px solid #9aa5b1;border-radius:10px;padding:0 8px;margin-left:6px}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{border:1px solid #e3e7ec;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f1f3f6;font-weight:600}td table{font-size:14px}
.required{color:#c92a2a;font-size:12px}.constraints,.note{color:#5c6773;font-size:13px}
dl.responses{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px}dt{font-weight:700}dd{margin:0}dd p{margin:0}
.s2{color:#2f9e44}.s4{color:#b7791f}.s5{color:#c92a2a}
`;

/** The whole page for a document. */
export function renderDocsPage(document: OpenApiDocument, options: { readonly documentUrl: string; readonly tryItUrl?: string }): string {
  const byTag = new Map<string, { method: string; path: string; operation: OperationObject }[]>(document.tags.map((tag) => [tag.name, []]));
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      for (const tag of operation.tags) {
        const list = byTag.get(tag) ?? [];
        list.push({ method, path, operation });
        byTag.set(tag, list);
      }
    }
  }
  const tagDescription = new Map(document.tags.map((tag) => [tag.name, tag.description]));
  const contents = [...byTag]
    .map(([tag, operations]) => {
      const links = operations
        .map(({ method, path, operation }) => `<li><a href="#${escapeHtml(operation.operationId)}">${method.toUpperCase()} ${escapeHtml(path)}</a></li>`)
        .join('');
      return `<h3>${escapeHtml(tag)}</h3><ul>${links}</ul>`;
    })
    .join('');
  const sections = [...byTag]
    .map(
      ([tag, operations]) =>
        `<h2 id="tag-${escapeHtml(tag)}">${escapeHtml(tag)}</h2>${prose(tagDescription.get(tag) ?? '')}` +
        operations.map(({ method, path, operation }) => renderOperation(method, path, operation, document.components.schemas)).join(''),
    )
    .join('');
  const schemes = Object.entries(document.components.securitySchemes)
    .map(([name, scheme]) => `<p><code>${escapeHtml(name)}</code>: ${prose(String(scheme.description ?? ''))}</p>`)
    .join('');
  const schemas = Object.entries(document.components.schemas)
    .map(([name, schema]) => `<section class="operation" id="${anchorOfSchema(escapeHtml(name))}"><h3>${escapeHtml(name)}</h3>${renderSchema(schema)}</section>`)
    .join('');
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${escapeHtml(document.info.title)} API ${escapeHtml(document.info.version)}</title><style>${styles}</style></head><body>` +
    `<header><h1>${escapeHtml(document.info.title)} API <small>${escapeHtml(document.info.version)}</small></h1>${prose(document.info.description)}` +
    `<p>The machine-readable document: <a href="${escapeHtml(options.documentUrl)}">OpenAPI 3.1 (JSON)</a>.` +
    (options.tryItUrl ? ` Send requests from your browser, with an example for every route: <a href="${escapeHtml(options.tryItUrl)}">try it</a>.` : '') +
    '</p></header>' +
    `<main><h2>Authentication</h2>${schemes}<h2>Contents</h2><nav>${contents}</nav>${sections}<h2 id="schemas">Schemas</h2>${schemas}</main></body></html>`
  );
}
