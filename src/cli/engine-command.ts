// `netctl info|images|import|events`: Docker's commands for the daemon itself, its images and its
// event stream, as a client of the daemon's API.
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { type ParsedArgs, UsageError } from './args';
import { bool, execute, filtersQuery, type Io, list, stdio, str, type Subcommand } from './command';
import { renderTemplate, table } from './format';

interface ImageSummary {
  Id: string;
  RepoTags: string[];
  Created: number;
  Size: number;
}

interface EventJson {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  time: number;
}

/** Docker's human sizes: decimal units, three significant digits. */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${Number(value.toPrecision(3))}${units[unit]}`;
}

function ago(seconds: number): string {
  const elapsed = Math.max(0, Math.round(Date.now() / 1000 - seconds));
  if (elapsed < 1) return 'Less than a second ago';
  if (elapsed < 60) return `${elapsed} seconds ago`;
  if (elapsed < 3600) return `${Math.round(elapsed / 60)} minutes ago`;
  if (elapsed < 48 * 3600) return `${Math.round(elapsed / 3600)} hours ago`;
  return `${Math.round(elapsed / 86400)} days ago`;
}

/**
 * `--since`/`--until` as Docker's CLI reads them: a Unix timestamp, an RFC 3339 date, or a
 * duration before now (10m, 1h30m); sent as Unix seconds with nanoseconds.
 */
export function eventTime(flag: string, value: string, now = Date.now()): string {
  if (/^\d+(\.\d{1,9})?$/.test(value)) return value;
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)/g)];
  if (parts.length > 0 && parts.map((p) => p[0]).join('') === value) {
    const unitMs = { ns: 1e-6, us: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
    const ms = parts.reduce((sum, p) => sum + Number(p[1]) * unitMs[p[2] as keyof typeof unitMs], 0);
    return ((now - ms) / 1000).toFixed(9);
  }
  const date = Date.parse(value);
  if (/^\d{4}-\d\d-\d\d/.test(value) && !Number.isNaN(date)) return (date / 1000).toFixed(9);
  throw new UsageError(`invalid value "${value}" for --${flag}: use a Unix timestamp, an RFC 3339 date or a duration such as 10m`);
}

/** Docker's event line: time, type, action, actor ID, then the attributes sorted by key; `json` is the event as sent (its exact timeNano). */
export function eventLine(event: EventJson, json: string): string {
  const nanos = (/"timeNano":(\d+)/.exec(json)?.[1] ?? '0').slice(-9).padStart(9, '0');
  const time = `${new Date(event.time * 1000).toISOString().slice(0, 19)}.${nanos}Z`;
  const attributes = Object.entries(event.Actor.Attributes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`);
  return `${time} ${event.Type} ${event.Action} ${event.Actor.ID}${attributes.length > 0 ? ` (${attributes.join(', ')})` : ''}`;
}

function noArguments(args: ParsedArgs, usage: string): void {
  if (args.positionals.length > 0) throw new UsageError(`"${usage.split(' ').slice(0, 2).join(' ')}" accepts no arguments.\nUsage:  ${usage}`);
}

const SUBCOMMANDS: Record<string, Subcommand> = {
  info: {
    usage: 'netctl info [OPTIONS]',
    summary: 'Display system-wide information',
    flags: [{ name: 'format', short: 'f', type: 'string', description: 'format the output with a template, e.g. {{.ContainersRunning}} or {{json .}}' }],
    async run(args, client, io) {
      noArguments(args, this.usage);
      const info = await client.get<Record<string, unknown>>('/info');
      const format = str(args, 'format');
      if (format !== undefined) {
        io.out(`${renderTemplate(format, info)}\n`);
        return 0;
      }
      const plugins = info['Plugins'] as { Network: string[] };
      const lines = [
        `Containers: ${String(info['Containers'])}`,
        ` Running: ${String(info['ContainersRunning'])}`,
        ` Paused: ${String(info['ContainersPaused'])}`,
        ` Stopped: ${String(info['ContainersStopped'])}`,
        `Images: ${String(info['Images'])}`,
        `Server Version: ${String(info['ServerVersion'])}`,
        `Storage Driver: ${String(info['Driver'])}`,
        `Network drivers: ${plugins.Network.join(' ')}`,
        `Kernel Version: ${String(info['KernelVersion'])}`,
        `Operating System: ${String(info['OperatingSystem'])}`,
        `OSType: ${String(info['OSType'])}`,
        `Architecture: ${String(info['Architecture'])}`,
        `CPUs: ${String(info['NCPU'])}`,
        `Total Memory: ${(Number(info['MemTotal']) / 2 ** 30).toFixed(2)}GiB`,
        `Name: ${String(info['Name'])}`,
        `ID: ${String(info['ID'])}`,
        `Root Dir: ${String(info['DockerRootDir'])}`,
      ];
      io.out(`${lines.join('\n')}\n`);
      return 0;
    },
  },

  images: {
    usage: 'netctl images [OPTIONS] [REPOSITORY[:TAG]]',
    summary: 'List images',
    flags: [
      { name: 'quiet', short: 'q', type: 'boolean', description: 'only show image IDs' },
      { name: 'no-trunc', type: 'boolean', description: "don't truncate output" },
      { name: 'filter', short: 'f', type: 'list', description: 'filter output, e.g. dangling=true or reference=name* (repeatable)' },
    ],
    async run(args, client, io) {
      if (args.positionals.length > 1) throw new UsageError(`"netctl images" accepts at most 1 argument.\nUsage:  ${this.usage}`);
      const filters = [...list(args, 'filter'), ...args.positionals.map((reference) => `reference=${reference}`)];
      const images = await client.get<ImageSummary[]>(`/images/json${filtersQuery(filters)}`);
      const id = (image: ImageSummary): string => (bool(args, 'no-trunc') ? image.Id : image.Id.replace(/^sha256:/, '').slice(0, 12));
      if (bool(args, 'quiet')) {
        io.out(images.map((image) => `${id(image)}\n`).join(''));
        return 0;
      }
      const rows = images.flatMap((image) =>
        image.RepoTags.map((tag) => {
          const colon = tag.lastIndexOf(':');
          return [tag.slice(0, colon), tag.slice(colon + 1), id(image), ago(image.Created), humanSize(image.Size)];
        }),
      );
      io.out(table(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], rows));
      return 0;
    },
  },

  import: {
    usage: 'netctl import [OPTIONS] FILE|- [REPOSITORY[:TAG]]',
    summary: 'Import a root file system tarball (plain, gzip, bzip2, xz or zstd) as an image',
    flags: [{ name: 'message', short: 'm', type: 'string', description: 'set the image\'s comment' }],
    async run(args, client, io) {
      const [file, repository] = args.positionals;
      if (file === undefined || args.positionals.length > 2) throw new UsageError(`"netctl import" requires 1 or 2 arguments.\nUsage:  ${this.usage}`);
      let body: Readable;
      if (file === '-') body = process.stdin;
      else {
        // Opened here, so a missing file is the user's error, not a broken upload.
        const fd = fs.openSync(file, 'r');
        body = fs.createReadStream('', { fd });
      }
      const query = new URLSearchParams({ fromSrc: '-', ...(repository ? { repo: repository } : {}), ...(str(args, 'message') ? { message: str(args, 'message')! } : {}) });
      await client.jsonLines('POST', `/images/create?${query.toString()}`, body, (value) => {
        const status = (value as { status?: unknown }).status;
        if (typeof status === 'string') io.out(`${status}\n`);
      });
      return 0;
    },
  },

  events: {
    usage: 'netctl events [OPTIONS]',
    summary: 'Get real time events from the daemon',
    flags: [
      { name: 'since', type: 'string', description: 'show events since a timestamp, date or duration before now (e.g. 10m)' },
      { name: 'until', type: 'string', description: 'stream events until this timestamp, date or duration before now' },
      { name: 'filter', short: 'f', type: 'list', description: 'filter output: type, event, container, network, image, label, scope (repeatable)' },
      { name: 'format', type: 'string', description: 'format the output with a template, e.g. {{.Action}} or {{json .}}' },
    ],
    async run(args, client, io) {
      noArguments(args, this.usage);
      const query = new URLSearchParams(filtersQuery(list(args, 'filter')).slice(1));
      for (const flag of ['since', 'until'] as const) {
        const value = str(args, flag);
        if (value !== undefined) query.set(flag, eventTime(flag, value));
      }
      const format = str(args, 'format');
      const text = query.toString();
      await client.jsonLines('GET', `/events${text ? `?${text}` : ''}`, undefined, (value, line) => {
        io.out(`${format !== undefined ? renderTemplate(format, value) : eventLine(value as EventJson, line)}\n`);
      });
      return 0;
    },
  },
};

export const ENGINE_COMMANDS = Object.keys(SUBCOMMANDS);

export function runEngineCommand(name: string, argv: string[], io: Io = stdio): Promise<number> {
  return execute(SUBCOMMANDS[name]!, name, argv, io);
}

export function engineCommandsHelp(): string {
  return Object.entries(SUBCOMMANDS)
    .map(([name, c]) => `  ${name.padEnd(12)}${c.summary}`)
    .join('\n');
}
