// The import progress page, enhanced: the bar and the line under it follow the import by polling its
// status, and the page reloads into the result when the import ends. Without JavaScript the page's
// "Check progress" button does the same by hand (a <meta> refresh is not used: WCAG 2.2.1, axe "meta-refresh").
const box = document.querySelector("[data-import-progress]");

function describe(status) {
  if (status.stage === "queued") return "Waiting for another import to finish.";
  if (status.stage === "reading") return `Reading: ${status.rows_read.toLocaleString("en-GB")} rows so far (${status.percent}%).`;
  return `Writing ${status.rows_read.toLocaleString("en-GB")} rows to the database.`;
}

async function poll() {
  let status = null;
  try {
    const response = await fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" } });
    status = response.ok ? await response.json() : null;
  } catch {
    status = null; // a dropped connection: try again at the next tick
  }
  if (status && !status.running) {
    window.location.reload();
    return;
  }
  if (status) {
    box.querySelector("progress").value = status.percent;
    box.querySelector("progress").textContent = `${status.percent}%`;
    box.querySelector("[data-import-stage]").textContent = describe(status);
  }
  window.setTimeout(poll, 1500);
}

if (box) window.setTimeout(poll, 1500);
