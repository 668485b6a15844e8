// Opens an HTML report of `mirrorwatch report` in headless Chromium and says whether anything
// in it ran, loaded or navigated.
//
//   node tests/warc/open-report.mjs REPORT.html [--strip-csp] [--screenshot PNG [--height PX]]
//
// Chromium is Debian's (/usr/bin/chromium, or $CHROMIUM), driven by playwright-core from the
// npm registry, with JavaScript ON: a payload that survived as markup would run. The page is
// opened from file://; every dialog, console message, page error and request for anything
// other than the file itself is recorded. After `load` it checks, in the page:
//   - window.__pwned is undefined (every test payload tries to set it);
//   - there is no <script>, <img>, <svg>, <iframe>, <object>, <embed>, <form>, <base> or
//     <meta http-equiv=refresh> element, and no element has an on* attribute;
//   - every <a href> is http(s) or a #fragment.
// --strip-csp opens a copy without the Content-Security-Policy <meta>: the escaping alone must
// hold, the CSP is only defence in depth. --screenshot saves a PNG of the 1200x900 viewport, or
// with --height of the top PX pixels of the page.
// Prints one JSON object: {"ok", every finding}. Exits 0 when ok, 1 when not, 2 on bad usage
// or when Chromium cannot be started.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

import { chromium } from "playwright-core";

const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const CSP_META = /<meta http-equiv="Content-Security-Policy"[^>]*>/i;

function parseArgs(argv) {
  const args = { report: null, screenshot: null, height: 0, stripCsp: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--screenshot" && i + 1 < argv.length) args.screenshot = argv[++i];
    else if (argv[i] === "--height" && Number(argv[i + 1]) > 0) args.height = Number(argv[++i]);
    else if (argv[i] === "--strip-csp") args.stripCsp = true;
    else if (!args.report && !argv[i].startsWith("--")) args.report = argv[i];
    else return null;
  }
  return args.report ? args : null;
}

// What the page holds that a report must never hold; runs inside the page.
function inspectPage() {
  const forbidden = "script, img, svg, iframe, object, embed, form, base, meta[http-equiv=refresh i]";
  const handlers = [];
  for (const element of document.querySelectorAll("*")) {
    for (const attribute of element.attributes) {
      if (attribute.name.toLowerCase().startsWith("on")) {
        handlers.push(`${element.localName} ${attribute.name}`);
      }
    }
  }
  const badLinks = [...document.querySelectorAll("a[href]")]
    .map((a) => a.getAttribute("href"))
    .filter((href) => !/^(https?:\/\/|#)/i.test(href));
  return {
    pwned: window.__pwned !== undefined,
    scripts: document.querySelectorAll("script").length,
    forbidden_elements: [...document.querySelectorAll(forbidden)].map((e) => e.localName),
    event_handlers: handlers,
    bad_links: badLinks,
    title: document.title,
    host_sections: document.querySelectorAll("section.host").length,
    marks: document.querySelectorAll("mark").length,
  };
}

async function main(argv) {
  const args = parseArgs(argv);
  if (!args) {
    console.error("usage: node open-report.mjs REPORT.html [--strip-csp] " +
                  "[--screenshot PNG [--height PX]]");
    return 2;
  }
  let path = resolve(args.report);
  let scratch = null;
  if (args.stripCsp) {
    const html = readFileSync(path, "utf8");
    if (!CSP_META.test(html)) {
      console.log(JSON.stringify({ ok: false, problem: "the report has no CSP <meta> to strip" }));
      return 1;
    }
    scratch = mkdtempSync(join(tmpdir(), "open-report-"));
    path = join(scratch, "report-without-csp.html");
    writeFileSync(path, html.replace(CSP_META, ""));
  }
  const fileUrl = pathToFileURL(path).href;
  const result = { file: args.report, csp: !args.stripCsp, dialogs: [], console: [],
                   page_errors: [], requests: [] };
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
      args: CHROMIUM_ARGS,
      timeout: 60_000,
    });
  } catch (error) {
    console.log(JSON.stringify({ ok: false, problem: `Chromium did not start: ${error.message}` }));
    return 2;
  }
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on("dialog", async (dialog) => {
      result.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      await dialog.dismiss();
    });
    page.on("console", (message) => result.console.push(`${message.type()}: ${message.text()}`));
    page.on("pageerror", (error) => result.page_errors.push(String(error)));
    page.on("request", (request) => {
      if (request.url() !== fileUrl) result.requests.push(request.url());
    });
    page.on("popup", (popup) => result.requests.push(`popup ${popup.url()}`));
    await page.goto(fileUrl, { waitUntil: "load", timeout: 30_000 });
    await page.waitForTimeout(300);  // for anything a payload would schedule
    Object.assign(result, await page.evaluate(inspectPage));
    result.final_url_is_file = page.url() === fileUrl;
    if (args.screenshot) {
      const clip = args.height ? { x: 0, y: 0, width: 1200, height: args.height } : undefined;
      await page.screenshot({ path: args.screenshot, fullPage: Boolean(clip), clip });
      result.screenshot = args.screenshot;
    }
  } finally {
    await browser.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
  result.ok = !result.pwned && result.scripts === 0 && result.forbidden_elements.length === 0 &&
    result.event_handlers.length === 0 && result.bad_links.length === 0 &&
    result.dialogs.length === 0 && result.console.length === 0 &&
    result.page_errors.length === 0 && result.requests.length === 0 && result.final_url_is_file;
  console.log(JSON.stringify(result));
  return result.ok ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
