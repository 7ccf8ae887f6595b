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
  test: {
    include: ['tests/**/*.test.js'],
    environment: 'node',
  },
});
