/**
 * An answer's JSON already serialized, which the endpoint sends as it is: GetRecords joins the
 * records' stored text (`streams.ts`) instead of parsing and serializing them again.
 */
import type { Json } from './dynalite.ts';

/** JSON text to send as an answer's body unchanged. */
export class SerializedJson {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/** The body of an answer: `json` serialized, unless it already is. */
export function bodyOf(json: Json | SerializedJson): string {
  return json instanceof SerializedJson ? json.text : JSON.stringify(json);
}
