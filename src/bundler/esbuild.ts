// `attnc/esbuild`: the attnc bundler plugin (plugin.ts) for Esbuild.

import { attncPlugin } from './plugin.js';

export type { AttncPluginOptions } from './plugin.js';

export default attncPlugin.esbuild;
