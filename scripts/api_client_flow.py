#!/usr/bin/env python3
"""Drives `serve` through a client generated from docs/openapi.yaml (issue 29).

scripts/api-conformance.sh generates the client with openapi-python-client into a folder it
puts on PYTHONPATH as the package `dlq_api_client`, then runs this with the service's URL and
an operate token. The flow is what an on-call bot does: list the failed changes, dry-run a
retry of one, retry it with an idempotency key, send the same request again (the first answer
comes back, marked replayed, and nothing is done again), send another request with the same
key (422), and read the change: its audit trail holds this operator's retry once.

Usage: api_client_flow.py BASE_URL TOKEN OPERATOR_NAME
Prints one line per step; exits 1 at the first step whose answer is not as the document says.
"""
import json
import sys
import uuid

from dlq_api_client import AuthenticatedClient
from dlq_api_client.api.default import get_change, list_changes, retry_changes
from dlq_api_client.models import ChangeDetail, ChangePage, ChangeStatus, Problem, Results


def check(condition, message):
    if not condition:
        print(f"api-client-flow: FAILED: {message}", file=sys.stderr)
        sys.exit(1)
    print(f"api-client-flow: ok: {message}")


def main():
    base_url, token, operator = sys.argv[1], sys.argv[2], sys.argv[3]
    client = AuthenticatedClient(base_url=base_url, token=token, raise_on_unexpected_status=True)

    page = list_changes.sync(client=client, status=[ChangeStatus.FAILED], limit=10)
    check(isinstance(page, ChangePage) and page.changes, "GET /v1/changes?status=failed lists failed changes")
    check(all(change.status == ChangeStatus.FAILED for change in page.changes), "every change listed is failed")
    change_id = page.changes[0].id

    dry_run = retry_changes.sync_detailed(client=client, body={"ids": [change_id], "dryRun": True})
    check(dry_run.status_code == 200 and isinstance(dry_run.parsed, Results), f"a dry-run retry of {change_id} answers results")
    check([r.outcome.value for r in dry_run.parsed.results] == ["would_retry"], "the dry run says it would retry, and does nothing")

    key = str(uuid.uuid4())
    body = {"ids": [change_id], "reason": "generated-client flow"}
    first = retry_changes.sync_detailed(client=client, body=body, idempotency_key=key)
    check(first.status_code == 200 and isinstance(first.parsed, Results), "the retry with an Idempotency-Key answers results")
    check(len(first.parsed.results) == 1 and first.parsed.results[0].id == change_id, "one result, for the change named")
    check("idempotent-replayed" not in {name.lower() for name in first.headers}, "the first answer is not a replay")

    again = retry_changes.sync_detailed(client=client, body=body, idempotency_key=key)
    check(again.status_code == 200, "the same request with the same key answers 200")
    check(again.headers.get("Idempotent-Replayed") == "true", "marked Idempotent-Replayed: true")
    check(json.loads(again.content) == json.loads(first.content), "with the first answer, unchanged")

    other = retry_changes.sync_detailed(client=client, body={"ids": [change_id], "dryRun": True}, idempotency_key=key)
    check(other.status_code == 422 and isinstance(other.parsed, Problem), "another request with the key is 422")
    check(other.parsed.code.value == "idempotency_key_reused" and other.parsed.field == "Idempotency-Key", "naming the key")

    detail = get_change.sync(id=change_id, client=client)
    check(isinstance(detail, ChangeDetail) and detail.id == change_id, f"GET /v1/changes/{change_id} reads the result")
    retries = [a for a in detail.actions if a.actor == operator and a.action.value == "retried"]
    check(len(retries) == 1, f"the audit trail holds {operator}'s retry once ({len(retries)} found)")
    print(f"api-client-flow: change {change_id} is now {detail.status.value}")


if __name__ == "__main__":
    main()
