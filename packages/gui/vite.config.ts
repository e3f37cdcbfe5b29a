import { defineConfig } from 'vite';

// The GUI is served by the controller at /gui/; scripts/build.mjs builds it into dist/gui.
export default defineConfig({
  root: import.meta.dirname,
  base: '/gui/',
  build: {
    outDir: '../../dist/gui',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
    sourcemap: true,
    rollupOptions: {
      // React Flow marks itself "use client" for server-rendering frameworks, and its source
      // map cannot place that directive: both meaningless here.
      onwarn(w, warn) {
        if (w.code !== 'MODULE_LEVEL_DIRECTIVE' && w.code !== 'SOURCEMAP_ERROR') warn(w);
      },
    },
  },
  esbuild: { jsx: 'automatic' },
  logLevel: 'warn',
});
