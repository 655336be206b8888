// Renders HTML pages to text the way a browser's select-all + copy does: each page is loaded in
// WebKit (MiniBrowser driven by WebKitWebDriver, the engine of the app's own window) and
// `document.body.innerText` is saved. Used by scripts/text-pages.sh, which owns Xvfb and the
// driver. Network is not used: pages are opened from disk. Their scripts are removed first (a
// saved page's scripts cannot reach their servers here; some spin or hide the body forever), and
// so are links to remote style sheets and frames.
//
// Usage: node text_pages_innertext.mjs PAGES_DIR OUT_DIR   (env WEBDRIVER_URL, MINIBROWSER)
import { readdirSync, existsSync, writeFileSync, mkdirSync, renameSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const [pagesDir, outDir] = process.argv.slice(2);
if (!pagesDir || !outDir) {
  console.error('usage: text_pages_innertext.mjs PAGES_DIR OUT_DIR');
  process.exit(2);
}
const DRIVER = process.env.WEBDRIVER_URL ?? 'http://127.0.0.1:4444';
const BROWSER = process.env.MINIBROWSER;

async function wd(method, path, body) {
  const res = await fetch(`${DRIVER}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    // The driver itself can stall on a page; give up on that page instead of waiting forever.
    signal: AbortSignal.timeout(60000),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json.value)}`);
  return json.value;
}

mkdirSync(outDir, { recursive: true });
async function newSession() {
  const created = await wd('POST', '/session', {
    capabilities: {
      alwaysMatch: {
        // WebKit's driver can wait forever on a page's load event; navigation returns at once
        // and the script below waits for the parsed document itself.
        pageLoadStrategy: 'none',
        'webkitgtk:browserOptions': { binary: BROWSER, args: ['--automation'] },
      },
    },
  });
  await wd('POST', `/session/${created.sessionId}/timeouts`, { pageLoad: 15000, script: 30000 });
  return created.sessionId;
}

let failed = 0;
const scratch = mkdtempSync(join(tmpdir(), 'precis-innertext-'));
try {
  const pages = readdirSync(pagesDir).filter((p) => existsSync(join(pagesDir, p, 'source.html'))).sort();
  for (const page of pages) {
    const html = readFileSync(join(pagesDir, page, 'source.html'), 'latin1')
      .replace(/<script\b[\s\S]*?<\/script\s*>/gi, '')
      .replace(/<meta[^>]+http-equiv=["']?refresh[^>]*>/gi, '')
      // Remote style sheets and frames: there is no network, and a hanging fetch stalls the page.
      .replace(/<link\b[^>]*>/gi, '')
      .replace(/<iframe\b[\s\S]*?<\/iframe\s*>/gi, '')
      .replace(/(\s(?:src|srcset|poster|background)\s*=\s*["']?)(?:https?:)?\/\//gi, '$1about:blank#');
    const copy = join(scratch, 'page.html');
    writeFileSync(copy, html, 'latin1');
    const url = 'file://' + copy;
    // A fresh browser per page: one page that stalls must not stall the next.
    const session = await newSession();
    try {
      await wd('POST', `/session/${session}/url`, { url });
      let text = null;
      for (let waited = 0; text === null && waited < 30000; waited += 250) {
        text = await wd('POST', `/session/${session}/execute/sync`, {
          script: `return document.URL === arguments[0] && document.readyState !== 'loading' && document.body
            ? document.body.innerText : null;`,
          args: [url],
        });
        if (text === null) await new Promise((r) => setTimeout(r, 250));
      }
      if (text === null) throw new Error('the page did not finish parsing in 30 s');
      const file = join(outDir, `${page}.txt`);
      writeFileSync(file + '.tmp', text);
      renameSync(file + '.tmp', file);
    } catch (e) {
      failed += 1;
      console.error(`${page}: innerText failed: ${e.message.slice(0, 200)}`);
    } finally {
      await wd('DELETE', `/session/${session}`).catch(() => {});
    }
  }
  console.log(`innerText: ${pages.length - failed} of ${pages.length} pages rendered`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
