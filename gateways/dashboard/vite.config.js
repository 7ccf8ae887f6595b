// Builds the dashboard into build/dashboard at the repository root, where certctl-server looks
// by default (CERTCTL_DASHBOARD_DIR overrides both). Asset names carry a content hash, which is
// what lets the server cache them forever (gateways/http/static_files).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const out =
  process.env.CERTCTL_DASHBOARD_OUT ?? fileURLToPath(new URL('../../build/dashboard', import.meta.url));

export default defineConfig({
  base: '/',
  build: {
    outDir: out,
    emptyOutDir: true,
    // No inline scripts or data: URLs for scripts: the server's CSP allows only 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2022',
  },
  // `npm run dev`: the page from Vite, the API from a running server (self-signed: not verified).
  server: {
    proxy: {
      '/api': { target: process.env.CERTCTL_DEV_API ?? 'https://127.0.0.1:8443', secure: false, changeOrigin: true },
    },
  },
  test: {
    include: ['tests/**/*.test.js'],
    environment: 'node',
  },
});
