// `attnc/rollup`: the attnc bundler plugin (plugin.ts) for Rollup.

import { attncPlugin } from './plugin.js';

export type { AttncPluginOptions } from './plugin.js';

export default attncPlugin.rollup;
