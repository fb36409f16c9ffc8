// The spec in the URL, so a link shares it: `#s=` + base64url of the deflate-raw-compressed
// text (the browser's own CompressionStream; Node 20 has it too, so this is tested there).
// `#t=` + base64url of the plain text is read too, for links written by hand or by scripts.

const PREFIX = 's=';

export async function encodeSpec(spec: string): Promise<string> {
  const compressed = await pipe(
    new TextEncoder().encode(spec),
    new CompressionStream('deflate-raw'),
  );
  return PREFIX + toBase64Url(compressed);
}

/** The spec in a location hash (with or without `#`), or null when there is none. */
export async function decodeSpec(hash: string): Promise<string | null> {
  const body = hash.startsWith('#') ? hash.slice(1) : hash;
  try {
    if (body.startsWith(PREFIX)) {
      const bytes = fromBase64Url(body.slice(PREFIX.length));
      return new TextDecoder().decode(await pipe(bytes, new DecompressionStream('deflate-raw')));
    }
    if (body.startsWith('t=')) return new TextDecoder().decode(fromBase64Url(body.slice(2)));
  } catch {
    // A damaged link: the playground starts from its example rather than failing to load.
    return null;
  }
  return null;
}

async function pipe(
  bytes: Uint8Array,
  stream: CompressionStream | DecompressionStream,
): Promise<Uint8Array> {
  const out = new Response(
    new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(stream),
  );
  return new Uint8Array(await out.arrayBuffer());
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}
