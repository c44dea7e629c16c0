/**
 * How `data` (opaque JSON, shared/domain/opaque-json.ts) lives in a DynamoDB item: as JSON text in
 * the string attribute `dataJson`, so DynamoDB's rules for numbers (38 digits, 1e-130..1e126),
 * member names and nesting never apply to it, and it reads back exactly as it was sent. Items
 * written before kept `data` as a map; they are still read.
 */
import { fromJsonText, toJsonText } from '../domain/opaque-json.ts';
import type { TemplateRef } from '../domain/template.ts';

/** The attribute that holds `data` as JSON text. */
export const dataAttribute = 'dataJson';

/** The attributes that store `data` (none when there is none). */
export function dataToAttributes(data: Readonly<Record<string, unknown>> | undefined): { dataJson?: string } {
  return data === undefined ? {} : { [dataAttribute]: toJsonText(data) };
}

/**
 * Splits an item into its `data` (from `dataJson`, or an older item's `data` map) and the rest of
 * its attributes.
 */
export function dataFromAttributes<T extends Record<string, unknown>>(item: T): { data?: Readonly<Record<string, unknown>>; rest: Omit<T, 'dataJson' | 'data'> } {
  const { dataJson, data: legacy, ...rest } = item;
  if (typeof dataJson === 'string') return { data: fromJsonText(dataJson) as Record<string, unknown>, rest };
  if (typeof legacy === 'object' && legacy !== null) return { data: legacy as Record<string, unknown>, rest };
  return { rest };
}

/** The attribute that holds a notification's or broadcast's template reference (its payload is opaque JSON too). */
export const templateAttribute = 'templateJson';

/** The attributes that store a template reference (none when there is none). */
export function templateToAttributes(template: TemplateRef | undefined): { templateJson?: string } {
  return template === undefined ? {} : { [templateAttribute]: toJsonText(template) };
}

/** The template reference an item holds, if any. */
export function templateFromAttributes(item: Readonly<Record<string, unknown>>): TemplateRef | undefined {
  const text = item[templateAttribute];
  return typeof text === 'string' ? (fromJsonText(text) as TemplateRef) : undefined;
}
