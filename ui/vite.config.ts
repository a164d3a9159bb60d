import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// The app is served from the binary (tauri://localhost); every asset is a file so
// the strict CSP (no inline scripts or styles) holds.
export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  build: {
    target: "es2021",
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    sourcemap: false,
  },
});
