#!/usr/bin/env python3
"""Adds failing changes to the store scripts/api-conformance.sh fuzzes.

After scripts/demo_seed.py (applied changes, batches, quarantined messages) and a
`run --once`, the script recreates the index with `name` mapped as a number, so that
search refuses every artist document with 400 mapper_parsing_exception: a document's
own error. This writes five more artists to the table and forwards their stream
records to the DLQ (format B, with an error message), so that the next run stores
them as failed changes: an error group to list, retry and skip.

Reads the same environment as demo_seed.py; prints the number of records forwarded.
"""
import json

from demo_seed import QUEUE, TABLE, artist, client, json_default


def main():
    ddb, streams, sqs = client("dynamodb"), client("dynamodbstreams"), client("sqs")
    for number in range(20, 25):
        ddb.put_item(TableName=TABLE, Item=artist(number, f"Artist {number}", "4.2", ["neo-traditional"], "York"))
    stream_arn = ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    wanted = {f"ARTIST#{number}" for number in range(20, 25)}
    records = []
    for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            records += [r for r in page["Records"] if r["dynamodb"]["Keys"]["PK"]["S"] in wanted]
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    queue_url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    body = {
        "Records": [dict(record, eventSourceARN=stream_arn) for record in records],
        "errorMessage": "mapper_parsing_exception: failed to parse field [name] of type [long]",
        "errorType": "ResponseError",
        "correlationId": "conformance-failing-1",
    }
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(body, default=json_default))
    print(len(records))


if __name__ == "__main__":
    main()
