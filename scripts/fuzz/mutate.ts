// Mutation of spec text: byte flips, token deletion, duplication and swaps, splices from
// another spec, deep nesting, truncation and huge repeats. Works on a rough token split
// (names, numbers, whitespace, single characters) so that most edits stay near-valid and
// reach the checker, not only the lexer.

import type { Rng } from './rng.js';

/** The largest a mutated text may grow to; the rare huge repeat stays under it. */
export const MAX_MUTATED_LENGTH = 128 * 1024;
/** The largest an ordinary (not "large") mutated text may grow to. */
export const MAX_SMALL_LENGTH = 8 * 1024;

const TOKEN = /[A-Za-z_][A-Za-z0-9_]*|[0-9][0-9.eE+-]*|\s+|[^]/gu;

const FRAGMENTS: readonly string[] = [
  'attention',
  'group',
  'heads',
  'kv_heads',
  'head_dim',
  'mask',
  'kernel',
  'lowrank',
  'head_routing',
  'causal',
  'window',
  'global',
  'first:',
  'left:',
  'topk',
  'block:',
  'lsh',
  'buckets:',
  'seed:',
  'favor',
  'nystrom',
  'iters:',
  'linformer',
  'top(2)',
  '0',
  '1',
  '2147483647',
  '2147483648',
  '9007199254740993',
  '-1',
  '1e3',
  'NaN',
  '{',
  '}',
  '(',
  ')',
  '[',
  ']',
  ':',
  ';',
  ',',
  '|',
  '&',
  '\n',
  '#',
  '//',
  '"',
  '\u0000',
  '\uFFFD',
  '\uD800',
  'é',
];

export function tokenize(text: string): string[] {
  return text.match(TOKEN) ?? [];
}

type Mutation = (rng: Rng, tokens: string[], donor: string, large: boolean) => string[];

const MUTATIONS: readonly (readonly [number, string, Mutation])[] = [
  [4, 'flip', flipCharacter],
  [4, 'delete', deleteTokens],
  [3, 'duplicate', duplicateTokens],
  [3, 'swap', swapTokens],
  [4, 'insert', insertFragment],
  [2, 'replace-number', replaceNumber],
  [2, 'splice', spliceDonor],
  [1, 'truncate', truncate],
  [1, 'nest', nestDeeply],
  [1, 'repeat', repeatHugely],
];

/** Applies 1..max mutations; returns the text and the names of the mutations applied. */
export function mutate(
  rng: Rng,
  text: string,
  donor: string,
  options: { readonly maxMutations: number; readonly large: boolean },
): { text: string; applied: string[] } {
  const limit = options.large ? MAX_MUTATED_LENGTH : Math.max(MAX_SMALL_LENGTH, text.length);
  let tokens = tokenize(text);
  const applied: string[] = [];
  const count = rng.int(1, options.maxMutations);
  for (let i = 0; i < count; i++) {
    const [, name, mutation] = rng.weighted(MUTATIONS.map((m) => [m[0], m] as const));
    tokens = mutation(rng, tokens, donor, options.large);
    applied.push(name);
    if (lengthOf(tokens) > limit) break;
  }
  let result = tokens.join('');
  if (result.length > limit) result = result.slice(0, limit);
  return { text: result, applied };
}

function lengthOf(tokens: readonly string[]): number {
  let n = 0;
  for (const t of tokens) n += t.length;
  return n;
}

function flipCharacter(rng: Rng, tokens: string[]): string[] {
  const text = tokens.join('');
  if (text.length === 0) return tokens;
  const at = rng.below(text.length);
  const replacement = rng.chance(0.5)
    ? String.fromCharCode(text.charCodeAt(at) ^ (1 << rng.below(7)))
    : String.fromCharCode(rng.below(rng.chance(0.9) ? 128 : 0x10000));
  return tokenize(text.slice(0, at) + replacement + text.slice(at + 1));
}

function deleteTokens(rng: Rng, tokens: string[]): string[] {
  if (tokens.length === 0) return tokens;
  const at = rng.below(tokens.length);
  const out = tokens.slice();
  out.splice(at, rng.int(1, 3));
  return out;
}

function duplicateTokens(rng: Rng, tokens: string[]): string[] {
  if (tokens.length === 0) return tokens;
  const at = rng.below(tokens.length);
  const length = rng.int(1, Math.min(8, tokens.length - at));
  const out = tokens.slice();
  out.splice(at, 0, ...tokens.slice(at, at + length));
  return out;
}

function swapTokens(rng: Rng, tokens: string[]): string[] {
  if (tokens.length < 2) return tokens;
  const out = tokens.slice();
  const a = rng.below(out.length);
  const b = rng.below(out.length);
  [out[a], out[b]] = [out[b]!, out[a]!];
  return out;
}

function insertFragment(rng: Rng, tokens: string[]): string[] {
  const out = tokens.slice();
  out.splice(rng.below(out.length + 1), 0, rng.pick(FRAGMENTS));
  return out;
}

function replaceNumber(rng: Rng, tokens: string[]): string[] {
  const numbers = tokens.flatMap((t, i) => (/^[0-9]/.test(t) ? [i] : []));
  if (numbers.length === 0) return insertFragment(rng, tokens);
  const out = tokens.slice();
  out[rng.pick(numbers)] = rng.pick([
    '0',
    '1',
    '2147483647',
    '2147483648',
    '4294967296',
    '9007199254740992',
    '1e400',
    '00000000000000000000000000000000064',
    String(rng.u32()),
  ]);
  return out;
}

function spliceDonor(rng: Rng, tokens: string[], donor: string): string[] {
  const other = tokenize(donor);
  if (other.length === 0) return tokens;
  const from = rng.below(other.length);
  const piece = other.slice(from, from + rng.int(1, 40));
  const out = tokens.slice();
  out.splice(rng.below(out.length + 1), rng.int(0, 6), ...piece);
  return out;
}

function truncate(rng: Rng, tokens: string[]): string[] {
  return tokens.slice(0, rng.below(tokens.length + 1));
}

/** Wraps a stretch of tokens in many parentheses (or braces): recursion depth. */
function nestDeeply(rng: Rng, tokens: string[], _donor: string, large: boolean): string[] {
  const depth = large
    ? rng.weighted([
        [3, rng.int(100, 1000)],
        [1, rng.int(1000, 20_000)],
      ] as const)
    : rng.weighted([
        [8, rng.int(2, 60)],
        [2, rng.int(100, 600)],
      ] as const);
  const [open, close] = rng.pick([
    ['(', ')'],
    ['(', ')'],
    ['{', '}'],
    ['[', ']'],
    ['(', ''],
  ] as const);
  const at = rng.below(tokens.length + 1);
  const end = Math.min(tokens.length, at + rng.int(0, 5));
  const out = tokens.slice(0, at);
  out.push(open.repeat(depth), ...tokens.slice(at, end), close.repeat(depth));
  out.push(...tokens.slice(end));
  return out;
}

/** Repeats a stretch many times: long unions, long names, many properties or attentions. */
function repeatHugely(rng: Rng, tokens: string[], _donor: string, large: boolean): string[] {
  if (tokens.length === 0) return tokens;
  const at = rng.below(tokens.length);
  const piece = tokens.slice(at, at + rng.int(1, 12)).join('');
  const room = Math.max(0, (large ? MAX_MUTATED_LENGTH : MAX_SMALL_LENGTH) - lengthOf(tokens));
  const wanted = large ? rng.int(100, 20_000) : rng.int(2, 64);
  const times = Math.min(wanted, Math.floor(room / Math.max(1, piece.length)));
  const out = tokens.slice();
  out.splice(at, 0, piece.repeat(times));
  return out;
}
