// Formats spec text with the prettier plugin: the one entry point for `attnc fmt`, the
// language server and the API. Text that does not parse is returned as diagnostics.

import * as prettier from 'prettier';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { parseSpec } from '../syntax/parse.js';
import plugin from './plugin.js';

export type FormatResult =
  | { readonly ok: true; readonly formatted: string }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

export interface FormatOptions {
  /** Prettier's line width (default 80, prettier's own). */
  readonly printWidth?: number;
  readonly tabWidth?: number;
  readonly useTabs?: boolean;
}

export async function formatSpec(text: string, options: FormatOptions = {}): Promise<FormatResult> {
  const { diagnostics } = parseSpec(text);
  if (diagnostics.length > 0) return { ok: false, diagnostics };
  const formatted = await prettier.format(text, {
    ...options,
    parser: 'attn',
    plugins: [plugin],
  });
  return { ok: true, formatted };
}

/** The prettier options that apply to `file` (`.prettierrc` and friends), for `formatSpec`. */
export async function formatOptionsFor(file: string): Promise<FormatOptions> {
  const config = (await prettier.resolveConfig(file)) ?? {};
  const options: { -readonly [K in keyof FormatOptions]: FormatOptions[K] } = {};
  if (typeof config.printWidth === 'number') options.printWidth = config.printWidth;
  if (typeof config.tabWidth === 'number') options.tabWidth = config.tabWidth;
  if (typeof config.useTabs === 'boolean') options.useTabs = config.useTabs;
  return options;
}
