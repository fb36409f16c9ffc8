// The playground, a static site: `npm run playground` serves it, `npm run playground:build`
// writes playground/dist. The compiler's Node-only paths (the `webgpu` package and node:
// modules, reached only through dynamic imports in src/runtime/node-adapters.ts when no
// device is given) stay out of the bundle: the page always hands over its own device.

import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  resolve: { conditions: ['attnc-source'] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
    rolldownOptions: { external: ['webgpu', /^node:/] },
  },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
