import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    // dist/ also holds the compiled tests and scripts.
    outDir: 'dist/web',
    emptyOutDir: true,
    // The worker bundles tfjs with its cpu and webgl backends: about 2 MB, loaded once.
    chunkSizeWarningLimit: 4096,
  },
  worker: { format: 'es' },
  // `npm run explore`; `pn report` pages link to this address.
  preview: { host: '127.0.0.1', port: 4173, strictPort: true },
});
