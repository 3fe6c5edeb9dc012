// The dispatcher console: every read and every decision goes through the public HTTP API
// with the dispatcher's bearer token (no second code path). No libraries, no network
// beyond this server. Text from the server is only ever set as textContent.
"use strict";

const STATUS_TITLES = {new: "待派单", assigned: "已派单", in_progress: "办理中", returned: "已退单",
                       reassigned: "已改派", escalated: "已升级", resolved: "已办结"};
const CHANNEL_TITLES = {hotline: "热线", web: "网络留言", letter: "来信", visit: "来访"};
const BAND_TITLES = {auto: "可自动派单", suggest: "建议，请确认", review: "须人工判断"};
const $ = (id) => document.getElementById(id);
const state = {token: sessionStorage.getItem("triage.token"), actor: sessionStorage.getItem("triage.actor"),
               labels: null, current: null, queue: [], selected: -1};

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function say(message, isError) {
  $("status").textContent = message;
  $("status").className = isError ? "error" : "";
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method, headers: {"Authorization": "Bearer " + state.token, "Content-Type": "application/json"},
    body: body === undefined ? undefined : JSON.stringify(body)});
  const answer = await response.json().catch(() => ({error: {message: "服务器返回的不是 JSON（HTTP " + response.status + "）"}}));
  if (response.status === 401) { signOut("令牌无效或已失效，请重新登录"); throw new Error("unauthorized"); }
  if (!response.ok) {
    const message = (answer.error && answer.error.message) || ("HTTP " + response.status);
    say("操作未完成：" + message, true);
    throw new Error(message);
  }
  return answer;
}

// -- signing in --------------------------------------------------------------------------
function signOut(message) {
  sessionStorage.removeItem("triage.token");
  state.token = null;
  $("work").hidden = true; $("sign-out").hidden = true; $("sign-in").hidden = false;
  $("who").textContent = "";
  $("sign-in-error").textContent = message || "";
  $("token").focus();
}

async function signIn(event) {
  event.preventDefault();
  state.token = $("token").value.trim();
  state.actor = $("actor").value.trim();
  const check = await fetch("/v1/queue?limit=1", {headers: {"Authorization": "Bearer " + state.token}});
  if (check.status === 401) { $("sign-in-error").textContent = "令牌不对：请向管理员确认"; return; }
  sessionStorage.setItem("triage.token", state.token);
  sessionStorage.setItem("triage.actor", state.actor);
  await start();
}

async function start() {
  $("sign-in").hidden = true; $("work").hidden = false; $("sign-out").hidden = false;
  $("who").textContent = "派单员：" + state.actor;
  const card = await api("GET", "/v1/model");
  state.labels = card.labels;
  fillList("categories", card.labels.category || []);
  fillList("departments", card.labels.department || []);
  readFilters();
  await loadQueue();
  $("text").focus();
}

function fillList(id, values) {
  const list = $(id);
  list.replaceChildren(...values.map((value) => { const option = el("option"); option.value = value; return option; }));
}

// -- the queue ---------------------------------------------------------------------------
function readFilters() {
  const query = new URLSearchParams(location.search);
  $("filter-department").value = query.get("department") || "";
  $("filter-urgency").value = query.get("urgency") || "";
  $("filter-status").value = query.get("status") || "";
  $("filter-overdue").checked = query.get("overdue") === "true";
}

function filterQuery() {
  const query = new URLSearchParams();
  if ($("filter-department").value) query.set("department", $("filter-department").value);
  if ($("filter-urgency").value) query.set("urgency", $("filter-urgency").value);
  if ($("filter-status").value) query.set("status", $("filter-status").value);
  if ($("filter-overdue").checked) query.set("overdue", "true");
  return query;
}

async function loadQueue(event) {
  if (event) event.preventDefault();
  const query = filterQuery();
  history.replaceState(null, "", query.toString() ? "?" + query : location.pathname);  // filters stay in the URL
  query.set("order", "deadline");  // overdue first, then about to breach
  query.set("limit", "100");
  const page = await api("GET", "/v1/queue?" + query);
  state.queue = page.items;
  const rows = page.items.map((item, index) => {
    const row = el("tr");
    row.tabIndex = -1;
    row.dataset.caseId = item.case_id;
    row.append(el("td", "#" + item.case_id), urgencyCell(item.urgency),
               el("td", (item.category || "") + (item.hot_group ? `（多人反映 #${item.hot_group}）` : "")),
               el("td", item.department || "（未定）"), el("td", STATUS_TITLES[item.status] || item.status),
               deadlineCell(item), el("td", item.text, "snippet"));
    row.addEventListener("click", () => { select(index); openCase(item.case_id); });
    return row;
  });
  $("queue").tBodies[0].replaceChildren(...rows);
  $("queue-footer").textContent = `共 ${page.total} 件` + (page.total > page.items.length ? `，显示前 ${page.items.length} 件` : "");
  select(Math.min(Math.max(state.selected, 0), rows.length - 1));
}

function urgencyCell(urgency) {
  const cell = el("td");
  cell.append(el("span", urgency, "u-" + urgency));
  return cell;
}

function deadlineCell(item) {
  const hours = (Date.parse(item.deadlines.respond_by) - Date.now()) / 3600000;
  const text = hours < 0 ? `超时 ${Math.ceil(-hours)} 小时` : `剩 ${Math.floor(hours)} 小时`;
  const cell = el("td", text + "（" + item.stage_title + "）", hours < 0 ? "overdue" : hours < 4 ? "soon" : "");
  return cell;
}

function select(index) {
  const rows = $("queue").tBodies[0].rows;
  if (!rows.length) { state.selected = -1; return; }
  state.selected = Math.max(0, Math.min(index, rows.length - 1));
  [...rows].forEach((row, position) => row.classList.toggle("selected", position === state.selected));
  rows[state.selected].scrollIntoView({block: "nearest"});
}

// -- a case ------------------------------------------------------------------------------
async function intake(event) {
  event.preventDefault();
  const text = $("text").value.trim();
  if (!text) { say("请先输入诉求内容", true); $("text").focus(); return; }
  const body = {text, channel: $("channel").value, external_id: "console-" + crypto.randomUUID()};
  if ($("phone").value.trim()) body.caller = {phone: $("phone").value.trim()};
  say("分析中…");
  const answer = await api("POST", "/v1/triage", body);
  const found = await api("GET", "/v1/cases/" + answer.case_id);
  show(found, answer);
  say(`已受理，工单 #${answer.case_id}`);
  await loadQueue();
}

async function openCase(caseId) {
  const found = await api("GET", "/v1/cases/" + caseId);
  show(found, found.triage);
  say(`工单 #${caseId}`);
}

function show(found, result) {
  state.current = found;
  $("result").hidden = false;
  $("case-line").textContent = `工单 #${found.case_id} · ${STATUS_TITLES[found.status] || found.status} · ` +
    `${found.department || "未派单"} · ${found.stage_title}` + (found.overdue ? " · 已超时" : "") +
    (found.caller ? " · 来电人 " + [found.caller.name, found.caller.phone].filter(Boolean).join(" ") : "");
  const category = result.category;
  $("category").textContent = category ? `${category.label} / ${category.subcategory || "—"}（${percent(category.confidence)}）` : "无法判读";
  $("departments-top").replaceChildren(...((result.department && result.department.top) || []).map((entry, rank) => {
    // A safety rule's or the responder head's department stands first with the department head's
    // own (low) confidence: say whose choice it is.
    const chosenBy = rank === 0 && {rule: " · 安全规则指定", responder: " · 应急处置单位"}[result.department.source];
    const item = el("li", `${entry.label} ${percent(entry.confidence)}` + (chosenBy || ""));
    const bar = el("span", null, "bar");
    bar.style.width = Math.round(entry.confidence * 80) + "px";
    item.append(bar);
    return item;
  }));
  const urgency = result.urgency;
  $("urgency").replaceChildren(urgency ? el("span", urgency.label, "u-" + urgency.label) : el("span", "—"));
  if (urgency) $("urgency").append(` ${urgency.source === "rule" ? "安全规则" : "模型"} ${urgency.confidence === null ? "" : percent(urgency.confidence)}`);
  $("rules").textContent = urgency && urgency.rules.length ? urgency.rules.map((hit) => `${hit.label}：${hit.evidence}`).join("；") : "";
  $("band").replaceChildren(el("span", BAND_TITLES[result.decision] || result.decision, "band-" + result.decision));
  highlight(found.text, result);
  $("why").replaceChildren(...(result.explanation || []).map((line) => el("li", line)));
  showRepeat(result.repeat, result.hot_issue);
  $("d-category").value = (category && category.label) || found.category || "";
  $("d-subcategory").value = (category && category.subcategory) || found.subcategory || "";
  $("d-department").value = found.department || (result.department && result.department.label) || "";
  $("d-urgency").value = found.urgency || (urgency && urgency.label) || "一般";
  $("d-reason").value = "";
  fillSubcategories();
  $("events").replaceChildren(...(found.events || []).map((event) =>
    el("li", `${event.at.slice(0, 16).replace("T", " ")} ${event.actor} ${event.action}` +
             (event.department ? ` → ${event.department}` : "") + (event.reason ? `（${event.reason}）` : ""))));
}

function percent(value) { return value === null || value === undefined ? "" : Math.round(value * 100) + "%"; }

function highlight(text, result) {
  // The words that drove the suggestions, marked where they occur in the (masked) text.
  const terms = new Set();
  for (const head of ["category", "department", "urgency"]) {
    for (const entry of (result[head] && result[head].explanation) || []) if (entry.term) terms.add(entry.term);
  }
  const target = $("highlighted");
  target.replaceChildren();
  if (!terms.size) { target.textContent = text; return; }
  const pattern = new RegExp([...terms].sort((a, b) => b.length - a.length)
    .map((term) => term.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "g");
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    target.append(text.slice(last, match.index), el("mark", match[0]));
    last = match.index + match[0].length;
  }
  target.append(text.slice(last));
}

function showRepeat(repeat, hot) {
  const panel = $("repeat");
  panel.className = "card" + ((repeat && repeat.is_repeat) || (hot && hot.is_hot) ? " is-repeat" : "");
  panel.replaceChildren(el("h3", "重复来电与多人反映"));
  if (hot && hot.is_hot) panel.append(el("p", hot.reasons.join("；"), "hot"));
  if (!repeat) { panel.append(el("p", "（此工单未做重复判断）")); return; }
  panel.append(el("p", repeat.is_repeat ? "重复件：" + repeat.reasons.join("；") : (repeat.reasons.join("；") || "无此前工单")));
  if (repeat.prior_cases && repeat.prior_cases.length) {
    const table = el("table");
    table.append(headRow(["此前工单", "相似度", "状态", "受理时间", "渠道"]));
    for (const prior of repeat.prior_cases) {
      const row = el("tr");
      row.append(el("td", "#" + prior.case_id), el("td", prior.similarity), el("td", STATUS_TITLES[prior.status] || prior.status || "—"),
                 el("td", (prior.received_at || "").slice(0, 10)), el("td", CHANNEL_TITLES[prior.channel] || prior.channel || "—"));
      table.append(row);
    }
    panel.append(table);
  }
}

function headRow(names) {
  const row = el("tr");
  row.append(...names.map((name) => el("th", name)));
  return row;
}

function fillSubcategories() {
  const prefix = $("d-category").value + "/";
  fillList("subcategories", ((state.labels && state.labels.subcategory) || [])
    .filter((path) => path.startsWith(prefix)).map((path) => path.slice(prefix.length)));
}

// -- decisions (feedback and lifecycle actions through the API) --------------------------
function decision() {
  const chosen = {category: $("d-category").value.trim(), department: $("d-department").value.trim(),
                  urgency: $("d-urgency").value, actor: state.actor};
  if ($("d-subcategory").value.trim()) chosen.subcategory = $("d-subcategory").value.trim();
  return chosen;
}

async function send(department) {
  // A case that has no department yet is assigned; one that has is reassigned (改派).
  const found = state.current;
  if (department === found.department) return;
  if (["new", "returned"].includes(found.status)) {
    await api("POST", `/v1/cases/${found.case_id}/assign`, {actor: state.actor, department, reason: "派单员确认"});
  } else {
    await api("POST", `/v1/cases/${found.case_id}/reassign`, {actor: state.actor, department,
      reason: $("d-reason").value.trim() || "派单员更正责任单位"});
  }
}

async function accept() {
  if (!state.current) return;
  const result = state.current.triage || {};
  // The case's own category and urgency: the model's, unless a person has corrected them
  // (accepting must not undo a colleague's 特急); the department is the model's suggestion.
  const suggested = {actor: state.actor, category: state.current.category || (result.category && result.category.label),
                     department: result.department && result.department.label,
                     urgency: state.current.urgency || (result.urgency && result.urgency.label)};
  if (!suggested.category) { say("此工单没有可采纳的建议，请更正后提交", true); return; }
  await api("POST", `/v1/cases/${state.current.case_id}/feedback`, suggested);
  if (["new", "returned"].includes(state.current.status)) await send(suggested.department);
  await after("已采纳建议");
}

async function correct() {
  if (!state.current) return;
  const chosen = decision();
  if (!chosen.department) { say("请选择责任单位", true); $("d-department").focus(); return; }
  await api("POST", `/v1/cases/${state.current.case_id}/feedback`, chosen);
  await send(chosen.department);
  await after("已提交更正：" + chosen.department);
}

async function act(action) {
  if (!state.current) return;
  const reason = $("d-reason").value.trim();
  if (!reason) { say(action === "return" ? "退单须填写原因" : "改派须填写原因", true); $("d-reason").focus(); return; }
  const body = {actor: state.actor, reason};
  if (action === "reassign") body.department = $("d-department").value.trim();
  await api("POST", `/v1/cases/${state.current.case_id}/${action}`, body);
  await after(action === "return" ? "已退单" : "已改派：" + body.department);
}

async function after(message) {
  await openCase(state.current.case_id);
  await loadQueue();
  say(message);
}

// -- keyboard ----------------------------------------------------------------------------
function onKey(event) {
  if ($("work").hidden) return;
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
  if (event.key === "Enter" && event.ctrlKey && document.activeElement === $("text")) {
    $("intake").requestSubmit(); event.preventDefault(); return;
  }
  if (event.key === "Escape") { document.activeElement.blur(); return; }
  if (typing) return;
  const actions = {"/": () => $("text").focus(), a: accept, c: () => $("d-department").focus(),
                   r: () => act("return"), g: () => act("reassign"),
                   j: () => select(state.selected + 1), k: () => select(state.selected - 1),
                   q: () => $("queue").tBodies[0].rows[Math.max(state.selected, 0)]?.focus(),
                   Enter: () => state.queue[state.selected] && openCase(state.queue[state.selected].case_id)};
  const handler = actions[event.key];
  if (handler) { event.preventDefault(); handler(); }
}

function guard(handler) {
  return (...args) => Promise.resolve(handler(...args)).catch((error) => {
    if (error.message !== "unauthorized") say("操作未完成：" + error.message, true);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  $("sign-in-form").addEventListener("submit", guard(signIn));
  $("sign-out").addEventListener("click", () => signOut());
  $("filters").addEventListener("submit", guard(loadQueue));
  $("intake").addEventListener("submit", guard(intake));
  $("accept").addEventListener("click", guard(accept));
  $("correct").addEventListener("click", guard(correct));
  $("return").addEventListener("click", guard(() => act("return")));
  $("reassign").addEventListener("click", guard(() => act("reassign")));
  $("d-category").addEventListener("change", fillSubcategories);
  document.addEventListener("keydown", guard(onKey));
  if (state.token && state.actor) guard(start)(); else signOut();
});
