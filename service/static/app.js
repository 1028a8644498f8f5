"use strict";
// The officers' page: plain JavaScript, no build step.
const $ = (id) => document.getElementById(id);

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { "Content-Type": "application/json", ...(options.headers || {}) },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail || body);
    throw new Error(`${response.status}: ${detail}`);
  }
  return body;
}

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  Object.entries(attrs).forEach(([k, v]) => node.setAttribute(k, v));
  if (text) node.textContent = text;
  return node;
}

async function loadInfo() {
  try {
    const h = await api("/health");
    $("index-info").textContent = `색인 버전 / index version ${h.index_version} · ${h.count} 기술 / technologies`;
  } catch (err) {
    $("index-info").textContent = `색인 정보를 읽을 수 없습니다 / cannot read index: ${err.message}`;
  }
}

async function search(event) {
  event.preventDefault();
  const query = $("query").value.trim();
  const topK = parseInt($("top-k").value, 10) || 10;
  $("results").replaceChildren();
  if (!query) { $("status").textContent = "수요를 입력하세요 / enter a demand"; return; }
  $("status").textContent = "검색 중… / searching…";
  try {
    const hits = await api("/api/search", { method: "POST", body: JSON.stringify({ query, top_k: topK }) });
    $("status").textContent = `${hits.length}건 / results`;
    for (const h of hits) {
      const li = el("li", { class: "hit", "data-id": h.id });
      li.append(el("span", { class: "score" }, h.score.toFixed(3)), " ", el("strong", {}, h.title));
      if (h.title_en) li.append(el("div", { class: "meta" }, h.title_en));
      li.append(el("div", { class: "meta" }, `${h.id} · ${h.institutions.join(", ")} · ${h.ipc.join(" ")}`));
      $("results").append(li);
    }
  } catch (err) {
    $("status").replaceChildren(el("span", { class: "error" }, `오류 / error ${err.message}`));
  }
}

$("search-form").addEventListener("submit", search);
loadInfo();
