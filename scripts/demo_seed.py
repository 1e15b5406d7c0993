#!/usr/bin/env python3
"""Seeds local emulators for scripts/demo.sh.

Creates the table (with a NEW_AND_OLD_IMAGES stream) and the DLQ, writes
artist INSERT/MODIFY/REMOVE changes and a few non-artist rows, reads the
stream back, and posts to the DLQ what the sync Lambda's on-failure
destination would send for those batches (format A), plus forwarded
records (B) and malformed bodies (C). Prints one JSON line with the queue URL
and stream ARN.

Uses boto3, which moto[server] installs. Reads AWS_ENDPOINT_URL, AWS_REGION,
DYNAMODB_TABLE_NAME and DLQ_NAME from the environment.
"""
import base64
import datetime
import json
import os

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


def main():
    ddb, streams, sqs = client("dynamodb"), client("dynamodbstreams"), client("sqs")
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

    sent = 0
    for start in range(0, len(records), 10):
        batch = records[start:start + 10]
        first, last = batch[0][1], batch[-1][1]
        body = {
            "requestContext": {"requestId": f"demo-request-{start // 10 + 1}", "functionArn": FUNCTION_ARN,
                               "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 3},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": batch[0][0],
                "startSequenceNumber": first["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": last["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": first["dynamodb"]["ApproximateCreationDateTime"].isoformat(),
                "approximateArrivalOfLastRecord": last["dynamodb"]["ApproximateCreationDateTime"].isoformat(),
                "batchSize": len(batch),
                "streamArn": stream_arn,
            },
        }
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(body))
        sent += 1

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


if __name__ == "__main__":
    main()
