import { parseFlags } from './args.ts';

/**
 * The CLI's options, described once: the parser's configuration and every command's `--help` are
 * both made from these tables, so an option cannot be accepted without being listed in the help
 * with its default.
 */

/** One option of a command (the table's key is its long name, without the dashes). */
export interface OptionSpec {
  /** A flag (`--cpu`) or an option with a value (`--horizon N`). */
  type: 'boolean' | 'string';
  /** The one-letter alias (`-q`). */
  short?: string;
  /** What the value looks like in the help (`N`, `PATH`, `rnn|gru|lstm`); options with a value only. */
  value?: string;
  /**
   * What happens without the option, as the help shows it: `(default: …)`; null for an option that
   * every command taking it requires (`(required)`). Flags have one too: what the command does
   * without them (`--cpu`: WebGPU).
   */
  default: string | null;
  /** What the option does. */
  about: string;
}

/** A command's options by long name. */
export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** `--cpu`, shared by the commands that run a model. */
export const CPU_OPTION = {
  type: 'boolean',
  default: 'WebGPU',
  about: 'the float64 CPU reference instead of WebGPU',
} as const satisfies OptionSpec;

/** `-h, --help`, which every command takes: the parser and the help add it to each table. */
const HELP = { help: { type: 'boolean', short: 'h' } } as const;
const HELP_LINE = ['-h, --help', 'this text'] as const;

/** What Node's `parseArgs` reads from a table: the type and the alias, nothing else. */
type ParseConfig<T extends OptionTable> = { [K in keyof T]: { type: T[K]['type']; short?: string } } & typeof HELP;

/**
 * `args` parsed with the options of `table` and `--help` (strict: any other option is a usage
 * error); the values are typed from the table, a string for an option with a value and a boolean
 * for a flag.
 */
export function parseOptions<const T extends OptionTable>(args: string[], table: T) {
  const config = Object.fromEntries(
    Object.entries(table).map(([name, o]) => [name, o.short === undefined ? { type: o.type } : { type: o.type, short: o.short }]),
  );
  return parseFlags(args, { ...config, ...HELP } as ParseConfig<T>);
}

/** The help's text for `name` in `table`: `-q, --quiet` or `--horizon N`. */
function optionName(name: string, o: OptionSpec): string {
  return `${o.short ? `-${o.short}, ` : ''}--${name}${o.value ? ` ${o.value}` : ''}`;
}

/** What the help says of an option: its meaning, then `(required)` or `(default: …)`. */
export function optionText(o: OptionSpec, required: boolean): string {
  return `${o.about} ${required || o.default === null ? '(required)' : `(default: ${o.default})`}`;
}

/** The help is wrapped to this width; the option names take at most NAME_WIDTH of it. */
const WIDTH = 100;
const NAME_WIDTH = 26;

/** `text` in lines of at most `width` characters (a word longer than that gets a line of its own). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * `rows` of a name and its text as two columns, the text wrapped beside the name; a name too long
 * for the column (at most NAME_WIDTH) gets a line of its own with the text below it.
 */
export function twoColumns(rows: ReadonlyArray<readonly [string, string]>): string[] {
  const column = Math.min(NAME_WIDTH, Math.max(...rows.map(([n]) => n.length)) + 2);
  const indent = ' '.repeat(2 + column);
  const lines: string[] = [];
  for (const [name, text] of rows) {
    const body = wrap(text, WIDTH - indent.length);
    if (name.length + 2 > column) lines.push(`  ${name}`);
    else lines.push(`  ${name.padEnd(column)}${body.shift() ?? ''}`);
    for (const l of body) lines.push(indent + l);
  }
  return lines;
}

/** The option lines of a help text: each option of `table`, then `-h, --help`. */
export function optionLines(table: OptionTable, required: readonly string[] = []): string[] {
  const rows = Object.entries(table).map(([name, o]): [string, string] => [optionName(name, o), optionText(o, required.includes(name))]);
  return twoColumns([...rows, HELP_LINE]);
}

/** A command's `--help`: the synopsis, what it does, notes (paragraphs, wrapped), and its options. */
export interface CommandHelp {
  /** After `Usage: webrnn `: `forecast [FILE] --horizon N [options]`. */
  synopsis: string;
  /** Paragraphs below the synopsis. */
  about: readonly string[];
  options: OptionTable;
  /** Options this command requires: `(required)` instead of their default. */
  required?: readonly string[];
}

/** The `webrnn COMMAND --help` text of `help`. */
export function usage(help: CommandHelp): string {
  return [
    `Usage: webrnn ${help.synopsis}`,
    '',
    ...help.about.flatMap((p) => [paragraph(p), '']),
    'Options:',
    ...optionLines(help.options, help.required),
  ].join('\n');
}

/** `text` wrapped to the help's width. */
export function paragraph(text: string): string {
  return wrap(text, WIDTH).join('\n');
}
