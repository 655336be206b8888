// Précis window: drop a file, watch the summary and translation stream in beside the original.
"use strict";
const { invoke, Channel } = window.__TAURI__.core;
const $ = (id) => document.getElementById(id);
const queue = [];
let busy = false;

function paragraph(id, text) {
  const p = document.createElement("p");
  p.dataset.pid = id;
  p.textContent = text;
  p.addEventListener("mouseenter", () => highlight(id, true));
  p.addEventListener("mouseleave", () => highlight(id, false));
  return p;
}

function highlight(id, on) {
  document.querySelectorAll(`[data-pid="${CSS.escape(id)}"]`).forEach((el) => el.classList.toggle("hl", on));
}

function showError(err) {
  const e = $("error");
  e.textContent = err && err.message ? err.message : String(err);
  e.hidden = false;
}

async function process(path) {
  busy = true;
  $("error").hidden = true;
  $("cancel").disabled = false;
  $("progress").hidden = false;
  ["original", "summary", "translation"].forEach((id) => ($(id).textContent = ""));
  $("status").textContent = path;
  try {
    const doc = await invoke("read_article", { path });
    const original = $("original");
    const h = document.createElement("h3");
    h.textContent = doc.title;
    original.append(h, ...doc.paragraphs.map((p) => paragraph(p.id, p.text)));

    const streaming = new Map();
    const onEvent = new Channel();
    onEvent.onmessage = (ev) => {
      if (ev.event === "progress") {
        $("progress").max = Math.max(ev.total, 1);
        $("progress").value = ev.done;
        $("status").textContent = `${ev.stage.replace(/_/g, " ")} ${ev.done}/${ev.total}`;
      } else if (ev.event === "token") {
        const key = ev.paragraph_id || ev.stage;
        let el = streaming.get(key);
        if (!el) {
          el = paragraph(ev.paragraph_id || "", "");
          (ev.stage === "summarizing" || ev.stage === "translating_summary" ? $("summary") : $("translation")).append(el);
          streaming.set(key, el);
        }
        el.textContent += ev.text;
      } else if (ev.event === "paragraph_done") {
        const el = streaming.get(ev.paragraph_id);
        if (el) el.textContent = ev.text;
      }
    };
    const target = $("target").value;
    const outcome = await invoke("process_article", {
      path,
      options: {
        target,
        length: $("length").value,
        style: $("bullets").checked ? "bullets" : "prose",
        translate: $("translate").checked,
        summaryInTarget: true,
      },
      onEvent,
    });
    render(outcome);
    $("status").textContent = `${doc.title} — ${outcome.model ? outcome.model.name : "extractive summary (no model installed)"}`;
  } catch (err) {
    showError(err);
    $("status").textContent = "";
  } finally {
    busy = false;
    $("cancel").disabled = true;
    $("progress").hidden = true;
    if (queue.length) process(queue.shift());
  }
}

function render(outcome) {
  const summary = $("summary");
  summary.textContent = "";
  for (const s of [outcome.summary, outcome.summary_original].filter(Boolean)) {
    for (const point of s.points) {
      summary.append(paragraph((point.source_sentence_ids[0] || "").split(".")[0], point.text));
    }
  }
  const translation = $("translation");
  translation.textContent = "";
  if (outcome.translation) {
    const h = document.createElement("h3");
    h.textContent = outcome.translation.title;
    translation.append(h, ...outcome.translation.paragraphs.map((p) => paragraph(p.id, p.text)));
  }
}

function enqueue(paths) {
  queue.push(...paths);
  if (!busy && queue.length) process(queue.shift());
}

async function init() {
  const langs = await invoke("languages");
  for (const l of langs) {
    const o = document.createElement("option");
    o.value = l.code;
    o.textContent = l.native;
    $("target").append(o);
  }
  $("cancel").addEventListener("click", () => invoke("cancel"));
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") invoke("cancel"); });
  await window.__TAURI__.webview.getCurrentWebview().onDragDropEvent((event) => {
    const t = event.payload.type;
    $("dropzone").hidden = !(t === "enter" || t === "over");
    if (t === "drop") enqueue(event.payload.paths);
  });
}

init().catch(showError);
