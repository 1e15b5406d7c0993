"""Schemathesis hooks for scripts/api-conformance.sh (loaded through SCHEMATHESIS_HOOKS).

One narrowing, for run time only: a generated `rate` below 10 changes a second is raised to
10. A rate is valid from 0.01, and a bulk action at 0.01 a second over the store's dozens of
changes would hold one request for an hour; the bounds themselves are still fuzzed (values
outside 0.01..10000 are left as generated, for the negative phase) and tested by
InputBoundsTests. Nothing else is changed: every other value is as the document allows.
"""
import schemathesis

SLOWEST_RATE = 10


def _lift(value):
    if isinstance(value, dict):
        rate = value.get("rate")
        if isinstance(rate, (int, float)) and not isinstance(rate, bool) and 0.01 <= rate < SLOWEST_RATE:
            value = dict(value, rate=SLOWEST_RATE)
    return value


@schemathesis.hook
def map_body(ctx, body):
    return _lift(body)
