#!/usr/bin/env python3
"""Seeds local emulators for scripts/demo.sh.

Creates the table (with a NEW_AND_OLD_IMAGES stream) and the DLQ, writes
artist INSERT/MODIFY/REMOVE changes and a few non-artist rows, reads the
stream back, and posts to the DLQ what the sync Lambda's on-failure
destination would send for those batches (format A), plus forwarded
records (B) and malformed bodies (C). Prints one JSON line with the queue URL
and stream ARN.

With --keep (scripts/demo.sh --keep) the seed also writes two artists whose
`rating` is the string "new", which an index mapping `rating` as a float refuses
(the parked group). --trouble is the kept demo's second step, after the first run:
the two ratings fixed in the table without a DLQ message, eighteen new artists whose `priceRange` is text such as "£80-£150", which an index
mapping `priceRange` as an integer refuses (one mapping conflict over many
documents), posted as format-A pointers; and a pointer, 26 hours old, to a shard
the stream no longer has (an expired batch).

Uses boto3, which moto[server] installs. Reads AWS_ENDPOINT_URL, AWS_REGION,
DYNAMODB_TABLE_NAME and DLQ_NAME from the environment.
"""
import base64
import datetime
import json
import os
import sys

import boto3

ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
REGION = os.environ.get("AWS_REGION", "eu-west-2")
TABLE = os.environ.get("DYNAMODB_TABLE_NAME", "tattoo-directory-local")
QUEUE = os.environ.get("DLQ_NAME", "tattoo-directory-sync-dlq")
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:123456789012:function:dynamodb-sync-handler"


def client(service):
    return boto3.client(service, endpoint_url=ENDPOINT, region_name=REGION)


def artist(number, name, rating, styles, city):
    return {
        "PK": {"S": f"ARTIST#{number}"},
        "SK": {"S": "METADATA"},
        "GSI1PK": {"S": f"CITY#{city}"},
        "name": {"S": name},
        "rating": {"N": rating},
        "styles": {"SS": styles},
        "location": {"M": {"city": {"S": city}, "lat": {"N": "51.5072178"}, "lon": {"N": "-0.1275862"}}},
        "portfolio": {"L": [{"S": "https://example.com/1.jpg"}, {"S": "https://example.com/2.jpg"}]},
        "bookable": {"BOOL": True},
        "avatar": {"B": base64.b64decode("iVBORw0KGgo=")},
        "followers": {"N": "48213"},
    }


def json_default(value):
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(f"cannot encode {type(value)}")


def read_stream(streams, stream_arn):
    """Every record of the stream so far, with its shard id, in order."""
    records = []
    for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            for record in page["Records"]:
                records.append((shard["ShardId"], record))
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return records


def failed_batch_body(request_id, stream_arn, shard_id, start, end, first_arrival, last_arrival, size, timestamp=None):
    """What the sync Lambda's on-failure destination sends for a batch (format A)."""
    return {
        "requestContext": {"requestId": request_id, "functionArn": FUNCTION_ARN,
                           "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 3},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": (timestamp or datetime.datetime.now(datetime.timezone.utc)).isoformat(),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": start,
            "endSequenceNumber": end,
            "approximateArrivalOfFirstRecord": first_arrival.isoformat(),
            "approximateArrivalOfLastRecord": last_arrival.isoformat(),
            "batchSize": size,
            "streamArn": stream_arn,
        },
    }


def post_batches(sqs, queue_url, stream_arn, records, per_message, request_prefix):
    """Posts format-A pointers naming `records`, `per_message` records each; returns how many."""
    sent = 0
    for start in range(0, len(records), per_message):
        batch = records[start:start + per_message]
        first, last = batch[0][1]["dynamodb"], batch[-1][1]["dynamodb"]
        body = failed_batch_body(
            f"{request_prefix}{start // per_message + 1}", stream_arn, batch[0][0], first["SequenceNumber"],
            last["SequenceNumber"], first["ApproximateCreationDateTime"], last["ApproximateCreationDateTime"], len(batch))
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(body))
        sent += 1
    return sent


def seed(ddb, streams, sqs, keep):
    """The table, the DLQ, artist changes and the messages the Lambda would send for them."""
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}, {"AttributeName": "SK", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    stream_arn = ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    queue_url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]

    cities = ["London", "Leeds", "Bristol", "Glasgow"]
    for number in range(1, 13):
        ddb.put_item(TableName=TABLE, Item=artist(number, f"Artist {number}", f"4.{number % 10}", ["blackwork", "fineline"], cities[number % 4]))
    ddb.put_item(TableName=TABLE, Item={"PK": {"S": "ARTIST#1"}, "SK": {"S": "PORTFOLIO#1"}, "url": {"S": "https://example.com/p.jpg"}})
    ddb.put_item(TableName=TABLE, Item={"PK": {"S": "STUDIO#9"}, "SK": {"S": "METADATA"}, "name": {"S": "Ink Works"}})
    ddb.put_item(TableName=TABLE, Item=artist(3, "Artist 3", "4.9", ["traditional"], "Leeds"))
    ddb.put_item(TableName=TABLE, Item=artist(5, "Artist Five", "4.5", ["realism"], "Bristol"))
    ddb.put_item(TableName=TABLE, Item=artist(5, "Artist Five (Studio B)", "4.6", ["realism", "dotwork"], "Bristol"))
    ddb.delete_item(TableName=TABLE, Key={"PK": {"S": "ARTIST#7"}, "SK": {"S": "METADATA"}})
    if keep:
        # Two new artists whose app wrote "new" as their rating: the index maps rating as a float.
        for number, city in [(13, "Leeds"), (14, "Glasgow")]:
            item = artist(number, f"Artist {number}", "4.0", ["illustrative"], city)
            item["rating"] = {"S": "new"}
            ddb.put_item(TableName=TABLE, Item=item)

    records = read_stream(streams, stream_arn)
    sent = post_batches(sqs, queue_url, stream_arn, records, 10, "demo-request-")

    # Format B: the handler forwarding the records it failed on (these repeat
    # records of the A batches, so ingest must recognise them by event id).
    forwarded = [dict(record, eventSourceARN=stream_arn) for _, record in records[:2]]
    sqs.send_message(
        QueueUrl=queue_url,
        MessageBody=json.dumps({"Records": forwarded, "errorMessage": "connect ECONNREFUSED 10.0.0.7:443",
                                "errorType": "ConnectionError", "correlationId": "demo-forward-1"}, default=json_default),
    )
    sqs.send_message(
        QueueUrl=queue_url,
        MessageBody=json.dumps(dict(records[-1][1], eventSourceARN=stream_arn), default=json_default),
        MessageAttributes={"correlationId": {"DataType": "String", "StringValue": "demo-forward-2"}},
    )
    # Format C: bodies nobody can read, kept byte for byte as quarantined.
    for body in ["this is not json", '{"hello": "world"}', '{"Records": [{"eventName": "UPSERT", "dynamodb": {}}]}']:
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)
    sent += 5

    print(json.dumps({"queueUrl": queue_url, "streamArn": stream_arn, "records": len(records), "messages": sent}))


PRICE_RANGES = ["£80-£150", "from £60", "£120/hour", "POA", "£90–£200", "£100 minimum", "ask in studio", "£70-£110", "£150+"]


def trouble(ddb, streams, sqs):
    """The kept demo's second step: a mapping conflict over many documents and an expired batch."""
    stream_arn = ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    queue_url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    # The app's fix for the two "new" ratings, which the sync Lambda applied without failing: no
    # DLQ message names it, so search lacks these documents (their parked changes hold the old
    # rating) until a resync or a reconcile writes the table's current item.
    for number in (13, 14):
        ddb.update_item(TableName=TABLE, Key={"PK": {"S": f"ARTIST#{number}"}, "SK": {"S": "METADATA"}},
                        UpdateExpression="SET rating = :r", ExpressionAttributeValues={":r": {"N": "4.0"}})
    before = len(read_stream(streams, stream_arn))
    cities = ["Manchester", "Cardiff", "Belfast"]
    artists = range(15, 33)
    for number in artists:
        item = artist(number, f"Artist {number}", f"4.{number % 10}", ["neo-traditional"], cities[number % 3])
        item["priceRange"] = {"S": PRICE_RANGES[number % len(PRICE_RANGES)]}
        ddb.put_item(TableName=TABLE, Item=item)
    records = read_stream(streams, stream_arn)[before:]
    sent = post_batches(sqs, queue_url, stream_arn, records, 6, "demo-pricing-")

    # A pointer that reached the DLQ long after its batch failed: the stream has trimmed its shard away.
    arrived = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=26)
    late = failed_batch_body(
        "demo-late-1", stream_arn, "shardId-00000001764900000000-5e1f3a2b", "400000000000000000001",
        "400000000000000000004", arrived - datetime.timedelta(seconds=2), arrived, 4, timestamp=arrived)
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(late))
    sent += 1
    print(json.dumps({"queueUrl": queue_url, "streamArn": stream_arn, "artists": len(artists), "records": len(records),
                      "messages": sent}))


def main():
    ddb, streams, sqs = client("dynamodb"), client("dynamodbstreams"), client("sqs")
    if sys.argv[1:] == ["--trouble"]:
        trouble(ddb, streams, sqs)
    else:
        seed(ddb, streams, sqs, keep=sys.argv[1:] == ["--keep"])


if __name__ == "__main__":
    main()
