/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Hashed assets under /assets (long-cached by firebase.json); index.html is the only entry.
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", assetsDir: "assets", sourcemap: false, target: "es2022", manifest: true },
  test: { environment: "jsdom", include: ["src/**/*.test.{ts,tsx}"] },
});
