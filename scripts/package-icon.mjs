// Draws media/icon.png (128×128, the Marketplace icon) from an SVG, rendered in headless Chromium:
// no image library is needed. Run it after changing the drawing: `node scripts/package-icon.mjs`.
// The picture: the tutorial's graph z = x·y + w — three inputs flowing into two ops and the output,
// with the gradient flowing back as an orange arrow.
import { writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const size = 128;

const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 128 128">
  <defs>
    <linearGradient id="bg" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="#1f3b4d"/><stop offset="1" stop-color="#12222d"/>
    </linearGradient>
    <marker id="back" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="4" markerHeight="4" orient="auto-start-reverse">
      <path d="M0 0 10 5 0 10z" fill="#f5a25d"/>
    </marker>
  </defs>
  <rect x="4" y="4" width="120" height="120" rx="24" fill="url(#bg)"/>
  <g stroke="#8fbcbb" stroke-width="4" fill="none" stroke-linecap="round">
    <path d="M30 34 58 50M30 66 58 54M66 52 94 62M30 96 94 70"/>
  </g>
  <g fill="#e5e9f0" stroke="#8fbcbb" stroke-width="3">
    <circle cx="26" cy="32" r="10"/><circle cx="26" cy="66" r="10"/><circle cx="26" cy="98" r="10"/>
    <rect x="54" y="42" width="18" height="18" rx="4"/>
  </g>
  <circle cx="100" cy="66" r="14" fill="#f5a25d" stroke="#fbd5b0" stroke-width="3"/>
  <path d="M88 92 Q64 112 40 106" stroke="#f5a25d" stroke-width="4" fill="none" stroke-linecap="round" marker-end="url(#back)"/>
  <text x="100" y="72" font-family="DejaVu Sans, sans-serif" font-size="17" font-weight="bold" fill="#12222d" text-anchor="middle">∂</text>
</svg>`;

const browser = await chromium.launch({ executablePath: process.env.GRADLENS_CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
try {
  const page = await browser.newPage({ viewport: { width: size, height: size } });
  await page.setContent(`<html><body style="margin:0;background:transparent">${svg}</body></html>`);
  const png = await page.screenshot({ omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } });
  writeFileSync(join(root, "media", "icon.png"), png);
  console.log(`wrote media/icon.png (${png.length} bytes)`);
} finally {
  await browser.close();
}
