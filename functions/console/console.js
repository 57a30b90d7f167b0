// The bureau staff console (issue 7). Vanilla JS, no build step, nothing from a CDN.
//
// Sign-in: OIDC authorization code + PKCE (S256), public client. The access token is kept in
// sessionStorage under "enrollment.core.staff.token" and sent as "Authorization: Bearer ..." on every
// /admin/... call; a 401 signs in again, a 403 shows the Chinese message of the answer.
// Everything shown comes from the authorised JSON APIs; the page itself holds no data.
// The token, time and element helpers are functions/web/common.js's (loaded first, as `common`).
"use strict";

const { TOKEN_KEY, EXPIRES_KEY, RETURN_KEY, el, gradeZh, time, deadlineText } = common;
const SIGNIN_KEY = "enrollment.core.staff.signin";
const LAST_SIGNIN_KEY = "enrollment.core.staff.signed-in-at";
// "/console" or "/stage/console": everything else is relative to what comes before it.
const BASE = location.pathname.replace(/console\/?$/, "");
const $ = (id) => document.getElementById(id);

// Auditors read every section whose reads the API allows them (docs/ACCESS.md), each without its
// write controls: the API refuses their writes anyway, so a form would only offer a 403.
const SECTIONS = {
  registrations: { title: "报名信息", roles: ["district", "city", "auditor"], district: true },
  queue: { title: "审核队列", roles: ["district", "city", "auditor"], district: true },
  visits: { title: "入户核查", roles: ["district", "city", "auditor"], district: false },
  lottery: { title: "电脑派位", roles: ["district", "city", "auditor"], district: false },
  placements: { title: "录取结果", roles: ["district", "city", "auditor"], district: true },
  reporting: { title: "新生报到", roles: ["district", "city", "auditor"], district: true },
  complaints: { title: "投诉答复", roles: ["district", "city", "auditor"], district: true },
  sms: { title: "短信未送达", roles: ["district", "city", "auditor"], district: true },
  phases: { title: "招生阶段", roles: ["district", "city", "auditor"], district: false },
  season: { title: "招生季", roles: ["city", "auditor"], district: false },
  spotcheck: { title: "抽查", roles: ["city", "auditor"], district: true },
  archive: { title: "结果与归档", roles: ["city", "auditor"], district: false },
  exports: { title: "名单导出", roles: ["district", "city", "auditor"], district: true },
  // only where the season has agencies answering by file (docs/AGENCY-FILES.md)
  agencyfiles: { title: "部门核查文件", roles: ["city"], district: false, when: () => fileAgencies().length > 0 },
};
const FACT_ZH = {
  "policy-priority": "政策性照顾",
  "hukou-in-zone": "户籍在片区内",
  "deed-in-zone": "房产在片区内",
  "hukou-deed-match": "房户一致",
  "actual-residence": "实际居住",
  "residence-permit-in-zone": "居住证在片区内",
  "own-district": "本区域内",
};
const CATEGORY_SHORT = { public: "公办", private: "民办", ethnic: "民族", specialised: "专门" };
const KIND_ZH = { committee: "专家委员会安置", defer: "缓学", override: "调整安置" };
const PLAN_ZH = { "regular-class": "随班就读", "special-education": "特殊教育学校", "home-delivery": "送教上门" };
const CASE_ZH = {
  "all-admitted": "未超计划，全部录取",
  "draw-own-district": "本区域内派位",
  "draw-other-districts": "区域外派位",
};
const LOTTERY_STATUS_ZH = { prepared: "等待派位", drawn: "已派位，归档中", recorded: "已派位并归档", "no-draw": "无需派位" };
const ACTION_ZH = { confirm: "确认", override: "改判" };
const OUTCOME_ZH = { eligible: "符合片区入学条件", "not-eligible": "不符合条件（统筹安排）" };
const STATUS_MESSAGE = {
  0: "网络连接失败，请检查网络后重试",
  401: "登录已过期，请重新登录",
  403: "没有权限进行此操作",
  404: "没有找到",
  409: "当前状态下不能进行此操作",
  422: "填写的内容不符合要求",
};

const state = {
  config: null,
  me: null,
  district: null, // the district the district-scoped sections show
  section: null,
  cursors: {},
  schools: {},
};

// Small helpers ------------------------------------------------------------------------------------

const districtName = (code) => {
  const d = ((state.config && state.config.districts) || []).find((x) => x.code === code);
  return d ? d.name : code;
};
const schoolName = (id) => (id && state.schools[id] ? state.schools[id].name : id || "—");
const who = (principal) => String(principal || "—").replace(/^arn:[^/]*\//, "");
const season = () => state.config.season;
const announce = (text) => { $("announce").textContent = text; };

function showAlert(text) {
  $("alert").textContent = text || "";
  $("alert").hidden = !text;
}

const messageOf = (res) => common.messageOf(res, STATUS_MESSAGE);

// Each section's latest load wins: an answer to an earlier request (another district) is dropped.
const loads = {};
function ticket(name) {
  const n = (loads[name] || 0) + 1;
  loads[name] = n;
  return () => loads[name] === n;
}

function tag(text, kind) {
  return el("span", { class: `tag ${kind}`, text });
}

function emptyRow(cols, text) {
  return el("tr", {}, el("td", { class: "empty", colspan: String(cols), text }));
}

// Sortable columns (issue 19): a header with data-sort becomes a button; a click sorts the whole list on
// the server (…?sort=<column>&order=asc), a second click the other way; aria-sort says which and how.
const sorts = {};
function sortable(tableId, key, reload) {
  for (const th of $(tableId).querySelectorAll("thead th[data-sort]")) {
    const b = el("button", { type: "button", class: "sort", text: th.textContent });
    th.replaceChildren(b);
    th.setAttribute("aria-sort", "none");
    b.addEventListener("click", () => {
      const column = th.dataset.sort;
      const now = sorts[key];
      sorts[key] = { column, order: now && now.column === column && now.order === "asc" ? "desc" : "asc" };
      sortShown(tableId, key);
      reload();
    });
  }
}
function sortShown(tableId, key) {
  const s = sorts[key];
  for (const th of $(tableId).querySelectorAll("thead th[data-sort]")) {
    const on = Boolean(s && s.column === th.dataset.sort);
    th.setAttribute("aria-sort", on ? (s.order === "asc" ? "ascending" : "descending") : "none");
    th.firstElementChild.dataset.dir = on ? s.order : "";
  }
}
function sortParams(key, q) {
  const s = sorts[key];
  if (s) {
    q.set("sort", s.column);
    q.set("order", s.order);
  }
}
function sortCleared(tableId, key) {
  delete sorts[key];
  sortShown(tableId, key);
}

// A list's search and filters as the API takes them (…?q=&status=&reason=&grade=&category=&school=), read
// from the form's fields `<prefix>-<name>`: matched on the server, over the whole list, not the page shown.
const LIST_FILTERS = ["q", "status", "reason", "grade", "category", "school"];
function listFilters(prefix) {
  return LIST_FILTERS.map((k) => [k, $(`${prefix}-${k}`).value.trim()]).filter(([, v]) => v);
}

// A select of the district's schools (its first option "全部学校" or none).
function districtSchools(id, d, first) {
  const select = $(id);
  if (select.dataset.district === d) return;
  select.dataset.district = d;
  const schools = (state.config.schools || []).filter((s) => s.district === d);
  select.replaceChildren(...(first ? [el("option", { value: "", text: first })] : []),
    ...schools.map((s) => el("option", { value: s.id, text: s.name })));
}

// A select of every school of the city: a district's children may be placed outside it (a special-
// education school, a private school approved across districts, a coordinated seat), so the placements
// list filters by any school, the district's own first, the others grouped under their district.
function citySchools(id, d, first) {
  const select = $(id);
  if (select.dataset.district === d) return;
  select.dataset.district = d;
  const all = state.config.schools || [];
  const option = (s) => el("option", { value: s.id, text: s.name });
  const own = all.filter((s) => s.district === d);
  const others = (state.config.districts || []).filter((x) => x.code !== d)
    .map((x) => [x, all.filter((s) => s.district === x.code)]).filter(([, list]) => list.length);
  select.replaceChildren(el("option", { value: "", text: first }),
    ...(own.length ? [el("optgroup", { label: `${districtName(d)}学校` }, ...own.map(option))] : []),
    ...others.map(([x, list]) => el("optgroup", { label: `${x.name}学校` }, ...list.map(option))));
}

// Sign-in (OIDC authorization code + PKCE) -------------------------------------------------------

function b64url(bytes) {
  let s = "";
  new Uint8Array(bytes).forEach((b) => { s += String.fromCharCode(b); });
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const randomText = (n) => b64url(crypto.getRandomValues(new Uint8Array(n)));

async function discovery() {
  const issuer = String(state.config.issuer || "").replace(/\/+$/, "");
  const r = await fetch(`${issuer}/.well-known/openid-configuration`, { headers: { Accept: "application/json" } });
  if (!r.ok) throw new Error(`discovery ${r.status}`);
  return r.json();
}

function redirectUri() {
  const path = (state.config.redirect_path || "/console").replace(/^\//, "");
  return location.origin + BASE + path;
}

const token = common.staffToken;

async function signIn() {
  // A token refused right after signing in would loop: stop and say so instead.
  const last = Number(sessionStorage.getItem(LAST_SIGNIN_KEY) || 0);
  if (Date.now() - last < 15000) {
    showSignIn("登录后仍无法访问，请联系系统管理员确认您的账号权限。");
    return;
  }
  try {
    const meta = await discovery();
    const verifier = randomText(48);
    const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
    const st = randomText(24);
    const uri = redirectUri();
    sessionStorage.setItem(SIGNIN_KEY, JSON.stringify({ state: st, verifier, redirect_uri: uri, hash: location.hash }));
    const q = new URLSearchParams({
      response_type: "code",
      client_id: state.config.client_id,
      redirect_uri: uri,
      scope: state.config.scopes || "openid profile",
      state: st,
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    location.assign(`${meta.authorization_endpoint}?${q}`);
  } catch (e) {
    showSignIn("无法连接统一身份认证服务，请稍后重试。");
  }
}

/** Back from the issuer with ?code=&state= (or ?error=): exchange the code for the token. */
async function completeSignIn(params) {
  const saved = JSON.parse(sessionStorage.getItem(SIGNIN_KEY) || "null");
  sessionStorage.removeItem(SIGNIN_KEY);
  history.replaceState(null, "", location.pathname + ((saved && saved.hash) || ""));
  if (params.get("error")) {
    showSignIn(`登录未完成：${params.get("error_description") || params.get("error")}`);
    return false;
  }
  if (!saved || saved.state !== params.get("state")) {
    showSignIn("登录请求已失效，请重新登录。");
    return false;
  }
  try {
    const meta = await discovery();
    const r = await fetch(meta.token_endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: params.get("code"),
        redirect_uri: saved.redirect_uri,
        client_id: state.config.client_id,
        code_verifier: saved.verifier,
      }),
    });
    const body = await r.json();
    if (!r.ok || !body.access_token) throw new Error(body.error || r.status);
    sessionStorage.setItem(TOKEN_KEY, body.access_token);
    const life = Number(body.expires_in || 3600);
    sessionStorage.setItem(EXPIRES_KEY, String(Date.now() + Math.max(life - 30, 30) * 1000));
    sessionStorage.setItem(LAST_SIGNIN_KEY, String(Date.now()));
  } catch (e) {
    showSignIn("登录失败，请重新登录。");
    return false;
  }
  // Signed in for another page of the console (the ceremony screen): go back there.
  const back = sessionStorage.getItem(RETURN_KEY);
  sessionStorage.removeItem(RETURN_KEY);
  if (back && back.startsWith(`${BASE}console/`) && !back.startsWith("//")) {
    location.replace(back);
    return false;
  }
  return true;
}

function signOut() {
  for (const k of [TOKEN_KEY, EXPIRES_KEY, SIGNIN_KEY, RETURN_KEY, LAST_SIGNIN_KEY]) sessionStorage.removeItem(k);
  state.me = null;
  showSignIn("您已退出登录。");
}

function showSignIn(note) {
  $("signin").hidden = false;
  $("signin-note").textContent = note || "";
  $("who").hidden = true;
  $("nav").hidden = true;
  $("district-bar").hidden = true;
  showAlert("");
  document.querySelectorAll("main > section.section").forEach((s) => { s.hidden = true; });
  document.title = "登录 · 教育局招生工作平台";
}

// The API ------------------------------------------------------------------------------------------

/** A staff API call, `path` relative to the API's base: { ok, status, body }; a 401 signs in again. */
const api = (method, path, body) => common.staffFetch(method, BASE + path.replace(/^\//, ""), body, signIn);

const enc = encodeURIComponent;

// Navigation ---------------------------------------------------------------------------------------

function allowed(name) {
  const s = SECTIONS[name];
  return Boolean(state.me && s && s.roles.includes(state.me.role) && (!s.when || s.when()));
}

function buildNav() {
  const items = Object.entries(SECTIONS)
    .filter(([name]) => allowed(name))
    .map(([name, s]) => el("li", {}, el("a", { href: `#${name}`, id: `nav-${name}`, text: s.title })));
  $("nav-list").replaceChildren(...items);
  $("nav").hidden = false;
}

function buildDistrictPicker() {
  const me = state.me;
  if (me.role === "district") {
    state.district = me.district; // district staff see their own district only
    $("district-pick").replaceChildren(el("option", { value: me.district, text: me.district_name || me.district }));
    return;
  }
  const options = (state.config.districts || []).map((d) => el("option", { value: d.code, text: d.name }));
  $("district-pick").replaceChildren(...options);
  state.district = state.district || (state.config.districts[0] || {}).code;
  $("district-pick").value = state.district;
}

function show(name) {
  if (!allowed(name)) name = Object.keys(SECTIONS).find((n) => allowed(n));
  state.section = name;
  for (const n of Object.keys(SECTIONS)) {
    $(`sec-${n}`).hidden = n !== name;
    const link = $(`nav-${n}`);
    if (link) {
      if (n === name) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  }
  // the district picker: only city staff and auditors choose; district staff never see another district
  $("district-bar").hidden = !(SECTIONS[name].district && state.me.role !== "district");
  document.title = `${SECTIONS[name].title} · 教育局招生工作平台`;
  showAlert("");
  LOADERS[name]();
}

function route() {
  const name = location.hash.replace(/^#/, "");
  show(SECTIONS[name] ? name : "");
}

// 报名信息 ------------------------------------------------------------------------------------------

async function loadRegistrations(more) {
  const body = $("reg-table").tBodies[0];
  const d = state.district;
  $("reg-caption").textContent = `${districtName(d)}报名学生`;
  districtSchools("reg-school", d, "全部学校");
  loadPresets();
  if (!more) {
    body.replaceChildren(emptyRow(9, "正在载入…"));
    state.cursors.reg = null;
  }
  const q = new URLSearchParams({ limit: "200" });
  for (const [key, value] of listFilters("reg")) q.set(key, value);
  sortParams("reg", q);
  if (more && state.cursors.reg) q.set("cursor", state.cursors.reg);
  const current = ticket("registrations");
  const res = await api("GET", `admin/verification/${enc(season())}/districts/${enc(d)}/registrations?${q}`);
  if (!current()) return;
  if (!res.ok) {
    $("reg-error").textContent = messageOf(res);
    if (!more) body.replaceChildren();
    $("reg-more").hidden = true;
    $("reg-count").textContent = "";
    return;
  }
  $("reg-error").textContent = "";
  const rows = res.body.registrations.map((r) => el("tr", { "data-rid": r.registration_id },
    el("td", { class: "mono", text: r.registration_id }),
    el("td", { text: r.child.name }),
    el("td", { class: "mono", text: r.child.id_number }),
    el("td", { class: "nowrap", text: gradeZh(r.grade) }),
    el("td", { text: r.category_zh }),
    el("td", { text: r.target_school ? r.target_school.name : "—" }),
    el("td", { class: "nowrap", text: r.created_at ? time(r.created_at) : "—" }),
    el("td", {}, tag(r.verification_zh, r.verification === "eligible" ? "ok" : r.verification ? "bad" : "plain")),
    el("td", {}, r.reasons_zh.length ? el("ul", { class: "reasons" }, r.reasons_zh.map((t) => el("li", { text: t }))) : "—")));
  const filtered = listFilters("reg").some(([k]) => k !== "grade");
  if (more) body.append(...rows);
  else body.replaceChildren(...(rows.length ? rows : [emptyRow(9, filtered ? "没有符合条件的报名" : "暂无报名")]));
  state.cursors.reg = res.body.next;
  $("reg-more").hidden = !res.body.next;
  const shown = body.querySelectorAll("tr[data-rid]").length;
  $("reg-count").textContent = `${filtered ? "符合条件的报名：" : ""}已显示 ${shown} 条${res.body.next ? "（还有更多）" : ""}`;
}

// 审核队列 ------------------------------------------------------------------------------------------

let deciding = null;

// The queue comes in pages by registration id (cases under review and not-eligible cases mixed): "加载更多"
// asks for the cases after the last one shown. A case signed here leaves the table; the others stay put.
async function loadQueue(more) {
  const body = $("queue-table").tBodies[0];
  const d = state.district;
  const mayDecide = state.me.role === "district";
  $("queue-caption").textContent = `${districtName(d)}待审核案件`;
  $("queue-hint").textContent = mayDecide
    ? "待人工复核和审核未通过的案件。每项审核结论都记录审核人、时间和理由（谁审谁签字）。"
    : "市教育局可以查看各区的审核队列；审核结论由区教育局签署。";
  $("bulk-form").hidden = !mayDecide;
  $("queue-pick-h").hidden = !mayDecide;
  queueSchools(d);
  loadPresets();
  if (!more) {
    body.replaceChildren(emptyRow(queueCols(), "正在载入…"));
    state.cursors.queue = null;
    $("queue-pick-all").checked = false;
    $("bulk-results").replaceChildren();
  }
  const q = new URLSearchParams({ limit: "100" });
  for (const [key, value] of queueFilters()) q.set(key, value);
  sortParams("queue", q);
  if (more && state.cursors.queue) q.set("cursor", state.cursors.queue);
  const current = ticket("queue");
  const res = await api("GET", `admin/verification/${enc(season())}/districts/${enc(d)}/queue?${q}`);
  if (!current()) return;
  if (!res.ok) {
    $("queue-error").textContent = messageOf(res);
    if (!more) body.replaceChildren();
    return;
  }
  $("queue-error").textContent = "";
  const cases = res.body.cases;
  const rows = cases.map((c) => {
    const facts = Object.entries(c.facts || {}).map(([k, v]) => el("li", { text: `${FACT_ZH[k] || k}：${v ? "是" : "否"}` }));
    const actions = el("td", { class: "ops" });
    if (mayDecide) {
      const b = el("button", { type: "button", class: "small", "aria-label": `审核 ${c.registration_id}`, text: "审核" });
      b.addEventListener("click", () => openDecide(c));
      actions.append(b, " ");
    }
    const h = el("button", { type: "button", class: "small secondary", text: "记录" });
    h.setAttribute("aria-label", `${c.registration_id} 的审核记录`);
    h.addEventListener("click", () => loadHistory(c.registration_id));
    actions.append(h);
    const pick = mayDecide ? el("td", { class: "pick" }, el("input", {
      type: "checkbox", class: "queue-pick", value: c.registration_id, "aria-label": `选择 ${c.registration_id}`,
    })) : null;
    return el("tr", { "data-rid": c.registration_id },
      pick,
      el("td", { class: "mono", text: c.registration_id }),
      el("td", { text: c.child ? c.child.name : "—" }),
      el("td", { class: "nowrap", text: `${gradeZh(c.grade)}·${CATEGORY_SHORT[c.category] || c.category}` }),
      el("td", {}, tag(c.status_zh, c.status === "review" ? "open" : "bad")),
      el("td", {},
        el("ul", { class: "reasons" }, (c.reasons_zh || []).map((t) => el("li", { text: t }))),
        facts.length ? el("ul", { class: "checks", "aria-label": "核查情况" }, facts) : null,
        // owner-not-guardian: whom the form names (masked), and what the reviewer checks
        (c.review_zh || []).length ? el("ul", { class: "checks", "aria-label": "填报的监护人" },
          (c.guardians || []).map((g) => el("li", { text: `监护人（${g.relationship}）${g.name} ${g.id_number}` }))) : null,
        (c.review_zh || []).map((t) => el("p", { class: "hint", text: t }))),
      actions);
  });
  if (more) body.append(...rows);
  else body.replaceChildren(...rows);
  state.cursors.queue = res.body.next;
  queueShown();
}

// The count under the queue's heading, and the empty row when nothing is left to show.
function queueShown() {
  const body = $("queue-table").tBodies[0];
  const shown = body.querySelectorAll("tr[data-rid]").length;
  const next = state.cursors.queue;
  if (!shown && !next) body.replaceChildren(emptyRow(queueCols(), "没有待审核的案件"));
  $("queue-more").hidden = !next;
  const label = queueFilters().length ? "符合条件的待审核案件" : "待审核";
  $("queue-count").textContent = next ? `${label}：已显示 ${shown} 件（还有更多）` : `${label} ${shown} 件`;
  bulkPicked();
}

// The search and filters, as the API takes them (GET …/queue?q=&status=&reason=&grade=&category=&school=):
// matched on the server, so a filtered list pages through the whole queue, not only what is shown.
const QUEUE_FILTERS = ["q", "status", "reason", "grade", "category", "school"];
function queueFilters() {
  return QUEUE_FILTERS.map((k) => [k, $(`queue-${k}`).value.trim()]).filter(([, v]) => v);
}

// 导出Excel: a list's current view (the same search, filters and sort, every matching row, masked as
// shown) as an .xlsx file the API writes with openpyxl; saved from the page, nothing kept on a server.
async function exportView(prefix, path, unit) {
  $(`${prefix}-export`).disabled = true;
  const res = await api("GET", path);
  $(`${prefix}-export`).disabled = false;
  const done = $(`${prefix}-export-done`);
  if (!res.ok) {
    done.hidden = true;
    $(`${prefix}-error`).textContent = messageOf(res);
    return;
  }
  $(`${prefix}-error`).textContent = "";
  const bytes = Uint8Array.from(atob(res.body.content_base64), (c) => c.charCodeAt(0));
  const url = URL.createObjectURL(new Blob([bytes], { type: res.body.media_type }));
  const a = el("a", { href: url, download: res.body.file_name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  done.textContent = `已导出 ${res.body.rows} ${unit}：${res.body.file_name}${res.body.truncated ? "（超过 2000 件，仅导出前 2000 件，请缩小查找范围）" : ""}`;
  done.hidden = false;
}

function exportQueue() {
  const q = new URLSearchParams(queueFilters());
  return exportView("queue", `admin/verification/${enc(season())}/districts/${enc(state.district)}/queue/export?${q}`, "件");
}

// the registrations and placements lists: their filters (with the grade) and their sort, no page
function exportList(prefix, path) {
  const q = new URLSearchParams(listFilters(prefix));
  sortParams(prefix, q);
  return exportView(prefix, `${path}/export?${q}`, "条");
}

function queueSchools(d) {
  const select = $("queue-school");
  if (select.dataset.district === d) return;
  select.dataset.district = d;
  const schools = (state.config.schools || []).filter((s) => s.district === d && s.kind !== "special-education");
  select.replaceChildren(el("option", { value: "", text: "全部学校" }),
    ...schools.map((s) => el("option", { value: s.id, text: s.name })));
}

function queueCols() {
  return state.me && state.me.role === "district" ? 7 : 6;
}

// 批量签字: the ticked cases signed at once with one reason (a preset, a note or both). The API signs
// each case by itself and answers case by case; signed rows leave the table, refused ones stay ticked
// with why beside the form.

let presetsLoaded = false;
async function loadPresets() {
  if (presetsLoaded) return;
  const res = await api("GET", `admin/verification/${enc(season())}/decision-presets`);
  if (!res.ok) {
    $("bulk-error").textContent = messageOf(res);
    return;
  }
  presetsLoaded = true;
  $("bulk-preset").append(...res.body.presets.map((p) => el("option", { value: p.id, text: p.text_zh })));
  for (const id of ["queue-reason", "reg-reason"]) {
    $(id).append(...res.body.reasons.map((r) => el("option", { value: r.id, text: r.text_zh })));
  }
}

function pickedIds() {
  return [...$("queue-table").querySelectorAll("tbody input.queue-pick:checked")].map((b) => b.value);
}

function bulkPicked() {
  const boxes = $("queue-table").querySelectorAll("tbody input.queue-pick");
  const n = pickedIds().length;
  $("bulk-count").textContent = `已选 ${n} 件`;
  $("queue-pick-all").checked = boxes.length > 0 && n === boxes.length;
}

async function submitBulk(ev) {
  ev.preventDefault();
  const ids = pickedIds();
  const preset = $("bulk-preset").value;
  const note = $("bulk-note").value.trim();
  let problem = "";
  if (!ids.length) problem = "请先在下表中勾选要签字的案件";
  else if (ids.length > 100) problem = "一次最多签署 100 件，请减少勾选";
  else if (!preset && note.length < 2) problem = "请选择常用理由或填写补充说明（至少2个字）";
  $("bulk-error").textContent = problem;
  $("bulk-note").setAttribute("aria-invalid", problem && !preset && ids.length ? "true" : "false");
  if (problem) return;
  const [action, outcome] = $("bulk-action").value.split(":");
  // the outcome the clerk saw, even to confirm: a case a colleague changed meanwhile is refused, not
  // confirmed to an outcome nobody here looked at
  const body = { registration_ids: ids, action, outcome, note };
  if (preset) body.preset = preset;
  $("bulk-submit").disabled = true;
  const res = await api("POST", `admin/verification/${enc(season())}/districts/${enc(state.district)}/decisions`, body);
  $("bulk-submit").disabled = false;
  if (!res.ok) {
    $("bulk-error").textContent = messageOf(res);
    return;
  }
  for (const r of res.body.results) {
    const row = $("queue-table").querySelector(`tbody tr[data-rid="${CSS.escape(r.registration_id)}"]`);
    if (r.signed && row) row.remove();
  }
  const refused = res.body.results.filter((r) => !r.signed);
  const summary = el("p", { class: refused.length ? "warn" : "notice",
    text: `已签署 ${res.body.signed} 件${refused.length ? `，${refused.length} 件未签署（见下）` : ""}。理由：${res.body.reason}` });
  $("bulk-results").replaceChildren(summary, ...(refused.length ? [el("ul", { class: "bulk-results" }, refused.map((r) =>
    el("li", { class: "refused", text: `${r.registration_id}：${r.message}` })))] : []));
  announce(`批量签字：已签署 ${res.body.signed} 件，未签署 ${refused.length} 件`);
  queueShown();
}

async function loadHistory(rid) {
  const res = await api("GET", `admin/verification/${enc(season())}/registrations/${enc(rid)}/history`);
  const box = $("history-body");
  $("history-h").textContent = `审核记录：${rid}`;
  if (!res.ok) {
    box.replaceChildren(el("p", { class: "error-box", text: messageOf(res) }));
  } else if (!res.body.decisions.length) {
    box.replaceChildren(el("p", { text: "尚无人工审核记录（当前结论由系统根据部门核查结果作出）。" }));
  } else {
    box.replaceChildren(el("ol", {}, res.body.decisions.map((d) => el("li", {},
      `${time(d.at)} ${who(d.actor)}：${ACTION_ZH[d.action] || d.action}为“${OUTCOME_ZH[d.outcome] || d.outcome}”。理由：${d.reason}`))));
  }
  $("history").hidden = false;
  $("history-h").focus();
}

function openDecide(c) {
  deciding = c;
  $("decide-case").textContent = `${c.registration_id} · ${c.child ? c.child.name : ""} · ${gradeZh(c.grade)} · 当前：${c.status_zh}`;
  const options = c.status === "review"
    ? [["override:eligible", "改判为符合片区入学条件"], ["override:not-eligible", "改判为不符合条件（统筹安排）"]]
    : [["confirm:not-eligible", "确认不符合条件（统筹安排）"], ["override:eligible", "改判为符合片区入学条件"]];
  $("decide-options").replaceChildren(...options.map(([value, label], i) => el("div", { class: "choice" },
    el("input", { type: "radio", name: "decide-choice", id: `decide-opt-${i}`, value }),
    el("label", { for: `decide-opt-${i}`, text: label }))));
  $("decide-priority-field").hidden = !("policy-priority" in (c.facts || {}));
  $("decide-priority").value = "";
  $("decide-reason").value = "";
  for (const id of ["decide-choice-error", "decide-reason-error", "decide-error"]) $(id).textContent = "";
  $("decide-reason").removeAttribute("aria-invalid");
  $("decide-dialog").showModal();
  $("decide-opt-0").focus();
}

async function submitDecide(ev) {
  ev.preventDefault();
  const c = deciding;
  const picked = document.querySelector("input[name=decide-choice]:checked");
  const reason = $("decide-reason").value.trim();
  $("decide-choice-error").textContent = picked ? "" : "请选择审核结论";
  $("decide-reason-error").textContent = reason.length >= 2 ? "" : "请填写审核理由（至少2个字）";
  $("decide-reason").setAttribute("aria-invalid", reason.length >= 2 ? "false" : "true");
  if (!picked || reason.length < 2) return;
  const [action, outcome] = picked.value.split(":");
  const body = { action, reason };
  if (action === "override") body.outcome = outcome;
  if ($("decide-priority").value) body.priority_verified = $("decide-priority").value === "true";
  $("decide-submit").disabled = true;
  const res = await api("POST", `admin/verification/${enc(season())}/registrations/${enc(c.registration_id)}/decisions`, body);
  $("decide-submit").disabled = false;
  if (!res.ok) {
    $("decide-error").textContent = messageOf(res);
    return;
  }
  $("decide-dialog").close();
  announce(`已签署：${c.registration_id} ${ACTION_ZH[action]}为“${OUTCOME_ZH[res.body.outcome] || res.body.outcome}”`);
  // the signed case leaves the queue; the pages already shown stay, so the reviewer keeps their place
  const signed = $("queue-table").querySelector(`tbody tr[data-rid="${CSS.escape(c.registration_id)}"]`);
  if (signed) signed.remove();
  queueShown();
  await loadHistory(c.registration_id);
}

// 入户核查: the home visits past their deadline (GET /admin/seasons/{season}/visits/overdue) ---------
// District staff see their own district's visits, as its community offices' list shows them (the
// offices of a district share one list); city staff see every district's count. Most overdue first,
// as the API sorts them.

function visitsTable(caption, head, rows, cols, none) {
  return el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption },
    el("table", { class: "fit" }, el("caption", { text: caption }),
      el("thead", {}, el("tr", {}, ...head.map(([text, cls]) => el("th", { scope: "col", class: cls || null, text })))),
      el("tbody", {}, ...(rows.length ? rows : [emptyRow(cols, none)]))));
}

function districtVisits(d, none) {
  const rows = (d.visits || []).map((v) => el("tr", {},
    el("td", { class: "nowrap", text: v.child }),
    el("td", { text: v.address }),
    el("td", { class: "nowrap", text: time(v.requested_at) }),
    el("td", { class: "nowrap", text: deadlineText(v.deadline) }),
    el("td", { class: "num" }, tag(`${v.days_overdue}天`, "bad"))));
  const name = d.district_name || districtName(d.district);
  const more = d.overdue > rows.length ? el("p", { class: "hint", text: `仅列出逾期最久的${rows.length}件，共${d.overdue}件。` }) : null;
  return el("div", { class: "visit-group", "data-district": d.district },
    el("h3", { text: `${name}街道社区（逾期${d.overdue}件）` }),
    visitsTable(`${name}逾期未完成的入户核查`,
      [["儿童姓名"], ["核查地址"], ["发起核查时间"], ["截止时间"], ["逾期天数", "num"]], rows, 5, none),
    more);
}

function cityVisits(found, none) {
  const total = found.districts.reduce((n, d) => n + d.overdue, 0);
  const rows = total ? found.districts.map((d) => el("tr", { "data-district": d.district },
    el("th", { scope: "row", text: d.district_name || districtName(d.district) }),
    el("td", { class: "num" }, d.overdue ? tag(`${d.overdue}件`, "bad") : "0件"),
    el("td", { class: "nowrap", text: time(d.oldest_requested_at) }))) : [];
  return visitsTable("各区逾期未完成的入户核查", [["区"], ["逾期件数", "num"], ["最早发起核查时间"]], rows, 3, none);
}

async function loadVisits() {
  $("visits-hint").textContent = state.me.role === "district"
    ? "入户核查由街道社区上门完成并在系统中答复。下列核查已过截止时间仍未答复，逾期最久的排在最前；阶段结束时，未完成的核查记为未确认，转入人工复核。"
    : "各区已过截止时间仍未答复的入户核查件数，逾期件数最多的区排在最前；具体核查由各区教育局督促街道社区完成。阶段结束时，未完成的核查记为未确认，转入人工复核。";
  $("visits-body").replaceChildren(el("p", { text: "正在载入…" }));
  $("visits-count").textContent = "";
  const current = ticket("visits");
  const res = await api("GET", `admin/seasons/${enc(season())}/visits/overdue`);
  if (!current()) return;
  if (!res.ok) {
    $("visits-error").textContent = messageOf(res);
    $("visits-body").replaceChildren();
    return;
  }
  $("visits-error").textContent = "";
  const found = res.body;
  const total = found.districts.reduce((n, d) => n + d.overdue, 0);
  const none = found.days_overdue
    ? "没有逾期未完成的入户核查。"
    : `入户核查尚未到截止时间（${deadlineText(found.deadline)}），到期后仍未完成的核查会列在这里。`;
  $("visits-count").textContent = found.days_overdue
    ? `入户核查截止时间：${deadlineText(found.deadline)}，已逾期${found.days_overdue}天；逾期未完成共${total}件`
    : `入户核查截止时间：${deadlineText(found.deadline)}`;
  $("visits-body").replaceChildren(...(state.me.role === "district"
    ? found.districts.map((d) => districtVisits(d, none))
    : [cityVisits(found, none)]));
}

// 电脑派位 ------------------------------------------------------------------------------------------

async function loadLottery() {
  const body = $("lottery-table").tBodies[0];
  body.replaceChildren(emptyRow(9, "正在载入…"));
  const current = ticket("lottery");
  const res = await api("GET", `admin/lottery/${enc(season())}/ceremonies`);
  if (!current()) return;
  if (!res.ok) {
    $("lottery-error").textContent = messageOf(res);
    body.replaceChildren();
    return;
  }
  $("lottery-error").textContent = "";
  const rows = res.body.ceremonies.map((c) => {
    const q = new URLSearchParams({ season: season(), school: c.school_id, grade: String(c.grade) });
    const open = c.case === "all-admitted" ? "—" : el("a", {
      class: "button", href: `${BASE}console/ceremony?${q}`, target: "_blank", rel: "opener",
      "aria-label": `打开大屏幕：${c.school_name} ${gradeZh(c.grade)}（新窗口）`, text: "打开大屏幕",
    });
    const status = c.case === "all-admitted"
      ? (c.status === "recorded" ? "无需派位，已归档" : "无需派位")
      : LOTTERY_STATUS_ZH[c.status] || c.status;
    return el("tr", {},
      el("td", { text: c.school_name }),
      el("td", { class: "nowrap", text: gradeZh(c.grade) }),
      el("td", { text: districtName(c.district) }),
      el("td", { class: "num", text: c.plan }),
      el("td", { class: "num", text: c.applicants }),
      el("td", { text: CASE_ZH[c.case] || c.case }),
      el("td", {}, tag(status, c.status === "prepared" ? "open" : "ok"), c.overdue && c.status === "prepared" ? el("span", { class: "tag bad", text: "已超时" }) : null),
      el("td", { text: deadlineText(c.deadline) }),
      el("td", {}, open));
  });
  body.replaceChildren(...(rows.length ? rows : [emptyRow(9, "暂无民办学校派位信息（报名审核结束后生成）")]));
}

// 录取结果 ------------------------------------------------------------------------------------------

function fillSchools() {
  const kind = $("dec-kind").value;
  const plan = $("dec-plan").value;
  const d = state.district;
  const all = state.config.schools || [];
  let list = [];
  if (kind === "committee") {
    list = plan === "regular-class" ? all.filter((s) => s.kind === "public" && s.district === d)
      : all.filter((s) => s.kind === "special-education");
  } else if (kind === "override") {
    list = all.filter((s) => s.kind !== "private" && s.district === d);
  }
  $("dec-school").replaceChildren(...list.map((s) => el("option", { value: s.id, text: s.name })));
  $("dec-plan-field").hidden = kind !== "committee";
  $("dec-school-field").hidden = kind === "defer";
}

async function loadPlacements(more) {
  const d = state.district;
  const mayDecide = state.me.role === "district";
  $("decision-form").hidden = !mayDecide;
  if (mayDecide && !more) fillSchools();
  $("decisions-caption").textContent = `${districtName(d)}安置决定（以最新一条为准，全部保留）`;
  $("placed-caption").textContent = `${districtName(d)}学生安置结果`;
  const current = ticket("placements");
  if (!more) {
    const res = await api("GET", `admin/placement/${enc(season())}/districts/${enc(d)}/decisions`);
    if (!current()) return;
    const body = $("decisions-table").tBodies[0];
    if (!res.ok) {
      $("decisions-error").textContent = messageOf(res);
      body.replaceChildren();
    } else {
      $("decisions-error").textContent = "";
      const rows = res.body.decisions.map((x) => el("tr", {},
        el("td", { class: "mono", text: x.registration_id }),
        el("td", { text: KIND_ZH[x.kind] || x.kind }),
        el("td", { text: x.plan ? PLAN_ZH[x.plan] || x.plan : "—" }),
        el("td", { text: x.school_id ? schoolName(x.school_id) : "—" }),
        el("td", { text: x.reason }),
        el("td", { text: who(x.actor) }),
        el("td", { text: time(x.at) })));
      body.replaceChildren(...(rows.length ? rows : [emptyRow(7, "暂无安置决定")]));
    }
  }
  const body = $("placed-table").tBodies[0];
  if (!more) {
    body.replaceChildren(emptyRow(6, "正在载入…"));
    state.cursors.placed = null;
  }
  placedFilters(d);
  const q = new URLSearchParams({ limit: "200" });
  for (const [key, value] of listFilters("placed")) q.set(key, value);
  sortParams("placed", q);
  if (more && state.cursors.placed) q.set("cursor", state.cursors.placed);
  const res = await api("GET", `admin/placement/${enc(season())}/districts/${enc(d)}/placements?${q}`);
  if (!current()) return;
  // placement has run (the list answers) or not yet (409); a refused search says neither
  if (!more && (res.ok || res.status === 409)) decisionsClosed(res.ok);
  if (!res.ok) {
    if (res.status === 409) { // placement has not run yet: not an error, just not yet
      $("placed-error").textContent = "";
      body.replaceChildren(emptyRow(6, messageOf(res)));
    } else {
      $("placed-error").textContent = messageOf(res);
      body.replaceChildren();
    }
    $("placed-more").hidden = true;
    $("placed-count").textContent = "";
    return;
  }
  $("placed-error").textContent = "";
  const rows = res.body.placements.map((p) => el("tr", { "data-rid": p.registration_id },
    el("td", { class: "mono", text: p.registration_id }),
    el("td", { text: p.child.name }),
    el("td", { class: "nowrap", text: gradeZh(p.grade) }),
    el("td", { text: p.school ? p.school.name : p.status === "deferred" ? "缓学" : "—" }),
    el("td", { text: p.route_zh || "—" }),
    el("td", { text: p.reason_zh || "—" })));
  const filtered = listFilters("placed").some(([k]) => k !== "grade");
  if (more) body.append(...rows);
  else body.replaceChildren(...(rows.length ? rows : [emptyRow(6, filtered ? "没有符合条件的安置结果" : "暂无安置结果")]));
  state.cursors.placed = res.body.next;
  $("placed-more").hidden = !res.body.next;
  const shown = body.querySelectorAll("tr[data-rid]").length;
  $("placed-count").textContent = `${filtered ? "符合条件的安置结果：" : ""}已显示 ${shown} 条${res.body.next ? "（还有更多）" : ""}`;
}

// The placements' filters: the route (录取方式), why coordinated, the school placed at.
function placedFilters(d) {
  citySchools("placed-school", d, "全部学校");
  if ($("placed-status").options.length > 1) return;
  $("placed-status").append(...Object.entries(ROUTE_ZH).map(([k, v]) => el("option", { value: k, text: v })));
  $("placed-reason").append(...Object.entries(COORDINATION_ZH).map(([k, v]) => el("option", { value: k, text: v })));
}

// Placement decisions close once placement has run (the route then refuses them): the form stays in
// view, disabled, saying why and what is left, rather than failing only on submit.
function decisionsClosed(closed) {
  $("dec-fields").disabled = closed;
  $("decision-closed").hidden = !closed;
  $("decision-closed").textContent = closed
    ? "安置结果已经公布，不能再录入安置决定。公布后如需调整，请按更正程序办理（记录理由，逐件留痕）。"
    : "";
}

function fieldError(name, message) {
  const input = $(`dec-${name}`);
  const slot = $(`dec-${name}-error`);
  if (slot) slot.textContent = message || "";
  if (input) input.setAttribute("aria-invalid", message ? "true" : "false");
}

async function submitDecision(ev) {
  ev.preventDefault();
  for (const n of ["rid", "kind", "plan", "school", "reason"]) fieldError(n, "");
  $("dec-error").textContent = "";
  const rid = $("dec-rid").value.trim().toUpperCase();
  const kind = $("dec-kind").value;
  const reason = $("dec-reason").value.trim();
  let bad = false;
  if (!/^R-[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$/.test(rid)) { fieldError("rid", "请填写完整的报名编号，如 R-ABCD-EFGH-IJKL-MNOP"); bad = true; }
  if (reason.length < 2) { fieldError("reason", "请填写理由（至少2个字）"); bad = true; }
  if (kind !== "defer" && !$("dec-school").value) { fieldError("school", "请选择学校"); bad = true; }
  if (bad) return;
  const body = { kind, reason };
  if (kind === "committee") body.plan = $("dec-plan").value;
  if (kind !== "defer") body.school_id = $("dec-school").value;
  $("dec-submit").disabled = true;
  const res = await api("POST", `admin/placement/${enc(season())}/registrations/${enc(rid)}/decisions`, body);
  $("dec-submit").disabled = false;
  if (!res.ok) {
    const errors = (res.body && res.body.errors) || [];
    const map = { kind: "kind", plan: "plan", school_id: "school", reason: "reason" };
    let placed = false;
    for (const e of errors) {
      const f = String(e.field || "").split(".").pop();
      if (map[f]) { fieldError(map[f], e.message_zh || e.message); placed = true; }
    }
    if (!placed) $("dec-error").textContent = messageOf(res);
    return;
  }
  $("dec-reason").value = "";
  $("dec-rid").value = "";
  announce(`已录入安置决定：${rid}`);
  $("dec-error").textContent = "";
  await loadPlacements(false);
  $("decisions-h").scrollIntoView({ block: "nearest" });
}

// 投诉答复 ------------------------------------------------------------------------------------------

async function loadComplaints() {
  const list = $("complaints-list");
  const d = state.district;
  const mayAnswer = state.me.role === "district";
  list.replaceChildren(el("li", { text: "正在载入…" }));
  const current = ticket("complaints");
  const res = await api("GET", `admin/complaints/${enc(season())}/districts/${enc(d)}`);
  if (!current()) return;
  if (!res.ok) {
    $("complaints-error").textContent = messageOf(res);
    list.replaceChildren();
    $("complaints-count").textContent = "";
    return;
  }
  $("complaints-error").textContent = "";
  const complaints = res.body.complaints || res.body.items || [];
  const open = complaints.filter((c) => c.status !== "answered").length;
  $("complaints-count").textContent = `共 ${complaints.length} 件，待答复 ${open} 件`;
  const items = complaints.map((c, i) => {
    const answers = (c.answers || []).map((a) => el("div", { class: "answer" },
      el("strong", { text: `答复（${time(a.at)} ${who(a.by)}）：` }), el("br"), a.text));
    const li = el("li", { "data-complaint": c.complaint_id },
      el("div", { class: "meta" },
        tag(c.status_zh || c.status, c.status === "answered" ? "ok" : "open"),
        el("span", { text: c.kind_zh || c.kind }),
        el("span", { class: "mono", text: c.registration_id }),
        el("span", { text: `提交：${time(c.created_at)}` }),
        c.waited_zh ? el("span", { text: c.waited_zh }) : null),
      el("p", { class: "text", text: c.text }),
      ...answers);
    if (mayAnswer) {
      const id = `answer-${i}`;
      const form = el("form", { class: "answer-form", novalidate: true },
        el("label", { for: id, text: c.answers && c.answers.length ? "补充答复" : "答复内容" }),
        el("textarea", { id, rows: "3", maxlength: "2000", "aria-describedby": `${id}-error` }),
        el("p", { class: "field-error", id: `${id}-error`, role: "alert" }),
        el("button", { type: "submit", class: "small", text: "提交答复" }));
      form.addEventListener("submit", (ev) => answerComplaint(ev, c, id));
      li.append(form);
    }
    return li;
  });
  list.replaceChildren(...(items.length ? items : [el("li", { text: "暂无投诉申诉" })]));
}

async function answerComplaint(ev, c, id) {
  ev.preventDefault();
  const text = $(id).value.trim();
  const slot = $(`${id}-error`);
  slot.textContent = "";
  if (text.length < 5) {
    slot.textContent = "答复内容至少5个字";
    $(id).setAttribute("aria-invalid", "true");
    return;
  }
  const button = ev.target.querySelector("button");
  button.disabled = true;
  const res = await api("POST", `admin/complaints/${enc(season())}/complaints/${enc(c.complaint_id)}/answer`, { answer: text });
  button.disabled = false;
  if (!res.ok) {
    slot.textContent = messageOf(res);
    return;
  }
  announce("答复已提交");
  await loadComplaints();
}

// 短信未送达 ----------------------------------------------------------------------------------------

async function loadSmsFailures() {
  const rows = $("sms-rows");
  rows.replaceChildren(emptyRow(8, "正在载入…"));
  const current = ticket("sms");
  const res = await api("GET", `admin/placement/${enc(season())}/districts/${enc(state.district)}/sms-failures`);
  if (!current()) return;
  if (!res.ok) {
    $("sms-error").textContent = messageOf(res);
    rows.replaceChildren();
    $("sms-count").textContent = "";
    return;
  }
  $("sms-error").textContent = "";
  const failures = res.body.failures || [];
  const open = failures.filter((f) => !f.phoned).length;
  $("sms-count").textContent = `共 ${failures.length} 条，待电话联系 ${open} 条`;
  const items = failures.map((f) => {
    let phoned;
    if (f.phoned) phoned = el("td", {}, tag("已联系", "ok"), ` ${time(f.phoned_at)} ${who(f.phoned_by)}`);
    else if (res.body.may_mark_phoned) {
      const button = el("button", { type: "button", class: "small", text: "已电话联系" });
      button.addEventListener("click", () => markPhoned(button, f));
      phoned = el("td", {}, button);
    } else phoned = el("td", {}, tag("待联系", "open"));
    return el("tr", {},
      el("td", { class: "mono", text: f.registration_id }),
      el("td", { text: f.child || "—" }),
      el("td", { text: f.purpose_zh }),
      el("td", { text: f.school || "—" }),
      el("td", { class: "mono", text: f.phone }),
      el("td", { text: String(f.attempts) }),
      el("td", { text: f.error_zh }),
      phoned);
  });
  rows.replaceChildren(...(items.length ? items : [emptyRow(8, "暂无未送达的短信")]));
}

async function markPhoned(button, f) {
  button.disabled = true;
  const path = `admin/placement/${enc(season())}/districts/${enc(state.district)}/sms-failures/${enc(f.registration_id)}/phoned`;
  const res = await api("POST", path, { purpose: f.purpose });
  button.disabled = false;
  if (!res.ok) {
    $("sms-error").textContent = messageOf(res);
    return;
  }
  announce("已登记电话联系");
  await loadSmsFailures();
}

// 招生阶段 ------------------------------------------------------------------------------------------

let advancing = null;

async function loadPhases() {
  const body = $("phases-table").tBodies[0];
  body.replaceChildren(emptyRow(5, "正在载入…"));
  const current = ticket("phases");
  const res = await api("GET", `admin/seasons/${enc(season())}/phases`);
  if (!current()) return;
  if (!res.ok) {
    $("phases-error").textContent = messageOf(res);
    body.replaceChildren();
    return;
  }
  $("phases-error").textContent = "";
  const may = Boolean(res.body.may_advance);
  $("phases-hint").textContent = may
    ? "每个阶段到公布的截止时间自动结束；市教育局可以提前结束正在进行的阶段，须说明理由。"
    : "每个阶段到公布的截止时间自动结束；提前结束由市教育局决定。";
  const rows = res.body.phases.map((p) => {
    const kind = p.state === "open" ? "open" : p.state === "advanced" ? "ok" : "plain";
    const record = p.state === "advanced"
      ? el("div", {}, `${time(p.advanced_at)} · ${p.source_zh || p.source}`,
        p.source === "staff" ? el("div", { text: `${who(p.advanced_by)}：${p.reason || ""}` }) : null)
      : "—";
    let action = "—";
    if (may && p.state === "open") {
      const label = p.phase === "spot-check" ? "结束抽查并发布结果" : "提前结束";
      action = el("button", { type: "button", class: "small danger", "data-phase": p.phase, text: label });
      action.setAttribute("aria-label", `${label}：${p.title_zh}`);
      action.addEventListener("click", () => openAdvance(p));
    }
    return el("tr", { "data-phase": p.phase },
      el("th", { scope: "row", text: p.title_zh }),
      el("td", {}, deadlineText(p.deadline), p.extended ? el("div", { class: "hint", text: `（已延长，原定 ${deadlineText(p.published_deadline)}）` }) : null),
      el("td", {}, tag(p.state_zh, kind), p.overdue ? tag("已过截止时间", "bad") : null),
      el("td", {}, record),
      el("td", {}, action));
  });
  body.replaceChildren(...rows);
}

// What the workflow does as soon as a phase ends (statemachines/season.asl.json), so the city knows
// what it starts: ending the spot-check publishes the results.
const NEXT_ZH = {
  "grade7-registration": "结束后：七年级报名关闭，统计各校报名人数。",
  "grade1-registration": "结束后：一年级报名关闭，统计各校报名人数，开始向公安、住建、规划部门核查。",
  "home-visits": "结束后：未完成的入户核查记为未确认，生成审核结论，进入复核签字。",
  "review": "结束后：冻结民办学校报名名单，超额的学校等待电脑派位。",
  "coordination": "结束后：按规则安置每名学生（划片、派位、统筹），并抽取市级抽查样本。",
  "spot-check": "结束后即发布录取结果：发放入学通知书（短信通知家长），录取结果签名封存归档。",
  "reporting": "结束后：报到情况截止，等待阳光分班。",
  "classes": "结束后：阳光分班，分班名单签名归档。",
};

function openAdvance(p) {
  advancing = p;
  $("advance-phase").textContent = p.title_zh;
  $("advance-next").textContent = NEXT_ZH[p.phase] || "";
  $("advance-deadline").textContent = deadlineText(p.deadline);
  $("advance-reason").value = "";
  $("advance-reason").removeAttribute("aria-invalid");
  $("advance-reason-error").textContent = "";
  $("advance-error").textContent = "";
  $("advance-dialog").showModal();
  $("advance-reason").focus();
}

async function submitAdvance(ev) {
  ev.preventDefault();
  const p = advancing;
  const reason = $("advance-reason").value.trim();
  if (reason.length < 2) {
    $("advance-reason-error").textContent = "请填写提前结束的理由（至少2个字）";
    $("advance-reason").setAttribute("aria-invalid", "true");
    return;
  }
  $("advance-submit").disabled = true;
  const res = await api("POST", `admin/seasons/${enc(season())}/phases/${enc(p.phase)}/advance`, { reason });
  $("advance-submit").disabled = false;
  if (!res.ok) {
    $("advance-error").textContent = messageOf(res);
    return;
  }
  $("advance-dialog").close();
  announce(res.body.result === "already-advanced" ? `“${p.title_zh}”已经结束，未作更改` : `已提前结束：${p.title_zh}`);
  await loadPhases();
}

// 招生季: the season started and watched (GET /admin/seasons/{season}/status, POST .../start) ----------

let seasonStatus = null;
const DEAD_PHASE_ZH = { verification: "材料审核", lottery: "民办学校招生", placement: "录取安排", "spot-check": "市级抽查抽样", notices: "录取通知", classes: "阳光分班" };
const VERDICT_STATUS_ZH = { eligible: "审核通过", "not-eligible": "审核未通过（统筹安排）", review: "待人工复核" };
const ROUTE_ZH = {
  catchment: "划片入学", priority: "政策性照顾（优先）", "private-no-draw": "民办学校录取（未超计划）",
  "private-draw": "民办学校电脑派位录取", ethnic: "民族学校录取", specialised: "专门学校录取", coordination: "统筹安排",
  "special-education": "特殊教育学校", "regular-class": "随班就读", "home-delivery": "送教上门",
  override: "区教育局调整", deferred: "缓学", transfer: "转学", declined: "已放弃学位",
};
// Why a child was coordinated (enrollment/placement/routes.py REASON_ZH).
const COORDINATION_ZH = {
  "catchment-overflow": "片区学校学位已满", "verification-failed": "信息审核未通过",
  "verification-unresolved": "信息审核未完成", "no-catchment": "住址不在任何招生片区",
  "private-not-admitted": "民办学校未录取", "private-declined": "放弃民办学校录取",
  "foreign": "外籍学生由区教育局安排", "ethnic-overflow": "民族学校学位已满",
  "specialised-overflow": "专门学校学位已满", "late-registration": "报名截止后补录",
  "public-declined": "放弃公办学校学位",
};
// The published calendar as the start's confirmation lists it (seasons/<name>.yaml `calendar`).
const CALENDAR_ZH = [
  ["plans_published", "公布招生计划"], ["grade7_registration", "七年级网上报名"], ["grade1_registration", "一年级网上报名"],
  ["verification", "材料审核"], ["home_visits", "入户核查"], ["private_counts_due", "民办学校报名人数上报"],
  ["lottery_day", "电脑派位"], ["coordination", "复审与统筹安排"], ["spot_check", "市教育局抽查"],
  ["admission_notices", "发放录取通知书"], ["reporting_day", "新生报到"], ["term_start", "开学"],
];
const dayRange = (v) => (v && typeof v === "object" ? `${v.start} 至 ${v.end}` : String(v || "—"));
const counted = (map, names) => {
  const parts = Object.entries(map || {}).map(([k, n]) => `${names[k] || k} ${n}`);
  return parts.length ? parts.join("，") : "尚无";
};

// 截止定时任务: what the deadline's schedule does and when, whether it is on; its AWS name only as a title.
function scheduleFact(nxt, schedule) {
  const on = schedule && schedule.state === "ENABLED";
  const value = schedule
    ? `${deadlineText(nxt.deadline)}到期时自动推进“${nxt.title_zh}”（${on ? "已启用" : "已停用"}）`
    : (nxt ? "缺失" : "—");
  return el("div", {}, el("dt", { text: "截止定时任务" }),
    el("dd", { class: "small", id: "season-schedule", title: schedule ? schedule.name : null, text: value }));
}

/** The season as people name it: the city, the year (e.g. 吉林市2023年义务教育招生). */
const seasonTitle = () => `${state.config.city || ""}${state.config.year || season()}年义务教育招生`;

async function loadSeason() {
  const current = ticket("season");
  const res = await api("GET", `admin/seasons/${enc(season())}/status`);
  if (!current()) return;
  if (!res.ok) {
    $("season-error").textContent = messageOf(res);
    return;
  }
  $("season-error").textContent = "";
  const s = (seasonStatus = res.body);
  const fact = (label, value, small) => el("div", {}, el("dt", { text: label }), el("dd", { class: small ? "small" : null, text: value }));
  const ex = s.execution;
  const nxt = s.next_deadline;
  const schedule = nxt && nxt.schedule;
  $("season-summary").replaceChildren(
    fact("流程状态", s.status_zh),
    fact("当前阶段", s.phase_zh || "全部阶段已结束"),
    fact("下一截止", nxt ? `${nxt.title_zh} ${deadlineText(nxt.deadline)}` : "—"),
    // the schedule by what it does, in Chinese; its AWS name (for the operator) in the title
    scheduleFact(nxt, schedule),
    fact("启动记录", ex ? `${time(ex.started_at)} · ${who(ex.started_by)}` : "尚未启动"),
    fact("配置摘要", s.config_digest || "—", true));
  const gates = s.open_gates.map((g) => el("li", {}, `${g.title_zh}：截止 ${deadlineText(g.deadline)}`, g.overdue ? tag("已过截止时间", "bad") : null));
  $("season-gates").replaceChildren(...(gates.length ? gates : [el("li", { text: "无" })]));
  const dead = s.dead_letters;
  const rows = dead.per_district_phase.map((r) => el("tr", {},
    el("td", { text: districtName(r.district) }), el("td", { text: DEAD_PHASE_ZH[r.phase] || r.phase }), el("td", { text: `${r.count}件` })));
  $("season-dead").tBodies[0].replaceChildren(...(rows.length ? rows : [emptyRow(3, "没有失败事项")]));
  $("season-dead-latest").replaceChildren(...dead.latest.map((r) =>
    el("li", { text: `${time(r.recorded_at)} · ${districtName(r.district)} · ${DEAD_PHASE_ZH[r.phase] || r.phase} · ${r.item_id}` })));
  const c = s.counts;
  const grades = Object.entries(c.registrations_per_grade).map(([g, n]) => `${gradeZh(Number(g))} ${n}人`).join("，");
  $("season-counts").replaceChildren(
    fact("报名", grades || "尚无"),
    fact("审核结论", counted(c.verdicts_per_status, VERDICT_STATUS_ZH)),
    fact("录取途径", counted(c.placements_per_route, ROUTE_ZH)));
  $("season-start").hidden = !(s.may_start && !ex);
  await loadPauses();
}

// 流程暂停: a step that failed after its retries (GET /admin/seasons/{season}/pauses, POST .../resume) --

let resuming = null;

async function loadPauses() {
  const body = $("season-pauses").tBodies[0];
  const current = ticket("pauses");
  const res = await api("GET", `admin/seasons/${enc(season())}/pauses`);
  if (!current()) return;
  if (!res.ok) {
    $("pauses-error").textContent = messageOf(res);
    body.replaceChildren();
    return;
  }
  $("pauses-error").textContent = "";
  const may = Boolean(res.body.may_resume);
  const rows = res.body.pauses.map((x) => {
    const open = x.status === "open";
    const failure = el("details", {}, el("summary", { text: x.error || "—" }), el("pre", { class: "small", text: x.cause || "" }));
    const record = open ? "—" : el("div", {}, time(x.resumed_at), el("div", { text: `${who(x.resumed_by)}：${x.reason || ""}` }));
    let action = "—";
    if (may && open) {
      action = el("button", { type: "button", class: "small danger", "data-pause": x.pause, text: "恢复" });
      action.setAttribute("aria-label", `恢复：${x.title_zh}`);
      action.addEventListener("click", () => openResume(x));
    }
    return el("tr", { "data-pause": x.pause },
      el("th", { scope: "row", text: x.title_zh }),
      el("td", { text: time(x.opened_at) }),
      el("td", {}, open ? tag("已暂停，等待恢复", "bad") : tag("已恢复", "ok")),
      el("td", {}, failure),
      el("td", {}, record),
      el("td", {}, action));
  });
  body.replaceChildren(...(rows.length ? rows : [emptyRow(6, "流程没有暂停过")]));
}

function openResume(x) {
  resuming = x;
  $("resume-step").textContent = x.title_zh;
  $("resume-opened").textContent = time(x.opened_at);
  $("resume-failure").textContent = x.error || "—";
  $("resume-reason").value = "";
  $("resume-reason").removeAttribute("aria-invalid");
  $("resume-reason-error").textContent = "";
  $("resume-error").textContent = "";
  $("resume-dialog").showModal();
  $("resume-reason").focus();
}

async function submitResume(ev) {
  ev.preventDefault();
  const x = resuming;
  const reason = $("resume-reason").value.trim();
  if (reason.length < 2) {
    $("resume-reason-error").textContent = "请填写恢复的理由（至少2个字），说明已排除的故障";
    $("resume-reason").setAttribute("aria-invalid", "true");
    return;
  }
  $("resume-submit").disabled = true;
  const res = await api("POST", `admin/seasons/${enc(season())}/pauses/${enc(x.pause)}/resume`, { reason });
  $("resume-submit").disabled = false;
  if (!res.ok) {
    $("resume-error").textContent = messageOf(res);
    return;
  }
  $("resume-dialog").close();
  const said = {
    resumed: `已恢复：${x.title_zh}，该步骤正在重新执行`,
    "already-resumed": `“${x.title_zh}”已经恢复，未作更改`,
    "execution-ended": `“${x.title_zh}”所属的流程已经结束，请重新启动流程（见运维手册）`,
  };
  announce(said[res.body.result] || `已恢复：${x.title_zh}`);
  await loadSeason();
}

function openStart() {
  const s = seasonStatus;
  if (!s) return;
  // named in Chinese; the config's and the state machine's names (for the operator) as titles
  $("start-season").textContent = `${seasonTitle()}（${s.season}年度）`;
  $("start-season").title = s.config_name;
  $("start-machine").textContent = `${seasonTitle()}流程（已部署）`;
  $("start-machine").title = s.state_machine_arn;
  $("start-digest").textContent = s.config_digest;
  $("start-calendar").tBodies[0].replaceChildren(...CALENDAR_ZH.filter(([k]) => k in s.calendar).map(([k, label]) =>
    el("tr", {}, el("th", { scope: "row", text: label }), el("td", { text: dayRange(s.calendar[k]) }))));
  $("start-error").textContent = "";
  $("start-dialog").showModal();
}

async function submitStart(ev) {
  ev.preventDefault();
  const s = seasonStatus;
  $("start-submit").disabled = true;
  const res = await api("POST", `admin/seasons/${enc(season())}/start`, { config_digest: s.config_digest });
  $("start-submit").disabled = false;
  if (!res.ok) {
    $("start-error").textContent = messageOf(res);
    return;
  }
  $("start-dialog").close();
  announce(res.body.result_zh);
  await loadSeason();
}

// 抽查 ----------------------------------------------------------------------------------------------

async function loadSpotCheck() {
  const d = state.district;
  const body = $("spot-table").tBodies[0];
  $("spot-caption").textContent = `${districtName(d)}抽查样本`;
  body.replaceChildren(emptyRow(4, "正在载入…"));
  const current = ticket("spotcheck");
  const res = await api("GET", `admin/verification/${enc(season())}/districts/${enc(d)}/spot-checks`);
  if (!current()) return;
  if (!res.ok) {
    $("spot-error").textContent = messageOf(res);
    body.replaceChildren();
    $("spot-summary").replaceChildren();
    return;
  }
  $("spot-error").textContent = "";
  const s = res.body.summary;
  const fact = (label, value, small) => el("div", {}, el("dt", { text: label }), el("dd", { class: small ? "small" : null, text: value }));
  $("spot-summary").replaceChildren(
    fact("抽样人数", `${s.sampled}人`), fact("已复核", `${s.checked}人`),
    fact("复核属实", `${s.confirmed}人`), fact("发现问题", `${s.discrepancies}人`),
    fact("审核总数", `${s.population}人`), fact("抽样种子", s.seed || "尚未抽样", true));
  const sample = (res.body.sample && res.body.sample.sample) || [];
  const outcomes = {};
  for (const o of res.body.outcomes || []) outcomes[o.registration_id] = o;
  const rows = sample.map((rid, i) => {
    const done = outcomes[rid];
    const cell = el("td", {});
    if (!done && state.me.role !== "city") { // auditors read the sample; the city records the checks
      cell.append("—");
    } else if (done) {
      cell.append(tag(done.outcome === "confirmed" ? "复核属实" : "发现问题", done.outcome === "confirmed" ? "ok" : "bad"),
        ` ${who(done.checked_by)} ${time(done.checked_at)}${done.note ? `：${done.note}` : ""}`);
    } else {
      const id = `spot-${i}`;
      const form = el("form", { class: "inline", novalidate: true },
        el("label", { for: `${id}-outcome`, class: "visually-hidden", text: `${rid} 复核结果` }),
        el("select", { id: `${id}-outcome` },
          el("option", { value: "confirmed", text: "复核属实" }), el("option", { value: "discrepancy", text: "发现问题" })),
        el("label", { for: `${id}-note`, class: "visually-hidden", text: `${rid} 复核说明` }),
        el("input", { type: "text", id: `${id}-note`, placeholder: "复核说明（可选）", maxlength: "500" }),
        el("button", { type: "submit", class: "small", text: "记录" }),
        el("span", { class: "field-error", id: `${id}-error`, role: "alert" }));
      form.addEventListener("submit", (ev) => recordSpotCheck(ev, rid, id));
      cell.append(form);
    }
    return el("tr", {}, el("td", { class: "num", text: i + 1 }), el("td", { class: "mono", text: rid }),
      el("td", {}, done ? (done.outcome === "confirmed" ? "属实" : "有问题") : "待复核"), cell);
  });
  body.replaceChildren(...(rows.length ? rows : [emptyRow(4, "尚未抽样（抽查阶段开始时随机抽取）")]));
}

async function recordSpotCheck(ev, rid, id) {
  ev.preventDefault();
  const body = { outcome: $(`${id}-outcome`).value, note: $(`${id}-note`).value.trim() };
  const res = await api("POST", `admin/verification/${enc(season())}/districts/${enc(state.district)}/spot-checks/${enc(rid)}`, body);
  if (!res.ok) {
    $(`${id}-error`).textContent = messageOf(res);
    return;
  }
  announce(`已记录抽查结果：${rid}`);
  await loadSpotCheck();
}

// 结果与归档 ----------------------------------------------------------------------------------------

function sizeText(n) {
  if (n >= 1048576) return `${(n / 1048576).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${n} B`;
}

function fileTable(caption, listing) {
  const rows = listing.files.map((f) => el("tr", {},
    el("td", { class: "mono wrap", text: f.key }),
    el("td", { class: "num", text: sizeText(f.bytes) }),
    el("td", { class: "mono hash", text: f.sha256 }),
    el("td", {}, el("a", { href: f.url, download: f.key.split("/").pop(), "aria-label": `下载 ${f.key}`, text: "下载" }))));
  const signed = listing.signed.map((f) => el("li", {},
    el("a", { href: f.url, download: f.key, text: f.key })));
  return el("div", {},
    el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption },
      el("table", { class: "fit files" }, el("caption", { text: caption }),
        el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "文件" }), el("th", { scope: "col", class: "num", text: "大小" }),
          el("th", { scope: "col", text: "SHA-256" }), el("th", { scope: "col", text: "下载" }))),
        el("tbody", {}, ...rows))),
    el("p", { class: "hint" }, `封存时间：${time(listing.created_at)}。签名与公钥：`),
    el("ul", {}, ...signed));
}

// The pending corrections sealed now (city staff): the daily 03:00 run would seal the same ones.
async function sealCorrections() {
  const button = $("corrections-seal");
  button.disabled = true;
  $("corrections-sealed").hidden = true;
  const res = await api("POST", `admin/placement/${enc(season())}/corrections/seal`);
  button.disabled = false;
  if (!res.ok) {
    $("archive-error").textContent = messageOf(res);
    return;
  }
  $("archive-error").textContent = "";
  const batches = res.body.batches.map((b) => `第${b.n}批（${b.corrections}条更正）`).join("、");
  $("corrections-sealed").textContent = res.body.sealed === "nothing"
    ? "没有待封存的更正。"
    : `已签名封存：${batches}。`;
  $("corrections-sealed").hidden = false;
}

async function loadArchive() {
  const city = state.me.role === "city";
  $("corrections-seal").hidden = !city;
  $("corrections-seal-hint").hidden = !city;
  $("archive-files").replaceChildren(el("p", { text: "正在载入…" }));
  $("archive-summary").replaceChildren();
  const current = ticket("archive");
  const res = await api("GET", `admin/placement/${enc(season())}/archive`);
  if (!current()) return;
  if (!res.ok) {
    if (res.status === 409) {
      $("archive-error").textContent = "";
      $("archive-files").replaceChildren(el("p", { class: "warn", text: messageOf(res) }));
    } else {
      $("archive-error").textContent = messageOf(res);
      $("archive-files").replaceChildren();
    }
    return;
  }
  $("archive-error").textContent = "";
  const a = res.body;
  const s = a.summary;
  if (s) {
    const routes = Object.entries(s.by_route).map(([k, v]) => el("tr", {},
      el("th", { scope: "row", text: v.route_zh }), el("td", { class: "num", text: v.count })));
    const districts = s.by_district.map((x) => el("tr", {},
      el("th", { scope: "row", text: x.name }), el("td", { class: "num", text: x.placed })));
    $("archive-summary").replaceChildren(
      el("h3", { text: "录取结果汇总" }),
      el("dl", { class: "facts" },
        el("div", {}, el("dt", { text: "安置总人数" }), el("dd", { text: `${s.total}人` })),
        el("div", {}, el("dt", { text: "已安排学校" }), el("dd", { text: `${s.placed}人` })),
        el("div", {}, el("dt", { text: "缓学" }), el("dd", { text: `${s.deferred}人` }))),
      el("div", { class: "grid" },
        el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "按录取方式" },
          el("table", { class: "fit" }, el("caption", { text: "按录取方式" }),
            el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "录取方式" }), el("th", { scope: "col", class: "num", text: "人数" }))),
            el("tbody", {}, ...routes))),
        el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "按录取学校所在区" },
          el("table", { class: "fit" }, el("caption", { text: "按录取学校所在区" }),
            el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "区" }), el("th", { scope: "col", class: "num", text: "人数" }))),
            el("tbody", {}, ...districts)))));
  }
  const parts = [el("h3", { text: "招生季报告" })];
  if (a.report) {
    parts.push(el("p", { id: "archive-report" },
      el("a", { href: a.report.url, target: "_blank", rel: "noopener", text: `${a.report.title_zh}（查看、打印或保存）` }),
      el("span", { class: "hint", text: "　报名与学位预警、民办学校派位、信息审核、录取途径与统筹距离；链接五分钟内有效。" })));
  } else {
    parts.push(el("p", { id: "archive-report", class: "hint", text: "招生季报告尚未生成：归档封存后由系统自动生成。" }));
  }
  parts.push(el("h3", { text: "签名归档文件" }), fileTable(`${a.season}年度招生结果归档`, a));
  for (const add of a.additions || []) {
    parts.push(el("h3", { text: "阳光分班（补充归档）" }), fileTable("阳光分班名单归档", add));
  }
  $("archive-files").replaceChildren(...parts);
}

// 名单导出 ------------------------------------------------------------------------------------------

const FORMAT_ZH = { xlsx: "Excel", csv: "CSV" };
const ROLE_ZH = { district: "区教育局", city: "市教育局", auditor: "审计监督", operator: "系统导出" };

async function takeExport(path, label) {
  $("exports-error").textContent = "";
  $("exports-done").textContent = `正在生成“${label}”…`;
  const res = await api("GET", `admin/exports/${enc(season())}/${path}`);
  if (!res.ok) {
    $("exports-done").textContent = "";
    $("exports-error").textContent = messageOf(res);
    return;
  }
  const f = res.body;
  // a link the person follows (a new tab's download): the file is theirs for five minutes
  $("exports-done").replaceChildren(`已生成“${f.file_name}”（${f.rows}行），下载已记录：`,
    el("a", { href: f.url, download: f.file_name, target: "_blank", rel: "noopener", text: `下载 ${f.file_name}` }));
  announce(`已生成${f.file_name}，共${f.rows}行`);
  loadDownloads();
}

function exportButton(path, label, text, inTable = true) {
  // in the table a button reads "Excel": its name says which school's list, after its visible text
  const b = el("button", { type: "button", class: "secondary", text, "aria-label": inTable ? `${text} ${label}` : null });
  b.addEventListener("click", () => takeExport(path, label));
  return b;
}

function loadExports() {
  const d = state.district;
  const personal = state.me.role !== "auditor"; // auditors take the masked public lists only
  const name = districtName(d);
  $("exports-district-files").replaceChildren(...(personal ? [
    exportButton(`districts/${enc(d)}/student-status`, `${name}学籍新生信息`, `${name}学籍新生信息（Excel）`, false),
    exportButton(`districts/${enc(d)}/reporting`, `${name}报到及分班情况`, `${name}报到及分班情况（Excel）`, false),
  ] : []));
  $("exports-caption").textContent = `${name}各校名单`;
  const rows = Object.values(state.schools).filter((s) => s.district === d).map((s) => el("tr", {},
    el("th", { scope: "row", text: s.name }),
    el("td", {}, ...(personal ? ["xlsx", "csv"].map((f) =>
      exportButton(`schools/${enc(s.id)}/admitted?format=${f}`, `${s.name}录取名单`, FORMAT_ZH[f])) : [el("span", { text: "—" })])),
    el("td", {}, exportButton(`schools/${enc(s.id)}/public-results`, `${s.name}公示名单`, "Excel")),
    el("td", {}, personal && s.kind === "private"
      ? exportButton(`private/${enc(s.id)}/applicants`, `${s.name}报名情况`, "Excel") : el("span", { text: "—" }))));
  $("exports-table").tBodies[0].replaceChildren(...rows);
  $("exports-error").textContent = "";
  $("exports-done").textContent = "";
  loadDownloads();
}

async function loadDownloads() {
  const current = ticket("downloads");
  const res = await api("GET", `admin/exports/${enc(season())}/districts/${enc(state.district)}/downloads`);
  if (!current()) return;
  if (!res.ok) {
    $("downloads-error").textContent = messageOf(res);
    return;
  }
  $("downloads-error").textContent = "";
  $("downloads-caption").textContent = `${districtName(state.district)}名单的下载记录`;
  const rows = res.body.downloads.map((r) => el("tr", {},
    el("td", { text: time(r.at) }),
    el("td", { text: `${who(r.by)}（${ROLE_ZH[r.role] || r.role}）` }),
    el("td", { text: r.kind_zh }),
    el("td", { text: schoolName(r.scope) === r.scope ? districtName(r.scope) : schoolName(r.scope) }),
    el("td", { class: "num", text: r.rows }),
    el("td", { text: FORMAT_ZH[r.format] || r.format })));
  $("downloads-table").tBodies[0].replaceChildren(...(rows.length ? rows
    : [el("tr", {}, el("td", { colspan: "6", text: "还没有下载记录" }))]));
}

// 新生报到 (R-NOTE-1): one box takes a notice's registration id and code, typed or scanned (a handheld
// scanner types the text and Enter); the API checks the code as a school checks a notice and records
// the arrival in the same step (POST …/schools/{school}/arrivals {"notices": [...]}), or says why not.

const NOTICE_TEXT = /^(R(?:-?[A-Z2-7]{4}){4})(?:[\s,，;；:：]+|(?=[0-9A-Z]))([0-9A-Z]{5}-?[0-9A-Z]{5})$/;
const RID_ONLY = /^R(?:-?[A-Z2-7]{4}){4}$/;
const hyphenated = (rid) => {
  const bare = rid.replace(/-/g, "").slice(1);
  return `R-${bare.slice(0, 4)}-${bare.slice(4, 8)}-${bare.slice(8, 12)}-${bare.slice(12, 16)}`;
};

// "R-XXXX-XXXX-XXXX-XXXX ABCDE-FGHJK" in any case, the parts apart by a space or a new line, the code
// with or without its hyphen: {registration_id, code}; just an id: "id" (the code comes next); else null.
function noticeOf(text) {
  const t = text.trim().toUpperCase();
  if (RID_ONLY.test(t)) return "id";
  const m = t.match(NOTICE_TEXT);
  return m ? { registration_id: hyphenated(m[1]), code: m[2] } : null;
}

async function loadReporting() {
  const d = state.district;
  districtSchools("rep-school", d, null);
  const mayRecord = state.me.role === "district" && state.me.district === d;
  $("rep-form").hidden = !mayRecord;
  $("rep-hint").textContent = mayRecord
    ? "学生持录取通知书报到：扫描或输入通知书上的报名编号和核验码，系统核验通知书并登记报到，一步完成。"
    : "报到由学校所在区的教育局登记；这里可以查看各校已报到和未报到的学生。";
  const school = $("rep-school").value;
  const arrived = $("rep-arrived").tBodies[0];
  const missing = $("rep-missing").tBodies[0];
  if (!school) {
    arrived.replaceChildren(emptyRow(3, "本区没有学校"));
    missing.replaceChildren();
    return;
  }
  const current = ticket("reporting");
  const res = await api("GET", `admin/placement/${enc(season())}/schools/${enc(school)}/no-shows`);
  if (!current()) return;
  const closed = !res.ok && /录取结果尚未公布/.test(messageOf(res));
  $("rep-fields").disabled = closed;
  $("rep-closed").hidden = !closed;
  $("rep-closed").textContent = closed ? "录取结果尚未公布：报到登记在录取结果公布后开放。" : "";
  $("rep-list-error").textContent = res.ok || closed ? "" : messageOf(res);
  if (!res.ok) {
    arrived.replaceChildren(emptyRow(3, closed ? "录取结果尚未公布" : "—"));
    missing.replaceChildren(emptyRow(2, closed ? "录取结果尚未公布" : "—"));
    $("rep-arrived-count").textContent = "";
    $("rep-missing-count").textContent = "";
    return;
  }
  const today = res.body.arrived.filter((a) => String(a.at).slice(0, 10) === res.body.today);
  arrived.replaceChildren(...(today.length ? today.map((a) => el("tr", { "data-rid": a.registration_id },
    el("td", { class: "mono wrap", text: a.registration_id }),
    el("td", { text: a.child_name }),
    el("td", { class: "nowrap", text: time(a.at) }))) : [emptyRow(3, "今天还没有学生报到")]));
  const c = res.body.counts;
  $("rep-arrived-count").textContent = `今日已报到 ${today.length} 人，累计已报到 ${c.arrived} 人，录取 ${c.placed} 人`;
  missing.replaceChildren(...(res.body.missing.length ? res.body.missing.map((m) => el("tr", { "data-rid": m.registration_id },
    el("td", { class: "mono wrap", text: m.registration_id }),
    el("td", { text: m.child_name }))) : [emptyRow(2, "录取的学生都已报到")]));
  $("rep-missing-count").textContent = `未报到 ${c.no_shows} 人`;
}

function reportResult(kind, title, lines) {
  $("rep-result").replaceChildren(el("div", { class: `outcome ${kind}` },
    el("p", { class: "outcome-title", text: title }), ...lines.map((t) => el("p", { text: t }))));
}

async function submitArrival(ev) {
  ev.preventDefault();
  const input = $("rep-input");
  const found = noticeOf(input.value);
  $("rep-error").textContent = "";
  if (found === "id") { // a scanner that puts a new line between the id and the code: wait for the code
    input.value = `${input.value.trim()} `;
    input.focus();
    return;
  }
  if (!found) {
    $("rep-error").textContent = "请输入通知书上的报名编号和核验码，中间空一格，如 R-ABCD-EFGH-JKMN-PQRS ABCDE-FGHJK";
    input.focus();
    return;
  }
  const school = $("rep-school").value;
  $("rep-submit").disabled = true;
  const res = await api("POST", `admin/placement/${enc(season())}/schools/${enc(school)}/arrivals`, { notices: [found] });
  $("rep-submit").disabled = false;
  input.focus();
  if (!res.ok) {
    $("rep-error").textContent = messageOf(res);
    return;
  }
  input.value = "";
  const r = res.body.results[0];
  if (r.status === "arrived") {
    reportResult("ok", "已报到", [`${r.child_name}　${r.registration_id}`, r.school_name]);
    announce(`已报到：${r.child_name}`);
  } else if (r.status === "already") {
    reportResult("open", "已登记过报到", [`${r.child_name}　${r.registration_id}`, r.school_name, "无需重复登记"]);
    announce("已登记过报到");
  } else {
    reportResult("bad", "不能登记报到", [r.message, r.registration_id]);
    announce(`不能登记报到：${r.message}`);
  }
  loadReporting();
}

// Start ----------------------------------------------------------------------------------------

const LOADERS = {
  registrations: () => loadRegistrations(false),
  queue: loadQueue,
  visits: loadVisits,
  lottery: loadLottery,
  placements: () => loadPlacements(false),
  reporting: loadReporting,
  complaints: loadComplaints,
  sms: loadSmsFailures,
  phases: loadPhases,
  season: loadSeason,
  spotcheck: loadSpotCheck,
  archive: loadArchive,
  exports: loadExports,
  agencyfiles: loadAgencyFiles,
};

// Agencies that answer by file (docs/AGENCY-FILES.md) -----------------------------------------------

const fileAgencies = () => (state.config && state.config.file_agencies) || [];
const OUTBOX_ZH = {
  "requests.xlsx": "核查请求（Excel）",
  "requests.csv": "核查请求（CSV，GB18030 编码）",
  "manifest.json": "文件清单（含各文件 SHA-256）",
};
const agencyPath = (tail) => `admin/verification/${enc(season())}/agencies/${enc($("af-agency").value)}/${tail}`;

function loadAgencyFiles() {
  if (!$("af-agency").options.length) {
    $("af-agency").replaceChildren(...fileAgencies().map((a) => el("option", { value: a.code, text: a.name })));
  }
  $("af-error").textContent = "";
}

async function writeRound() {
  $("af-error").textContent = "";
  $("af-links").replaceChildren(el("p", { text: "正在生成…" }));
  const res = await api("POST", agencyPath("outbox"));
  if (!res.ok) {
    $("af-links").replaceChildren();
    $("af-error").textContent = messageOf(res);
    return;
  }
  const r = res.body;
  if (!r.round) {
    $("af-links").replaceChildren(el("p", { text: "该部门目前没有待核查的请求。" }));
    return;
  }
  const minutes = Math.max(1, Math.round(r.expires_in_s / 60));
  const waiting = r.waiting ? `另有 ${r.waiting} 条待下一轮。` : "";
  $("af-links").replaceChildren(
    el("p", { text: `本轮核查请求（${time(r.created_at)} 生成）共 ${r.rows} 条，${waiting}下载链接 ${minutes} 分钟内有效，过期请重新生成：` }),
    el("ul", {}, ...r.files.map((f) => el("li", {},
      el("a", { href: f.url, download: f.name, text: OUTBOX_ZH[f.name] || f.name })))));
}

// An answer file goes up in parts, each request within the API's 64 KiB body limit, and is checked
// against the SHA-256 of the file chosen (enrollment/verification/agency_files.py PART_BYTES).
const PART_BYTES = 36 * 1024;

function base64Of(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

const hexOf = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");

async function sendAnswerFile(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const sha256 = hexOf(await crypto.subtle.digest("SHA-256", bytes));
  const upload = hexOf(crypto.getRandomValues(new Uint8Array(16)));
  const parts = Math.max(1, Math.ceil(bytes.length / PART_BYTES));
  for (let n = 0; n < parts; n += 1) {
    $("af-done").textContent = `正在上传（${n + 1}/${parts}）…`;
    const content = base64Of(bytes.subarray(n * PART_BYTES, (n + 1) * PART_BYTES));
    const res = await api("POST", agencyPath("answers/parts"), { upload, part: n, content_base64: content });
    if (!res.ok) return res;
  }
  $("af-done").textContent = "正在检查答复文件…";
  return api("POST", agencyPath("answers"), { name: file.name, upload, parts, sha256 });
}

async function uploadAnswers(event) {
  event.preventDefault();
  const file = $("af-file").files[0];
  if (!file) return;
  $("af-error").textContent = "";
  $("af-problems").tBodies[0].replaceChildren();
  let res;
  try {
    res = await sendAnswerFile(file);
  } catch (e) {
    $("af-done").textContent = "";
    $("af-error").textContent = "无法读取该文件，请重新选择。";
    return;
  }
  if (!res.ok) {
    $("af-done").textContent = "";
    $("af-error").textContent = messageOf(res);
    return;
  }
  const r = res.body;
  const bad = new Set(r.problems.map((p) => p.row)).size;
  $("af-done").textContent = `共 ${r.rows} 行：本次记录 ${r.recorded} 行，此前已记录 ${r.already} 行，有误 ${bad} 行。`;
  $("af-problems").tBodies[0].replaceChildren(...(r.problems.length ? r.problems.map((p) => el("tr", {},
    el("td", { class: "num", text: String(p.row) }),
    el("td", { text: p.header || p.column }),
    el("td", { text: p.problem }))) : [emptyRow(3, "没有有误的行")]));
  announce($("af-done").textContent);
}

async function start() {
  let r;
  try {
    r = await fetch(`${BASE}console/config.json`, { headers: { Accept: "application/json" } });
    state.config = await r.json();
  } catch (e) {
    showAlert("无法载入平台配置，请稍后刷新重试。");
    return;
  }
  for (const s of state.config.schools || []) state.schools[s.id] = s;
  $("season-line").textContent = `${state.config.season}年义务教育学校招生入学`;
  const params = new URLSearchParams(location.search);
  if (params.has("code") || params.has("error")) {
    if (!(await completeSignIn(params))) return;
  }
  if (!token()) {
    if (sessionStorage.getItem(RETURN_KEY)) signIn(); // sent here by the ceremony screen: sign in at once
    else showSignIn("");
    return;
  }
  const me = await api("GET", "admin/me");
  if (!me.ok) {
    if (me.status !== 401) showSignIn(messageOf(me));
    return;
  }
  sessionStorage.removeItem(LAST_SIGNIN_KEY); // the token works: a later 401 may sign in again
  state.me = me.body;
  $("signin").hidden = true;
  $("who-role").textContent = me.body.district_name ? `${me.body.district_name}教育局` : me.body.role_zh;
  $("who-name").textContent = who(me.body.principal);
  $("who").hidden = false;
  buildNav();
  buildDistrictPicker();
  route();
}

$("sign-in").addEventListener("click", () => {
  sessionStorage.removeItem(LAST_SIGNIN_KEY);
  signIn();
});
$("sign-out").addEventListener("click", signOut);
window.addEventListener("hashchange", () => { if (state.me) route(); });
$("district-pick").addEventListener("change", () => {
  state.district = $("district-pick").value;
  $("history").hidden = true;
  LOADERS[state.section]();
});
$("reg-search").addEventListener("submit", (ev) => { ev.preventDefault(); loadRegistrations(false); });
$("reg-clear").addEventListener("click", () => {
  for (const k of LIST_FILTERS) $(`reg-${k}`).value = "";
  sortCleared("reg-table", "reg");
  loadRegistrations(false);
});
$("reg-reload").addEventListener("click", () => loadRegistrations(false));
sortable("reg-table", "reg", () => loadRegistrations(false));
sortable("queue-table", "queue", () => loadQueue(false));
sortable("placed-table", "placed", () => loadPlacements(false));
$("reg-more").addEventListener("click", () => loadRegistrations(true));
$("queue-reload").addEventListener("click", () => loadQueue(false));
$("queue-export").addEventListener("click", exportQueue);
$("queue-print").addEventListener("click", () => window.print());
$("reg-print").addEventListener("click", () => window.print());
$("reg-export").addEventListener("click", () =>
  exportList("reg", `admin/verification/${enc(season())}/districts/${enc(state.district)}/registrations`));
$("placed-export").addEventListener("click", () =>
  exportList("placed", `admin/placement/${enc(season())}/districts/${enc(state.district)}/placements`));
$("placed-print").addEventListener("click", () => window.print());
$("queue-search").addEventListener("submit", (ev) => { ev.preventDefault(); loadQueue(false); });
$("queue-clear").addEventListener("click", () => {
  for (const k of QUEUE_FILTERS) $(`queue-${k}`).value = "";
  sortCleared("queue-table", "queue");
  loadQueue(false);
});
$("queue-more").addEventListener("click", () => loadQueue(true));
$("visits-reload").addEventListener("click", loadVisits);
$("lottery-reload").addEventListener("click", loadLottery);
$("placed-search").addEventListener("submit", (ev) => { ev.preventDefault(); loadPlacements(false); });
$("placed-clear").addEventListener("click", () => {
  for (const k of LIST_FILTERS) $(`placed-${k}`).value = "";
  sortCleared("placed-table", "placed");
  loadPlacements(false);
});
$("placed-reload").addEventListener("click", () => loadPlacements(false));
$("rep-school").addEventListener("change", () => { $("rep-result").replaceChildren(); loadReporting(); });
$("rep-reload").addEventListener("click", loadReporting);
$("rep-form").addEventListener("submit", submitArrival);
$("placed-more").addEventListener("click", () => loadPlacements(true));
$("dec-kind").addEventListener("change", fillSchools);
$("dec-plan").addEventListener("change", fillSchools);
$("decision-form").addEventListener("submit", submitDecision);
$("complaints-reload").addEventListener("click", loadComplaints);
$("sms-reload").addEventListener("click", loadSmsFailures);
$("phases-reload").addEventListener("click", loadPhases);
$("spot-reload").addEventListener("click", loadSpotCheck);
$("archive-reload").addEventListener("click", loadArchive);
$("corrections-seal").addEventListener("click", sealCorrections);
$("decide-form").addEventListener("submit", submitDecide);
$("bulk-form").addEventListener("submit", submitBulk);
$("queue-table").addEventListener("change", (ev) => {
  if (ev.target.classList.contains("queue-pick")) bulkPicked();
});
$("queue-pick-all").addEventListener("change", (ev) => {
  for (const b of $("queue-table").querySelectorAll("tbody input.queue-pick")) b.checked = ev.target.checked;
  bulkPicked();
});
$("decide-cancel").addEventListener("click", () => $("decide-dialog").close());
$("advance-form").addEventListener("submit", submitAdvance);
$("advance-cancel").addEventListener("click", () => $("advance-dialog").close());
$("season-reload").addEventListener("click", loadSeason);
$("season-start").addEventListener("click", openStart);
$("resume-form").addEventListener("submit", submitResume);
$("resume-cancel").addEventListener("click", () => $("resume-dialog").close());
$("start-form").addEventListener("submit", submitStart);
$("start-cancel").addEventListener("click", () => $("start-dialog").close());
$("af-round").addEventListener("click", writeRound);
$("af-upload").addEventListener("submit", uploadAnswers);
start();
