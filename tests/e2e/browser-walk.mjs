#!/usr/bin/env node
// Drives headless Chromium through the user's part of the remote OAuth2 flow:
//   login URL (emulator sets its session cookie) -> connect URL (307 to the provider)
//   -> oidc-provider's own login form -> its consent page (Continue, or [ Cancel ])
//   -> back on the redirect URI (complete URL).
// Stdout on success: ONE JSON line
//   {"final_url": "...", "status": <int>, "text": "...", "window_close_called": <bool>}
// Failure: a message on stderr, a screenshot if possible, exit 1 (2 for bad arguments).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const USAGE = `usage: node browser-walk.mjs --login-url URL --connect-url URL --login NAME
  --action consent|deny --complete-url-prefix URL [--screenshot PATH] [--timeout-ms 20000]
  [--chromium PATH (default $CHROMIUM_PATH or /usr/bin/chromium)]`;
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

class WalkError extends Error {}

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (!key.startsWith('--') || value === undefined) usage(`bad argument near ${JSON.stringify(key)}`);
    out[key.slice(2)] = value;
  }
  for (const k of ['login-url', 'connect-url', 'login', 'action', 'complete-url-prefix']) {
    if (!out[k]) usage(`--${k} is required`);
  }
  if (!['consent', 'deny'].includes(out.action)) usage('--action must be consent or deny');
  out.timeoutMs = Number(out['timeout-ms'] ?? 20000);
  if (!Number.isInteger(out.timeoutMs) || out.timeoutMs <= 0) usage('--timeout-ms must be a positive integer');
  out.chromium = out.chromium ?? process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  return out;
}

function usage(message) {
  console.error(`browser-walk: ${message}\n${USAGE}`);
  process.exit(2);
}

const args = parseArgs(process.argv.slice(2));
const deadline = Date.now() + args.timeoutMs;
const remaining = () => {
  const ms = deadline - Date.now();
  if (ms <= 0) throw new WalkError(`timed out after ${args.timeoutMs} ms`);
  return ms;
};
// Last resort if something hangs outside Playwright's own timeouts (e.g. browser.close()).
setTimeout(() => {
  console.error(`browser-walk: hard timeout after ${args.timeoutMs + 10000} ms`);
  process.exit(1);
}, args.timeoutMs + 10000).unref();

const isLoopback = (url) => ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
const bare = (url) => { const u = new URL(url); return `${u.origin}${u.pathname}`; };
const startsAtPrefix = (url) => url.startsWith(args['complete-url-prefix']);

// Where are we? One of: 'complete', 'login', 'consent', or null (still loading / unknown).
async function whereAmI(page) {
  if (startsAtPrefix(page.url())) return 'complete';
  if (await page.locator('form input[name="prompt"][value="login"]').count()) return 'login';
  if (await page.locator('form input[name="prompt"][value="consent"]').count()) return 'consent';
  return null;
}

// Waits for the page to become one of `wanted`. A known but unwanted page fails at once;
// an unknown one (e.g. the provider's error page) once it has stayed put for 2 s.
async function expectPage(page, wanted) {
  let unknownSince = null;
  for (;;) {
    await page.waitForLoadState('load', { timeout: remaining() }).catch(() => {});
    const here = await whereAmI(page).catch(() => null);
    if (here && wanted.includes(here)) return here;
    if (here) throw new WalkError(`expected the ${wanted.join(' or ')} page, got the ${here} page at ${page.url()}`);
    unknownSince ??= Date.now();
    if (Date.now() - unknownSince > 2000 || Date.now() + 250 >= deadline) {
      const text = await page.evaluate(() => document.body?.innerText ?? '').catch(() => '');
      throw new WalkError(`expected the ${wanted.join(' or ')} page, got ${page.url()}: ${text.slice(0, 500)}`);
    }
    await page.waitForTimeout(100);
  }
}

// Clicks and waits until the browser has left the current URL.
async function clickAway(page, selector) {
  const before = page.url();
  await page.click(selector, { timeout: remaining() });
  await page.waitForURL((url) => url.href !== before, { waitUntil: 'commit', timeout: remaining() });
}

async function walk(page, navs) {
  const login = await page.goto(args['login-url'], { timeout: remaining() });
  if (!login || login.status() !== 200) {
    throw new WalkError(`login URL answered ${login?.status() ?? 'nothing'}, expected 200`);
  }

  // connect -> 307 -> provider /auth -> its login page (or straight back, on an error).
  await page.goto(args['connect-url'], { timeout: remaining() });
  let here = await expectPage(page, ['login', 'complete']);
  if (here === 'login') {
    await page.fill('input[name="login"]', args.login, { timeout: remaining() });
    await page.fill('input[name="password"]', 'any-password', { timeout: remaining() });
    await clickAway(page, 'form button[type="submit"]');
    here = await expectPage(page, ['consent', 'complete']);
  }
  if (here === 'consent') {
    if (args.action === 'consent') {
      await clickAway(page, 'form button[type="submit"]');
    } else {
      // oidc-provider's own abort link: it redirects back with error=access_denied.
      await clickAway(page, '.login-help a:has-text("Cancel")');
    }
  } else if (args.action === 'deny') {
    throw new WalkError(`the provider never showed its consent page (landed on ${page.url()})`);
  }

  await page.waitForURL((url) => startsAtPrefix(url.href), { waitUntil: 'load', timeout: remaining() });
  const finalUrl = page.url();
  const nav = navs.findLast((n) => n.url === finalUrl) ?? navs.findLast((n) => startsAtPrefix(n.url));
  if (!nav) throw new WalkError(`no HTTP response seen for ${finalUrl}`);
  const { text, closeCalled } = await page.evaluate(() => ({
    text: document.body?.innerText ?? '',
    closeCalled: Boolean(window.__e2eWindowCloseCalled),
  }));
  return { final_url: finalUrl, status: nav.status, text, window_close_called: closeCalled };
}

async function main() {
  let browser;
  let page;
  try {
    try {
      browser = await chromium.launch({
        executablePath: args.chromium,
        headless: true,
        args: CHROMIUM_ARGS,
        timeout: Math.min(remaining(), 15000),
      });
    } catch (err) {
      throw new WalkError(`Chromium did not start (${args.chromium}); run tests/e2e/setup.sh. ${
        String(err.message).split('\n').slice(0, 3).join(' ')}`);
    }
    const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
    // Only loopback traffic: the provider's page @imports a web font that must not be fetched.
    await context.route('**/*', (route) => (isLoopback(route.request().url()) ? route.continue() : route.abort()));
    // The real success page calls window.close(); record it instead so the text stays readable.
    await context.addInitScript(() => {
      window.close = () => { window.__e2eWindowCloseCalled = true; };
    });
    page = await context.newPage();
    const navs = []; // main-frame navigation responses, in order
    page.on('response', (response) => {
      const request = response.request();
      if (request.isNavigationRequest() && request.frame() === page.mainFrame()) {
        navs.push({ url: response.url(), status: response.status(), location: response.headers().location });
      }
    });

    const result = await walk(page, navs).catch((err) => {
      // Where the browser went, without query strings (they carry state and codes).
      console.error(`browser-walk: navigations: ${navs.map((n) => `${n.status} ${bare(n.url)}${
        n.location ? ` -> ${bare(new URL(n.location, n.url).href)}` : ''}`).join(' | ') || 'none'}`);
      throw err;
    });
    if (args.screenshot) {
      fs.mkdirSync(path.dirname(path.resolve(args.screenshot)), { recursive: true });
      await page.screenshot({ path: args.screenshot, fullPage: true, timeout: remaining() });
    }
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  } catch (err) {
    const message = err instanceof WalkError ? err.message : `${err.name}: ${String(err.message).split('\n')[0]}`;
    console.error(`browser-walk: FAILED (${args.action} as ${args.login}): ${message}`);
    if (page) {
      const shot = args.screenshot
        ?? path.join(HERE, 'artifacts', `browser-walk-failure-${Date.now()}.png`);
      try {
        fs.mkdirSync(path.dirname(shot), { recursive: true });
        await page.screenshot({ path: shot, fullPage: true, timeout: 5000 });
        console.error(`browser-walk: screenshot of the last page: ${shot}`);
      } catch {
        console.error('browser-walk: could not take a screenshot');
      }
    }
    return 1;
  } finally {
    await browser?.close().catch(() => {});
  }
}

process.exitCode = await main();
