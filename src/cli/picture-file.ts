// `--picture FILE.svg|FILE.png` (explain) and `--plot FILE.svg|FILE.png` (bench): the picture
// format follows the file's extension; a file that cannot be written is a one-line error.

import { writeFileSync } from 'node:fs';
import { svgToPng } from '../picture/png.js';
import type { CliIo } from './io.js';

export function isPictureFile(value: string): boolean {
  return /\.(svg|png)$/i.test(value);
}

/** Writes an SVG document to FILE, as PNG when FILE ends in .png; returns the exit code. */
export function writeSvgOrPng(
  file: string,
  svg: string,
  io: CliIo,
  options: { quiet?: boolean } = {},
): number {
  try {
    writeFileSync(file, /\.png$/i.test(file) ? svgToPng(svg) : svg);
  } catch (error) {
    io.stderr(`attnc: error: cannot write ${file}: ${(error as Error).message}\n`);
    return 1;
  }
  // Quiet under --json, whose stdout is one JSON object.
  if (!options.quiet) io.stdout(`wrote ${file}\n`);
  return 0;
}
