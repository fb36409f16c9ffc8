// The few SVG elements the pictures are made of, as strings. Hand-written on purpose: a picture
// is rectangles, lines and text, and a DOM or charting library would be a browser dependency
// for the CLI (and a Node one for the playground) to save a dozen lines.

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A number as SVG wants it: short, and never `1e-7`. */
export function num(x: number): string {
  return String(Math.round(x * 100) / 100);
}

export function rect(box: Box, fill: string, extra = ''): string {
  return `<rect x="${num(box.x)}" y="${num(box.y)}" width="${num(box.width)}" height="${num(box.height)}" fill="${fill}"${extra ? ' ' + extra : ''}/>`;
}

export function text(
  x: number,
  y: number,
  content: string,
  options: {
    size?: number;
    anchor?: 'start' | 'middle' | 'end';
    weight?: 'bold';
    cls?: string;
  } = {},
): string {
  const attributes = [
    `x="${num(x)}"`,
    `y="${num(y)}"`,
    `font-size="${options.size ?? 12}"`,
    options.anchor && options.anchor !== 'start' ? `text-anchor="${options.anchor}"` : '',
    options.weight ? `font-weight="${options.weight}"` : '',
    options.cls ? `class="${options.cls}"` : '',
  ].filter(Boolean);
  return `<text ${attributes.join(' ')}>${escapeXml(content)}</text>`;
}

export function line(
  x1: number,
  y1: number,
  x2: number,
  y2: number,
  stroke: string,
  extra = '',
): string {
  return `<line x1="${num(x1)}" y1="${num(y1)}" x2="${num(x2)}" y2="${num(y2)}" stroke="${stroke}"${extra ? ' ' + extra : ''}/>`;
}

export function svgDocument(width: number, height: number, body: readonly string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(width)}" height="${num(height)}" viewBox="0 0 ${num(width)} ${num(height)}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">`,
    rect({ x: 0, y: 0, width, height }, '#ffffff'),
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

/** The colour `a + t (b - a)` of two `#rrggbb` colours. */
export function mix(a: string, b: string, t: number): string {
  const channel = (c: string, k: number) => parseInt(c.slice(1 + 2 * k, 3 + 2 * k), 16);
  let out = '#';
  for (let k = 0; k < 3; k++) {
    const v = Math.round(channel(a, k) + t * (channel(b, k) - channel(a, k)));
    out += v.toString(16).padStart(2, '0');
  }
  return out;
}
