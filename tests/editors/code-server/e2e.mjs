// Drives code-server's workbench in Chromium (playwright-core) for test_code_server.py.
// Input: env CS_STEPS (JSON), CS_OUT (a folder), CS_MODULES (node_modules' parent). Output: CS_OUT/result.json and
// CS_OUT/vscode.png. Each wait names what it waited for, so a failure says what was missing.
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

// playwright-core lives in the test's cache folder (CS_MODULES), not next to this file.
const { chromium } = createRequire(join(process.env.CS_MODULES, "noop.js"))("playwright-core");

const out = process.env.CS_OUT;
const steps = JSON.parse(process.env.CS_STEPS);
const result = { steps: [], errors: [] };
const T = Number(process.env.CS_WAIT_MS ?? 60000);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
const mod = process.platform === "darwin" ? "Meta" : "Control";

async function waitFor(what, fn, arg) {
  const started = Date.now();
  try {
    await page.waitForFunction(fn, arg, { timeout: T, polling: 200 });
  } catch (e) {
    throw new Error(`timed out after ${Date.now() - started} ms waiting for ${what}`);
  }
}

async function command(name) {
  await page.keyboard.press("F1");
  await page.waitForSelector(".quick-input-widget:not([style*='display: none']) input", { timeout: T });
  await page.keyboard.type(name, { delay: 5 });
  await page.waitForTimeout(300);
  await page.keyboard.press("Enter");
}

async function openFile(file) {
  await page.keyboard.press(`${mod}+KeyP`);
  await page.waitForSelector(".quick-input-widget:not([style*='display: none']) input", { timeout: T });
  await page.keyboard.type(file, { delay: 5 });
  await waitFor(`quick open to list ${file}`, (f) => [...document.querySelectorAll(".quick-input-list .monaco-list-row")]
    .some((r) => r.textContent.includes(f.split("/").pop())), file);
  await page.keyboard.press("Enter");
  const name = file.split("/").pop();
  await waitFor(`an editor tab for ${name}`, (n) => [...document.querySelectorAll(".tab.active")].some((t) => t.textContent.includes(n)), name);
  await page.waitForSelector(".editor-instance .monaco-editor .view-lines", { timeout: T });
}

async function goTo(line, column) {
  await page.keyboard.press(`${mod}+KeyG`);
  await page.waitForSelector(".quick-input-widget:not([style*='display: none']) input", { timeout: T });
  await page.keyboard.type(`${line}:${column}`, { delay: 5 });
  await page.keyboard.press("Enter");
  await page.waitForTimeout(300);
}

const problemsText = () => [...document.querySelectorAll(".markers-panel .monaco-list-row")].map((r) => r.textContent);

const actions = {
  async load(step) {
    await page.goto(step.url, { waitUntil: "domcontentloaded", timeout: T });
    await page.waitForSelector(".monaco-workbench", { timeout: T });
    await page.waitForTimeout(1000);
    await command("View: Close Secondary Side Bar"); // room for the editor in the screenshot
    return {};
  },
  async open(step) {
    await openFile(step.file);
    return {};
  },
  async problems(step) {
    await command("View: Focus Problems");
    // the list is virtualised: with many findings the expected row may be out of view, so
    // narrow it with the panel's own filter box first. The panel redraws while findings
    // arrive and may drop what was typed, so the filter is typed again until the row shows,
    // and the rows returned are the ones read at that moment (a later read may catch a redraw).
    const box = step.filter ? page.locator(".viewpane-filter input, .markers-panel-action-filter input").first() : null;
    if (box) await box.waitFor({ timeout: T });
    const started = Date.now();
    for (;;) {
      const rows = await page.evaluate(problemsText);
      if (rows.some((r) => r.includes(step.expect))) return { rows };
      if (Date.now() - started > T) {
        throw new Error(`timed out after ${Date.now() - started} ms waiting for the Problems panel to show "${step.expect}"; it shows ${JSON.stringify(rows).slice(0, 500)}`);
      }
      if (box && (await box.inputValue()) !== step.filter) await box.fill(step.filter);
      await page.waitForTimeout(500);
    }
  },
  async hover(step) {
    await openFile(step.file);
    await goTo(step.line, step.column);
    await command("Show or Focus Hover");
    await waitFor(`a hover containing "${step.expect}"`, (x) =>
      [...document.querySelectorAll(".monaco-hover")].some((h) => h.offsetParent !== null && h.textContent.includes(x)), step.expect);
    const text = await page.evaluate(() => [...document.querySelectorAll(".monaco-hover")]
      .filter((h) => h.offsetParent !== null).map((h) => h.textContent).join("\n"));
    return { hover: text };
  },
  async statusbar(step) {
    await waitFor(`a status bar item matching ${step.expect}`, (x) =>
      [...document.querySelectorAll(".statusbar-item")].some((i) => new RegExp(x).test(i.textContent)), step.expect);
    const items = await page.evaluate(() => [...document.querySelectorAll(".statusbar-item")].map((i) => i.textContent).filter((t) => t.includes("Ponder")));
    return { items };
  },
  // Type `step.text` on a new line at the end of `step.file` as a person does, wait for the
  // suggestion `step.label` and accept the selected one with Enter; return the line's text.
  async complete(step) {
    await openFile(step.file);
    await page.locator(".editor-instance .monaco-editor .view-lines").first().click();
    await page.keyboard.press(`${mod}+End`);
    await page.keyboard.press("Enter");
    await page.keyboard.type(step.text, { delay: 30 });
    await waitFor(`a suggestion "${step.label}"`, (x) =>
      [...document.querySelectorAll(".suggest-widget .monaco-list-row")].some((r) => r.textContent.includes(x)), step.label);
    const first = await page.evaluate(() => document.querySelector(".suggest-widget .monaco-list-row.focused")?.textContent ?? "");
    await page.keyboard.press("Enter");
    await page.waitForTimeout(500);
    // the cursor's line: the view line at the cursor's height (spaces render as U+00A0)
    const line = await page.evaluate(() => {
      const cursor = document.querySelector(".editor-instance .monaco-editor .cursor");
      const top = cursor ? cursor.getBoundingClientRect().top : 0;
      const lines = [...document.querySelectorAll(".editor-instance .monaco-editor .view-line")];
      const at = lines.find((l) => { const r = l.getBoundingClientRect(); return r.top <= top + 2 && r.bottom >= top + 2; });
      return (at ? at.textContent : "").replace(/\u00a0/g, " ");
    });
    return { first, line };
  },
  async screenshot(step) {
    await page.screenshot({ path: join(out, step.name) });
    return {};
  },
};

try {
  for (const step of steps) {
    const started = Date.now();
    const got = await actions[step.action](step);
    result.steps.push({ action: step.action, ms: Date.now() - started, ...got });
  }
} catch (e) {
  result.errors.push(`step ${result.steps.length + 1} (${steps[result.steps.length]?.action}): ${e.message}`);
  await page.screenshot({ path: join(out, "failure.png") }).catch(() => {});
}
writeFileSync(join(out, "result.json"), JSON.stringify(result, null, 1));
await browser.close();
