/// The console's style sheet and script, served from the binary under `/ui/static/`, so the
/// console works offline and `Content-Security-Policy: default-src 'self'` holds (no inline
/// script or style anywhere).
enum ConsoleAssets {
    /// `/ui/static/console.css`.
    static let styleSheet = #"""
        :root { --ink: #1d232b; --muted: #5a6573; --line: #d5dbe3; --bg: #f6f8fa; --accent: #0b5cad;
          --bad: #a3261b; --warn: #8a5a00; --good: #1d6b34; --mark: #fff1b8; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
          background: var(--bg); }
        a { color: var(--accent); }
        a:focus, button:focus, input:focus, select:focus, summary:focus { outline: 3px solid #f0a500; outline-offset: 1px; }
        .skip { position: absolute; left: -999px; }
        .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
        .matches { padding-left: 18px; } .matches li { margin: 6px 0; }
        .skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px 8px; z-index: 2; }
        header { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 8px;
          background: #17212e; color: #fff; padding: 8px 16px; }
        header nav { display: flex; flex-wrap: wrap; gap: 4px 14px; }
        header nav a { color: #fff; text-decoration: none; padding: 4px 2px; border-bottom: 2px solid transparent; }
        header nav a[aria-current="page"] { border-bottom-color: #f0a500; }
        header .brand { font-weight: 700; margin-right: 10px; }
        header form { display: flex; align-items: center; gap: 8px; margin: 0; }
        header .who { color: #c9d3df; }
        main { max-width: 1240px; margin: 0 auto; padding: 16px; }
        h1 { font-size: 1.5rem; margin: 4px 0 12px; }
        h2 { font-size: 1.15rem; margin: 22px 0 8px; }
        section > h2:first-child { margin-top: 0; }
        section, .card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px;
          margin-bottom: 14px; }
        .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 14px; }
        .grid > section { margin: 0; }
        .counts { display: grid; grid-template-columns: repeat(auto-fill, minmax(130px, 1fr)); gap: 8px;
          list-style: none; padding: 0; margin: 0; }
        .counts a { display: block; border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px;
          text-decoration: none; background: #fff; }
        .counts .n { display: block; font-size: 1.5rem; font-weight: 700; color: var(--ink); }
        .counts .s { color: var(--muted); }
        .counts .attention { border-color: var(--bad); }
        .table-wrap { overflow-x: auto; }
        table { border-collapse: collapse; width: 100%; background: #fff; }
        th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid var(--line); }
        th { background: #eef2f6; font-weight: 600; }
        td.num, th.num { text-align: right; }
        td.value { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; white-space: pre-wrap;
          overflow-wrap: break-word; word-break: normal; max-width: 360px; }
        time, .age { white-space: nowrap; }
        td.when { white-space: nowrap; }
        td.sequence { font-size: 12px; overflow-wrap: anywhere; max-width: 12em; }
        table.diff th[scope="row"] { white-space: nowrap; font-weight: 600; }
        tr.changed td, tr.changed th { background: var(--mark); }
        tr.added td, tr.added th { background: #e5f4ea; }
        tr.removed td, tr.removed th { background: #fde8e6; }
        tr.removed td[data-label="Old image"] { text-decoration: line-through; }
        tr.nested td.value { color: var(--muted); font-style: italic; font-family: inherit; }
        .mark { display: inline-block; font-size: 12px; font-weight: 600; padding: 0 5px; border: 1px solid var(--ink);
          border-radius: 3px; background: #fff; }
        .mark.removed { border-style: dashed; }
        .mark.changed { border-style: double; border-width: 3px; }
        tr.indent-1 th[scope="row"] { padding-left: 26px; } tr.indent-2 th[scope="row"] { padding-left: 44px; }
        tr.indent-3 th[scope="row"] { padding-left: 62px; } tr.indent-4 th[scope="row"] { padding-left: 80px; }
        tr.indent-5 th[scope="row"] { padding-left: 98px; } tr.indent-6 th[scope="row"] { padding-left: 116px; }
        tr[class*="indent-"]:not(.indent-0) th[scope="row"] .field::before { content: "└ "; color: var(--muted); }
        figure.chart { margin: 6px 0 14px; }
        figure.chart svg { width: 100%; height: auto; max-height: 260px; display: block; }
        figure.chart figcaption { font-size: 13px; color: var(--muted); }
        svg .tick { font: 11px system-ui, sans-serif; fill: var(--muted); }
        svg .bar.failures { fill: url(#hatch); stroke: var(--bad); stroke-width: 1; }
        svg .bar.applies { fill: var(--good); }
        .key { display: inline-block; width: 14px; height: 10px; vertical-align: middle; border: 1px solid var(--ink); }
        .key.failures { background: repeating-linear-gradient(45deg, var(--bad) 0 2px, #fff 2px 5px); }
        .key.applies { background: var(--good); }
        .key.depth { height: 0; border: 0; border-top: 2px dashed var(--accent); }
        .refreshed { margin: 0 0 8px; font-size: 13px; }
        .refreshed .stale { color: var(--bad); font-weight: 600; }
        form.search { display: flex; gap: 6px; margin: 0; flex: 1 1 260px; max-width: 420px; }
        form.search input { flex: 1; min-width: 0; }
        .badge.deleted, .badge.reingested { background: #e5f4ea; border-color: #a9d8b8; color: var(--good); }
        .listing { display: flex; flex-wrap: wrap; justify-content: space-between; gap: 6px 16px; margin: 4px 0 8px; }
        .order a, .order strong { margin-left: 10px; }
        .badge { display: inline-block; font-size: 12px; padding: 1px 6px; border-radius: 10px; border: 1px solid var(--line);
          background: #eef2f6; white-space: nowrap; }
        .badge.parked, .badge.failed, .badge.expired, .badge.conflict, .badge.refused, .badge.not_found,
        .badge.unavailable { background: #fde8e6; border-color: #f2b8b2; color: var(--bad); }
        .badge.applied, .badge.rolled_back, .badge.resynced, .badge.skipped { background: #e5f4ea; border-color: #a9d8b8;
          color: var(--good); }
        .badge.pending, .badge.deferred, [class*="badge would_"] { background: #fff4db; border-color: #f0d48a; color: var(--warn); }
        .muted, .age { color: var(--muted); }
        .error-text { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; word-break: break-word; }
        pre { background: #f3f5f8; border: 1px solid var(--line); border-radius: 4px; padding: 8px; overflow-x: auto;
          white-space: pre-wrap; word-break: break-word; font-size: 13px; margin: 6px 0; }
        form.filters { display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: flex-end; }
        form.filters p.exact { flex-basis: 100%; margin: 0; }
        label { display: flex; flex-direction: column; font-size: 13px; color: var(--muted); gap: 2px; }
        label.inline { flex-direction: row; align-items: center; gap: 6px; color: var(--ink); font-size: 15px; }
        input, select { font: inherit; padding: 5px 7px; border: 1px solid #aab4c0; border-radius: 4px; background: #fff;
          color: var(--ink); min-height: 34px; }
        select[multiple] { min-height: 80px; }
        input[type="checkbox"] { min-height: 0; width: 18px; height: 18px; padding: 0; margin: 2px 0; }
        button { font: inherit; padding: 6px 12px; border-radius: 4px; border: 1px solid var(--accent);
          background: var(--accent); color: #fff; cursor: pointer; min-height: 34px; }
        button.secondary { background: #fff; color: var(--accent); }
        button.danger { background: var(--bad); border-color: var(--bad); }
        .actions { display: flex; flex-wrap: wrap; gap: 8px; align-items: flex-end; margin-top: 10px; }
        .notice { background: #e8f1fb; border: 1px solid #b5d0ee; padding: 8px 12px; border-radius: 6px; }
        .problem { background: #fde8e6; border: 1px solid #f2b8b2; padding: 8px 12px; border-radius: 6px; }
        .paused { border-color: var(--bad); }
        .pager { display: flex; gap: 14px; margin: 10px 0; }
        .timeline { list-style: none; padding: 0; margin: 0; }
        .timeline li { border-left: 3px solid var(--line); padding: 4px 0 8px 12px; }
        .timeline li.change { border-left-color: var(--accent); }
        .side-by-side { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 10px; }
        details summary { cursor: pointer; color: var(--accent); }
        dl.facts { display: grid; grid-template-columns: minmax(5em, max-content) minmax(0, 1fr); gap: 4px 14px; margin: 0; }
        .grid dl.facts { grid-template-columns: minmax(0, 2fr) minmax(0, 3fr); }
        dl.facts dd time { white-space: normal; }
        dl.facts dt { color: var(--muted); }
        dl.facts dd { margin: 0; word-break: break-word; }
        .login { max-width: 420px; margin: 60px auto; }
        .login input { width: 100%; }
        progress { width: 100%; height: 18px; }
        @media (max-width: 700px) {
          main { padding: 10px; }
          .side-by-side { grid-template-columns: 1fr; }
          .table-wrap { overflow-x: visible; }
          td.value, td.sequence { max-width: none; }
          td.when { white-space: normal; }
          header { padding: 8px 10px; }
          dl.facts dd { overflow-wrap: anywhere; }
          table.stack thead { position: absolute; left: -9999px; }
          table.stack, table.stack tbody, table.stack tr, table.stack td, table.stack tbody th { display: block; width: 100%; }
          table.stack tr { border: 1px solid var(--line); border-radius: 6px; margin-bottom: 8px; padding: 4px 0; }
          table.stack td, table.stack tbody th { border: 0; padding: 2px 10px; text-align: left; overflow-wrap: anywhere; }
          table.stack td[data-label] { display: grid; grid-template-columns: 6.5em minmax(0, 1fr); gap: 8px; }
          table.stack td[data-label]::before { content: attr(data-label); font: 12px/1.9 system-ui, sans-serif;
            color: var(--muted); white-space: normal; }
          table.stack tr.changed { border-color: #e6c65c; }
          table.stack td:empty { display: none; }
          table.diff tr[class*="indent-"]:not(.indent-0) { margin-left: 14px; width: calc(100% - 14px); }
          svg .tick { font-size: 22px; }
          figure.chart svg { max-height: none; }
          table.stack.changes tr, table.stack.audit tr { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }
          table.stack.changes td, table.stack.audit td { grid-column: span 1; }
          table.stack.changes td[data-label] , table.stack.audit td[data-label] { grid-template-columns: 5.2em minmax(0, 1fr); }
          table.stack.changes td.error-text, table.stack.changes td.when, table.stack.changes td.sequence,
          table.stack.changes td[data-label="Status"],
          table.stack.audit td.when, table.stack.audit td.error-text, table.stack.audit td[data-label="Reason"],
          table.stack.audit td[data-label="Change or message"] { grid-column: 1 / -1; }
          table.diff th[scope="row"] { white-space: normal; padding-left: 10px !important; }
        }
        """#

    /// `/ui/static/console.js`: the overview refreshing itself, progress polling on a running
    /// job's page, "select all" and button labels that count the selected changes. The console
    /// works without it.
    static let script = #"""
        "use strict";
        document.addEventListener("DOMContentLoaded", function () {
          var live = document.querySelector("[data-refresh]");
          if (live) {
            var seconds = Math.max(2, parseInt(live.getAttribute("data-refresh"), 10) || 30);
            var refresh = function () {
              if (document.hidden) { window.setTimeout(refresh, seconds * 1000); return; }
              fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
                .then(function (response) {
                  if (!response.ok || response.redirected) { throw new Error("status " + response.status); }
                  return response.text();
                })
                .then(function (html) {
                  var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-refresh]");
                  var current = document.querySelector("[data-refresh]");
                  if (fresh && current) { current.replaceWith(document.importNode(fresh, true)); }
                })
                .catch(function () {
                  var state = document.querySelector("[data-refresh-state]");
                  if (state) { state.textContent = " · could not refresh: the figures may be stale"; state.className = "stale"; }
                })
                .then(function () { window.setTimeout(refresh, seconds * 1000); });
            };
            window.setTimeout(refresh, seconds * 1000);
          }
          var progress = document.querySelector("[data-progress-url]");
          if (progress) {
            var url = progress.getAttribute("data-progress-url");
            var poll = function () {
              fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
                .then(function (response) { return response.json(); })
                .then(function (state) {
                  var text = document.querySelector("[data-progress-text]");
                  var bar = document.querySelector("progress");
                  if (text) { text.textContent = state.done + " of " + state.expected + (state.expected === 1 ? " change" : " changes") + " done"; }
                  if (bar) { bar.value = state.done; }
                  if (state.finished) { window.location.reload(); } else { window.setTimeout(poll, 1000); }
                })
                .catch(function () { window.setTimeout(poll, 3000); });
            };
            window.setTimeout(poll, 700);
          }
          var form = document.querySelector("form[data-selection]");
          if (form) {
            var boxes = form.querySelectorAll("input[type=checkbox][name=id]");
            var all = form.querySelector("input[data-select-all]");
            var buttons = form.querySelectorAll("button[data-verb]");
            var relabel = function () {
              var count = 0;
              boxes.forEach(function (box) { if (box.checked) { count += 1; } });
              buttons.forEach(function (button) {
                button.textContent = "Preview: " + button.getAttribute("data-verb") + " " + count +
                  (count === 1 ? " change" : " changes");
                button.disabled = count === 0;
              });
            };
            if (all) {
              all.addEventListener("change", function () {
                boxes.forEach(function (box) { box.checked = all.checked; });
                relabel();
              });
            }
            boxes.forEach(function (box) { box.addEventListener("change", relabel); });
            relabel();
          }
        });
        """#
}
