// The name tables must agree: names.ts (used for "is a feature map; write `kernel: ...`")
// lists each primitive once more, apart from the signature tables, to avoid an import cycle.

import { describe, expect, it } from 'vitest';
import { MASK_SIGNATURES } from '../../src/check/mask.js';
import { NAME_HOMES } from '../../src/check/names.js';
import { PROPERTIES } from '../../src/check/properties.js';

describe('name tables', () => {
  it('list every mask primitive as a mask', () => {
    const masks = [...NAME_HOMES].filter(([, home]) => home.property === 'mask').map(([n]) => n);
    expect(masks.sort()).toEqual(Object.keys(MASK_SIGNATURES).sort());
  });

  it('point only at real properties', () => {
    for (const [, home] of NAME_HOMES) expect(Object.keys(PROPERTIES)).toContain(home.property);
  });
});
