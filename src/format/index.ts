// The `attnc/prettier` package entry: the prettier plugin (as the default export and as its
// parts; prettier accepts either) and `formatSpec` for code. Kept apart from the `attnc`
// entry so that the compiler and runtime (also bundled for browsers) never load prettier.

export { default, languages, parsers, printers, SpecSyntaxError } from './plugin.js';
export { formatOptionsFor, formatSpec, type FormatOptions, type FormatResult } from './format.js';
