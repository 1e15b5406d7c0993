extension ConsoleTemplates {
    /// `/ui`: counts, replay, the queue, batches, the latest reconcile.
    static let overview = #"""
        {{<layout}}{{$main}}
        <div data-refresh="{{refreshSeconds}}" data-generated="{{generatedMillis}}">
        <p class="muted refreshed">Updated {{generatedAt}} · refreshes itself every {{refreshSeconds}} s<span data-refresh-state></span></p>
        <section aria-labelledby="counts-title">
          <h2 id="counts-title">Changes by status</h2>
          <ul class="counts">
            {{#counts}}<li><a href="{{link}}" data-status="{{status}}"{{#attention}} class="attention"{{/attention}}><span class="n">{{count}}</span><span class="s">{{label}}</span></a></li>{{/counts}}
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
        {{>charts}}
        </div>
        {{/main}}{{/layout}}
        """#

    /// The overview's last 24 hours: failures and applies per hour, and the queue's depth.
    static let charts = #"""
        <section aria-labelledby="activity-title">
          <h2 id="activity-title">Last 24 hours</h2>
          {{#activity}}
          <figure class="chart">
            <svg viewBox="0 0 {{width}} {{height}}" role="img" aria-labelledby="activity-caption" data-chart="activity">
              <defs>
                <pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
                  <rect width="6" height="6" fill="#fff"/><line x1="0" y1="0" x2="0" y2="6" stroke="#a3261b" stroke-width="3"/>
                </pattern>
              </defs>
              {{#yTicks}}<line x1="{{left}}" x2="{{right}}" y1="{{y}}" y2="{{y}}" stroke="#d5dbe3"/><text x="{{left}}" y="{{labelY}}" dx="-6" text-anchor="end" class="tick">{{label}}</text>{{/yTicks}}
              {{#xTicks}}<text x="{{x}}" y="{{bottom}}" dy="22" text-anchor="{{anchor}}" class="tick">{{label}}</text>{{/xTicks}}
              {{#bars}}<rect x="{{x}}" y="{{y}}" width="{{w}}" height="{{h}}" class="bar {{kind}}" data-kind="{{kind}}"><title>{{title}}</title></rect>{{/bars}}
              <line x1="{{left}}" x2="{{right}}" y1="{{bottom}}" y2="{{bottom}}" stroke="#1d232b"/>
            </svg>
            <figcaption id="activity-caption"><span class="key failures" aria-hidden="true"></span> Failures (hatched, left of each hour): {{failuresText}} ·
              <span class="key applies" aria-hidden="true"></span> Applies (solid, right): {{appliesText}} — per hour, UTC</figcaption>
          </figure>
          <details><summary>The numbers, hour by hour</summary>
            <table class="stack hours"><thead><tr><th>Hour</th><th class="num">Failures</th><th class="num">Applies</th></tr></thead>
              <tbody>{{#rows}}<tr><td data-label="Hour">{{span}}</td><td class="num" data-label="Failures">{{failures}}</td><td class="num" data-label="Applies">{{applies}}</td></tr>{{/rows}}</tbody></table>
          </details>
          {{/activity}}
          {{#depthChart}}
          <figure class="chart">
            <svg viewBox="0 0 {{width}} {{height}}" role="img" aria-labelledby="depth-caption" data-chart="depth">
              {{#yTicks}}<line x1="{{left}}" x2="{{right}}" y1="{{y}}" y2="{{y}}" stroke="#d5dbe3"/><text x="{{left}}" y="{{labelY}}" dx="-6" text-anchor="end" class="tick">{{label}}</text>{{/yTicks}}
              {{#xTicks}}<text x="{{x}}" y="{{bottom}}" dy="22" text-anchor="{{anchor}}" class="tick">{{label}}</text>{{/xTicks}}
              <polyline points="{{line}}" fill="none" stroke="#0b5cad" stroke-width="2" stroke-dasharray="6 3"/>
              {{#markers}}<circle cx="{{x}}" cy="{{y}}" r="3.5" fill="#fff" stroke="#0b5cad" stroke-width="2" data-depth><title>{{title}}</title></circle>{{/markers}}
              <line x1="{{left}}" x2="{{right}}" y1="{{bottom}}" y2="{{bottom}}" stroke="#1d232b"/>
            </svg>
            <figcaption id="depth-caption"><span class="key depth" aria-hidden="true"></span> Messages waiting on the DLQ (dashed line, a circle per reading): {{latestText}} now; {{samplesText}} read by this process while the overview was open — UTC</figcaption>
          </figure>
          {{/depthChart}}
          {{^depthChart}}<p class="muted">No queue depth read yet: this process draws the depths it reads while the overview is open.</p>{{/depthChart}}
        </section>
        """#
}
