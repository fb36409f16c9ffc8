// `attnc/vite`: the attnc bundler plugin (plugin.ts) for Vite.

import { attncPlugin } from './plugin.js';

export type { AttncPluginOptions } from './plugin.js';

export default attncPlugin.vite;
