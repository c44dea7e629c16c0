/**
 * The error of a template that cannot be rendered, apart from the renderer: the channels that
 * raise it need not load liquidjs, which the delivery engine loads on its first templated delivery.
 */

/** A field that could not be rendered (or parsed), and why, in words fit for an API answer. */
export class TemplateRenderError extends Error {
  /** The variable the scope lacked, when that was the reason. */
  readonly missingVariable?: string;

  constructor(message: string, options: { cause?: unknown; missingVariable?: string } = {}) {
    super(message, { cause: options.cause });
    this.name = 'TemplateRenderError';
    if (options.missingVariable !== undefined) this.missingVariable = options.missingVariable;
  }
}
