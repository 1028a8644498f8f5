"use strict";
// The officers' page: plain JavaScript, no build step. All data is rendered with textContent.
const $ = (id) => document.getElementById(id);
const KEY_STORAGE = "matcher.key";

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// ---------- helpers ----------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const child of children) {
    if (child !== undefined && child !== null && child !== "") node.append(child);  // strings become text nodes
  }
  return node;
}

const clip = (text, n = 200) => (text && text.length > n ? `${text.slice(0, n)}…` : text);
const fmt = (x, digits = 3) => (typeof x === "number" && Number.isFinite(x) ? x.toFixed(digits) : "–");

function labelled(label, value, cls) {
  return el("div", { class: cls }, el("span", { class: "label" }, `${label}: `), value);
}

function describeDetail(detail) {
  if (Array.isArray(detail)) {  // pydantic 422: [{loc, msg, ...}]
    return detail
      .map((d) => (d && typeof d === "object" ? `${(d.loc || []).join(".")}: ${d.msg || ""}` : String(d)))
      .join("; ");
  }
  if (typeof detail === "string") return detail;
  return detail === undefined ? "" : JSON.stringify(detail);
}

function errorText(err) {
  const prefix = {
    401: "키가 없거나 올바르지 않습니다 / missing or unknown key",
    403: "권한이 부족합니다 / your role is not allowed to do this",
    422: "입력이 올바르지 않습니다 / invalid input",
  }[err.status];
  const status = err.status ? `${err.status} ` : "";
  return prefix ? `${status}${prefix}${err.message ? ` — ${err.message}` : ""}` : `${status}${err.message}`;
}

function setStatus(text, kind = "info") {
  const status = $("status");
  status.replaceChildren(el("span", { class: kind }, text));
}

// ---------- API ----------

function currentKey() {
  return sessionStorage.getItem(KEY_STORAGE) || "";
}

async function api(path, { method = "GET", body, key = currentKey() } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (key) headers.Authorization = `Bearer ${key}`;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new ApiError(0, `서버에 연결할 수 없습니다 / cannot reach the server (${err.message})`);
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = data && data.detail;
    // {"detail": "..."}; or pydantic's list in detail; or a list of field errors beside an empty detail
    const message = describeDetail(detail) || (data && Array.isArray(data.errors) ? describeDetail(data.errors) : "");
    throw new ApiError(response.status, message);
  }
  return data;
}

// ---------- key ----------

function showKeyState(me) {
  const known = Boolean(me);
  $("key-form").hidden = known;
  $("key-state").hidden = !known;
  $("key-who").textContent = known
    ? `키 확인됨 / key accepted — 역할 / role: ${me.role || "?"}${me.institution ? ` · 기관 / institution: ${me.institution}` : ""}`
    : "";
}

function forgetKey() {
  sessionStorage.removeItem(KEY_STORAGE);
  showKeyState(null);
  $("key").value = "";
  $("key").focus();
}

async function saveKey(event) {
  event.preventDefault();
  const key = $("key").value.trim();
  if (!key) {
    setStatus("키를 입력하세요 / enter a key", "error");
    return;
  }
  setStatus("키 확인 중… / checking key…");
  try {
    const me = await api("/api/me", { key });
    sessionStorage.setItem(KEY_STORAGE, key);
    showKeyState(me);
    setStatus("키가 저장되었습니다 / key saved");
    $("demand").focus();
  } catch (err) {
    sessionStorage.removeItem(KEY_STORAGE);
    showKeyState(null);
    setStatus(`키 오류 / key rejected: ${errorText(err)}`, "error");
  }
}

async function restoreKey() {
  if (!currentKey()) {
    showKeyState(null);
    return;
  }
  try {
    showKeyState(await api("/api/me"));
  } catch (err) {
    if (err.status === 401) forgetKey();
    else showKeyState(null);
    setStatus(`저장된 키를 사용할 수 없습니다 / stored key not usable: ${errorText(err)}`, "error");
  }
}

// ---------- rendering ----------

function renderMatches(data) {
  const list = $("matches");
  list.replaceChildren();
  const reqs = data.requirements || [];
  if (!data.matches || data.matches.length === 0) {
    list.append(el("li", { class: "empty" }, "매칭 결과 없음 / no matches"));
    return;
  }
  for (const m of data.matches) {
    const ev = m.evidence || {};
    const covers = new Set(m.covers || []);
    const li = el("li", { class: "match", "data-id": m.id });
    li.append(
      el("div", { class: "head" },
        el("span", { class: "score", title: "점수 / score" }, fmt(m.score)), " ",
        el("strong", { class: "title" }, m.title || m.id)),
    );
    if (m.title_en) li.append(el("div", { class: "title-en meta" }, m.title_en));
    li.append(labelled("기관 / Institutions", `${(m.institutions || []).join(", ") || "–"} · ${m.id}`, "institutions meta"));

    const rows = ev.requirements || reqs.map((text, index) => ({ index, text, coverage: (m.coverage || [])[index] }));
    if (rows.length) {
      const ul = el("ul", { class: "requirements" });
      for (const r of rows) {
        const covered = covers.has(r.index);
        ul.append(el("li", { class: covered ? "covered" : "uncovered" },
          `${covered ? "✓" : "·"} ${r.text} (${fmt(r.coverage, 2)})`));
      }
      li.append(el("div", { class: "covers" },
        el("span", { class: "label" }, `충족 요구사항 / Covered requirements (${covers.size}/${rows.length}): `), ul));
    }
    const evidence = el("div", { class: "evidence" });
    if (ev.best_sentence) {
      evidence.append(el("div", { class: "label" }, "근거 문장 / Best sentence:"),
        el("blockquote", { class: "best-sentence" }, ev.best_sentence));
    }
    if (ev.shared_terms && ev.shared_terms.length) {
      evidence.append(labelled("공통 용어 / Shared terms", ev.shared_terms.join(", "), "shared-terms"));
    }
    if (ev.ipc && ev.ipc.length) evidence.append(labelled("IPC", ev.ipc.join(" "), "ipc"));
    const comps = ev.score_components || {};
    if (Object.keys(comps).length) {
      const dl = el("dl", { class: "components" });
      for (const [k, v] of Object.entries(comps)) {
        dl.append(el("dt", {}, k), el("dd", {}, typeof v === "number" ? fmt(v) : JSON.stringify(v)));
      }
      evidence.append(el("details", {}, el("summary", {}, "점수 구성 / Score components"), dl));
    }
    li.append(evidence);
    const button = el("button", { type: "button", class: "licensee-button" }, "라이선스 후보 / Licensees");
    button.addEventListener("click", () => loadLicensees({ technology_id: m.id }, m.title || m.id));
    li.append(button);
    list.append(li);
  }
}

function renderBundles(data) {
  const box = $("bundles");
  box.replaceChildren();
  if (data.single_institution) {
    box.append(el("p", { class: "single-institution" },
      `단일 기관 충족 / single institution covers all: ${data.single_institution}`));
  }
  if (!data.bundles || data.bundles.length === 0) {
    box.append(el("p", { class: "empty" }, "융합 번들 없음 / no bundles"));
    return;
  }
  data.bundles.forEach((b, n) => {
    const titles = Object.fromEntries((b.members || []).map((id, i) => [id, (b.titles || [])[i] || id]));
    const gaps = new Set(b.gaps || []);
    const div = el("article", { class: "bundle", "data-members": (b.members || []).join(" ") });
    div.append(el("h3", {}, `번들 / Bundle ${n + 1} `, el("span", { class: "score" }, fmt(b.score))));
    div.append(labelled("기관 / Institutions", (b.institutions || []).join(", ") || "–", "institutions meta"));
    const members = el("ul", { class: "members" });
    for (const id of b.members || []) members.append(el("li", {}, `${titles[id]} (${id})`));
    div.append(el("div", { class: "label" }, "구성 기술 / Members:"), members);

    const table = el("table", { class: "coverage" });
    table.append(
      el("caption", {}, "요구사항 충족표 / Coverage table"),
      el("thead", {}, el("tr", {},
        el("th", { scope: "col" }, "요구사항 / Requirement"),
        el("th", { scope: "col" }, "담당 기술 / Member"),
        el("th", { scope: "col" }, "점수 / Score"))),
    );
    const tbody = el("tbody");
    for (const row of b.coverage || []) {
      const gap = gaps.has(row.requirement);
      tbody.append(el("tr", { class: gap ? "gap" : "covered" },
        el("td", {}, row.text || `#${row.requirement}`),
        el("td", {}, row.member ? `${titles[row.member] || row.member}` : "–"),
        el("td", {}, fmt(row.score, 2), gap ? el("span", { class: "gap-mark" }, " 미충족 / gap") : "")));
    }
    table.append(tbody);
    div.append(table);
    const reqs = data.requirements || [];
    const gapText = [...gaps].map((j) => reqs[j] || `#${j}`).join("; ");
    div.append(el("p", { class: gaps.size ? "gaps" : "gaps none" },
      gaps.size ? `미충족 요구사항 / Gaps: ${gapText}` : "미충족 요구사항 없음 / no gaps"));
    const button = el("button", { type: "button", class: "licensee-button" }, "번들 라이선스 후보 / Licensees for this bundle");
    button.addEventListener("click", () => loadLicensees({ members: b.members }, `번들 / Bundle ${n + 1}`));
    div.append(button);
    box.append(div);
  });
}

const EVIDENCE_TYPES = {
  portfolio: "보유 특허 / portfolio",
  coapplication: "공동출원 / co-application",
  demand: "수요 / demand",
  industry: "업종 / industry",
};

function renderLicensees(list) {
  const ol = $("licensees");
  ol.replaceChildren();
  if (!Array.isArray(list) || list.length === 0) {
    ol.append(el("li", { class: "empty" }, "후보 없음 / no candidates"));
    return;
  }
  for (const c of list) {
    const li = el("li", { class: "licensee" });
    li.append(el("div", { class: "head" },
      el("span", { class: "score" }, fmt(c.score)), " ", el("strong", { class: "company" }, c.company)));
    const aliases = (c.aliases || []).filter((a) => a !== c.company);
    if (aliases.length) li.append(labelled("다른 이름 / Also known as", aliases.join(", "), "aliases meta"));
    const signals = Object.entries(c.signals || {}).map(([k, v]) => `${k} ${fmt(v, 2)}`).join(", ");
    if (signals) li.append(labelled("신호 / Signals", signals, "signals meta"));
    const evidence = c.evidence || [];
    if (evidence.length) {
      const ul = el("ul", { class: "evidence" });
      for (const e of evidence) {
        const parts = [e.title, clip(e.text), e.id && `(${e.id})`, clip(e.detail),
          !e.detail && e.codes && e.codes.length && `[${e.codes.join(" ")}]`,
          typeof e.similarity === "number" && `유사도 / similarity ${fmt(e.similarity, 2)}`]
          .filter(Boolean).join(" ");
        ul.append(el("li", {}, el("span", { class: "label" }, `${EVIDENCE_TYPES[e.type] || e.type}: `), parts));
      }
      li.append(ul);
    }
    ol.append(li);
  }
}

// ---------- actions ----------

let licenseeRequest = 0;

async function loadLicensees(target, label) {
  const mine = ++licenseeRequest;
  $("licensee-target").textContent = `대상 / For: ${label}`;
  $("licensees").replaceChildren(el("li", { class: "muted" }, "불러오는 중… / loading…"));
  try {
    const data = await api("/api/licensees", { method: "POST", body: { ...target, top_k: 5 } });
    if (mine === licenseeRequest) renderLicensees(data);
  } catch (err) {
    if (mine !== licenseeRequest) return;
    const unavailable = err.status === 404 || err.status === 405 || err.status === 501;
    $("licensees").replaceChildren(el("li", { class: unavailable ? "unavailable" : "error" }, unavailable
      ? "후보 기능 준비 중 / licensees not available"
      : `오류 / error: ${errorText(err)}`));
  }
}

function demandBody() {
  const text = $("demand").value.trim();
  const requirements = $("requirements").value.split("\n").map((s) => s.trim()).filter(Boolean);
  const body = {};
  if (text) body.text = text;
  if (requirements.length) body.requirements = requirements;
  return body;
}

async function submitDemand(event) {
  event.preventDefault();
  const body = demandBody();
  if (!body.text && !body.requirements) {
    setStatus("수요를 입력하세요 / enter a demand", "error");
    return;
  }
  if (!currentKey()) {
    setStatus("먼저 API 키를 저장하세요 / save your API key first", "error");
    $("key").focus();
    return;
  }
  const topK = Math.min(100, Math.max(1, parseInt($("top-k").value, 10) || 10));
  for (const id of ["matches", "bundles", "licensees"]) $(id).replaceChildren();
  $("licensee-target").textContent = "";
  $("submit").disabled = true;
  setStatus("매칭 중… / matching…");
  try {
    const [matches, bundles] = await Promise.allSettled([
      api("/api/match", { method: "POST", body: { ...body, top_k: topK } }),
      api("/api/bundles", { method: "POST", body: { ...body, top_n: 5 } }),
    ]);
    const errors = [];
    if (matches.status === "fulfilled") renderMatches(matches.value);
    else errors.push(`매칭 / matches: ${errorText(matches.reason)}`);
    if (bundles.status === "fulfilled") renderBundles(bundles.value);
    else errors.push(`번들 / bundles: ${errorText(bundles.reason)}`);
    if ([matches, bundles].some((r) => r.status === "rejected" && r.reason.status === 401)) forgetKey();
    if (errors.length) {
      setStatus(`오류 / error — ${errors.join(" | ")}`, "error");
    } else {
      const n = matches.value.matches.length;
      setStatus(`${n}건 매칭, 번들 ${bundles.value.bundles.length}개 / ${n} matches, ${bundles.value.bundles.length} bundles`);
    }
    if (matches.status === "fulfilled" && matches.value.matches.length) {
      const top = matches.value.matches[0];
      await loadLicensees({ technology_id: top.id }, `${top.title || top.id} (1위 / top match)`);
    }
  } finally {
    $("submit").disabled = false;
  }
}

async function loadInfo() {
  try {
    const h = await api("/health", { key: "" });
    $("index-info").textContent = `색인 버전 / index version ${h.index_version} · ${h.count} 기술 / technologies`;
  } catch (err) {
    $("index-info").textContent = `색인 정보를 읽을 수 없습니다 / cannot read index: ${errorText(err)}`;
  }
}

$("key-form").addEventListener("submit", saveKey);
$("change-key").addEventListener("click", forgetKey);
$("demand-form").addEventListener("submit", submitDemand);
loadInfo();
restoreKey();
