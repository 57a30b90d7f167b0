// The catchment lookup (查询片区, form.html's "lookup" panel): before registering, a family gives its
// address (district + road + house number, or district + compound) and reads each grade's zone schools
// and what makes a child eligible there (GET api/catchment, enrollment/registration/catchment.py).
// Served as api/lookup.js under the public /api/{proxy+}, so it needs no API resource of its own.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const base = location.pathname.endsWith("/") ? location.pathname : location.pathname + "/";
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  const show = (el, on) => el.classList.toggle("hidden", !on);
  let season = null;

  async function get(path) {
    try {
      const r = await fetch(base + path, { headers: { Accept: "application/json" } });
      try { return { status: r.status, data: await r.json() }; } catch (e) { return { status: r.status, data: { message: `服务暂时不可用（${r.status}），请稍后再试` } }; }
    } catch (e) {
      return { status: 0, data: { message: "网络连接失败，请检查网络后重试。" } };
    }
  }

  /** The district's roads and compounds; the 门牌/小区 choice only where the district has compounds. */
  function refresh() {
    if (!season) return;
    const district = $("lookup_district").value;
    $("lookup-roads").innerHTML = (season.roads[district] || []).map((r) => `<option value="${esc(r)}">`).join("");
    const compounds = (season.compounds || {})[district] || [];
    const kept = $("lookup_compound").value;
    $("lookup_compound").innerHTML = `<option value="">请选择小区</option>` + compounds.map((c) => `<option value="${esc(c)}">${esc(c)}</option>`).join("");
    $("lookup_compound").value = compounds.includes(kept) ? kept : "";
    show($("lookup-kind-field"), compounds.length > 0);
    if (!compounds.length) $("lookup_kind_road").checked = true;
    const inCompound = $("lookup_kind_compound").checked;
    show($("lookup-road-fields"), !inCompound);
    show($("lookup-compound-fields"), inCompound);
  }

  function clear() {
    document.querySelectorAll("#lookup-form [data-error]").forEach((e) => { e.textContent = ""; });
    document.querySelectorAll("#lookup-form [aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
  }

  /** A refusal beside its field (the server names district, road, number or compound). */
  function fieldError(field, message) {
    const slot = document.querySelector(`#lookup-form [data-error="lookup.${field}"]`) || $("lookup-form-error");
    slot.textContent = message;
    const input = document.querySelector(`#lookup-form [data-field="lookup.${field}"]`);
    if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
  }

  function schoolsHtml(g) {
    if (!g.schools.length) return `<p>${esc(g.note_zh)}</p>`;
    const items = g.schools.map((s) => `<li><strong>${esc(s.name)}</strong><span class="sub">${esc(s.address)} · 距该地址约${(s.distance_m / 1000).toFixed(1)}公里</span></li>`).join("");
    return `<p>${esc(g.kind_zh)}${g.schools.length > 1 ? `（片区内共${g.schools.length}所学校）` : ""}</p><ul class="schools">${items}</ul>${g.note_zh ? `<p class="hint">${esc(g.note_zh)}</p>` : ""}`;
  }

  function render(a) {
    const grades = a.grades.map((g) => `<div class="card"><h4>${esc(g.grade_zh)}</h4>${schoolsHtml(g)}</div>`).join("");
    const docs = a.documents.map((d) => `<li>${esc(d.what_zh)}<span class="sub">${esc(d.who_zh)}</span></li>`).join("");
    const tiers = a.priority_zh.map((t) => `<li>${esc(t)}</li>`).join("");
    $("lookup-result").innerHTML = `<h3 id="lookup-answer" tabindex="-1">${esc(a.address_zh)}</h3>${grades}
      <div class="card"><h4>按片区入学须具备的条件</h4><ul class="docs">${docs}</ul></div>
      <div class="card"><h4>报名人数超过招生计划时的录取顺序（${esc(a.district_name)}公布）</h4><ol>${tiers}</ol></div>
      <p class="hint">${esc(a.note_zh)}</p><p><a href="#register">去网上报名</a></p>`;
    $("lookup-answer").focus();
  }

  async function submit(ev) {
    ev.preventDefault();
    clear();
    const q = new URLSearchParams({ district: $("lookup_district").value });
    if ($("lookup_kind_compound").checked) {
      if (!$("lookup_compound").value) { fieldError("compound", "请选择所在小区"); return; }
      q.set("compound", $("lookup_compound").value);
    } else {
      const road = $("lookup_road").value.trim(), number = $("lookup_number").value.trim();
      if (!road) { fieldError("road", "请填写街路名称，或按小区查询"); return; }
      if (!/^[1-9][0-9]*$/.test(number)) { fieldError("number", number ? "门牌号应为正整数，如 12" : "请填写门牌号"); return; }
      q.set("road", road);
      q.set("number", number);
    }
    $("lookup-result").innerHTML = "";
    const { status, data } = await get(`api/catchment?${q}`);
    if (status === 200) { render(data); return; }
    const errors = (data && data.errors) || [];
    if (errors.length) errors.forEach((e) => fieldError(e.field, e.message));
    else $("lookup-form-error").textContent = (data && data.message) || "查询失败，请稍后再试";
  }

  async function load() {
    const r = await get("api/season");
    if (r.status !== 200) { $("lookup-form-error").textContent = r.data.message; return; }
    season = r.data;
    $("lookup_district").innerHTML = season.districts.map((d) => `<option value="${esc(d.code)}">${esc(d.name)}</option>`).join("");
    refresh();
    document.body.dataset.lookupReady = "1";  // the browser tests wait for the lists
  }

  ["lookup_district", "lookup_kind_road", "lookup_kind_compound"].forEach((id) => $(id).addEventListener("change", refresh));
  $("lookup-form").addEventListener("submit", submit);
  load();
})();
