// What the pages share: the parents' portal (functions/register/form.html) and the bureau's console
// and lottery-ceremony screen (functions/console/). Vanilla JS, no build step, nothing from a CDN.
// Each page loads it with <script src> before its own script (the register function serves it at
// /common.js, the console function at /console/common.js); it defines one global, `common`.
"use strict";

const common = (() => {
  // The staff pages' sign-in: the console signs in (OIDC) and keeps the access token and when it
  // expires in sessionStorage; the ceremony screen sends the same token and, when it has none, asks
  // the console to sign in and come back (RETURN_KEY).
  const TOKEN_KEY = "enrollment.core.staff.token";
  const EXPIRES_KEY = "enrollment.core.staff.expires";
  const RETURN_KEY = "enrollment.core.staff.return";
  const GRADE_ZH = { 1: "一年级", 7: "七年级" };

  /** An element with attributes and children; strings become text nodes (never parsed as HTML). */
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = String(v);
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      e.append(typeof c === "string" || typeof c === "number" ? String(c) : c);
    }
    return e;
  }

  const hasCjk = (s) => /[\u3400-\u9fff]/.test(s || "");
  const gradeZh = (g) => GRADE_ZH[g] || `${g}年级`;

  // Time and date, as the notices write them ------------------------------------------------------

  /** "2023-05-20T09:30:00+08:00" -> "2023-05-20 09:30"; `none` when there is no time. */
  const time = (iso, none = "—") => (iso ? String(iso).slice(0, 16).replace("T", " ") : none);

  /** "2023-05-20T00:00:00+08:00" -> "2023-05-19 24:00" (the end of the day, as notices write it). */
  function deadlineText(iso) {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso || "");
    if (!m) return "—";
    if (m[4] !== "00" || m[5] !== "00") return `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}`;
    const day = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) - 1));
    return `${day.toISOString().slice(0, 10)} 24:00`;
  }

  /** "2023-05-20" -> "05月20日". */
  function md(iso) { const [, m, d] = iso.split("-"); return `${m}月${d}日`; }
  /** "2023-05-20" -> "2023年05月20日". */
  function ymd(iso) { const [y, m, d] = iso.split("-"); return `${y}年${m}月${d}日`; }

  // The staff API: every call carries "Authorization: Bearer <token>" ---------------------------

  /** The signed-in staff member's access token, or null (none, or expired: then it is dropped). */
  function staffToken() {
    const t = sessionStorage.getItem(TOKEN_KEY);
    const expires = Number(sessionStorage.getItem(EXPIRES_KEY) || 0);
    if (!t) return null;
    if (expires && Date.now() > expires) {
      sessionStorage.removeItem(TOKEN_KEY);
      return null;
    }
    return t;
  }

  /**
   * A JSON call to a staff route with the token: { ok, status, body } (status 0 when the network
   * failed). Without a token, or when the API answers 401, the token is dropped and `signIn` runs.
   */
  async function staffFetch(method, url, body, signIn) {
    const t = staffToken();
    if (!t) {
      await signIn();
      return { ok: false, status: 401, body: {} };
    }
    const init = { method, headers: { Accept: "application/json", Authorization: `Bearer ${t}` } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let r;
    try {
      r = await fetch(url, init);
    } catch (e) {
      return { ok: false, status: 0, body: {} };
    }
    let data = {};
    try { data = await r.json(); } catch (e) { data = {}; }
    if (r.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      await signIn();
    }
    return { ok: r.ok, status: r.status, body: data || {} };
  }

  /** What to tell the staff member about a refused call: the API's Chinese message, else the page's
   * own message for the status (`statusMessages`), else a general one. */
  function messageOf(res, statusMessages) {
    const b = res.body || {};
    if (Array.isArray(b.errors) && b.errors.length) {
      return b.errors.map((e) => e.message_zh || e.message || "").filter(Boolean).join("；");
    }
    if (hasCjk(b.message)) return b.message;
    const fallback = statusMessages[res.status] || "服务暂时不可用，请稍后重试";
    return res.status ? `${fallback}（HTTP ${res.status}）` : fallback;
  }

  return Object.freeze({
    TOKEN_KEY,
    EXPIRES_KEY,
    RETURN_KEY,
    el,
    hasCjk,
    gradeZh,
    time,
    deadlineText,
    md,
    ymd,
    staffToken,
    staffFetch,
    messageOf,
  });
})();
