// Argument parsing for every attnc command, through commander: "did you mean" for misspelt
// flags, option values that may start with a dash (`--seq -5` reaches our range check and is
// reported as out of range), and no `process.exit` (exitOverride): commander's problems become
// UsageErrors (exit 2, printed by cli.ts) and its help goes through the CliIo, so tests can run
// the CLI in-process.

import { Command, CommanderError, Option } from 'commander';
import { UsageError, type CliIo } from './io.js';

/** One option of a command, in commander's syntax: `'-o, --out <DIR>'`, `'--verify'`. */
export interface OptionSpec {
  readonly flags: string;
  readonly default?: string;
  /** Accepted but not listed: deprecated spellings kept working. */
  readonly hidden?: boolean;
}

export interface CommandSpec {
  readonly name: string;
  /** The command's `--help` text. */
  readonly help: string;
  readonly options: readonly OptionSpec[];
}

/** What a command line said; options are looked up by their long name without dashes. */
export interface ParsedCommandLine {
  readonly positionals: readonly string[];
  string(name: string): string | undefined;
  flag(name: string): boolean;
}

// The options several commands share, spelt once so that one flag keeps one meaning (and one
// argument) across commands; each command's help text describes them with the same line.
export const COLOR_OPTION: OptionSpec = { flags: '--color <WHEN>', default: 'auto' };
export const ADAPTER_OPTION: OptionSpec = { flags: '--adapter <A>', default: 'auto' };
export const SEQ_OPTION: OptionSpec = { flags: '--seq <N>' };
export const SEQ_Q_OPTION: OptionSpec = { flags: '--seq-q <N>' };
export const BATCH_OPTION: OptionSpec = { flags: '--batch <B>' };
export const REPS_OPTION: OptionSpec = { flags: '--reps <R>' };
export const SEED_OPTION: OptionSpec = { flags: '--seed <S>' };
export const TARGET_OPTION: OptionSpec = { flags: '--target <NAME>', default: 'portable' };
export const FORMAT_OPTION: OptionSpec = { flags: '--format <FORMAT>' };
export const JSON_OPTION: OptionSpec = { flags: '--json' };

/** `--format text|json`, or `--json` for short (commands that take one take both). */
export function outputFormat(values: ParsedCommandLine): 'text' | 'json' {
  const format = values.string('format');
  if (format !== undefined && format !== 'text' && format !== 'json') {
    throw new UsageError(`unknown format \`${format}\`: use \`text\` or \`json\``);
  }
  if (values.flag('json')) {
    if (format === 'text') throw new UsageError('--json contradicts --format text');
    return 'json';
  }
  return format ?? 'text';
}

/**
 * Parses `argv` for the command `spec`; undefined when `--help` was asked for (its text is
 * already written to io.stdout). Throws UsageError for an unknown flag (with a suggestion when
 * one is close), a flag without its value, or a value given to a flag that takes none.
 */
export function parseCommandLine(
  spec: CommandSpec,
  argv: readonly string[],
  io: CliIo,
): ParsedCommandLine | undefined {
  const command = new Command(`attnc ${spec.name}`)
    .allowExcessArguments(true)
    .showSuggestionAfterError(true)
    .helpOption('-h, --help')
    .configureHelp({ formatHelp: () => spec.help })
    .configureOutput({ writeOut: io.stdout, writeErr: () => {}, outputError: () => {} })
    .exitOverride();
  const options = spec.options.map((o) => {
    const option = new Option(o.flags);
    if (o.default !== undefined) option.default(o.default);
    if (o.hidden) option.hideHelp();
    command.addOption(option);
    return option;
  });
  try {
    command.parse([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed') return undefined;
      throw new UsageError(commanderMessage(error));
    }
    throw error;
  }
  const values = command.opts();
  const find = (name: string): Option => {
    const option = options.find((o) => o.long === `--${name}`);
    if (!option) throw new Error(`attnc ${spec.name} has no option --${name}`);
    return option;
  };
  return {
    positionals: command.args,
    string(name) {
      const value: unknown = values[find(name).attributeName()];
      return typeof value === 'string' ? value : undefined;
    },
    flag(name) {
      const option = find(name);
      const value: unknown = values[option.attributeName()];
      // `--no-dense` is stored by commander as `dense: false`.
      return option.negate ? value === false : value === true;
    },
  };
}

/** Commander's message without its `error: ` prefix (cli.ts adds ours). */
export function commanderMessage(error: CommanderError): string {
  return error.message.replace(/^error: /, '').trim();
}
