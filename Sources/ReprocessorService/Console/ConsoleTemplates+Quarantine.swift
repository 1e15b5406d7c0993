extension ConsoleTemplates {
    /// `/ui/quarantined`: the messages still waiting, each with its delete and re-ingest previews.
    static let quarantined = #"""
        {{<layout}}{{$main}}
        <p>Messages nobody could read, stored raw. Bodies are shown as text; long ones are folded.
          Once the cause is fixed, <strong>re-ingest</strong> reads a body again and stores what it carries;
          <strong>delete</strong> takes a message out of the quarantine (it stays in the audit log). Both are previewed first.</p>
        {{^rows}}<p class="notice">No message waits in the quarantine.</p>{{/rows}}
        {{#hasRows}}<p class="listing"><span class="muted" data-position>{{position}}</span></p>{{/hasRows}}
        {{#rows}}
        <section class="message" data-message-id="{{messageId}}">
          <h2>Message <span class="error-text">{{messageId}}</span></h2>
          <dl class="facts">
            <dt>Reason</dt><dd class="error-text">{{reason}}</dd>
            <dt>Received</dt><dd>{{#receivedAt}}{{>time}}{{/receivedAt}}, {{receiveText}}</dd>
            {{#correlationId}}<dt>Correlation id</dt><dd class="error-text">{{correlationId}}</dd>{{/correlationId}}
          </dl>
          {{^folded}}<pre class="body">{{body}}</pre>{{/folded}}
          {{#folded}}<pre class="body">{{head}}…</pre>
          <details><summary>Show the whole body ({{length}} characters)</summary><pre class="body">{{body}}</pre></details>{{/folded}}
          {{#mayOperate}}
          <form method="post" action="/ui/quarantined/preview" class="actions">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <input type="hidden" name="message" value="{{messageId}}">
            <label for="q-reason-{{index}}">Reason (needed to delete)
              <input id="q-reason-{{index}}" name="reason" type="text" size="30">
            </label>
            <button type="submit" name="command" value="reingest">Preview: re-ingest this message</button>
            <button type="submit" name="command" value="delete" class="secondary">Preview: delete this message</button>
          </form>
          {{/mayOperate}}
        </section>
        {{/rows}}
        {{>pager}}
        {{/main}}{{/layout}}
        """#

    /// The preview of a quarantine action (with its confirm form), or its result.
    static let quarantineAction = #"""
        {{<layout}}{{$main}}
        <section>
          <p class="lead" data-outcome="{{outcome}}"><span class="badge {{outcome}}">{{outcomeLabel}}</span>
            <strong>{{headline}}</strong>{{#dryRun}} Nothing has been changed yet.{{/dryRun}}</p>
          <p class="error-text">{{message}}</p>
          {{#hasChanges}}<p>Changes stored: {{#changeLinks}}<a href="/ui/changes/{{.}}">{{.}}</a> {{/changeLinks}}</p>{{/hasChanges}}
          {{#canConfirm}}
          <form method="post" action="/ui/quarantined/run" class="actions">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <input type="hidden" name="command" value="{{command}}">
            <input type="hidden" name="message" value="{{messageId}}">
            <label for="confirm-reason">Reason{{#needsReason}} (required){{/needsReason}}
              <input id="confirm-reason" name="reason" type="text" size="40" value="{{reason}}"{{#needsReason}} required{{/needsReason}}>
            </label>
            <button type="submit"{{#isDelete}} class="danger"{{/isDelete}}>{{confirmLabel}}</button>
            <a href="/ui/quarantined">Cancel</a>
          </form>
          {{/canConfirm}}
          {{^canConfirm}}<p><a href="/ui/quarantined">Back to the quarantine</a>{{#actionId}} · <a href="/ui/audit?action={{action}}">recorded as action {{actionId}}</a>{{/actionId}}</p>{{/canConfirm}}
        </section>
        {{/main}}{{/layout}}
        """#
}
