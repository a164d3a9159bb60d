import { vitePreprocess } from "@sveltejs/vite-plugin-svelte";

export default {
  preprocess: vitePreprocess(),
  // Component styles go to the CSS file, never into style attributes (CSP).
  compilerOptions: { css: "external" },
};
