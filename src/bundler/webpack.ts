// `attnc/webpack`: the attnc bundler plugin (plugin.ts) for Webpack.

import { attncPlugin } from './plugin.js';

export type { AttncPluginOptions } from './plugin.js';

export default attncPlugin.webpack;
