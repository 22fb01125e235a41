// Output shapes of the client commands, as Docker prints them: aligned tables, JSON, and the
// `{{.Field}}` templates scripts use.
import { UsageError } from './args';

/** Columns as wide as the widest cell plus three spaces, at least ten: Docker's tabwriter settings. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(10, 3 + Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** Docker's inspect output: a JSON array with 4-space indentation. */
export function inspectJson(values: unknown[]): string {
  return JSON.stringify(values, null, 4) + '\n';
}

/**
 * A Go-template subset: `{{.Name}}`, nested `{{.IPAM.Driver}}`, `{{json .Labels}}` and `{{json .}}`,
 * with `\t` and `\n` escapes. Anything else is refused rather than printed wrong.
 */
export function renderTemplate(template: string, value: unknown): string {
  const text = template.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  return text.replace(/\{\{\s*(json\s+)?\.([A-Za-z0-9_.]*)\s*\}\}/g, (_all, json: string | undefined, path: string) => {
    let current: unknown = value;
    for (const field of path === '' ? [] : path.split('.')) {
      if (current === null || typeof current !== 'object' || !(field in current)) throw new UsageError(`template: field "${field}" does not exist in ${JSON.stringify(template)}`);
      current = (current as Record<string, unknown>)[field];
    }
    return json ? JSON.stringify(current) : goText(current);
  }).replace(/\{\{[^}]*\}\}/g, (rest) => {
    throw new UsageError(`template: unsupported action ${rest}; netctl supports {{.Field}}, {{.A.B}} and {{json .Field}}`);
  });
}

/**
 * A value as Go's template prints it: lists as [a b], maps as map[k:v], structs (objects whose
 * keys are capitalised field names, e.g. an IPAM config) as {v1 v2}.
 */
function goText(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (Array.isArray(value)) return `[${value.map(goText).join(' ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value);
    const isStruct = entries.length > 0 && entries.every(([k]) => /^[A-Z]/.test(k));
    if (isStruct) return `{${entries.map(([, v]) => goText(v)).join(' ')}}`;
    return `map[${entries.sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}:${goText(v)}`).join(' ')}]`;
  }
  return String(value);
}
