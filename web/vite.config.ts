import { defineConfig } from 'vite';

// The C++ server serves web/dist and answers /api/v1; during `npm run dev`
// API calls are proxied to a locally running server (TSUNAGU_URL).
export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
  },
  server: {
    proxy: {
      '/api': process.env.TSUNAGU_URL ?? 'http://127.0.0.1:8080',
      '/healthz': process.env.TSUNAGU_URL ?? 'http://127.0.0.1:8080',
    },
  },
});
