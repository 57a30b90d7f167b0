// The parents' portal (form.html): register, follow the child's case with the SMS code, seat warnings
// and complaints. Vanilla JS, no build step; the date helpers are functions/web/common.js's (loaded
// first, as `common`).
"use strict";
const { md, ymd } = common;
const base = location.pathname.endsWith("/") ? location.pathname : location.pathname + "/";
const $ = (id) => document.getElementById(id);
let season = null;

// ---------------------------------------------------------------- small helpers
function show(el, on) { el.classList.toggle("hidden", !on); }
function esc(s) { return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]); }
const when = (iso) => common.time(iso, "");

async function api(method, path, body, token) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = "Bearer " + token;
  let r;
  try {
    r = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    return { status: 0, data: { message: "网络连接失败，请检查网络后重试。" }, headers: new Headers() };
  }
  let data = null;
  if (r.status !== 204) {
    try { data = await r.json(); } catch (e) { data = { message: `服务暂时不可用（${r.status}），请稍后再试` }; }
  }
  return { status: r.status, data, headers: r.headers };
}

// ---------------------------------------------------------------- errors beside their fields
function slotId(field) { return "err-" + field.replace(/[^A-Za-z0-9_-]/g, "-"); }

function wireErrorSlots() {
  // every error slot gets an id, role=alert, and is named by its field's aria-describedby
  document.querySelectorAll("[data-error]").forEach((slot) => {
    const field = slot.dataset.error;
    slot.id = slotId(field);
    slot.setAttribute("role", "alert");
    const input = document.querySelector(`[data-field="${field}"]`);
    if (input) {
      const hints = [...input.parentElement.querySelectorAll(":scope > .hint[id]")].map((h) => h.id);
      input.setAttribute("aria-describedby", [...hints, slot.id].join(" "));
    }
  });
}

function clearErrors(scope) {
  scope.querySelectorAll("[data-error]").forEach((e) => { e.textContent = ""; });
  scope.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
}

function placeError(err, scope) {
  // the server names fields like "child.id_number" or "guardians.0.phone"; try the field, then its parents
  let path = sameAddressField(err.field);
  while (path) {
    const slot = scope.querySelector(`[data-error="${path}"]`);
    if (slot) {
      if (!slot.textContent.split("；").includes(err.message)) slot.textContent += (slot.textContent ? "；" : "") + err.message;
      const input = scope.querySelector(`[data-field="${path}"]`);
      if (input) input.setAttribute("aria-invalid", "true");
      return true;
    }
    path = path.includes(".") ? path.slice(0, path.lastIndexOf(".")) : "";
  }
  return false;
}

/** With 本市户籍 the form sends the home address as the hukou address too: its errors belong to the
 * home address's own fields, not under the 户籍 select. */
function sameAddressField(field) {
  const basis = document.getElementById("basis");
  const prefix = "residence.hukou_address.";
  return field && basis && basis.value === "hukou" && field.startsWith(prefix) ? "home_address." + field.slice(prefix.length) : field;
}

/** What a parent calls the field: its label, with whose it is where the label alone does not say
 * (儿童 or 监护人 证件号码), for the error summary. */
const WHOSE = { "guardians.0.": "监护人", "guardians.1.": "第二位监护人", "child.": "儿童" };
function fieldName(input) {
  const label = document.querySelector(`label[for="${input.id}"]`);
  const text = label ? label.textContent.replace(/（.*）/, "").trim() : "";
  const field = input.dataset.field || "";
  const whose = Object.entries(WHOSE).find(([prefix]) => field.startsWith(prefix));
  if (!whose) return text;
  return text.startsWith(whose[1]) ? text : whose[1] + text.replace(/^监护人/, "");
}

// ---------------------------------------------------------------- the same checks as the server
// enrollment/core/idcard.py (GB 11643, ISO 7064 MOD 11-2) and enrollment/registration/form.py, message for message
const PROVINCES = new Set("11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82 83".split(" "));
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = "10X98765432";

// One spelling per number and per name, as the server normalises them (docs/NAMES.md):
// idcard.fold, names.fold_name and names.fold_text; then the same character sets, message for message.
const WHITE_SPACE = /^\p{White_Space}+|\p{White_Space}+$/gu;  // what pydantic strips around a value
const strip = (s) => String(s ?? "").replace(WHITE_SPACE, "");
const toAscii = (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0);  // a full-width ASCII form

/** idcard.fold: full-width digits and Latin letters to ASCII, a-z to A-Z; nothing else. */
function foldId(n) {
  return strip(n).replace(/[\uFF10-\uFF19\uFF21-\uFF3A\uFF41-\uFF5A]/g, toAscii).replace(/[a-z]/g, (c) => c.toUpperCase());
}

// names.HAN_RANGES: GB 18030-2022's 87,887 Han characters (URO to U+9FEF, Extensions A-F without Unicode 13+
// additions, 12 in the compatibility block); names.CJK_BLOCKS: the CJK Unified Ideographs blocks, where a
// code point outside HAN_RANGES is a Han character the standard lacks (Extensions G-J and the rest)
const HAN_RANGES = [
  [0x3400, 0x4db5], [0x4e00, 0x9fef], [0xfa0e, 0xfa0f], [0xfa11, 0xfa11], [0xfa13, 0xfa14], [0xfa1f, 0xfa1f],
  [0xfa21, 0xfa21], [0xfa23, 0xfa24], [0xfa27, 0xfa29], [0x20000, 0x2a6d6], [0x2a700, 0x2b734], [0x2b740, 0x2b81d],
  [0x2b820, 0x2cea1], [0x2ceb0, 0x2ebe0],
];
const CJK_BLOCKS = [[0x3400, 0x4dbf], [0x4e00, 0x9fff], [0x20000, 0x2a6df], [0x2a700, 0x2ee5f], [0x30000, 0x3347f]];
const charClass = (ranges) => ranges.map(([a, b]) => `\\u{${a.toString(16)}}-\\u{${b.toString(16)}}`).join("");
const namePattern = (han) => new RegExp(`^[${han}A-Za-z]+(?:(?:\u00b7|(?<=[A-Za-z])[ \\-](?=[A-Za-z]))[${han}A-Za-z]+)*$`, "u");
const textPattern = (han) => new RegExp(`^[${han}A-Za-z0-9 \\-#()/,.\u3001\u00b7]*$`, "u");
const HAN = charClass(HAN_RANGES), ANY_HAN = HAN + charClass(CJK_BLOCKS);
const NAME = namePattern(HAN), NAME_ANY_HAN = namePattern(ANY_HAN);
const TEXT = textPattern(HAN), TEXT_ANY_HAN = textPattern(ANY_HAN);
const NAME_MESSAGE = "姓名只能填写汉字或英文字母（各部分之间可用间隔号“·”），请与户口簿或护照上的姓名一致";
const TEXT_MESSAGE = "只能填写汉字、英文字母、数字、空格和常用符号 - # ( ) / , . 、 ·，不能含有表情或特殊字符";
const BEYOND_MESSAGE = "不在国家标准汉字字符集内，暂不能在线登记，也无法打印在录取通知书上，请联系所在区教育局招生办公室办理";
const within = (c, ranges) => ranges.some(([a, b]) => a <= c.codePointAt(0) && c.codePointAt(0) <= b);
/** names.beyond: the Han characters GB 18030-2022 lacks, each once, in order; quoted as in the server's message. */
const beyond = (s) => [...new Set([...s].filter((c) => within(c, CJK_BLOCKS) && !within(c, HAN_RANGES)))].map((c) => `“${c}”`).join("");

/** names.fold_name: NFC, ideographic space to space, the middle dot's look-alikes (and ．) to ·, full-width letters to ASCII. */
function foldName(s) {
  return strip(s).normalize("NFC").replace(/\u3000/g, " ").replace(/[\u2022\u2027\u2219\u22c5\u30fb\uff65\uff0e]/g, "\u00b7")
    .replace(/[\uFF21-\uFF3A\uFF41-\uFF5A]/g, toAscii).replace(/ *\u00b7 */g, "\u00b7");
}

/** names.fold_text: NFC, ideographic space to space, the middle dot's look-alikes to ·, every full-width ASCII form to ASCII. */
function foldText(s) {
  return strip(s).normalize("NFC").replace(/\u3000/g, " ").replace(/[\u2022\u2027\u2219\u22c5\u30fb\uff65]/g, "\u00b7")
    .replace(/[\uFF01-\uFF5E]/g, toAscii);
}

/** names.name: null for an accepted name, otherwise the server's message. */
function nameMessage(s) {
  const f = foldName(s);
  if (NAME.test(f)) return null;
  return NAME_ANY_HAN.test(f) ? `姓名中的${beyond(f)}${BEYOND_MESSAGE}` : NAME_MESSAGE;
}

/** names.text: null for accepted free text, otherwise the server's message naming the field by its label. */
function textMessage(s, label) {
  const f = foldText(s);
  if (TEXT.test(f)) return null;
  return TEXT_ANY_HAN.test(f) ? `${label}中的${beyond(f)}${BEYOND_MESSAGE}` : label + TEXT_MESSAGE;
}

/** idcard.parse over a folded number. */
function parseId(n) {
  if (/[^\x00-\x7f]/u.test(n)) return { error: "身份证号只能填写数字0-9和字母X，请勿使用其他文字的数字或符号" };
  if (!/^[0-9]{17}[0-9X]$/.test(n)) return { error: "身份证号应为18位：前17位为数字，最后一位为数字或大写X" };
  const y = Number(n.slice(6, 10)), m = Number(n.slice(10, 12)), d = Number(n.slice(12, 14));
  const dt = new Date(Date.UTC(2000, 0, 1));
  dt.setUTCFullYear(y, m - 1, d);
  if (y < 1 || m < 1 || m > 12 || dt.getUTCFullYear() !== y || dt.getUTCMonth() !== m - 1 || dt.getUTCDate() !== d) {
    return { error: "身份证号中的出生日期不存在" };
  }
  if (!PROVINCES.has(n.slice(0, 2))) return { error: "身份证号的地区码无效" };
  let total = 0;
  for (let i = 0; i < 17; i++) total += Number(n[i]) * WEIGHTS[i];
  if (n[17] !== CHECK[total % 11]) return { error: "身份证号校验位不正确，请核对后重新输入" };
  return { birth: `${n.slice(6, 10)}-${n.slice(10, 12)}-${n.slice(12, 14)}`, sex: Number(n.slice(14, 17)) % 2 ? "男" : "女" };
}

const CATEGORY_ZH = { public: "公办学校", private: "民办学校", ethnic: "民族学校", specialised: "专门学校" };

function check(b) {
  // R-ID-1, R-AGE-1, R-REG-1 (window), R-REG-2/R-REG-3 (one category, one school), R-MIG-1, R-FOREIGN-1, R-PUB-1
  const errors = [];
  const err = (field, message) => errors.push({ field, message });
  const c = b.child;
  if (!strip(c.name)) err("child.name", "此项为必填项");
  else if (nameMessage(c.name)) err("child.name", nameMessage(c.name));
  if (!c.birth_date) err("child.birth_date", "此项为必填项");
  const number = foldId(c.id_number);
  if (c.id_type === "passport") {
    if (!c.id_number) err("child.id_number", "此项为必填项");
    if (!c.nationality || c.nationality === "CHN") err("child.nationality", "使用护照登记的外籍儿童须填写国籍");
    else if (c.id_number && !/^[A-Z0-9]{5,18}$/.test(number)) err("child.id_number", "护照号码应为5至18位英文字母或数字0-9，请勿使用其他文字的数字或符号");
    else if (c.id_number && !parseId(number).error) err("child.id_number", "该号码是居民身份证号，请将证件类型选为“居民身份证”（每名儿童只能报名一次）");
  } else {
    const id = parseId(number);
    if (id.error) err("child.id_number", id.error);
    else if (c.birth_date && id.birth !== c.birth_date) err("child.id_number", "身份证号中的出生日期与填写的出生日期不一致");
    else if (id.sex !== c.sex) err("child.id_number", "身份证号中的性别与填写的性别不一致");
  }
  (b.guardians || []).forEach((g, i) => {
    if (!strip(g.name)) err(`guardians.${i}.name`, "此项为必填项");
    else if (nameMessage(g.name)) err(`guardians.${i}.name`, nameMessage(g.name));
    if (!/^1[3-9][0-9]{9}$/.test(g.phone)) err(`guardians.${i}.phone`, "手机号码应为11位，以1开头");
    // form.py Guardian._id_valid and RegistrationRequest._guardians_distinct, message for message
    const gid = foldId(g.id_number), field = `guardians.${i}.id_number`;
    if (!g.id_number) err(field, "此项为必填项");
    else if (g.id_type === "passport") {
      if (!parseId(gid).error) err(field, "该号码是居民身份证号，请将证件类型选为“居民身份证”");
      else if (!/^[A-Z0-9]{5,18}$/.test(gid)) err(field, "护照号码应为5至18位英文字母或数字0-9，请勿使用其他文字的数字或符号");
    } else if (parseId(gid).error) err(field, parseId(gid).error);
    else if (gid === number) err(field, "监护人证件号码与儿童本人相同，请核对后重新填写");
    else if (i > 0 && gid === foldId(b.guardians[0].id_number)) err(field, "监护人证件号码与另一位监护人相同，请核对后重新填写");
  });
  const detail = (a, field) => {
    if (a && a.detail && textMessage(a.detail, "详细地址")) err(`${field}.detail`, textMessage(a.detail, "详细地址"));
    // a road and house number, or a compound with its building and unit: never both (form.py Address)
    if (a && "compound" in a && ((a.road ?? null) !== null || (a.number ?? null) !== null)) err(`${field}.compound`, "门牌地址和小区只能填写一种：住在小区的请只填写小区、楼栋和单元");
    // a compound's building and unit: whole numbers (form.py Address._whole)
    [["building", "楼栋号", 999], ["unit", "单元号", 99]].forEach(([key, label, top]) => {
      if (a && a[key] !== undefined && a[key] !== null && !(Number.isInteger(a[key]) && a[key] >= 1 && a[key] <= top)) err(`${field}.${key}`, `${label}应为1至${top}的整数`);
    });
  };
  detail(b.home_address, "home_address");
  // the form's hukou address is the home address itself: checked once, its errors under the home fields
  const ownHukou = b.residence.hukou_address && b.residence.hukou_address !== b.home_address;
  if (ownHukou) detail(b.residence.hukou_address, "residence.hukou_address");
  if (!(b.category in CATEGORY_ZH)) err("category", "请选择一个报名类别（公民同招，不可兼报）");
  if ((b.category === "private" || b.category === "specialised") && !b.private_school_id) err("private_school_id", "报名民办学校须选择一所学校");
  if (b.category === "specialised" && b.grade !== 7) err("category", "专门学校只招收七年级");
  if (b.grade === 7 && !b.primary_school) err("primary_school", "七年级报名须填写小学毕业学校");
  if (typeof b.primary_school === "string" && textMessage(b.primary_school, "小学毕业学校")) err("primary_school", textMessage(b.primary_school, "小学毕业学校"));
  if (b.residence.basis === "residence-permit" && !b.residence.residence_permit_number) err("residence.residence_permit_number", "随迁子女须填写居住证号");
  if (b.residence.property && !/^[A-Z0-9-]{6,30}$/.test(b.residence.property.deed_number)) err("residence.property.deed_number", "不动产权证号应为6至30位大写字母、数字或连字符");
  if (season) {
    const w = season.windows[String(b.grade)];
    if (w && !w.open) {
      const inside = season.today >= w.start && season.today <= w.last_day;
      err("grade", inside ? `${b.grade}年级网上报名已截止` : `${b.grade}年级网上报名时间为${md(w.start)}至${md(w.end)}，当前不在报名时间内`);
    }
    if (b.grade === 1 && c.birth_date && c.birth_date > season.age_cutoff) err("child.birth_date", `一年级新生须于${ymd(season.age_cutoff)}（含）前出生`);
    const address = (a, field) => {
      const compounds = (season.compounds || {})[a.district] || [];
      if (!season.roads[a.district]) err(`${field}.district`, "所在区不在本市城区范围内");
      else if ("compound" in a) {  // R-PUB-1: a compound of that district, from the season's list
        if (!a.compound) err(`${field}.compound`, "请选择所在小区");
        else if (!compounds.includes(a.compound)) err(`${field}.compound`, "该区没有这个小区，请从列表中选择，或按门牌填写");
      }
      else if (!strip(a.road || "")) err(`${field}.road`, "请填写街路");
      else if (!season.roads[a.district].includes(a.road)) err(`${field}.road`, "该区没有这条街路，请按门牌填写");
      else if (a.number < 1) err(`${field}.number`, "门牌号应为正整数");
      else if (a.number > season.road_numbers[a.road]) err(`${field}.number`, "门牌号超出该街路范围");
    };
    address(b.home_address, "home_address");
    if (ownHukou) address(b.residence.hukou_address, "residence.hukou_address");
  }
  return errors;
}
window.portal = { parseId, check, foldId, foldName, foldText, nameMessage, textMessage, HAN_RANGES, CJK_BLOCKS };  // the browser tests compare these with the server's

// ---------------------------------------------------------------- registration form
function refresh() {
  const grade = $("grade").value, cat = $("category").value;
  show($("private-field"), cat === "private" || cat === "specialised");
  show($("primary-field"), grade === "7");
  show($("permit-field"), $("basis").value === "residence-permit");
  show($("nationality-field"), $("child_id_type").value === "passport");
  $("id-hint").textContent = $("child_id_type").value === "passport" ? "请填写护照号码。" : "身份证号为18位，最后一位可能是大写 X。";
  if (season) {
    const w = season.windows[grade];
    const state = w.open ? "正在报名" : (season.today < w.start ? "尚未开始" : "已截止");
    const extended = w.last_day !== w.end ? `（已延长至${md(w.last_day)}）` : "";
    $("window-hint").textContent = `${grade === "1" ? "一" : "七"}年级报名时间：${w.start} 至 ${w.end}${extended}，${state}`;
    const kind = cat === "specialised" ? "specialised" : "private";
    $("private_school_id").innerHTML = season.schools
      .filter((s) => s.kind === kind && s.grades.includes(Number(grade)))
      .map((s) => `<option value="${esc(s.id)}">${esc(s.name)}</option>`).join("");
    $("roads").innerHTML = (season.roads[$("home_district").value] || []).map((r) => `<option value="${esc(r)}">`).join("");
    // 门牌地址 or 小区: the choice shows only where the district has compounds
    const compounds = (season.compounds || {})[$("home_district").value] || [];
    const kept = $("home_compound").value;
    $("home_compound").innerHTML = `<option value="">请选择小区</option>` + compounds.map((c) => `<option value="${esc(c)}">${esc(c)}</option>`).join("");
    $("home_compound").value = compounds.includes(kept) ? kept : "";
    show($("address-kind-field"), compounds.length > 0);
    if (!compounds.length) $("kind_road").checked = true;
  }
  const inCompound = $("kind_compound").checked;
  show($("road-fields"), !inCompound);
  show($("compound-fields"), inCompound);
  $("home-detail-label").textContent = inCompound ? "室号" : "楼栋、单元、室";
}

/** The home address as the form holds it: a road and house number, or a compound with building and unit. */
function homeAddress(v) {
  const district = v("home_district"), detail = v("home_detail");
  if (!$("kind_compound").checked) return { district, road: v("home_road"), number: Number(v("home_number")) || 0, detail };
  const home = { district, compound: v("home_compound") };
  for (const key of ["building", "unit"]) if (v(`home_${key}`)) home[key] = Number(v(`home_${key}`));
  home.detail = detail;
  return home;
}

function body() {
  const v = (id) => $(id).value.trim();
  const grade = Number(v("grade")), cat = v("category");
  const home = homeAddress(v);
  const b = {
    season: season ? season.season : "",
    grade, category: cat,
    child: { name: v("child_name"), sex: v("child_sex"), birth_date: v("child_birth_date"), id_type: v("child_id_type"), id_number: foldId(v("child_id_number")) },
    guardians: [0, 1].filter((i) => i === 0 || v(`g${i}_name`) || v(`g${i}_id_number`) || v(`g${i}_phone`)).map((i) => ({
      name: v(`g${i}_name`), relationship: v(`g${i}_relationship`), id_type: v(`g${i}_id_type`), id_number: foldId(v(`g${i}_id_number`)), phone: v(`g${i}_phone`),
    })),
    home_address: home,
    residence: { basis: v("basis") },
    special_claims: [...document.querySelectorAll("input[name=claim]:checked")].map((c) => c.value),
  };
  if (v("child_id_type") === "passport") b.child.nationality = v("child_nationality").toUpperCase();
  if (b.residence.basis === "hukou") b.residence.hukou_address = home;
  else b.residence.residence_permit_number = v("permit").toUpperCase();
  if (v("deed")) b.residence.property = { deed_number: v("deed").toUpperCase(), owner: v("owner") };
  if (cat === "private" || cat === "specialised") b.private_school_id = v("private_school_id");
  if (grade === 7) b.primary_school = v("primary_school");
  if (cat === "public" && choice && choice.kind === "multi") b.school_preferences = choice.schools.map((s) => s.id);
  return b;
}

function summarise(res, intro, errors) {
  // a summary at the top (phones scroll far), each error linking to its field
  res.className = "banner bad";
  const seen = new Set();
  const items = errors.map((e) => {
    const input = document.querySelector(`[data-field="${sameAddressField(e.field)}"]`);
    const named = input && fieldName(input) ? `${fieldName(input)}：${e.message}` : e.message;
    if (seen.has(named)) return "";
    seen.add(named);
    return `<li>${input ? `<a href="#${esc(input.id)}">${esc(named)}</a>` : esc(named)}</li>`;
  }).filter(Boolean);
  res.innerHTML = `<strong>${esc(intro)}</strong>` + (items.length ? `<ul>${items.join("")}</ul>` : "");
  show(res, true);
  res.scrollIntoView({ block: "start" });
}

// ---------------------------------------------------------------- the four steps
// 1 儿童信息 → 2 地址与材料 → 3 选择学校 → 4 核对并提交. 下一步 runs the same checks as submitting
// (check() above) and keeps only the errors of the fields on the step being left; a refusal on
// submit (the page's or the server's) goes back to the step holding the first failing field.
const STEPS = 4;
let step = 1;
let choice = null;  // step 3: { kind, schools: [{id, name, address}], note } from the catchment lookup
let editing = null;  // item 5: { rid, token } while a signed-in family edits its registration

/** The step holding a field's error slot (the field itself, else its nearest parent that has one). */
function stepOf(field) {
  let path = sameAddressField(field);
  while (path) {
    const slot = document.querySelector(`#form [data-error="${path}"]`);
    if (slot) return Number(slot.closest("[data-step]").dataset.step);
    path = path.includes(".") ? path.slice(0, path.lastIndexOf(".")) : "";
  }
  return STEPS;
}

function goStep(n, focus = true) {
  step = n;
  document.querySelectorAll("#form [data-step]").forEach((s) => show(s, Number(s.dataset.step) === n));
  document.querySelectorAll("#form [data-step-mark]").forEach((m) => {
    const k = Number(m.dataset.stepMark);
    m.className = k === n ? "current" : k < n ? "done" : "";
  });
  const title = document.querySelector(`#form [data-step="${n}"]`).dataset.title;
  $("step-indicator").textContent = `第${n}步，共${STEPS}步：${title}`;
  show($("step-prev"), n > 1);
  show($("step-next"), n < STEPS);
  show($("submit"), n === STEPS);
  if (n === 4) renderReview();
  if (focus) { $("step-indicator").focus(); $("step-indicator").scrollIntoView({ block: "start" }); }
}

/** The errors check() finds on the fields of step n. */
function stepErrors(n) {
  return check(body()).filter((e) => stepOf(e.field) === n);
}

$("step-next").addEventListener("click", async () => {
  const form = $("form"), res = $("result");
  clearErrors(form);
  show(res, false);
  const errors = stepErrors(step);
  if (errors.length) {
    errors.forEach((e) => placeError(e, form));
    const fields = new Set(errors.map((e) => sameAddressField(e.field))).size;
    summarise(res, `这一步还有${fields}处需要修改，请按提示修改后再继续：`, errors);
    return;
  }
  if (step === 2) await loadChoice();
  goStep(step + 1);
});
$("step-prev").addEventListener("click", () => { clearErrors($("form")); show($("result"), false); goStep(step - 1); });

// ---------------------------------------------------------------- step 3: the school
/** The address as the catchment lookup (GET api/catchment) takes it. */
function placeQuery(home) {
  const q = new URLSearchParams({ district: home.district });
  if ("compound" in home) q.set("compound", home.compound);
  else { q.set("road", home.road); q.set("number", String(home.number)); }
  return q;
}

/** What step 3 offers for the category: the zone's school(s) of the home address (public), the
 * chosen private or specialised school, or the ethnic schools taking the grade. */
async function loadChoice() {
  const kept = choice ? choice.schools.map((s) => s.id) : [];  // the order chosen before (or restored)
  choice = await choiceFor(body(), kept);
  renderChoice();
}

/** The choice for a form: the home address's zone schools (nearest first, or in the order `kept`). */
async function choiceFor(b, kept) {
  if (b.category !== "public") return { kind: b.category, schools: [] };
  const r = await api("GET", `api/catchment?${placeQuery(b.home_address)}`);
  if (r.status !== 200) return { kind: "error", schools: [], note: r.data.message };
  const g = r.data.grades.find((x) => x.grade === b.grade) || { schools: [], note_zh: "" };
  let schools = g.schools.map((s) => ({ id: s.id, name: s.name, address: s.address }));
  if (schools.length > 1 && kept.length === schools.length && kept.every((id) => schools.some((s) => s.id === id))) {
    schools = kept.map((id) => schools.find((s) => s.id === id));  // the order the family already chose
  }
  return { kind: schools.length > 1 ? "multi" : schools.length ? "single" : "outside", schools, note: g.note_zh || "", address: r.data.address_zh };
}

function renderChoice() {
  const box = $("school-choice"), cat = $("category").value;
  show($("private-field"), cat === "private" || cat === "specialised");
  if (!choice || cat === "private" || cat === "specialised") { box.innerHTML = ""; return; }
  if (cat === "ethnic") {
    const names = season ? season.schools.filter((s) => s.kind === "ethnic" && s.grades.includes(Number($("grade").value))).map((s) => s.name) : [];
    box.innerHTML = `<p>报名民族学校的，由教育局按报名信息安排到招收该年级的民族学校${names.length ? `：${esc(names.join("、"))}` : ""}。</p>`;
    return;
  }
  if (choice.kind === "error") { box.innerHTML = `<p class="error">${esc(choice.note)}</p>`; return; }
  if (choice.kind === "outside") { box.innerHTML = `<p>${esc(choice.note)}</p>`; return; }
  if (choice.kind === "single") {
    const s = choice.schools[0];
    box.innerHTML = `<p>${esc(choice.address)}属于单校划片片区，对应学校：</p><p class="school-name"><strong>${esc(s.name)}</strong><span class="sub">${esc(s.address)}</span></p><p class="hint">片区内只有这一所学校，无须选择；能否按片区入学，以信息审核结果为准。</p>`;
    return;
  }
  const n = choice.schools.length;
  box.innerHTML = `<p>${esc(choice.address)}属于多校划片片区，片区内共${n}所学校。请按您的意愿排序，第1所为第一志愿：</p>
    <ol class="prefs" id="prefs">${choice.schools.map((s, i) => `<li data-school="${esc(s.id)}"><span class="grow"><strong>第${i + 1}志愿：${esc(s.name)}</strong><span class="sub">${esc(s.address)}</span></span>
      <span class="moves"><button type="button" class="secondary small" data-move="-1" data-at="${i}" ${i === 0 ? "disabled" : ""} aria-label="${esc(s.name)}上移">上移</button>
      <button type="button" class="secondary small" data-move="1" data-at="${i}" ${i === n - 1 ? "disabled" : ""} aria-label="${esc(s.name)}下移">下移</button></span></li>`).join("")}</ol>
    ${choice.note ? `<p class="hint">${esc(choice.note)}</p>` : ""}`;
}

$("school-choice").addEventListener("click", (ev) => {
  const btn = ev.target.closest("button[data-move]");
  if (!btn || !choice || choice.kind !== "multi") return;
  const at = Number(btn.dataset.at), to = at + Number(btn.dataset.move);
  const list = choice.schools;
  [list[at], list[to]] = [list[to], list[at]];
  renderChoice();
  saveDraft();
  // keep the focus on the school just moved
  const moved = $("prefs").children[to].querySelector(`button[data-move="${btn.dataset.move}"]`);
  (moved && !moved.disabled ? moved : $("prefs").children[to].querySelector("button:not([disabled])")).focus();
});

/** The school choice as a parent reads it (review, print sheet). */
function choiceText(b, c) {
  if (b.category === "private" || b.category === "specialised") {
    const s = season && season.schools.find((x) => x.id === b.private_school_id);
    return s ? s.name : "—";
  }
  if (b.category === "ethnic") return "由教育局安排到招收该年级的民族学校";
  if (!c || c.kind === "error") return "—";
  if (c.kind === "outside") return "不在任何片区内，由区教育局统筹安排";
  if (c.kind === "single") return `${c.schools[0].name}（单校划片）`;
  return c.schools.map((s, i) => `第${i + 1}志愿：${s.name}`).join("；");
}

// ---------------------------------------------------------------- step 4: review; the print sheet
const CLAIMS_ZH = {
  military: "现役军人（含消防救援人员）子女", "police-merit": "荣立个人二等功以上公安民警子女", "introduced-talent": "引进人才子女",
  disability: "残疾儿童", "defer-health": "因身体原因申请缓学",
};
const ID_TYPE_ZH = { "resident-id": "居民身份证", passport: "护照" };

function addressText(a) {
  if (!a) return "—";
  const d = season && season.districts.find((x) => x.code === a.district);
  const where = "compound" in a
    ? `${a.compound}${a.building ? `${a.building}栋` : ""}${a.unit ? `${a.unit}单元` : ""}`
    : `${a.road || ""}${a.number ? `${a.number}号` : ""}`;
  return `${d ? d.name : ""}${where}${a.detail ? ` ${a.detail}` : ""}`;
}

/** Everything the form sends, in sections, as a parent reads it: [step, title, [[label, value]]]. */
function sections(b, picked) {
  const c = b.child;
  const guardians = b.guardians.map((g, i) => [i + 1, `${i ? "第二位" : ""}监护人`, [
    ["姓名", g.name], ["与儿童关系", g.relationship], ["证件", `${ID_TYPE_ZH[g.id_type] || ""} ${g.id_number}`], ["手机号码", g.phone]]]);
  const r = b.residence;
  return [
    [1, "报名类别", [["报名年级", b.grade === 1 ? "一年级（幼升小）" : "七年级（小升初）"], ["学校类别", CATEGORY_ZH[b.category]], ["小学毕业学校", b.primary_school]]],
    [1, "儿童信息", [["姓名", c.name], ["性别", c.sex], ["出生日期", c.birth_date], ["证件", `${ID_TYPE_ZH[c.id_type] || ""} ${c.id_number}`], ["国籍", c.nationality]]],
    ...guardians,
    [2, "现居住地址", [["地址", addressText(b.home_address)]]],
    [2, "户籍与房产", [
      ["户籍或居住证", r.basis === "hukou" ? "本市户籍（户籍地址同现居住地址）" : "随迁子女（居住证）"],
      ["居住证号", r.residence_permit_number],
      ["不动产权证号", r.property ? r.property.deed_number : "未填写（无房产）"], ["产权人", r.property ? r.property.owner : null]]],
    [2, "特殊群体", [["申报", (b.special_claims || []).map((k) => CLAIMS_ZH[k] || "").join("、") || "无"]]],
    [3, "报名学校", [["学校", choiceText(b, picked)]]],
  ];
}

function rowsHtml(rows) {
  return rows.filter(([, v]) => v !== null && v !== undefined && v !== "").map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join("");
}

function renderReview() {
  const b = body();
  $("review").innerHTML = sections(b, choice).map(([n, title, rows], i) => `<section class="card review" aria-labelledby="rv-${i}">
      <div class="row"><h4 class="grow" id="rv-${i}">${esc(title)}</h4><button type="button" class="secondary small" data-goto="${n}" aria-label="修改${esc(title)}">修改</button></div>
      <dl class="facts">${rowsHtml(rows)}</dl></section>`).join("");
}
$("review").addEventListener("click", (ev) => {
  const btn = ev.target.closest("button[data-goto]");
  if (btn) goStep(Number(btn.dataset.goto));
});

/** 入学信息采集表 (annex 2 of the notice): what was registered, with signature and date lines, for A4. */
function renderSheet(b, receipt, c) {
  const level = b.grade === 1 ? "小学" : "初中";
  const year = season ? season.season : "";
  const city = season ? season.city : "";
  const rows = sections(b, c).map(([, title, rows]) => `<tr><th scope="rowgroup" colspan="2" class="group">${esc(title)}</th></tr>` +
    rows.filter(([, v]) => v !== null && v !== undefined && v !== "").map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td>${esc(v)}</td></tr>`).join("")).join("");
  $("sheet").innerHTML = `<h2 id="sheet-title">${esc(`${year}年${city}${level}入学信息采集表`)}</h2>
    <p class="sheet-id">报名编号：<span class="rid">${esc(receipt.registration_id)}</span>${receipt.created_at ? `　报名时间：${esc(when(receipt.created_at))}` : ""}</p>
    <table class="sheet-table"><tbody>${rows}</tbody></table>
    <p>本人承诺以上信息真实、准确，如有虚假，愿承担由此产生的一切后果。</p>
    <p class="sign">监护人签字：<span class="line"></span>　日期：<span class="line short"></span></p>`;
}

function openPrint(b, receipt, c) {
  renderSheet(b, receipt, c);
  document.body.classList.add("printing");
  show($("print-view"), true);
  $("sheet-title").setAttribute("tabindex", "-1");
  $("sheet-title").focus();
}
$("print-now").addEventListener("click", () => window.print());
$("print-close").addEventListener("click", () => {
  document.body.classList.remove("printing");
  show($("print-view"), false);
  if (lastPrintReturn) lastPrintReturn.focus();
});
let lastPrintReturn = null;
let lastRegistered = null;  // { body, receipt } of the registration just submitted
$("print-open").addEventListener("click", () => {
  if (!lastRegistered) return;
  lastPrintReturn = $("print-open");
  openPrint(lastRegistered.body, lastRegistered.receipt, lastRegistered.choice);
});
/** The form's steps and buttons, or (after a registration) what comes next: print, register another. */
function formParts(on) {
  document.querySelectorAll("#form .step-nav, #form .stepper, #step-indicator, #draft-hint").forEach((e) => show(e, on));
  if (!on) document.querySelectorAll("#form [data-step]").forEach((e) => show(e, false));
  show($("after-submit"), !on);
}
$("new-registration").addEventListener("click", () => {
  lastRegistered = null;
  formParts(true);
  resetForm();
  show($("result"), false);
  goStep(1);
});

// ---------------------------------------------------------------- the draft kept on the phone
// localStorage keeps the form as it is typed, so a reload or a closed tab loses nothing; never the ID
// numbers (a shared phone keeps what it stores). Cleared on a successful submit and by 清除草稿.
const DRAFT_KEY = "enrollment.parent.draft";
const NOT_KEPT = new Set(["child_id_number", "g0_id_number", "g1_id_number", "permit"]);
const draftFields = () => [...document.querySelectorAll("#form input, #form select, #form textarea")].filter((e) => e.id && !NOT_KEPT.has(e.id) && e.type !== "radio" && e.type !== "checkbox");

function saveDraft() {
  if (editing) return;
  const values = Object.fromEntries(draftFields().map((e) => [e.id, e.value]));
  const draft = {
    saved_at: new Date().toISOString(), values,
    address_kind: $("kind_compound").checked ? "compound" : "road",
    claims: [...document.querySelectorAll("input[name=claim]:checked")].map((c) => c.value),
    preferences: choice && choice.kind === "multi" ? choice.schools.map((s) => s.id) : [],
  };
  try { localStorage.setItem(DRAFT_KEY, JSON.stringify(draft)); } catch (e) { /* storage full or refused: no draft */ }
}

function readDraft() {
  try { return JSON.parse(localStorage.getItem(DRAFT_KEY) || "null"); } catch (e) { return null; }
}
function dropDraft() { try { localStorage.removeItem(DRAFT_KEY); } catch (e) { /* nothing kept */ } }

/** The form filled from values by element id (the draft's, or a stored registration's). */
function fillValues(values, kind, claims) {
  const order = ["grade", "category", "child_id_type", "basis", "home_district"];
  for (const id of order) if (id in values && $(id)) $(id).value = values[id];
  $(kind === "compound" ? "kind_compound" : "kind_road").checked = true;
  refresh();
  for (const [id, v] of Object.entries(values)) if ($(id)) $(id).value = v;
  document.querySelectorAll("input[name=claim]").forEach((c) => { c.checked = (claims || []).includes(c.value); });
  refresh();
}

function restoreDraft() {
  const d = readDraft();
  if (!d || !d.values) return;
  fillValues(d.values, d.address_kind, d.claims);
  if ((d.preferences || []).length) choice = { kind: "pending", schools: d.preferences.map((id) => ({ id })) };
  $("draft-when").textContent = d.saved_at ? `（保存于${when(localIso(d.saved_at))}）` : "";
  show($("draft-banner"), true);
}

/** An instant as local wall time, for when(). */
function localIso(iso) {
  const t = new Date(iso);
  const p = (n) => String(n).padStart(2, "0");
  return `${t.getFullYear()}-${p(t.getMonth() + 1)}-${p(t.getDate())}T${p(t.getHours())}:${p(t.getMinutes())}`;
}

function resetForm() {
  $("form").reset();
  choice = null;
  clearErrors($("form"));
  if (season) {
    const open = ["1", "7"].find((g) => season.windows[g].open);
    if (open) $("grade").value = open;
  }
  refresh();
  renderChoice();
}

$("draft-clear").addEventListener("click", () => {
  dropDraft();
  resetForm();
  show($("draft-banner"), false);
  show($("result"), false);
  goStep(1);
});
$("form").addEventListener("input", saveDraft);
$("form").addEventListener("change", saveDraft);

// ---------------------------------------------------------------- submit
/** A refusal (the page's or the server's): each message beside its field, the summary on top, and
 * the form back on the step holding the first failing field. */
function refuse(intro, errors) {
  const form = $("form");
  const first = errors.find((e) => e.field) || null;
  goStep(first ? stepOf(first.field) : step, false);
  errors.forEach((e) => placeError(e, form));
  summarise($("result"), intro, errors.length ? errors : [{ field: "", message: intro }]);
}

$("form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = $("form"), res = $("result");
  if (step !== STEPS) { $("step-next").click(); return; }  // Enter on a field of an earlier step
  clearErrors(form);
  const b = body();
  const local = check(b);
  if (local.length) {
    const fields = new Set(local.map((e) => sameAddressField(e.field))).size;
    refuse(`报名未提交：请按提示修改以下${fields}处后再提交。`, local);
    return;
  }
  if (editing) { await submitEdit(b); return; }
  const { status, data } = await api("POST", "api/registrations", b);
  if (status === 201) {
    dropDraft();
    show($("draft-banner"), false);
    res.className = "banner ok";
    const texted = data.sms_sent ? "报名编号已通过短信发送到您登记的手机。" : "";
    res.innerHTML = `报名成功！报名编号：<strong id="new-id">${esc(data.registration_id)}</strong>（${esc(data.status_zh)}）。${texted}请牢记报名编号，用于查询审核和录取结果；忘记时可凭儿童证件号码找回。<br>请打印入学信息采集表，监护人核对签字后，审核或报到时交学校。<br><a href="#status">凭短信验证码查询进度</a>`;
    $("login_id").value = data.registration_id;
    lastRegistered = { body: b, receipt: { registration_id: data.registration_id, created_at: data.created_at }, choice };
    show(res, true);
    formParts(false);
    res.scrollIntoView({ block: "start" });
    return;
  }
  refuse("报名未成功，请按提示修改：", (data && data.errors) || [{ field: "", message: data.message }]);
});

// ---------------------------------------------------------------- sign-in with the SMS code
const SESSION_KEY = "parent-session";
function session() {
  try {
    const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
    return s && Date.now() < s.until ? s : null;
  } catch (e) { return null; }
}
function setSession(s) { if (s) sessionStorage.setItem(SESSION_KEY, JSON.stringify(s)); else sessionStorage.removeItem(SESSION_KEY); }

let resendTimer = null;
function countdown(seconds) {
  const btn = $("send-code");
  clearInterval(resendTimer);
  let left = seconds;
  const tick = () => {
    if (left <= 0) { clearInterval(resendTimer); btn.disabled = false; btn.textContent = "获取短信验证码"; return; }
    btn.disabled = true; btn.textContent = `${left}秒后可重新获取`; left -= 1;
  };
  tick();
  resendTimer = setInterval(tick, 1000);
}

$("send-code").addEventListener("click", async () => {
  const box = $("login");
  clearErrors(box);
  const id = $("login_id").value.trim().toUpperCase();
  $("login_id").value = id;
  if (!/^R(-[A-Z2-7]{4}){4}$/.test(id)) {
    placeError({ field: "registration_id", message: "报名编号格式为 R-XXXX-XXXX-XXXX-XXXX" }, box);
    return;
  }
  const { status, data, headers } = await api("POST", `api/registrations/${encodeURIComponent(id)}/code`);
  if (status === 202) {
    $("code-sent").textContent = data.message;
    countdown(data.resend_after);
    $("login_code").focus();
  } else {
    (data.errors || [{ field: "registration_id", message: data.message }]).forEach((e) => placeError(e, box));
    if (status === 429) countdown(Number(headers.get("Retry-After")) || 60);
  }
});

$("sign-in").addEventListener("click", async () => {
  const box = $("login");
  clearErrors(box);
  const id = $("login_id").value.trim().toUpperCase(), code = $("login_code").value.trim();
  if (!/^R(-[A-Z2-7]{4}){4}$/.test(id)) { placeError({ field: "registration_id", message: "报名编号格式为 R-XXXX-XXXX-XXXX-XXXX" }, box); return; }
  if (!/^\d{6}$/.test(code)) { placeError({ field: "code", message: "验证码为6位数字" }, box); return; }
  const { status, data } = await api("POST", `api/registrations/${encodeURIComponent(id)}/session`, { code });
  if (status !== 200) {
    (data.errors || [{ field: "code", message: data.message }]).forEach((e) => placeError(e, box));
    return;
  }
  setSession({ rid: id, token: data.token, until: Date.now() + (data.expires_in - 30) * 1000 });
  $("login_code").value = "";
  $("code-sent").textContent = "";
  await loadStatus();
  $("h-status").focus();
});

// ---------------------------------------------------------------- a lost registration id
// The child's ID number asks for a code (the same answer whether or not it is registered); the code
// SMS names the id, and the code signs in: the answer gives the id back with the session.
function recoveryBody(box) {
  const id_type = $("recover_id_type").value, id_number = foldId($("recover_id_number").value);
  $("recover_id_number").value = id_number;
  const wrong = id_type === "passport"
    ? (!/^[A-Z0-9]{5,18}$/.test(id_number) ? "护照号码应为5至18位英文字母或数字0-9，请勿使用其他文字的数字或符号" : "")
    : (id_number ? parseId(id_number).error : "请填写儿童证件号码");
  if (wrong) { placeError({ field: "recover.id_number", message: wrong }, box); return null; }
  return { id_type, id_number };
}

/** A refusal of the recovery routes beside its field here: the code's, else the ID number's. */
function recoveryError(e) {
  return { ...e, field: e.field === "code" ? "recover.code" : "recover.id_number" };
}

$("recover-send").addEventListener("click", async () => {
  const box = $("recover");
  clearErrors(box);
  const b = recoveryBody(box);
  if (!b) return;
  const { status, data } = await api("POST", "api/recovery/code", b);
  if (status === 202) {
    $("recover-sent").textContent = data.message;
    $("recover_code").focus();
  } else {
    (data.errors || [{ field: "id_number", message: data.message }]).forEach((e) => placeError(recoveryError(e), box));
  }
});

$("recover-sign-in").addEventListener("click", async () => {
  const box = $("recover");
  clearErrors(box);
  const b = recoveryBody(box), code = $("recover_code").value.trim();
  if (!b) return;
  if (!/^\d{6}$/.test(code)) { placeError({ field: "recover.code", message: "验证码为6位数字" }, box); return; }
  const { status, data } = await api("POST", "api/recovery/session", { ...b, code });
  if (status !== 200) {
    (data.errors || [{ field: "code", message: data.message }]).forEach((e) => placeError(recoveryError(e), box));
    return;
  }
  setSession({ rid: data.registration_id, token: data.token, until: Date.now() + (data.expires_in - 30) * 1000 });
  $("login_id").value = data.registration_id;
  $("recover_code").value = "";
  $("recover-sent").textContent = "";
  $("recover").open = false;
  await loadStatus();
  $("h-status").focus();
});

$("sign-out").addEventListener("click", async () => {
  const s = session();
  if (s) await api("DELETE", `api/registrations/${encodeURIComponent(s.rid)}/session`, undefined, s.token);
  setSession(null);
  if (editing) endEdit();  // an edit needs the session: it ends with it
  renderSignedOut("已退出登录。");
});

function renderSignedOut(message) {
  show($("login"), true);
  show($("status-view"), false);
  show($("complaint-form"), false);
  show($("complaint-history"), false);
  show($("complaints-login"), true);
  $("code-sent").textContent = message || "";
}

// ---------------------------------------------------------------- the status page
async function familyGet(path) {
  const s = session();
  if (!s) { renderSignedOut(); return null; }
  const r = await api("GET", `api/registrations/${encodeURIComponent(s.rid)}${path}`, undefined, s.token);
  if (r.status === 401) { setSession(null); renderSignedOut("登录已过期，请重新获取验证码。"); return null; }
  return r;
}

function facts(rows) {
  return rows.filter(([, v]) => v !== null && v !== undefined && v !== "").map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join("");
}

async function loadStatus() {
  const r = await familyGet("");
  if (!r) return;
  if (r.status !== 200) { $("code-sent").textContent = r.data.message; return; }
  const d = r.data;
  show($("login"), false);
  show($("status-view"), true);
  $("login_id").value = d.registration_id;
  $("signed-in-id").textContent = d.registration_id;
  $("facts").innerHTML = facts([
    ["儿童", d.child.name], ["证件号码", d.child.id_number], ["年级", d.grade === 1 ? "一年级" : "七年级"], ["报名类别", d.category_zh],
    ["报名学校", d.school ? d.school.name : "—"], ["报名时间", when(d.created_at)], ["状态", d.status_zh],
  ]);
  const v = d.verification;
  $("verification-state").textContent = v.state_zh + (v.reviewed_by_person ? `（区教育局已复核，${when(v.reviewed_at)}）` : "");
  $("verification-steps").innerHTML = v.steps.map((s) =>
    `<li><span>${esc(s.fact_zh)}<span class="sub">${esc(s.agency_zh)}</span></span><span class="state">${esc(s.state_zh)}</span></li>`).join("");
  $("verification-reasons").innerHTML = v.reasons.map((x) => `<li>${esc(x.text_zh)}${x.next_zh ? `<p class="hint">${esc(x.next_zh)}</p>` : ""}</li>`).join("");
  if (d.stage === "withdrawn") {  // withdrawn by the family: nothing below follows any more
    $("verification-state").textContent = "本次报名已撤回，不参加信息审核。";
    $("verification-steps").innerHTML = "";
  }
  const l = d.lottery;
  show($("lottery-card"), !!l);
  if (l) {
    $("lottery").innerHTML = facts([
      ["学校", l.school_name], ["结果", l.outcome_zh],
      ["派位序号", l.rank !== null && l.rank !== undefined ? `第${l.rank}位（招生${l.seats}人）` : null],
      ["候补位置", l.waitlist_position ? `当前候补第${l.waitlist_position}位` : null],
    ]);
  }
  const admitted = !!l && PRIVATE_ADMITTED.includes(l.outcome);
  show($("decline-box"), admitted);
  if (admitted) {
    // the confirmation names what is given up: this school's seat, at once to the waitlist, for good
    $("decline-school").textContent = l.school_name;
    document.querySelectorAll(".decline-school-name").forEach((e) => { e.textContent = l.school_name; });
  }
  closeDecline();
  const p = d.placement;
  $("placement").innerHTML = p
    ? `<dl class="facts">${facts([["录取学校", p.school_name || "—"], ["学校地址", p.school_address], ["录取方式", p.route_zh], ["统筹原因", p.reason_zh]])}</dl>`
    : d.stage === "withdrawn" ? "<p>本次报名已撤回，不安排入学学校；报名截止前可以重新报名。</p>"
    : `<p>录取结果将于${season ? md(season.calendar.coordination_end) : ""}统筹安排后公布。</p>`;
  // the place over time once a correction changed it (issue 18): each day, where and why
  const history = d.placement_history || [];
  if (history.length > 1) {
    $("placement").innerHTML += `<h4>安置结果变更记录</h4><ol class="steps" id="placement-history">${history.map((h) =>
      `<li><span>${esc(h.reason_zh)}<span class="sub">${esc(h.place_zh)}${h.answers_complaint ? "（答复您的投诉申诉）" : ""}</span></span><span class="state">${esc(h.on_zh)}</span></li>`).join("")}</ol>`;
  }
  const n = d.notice;
  $("notice").innerHTML = !n
    ? `<p>入学通知书将于${season ? md(season.calendar.admission_notices) : ""}发放。</p>`
    : n.revoked
      ? `<p>${esc(n.message_zh)}</p>`
      : `<p>${n.reissued ? esc(n.message_zh) : `入学通知书已于${esc(when(n.issued_at))}发放。`}</p><button type="button" id="get-notice">下载入学通知书</button><div id="notice-link" role="status" aria-live="polite"></div>`;
  if (n && !n.revoked) $("get-notice").addEventListener("click", downloadNotice);
  await loadChanges(d);
  if (season) {
    const c = season.calendar;
    $("timeline").innerHTML = [
      [c.verification, "信息审核（公安、住建、规划、社区核查）"], [c.home_visits_end, "入户核查结束"],
      [c.lottery_day, "民办学校招生（超额时电脑派位）"], [c.coordination_end, "复审与统筹安排结束"],
      [c.admission_notices, "发放入学通知书"], [c.reporting_day, "新生报到"],
    ].map(([day, what]) => `<li><span>${esc(what)}</span><span class="state">${md(day)}</span></li>`).join("");
  }
}

async function downloadNotice() {
  const s = session();
  if (!s) { renderSignedOut(); return; }
  const r = await api("POST", `api/registrations/${encodeURIComponent(s.rid)}/notice`, {}, s.token);
  $("notice-link").innerHTML = r.status === 200
    ? `<a id="notice-file" href="${esc(r.data.download_url)}" download="入学通知书.pdf" rel="noopener">再次下载入学通知书（10分钟内有效）</a><br>核验码：${esc(r.data.verification_code_printed)}（与通知书上的核验码相同，学校凭报名编号和核验码核验通知书）`
    : esc(r.data.message);
  // one tap from the card to the PDF: the link just fetched is followed at once (a download where
  // the file is on the portal's own address, the PDF itself where the browser opens it)
  if (r.status === 200) $("notice-file").click();
}

// ---------------------------------------------------------------- declining a private seat
// Only signed in (the session token is the one proof); confirmed first, as it cannot be undone.
const PRIVATE_ADMITTED = ["admitted-without-draw", "admitted", "admitted-from-waitlist"];
function closeDecline() {
  show($("decline-confirm"), false);
  $("decline-start").setAttribute("aria-expanded", "false");
  $("decline_reason").value = "";
  clearErrors($("decline-confirm"));
}
$("decline-start").addEventListener("click", () => {
  $("decline-result").textContent = "";
  show($("decline-confirm"), true);
  $("decline-start").setAttribute("aria-expanded", "true");
  $("decline-question").focus();
});
$("decline-no").addEventListener("click", () => { closeDecline(); $("decline-start").focus(); });
$("decline-yes").addEventListener("click", async () => {
  const s = session();
  if (!s) { renderSignedOut(); return; }
  const reason = $("decline_reason").value.trim();
  const r = await api("POST", `api/registrations/${encodeURIComponent(s.rid)}/decline`, reason ? { reason } : {}, s.token);
  if (r.status === 401) { setSession(null); renderSignedOut("登录已过期，请重新获取验证码。"); return; }
  if (r.status !== 200) {
    clearErrors($("decline-confirm"));
    (r.data.errors || []).forEach((e) => placeError(e, $("decline-confirm")));
    $("decline-result").textContent = r.data.message;
    return;
  }
  await loadStatus();
  $("decline-result").textContent = "已放弃民办学校录取，名额已由候补递补；区教育局将统筹安排入学学校。";
});

// ---------------------------------------------------------------- edit, withdraw, print: signed in
// GET .../form gives the stored form in full (to the signed-in family only), whether it may still be
// changed (while the grade's window is open and verification has not begun) and, if not, why not.
// 修改报名信息 opens the stepped form filled in from it (the child's ID and the grade fixed) and sends
// it with PUT; 撤回报名 is confirmed first, naming what is given up.
let stored = null;  // the answer of GET .../form, with the status page's created_at
const FIELD_ZH = { school_preferences: "学校志愿", special_claims: "特殊群体", "residence.property": "不动产权证" };

async function loadChanges(d) {
  stored = null;
  closeWithdraw();
  const r = await familyGet("/form");
  if (!r) return;
  if (r.status !== 200) {
    $("changes-state").textContent = r.data.message;
    ["status-print", "edit-start", "withdraw-start"].forEach((id) => show($(id), false));
    return;
  }
  stored = { ...r.data, created_at: d.created_at };
  const until = md(stored.editable_until);
  $("changes-state").textContent = stored.editable
    ? `${until}报名截止前，可以修改或撤回报名；进入审核后不能再修改。`
    : stored.why_not;
  show($("status-print"), d.stage !== "withdrawn");  // a withdrawn registration has no form to sign
  show($("edit-start"), stored.editable);
  show($("withdraw-start"), stored.editable);
  document.querySelectorAll(".withdraw-rid").forEach((e) => { e.textContent = stored.registration_id; });
  document.querySelectorAll(".withdraw-until").forEach((e) => { e.textContent = `${until}24时`; });
}

/** The form's elements (by id) from a stored request. */
function requestValues(req) {
  const v = {
    grade: String(req.grade), category: req.category, primary_school: req.primary_school || "",
    child_name: req.child.name, child_sex: req.child.sex, child_birth_date: req.child.birth_date,
    child_id_type: req.child.id_type, child_id_number: req.child.id_number, child_nationality: req.child.nationality || "",
    home_district: req.home_address.district, home_road: req.home_address.road || "",
    home_number: req.home_address.number ? String(req.home_address.number) : "", home_compound: req.home_address.compound || "",
    home_building: req.home_address.building ? String(req.home_address.building) : "",
    home_unit: req.home_address.unit ? String(req.home_address.unit) : "", home_detail: req.home_address.detail || "",
    basis: req.residence.basis, permit: req.residence.residence_permit_number || "",
    deed: req.residence.property ? req.residence.property.deed_number : "", owner: req.residence.property ? req.residence.property.owner : "父亲",
    private_school_id: req.private_school_id || "",
  };
  [0, 1].forEach((i) => {
    const g = (req.guardians || [])[i] || {};
    v[`g${i}_name`] = g.name || ""; v[`g${i}_id_type`] = g.id_type || "resident-id"; v[`g${i}_id_number`] = g.id_number || ""; v[`g${i}_phone`] = g.phone || "";
    if (g.relationship) v[`g${i}_relationship`] = g.relationship;
  });
  return v;
}

/** The fields an edit may not change (the server refuses them): read-only while editing. */
function fixFields(on) {
  $("child_id_number").readOnly = on;
  $("child_id_type").disabled = on;
  $("grade").disabled = on;
  $("id-hint").textContent = on ? "儿童证件号码和报名年级不能修改；如填写有误，请撤回本次报名后重新报名。" : "身份证号为18位，最后一位可能是大写 X。";
}

function startEdit() {
  const s = session();
  if (!s || !stored || !stored.editable) return;
  editing = { rid: stored.registration_id };
  resetForm();
  formParts(true);
  show($("result"), false);
  show($("draft-banner"), false);
  show($("draft-hint"), false);
  const req = stored.form;
  fillValues(requestValues(req), "compound" in req.home_address ? "compound" : "road", req.special_claims);
  choice = (req.school_preferences || []).length ? { kind: "pending", schools: req.school_preferences.map((id) => ({ id })) } : null;
  fixFields(true);
  $("edit-text").textContent = `正在修改报名编号${stored.registration_id}的报名信息，${md(stored.editable_until)}报名截止前可以修改。逐步核对后提交修改。`;
  show($("edit-banner"), true);
  location.hash = "#register";
  goStep(1);
}

function endEdit() {
  editing = null;
  fixFields(false);
  show($("edit-banner"), false);
  show($("draft-hint"), true);
  resetForm();
}

/** The changed fields, as the form names them. */
function changedZh(fields) {
  const names = fields.map((f) => {
    if (FIELD_ZH[f]) return FIELD_ZH[f];
    const input = document.querySelector(`#form [data-field="${sameAddressField(f)}"]`);
    return input ? fieldName(input) : "";
  }).filter(Boolean);
  return [...new Set(names)];
}

async function submitEdit(b) {
  const s = session();
  if (!s) { renderSignedOut(); return; }
  const res = $("result");
  const r = await api("PUT", `api/registrations/${encodeURIComponent(editing.rid)}`, b, s.token);
  if (r.status === 401) { setSession(null); endEdit(); renderSignedOut("登录已过期，请重新获取验证码。"); location.hash = "#status"; return; }
  if (r.status !== 200) { refuse("修改未保存，请按提示修改：", (r.data && r.data.errors) || [{ field: "", message: r.data.message }]); return; }
  const last = (r.data.changes || []).slice(-1)[0];
  const named = last && last.kind === "edited" ? changedZh(last.fields || []) : [];
  const rid = editing.rid;
  lastRegistered = { body: b, receipt: { registration_id: rid, created_at: r.data.created_at }, choice };
  endEdit();
  res.className = "banner ok";
  res.innerHTML = `报名信息已修改（报名编号：<strong>${esc(rid)}</strong>）。${named.length ? `修改了：${esc(named.join("、"))}。` : "填写的内容与原来相同，没有修改。"}请重新打印入学信息采集表。<br><a href="#status">返回查询进度</a>`;
  show(res, true);
  formParts(false);
  res.scrollIntoView({ block: "start" });
}

$("edit-start").addEventListener("click", startEdit);
$("edit-cancel").addEventListener("click", () => { endEdit(); location.hash = "#status"; });

function closeWithdraw() {
  show($("withdraw-confirm"), false);
  $("withdraw-start").setAttribute("aria-expanded", "false");
  $("withdraw_reason").value = "";
  clearErrors($("withdraw-confirm"));
}
$("withdraw-start").addEventListener("click", () => {
  $("changes-result").textContent = "";
  show($("withdraw-confirm"), true);
  $("withdraw-start").setAttribute("aria-expanded", "true");
  $("withdraw-question").focus();
});
$("withdraw-no").addEventListener("click", () => { closeWithdraw(); $("withdraw-start").focus(); });
$("withdraw-yes").addEventListener("click", async () => {
  const s = session();
  if (!s) { renderSignedOut(); return; }
  const reason = $("withdraw_reason").value.trim();
  const r = await api("POST", `api/registrations/${encodeURIComponent(s.rid)}/withdraw`, reason ? { confirm: true, reason } : { confirm: true }, s.token);
  if (r.status === 401) { setSession(null); renderSignedOut("登录已过期，请重新获取验证码。"); return; }
  if (r.status !== 200) {
    clearErrors($("withdraw-confirm"));
    (r.data.errors || []).forEach((e) => placeError({ ...e, field: e.field === "reason" ? "withdraw.reason" : e.field }, $("withdraw-confirm")));
    $("changes-result").textContent = r.data.message;
    return;
  }
  await loadStatus();
  $("changes-result").textContent = "已撤回本次报名。报名截止前如仍需入学，可以重新报名。";
});

$("status-print").addEventListener("click", async () => {
  if (!stored) return;
  const req = stored.form;
  const c = await choiceFor(req, req.school_preferences || []);
  lastPrintReturn = $("status-print");
  openPrint(req, { registration_id: stored.registration_id, created_at: stored.created_at }, c);
});

// ---------------------------------------------------------------- seat warnings (R-WARN-1)
let warningsData = null;
async function loadWarnings() {
  const r = await api("GET", "api/warnings");
  if (r.status !== 200) { $("warnings-asof").textContent = r.data.message; return; }
  warningsData = r.data;
  renderWarnings();
}

function renderWarnings() {
  if (!warningsData) return;
  const district = $("warn_district").value, only = $("warn_only").checked;
  $("warnings-asof").textContent = `数据更新于 ${when(warningsData.as_of)}`;
  $("warnings").innerHTML = warningsData.grades.map((g) => {
    const rows = g.rows.filter((r) => (!district || r.district === district) && (!only || r.warning));
    const body = rows.length ? rows.map((r) => `<tr class="${r.warning || ""}">
        <td>${esc(r.name)}<span class="sub">${esc(r.district_name)} · ${esc(r.kind_zh)}</span></td>
        <td class="num">${r.plan}</td><td class="num">${r.applicants}</td>
        <td>${r.warning ? `<span class="badge ${r.warning}">${esc(r.warning_zh)}</span>` : "—"}</td></tr>`).join("")
      : `<tr><td colspan="4">没有符合条件的学校</td></tr>`;
    return `<div class="table-wrap" role="region" tabindex="0" aria-labelledby="cap-g${g.grade}">
      <table><caption id="cap-g${g.grade}">${esc(g.grade_zh)}（${g.warned}所学校或片区有预警）</caption>
      <thead><tr><th scope="col">学校（片区）</th><th scope="col" class="num">计划</th><th scope="col" class="num">已报名</th><th scope="col">预警</th></tr></thead>
      <tbody>${body}</tbody></table></div>`;
  }).join("");
}
$("warn_district").addEventListener("change", renderWarnings);
$("warn_only").addEventListener("change", renderWarnings);

// ---------------------------------------------------------------- complaints (R-OPEN-1)
async function loadComplaints() {
  const s = session();
  show($("complaints-login"), !s);
  show($("complaint-form"), !!s);
  show($("complaint-history"), !!s);
  if (!s) return;
  const r = await familyGet("/complaints");
  if (!r || r.status !== 200) return;
  const list = r.data.complaints;
  $("complaint-list").innerHTML = list.length ? list.map((c) => `<article class="complaint">
      <header><span>${esc(c.kind_zh.split("（")[0])} · ${esc(when(c.created_at))}</span><span class="badge ${c.status}">${esc(c.status_zh)}</span></header>
      <p>${esc(c.text)}</p>
      ${c.answers.length ? c.answers.map((a) => `<div class="answer"><strong>${esc(a.by_zh)}答复</strong>（${esc(when(a.at))}）<p>${esc(a.text)}</p>${a.correction_zh ? `<p class="hint">${esc(a.correction_zh)}</p>` : ""}</div>`).join("")
        : `<p class="hint">区教育局将尽快答复。</p>`}
    </article>`).join("") : `<p class="hint">还没有提交过投诉申诉。</p>`;
}

$("complaint_text").addEventListener("input", () => { $("complaint-count").textContent = `${$("complaint_text").value.trim().length} / 1000`; });

$("complaint-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = $("complaint-form"), res = $("complaint-result");
  clearErrors(form);
  show(res, false);
  const s = session();
  if (!s) { renderSignedOut(); return; }
  const kind = (document.querySelector("input[name=kind]:checked") || {}).value;
  const text = $("complaint_text").value.trim();
  const local = [];
  if (!kind) local.push({ field: "kind", message: "类别须为申诉、举报或咨询" });
  if (text.length < 10) local.push({ field: "text", message: "投诉申诉内容至少10个字，请写明事由" });
  if (text.length > 1000) local.push({ field: "text", message: "投诉申诉内容不能超过1000个字" });
  if (local.length) { local.forEach((e) => placeError(e, form)); return; }
  const r = await api("POST", `api/registrations/${encodeURIComponent(s.rid)}/complaints`, { kind, text }, s.token);
  if (r.status === 401) { setSession(null); renderSignedOut("登录已过期，请重新获取验证码。"); return; }
  if (r.status !== 201) {
    (r.data.errors || []).forEach((e) => placeError(e, form));
    res.className = "banner bad"; res.textContent = r.data.message; show(res, true);
    return;
  }
  res.className = "banner ok";
  res.textContent = `已受理，编号 ${r.data.complaint_id}。由儿童所在区教育局答复，答复后可在此查看。`;
  show(res, true);
  $("complaint_text").value = "";
  $("complaint-count").textContent = "0 / 1000";
  await loadComplaints();
});

// ---------------------------------------------------------------- tabs
const TABS = ["register", "lookup", "status", "warnings", "complaints"];  // lookup: lookup.js
async function showTab() {
  const name = TABS.includes(location.hash.slice(1)) ? location.hash.slice(1) : "register";
  // not ready until the tab's data is in: a button pressed before that (e.g. 撤回报名 on the status
  // page shown again) would be reset when the reload lands
  delete document.body.dataset.ready;
  document.querySelectorAll("[data-panel]").forEach((p) => show(p, p.dataset.panel === name));
  document.querySelectorAll("nav a").forEach((a) => {
    if (a.dataset.tab === name) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  });
  if (name === "status" && session()) await loadStatus();
  if (name === "warnings") await loadWarnings();
  if (name === "complaints") await loadComplaints();
  document.body.dataset.ready = name;  // the page has loaded what the tab shows
}
window.addEventListener("hashchange", showTab);

// With neither grade's window open, the form is not offered: the page says why (each grade's dates,
// not started or over) and where to go instead, rather than letting a family fill in four steps to be
// refused at the end.
function showClosed() {
  const open = ["1", "7"].some((g) => season.windows[g].open);
  const lines = ["1", "7"].map((g) => {
    const w = season.windows[g];
    const state = season.today < w.start ? "尚未开始" : "已截止";
    return `<li>${g === "1" ? "一" : "七"}年级报名时间：${md(w.start)}至${md(w.last_day)}，${state}</li>`;
  });
  const before = ["1", "7"].every((g) => season.today < season.windows[g].start);
  const next = before
    ? `报名开始前可以先<a href="#lookup">查询片区</a>，了解住址所属学校和须具备的条件。`
    : `已报名的，请在<a href="#status">查询进度</a>中查看审核和录取结果；未报名的适龄儿童，请联系户籍或居住地所在区教育局。`;
  $("closed-banner").innerHTML = open ? "" : `<p><strong>当前不在网上报名时间内，不能提交报名。</strong></p><ul>${lines.join("")}</ul><p>${next}</p>`;
  show($("closed-banner"), !open);
  show($("form"), open);
}

async function load() {
  wireErrorSlots();
  ["grade", "category", "basis", "child_id_type", "home_district", "kind_road", "kind_compound"].forEach((id) => $(id).addEventListener("change", refresh));
  const r = await api("GET", "api/season");
  if (r.status === 200) {
    season = r.data;
    $("season-line").textContent = `${season.city}${season.season}年 · 公民同招，每名儿童只能报名一个类别，不可兼报。`;
    $("home_district").innerHTML = season.districts.map((d) => `<option value="${esc(d.code)}">${esc(d.name)}</option>`).join("");
    $("warn_district").innerHTML = `<option value="">全部</option>` + season.districts.map((d) => `<option value="${esc(d.code)}">${esc(d.name)}</option>`).join("");
    const open = ["1", "7"].find((g) => season.windows[g].open);
    if (open) $("grade").value = open;
    refresh();
    restoreDraft();
    showClosed();
  }
  goStep(1, false);
  const s = session();
  if (s) $("login_id").value = s.rid;
  $("h-status").setAttribute("tabindex", "-1");
  await showTab();
}
load();
