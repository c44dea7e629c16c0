/**
 * How much a listing may answer. A synchronous Lambda's response carries at most 6 MB ("Lambda
 * quotas"), and API Gateway's proxy integration takes the body as a JSON string inside that
 * response, where every `"` and `\` doubles. At their limits a hundred notifications (a message of
 * 10,000 control characters is 60 KB of `\u0000` escapes) would not fit: a page therefore stops
 * at {@link maxListingPayloadBytes}, measured as the body travels, and hands out a cursor for the rest.
 */

/** The most a listing's items may take, as they travel in the Lambda response (bytes). */
export const maxListingPayloadBytes = 5 * 1024 * 1024;

/**
 * How many of `views`, in order, fit `budgetBytes` once each is JSON inside a JSON string: at
 * least one, so that a listing always moves on.
 */
export function countFitting(views: readonly unknown[], budgetBytes: number = maxListingPayloadBytes): number {
  let total = 0;
  for (let index = 0; index < views.length; index++) {
    total += Buffer.byteLength(JSON.stringify(JSON.stringify(views[index])), 'utf8');
    if (total > budgetBytes && index > 0) return index;
  }
  return views.length;
}
