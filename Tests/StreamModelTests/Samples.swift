/// DLQ bodies and stream records used across the suites.
enum Samples {
    /// Format A exactly as docs/design.md shows it.
    static let failedBatchBody = #"""
        {
          "requestContext": {"requestId": "c9b8f5a2-1111-2222-3333-444455556666", "functionArn": "arn:aws:lambda:eu-west-2:123456789012:function:dynamodb-sync-handler",
                             "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 3},
          "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
          "version": "1.0",
          "timestamp": "2026-11-24T10:00:05.000Z",
          "DDBStreamBatchInfo": {
            "shardId": "shardId-00000001573689847184-864758bb",
            "startSequenceNumber": "800000000003126276362",
            "endSequenceNumber": "800000000003126276371",
            "approximateArrivalOfFirstRecord": "2026-11-24T10:00:00Z",
            "approximateArrivalOfLastRecord": "2026-11-24T10:00:01Z",
            "batchSize": 10,
            "streamArn": "arn:aws:dynamodb:eu-west-2:123456789012:table/tattoo-directory-local/stream/2026-11-24T09:00:00.000"
          }
        }
        """#

    /// A MODIFY record with both images and every attribute type.
    static let modifyRecord = #"""
        {
          "eventID": "4b7ab2b3d0c4f1e2a3b4c5d6e7f80912",
          "eventName": "MODIFY",
          "eventVersion": "1.1",
          "eventSource": "aws:dynamodb",
          "awsRegion": "eu-west-2",
          "eventSourceARN": "arn:aws:dynamodb:eu-west-2:123456789012:table/tattoo-directory-local/stream/2026-11-24T09:00:00.000",
          "dynamodb": {
            "ApproximateCreationDateTime": 1795514400,
            "Keys": {"PK": {"S": "ARTIST#42"}, "SK": {"S": "METADATA"}},
            "NewImage": {
              "PK": {"S": "ARTIST#42"}, "SK": {"S": "METADATA"}, "GSI1PK": {"S": "STYLE#blackwork"},
              "name": {"S": "Ink & Iron"}, "rating": {"N": "4.75"}, "followers": {"N": "12345678901234567890.123"},
              "styles": {"SS": ["realism", "blackwork"]}, "prices": {"NS": ["150", "80.5"]},
              "avatar": {"B": "iVBORw0KGgo="}, "thumbs": {"BS": ["AQ==", "AA=="]},
              "address": {"M": {"city": {"S": "Leeds"}, "geo": {"L": [{"N": "53.8"}, {"N": "-1.55"}]}}},
              "retired": {"NULL": true}, "verified": {"BOOL": true}
            },
            "OldImage": {
              "PK": {"S": "ARTIST#42"}, "SK": {"S": "METADATA"}, "name": {"S": "Ink and Iron"}, "rating": {"N": "4.75"}
            },
            "SequenceNumber": "800000000003126276365",
            "SizeBytes": 412,
            "StreamViewType": "NEW_AND_OLD_IMAGES"
          }
        }
        """#

    /// A TTL deletion: REMOVE with the DynamoDB service identity.
    static let ttlRemoveRecord = #"""
        {"eventID": "e1", "eventName": "REMOVE", "eventSource": "aws:dynamodb", "awsRegion": "eu-west-2",
         "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"},
         "dynamodb": {"ApproximateCreationDateTime": 1795514400.5, "Keys": {"PK": {"S": "ARTIST#7"}, "SK": {"S": "METADATA"}},
                      "OldImage": {"PK": {"S": "ARTIST#7"}, "SK": {"S": "METADATA"}, "ttl": {"N": "1795514000"}},
                      "SequenceNumber": "0800000000003126276366", "SizeBytes": 90, "StreamViewType": "NEW_AND_OLD_IMAGES"}}
        """#

    /// Format B: `{"Records": [...]}` with producer metadata.
    static var forwardedBody: String {
        #"{"Records": [\#(modifyRecord), \#(ttlRemoveRecord)], "errorMessage": "OpenSearch 503", "errorType": "ServiceUnavailable", "correlationId": "corr-1"}"#
    }
}
