// SVG to PNG through resvg (a maintained Rust renderer with Node bindings), so `--picture
// FILE.png` needs no browser and no hand-written encoder. Text uses the system's fonts.

import { Resvg } from '@resvg/resvg-js';

export function svgToPng(svg: string, options: { scale?: number } = {}): Uint8Array {
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: options.scale ?? 2 },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}
