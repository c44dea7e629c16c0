/** `GET /docs`: the OpenAPI document as one self-contained HTML page. */
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../../../functions/api/api-documents.ts';
import { renderDocsPage, renderSchema } from '../../../../shared/http/api-docs-page.ts';
import type { OpenApiDocument } from '../../../../shared/http/openapi.ts';

function page(document: OpenApiDocument = openApiDocument()): string {
  return renderDocsPage(document, { documentUrl: '/openapi.json' });
}

describe('the API docs page', () => {
  it('has a section for every operation of the document, with its method and path', () => {
    // Prepare
    const operations = Object.entries(openApiDocument().paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ path, method, operationId: operation.operationId })),
    );

    // Act
    const html = page();

    // Assess
    expect(operations.length).toBeGreaterThan(30);
    for (const { path, method, operationId } of operations) {
      expect(html).toContain(`<section class="operation" id="${operationId}"><h3><span class="method ${method}">${method.toUpperCase()}</span> <code>${path}</code>`);
    }
  });

  it('loads nothing: no script, no external address, links only within the page and to the document', () => {
    // Act
    const html = page();

    // Assess
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    expect(html).not.toMatch(/\b(src|srcset)=/i);
    const links = [...html.matchAll(/href="([^"]*)"/g)].map((match) => match[1]);
    expect(links.length).toBeGreaterThan(0);
    expect(links.filter((link) => !link?.startsWith('#') && link !== '/openapi.json')).toEqual([]);
  });

  it('escapes what the document says, so a description cannot become markup', () => {
    // Prepare
    const document = openApiDocument();
    const hostile: OpenApiDocument = { ...document, info: { ...document.info, title: '<script>alert(1)</script>', description: 'a <b>bold</b> `code`' } };

    // Act
    const html = page(hostile);

    // Assess
    expect(html).not.toContain('<script>');
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(html).toContain('a &#60;b&#62;bold&#60;/b&#62; <code>code</code>');
  });

  it("shows a body's fields with what is required, their limits and defaults, and that no other field is accepted", () => {
    // Act
    const html = renderSchema(openApiDocument().components.schemas.CreateNotificationsRequest ?? {});

    // Assess
    expect(html).toContain('<code>recipients</code> <span class="required">required</span>');
    expect(html).toContain('1 to 1000 items');
    expect(html).toContain('1 to 200 characters');
    expect(html).toContain('default <code>&#34;normal&#34;</code>');
    expect(html).toContain('Checked by the server: &#34;must not repeat a recipient&#34;.');
    expect(html).toContain('No other fields are accepted.');
  });

  it('shows the body of a request and of a success in place, and links the shared shapes', () => {
    // Act
    const html = page();
    const create = html.slice(html.indexOf('id="createNotifications"'), html.indexOf('id="listNotifications"'));

    // Assess
    expect(create).toContain('<code>scheduledAt</code>');
    expect(create).toContain('<code>notificationIds</code>');
    expect(create).toContain('<a href="#schema-Error">Error</a>');
    expect(html).toContain('id="schema-Notification"');
  });
});
