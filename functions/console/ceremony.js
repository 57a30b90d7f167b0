// The lottery ceremony's big screen (R-LOT-3), ceremony.html's script. Vanilla JS, no build step.
// This page is the console's (`/console/ceremony?season=2023&school=P-CH-02&grade=7`): what comes
// before "console/" is the API's base, so that it works under an API Gateway stage prefix too.
// The ceremony's API takes the signed-in staff member's token (sessionStorage, set by the console);
// the token, time and element helpers are functions/web/common.js's (loaded first, as `common`).
"use strict";

const { TOKEN_KEY, RETURN_KEY, el, gradeZh, time, deadlineText } = common;
const BASE = location.pathname.replace(/console\/ceremony\/?$/, "");
const QUERY = new URLSearchParams(location.search);
const SEASON = QUERY.get("season") || "";
const SCHOOL = QUERY.get("school") || "";
const GRADE = QUERY.get("grade") || "";
const API = `${BASE}admin/lottery/${encodeURIComponent(SEASON)}/ceremonies/${encodeURIComponent(SCHOOL)}/${encodeURIComponent(GRADE)}`;
const $ = (id) => document.getElementById(id);

const STATUS_ZH = {
  "prepared": "等待派位",
  "drawn": "派位已完成，结果归档中",
  "recorded": "派位已完成，结果已归档",
  "no-draw": "无需派位",
};
const CASE_ZH = {
  "all-admitted": "报名人数未超过招生计划，全部录取，无需派位。",
  "draw-own-district": "本区域内报名人数超过招生计划：只在本区域内报名学生中派位，区域外报名学生不参加派位。",
  "draw-other-districts": "本区域内报名学生全部录取（无需派位），剩余名额在区域外报名学生中派位。",
};
const POOL_ZH = { "own-district": "本区域内报名学生", "other-districts": "区域外报名学生" };
const CN_NUM = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
const STATUS_MESSAGE = {
  0: "网络连接失败，请检查网络后重试",
  401: "请先登录",
  403: "没有权限查看或操作本校的电脑派位",
  404: "没有找到本校本年级的派位信息",
  409: "当前状态下不能进行这一步",
  422: "录入的内容不符合要求",
};

let view = null; // what the screen shows: the lists of every window loaded so far, end to end
let busy = false;
let pollTimer = null;

const rep = (n) => `家长代表${n}号`;
const nameOf = (rid) => (view.names && view.names[rid]) || "—";
const tailOf = (rid) => (view.id_tails && view.id_tails[rid]) || "—";

/** Not signed in (or the token expired): sign in at the console, which brings the staff member back here. */
function signIn() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.setItem(RETURN_KEY, location.pathname + location.search);
  location.assign(`${BASE}console`);
}

/** A call to this ceremony's API (`path` after its address): { ok, status, body }; a 401 signs in. */
const request = (method, path, body) => common.staffFetch(method, API + path, body, signIn);
const messageOf = (res) => common.messageOf(res, STATUS_MESSAGE);

// Header and overview ------------------------------------------------------------------------------

function renderHeader(v) {
  $("title").textContent = `${v.school_name} ${gradeZh(v.grade)}`;
  $("subtitle").textContent = `${v.season}年义务教育学校招生 · 所在区 ${v.district_name || v.district}`;
  document.title = `${v.school_name} ${gradeZh(v.grade)} 电脑派位`;
}

function fact(label, value, small) {
  return el("div", {}, el("dt", { text: label }), el("dd", { class: small ? "small" : null, text: value }));
}

function renderOverview(v) {
  const poolSize = v.pool_name === "own-district" ? v.own_district_applicants
    : v.pool_name === "other-districts" ? v.other_applicants : 0;
  const facts = [
    fact("招生年度", `${v.season}年`),
    fact("招生计划", `${v.plan}人`),
    fact("本区域内报名", `${v.own_district_applicants}人`),
    fact("区域外报名", `${v.other_applicants}人`),
    fact("无需派位录取", `${v.admitted_without_draw}人`),
    fact("参加派位", `${poolSize}人`),
    fact("派位名额", `${v.seats}人`),
  ];
  $("status").textContent = STATUS_ZH[v.status] || v.status;
  $("deadline").textContent = deadlineText(v.deadline);
  const late = v.overdue && v.status === "prepared";
  $("deadline-box").className = late ? "overdue" : "";
  $("status-box").hidden = false;
  $("facts").replaceChildren(...facts);
  const parts = [CASE_ZH[v.case] || ""];
  if (v.pool_name) parts.push(`派位范围：${POOL_ZH[v.pool_name] || v.pool_name}。`);
  const caseLine = $("case");
  caseLine.replaceChildren(parts.join(""));
  if (late) {
    caseLine.append(" ", el("span", { class: "warn", text: "已超过派位截止时间，请尽快完成派位。" }));
  }
  $("overview").hidden = false;
}

// Steps ---------------------------------------------------------------------------------------------

function recordedText(s) {
  if (s.step === "import") return `共导入${s.value}人`;
  if (s.step === "seats") return `派位名额 ${s.value} 人`;
  if (s.step === "slip") return `采用第${s.value}次派位结果`;
  return null; // typed digits: shown exactly as typed
}

function renderSteps(v) {
  const items = v.steps.map((s, i) => {
    const done = s.value !== null && s.value !== undefined;
    const current = s.step === v.next_step;
    const li = el("li", {
      class: done ? "done" : current ? "current" : "todo",
      "data-step": s.step,
      "aria-current": current ? "step" : null,
    });
    const head = el("div", { class: "line" },
      el("span", { class: "name", text: `${i + 1}. ${s.title_zh}` }),
      el("span", { class: "rep", text: done || current ? rep(s.representative) : `${rep(s.representative)} · 待进行` }));
    li.append(head);
    if (done) {
      const text = recordedText(s);
      li.append(el("div", { class: "line" },
        el("span", {},
          el("span", { class: "state", text: "✓ 已录入：" }),
          text === null ? el("span", { class: "typed", text: s.value }) : el("span", { class: "value", text })),
        s.at ? el("span", { class: "at", text: time(s.at) }) : null));
    } else if (current) {
      li.append(el("div", { class: "line" }, el("span", { class: "state", text: "▶ 当前步骤" })));
    }
    return li;
  });
  $("steps").replaceChildren(...items);
}

function inputField(id, label, hint, type) {
  const input = el("input", {
    id, name: "value", type, autocomplete: "off", spellcheck: "false",
    inputmode: "numeric", "aria-describedby": "step-hint step-error", "aria-required": "true",
    min: type === "number" ? "0" : null, step: type === "number" ? "1" : null,
    maxlength: type === "text" ? "64" : null,
  });
  return [el("label", { for: id, text: label }), input, errorSlot(), el("p", { class: "hint", id: "step-hint", text: hint })];
}

// The error goes right beside the field it is about (or the choice, or the button).
const errorSlot = () => el("p", { class: "error", id: "step-error", role: "alert" });

function renderForm(v) {
  const form = $("step-form");
  const s = v.steps.find((x) => x.step === v.next_step);
  if (!s || v.may_run === false) { // done, or read by the city or an auditor: nothing to enter here
    form.hidden = true;
    form.replaceChildren();
    return;
  }
  const index = v.steps.indexOf(s) + 1;
  const parts = [
    el("h2", { id: "current-h", text: `第${index}步：${s.title_zh}` }),
    el("p", { class: "who" }, "由", el("strong", { text: rep(s.representative) }), "操作"),
  ];
  let button = "确认录入";
  if (s.step === "import") {
    parts.push(el("p", { class: "hint", id: "step-hint", text: `导入本校本年级全部参加派位的报名学生名单（${POOL_ZH[v.pool_name] || ""}），大屏幕展示导入人数。` }));
    button = "导入报名名单";
  } else if (s.step.startsWith("shuffle-") || s.step.startsWith("draw-")) {
    const kind = s.step.startsWith("shuffle-") ? "打乱顺序" : "派位";
    parts.push(...inputField("step-value", `${rep(s.representative)}输入的数字（${kind}指令）`,
      "由家长代表随意输入一串数字，按输入原样保存；录入后不可更改。", "text"));
  } else if (s.step === "seats") {
    parts.push(...inputField("step-value", `派位名额（由${rep(s.representative)}输入）`,
      `招生计划 ${v.plan} 人，无需派位直接录取 ${v.admitted_without_draw} 人；请核对后输入。`, "number"));
  } else if (s.step === "slip") {
    const radios = [1, 2, 3].map((n) => el("div", { class: "radio" },
      el("input", { type: "radio", id: `slip-${n}`, name: "slip", value: String(n), "aria-describedby": "step-error" }),
      el("label", { for: `slip-${n}`, text: `第${n}次派位结果` })));
    parts.push(el("fieldset", { id: "slip-group" },
      el("legend", { text: `${rep(s.representative)}抽中的签：采用第几次派位结果` }), ...radios), errorSlot());
    parts.push(el("p", { class: "hint", id: "step-hint", text: "由家长代表4号制作3份抽签条，家长代表5号随机抽取并向与会人员展示。" }));
    button = "确认签号";
  }
  parts.push(el("button", { type: "submit", id: "step-submit", text: button }));
  if (s.step === "import") parts.push(errorSlot());
  form.replaceChildren(...parts);
  form.setAttribute("aria-labelledby", "current-h");
  form.dataset.step = s.step;
  form.hidden = false;
}

function showError(message) {
  const slot = $("step-error");
  if (!slot) {
    $("load-error").textContent = message;
    return;
  }
  slot.textContent = message;
  const input = $("step-value");
  if (input) input.setAttribute("aria-invalid", "true");
  const group = $("slip-group");
  if (group) group.setAttribute("aria-invalid", "true");
}

function clearError() {
  const slot = $("step-error");
  if (slot) slot.textContent = "";
  document.querySelectorAll("#step-form [aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
}

function valueOf(step) {
  if (step === "import") return "";
  if (step === "slip") {
    const checked = document.querySelector("input[name=slip]:checked");
    return checked ? checked.value : null;
  }
  return $("step-value").value; // exactly as typed: never trimmed here
}

async function submitStep(ev) {
  ev.preventDefault();
  if (busy || !view || !view.next_step) return;
  const step = view.next_step;
  clearError();
  const value = valueOf(step);
  if (value === null) {
    showError("请选择抽中的签号（1、2 或 3）");
    return;
  }
  busy = true;
  const button = $("step-submit");
  button.disabled = true;
  const res = await request("POST", `/steps/${encodeURIComponent(step)}`, { value });
  busy = false;
  button.disabled = false;
  if (res.ok) {
    const title = view.steps.find((x) => x.step === step).title_zh;
    render(res.body);
    $("announce").textContent = `已录入：${title}`;
    const next = $("step-value") || document.querySelector("input[name=slip]") || $("step-submit");
    if (next) next.focus();
    else if (!$("final").hidden) $("final-h").focus();
    return;
  }
  const message = messageOf(res);
  if (res.status === 409) { // recorded meanwhile (another screen?): show where the ceremony stands
    const fresh = await request("GET", "");
    if (fresh.ok) render(fresh.body);
  }
  showError(message);
}

// Lists ---------------------------------------------------------------------------------------------

function rankTable(caption, ids, opts) {
  const o = opts || {};
  const head = el("tr", {},
    el("th", { scope: "col", class: "num", text: o.rankLabel || "序号" }),
    el("th", { scope: "col", text: "姓名" }),
    el("th", { scope: "col", class: "tail", text: "身份证号后四位" }),
    o.result ? el("th", { scope: "col", text: "结果" }) : null);
  const rows = ids.map((rid, i) => {
    const rank = i + 1;
    const win = o.seats !== undefined && rank <= o.seats;
    const tr = el("tr", { "data-rid": rid, class: [win ? "win" : "", o.seats !== undefined && rank === o.seats ? "cut" : ""].join(" ").trim() || null },
      el("td", { class: "num", text: rank }),
      el("td", { text: nameOf(rid) }),
      el("td", { class: "tail", text: tailOf(rid) }));
    if (o.result) {
      tr.append(win ? el("td", { class: "admit", text: "录取" }) : el("td", { text: `候补第${rank - o.seats}位` }));
    }
    return tr;
  });
  const table = el("table", { id: o.id || null }, el("caption", { text: caption }), el("thead", {}, head), el("tbody", {}, ...rows));
  return el("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": caption }, table);
}

function typedOf(v, step) {
  const s = v.steps.find((x) => x.step === step);
  return s ? s.value : null;
}

function renderImported(v) {
  const section = $("imported");
  if (!v.order0) { section.hidden = true; return; }
  const list = rankTable("导入的名单（按报名编号排序）", v.order0, { id: "order-0" });
  const parts = [
    el("h2", { id: "imported-h", text: "导入报名名单" }),
    el("p", { class: "big-count", id: "imported-count", text: `共导入${v.pool_size}人` }),
    el("p", { class: "digest" }, "名单校验值：", el("span", { class: "hex", text: v.pool_digest || "" })),
  ];
  if ((v.orders || []).length === 0) parts.push(el("div", { class: "screen-only" }, list));
  else parts.push(el("details", { class: "screen-only" }, el("summary", { text: "查看导入的名单" }), list));
  section.replaceChildren(...parts);
  section.hidden = false;
}

function renderShuffles(v) {
  const section = $("shuffles");
  const orders = v.orders || [];
  if (!orders.length) { section.hidden = true; return; }
  const parts = [el("h2", { id: "shuffles-h", text: "打乱顺序：每次打乱前后对比" })];
  for (let k = orders.length; k >= 1; k--) {
    const before = k === 1 ? v.order0 : orders[k - 2];
    const beforeCaption = k === 1 ? "打乱前（导入顺序）" : `打乱前（第${CN_NUM[k - 1]}次打乱后）`;
    const compare = el("div", { class: "compare", id: `compare-${k}` },
      rankTable(beforeCaption, before, { id: `order-${k - 1}-before-${k}` }),
      rankTable(`第${CN_NUM[k]}次打乱后`, orders[k - 1], { id: `order-${k}` }));
    const heading = el("h3", {}, `第${CN_NUM[k]}次打乱（${rep(k)}输入 `,
      el("span", { class: "typed", text: typedOf(v, `shuffle-${k}`) || "" }), "）");
    if (k === orders.length) parts.push(heading, compare);
    else parts.push(el("details", {}, el("summary", {}, heading.textContent), compare));
  }
  section.replaceChildren(...parts);
  section.hidden = false;
}

function renderDraws(v) {
  const section = $("draws");
  const draws = v.draws || [];
  if (!draws.length) { section.hidden = true; return; }
  const tables = draws.map((ids, i) => rankTable(
    `第${CN_NUM[i + 1]}次派位（${rep(i + 4)}输入「${typedOf(v, `draw-${i + 1}`) || ""}」）`,
    ids, { id: `draw-${i + 1}`, rankLabel: "名次", seats: v.seats }));
  section.replaceChildren(
    el("h2", { id: "draws-h", text: "派位结果对比" }),
    el("p", { class: "hint", text: `每次派位都是全部${v.pool_size}人的完整排名；底色标出的前${v.seats}名为该次派位的录取名次。` }),
    el("div", { class: "compare" }, ...tables));
  section.hidden = false;
}

function renderFinal(v) {
  const section = $("final");
  if (!v.ranking) { section.hidden = true; return; }
  const waitlist = v.pool_size - v.seats;
  const notes = [];
  if (v.case === "draw-other-districts" && v.admitted_without_draw) {
    notes.push(`另有本区域内报名学生${v.admitted_without_draw}人无需派位，直接录取（不在本名单中）。`);
  }
  if (v.case === "draw-own-district" && v.other_applicants) {
    notes.push(`区域外报名学生${v.other_applicants}人不参加派位，未被本校录取，转入统筹安排。`);
  }
  const slipAt = (v.steps.find((x) => x.step === "slip") || {}).at;
  const signers = [1, 2, 3, 4, 5, 6].map(rep).concat(["监督员", "公证员", "学校（盖章）"]);
  section.replaceChildren(
    el("h2", { id: "final-h", tabindex: "-1", text: "电脑派位结果名单" }),
    el("p", { class: "final-meta", id: "final-meta" },
      `${v.school_name} ${gradeZh(v.grade)}：采用第${v.chosen_draw}次派位结果（${rep(5)}抽签确定）。`,
      `派位名额${v.seats}人，派位录取${Math.min(v.seats, v.pool_size)}人，候补${Math.max(waitlist, 0)}人。`),
    ...notes.map((n) => el("p", { text: n })),
    rankTable(`派位结果（第${v.chosen_draw}次派位）`, v.ranking, { id: "final-list", rankLabel: "名次", seats: v.seats, result: true }),
    el("p", { class: "print-note", text: `候补学生按名次顺序递补：被录取学生放弃录取时，名额依次由候补学生递补。名单校验值：${v.pool_digest || ""}` }),
    el("h3", { id: "sign-h", text: "签字确认" }),
    el("p", { class: "print-note", text: `${rep(6)}已将打印名单与派位结果数据逐一核对无误。` }),
    el("div", { class: "signatures", role: "list", "aria-labelledby": "sign-h" },
      ...signers.map((who) => el("div", { role: "listitem" }, `${who}：`))),
    el("p", { class: "print-note", text: `派位时间：${time(slipAt)}` }),
    el("button", { type: "button", id: "print", class: "no-print", text: "打印结果名单" }));
  $("print").addEventListener("click", printAll);
  section.hidden = false;
}

// Windows of ranks ------------------------------------------------------------------------------------
// A large pool's lists come a window of ranks at a time (`?cursor=&limit=`): "加载更多名次" appends the
// next window to every list; printing loads the rest first, so the printed result list is whole.

const WINDOW = 1000;
const shownOf = (v) => (v && v.order0 ? v.order0.length : 0);
const recordedOf = (v) => JSON.stringify(v.steps.map((s) => s.value));

/** `v` with the next window `w` appended to each list; null if the ceremony moved on in between. */
function joined(v, w) {
  if (recordedOf(v) !== recordedOf(w) || w.offset !== shownOf(v)) return null;
  const cat = (a, b) => (a || []).concat(b || []);
  const out = {
    ...w, order0: cat(v.order0, w.order0), names: { ...v.names, ...w.names }, id_tails: { ...v.id_tails, ...w.id_tails },
  };
  out.orders = (w.orders || []).map((ids, i) => cat(v.orders[i], ids));
  out.draws = (w.draws || []).map((ids, i) => cat(v.draws[i], ids));
  if (w.ranking) {
    out.ranking = cat(v.ranking, w.ranking);
    out.winners = cat(v.winners, w.winners);
  }
  return out;
}

/** The first window, then the following ones until at least `count` ranks are shown: { ok, status, body }. */
async function loadUntil(count) {
  let res = await request("GET", `?limit=${WINDOW}`);
  while (res.ok && res.body.next && shownOf(res.body) < count) {
    const more = await request("GET", `?limit=${WINDOW}&cursor=${encodeURIComponent(res.body.next)}`);
    if (!more.ok) return more;
    const whole = joined(res.body, more.body);
    if (!whole) return loadUntil(count); // a step was recorded meanwhile: start again
    res = { ...more, body: whole };
  }
  return res;
}

function renderMore(v) {
  const shown = shownOf(v);
  $("more-bar").hidden = !v.next;
  $("more-count").textContent = v.next ? `名单共${v.pool_size}人，已显示前${shown}名` : "";
}

async function loadMore() {
  if (busy || !view || !view.next) return;
  busy = true;
  $("more").disabled = true;
  const res = await loadUntil(shownOf(view) + WINDOW);
  busy = false;
  $("more").disabled = false;
  if (!res.ok) {
    $("load-error").textContent = messageOf(res);
    return;
  }
  render(res.body);
  $("announce").textContent = `已显示前${shownOf(view)}名`;
}

async function printAll() {
  if (view && view.next) {
    $("print").disabled = true;
    $("print").textContent = "正在载入全部名单…";
    const res = await loadUntil(view.pool_size);
    if (!res.ok) {
      $("print").disabled = false;
      $("print").textContent = "打印结果名单";
      $("load-error").textContent = messageOf(res);
      return;
    }
    render(res.body);
  }
  window.print();
}

// The full-screen list --------------------------------------------------------------------------------
// The room follows the latest list a page at a time, in rows sized for the back of a hall: each page
// stands `seconds` before the next (the last turns back to the first), or a key turns it (→, PageDown
// or space: next; ← or PageUp: back; Esc: out). Ranks not yet loaded are loaded as the pages reach them.

const wall = { open: false, page: 0, size: 10, paused: false, timer: null, key: null, first: 0, full: false };

/** The list the room follows now: the result once the slip is drawn, else the latest draw, shuffle or import. */
function wallList(v) {
  if (!v || !v.order0) return null;
  const draws = v.draws || [];
  const orders = v.orders || [];
  if (v.ranking) {
    return { key: "ranking", title: `派位结果（第${v.chosen_draw}次派位）`, ids: v.ranking, rankLabel: "名次", seats: v.seats, result: true };
  }
  if (draws.length) {
    return { key: `draw-${draws.length}`, title: `第${CN_NUM[draws.length]}次派位`, ids: draws[draws.length - 1], rankLabel: "名次", seats: v.seats };
  }
  if (orders.length) {
    return { key: `shuffle-${orders.length}`, title: `第${CN_NUM[orders.length]}次打乱后的顺序`, ids: orders[orders.length - 1], rankLabel: "序号" };
  }
  return { key: "import", title: "导入的报名名单", ids: v.order0, rankLabel: "序号" };
}

function wallRow(list, rid, rank) {
  const win = list.seats !== undefined && rank <= list.seats;
  const tr = el("tr", { "data-rid": rid, class: win ? "win" : null },
    el("td", { class: "num", text: rank }),
    el("td", { text: nameOf(rid) }),
    el("td", { class: "tail", text: tailOf(rid) }));
  if (list.result) tr.append(win ? el("td", { class: "admit", text: "录取" }) : el("td", { text: `候补第${rank - list.seats}位` }));
  else if (list.seats !== undefined) tr.append(el("td", { class: win ? "admit" : null, text: win ? "录取名次" : "" }));
  return tr;
}

/** How many rows fit the panel: one row is drawn and measured (the type follows the screen's size). */
function rowsPerPage(list) {
  const body = $("wall-body");
  const rows = $("wall-rows");
  rows.replaceChildren(wallRow(list, list.ids[0], 1));
  const rowHeight = rows.rows[0].getBoundingClientRect().height;
  const headHeight = $("wall-cols").getBoundingClientRect().height;
  if (!rowHeight) return 10;
  return Math.max(1, Math.floor((body.clientHeight - headHeight) / rowHeight));
}

async function renderWall() {
  const list = wallList(view);
  if (!wall.open || !list || !list.ids.length) return;
  if (list.key !== wall.key) { // a new list: from its first rank
    wall.key = list.key;
    wall.first = 0;
  }
  $("wall-school").textContent = `${view.school_name} ${gradeZh(view.grade)} · 电脑派位`;
  $("wall-h").textContent = list.title;
  $("wall-cols").replaceChildren(
    el("th", { scope: "col", class: "num", text: list.rankLabel }),
    el("th", { scope: "col", text: "姓名" }),
    el("th", { scope: "col", class: "tail", text: "身份证号后四位" }),
    list.seats !== undefined ? el("th", { scope: "col", class: "result", text: "结果" }) : null);
  const size = rowsPerPage(list);
  wall.size = size;
  const total = view.pool_size || list.ids.length;
  const pages = Math.max(1, Math.ceil(total / size));
  wall.page = Math.min(Math.floor(wall.first / size), pages - 1);
  const from = wall.page * size;
  const to = Math.min(from + size, total);
  if (to > list.ids.length && view.next) { // the page reaches ranks not loaded yet
    const res = await loadUntil(to);
    if (!res.ok) {
      $("wall-note").textContent = messageOf(res);
      return;
    }
    render(res.body);
    return; // render() draws the wall again with the ranks loaded
  }
  const shown = wallList(view).ids.slice(from, to);
  $("wall-rows").replaceChildren(...shown.map((rid, i) => wallRow(list, rid, from + i + 1)));
  $("wall-page").textContent = `第${wall.page + 1}页，共${pages}页（第${from + 1}–${from + shown.length}名，共${total}人）`;
  $("wall-note").textContent = `${wall.paused ? "已暂停自动翻页" : `每${seconds()}秒自动翻页`}；按方向键或翻页键翻页，按退出键退出全屏`;
}

const seconds = () => Number($("wall-seconds").value) || 10;

function schedule() {
  clearTimeout(wall.timer);
  if (wall.open && !wall.paused) wall.timer = setTimeout(() => turn(1), seconds() * 1000);
}

/** To the next page (`step` 1) or the previous one (-1); after the last comes the first again. */
function turn(step) {
  const list = wallList(view);
  if (!wall.open || !list) return;
  const total = view.pool_size || list.ids.length;
  const pages = Math.max(1, Math.ceil(total / wall.size));
  const page = (wall.page + step + pages) % pages;
  wall.first = page * wall.size;
  renderWall();
  schedule(); // a page turned by hand stands its full time too
}

function pause() {
  wall.paused = !wall.paused;
  $("wall-pause").setAttribute("aria-pressed", String(wall.paused));
  $("wall-pause").textContent = wall.paused ? "继续翻页" : "暂停翻页";
  renderWall();
  schedule();
}

function openWall() {
  if (!wallList(view)) return;
  wall.open = true;
  wall.key = null;
  document.querySelector("main").inert = true;
  document.querySelector("header").inert = true;
  $("wall").hidden = false;
  $("wall").focus();
  const ask = $("wall").requestFullscreen ? $("wall").requestFullscreen() : null;
  if (ask) ask.then(() => { wall.full = true; }, () => { wall.full = false; }); // refused: the panel still fills the window
  renderWall();
  schedule();
}

function closeWall() {
  if (!wall.open) return;
  wall.open = false;
  clearTimeout(wall.timer);
  wall.full = false;
  $("wall").hidden = true;
  document.querySelector("main").inert = false;
  document.querySelector("header").inert = false;
  const back = () => $("wall-open").focus(); // once the browser has left full screen, or it moves focus again
  if (document.fullscreenElement) document.exitFullscreen().then(back, back);
  else back();
}

const WALL_KEYS = { ArrowRight: 1, PageDown: 1, " ": 1, Spacebar: 1, ArrowLeft: -1, PageUp: -1 };

function wallKey(ev) {
  if (!wall.open) return;
  if (ev.key === "Escape") {
    ev.preventDefault();
    closeWall();
  } else if (ev.key in WALL_KEYS) {
    ev.preventDefault(); // space turns the page, even on a focused button
    turn(WALL_KEYS[ev.key]);
  }
}

function renderWallBar(v) {
  $("wall-bar").hidden = !wallList(v);
  if (wall.open) {
    if (wallList(v)) renderWall();
    else closeWall();
  }
}

// Everything ----------------------------------------------------------------------------------------

function render(v) {
  view = v;
  $("load-error").textContent = "";
  renderHeader(v);
  renderOverview(v);
  renderSteps(v);
  renderForm(v);
  renderFinal(v);
  renderDraws(v);
  renderShuffles(v);
  renderImported(v);
  renderMore(v);
  renderWallBar(v);
  $("placeholder").hidden = Boolean(v.order0) || v.status === "no-draw";
  $("layout").hidden = v.status === "no-draw"; // all admitted: nothing to hold
  clearTimeout(pollTimer);
  if (v.status === "drawn") pollTimer = setTimeout(refresh, 5000); // until the workflow archives it
}

async function refresh() {
  const res = await loadUntil(shownOf(view)); // as many ranks as the screen already shows
  if (res.ok) {
    if (!busy) render(res.body);
  } else {
    $("load-error").textContent = messageOf(res);
    if (!view) $("title").textContent = "无法载入派位信息";
  }
}

$("step-form").addEventListener("submit", submitStep);
$("more").addEventListener("click", loadMore);
$("wall-open").addEventListener("click", openWall);
$("wall-close").addEventListener("click", closeWall);
$("wall-next").addEventListener("click", () => turn(1));
$("wall-prev").addEventListener("click", () => turn(-1));
$("wall-pause").addEventListener("click", pause);
$("wall-seconds").addEventListener("change", schedule);
document.addEventListener("keydown", wallKey);
document.addEventListener("fullscreenchange", () => { // the browser's own Esc leaves full screen: so does the list
  if (wall.open && wall.full && !document.fullscreenElement) closeWall();
});
window.addEventListener("resize", () => { if (wall.open) renderWall(); });
if (!SEASON || !SCHOOL || !/^[17]$/.test(GRADE)) {
  $("title").textContent = "无法载入派位信息";
  $("load-error").textContent = "地址不完整：请从工作平台的“电脑派位”中打开大屏幕。";
} else {
  refresh();
}
