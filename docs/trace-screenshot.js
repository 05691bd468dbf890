// docs/trace-screenshot.js URL OUT.png: the README's trace screenshot.
// Opens a trace in Jaeger's UI with headless Chromium (Debian's package),
// opens the POST span's detail (its tags and references: the links to
// the events it carried) and saves the page. Needs puppeteer-core
// (npm i puppeteer-core@23, no browser download) and a Jaeger started
// with JAEGER_UI_ASSETS, as `DEMO_TRACES=1 DEMO_HOLD=1 scripts/demo` does.
const puppeteer = require('puppeteer-core');
const pause = ms => new Promise(r => setTimeout(r, ms));
(async () => {
  const [url, out] = process.argv.slice(2);
  const browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium', headless: 'new',
    args: ['--no-sandbox', '--disable-gpu', '--hide-scrollbars']});
  const page = await browser.newPage();
  await page.setViewport({width: 1500, height: 1000});
  await page.goto(url, {waitUntil: 'networkidle0'});
  for (const row of await page.$$('.span-name-wrapper, .span-name')) {
    if ((await page.evaluate(e => e.textContent, row)).includes('POST')) {
      await row.click();
      break;
    }
  }
  await pause(800);
  for (const sel of ['.AccordianKeyValues--header', '.AccordianReferences--header'])
    for (const h of await page.$$(sel)) {
      await h.click();
      await pause(200);
    }
  await pause(800);
  await page.screenshot({path: out, fullPage: true});
  await browser.close();
})();
