/// The console's Mustache templates, compiled into the binary. Every value is written with
/// `{{name}}`, which HTML-escapes it; no template uses the unescaped form.
enum ConsoleTemplates {
    /// Template name → source.
    static let all: [String: String] = [
        "layout": layout, "time": time, "login": login, "overview": overview, "errors": errors, "changes": changes,
        "change": change, "history": history, "audit": audit, "quarantined": quarantined, "preview": preview, "job": job,
        "problem": problem, "reason": reason, "listing": listing, "pager": pager, "resultRow": resultRow,
        "quarantineAction": quarantineAction, "charts": charts, "search": search,
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
          <form method="get" action="/ui/search" class="search" role="search">
            <label class="visually-hidden" for="search-q">Search</label>
            <input id="search-q" name="q" type="search" placeholder="Artist, change or message id" value="{{searchText}}">
            <button type="submit" class="secondary">Search</button>
          </form>
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

    /// A listing's position and its order toggle, above its rows.
    static let listing = #"""
        <p class="listing"><span class="muted" data-position>{{position}}</span>
          <span class="order" aria-label="Order">{{#orders}}{{#current}}<strong aria-current="true">{{label}}</strong>{{/current}}{{^current}}<a href="{{link}}">{{label}}</a>{{/current}} {{/orders}}</span></p>
        """#

    /// A listing's page links, below its rows.
    static let pager = #"""
        <nav class="pager" aria-label="Pages">
          {{#firstLink}}<a href="{{firstLink}}">First page</a>{{/firstLink}}
          {{#nextLink}}<a href="{{nextLink}}" rel="next">Next page</a>{{/nextLink}}
        </nav>
        """#

    /// One change's result in a preview or a finished action.
    static let resultRow = #"""
        <tr><td class="num" data-label="Change"><a href="/ui/changes/{{id}}">{{id}}</a></td>
          <td data-label="Outcome"><span class="badge {{outcome}}">{{outcomeLabel}}</span></td>
          <td data-label="Status now">{{statusLabel}}</td><td data-label="Why">{{message}}</td></tr>
        """#

    /// `/ui/search`: what the search box found.
    static let search = #"""
        {{<layout}}{{$main}}
        <section>
          <form method="get" action="/ui/search" class="filters" role="search">
            <label for="s-q">Artist id or key, change id, message id or correlation id
              <input id="s-q" name="q" value="{{q}}" size="40" required></label>
            <button type="submit">Search</button>
          </form>
        </section>
        {{#searched}}
        {{^hasMatches}}<p class="notice" data-matches="0">Nothing matches “{{q}}”: no artist, change, message or correlation id is that.</p>{{/hasMatches}}
        {{#hasMatches}}
        <section>
          <h2 data-matches>{{countText}} for “{{q}}”</h2>
          <ul class="matches">
            {{#matches}}<li><span class="badge">{{kind}}</span> {{#link}}<a href="{{link}}">{{text}}</a>{{/link}}{{^link}}{{text}}{{/link}}
              {{#more}} · <a href="{{link}}">{{text}}</a>{{/more}}</li>{{/matches}}
          </ul>
        </section>
        {{/hasMatches}}
        {{/searched}}
        {{/main}}{{/layout}}
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
            <dt>Statuses</dt><dd>{{#statuses}}<span class="badge {{status}}">{{label}} {{count}}</span> {{/statuses}}</dd>
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
                {{#statusOptions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/statusOptions}}
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
            <input type="hidden" name="order" value="{{order}}">
            <button type="submit">Show changes</button>
            <a href="/ui/changes">Clear filters</a>
          </form>
        </section>
        {{^rows}}<p class="notice">No changes match these filters.</p>{{/rows}}
        {{#hasRows}}
        {{#mayOperate}}<form method="post" action="/ui/actions/preview" data-selection>
          <input type="hidden" name="csrf" value="{{csrf}}">{{/mayOperate}}
          {{>listing}}
          <div class="table-wrap">
          <table class="stack changes">
            <thead><tr>
              {{#mayOperate}}<th><label class="inline" for="select-all"><input id="select-all" type="checkbox" data-select-all> <span>All</span></label></th>{{/mayOperate}}
              <th class="num">Id</th><th>Status</th><th>Event</th><th>Artist</th><th>Sequence</th><th>Attempts</th><th>Last error</th><th>Stored</th>
            </tr></thead>
            <tbody>
            {{#rows}}
            <tr>
              {{#mayOperate}}<td data-label="Select"><input type="checkbox" name="id" value="{{id}}" id="select-{{id}}" aria-label="Select change {{id}}"></td>{{/mayOperate}}
              <td class="num" data-label="Id"><a href="/ui/changes/{{id}}">{{id}}</a></td>
              <td data-label="Status"><span class="badge {{status}}">{{statusLabel}}</span></td>
              <td data-label="Event">{{event}}</td>
              <td data-label="Artist">{{#documentId}}<a href="/ui/history?key={{documentId}}">{{documentId}}</a>{{/documentId}}</td>
              <td class="muted sequence" data-label="Sequence">{{sequence}}</td>
              <td class="num" data-label="Attempts">{{attempts}}</td>
              <td class="error-text" data-label="Last error">{{lastError}}</td>
              <td class="when" data-label="Stored">{{#createdAt}}{{>time}}{{/createdAt}}</td>
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
        {{>pager}}
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
            <dt>Status</dt><dd><span class="badge {{status}}">{{statusLabel}}</span> after {{attemptsText}}</dd>
            <dt>Event</dt><dd>{{event}} · sequence {{sequence}}</dd>
            <dt>Artist</dt><dd>{{#documentId}}<a href="/ui/history?key={{documentId}}">{{documentId}}</a>{{/documentId}}</dd>
            {{#lastError}}<dt>Last error</dt><dd class="error-text">{{lastError}}</dd>{{/lastError}}
            <dt>Stored</dt><dd>{{#createdAt}}{{>time}}{{/createdAt}}</dd>
            <dt>Updated</dt><dd>{{#updatedAt}}{{>time}}{{/updatedAt}}</dd>
            {{#messageId}}<dt>Message</dt><dd><a href="{{messageLink}}">{{messageId}}</a></dd>{{/messageId}}
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
          <p class="muted">Between the old and the new image, fields marked <strong>+ added</strong> are new,
            <strong>− removed</strong> are gone and <strong>~ changed</strong> have another value; nested fields
            are indented under their field.</p>
          <div class="table-wrap">
          <table class="diff stack">
            <thead><tr><th>Field</th><th>Old image</th><th>New image</th><th>Live document</th></tr></thead>
            <tbody>
            {{#diff}}
            <tr class="indent-{{indent}}{{#mark}} {{.}}{{/mark}}{{#nested}} nested{{/nested}}"{{#mark}} data-mark="{{.}}"{{/mark}} data-path="{{path}}">
              <th scope="row"><span class="field" title="{{path}}">{{field}}</span>{{#mark}} <span class="mark {{.}}"><span aria-hidden="true">{{markSymbol}}</span> {{.}}</span>{{/mark}}</th>
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
            <tr><td class="when" data-label="At">{{#at}}{{>time}}{{/at}}</td><td data-label="Action"><span class="badge {{action}}">{{actionLabel}}</span></td>
              <td data-label="Actor">{{actor}}</td><td data-label="Reason">{{reason}}</td><td class="error-text" data-label="Outcome">{{outcome}}</td>
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
              {{#isChange}}<a href="/ui/changes/{{changeId}}">change {{changeId}}</a> {{event}} sequence {{sequence}} <span class="badge {{status}}">{{statusLabel}}</span>{{/isChange}}
              {{^isChange}}<span class="badge {{action}}">{{actionLabel}}</span> of <a href="/ui/changes/{{changeId}}">change {{changeId}}</a> by {{actor}}{{#reason}} — reason: {{reason}}{{/reason}} — {{outcome}}{{/isChange}}
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
                {{#kindOptions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/kindOptions}}
              </select>
            </label>
            <label for="a-since">Since <input id="a-since" name="since" value="{{filter.since}}" placeholder="24h, 2026-11-24" size="14"></label>
            <label for="a-until">Until <input id="a-until" name="until" value="{{filter.until}}" size="14"></label>
            <input type="hidden" name="order" value="{{order}}">
            <button type="submit">Show actions</button>
          </form>
          <p class="actions"><a href="{{csvLink}}" download>Export CSV</a> <a href="{{ndjsonLink}}" download>Export NDJSON</a></p>
        </section>
        {{^rows}}<p class="notice">No actions match.</p>{{/rows}}
        {{#hasRows}}
        {{>listing}}
        <div class="table-wrap">
        <table class="stack audit">
          <thead><tr><th class="num">Id</th><th>At</th><th>Change or message</th><th>Kind</th><th>Actor</th><th>Reason</th><th>Outcome</th></tr></thead>
          <tbody>
          {{#rows}}
          <tr><td class="num" data-label="Id">{{id}}</td><td class="when" data-label="At">{{#at}}{{>time}}{{/at}}</td>
            <td data-label="Change or message">{{#changeId}}<a href="/ui/changes/{{changeId}}">change {{changeId}}</a>{{/changeId}}{{^changeId}}<a class="error-text" href="{{messageLink}}">{{messageId}}</a>{{/changeId}}</td>
            <td data-label="Kind"><span class="badge {{action}}">{{actionLabel}}</span></td><td class="actor" data-label="Actor">{{actor}}</td>
            <td data-label="Reason">{{reason}}</td><td class="error-text" data-label="Outcome">{{outcome}}</td></tr>
          {{/rows}}
          </tbody>
        </table>
        </div>
        {{/hasRows}}
        {{>pager}}
        {{/main}}{{/layout}}
        """#

    static let preview = #"""
        {{<layout}}{{$main}}
        <section>
          <p class="lead" data-preview-count="{{willAct}}"><strong>This will {{verb}} {{willActText}}.</strong> Nothing has been changed yet.</p>
          {{#hasOtherOutcomes}}<p>Of the {{totalText}} chosen: {{#otherOutcomes}}<span class="badge {{outcome}}">{{label}} {{count}}</span> {{/otherOutcomes}}</p>{{/hasOtherOutcomes}}
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
          <table class="stack results">
            <thead><tr><th class="num">Change</th><th>Would be</th><th>Status now</th><th>Why</th></tr></thead>
            <tbody>{{#results}}{{>resultRow}}{{/results}}</tbody>
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
            <p data-progress-text>{{done}} of {{expectedText}} done</p>
            <progress max="{{expected}}" value="{{done}}">{{done}} of {{expected}}</progress>
            <p class="muted">This page refreshes until the work is done; <a href="/ui/jobs/{{id}}">reload</a> by hand without JavaScript.</p>
          </div>
          {{/finished}}
          {{#finished}}<p class="notice" role="status" data-job-finished>Done: {{doneText}}. {{#counts}}<span class="badge {{outcome}}">{{label}} {{count}}</span> {{/counts}}</p>{{/finished}}
          {{#failure}}<p class="problem" role="alert">Stopped part-way: <span class="error-text">{{failure}}</span></p>{{/failure}}
        </section>
        {{#hasResults}}
        <section>
          <h2>Results</h2>
          <div class="table-wrap">
          <table class="stack results">
            <thead><tr><th class="num">Change</th><th>Outcome</th><th>Status now</th><th>Message</th></tr></thead>
            <tbody>{{#results}}{{>resultRow}}{{/results}}</tbody>
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
