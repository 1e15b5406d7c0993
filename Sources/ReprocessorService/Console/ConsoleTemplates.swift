/// The console's Mustache templates, compiled into the binary. Every value is written with
/// `{{name}}`, which HTML-escapes it; no template uses the unescaped form.
enum ConsoleTemplates {
    /// Template name → source.
    static let all: [String: String] = [
        "layout": layout, "time": time, "login": login, "overview": overview, "errors": errors, "changes": changes,
        "change": change, "history": history, "audit": audit, "quarantined": quarantined, "preview": preview, "job": job,
        "problem": problem, "reason": reason,
    ]

    static let layout = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · DLQ reprocessor console</title>
        <link rel="stylesheet" href="/ui/static/console.css">
        <script src="/ui/static/console.js" defer></script>
        </head>
        <body>
        <a class="skip" href="#main">Skip to content</a>
        {{#session}}
        <header>
          <nav aria-label="Console">
            <span class="brand">DLQ console</span>
            {{#nav}}<a href="{{path}}"{{#current}} aria-current="page"{{/current}}>{{label}}</a>{{/nav}}
          </nav>
          <form method="post" action="/ui/logout">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <span class="who">{{name}} ({{role}})</span>
            <button type="submit" class="secondary">Log out</button>
          </form>
        </header>
        {{/session}}
        <main id="main">
        <h1>{{title}}</h1>
        {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
        {{$main}}{{/main}}
        </main>
        </body>
        </html>
        """#

    static let time = #"""
        <time datetime="{{iso}}">{{utc}}</time> <span class="age">({{age}})</span>
        """#

    static let login = #"""
        {{<layout}}{{$main}}
        <section class="login">
          <p>Sign in with your operator token (the same token the <code>/v1</code> API takes).</p>
          {{#problem}}<p class="problem" role="alert">{{problem}}</p>{{/problem}}
          <form method="post" action="/ui/login">
            <input type="hidden" name="csrf" value="{{loginCsrf}}">
            <label for="token">Operator token
              <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
            </label>
            <div class="actions"><button type="submit">Log in</button></div>
          </form>
        </section>
        {{/main}}{{/layout}}
        """#

    static let overview = #"""
        {{<layout}}{{$main}}
        <section aria-labelledby="counts-title">
          <h2 id="counts-title">Changes by status</h2>
          <ul class="counts">
            {{#counts}}<li><a href="{{link}}" data-status="{{status}}"{{#attention}} class="attention"{{/attention}}><span class="n">{{count}}</span><span class="s">{{status}}</span></a></li>{{/counts}}
          </ul>
        </section>
        <div class="grid">
          <section{{#paused}} class="paused"{{/paused}}>
            <h2>Replay</h2>
            {{#paused}}<p class="problem" role="alert"><strong>Replay is paused</strong> since {{#since}}{{>time}}{{/since}}: <span class="error-text">{{reason}}</span></p>{{/paused}}
            {{^paused}}<p>Replay is running (not paused).</p>{{/paused}}
            <dl class="facts">
              <dt>Oldest pending</dt><dd>{{#oldestPending}}{{>time}}{{/oldestPending}}{{^oldestPending}}nothing pending{{/oldestPending}}</dd>
              <dt>Last run</dt><dd>{{#lastRun}}{{>time}}{{/lastRun}}{{^lastRun}}never{{/lastRun}}</dd>
              <dt>Lease holder</dt><dd>{{#lease}}{{holder}} (epoch {{epoch}}, {{#held}}held{{/held}}{{^held}}not held{{/held}}, since {{#since}}{{>time}}{{/since}}){{/lease}}{{^lease}}nobody has taken it{{/lease}}</dd>
            </dl>
          </section>
          <section>
            <h2>Dead-letter queue</h2>
            <dl class="facts">
              {{#depth}}<dt>Waiting (approximate)</dt><dd data-dlq-visible>{{visible}}</dd><dt>Being read</dt><dd>{{inFlight}}</dd>{{/depth}}
              {{#depthProblem}}<dt>Depth</dt><dd class="error-text">unknown: {{depthProblem}}</dd>{{/depthProblem}}
              <dt>Messages stored</dt><dd>{{messagesTotal}}</dd>
              <dt>Quarantined</dt><dd><a href="/ui/quarantined">{{messagesQuarantined}}</a></dd>
            </dl>
          </section>
          <section{{#streamsUnavailable}} class="paused"{{/streamsUnavailable}}>
            <h2>Batches and freshness</h2>
            {{#streamProblems}}<p class="problem" role="alert"><strong>Stream unavailable</strong> since {{#since}}{{>time}}{{/since}}: <span class="error-text">{{reason}}</span></p>{{/streamProblems}}
            <dl class="facts">
              <dt>Batches waiting</dt><dd data-batches-pending>{{batchesPending}}{{#oldestBatch}}, the oldest since {{>time}}{{/oldestBatch}}</dd>
              <dt>Time left before retention</dt><dd data-retention-left>{{#retentionLeft}}{{.}} for the most urgent batch{{/retentionLeft}}{{^retentionLeft}}no batch waiting{{/retentionLeft}}</dd>
              <dt>Sent → applied</dt><dd data-lag>{{#lag}}p50 {{p50}} s · p99 {{p99}} s · max {{max}} s (last {{changes}} applied){{/lag}}{{^lag}}nothing applied yet{{/lag}}</dd>
            </dl>
          </section>
          <section>
            <h2>Latest reconcile</h2>
            {{#reconcile}}
            <dl class="facts">
              <dt>Run</dt><dd>{{run}} ({{mode}}, {{status}}) by {{actor}}</dd>
              <dt>Started</dt><dd>{{#startedAt}}{{>time}}{{/startedAt}}</dd>
              <dt>Scanned</dt><dd>{{scanned}} items, {{indexed}} documents</dd>
              <dt>Findings</dt><dd>{{missing}} missing, {{stale}} stale, {{orphaned}} orphaned, {{differs}} differ</dd>
              <dt>Repaired</dt><dd>{{repaired}}</dd>
            </dl>
            {{/reconcile}}
            {{^reconcile}}<p class="muted">No reconcile has run.</p>{{/reconcile}}
          </section>
        </div>
        {{/main}}{{/layout}}
        """#

    static let errors = #"""
        {{<layout}}{{$main}}
        <p>Failed, parked and expired changes grouped by their error with ids, values and numbers masked, largest groups first.</p>
        {{^groups}}<p class="notice">No failures. Nothing waits for an operator.</p>{{/groups}}
        {{#groups}}
        <section class="group" aria-labelledby="group-{{index}}">
          <h2 id="group-{{index}}"><span class="count">{{countText}}</span> with this error</h2>
          <p class="error-text">{{error}}</p>
          <dl class="facts">
            <dt>Group</dt><dd><code>{{groupID}}</code>: {{documentsText}}</dd>
            <dt>Fingerprint</dt><dd class="error-text">{{fingerprint}}</dd>
            <dt>First seen</dt><dd>{{#firstSeen}}{{>time}}{{/firstSeen}}</dd>
            <dt>Last seen</dt><dd>{{#lastSeen}}{{>time}}{{/lastSeen}}</dd>
            <dt>Statuses</dt><dd>{{#statuses}}<span class="badge {{status}}">{{status}} {{count}}</span> {{/statuses}}</dd>
          </dl>
          <p><a href="{{listLink}}">Show the {{countText}}</a></p>
          {{#mayOperate}}
          <form method="post" action="/ui/actions/preview" class="actions">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <input type="hidden" name="f_group" value="{{groupID}}">
            {{#statusNames}}<input type="hidden" name="f_status" value="{{.}}">{{/statusNames}}
            <label for="reason-{{index}}">Reason (needed to skip)
              <input id="reason-{{index}}" name="reason" type="text" size="30">
            </label>
            <button type="submit" name="command" value="retry">Preview: retry {{countText}}</button>
            <button type="submit" name="command" value="skip" class="secondary">Preview: skip {{countText}}</button>
          </form>
          {{/mayOperate}}
        </section>
        {{/groups}}
        {{/main}}{{/layout}}
        """#

    static let changes = #"""
        {{<layout}}{{$main}}
        <section>
          <form method="get" action="/ui/changes" class="filters" aria-label="Filter changes">
            <label for="f-status">Status
              <select id="f-status" name="status" multiple size="4">
                {{#statusOptions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/statusOptions}}
              </select>
            </label>
            <label for="f-key">Artist key <input id="f-key" name="key" value="{{filter.key}}" placeholder="42 or ARTIST#42" size="14"></label>
            <label for="f-event">Event
              <select id="f-event" name="event">
                <option value="">any</option>
                {{#eventOptions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/eventOptions}}
              </select>
            </label>
            <label for="f-since">Since <input id="f-since" name="since" value="{{filter.since}}" placeholder="2h, 2026-11-24" size="14"></label>
            <label for="f-until">Until <input id="f-until" name="until" value="{{filter.until}}" placeholder="ISO-8601 or age" size="14"></label>
            <label for="f-error">Error text <input id="f-error" name="error" value="{{filter.error}}" size="18"></label>
            {{#errorEquals}}<p class="exact">Only the failure group whose error is exactly <span class="error-text">{{.}}</span>
              <input type="hidden" name="errorEquals" value="{{.}}"></p>{{/errorEquals}}
            {{#group}}<p class="exact">Only failure group <code>{{.}}</code>
              <input type="hidden" name="group" value="{{.}}"></p>{{/group}}
            <button type="submit">Show changes</button>
            <a href="/ui/changes">Clear filters</a>
          </form>
        </section>
        {{^rows}}<p class="notice">No changes match these filters.</p>{{/rows}}
        {{#hasRows}}
        {{#mayOperate}}<form method="post" action="/ui/actions/preview" data-selection>
          <input type="hidden" name="csrf" value="{{csrf}}">{{/mayOperate}}
          <p class="muted">{{pageText}}</p>
          <div class="table-wrap">
          <table class="stack">
            <thead><tr>
              {{#mayOperate}}<th><label class="inline" for="select-all"><input id="select-all" type="checkbox" data-select-all> <span>All</span></label></th>{{/mayOperate}}
              <th class="num">Id</th><th>Status</th><th>Event</th><th>Artist</th><th>Sequence</th><th>Attempts</th><th>Last error</th><th>Stored</th>
            </tr></thead>
            <tbody>
            {{#rows}}
            <tr>
              {{#mayOperate}}<td data-label="Select"><input type="checkbox" name="id" value="{{id}}" id="select-{{id}}" aria-label="Select change {{id}}"></td>{{/mayOperate}}
              <td class="num" data-label="Id"><a href="/ui/changes/{{id}}">{{id}}</a></td>
              <td data-label="Status"><span class="badge {{status}}">{{status}}</span></td>
              <td data-label="Event">{{event}}</td>
              <td data-label="Artist">{{#documentId}}<a href="/ui/history?key={{documentId}}">{{documentId}}</a>{{/documentId}}</td>
              <td class="muted sequence" data-label="Sequence">{{sequence}}</td>
              <td class="num" data-label="Attempts">{{attempts}}</td>
              <td class="error-text" data-label="Last error">{{lastError}}</td>
              <td data-label="Stored">{{#createdAt}}{{>time}}{{/createdAt}}</td>
            </tr>
            {{/rows}}
            </tbody>
          </table>
          </div>
          {{#mayOperate}}
          <div class="actions">
            <label for="selection-reason">Reason (needed to skip or roll back)
              <input id="selection-reason" name="reason" type="text" size="30">
            </label>
            {{#commands}}<button type="submit" name="command" value="{{command}}" data-verb="{{verb}}" class="secondary">Preview: {{verb}} the selected changes</button>{{/commands}}
          </div>
          {{/mayOperate}}
        {{#mayOperate}}</form>{{/mayOperate}}
        {{/hasRows}}
        <nav class="pager" aria-label="Pages">
          {{#firstLink}}<a href="{{firstLink}}">First page</a>{{/firstLink}}
          {{#nextLink}}<a href="{{nextLink}}" rel="next">Next page</a>{{/nextLink}}
        </nav>
        {{#mayOperate}}{{#hasFilterFields}}
        <section>
          <h2>Every change matching these filters</h2>
          <form method="post" action="/ui/actions/preview" class="actions">
            <input type="hidden" name="csrf" value="{{csrf}}">
            {{#filterFields}}<input type="hidden" name="{{name}}" value="{{value}}">{{/filterFields}}
            <label for="filter-reason">Reason (needed to skip or roll back)
              <input id="filter-reason" name="reason" type="text" size="30">
            </label>
            {{#commands}}<button type="submit" name="command" value="{{command}}" class="secondary">Preview: {{verb}} every matching change</button>{{/commands}}
          </form>
        </section>
        {{/hasFilterFields}}{{/mayOperate}}
        {{/main}}{{/layout}}
        """#

    static let change = #"""
        {{<layout}}{{$main}}
        <section>
          <dl class="facts">
            <dt>Status</dt><dd><span class="badge {{status}}">{{status}}</span> after {{attempts}} attempts</dd>
            <dt>Event</dt><dd>{{event}} · sequence {{sequence}}</dd>
            <dt>Artist</dt><dd>{{#documentId}}<a href="/ui/history?key={{documentId}}">{{documentId}}</a>{{/documentId}}</dd>
            {{#lastError}}<dt>Last error</dt><dd class="error-text">{{lastError}}</dd>{{/lastError}}
            <dt>Stored</dt><dd>{{#createdAt}}{{>time}}{{/createdAt}}</dd>
            <dt>Updated</dt><dd>{{#updatedAt}}{{>time}}{{/updatedAt}}</dd>
            {{#messageId}}<dt>Message</dt><dd>{{messageId}}</dd>{{/messageId}}
          </dl>
        </section>
        {{#mayOperate}}{{#hasCommands}}
        <section>
          <h2>Act on this change</h2>
          <form method="post" action="/ui/actions/preview" class="actions">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <input type="hidden" name="id" value="{{id}}">
            <label for="change-reason">Reason (needed to skip or roll back)
              <input id="change-reason" name="reason" type="text" size="34">
            </label>
            {{#commands}}<button type="submit" name="command" value="{{command}}">Preview: {{verb}} this change</button>{{/commands}}
          </form>
        </section>
        {{/hasCommands}}{{/mayOperate}}
        <section>
          <h2>Old image, new image and live document</h2>
          {{#liveProblem}}<p class="problem">The live document could not be read: <span class="error-text">{{liveProblem}}</span></p>{{/liveProblem}}
          <p class="muted">Rows marked <strong>changed</strong> differ between the old and the new image.</p>
          <div class="table-wrap">
          <table class="diff stack">
            <thead><tr><th>Field</th><th>Old image</th><th>New image</th><th>Live document</th></tr></thead>
            <tbody>
            {{#diff}}
            <tr{{#changed}} class="changed"{{/changed}}>
              <th scope="row">{{field}}{{#changed}} <span class="badge">changed</span>{{/changed}}</th>
              <td class="value" data-label="Old image">{{old}}</td><td class="value" data-label="New image">{{new}}</td>
              <td class="value" data-label="Live document">{{live}}</td>
            </tr>
            {{/diff}}
            </tbody>
          </table>
          </div>
        </section>
        <section>
          <h2>Actions</h2>
          <div class="table-wrap">
          <table class="stack">
            <thead><tr><th>At</th><th>Action</th><th>Actor</th><th>Reason</th><th>Outcome</th><th>Response</th></tr></thead>
            <tbody>
            {{#actions}}
            <tr><td data-label="At">{{#at}}{{>time}}{{/at}}</td><td data-label="Action"><span class="badge {{action}}">{{action}}</span></td>
              <td data-label="Actor">{{actor}}</td><td data-label="Reason">{{reason}}</td><td data-label="Outcome">{{outcome}}</td>
              <td data-label="Response">{{#response}}<details><summary>Response</summary><pre>{{response}}</pre></details>{{/response}}</td></tr>
            {{/actions}}
            </tbody>
          </table>
          </div>
        </section>
        {{/main}}{{/layout}}
        """#

    static let history = #"""
        {{<layout}}{{$main}}
        <section>
          <form method="get" action="/ui/history" class="filters">
            <label for="h-key">Artist key <input id="h-key" name="key" value="{{key}}" placeholder="42 or ARTIST#42" required></label>
            <label for="h-at">As it stood at <input id="h-at" name="at" value="{{at}}" placeholder="2026-11-24T10:00:00Z or 2h"></label>
            <button type="submit">Show history</button>
          </form>
        </section>
        {{#documentAt}}
        <section>
          <h2>Document {{documentId}} as it stood at {{#moment}}{{>time}}{{/moment}}</h2>
          {{#exists}}<table><tbody>{{#fields}}<tr><th scope="row">{{name}}</th><td class="value">{{value}}</td></tr>{{/fields}}</tbody></table>{{/exists}}
          {{^exists}}<p>The document did not exist then (or nothing had been written yet).</p>{{/exists}}
          {{#asOf}}<p class="muted">As left by action {{id}} ({{action}} by {{actor}}) at {{#at}}{{>time}}{{/at}}.</p>{{/asOf}}
        </section>
        {{/documentAt}}
        {{#hasTimeline}}
        <section>
          <h2>Timeline of artist {{documentId}}</h2>
          {{#truncated}}<p class="notice">Only the first rows are shown; this artist has more.</p>{{/truncated}}
          <ol class="timeline">
            {{#timeline}}
            <li class="{{kind}}">{{#at}}{{>time}}{{/at}} —
              {{#isChange}}<a href="/ui/changes/{{changeId}}">change {{changeId}}</a> {{event}} sequence {{sequence}} <span class="badge {{status}}">{{status}}</span>{{/isChange}}
              {{^isChange}}<span class="badge {{action}}">{{action}}</span> of <a href="/ui/changes/{{changeId}}">change {{changeId}}</a> by {{actor}}{{#reason}} — reason: {{reason}}{{/reason}} — {{outcome}}{{/isChange}}
            </li>
            {{/timeline}}
          </ol>
        </section>
        {{/hasTimeline}}
        {{#searched}}{{^hasTimeline}}<p class="notice">No changes recorded for artist {{documentId}}.</p>{{/hasTimeline}}{{/searched}}
        {{/main}}{{/layout}}
        """#

    static let audit = #"""
        {{<layout}}{{$main}}
        <section>
          <form method="get" action="/ui/audit" class="filters" aria-label="Filter actions">
            <label for="a-actor">Actor <input id="a-actor" name="actor" value="{{filter.actor}}" size="14"></label>
            <label for="a-action">Kind
              <select id="a-action" name="action">
                <option value="">any</option>
                {{#kindOptions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/kindOptions}}
              </select>
            </label>
            <label for="a-since">Since <input id="a-since" name="since" value="{{filter.since}}" placeholder="24h, 2026-11-24" size="14"></label>
            <label for="a-until">Until <input id="a-until" name="until" value="{{filter.until}}" size="14"></label>
            <button type="submit">Show actions</button>
          </form>
          <p class="actions"><a href="{{csvLink}}" download>Export CSV</a> <a href="{{ndjsonLink}}" download>Export NDJSON</a></p>
        </section>
        {{^rows}}<p class="notice">No actions match.</p>{{/rows}}
        {{#hasRows}}
        <div class="table-wrap">
        <table>
          <thead><tr><th class="num">Id</th><th>At</th><th>Change</th><th>Kind</th><th>Actor</th><th>Reason</th><th>Outcome</th></tr></thead>
          <tbody>
          {{#rows}}
          <tr><td class="num">{{id}}</td><td>{{#at}}{{>time}}{{/at}}</td>
            <td>{{#changeId}}<a href="/ui/changes/{{changeId}}">{{changeId}}</a>{{/changeId}}{{^changeId}}{{messageId}}{{/changeId}}</td>
            <td><span class="badge {{action}}">{{action}}</span></td><td class="actor">{{actor}}</td><td>{{reason}}</td><td>{{outcome}}</td></tr>
          {{/rows}}
          </tbody>
        </table>
        </div>
        {{/hasRows}}
        <nav class="pager" aria-label="Pages">
          {{#firstLink}}<a href="{{firstLink}}">First page</a>{{/firstLink}}
          {{#nextLink}}<a href="{{nextLink}}" rel="next">Next page</a>{{/nextLink}}
        </nav>
        {{/main}}{{/layout}}
        """#

    static let quarantined = #"""
        {{<layout}}{{$main}}
        <p>Messages nobody could read, stored raw. Bodies are shown as text; long ones are folded.</p>
        {{^rows}}<p class="notice">No quarantined messages.</p>{{/rows}}
        {{#rows}}
        <section class="message">
          <h2>Message {{messageId}}</h2>
          <dl class="facts">
            <dt>Reason</dt><dd class="error-text">{{reason}}</dd>
            <dt>Received</dt><dd>{{#receivedAt}}{{>time}}{{/receivedAt}}, {{receiveCount}} times</dd>
            {{#correlationId}}<dt>Correlation id</dt><dd>{{correlationId}}</dd>{{/correlationId}}
          </dl>
          {{^folded}}<pre class="body">{{body}}</pre>{{/folded}}
          {{#folded}}<pre class="body">{{head}}…</pre>
          <details><summary>Show the whole body ({{length}} characters)</summary><pre class="body">{{body}}</pre></details>{{/folded}}
        </section>
        {{/rows}}
        <nav class="pager" aria-label="Pages">
          {{#firstLink}}<a href="{{firstLink}}">First page</a>{{/firstLink}}
          {{#nextLink}}<a href="{{nextLink}}" rel="next">Next page</a>{{/nextLink}}
        </nav>
        {{/main}}{{/layout}}
        """#

    static let preview = #"""
        {{<layout}}{{$main}}
        <section>
          <p class="lead" data-preview-count="{{willAct}}"><strong>This will {{verb}} {{willActText}}.</strong> Nothing has been changed yet.</p>
          {{#hasOtherOutcomes}}<p>Of the {{totalText}} chosen: {{#otherOutcomes}}<span class="badge {{outcome}}">{{outcome}} {{count}}</span> {{/otherOutcomes}}</p>{{/hasOtherOutcomes}}
          {{#hasConflicts}}
          <div class="problem" role="alert">
            <p><strong>{{conflictsText}} would conflict:</strong> search no longer shows what the change wrote.</p>
            <ul>{{#conflicts}}<li><a href="/ui/changes/{{id}}">change {{id}}</a>: {{message}}</li>{{/conflicts}}</ul>
          </div>
          {{/hasConflicts}}
          <form method="post" action="/ui/actions/run" class="actions">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <input type="hidden" name="command" value="{{command}}">
            <input type="hidden" name="expected" value="{{willAct}}">
            {{#selection}}<input type="hidden" name="{{name}}" value="{{value}}">{{/selection}}
            <label for="confirm-reason">Reason{{#needsReason}} (required){{/needsReason}}
              <input id="confirm-reason" name="reason" type="text" size="40" value="{{reason}}"{{#needsReason}} required{{/needsReason}}>
            </label>
            {{#hasWillAct}}<button type="submit">{{confirmLabel}}</button>{{/hasWillAct}}
            {{#offerForce}}<button type="submit" name="force" value="true" class="danger">{{forceLabel}}</button>{{/offerForce}}
            <a href="{{backLink}}">Cancel</a>
          </form>
        </section>
        {{#hasResults}}
        <section>
          <h2>What each change would do</h2>
          <div class="table-wrap">
          <table>
            <thead><tr><th class="num">Change</th><th>Would be</th><th>Status now</th><th>Why</th></tr></thead>
            <tbody>{{#results}}<tr><td class="num"><a href="/ui/changes/{{id}}">{{id}}</a></td><td><span class="badge {{outcome}}">{{outcome}}</span></td><td>{{status}}</td><td>{{message}}</td></tr>{{/results}}</tbody>
          </table>
          </div>
          {{#moreResults}}<p class="muted">The first {{shown}} results are listed.</p>{{/moreResults}}
        </section>
        {{/hasResults}}
        {{/main}}{{/layout}}
        """#

    static let reason = #"""
        {{<layout}}{{$main}}
        <section>
          <p class="lead">To {{verb}} {{chosen}}, say why. The reason is recorded with each change's action,
            and the preview runs with it. Nothing has been changed yet.</p>
          <form method="post" action="/ui/actions/preview" class="actions">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <input type="hidden" name="command" value="{{command}}">
            {{#selection}}<input type="hidden" name="{{name}}" value="{{value}}">{{/selection}}
            <label for="preview-reason">Reason (required)
              <input id="preview-reason" name="reason" type="text" size="40" required autofocus>
            </label>
            <button type="submit">Preview: {{verb}}</button>
          </form>
        </section>
        {{/main}}{{/layout}}
        """#

    static let job = #"""
        {{<layout}}{{$main}}
        <section>
          <p>{{verbTitle}} started by <strong>{{actor}}</strong> at {{#startedAt}}{{>time}}{{/startedAt}}.</p>
          {{^finished}}
          <div data-progress-url="/ui/jobs/{{id}}/progress" role="status" aria-live="polite">
            <p data-progress-text>{{done}} of {{expected}} changes done</p>
            <progress max="{{expected}}" value="{{done}}">{{done}} of {{expected}}</progress>
            <p class="muted">This page refreshes until the work is done; <a href="/ui/jobs/{{id}}">reload</a> by hand without JavaScript.</p>
          </div>
          {{/finished}}
          {{#finished}}<p class="notice" role="status" data-job-finished>Done: {{done}} changes. {{#counts}}<span class="badge {{outcome}}">{{outcome}} {{count}}</span> {{/counts}}</p>{{/finished}}
          {{#failure}}<p class="problem" role="alert">Stopped part-way: <span class="error-text">{{failure}}</span></p>{{/failure}}
        </section>
        {{#hasResults}}
        <section>
          <h2>Results</h2>
          <div class="table-wrap">
          <table>
            <thead><tr><th class="num">Change</th><th>Outcome</th><th>Status now</th><th>Message</th></tr></thead>
            <tbody>{{#results}}<tr><td class="num"><a href="/ui/changes/{{id}}">{{id}}</a></td><td><span class="badge {{outcome}}">{{outcome}}</span></td><td>{{status}}</td><td>{{message}}</td></tr>{{/results}}</tbody>
          </table>
          </div>
        </section>
        {{/hasResults}}
        {{/main}}{{/layout}}
        """#

    static let problem = #"""
        {{<layout}}{{$main}}
        <p class="problem" role="alert">{{problem}}</p>
        <p><a href="{{backLink}}">Go back</a></p>
        {{/main}}{{/layout}}
        """#
}
