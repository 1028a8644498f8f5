"use strict";
// The officers' page: plain JavaScript, no build step. All data is rendered with textContent.
// It works with the list-shaped answers (match/licensees) and with the object shapes carrying
// `relevance`, `no_good_match` and `message` (docs: service/README.md).
const $ = (id) => document.getElementById(id);
const KEY_STORAGE = "matcher.key";

// ---------- texts shown to officers (in one place) ----------

const SIGNAL_NAMES = {
  portfolio: "보유 특허 적합 / portfolio fit",
  coapplication: "공동출원 / co-applications",
  demands: "과거 수요 / past demands",
  industry: "업종 / industry",
};

const TEXT = {
  legendSignals: "후보는 보유 특허의 주제 적합도로만 정해지며, 공동출원·과거 수요·업종은 순서만 바꿉니다 / " +
    "candidates are chosen by the topical fit of their own patents; co-applications, past demands and " +
    "industry only reorder them (parts of the ranking score, not similarities).",
  // what a score means; the calibration itself is described in docs/quality.md
  legendRelevance: "적합도 / Relevance (0–100 %): 보정된 적합도 — 개발 세트에서 이 값을 받은 결과 중 실제로 맞았던 비율 / " +
    "calibrated relevance: the share of results with this value that were right on the development sets.",
  legendRaw: "점수 / Score: 보정되지 않은 원점수로, 같은 목록 안의 순서 비교에만 쓰십시오 / " +
    "raw fused score, not calibrated: compare it only within one list.",
  noGoodMatch: "요구에 충분히 맞는 기술을 찾지 못했습니다 / No good match: none of the technologies your key can see meets this demand well enough.",
  noMatches: "매칭 결과 없음 — 필터를 넓혀 보십시오 / No matches — try wider filters.",
  noBundles: "융합 번들 없음 / No bundles for this demand.",
  noCandidates: "적합한 라이선스 후보가 없습니다 / No plausible licensee candidates.",
  licenseeNotFound: "기술을 찾을 수 없거나 이 키로 볼 수 없습니다 / technology not found or not visible to your key",
  licenseesUnavailable: "후보 기능 준비 중 / licensee candidates are not available on this server",
  detailNotFound: "기술을 찾을 수 없거나 이 키로 볼 수 없습니다 / technology not found or not visible to your key",
  singleInstitution: "한 기관이 모든 요구사항을 충족합니다 / One institution covers the whole demand",
};
const KIND_LABELS = {
  single_institution: "단일 기관 / Single institution",
  convergence: "융합 옵션 / Convergence option",
};
const VERDICTS = {
  single_institution: "한 기관의 기술로 수요 전체를 충족합니다 / one institution covers the whole demand",
  convergence: "여러 기관의 기술을 묶어야 수요를 충족합니다 / covering the demand takes several institutions (convergence)",
  partial: "일부 요구사항만 충족됩니다 / only part of the demand is covered",
  none: "충족하는 기술 묶음이 없습니다 / no set of technologies covers this demand",
};
const EVIDENCE_TYPES = {
  portfolio: "보유 특허 / portfolio",
  coapplication: "공동출원 / co-application",
  demand: "수요 / demand",
  industry: "업종 / industry",
};
const INACTIVE = new Set(["소멸", "거절", "취하", "포기", "lapsed", "refused", "withdrawn", "abandoned"]);

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
    if (child !== undefined && child !== null && child !== "" && child !== false) node.append(child);  // strings become text nodes
  }
  return node;
}

const clip = (text, n = 200) => (text && text.length > n ? `${text.slice(0, n)}…` : text);
const fmt = (x, digits = 3) => (typeof x === "number" && Number.isFinite(x) ? x.toFixed(digits) : "–");
const isNum = (x) => typeof x === "number" && Number.isFinite(x);
const pct = (x) => `${Math.round(Math.max(0, Math.min(1, x)) * 100)}%`;
const list = (xs, sep = ", ") => (Array.isArray(xs) ? xs.filter(Boolean).join(sep) : (xs || ""));

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
    413: "요청이 너무 큽니다 / request too large",
    422: "입력이 올바르지 않습니다 / invalid input",
  }[err.status];
  const status = err.status ? `${err.status} ` : "";
  return prefix ? `${status}${prefix}${err.message ? ` — ${err.message}` : ""}` : `${status}${err.message}`;
}

function setStatus(text, kind = "info") {
  $("status").replaceChildren(el("span", { class: kind }, text));
}

// answers in either shape
const matchesOf = (data) => (Array.isArray(data) ? data : (data && data.matches) || []);
const candidatesOf = (data) => (Array.isArray(data) ? data : (data && data.candidates) || []);
const noGoodMatch = (data) => Boolean(data && !Array.isArray(data) && data.no_good_match);
const messageOf = (data) => (data && !Array.isArray(data) && typeof data.message === "string" ? data.message : "");

// ---------- API ----------

function currentKey() {
  return sessionStorage.getItem(KEY_STORAGE) || "";
}

async function request(path, { method = "GET", body, key = currentKey(), accept = "application/json" } = {}) {
  const headers = { Accept: accept };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (key) headers.Authorization = `Bearer ${key}`;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new ApiError(0, `서버에 연결할 수 없습니다 / cannot reach the server (${err.message})`);
  }
  if (!response.ok) {
    const data = await response.json().catch(() => ({}));
    const detail = data && data.detail;
    // {"detail": "..."}; or pydantic's list in detail; or a list of field errors beside an empty detail
    const message = describeDetail(detail) || (data && Array.isArray(data.errors) ? describeDetail(data.errors) : "");
    throw new ApiError(response.status, message);
  }
  return response;
}

async function api(path, options = {}) {
  const response = await request(path, options);
  return response.json().catch(() => ({}));
}

// ---------- key, counts, institutions ----------

function showKeyState(me) {
  const known = Boolean(me);
  $("key-form").hidden = known;
  $("key-state").hidden = !known;
  $("key-who").textContent = known
    ? `키 확인됨 / key accepted — 역할 / role: ${me.role || "?"}${me.institution ? ` · 기관 / institution: ${me.institution}` : ""}`
    : "";
}

async function keyAccepted(me) {
  records.clear();
  showKeyState(me);
  showMeetingSections(me);
  await Promise.all([loadVisibleCount(), loadInstitutions(), loadAlerts()]);
}

// ---------- alerts of the key's saved demands ----------

async function loadAlerts() {
  const body = document.querySelector("#alerts tbody");
  $("alerts-section").hidden = false;
  try {
    const rows = await api("/api/alerts");
    body.replaceChildren(...rows.map((a) => el("tr", {},
      el("td", {}, a.title || a.technology, el("br"), el("small", { class: "muted" }, a.technology)),
      el("td", {}, a.demand_title || "", el("small", { class: "muted" }, ` #${a.demand}`)),
      el("td", {}, fmt(a.score, 2)),
      el("td", {}, el("small", {}, a.version)))));
    $("alerts-message").textContent = rows.length ? ""
      : "저장된 수요의 새 매칭이 없습니다 / no new matches for your saved demands";
  } catch (err) {
    body.replaceChildren();
    $("alerts-message").textContent = `알림을 읽을 수 없습니다 / cannot read alerts: ${errorText(err)}`;
  }
}

// ---------- meetings: the organiser's plans and grid; an officer's own meetings ----------

const ORGANISING = new Set(["organiser", "admin"]);
const PLAN_STATUS = {
  draft: "초안 / draft",
  published: "게시됨 / published",
  superseded: "대체됨 / superseded",
};
let shownPlan = null;  // the plan open in the organiser view
let myInstitution = null;  // an officer key's institution (its agenda)

function showMeetingSections(me) {
  const organiser = Boolean(me && ORGANISING.has(me.role));
  myInstitution = (me && me.institution) || null;
  $("organiser-section").hidden = !organiser;
  $("meetings-section").hidden = !me || organiser;
  if (organiser) {
    prefillEvent();
    loadPlans();
  } else if (me) {
    loadMyMeetings();
  }
}

function hideMeetingSections() {
  shownPlan = null;
  $("organiser-section").hidden = true;
  $("meetings-section").hidden = true;
  $("plan-view").hidden = true;
  document.querySelector("#plans tbody").replaceChildren();
  $("my-meetings").replaceChildren();
}

async function prefillEvent() {
  if ($("event-json").value.trim()) return;
  try {
    const response = await fetch("event-example.json");
    if (response.ok && !$("event-json").value.trim()) $("event-json").value = await response.text();
  } catch (err) {
    // no example: the organiser pastes or uploads an event
  }
}

async function readEventFile() {
  const file = $("event-file").files[0];
  if (file) $("event-json").value = await file.text();
}

async function downloadPacket(path, fallback) {
  try {
    const response = await request(path, { accept: "*/*" });
    const url = URL.createObjectURL(await response.blob());
    const a = el("a", { href: url, download: filenameOf(response, fallback) });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (err) {
    setStatus(`자료 오류 / packet failed: ${errorText(err)}`, "error");
  }
}

function packetButton(label, path, fallback) {
  const b = el("button", { type: "button", class: "packet" }, label);
  b.addEventListener("click", () => downloadPacket(path, fallback));
  return b;
}

const meetingLine = (m) => `${m.company} ↔ ${list(m.institutions, " + ")}`;

function objectiveText(plan) {
  const o = plan.objective || {};
  const b = plan.baseline_objective || {};
  const s = plan.solver || {};
  const companies = ((plan.event || {}).companies || []).length;
  return `상담 / meetings ${o.meetings} (기준 / greedy baseline ${b.meetings}) · ` +
    `상담 기업 / companies met ${o.companies_met}/${companies} (기준 / baseline ${b.companies_met}) · ` +
    `필수 요청 / musts met ${o.musts_met} (기준 / baseline ${b.musts_met}) · ` +
    `점수 합 / total score ${fmt(o.total_score, 2)} (기준 / baseline ${fmt(b.total_score, 2)}) · ` +
    `CP-SAT ${s.status || "?"} ${fmt(s.seconds, 1)} s`;
}

function gridCell(meeting) {
  if (!meeting) return el("td", { class: "free" }, "–");
  const bundle = meeting.kind === "bundle";
  return el("td", { class: bundle ? "meeting bundle" : "meeting", "data-meeting": meeting.id, title: list(meeting.technologies) },
    el("div", { class: "who" }, meetingLine(meeting)),
    el("div", { class: "meta" },
      el("span", { class: "score" }, fmt(meeting.score, 2)),
      bundle ? el("span", { class: "kind-label" }, " 번들 / bundle") : "",
      meeting.must ? el("span", { class: "kind-label" }, " 필수 / must") : "",
      el("small", { class: "muted" }, ` ${meeting.id}`)),
    shownPlan ? packetButton("PDF", `/api/meetings/plans/${encodeURIComponent(shownPlan.id)}/meetings/${encodeURIComponent(meeting.id)}.pdf`,
      `${meeting.id}.pdf`) : "");
}

function renderGrid(plan) {
  const event = plan.event || {};
  const tables = Array.from({ length: event.tables || 0 }, (_, i) => i + 1);
  const at = new Map(plan.meetings.map((m) => [`${m.slot}#${m.table}`, m]));
  const ends = new Map(plan.meetings.map((m) => [m.slot, m.end]));
  $("plan-grid").tHead.replaceChildren(el("tr", {}, el("th", {}, "시간 / Slot"),
    ...tables.map((t) => el("th", {}, `테이블 / Table ${t}`))));
  $("plan-grid").tBodies[0].replaceChildren(...(event.slots || []).map((slot) => el("tr", { "data-slot": slot },
    el("th", {}, ends.has(slot) ? `${slot}–${ends.get(slot)}` : slot),
    ...tables.map((t) => gridCell(at.get(`${slot}#${t}`))))));
}

function renderPlan(stored) {
  const plan = stored.plan;
  shownPlan = stored;
  $("plan-view").hidden = false;
  $("plan-title").textContent = `#${stored.id} ${stored.name} · ${stored.date} · ${PLAN_STATUS[stored.status] || stored.status}`;
  $("plan-objective").textContent = objectiveText(plan);
  const changes = plan.moved === null || plan.moved === undefined ? ""
    : `게시된 상담 유지 / published meetings kept ${plan.kept}, 이동·취소 / moved or dropped ${plan.moved}` +
      (stored.pinned_from ? ` (#${stored.pinned_from})` : "");
  $("plan-changes").hidden = !changes;
  $("plan-changes").textContent = changes;
  $("plan-publish").disabled = stored.status === "published";
  $("plan-grid-csv").onclick = () => downloadPacket(`/api/meetings/plans/${encodeURIComponent(stored.id)}/grid.csv`,
    `plan-${stored.id}-grid.csv`);
  renderGrid(plan);
  const unscheduled = plan.unscheduled || [];
  $("plan-unscheduled").replaceChildren(...(unscheduled.length
    ? unscheduled.map((u) => el("li", {}, el("strong", {}, u.institution ? `${u.company} / ${u.institution}` : u.company),
      `: ${u.reason}`))
    : [el("li", { class: "empty muted" }, "모든 기업이 배정되었습니다 / every company has a meeting")]));
}

function planRow(p) {
  const open = el("button", { type: "button", class: "open-plan", "data-plan": p.id }, "열기 / Open");
  open.addEventListener("click", () => openPlan(p.id));
  return el("tr", {}, el("td", {}, `#${p.id}`), el("td", {}, p.name), el("td", {}, p.date),
    el("td", {}, PLAN_STATUS[p.status] || p.status), el("td", {}, String(p.counts.meetings)),
    el("td", {}, String(p.counts.unscheduled)), el("td", {}, open));
}

async function loadPlans() {
  try {
    const rows = await api("/api/meetings/plans");
    document.querySelector("#plans tbody").replaceChildren(...rows.map(planRow));
    const pin = $("plan-pin");
    const chosen = pin.value;
    pin.replaceChildren(el("option", { value: "" }, "없음 / none"),
      ...rows.map((p) => el("option", { value: p.id }, `#${p.id} ${p.name} (${PLAN_STATUS[p.status] || p.status})`)));
    pin.value = rows.some((p) => String(p.id) === chosen) ? chosen : "";
  } catch (err) {
    $("plan-message").textContent = `계획 목록을 읽을 수 없습니다 / cannot list plans: ${errorText(err)}`;
  }
}

async function openPlan(id) {
  try {
    renderPlan(await api(`/api/meetings/plans/${encodeURIComponent(id)}`));
  } catch (err) {
    $("plan-message").textContent = `계획을 열 수 없습니다 / cannot open plan: ${errorText(err)}`;
  }
}

async function submitPlan(event) {
  event.preventDefault();
  let parsed;
  try {
    parsed = JSON.parse($("event-json").value);
  } catch (err) {
    $("plan-message").textContent = `행사 JSON을 읽을 수 없습니다 / the event is not valid JSON: ${err.message}`;
    return;
  }
  const body = { event: parsed };
  const limit = Number($("plan-time-limit").value);
  if (limit > 0) body.time_limit = limit;
  if ($("plan-pin").value) body.pin = Number($("plan-pin").value);
  $("plan-submit").disabled = true;
  $("plan-message").textContent = "일정 계획 중… / planning…";
  try {
    const stored = await api("/api/meetings/plans", { method: "POST", body });
    renderPlan(stored);
    $("plan-message").textContent = `계획 #${stored.id} 저장됨 (초안) / plan #${stored.id} stored as a draft`;
    await loadPlans();
  } catch (err) {
    $("plan-message").textContent = `계획 실패 / planning failed: ${errorText(err)}`;
  } finally {
    $("plan-submit").disabled = false;
  }
}

async function publishPlan() {
  if (!shownPlan) return;
  try {
    const stored = await api(`/api/meetings/plans/${encodeURIComponent(shownPlan.id)}/publish`, { method: "POST" });
    renderPlan(stored);
    $("plan-message").textContent = `계획 #${stored.id} 게시됨 / plan #${stored.id} published`;
    await loadPlans();
  } catch (err) {
    $("plan-message").textContent = `게시 실패 / publishing failed: ${errorText(err)}`;
  }
}

function myMeeting(planId, m) {
  return el("li", { class: m.kind === "bundle" ? "meeting bundle" : "meeting" },
    el("strong", {}, `${m.slot}–${m.end}`), ` · 테이블 / table ${m.table} · `, meetingLine(m),
    m.kind === "bundle" ? el("span", { class: "kind-label" }, " 번들 / bundle") : "",
    el("div", { class: "meta" }, `${fmt(m.score, 2)} · ${list(m.technologies)} `,
      packetButton("PDF", `/api/meetings/plans/${encodeURIComponent(planId)}/meetings/${encodeURIComponent(m.id)}.pdf`,
        `${m.id}.pdf`)));
}

async function loadMyMeetings() {
  const box = $("my-meetings");
  try {
    const rows = await api("/api/meetings/plans");
    const plans = await Promise.all(rows.map((p) => api(`/api/meetings/plans/${encodeURIComponent(p.id)}`)));
    box.replaceChildren(...plans.map((p) => el("article", { class: "my-plan" },
      el("h3", {}, `${p.name} · ${p.date} `, myInstitution
        ? packetButton("일정 .ics / agenda .ics",
          `/api/meetings/plans/${encodeURIComponent(p.id)}/agenda.ics?participant=${encodeURIComponent(myInstitution)}`,
          "agenda.ics") : ""),
      el("ol", {}, ...p.plan.meetings.map((m) => myMeeting(p.id, m))))));
    $("meetings-message").textContent = rows.length ? ""
      : "게시된 상담 일정이 없습니다 / no published meetings for your institution";
  } catch (err) {
    box.replaceChildren();
    $("meetings-message").textContent = `상담 일정을 읽을 수 없습니다 / cannot read meetings: ${errorText(err)}`;
  }
}

function forgetKey() {
  sessionStorage.removeItem(KEY_STORAGE);
  records.clear();
  $("alerts-section").hidden = true;
  document.querySelector("#alerts tbody").replaceChildren();
  hideMeetingSections();
  showKeyState(null);
  fillInstitutions([]);
  $("key").value = "";
  $("key").focus();
  loadInfo();
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
    await keyAccepted(me);
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
    loadInfo();
    return;
  }
  try {
    await keyAccepted(await api("/api/me"));
  } catch (err) {
    if (err.status === 401) forgetKey();
    else {
      showKeyState(null);
      loadInfo();
    }
    setStatus(`저장된 키를 사용할 수 없습니다 / stored key not usable: ${errorText(err)}`, "error");
  }
}

let infoRequest = 0;  // the newest of the public and the per-key count wins

async function loadInfo() {
  const mine = ++infoRequest;
  try {
    const h = await api("/health", { key: "" });
    if (mine !== infoRequest) return;
    delete $("index-info").dataset.count;
    $("index-info").textContent = `색인 버전 / index version ${h.index_version} · 공개 기술 ${h.count}건 / ${h.count} public technologies`;
  } catch (err) {
    $("index-info").textContent = `색인 정보를 읽을 수 없습니다 / cannot read index: ${errorText(err)}`;
  }
}

async function loadVisibleCount() {
  const mine = ++infoRequest;
  try {
    const m = await api("/api/index");
    if (mine !== infoRequest) return;
    const n = isNum(m.count) ? m.count : (m.counts || {}).technologies;
    const info = $("index-info");
    info.textContent = `색인 버전 / index version ${m.version || "?"} · 이 키로 볼 수 있는 기술 ${n}건 / ${n} technologies visible to your key`;
    info.dataset.count = String(n);
  } catch (err) {
    $("index-info").textContent = `색인 정보를 읽을 수 없습니다 / cannot read index: ${errorText(err)}`;
  }
}

function fillInstitutions(rows) {
  const select = $("f-institution");
  const chosen = select.value;
  select.replaceChildren(el("option", { value: "" }, "전체 / all"));
  for (const row of rows) {
    const name = typeof row === "string" ? row : row.name;
    if (!name) continue;
    const aliases = (row.aliases || []).join(", ");
    const option = el("option", { value: name, title: aliases ? `= ${aliases}` : undefined },
      isNum(row.count) ? `${name} (${row.count})` : name);
    select.append(option);
  }
  if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
}

async function loadInstitutions() {
  try {
    const data = await api("/api/institutions");
    fillInstitutions(Array.isArray(data) ? data : data.institutions || []);
    $("f-institution").disabled = false;
  } catch (err) {
    fillInstitutions([]);
    $("f-institution").disabled = err.status === 404;  // an older server without the listing
  }
}

// ---------- filters ----------

function filterValues() {
  const filters = {};
  const errors = [];
  const institution = $("f-institution").value;
  if (institution) filters.institutions = [institution];
  const ipc = $("f-ipc").value.split(/[,;\s]+/).map((s) => s.trim().toUpperCase()).filter(Boolean);
  if (ipc.length) filters.ipc_prefixes = ipc;
  const status = $("f-status").value;
  if (status) filters.legal_status = [status];
  const from = $("f-date-from").value;
  const to = $("f-date-to").value;
  if (from) filters.date_from = from;
  if (to) filters.date_to = to;
  if (from && to && from > to) errors.push("출원일 범위가 거꾸로입니다 / the date range ends before it starts");
  const trl = {};
  for (const [key, id] of [["trl_min", "f-trl-min"], ["trl_max", "f-trl-max"]]) {
    const raw = $(id).value.trim();
    if (!raw) continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 9) errors.push(`${key}: 1–9 사이 정수 / an integer 1–9, got ${raw}`);
    else trl[key] = n;
  }
  if (isNum(trl.trl_min) && isNum(trl.trl_max) && trl.trl_min > trl.trl_max) {
    errors.push("TRL 최소가 최대보다 큽니다 / TRL min is above TRL max");
  }
  Object.assign(filters, trl);
  const includeInactive = $("f-inactive").checked;
  const weak = $("f-weak").checked;
  return { filters, includeInactive, weak, errors };
}

function resetFilters() {
  for (const id of ["f-institution", "f-ipc", "f-status", "f-date-from", "f-date-to", "f-trl-min", "f-trl-max"]) $(id).value = "";
  $("f-inactive").checked = false;
  $("f-weak").checked = false;
}

function onStatusChange() {
  const option = $("f-status").selectedOptions[0];
  if (option && option.dataset.inactive) $("f-inactive").checked = true;  // a lapsed status needs inactive records
}

// ---------- shared pieces of a result ----------

function scoreView(item) {
  if (isNum(item.relevance)) {
    const bar = el("span", { class: "bar", "aria-hidden": "true" }, el("span", { class: "fill" }));
    bar.firstChild.style.width = pct(item.relevance);
    return el("span", { class: "score relevance", title: TEXT.legendRelevance }, bar, ` ${pct(item.relevance)}`);
  }
  return el("span", { class: "score raw", title: TEXT.legendRaw }, fmt(item.score));
}

function isActive(item) {
  if (typeof item.active === "boolean") return item.active;
  if (!item.legal_status) return null;
  return !INACTIVE.has(String(item.legal_status).trim().toLowerCase());
}

function statusBadge(item, withStatus = true) {
  const active = isActive(item);
  const cls = active === null ? "unknown" : active ? "active" : "inactive";
  const word = active === null ? "상태 미상 / status unknown" : active ? "유효 / live" : "효력 없음 / inactive";
  return el("span", { class: `badge ${cls}` }, withStatus && item.legal_status ? `${item.legal_status} · ${word}` : word);
}

const FACT_FIELDS = ["legal_status", "application_date", "registration_date", "trl"];
const records = new Map();  // id → technology record, for answers that do not carry the facts yet

function factsLine(item) {
  const line = el("div", { class: "facts meta" });
  const fill = (t) => {
    const parts = [
      `출원 / filed ${t.application_date || "–"}`,
      `등록 / registered ${t.registration_date || "–"}`,
      `TRL ${isNum(t.trl) ? t.trl : "–"}`,
    ];
    line.replaceChildren(statusBadge(t), " ", el("span", { class: "dates" }, parts.join(" · ")));
  };
  fill(item);
  if (item.id && FACT_FIELDS.some((k) => !(k in item))) {  // an older answer: read the record
    line.dataset.pending = "1";
    recordOf(item.id).then((t) => { if (t) fill({ ...t, ...item, ...pick(t, FACT_FIELDS) }); })
      .finally(() => { delete line.dataset.pending; });
  }
  return line;
}

function pick(obj, keys) {
  return Object.fromEntries(keys.filter((k) => k in obj).map((k) => [k, obj[k]]));
}

function recordOf(id) {
  if (!records.has(id)) {
    records.set(id, api(`/api/technologies/${encodeURIComponent(id)}`).catch(() => null));
  }
  return records.get(id);
}

function titleButton(id, title) {
  const button = el("button", { type: "button", class: "title-link", title: "상세 보기 / show details" },
    el("strong", { class: "title" }, title || id));
  button.addEventListener("click", () => showDetail(id));
  return button;
}

function messageBox(box, text, cls) {
  box.hidden = !text;
  box.className = cls || "";
  box.textContent = text || "";
}

// ---------- matches with paging ----------

const state = { matches: null, page: 0, last: { matches: null, bundles: null, licensees: null } };

function pageSize() {
  return Math.max(1, parseInt($("page-size").value, 10) || 10);
}

function renderMatches(data) {
  state.matches = data;
  state.page = 0;
  const matches = matchesOf(data);
  const withRelevance = matches.some((m) => isNum(m.relevance));
  $("score-legend").textContent = matches.length ? (withRelevance ? TEXT.legendRelevance : TEXT.legendRaw) : "";
  let message = "";
  if (noGoodMatch(data)) message = messageOf(data) || TEXT.noGoodMatch;
  else if (messageOf(data)) message = messageOf(data);
  messageBox($("matches-message"), message, noGoodMatch(data) ? "no-good-match" : "notice");
  renderMatchPage();
}

function renderMatchPage() {
  const listNode = $("matches");
  listNode.replaceChildren();
  const data = state.matches;
  const matches = matchesOf(data);
  const reqs = (data && data.requirements) || [];
  if (!matches.length) {
    // the clear sentence here; the service's own explanation (what to try) stays in the message box above
    listNode.append(el("li", { class: "empty" }, noGoodMatch(data) ? TEXT.noGoodMatch : TEXT.noMatches));
    $("pager").hidden = true;
    return;
  }
  const size = pageSize();
  const pages = Math.ceil(matches.length / size);
  state.page = Math.min(Math.max(0, state.page), pages - 1);
  const start = state.page * size;
  listNode.setAttribute("start", String(start + 1));
  matches.slice(start, start + size).forEach((m, i) => listNode.append(matchItem(m, start + i + 1, reqs)));
  renderPager(matches.length, pages, start, size);
}

function matchItem(m, rank, reqs) {
  const ev = m.evidence || {};
  const covers = new Set(m.covers || []);
  const li = el("li", { class: "match", "data-id": m.id, "data-rank": rank });
  li.append(el("div", { class: "head" }, scoreView(m), " ", titleButton(m.id, m.title)));
  if (m.title_en) li.append(el("div", { class: "title-en meta" }, m.title_en));
  li.append(labelled("기관 / Institutions", `${list(m.institutions) || "–"} · ${m.id}`, "institutions meta"));
  li.append(factsLine(m));

  const rows = ev.requirements || reqs.map((text, index) => ({ index, text, coverage: (m.coverage || [])[index] }));
  if (rows.length) {
    const ul = el("ul", { class: "requirements" });
    const isCovered = (r) => (typeof r.covered === "boolean" ? r.covered : covers.has(r.index));
    for (const r of rows) {
      const covered = isCovered(r);
      const value = isNum(r.relevance) ? r.relevance : r.coverage;  // per-requirement relevance (or coverage)
      ul.append(el("li", { class: covered ? "covered" : "uncovered" },
        `${covered ? "✓" : "·"} ${r.text} (${isNum(value) ? pct(value) : "–"})`));
    }
    li.append(el("div", { class: "covers" },
      el("span", { class: "label" },
        `충족 요구사항 / Covered requirements (${rows.filter(isCovered).length}/${rows.length}): `), ul));
  }
  const evidence = el("div", { class: "evidence" });
  if (ev.best_sentence) {
    evidence.append(el("div", { class: "label" }, "근거 문장 / Best sentence:"),
      el("blockquote", { class: "best-sentence" }, ev.best_sentence));
  }
  if (ev.shared_terms && ev.shared_terms.length) {
    evidence.append(labelled("공통 용어 / Shared terms", ev.shared_terms.join(", "), "shared-terms"));
  }
  const ipc = (m.ipc && m.ipc.length ? m.ipc : ev.ipc) || [];
  if (ipc.length) evidence.append(labelled("IPC", ipc.join(" "), "ipc"));
  const comps = ev.score_components || {};
  if (Object.keys(comps).length) {
    const dl = el("dl", { class: "components" });
    if (isNum(m.score)) dl.append(el("dt", {}, "score (raw)"), el("dd", {}, fmt(m.score)));
    for (const [k, v] of Object.entries(comps)) {
      dl.append(el("dt", {}, k), el("dd", {}, typeof v === "number" ? fmt(v) : JSON.stringify(v)));
    }
    evidence.append(el("details", {}, el("summary", {}, "점수 구성 / Score components"), dl));
  }
  li.append(evidence);
  const buttons = el("div", { class: "actions" });
  const detail = el("button", { type: "button", class: "detail-button" }, "상세 / Details");
  detail.addEventListener("click", () => showDetail(m.id));
  const licensees = el("button", { type: "button", class: "licensee-button" }, "라이선스 후보 / Licensees");
  licensees.addEventListener("click", () => loadLicensees({ technology_id: m.id }, m.title || m.id));
  buttons.append(detail, " ", licensees);
  li.append(buttons);
  return li;
}

function renderPager(total, pages, start, size) {
  $("pager").hidden = pages <= 1;
  $("page-prev").disabled = state.page === 0;
  $("page-next").disabled = state.page >= pages - 1;
  const buttons = $("page-buttons");
  buttons.replaceChildren();
  for (let p = 0; p < pages; p++) {
    const b = el("button", { type: "button", class: p === state.page ? "page current" : "page",
      "aria-current": p === state.page ? "page" : undefined, "data-page": p + 1 }, String(p + 1));
    b.addEventListener("click", () => goToPage(p));
    buttons.append(b);
  }
  $("page-info").textContent = `${start + 1}–${Math.min(total, start + size)} / ${total}`;
}

function goToPage(p) {
  state.page = p;
  renderMatchPage();
  $("matches-heading").scrollIntoView({ block: "start" });
}

// ---------- bundles ----------

function singleInstitutionOf(data) {
  const single = data.single_institution;
  if (!single) return null;
  if (typeof single === "string") return { institution: single, members: [] };
  return { institution: single.institution || single.name || "", members: single.members || [], titles: single.titles || [] };
}

function renderBundles(data) {
  const box = $("bundles");
  box.replaceChildren();
  const bundles = data.bundles || [];
  const titles = {};
  for (const b of bundles) (b.members || []).forEach((id, i) => { titles[id] = (b.titles || [])[i] || titles[id] || id; });
  const verdict = data.verdict && VERDICTS[data.verdict];
  const message = messageOf(data);
  if (verdict || message) {
    box.append(el("p", { class: `verdict ${data.verdict || ""}` },
      verdict ? el("strong", {}, verdict) : "", verdict && message ? " — " : "", message));
  }
  const single = singleInstitutionOf(data);
  if (single) {
    const p = el("div", { class: "single-institution" },
      `${TEXT.singleInstitution}: ${single.institution}`);
    if (single.members.length) {
      const ul = el("ul", { class: "members" });
      single.members.forEach((id, i) => {
        const li = el("li", {}, titleButton(id, single.titles[i] || titles[id] || id), ` (${id})`);
        ul.append(li);
      });
      p.append(ul);
    }
    box.append(p);
  }
  if (!bundles.length) {
    box.append(el("p", { class: "empty" }, data.verdict === "none" && message ? message : TEXT.noBundles));
    return;
  }
  bundles.forEach((b, n) => box.append(bundleArticle(b, n, data.requirements || [])));
}

function bundleArticle(b, n, reqs) {
  const titles = Object.fromEntries((b.members || []).map((id, i) => [id, (b.titles || [])[i] || id]));
  const gaps = new Set(b.gaps || []);
  const kind = KIND_LABELS[b.kind] || "";
  const div = el("article", { class: `bundle ${b.kind || ""}`, "data-members": (b.members || []).join(" ") });
  div.append(el("h3", {}, `번들 / Bundle ${n + 1} `, kind ? el("span", { class: `kind-label ${b.kind}` }, kind) : "", " ",
    isNum(b.relevance) ? scoreView(b) : el("span", { class: "score raw", title: TEXT.legendRaw }, fmt(b.score))));
  div.append(labelled("기관 / Institutions", list(b.institutions) || "–", "institutions meta"));
  const members = el("ul", { class: "members" });
  for (const id of b.members || []) members.append(el("li", {}, titleButton(id, titles[id]), ` (${id})`));
  div.append(el("div", { class: "label" }, "구성 기술 / Members:"), members);

  const table = el("table", { class: "coverage" });
  table.append(
    el("caption", {}, "요구사항 충족표 / Coverage table"),
    el("thead", {}, el("tr", {},
      el("th", { scope: "col" }, "요구사항 / Requirement"),
      el("th", { scope: "col" }, "담당 기술 / Member"),
      el("th", { scope: "col" }, "적합도 / Relevance"))),
  );
  const tbody = el("tbody");
  for (const row of b.coverage || []) {
    const gap = gaps.has(row.requirement);
    const ids = Array.isArray(row.members) && row.members.length ? row.members : (row.member ? [row.member] : []);
    const value = isNum(row.relevance) ? pct(row.relevance) : fmt(row.score, 2);
    tbody.append(el("tr", { class: gap ? "gap" : "covered" },
      el("td", {}, row.text || reqs[row.requirement] || `#${row.requirement}`),
      el("td", {}, ids.length ? ids.map((id) => titles[id] || id).join(", ") : "–"),
      el("td", {}, value, gap ? el("span", { class: "gap-mark" }, " 미충족 / gap") : "")));
  }
  table.append(tbody);
  div.append(table);
  const gapText = [...gaps].map((j) => reqs[j] || `#${j}`).join("; ");
  div.append(el("p", { class: gaps.size ? "gaps" : "gaps none" },
    gaps.size ? `미충족 요구사항 / Gaps: ${gapText}` : "미충족 요구사항 없음 / no gaps"));
  const button = el("button", { type: "button", class: "licensee-button" }, "번들 라이선스 후보 / Licensees for this bundle");
  button.addEventListener("click", () => loadLicensees({ members: b.members }, `번들 / Bundle ${n + 1}`));
  div.append(button);
  return div;
}

// ---------- licensees ----------

function renderLicensees(data) {
  const ol = $("licensees");
  ol.replaceChildren();
  const candidates = candidatesOf(data);
  if (!candidates.length) {
    ol.append(el("li", { class: "empty" }, messageOf(data) || TEXT.noCandidates));
    return;
  }
  if (noGoodMatch(data) || messageOf(data)) {
    ol.append(el("li", { class: noGoodMatch(data) ? "no-good-match" : "notice" }, messageOf(data) || TEXT.noCandidates));
  }
  for (const c of candidates) {
    const li = el("li", { class: "licensee" });
    li.append(el("div", { class: "head" }, scoreView(c), " ", el("strong", { class: "company" }, c.company),
      c.kind && c.kind !== "company" ? el("span", { class: "meta" }, ` (${c.kind})`) : ""));
    const aliases = (c.aliases || []).filter((a) => a !== c.company);
    if (aliases.length) li.append(labelled("다른 이름 / Also known as", aliases.join(", "), "aliases meta"));
    if (isNum(c.portfolio_size)) li.append(labelled("보유 특허 수 / Portfolio", String(c.portfolio_size), "portfolio meta"));
    // the ranking score's parts: topical fit decides who is listed; these only reorder the list
    const signals = Object.entries(c.signals || {}).filter(([, v]) => isNum(v) && v !== 0)
      .map(([k, v]) => `${SIGNAL_NAMES[k] || k} ${v > 0 ? "+" : ""}${fmt(v, 2)}`).join(", ");
    if (signals) {
      li.append(el("div", { class: "signals meta", title: TEXT.legendSignals },
        el("span", { class: "label" }, "순위 기여 / Ranking contributions: "), signals));
    }
    const evidence = c.evidence || [];
    if (evidence.length) {
      const ul = el("ul", { class: "evidence" });
      for (const e of evidence) {
        const sim = isNum(e.relevance) ? `적합도 / relevance ${pct(e.relevance)}`
          : isNum(e.similarity) && `유사도 / similarity ${fmt(e.similarity, 2)}`;
        const parts = [e.title, clip(e.text), e.id && `(${e.id})`, clip(e.detail),
          !e.detail && e.codes && e.codes.length && `[${e.codes.join(" ")}]`,
          e.legal_status && `[${e.legal_status}]`, e.ipc && e.ipc.length && `IPC ${list(e.ipc, " ")}`, sim]
          .filter(Boolean).join(" ");
        ul.append(el("li", {}, el("span", { class: "label" }, `${EVIDENCE_TYPES[e.type] || e.type}: `), parts));
      }
      li.append(ul);
    }
    ol.append(li);
  }
}

let licenseeRequest = 0;

async function loadLicensees(target, label) {
  const mine = ++licenseeRequest;
  $("licensee-target").textContent = `대상 / For: ${label}`;
  $("licensees").replaceChildren(el("li", { class: "muted" }, "불러오는 중… / loading…"));
  const { includeInactive } = filterValues();
  const body = { ...target, top_k: 5 };
  if (includeInactive) body.include_inactive = true;
  setExport("licensees", null);
  try {
    const data = await api("/api/licensees", { method: "POST", body });
    if (mine !== licenseeRequest) return;
    renderLicensees(data);
    setExport("licensees", body);
  } catch (err) {
    if (mine !== licenseeRequest) return;
    let li;
    if (err.status === 404) li = el("li", { class: "not-found" }, TEXT.licenseeNotFound);
    else if (err.status === 405 || err.status === 501) li = el("li", { class: "unavailable" }, TEXT.licenseesUnavailable);
    else li = el("li", { class: "error" }, `오류 / error: ${errorText(err)}`);
    $("licensees").replaceChildren(li);
  }
}

// ---------- technology detail ----------

const DETAIL_FIELDS = [
  ["title_en", "영문 제목 / English title"],
  ["kind", "종류 / Kind"],
  ["legal_status", "법적 상태 / Legal status"],
  ["trl", "TRL"],
  ["institutions", "기관 / Institutions"],
  ["applicants", "출원인 / Applicants"],
  ["inventors", "발명자 / Inventors"],
  ["ipc", "IPC"],
  ["application_number", "출원번호 / Application no."],
  ["application_date", "출원일 / Application date"],
  ["registration_number", "등록번호 / Registration no."],
  ["registration_date", "등록일 / Registration date"],
  ["publication_number", "공개번호 / Publication no."],
  ["publication_date", "공개일 / Publication date"],
  ["id", "ID"],
  ["abstract", "요약 / Abstract"],
];

let detailRequest = 0;
let detailOpener = null;  // focus goes back to it when the panel closes

async function showDetail(id) {
  const mine = ++detailRequest;
  const panel = $("detail");
  if (panel.hidden) detailOpener = document.activeElement;
  panel.hidden = false;
  panel.dataset.id = id;
  $("detail-title").textContent = id;
  $("detail-fields").replaceChildren();
  messageBox($("detail-message"), "불러오는 중… / loading…", "muted");
  try {
    const t = await api(`/api/technologies/${encodeURIComponent(id)}`);
    if (mine !== detailRequest) return;
    records.set(id, Promise.resolve(t));
    $("detail-title").textContent = t.title || id;
    messageBox($("detail-message"), "", "");
    const dl = $("detail-fields");
    for (const [key, label] of DETAIL_FIELDS) {
      const value = t[key];
      let shown = Array.isArray(value) ? value.join(key === "ipc" ? " " : ", ") : value;
      if (shown === undefined || shown === null || shown === "") shown = "–";
      const dd = el("dd", { "data-field": key }, String(shown));
      if (key === "legal_status") dd.append(" ", statusBadge(t, false));
      dl.append(el("dt", {}, label), dd);
    }
    $("detail-close").focus();
  } catch (err) {
    if (mine !== detailRequest) return;
    messageBox($("detail-message"), err.status === 404 ? TEXT.detailNotFound : `오류 / error: ${errorText(err)}`, "error");
  }
}

function closeDetail() {
  $("detail").hidden = true;
  detailRequest++;
  if (detailOpener && document.contains(detailOpener)) detailOpener.focus();
  detailOpener = null;
}

// ---------- export ----------

function setExport(kind, body) {
  state.last[kind] = body;
  for (const b of document.querySelectorAll(`button.export[data-kind="${kind}"]`)) b.disabled = !body;
}

function filenameOf(response, fallback) {
  const header = response.headers.get("Content-Disposition") || "";
  const m = /filename\*=UTF-8''([^;]+)|filename="?([^";]+)"?/i.exec(header);
  return m ? decodeURIComponent(m[1] || m[2]) : fallback;
}

async function exportFile(kind, format) {
  const body = state.last[kind];
  if (!body) return;
  setStatus(`내보내는 중… / exporting ${kind} (${format})…`);
  try {
    const response = await request(`/api/export/${kind}?format=${format}`, { method: "POST", body, accept: "*/*" });
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const a = el("a", { href: url, download: filenameOf(response, `${kind}.${format}`) });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    setStatus(`내보냈습니다 / exported ${kind} as ${format.toUpperCase()}`);
  } catch (err) {
    setStatus(`내보내기 오류 / export failed: ${err.status === 404 && kind === "licensees" ? TEXT.licenseeNotFound : errorText(err)}`, "error");
  }
}

// ---------- search ----------

async function submitSearch(event) {
  event.preventDefault();
  const query = $("search-query").value.trim();
  const out = $("search-results");
  if (!query) {
    out.replaceChildren(el("li", { class: "error" }, "검색어를 입력하세요 / enter a query"));
    return;
  }
  if (!currentKey()) {
    out.replaceChildren(el("li", { class: "error" }, "먼저 API 키를 저장하세요 / save your API key first"));
    return;
  }
  out.replaceChildren(el("li", { class: "muted" }, "검색 중… / searching…"));
  try {
    const data = await api("/api/search", { method: "POST", body: { query, top_k: 20 } });
    const hits = Array.isArray(data) ? data : data.hits || data.results || [];
    out.replaceChildren();
    if (!hits.length) out.append(el("li", { class: "empty" }, messageOf(data) || TEXT.noMatches));
    for (const h of hits) {
      const li = el("li", { class: "hit", "data-id": h.id });
      li.append(el("div", { class: "head" }, scoreView(h), " ", titleButton(h.id, h.title)),
        labelled("기관 / Institutions", `${list(h.institutions) || h.institution || "–"} · ${h.id}`, "institutions meta"),
        factsLine(h));
      out.append(li);
    }
  } catch (err) {
    out.replaceChildren(el("li", { class: "error" }, `오류 / error: ${errorText(err)}`));
  }
}

// ---------- actions ----------

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
  const { filters, includeInactive, weak, errors: filterErrors } = filterValues();
  if (filterErrors.length) {
    setStatus(`필터 오류 / filter error — ${filterErrors.join("; ")}`, "error");
    return;
  }
  if (Object.keys(filters).length) body.filters = filters;
  if (includeInactive) body.include_inactive = true;
  const topK = Math.min(100, Math.max(1, parseInt($("top-k").value, 10) || 50));
  for (const id of ["matches", "bundles", "licensees"]) $(id).replaceChildren();
  for (const kind of ["matches", "bundles", "licensees"]) setExport(kind, null);
  messageBox($("matches-message"), "", "");
  $("score-legend").textContent = "";
  $("pager").hidden = true;
  $("licensee-target").textContent = "";
  $("submit").disabled = true;
  setStatus("매칭 중… / matching…");
  try {
    const matchBody = { ...body, top_k: topK };
    if (weak) matchBody.min_relevance = 0;  // below the service's relevance floor too
    const bundleBody = { ...body, top_n: 5 };
    const [matches, bundles] = await Promise.allSettled([
      api("/api/match", { method: "POST", body: matchBody }),
      api("/api/bundles", { method: "POST", body: bundleBody }),
    ]);
    const errors = [];
    if (matches.status === "fulfilled") {
      renderMatches(matches.value);
      setExport("matches", matchBody);
    } else errors.push(`매칭 / matches: ${errorText(matches.reason)}`);
    if (bundles.status === "fulfilled") {
      renderBundles(bundles.value);
      setExport("bundles", bundleBody);
    } else errors.push(`번들 / bundles: ${errorText(bundles.reason)}`);
    if ([matches, bundles].some((r) => r.status === "rejected" && r.reason.status === 401)) forgetKey();
    if (errors.length) {
      setStatus(`오류 / error — ${errors.join(" | ")}`, "error");
    } else {
      const n = matchesOf(matches.value).length;
      const nb = (bundles.value.bundles || []).length;
      setStatus(`${n}건 매칭, 번들 ${nb}개 / ${n} matches, ${nb} bundles`);
    }
    const found = matches.status === "fulfilled" ? matchesOf(matches.value) : [];
    if (found.length) {
      const top = found[0];
      await loadLicensees({ technology_id: top.id }, `${top.title || top.id} (1위 / top match)`);
    }
  } finally {
    $("submit").disabled = false;
  }
}

$("key-form").addEventListener("submit", saveKey);
$("change-key").addEventListener("click", forgetKey);
$("alerts-refresh").addEventListener("click", loadAlerts);
$("demand-form").addEventListener("submit", submitDemand);
$("plan-form").addEventListener("submit", submitPlan);
$("event-file").addEventListener("change", readEventFile);
$("plan-publish").addEventListener("click", publishPlan);
$("plans-refresh").addEventListener("click", loadPlans);
$("meetings-refresh").addEventListener("click", loadMyMeetings);
$("reset-filters").addEventListener("click", resetFilters);
$("search-form").addEventListener("submit", submitSearch);
$("f-status").addEventListener("change", onStatusChange);
$("page-prev").addEventListener("click", () => goToPage(state.page - 1));
$("page-next").addEventListener("click", () => goToPage(state.page + 1));
$("page-size").addEventListener("change", () => { if (state.matches) { state.page = 0; renderMatchPage(); } });
$("detail-close").addEventListener("click", closeDetail);
document.addEventListener("keydown", (e) => { if (e.key === "Escape" && !$("detail").hidden) closeDetail(); });
for (const b of document.querySelectorAll("button.export")) {
  b.addEventListener("click", () => exportFile(b.dataset.kind, b.dataset.format));
}
restoreKey();
