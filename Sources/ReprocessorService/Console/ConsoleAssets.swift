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
        .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 14px; }
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
          word-break: break-word; max-width: 360px; }
        tr.changed td { background: var(--mark); }
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
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin: 0; }
        dl.facts dt { color: var(--muted); }
        dl.facts dd { margin: 0; word-break: break-word; }
        .login { max-width: 420px; margin: 60px auto; }
        .login input { width: 100%; }
        progress { width: 100%; height: 18px; }
        @media (max-width: 700px) {
          main { padding: 10px; }
          .side-by-side { grid-template-columns: 1fr; }
          td.value { max-width: none; }
          header { padding: 8px 10px; }
          dl.facts dd { overflow-wrap: anywhere; }
          table.stack thead { position: absolute; left: -9999px; }
          table.stack, table.stack tbody, table.stack tr, table.stack td, table.stack tbody th { display: block; width: 100%; }
          table.stack tr { border: 1px solid var(--line); border-radius: 6px; margin-bottom: 8px; padding: 4px 0; }
          table.stack td, table.stack tbody th { border: 0; padding: 3px 10px; text-align: left; overflow-wrap: anywhere; }
          table.stack td[data-label]::before { content: attr(data-label); display: block; font: 12px/1.4 system-ui, sans-serif;
            color: var(--muted); white-space: normal; }
          table.stack tr.changed { border-color: #e6c65c; }
          table.stack td:empty { display: none; }
        }
        """#

    /// `/ui/static/console.js`: progress polling on a running job's page, "select all" and
    /// button labels that count the selected changes. The console works without it.
    static let script = #"""
        "use strict";
        document.addEventListener("DOMContentLoaded", function () {
          var progress = document.querySelector("[data-progress-url]");
          if (progress) {
            var url = progress.getAttribute("data-progress-url");
            var poll = function () {
              fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
                .then(function (response) { return response.json(); })
                .then(function (state) {
                  var text = document.querySelector("[data-progress-text]");
                  var bar = document.querySelector("progress");
                  if (text) { text.textContent = state.done + " of " + state.expected + " changes done"; }
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
