/// The AWS services this module talks to. The raw value is the endpoint prefix.
public enum AWSService: String, Sendable, CaseIterable {
    /// Amazon SQS.
    case sqs
    /// Amazon DynamoDB.
    case dynamodb
    /// Amazon DynamoDB Streams.
    case dynamodbStreams = "streams.dynamodb"
    /// AWS Secrets Manager.
    case secretsManager = "secretsmanager"
    /// AWS IAM (global; used by tests to mint keys on moto).
    case iam
    /// AWS STS (web identity credentials).
    case sts

    /// The name used in SigV4 credential scopes (`dynamodb` for DynamoDB Streams too).
    public var signingName: String {
        switch self {
        case .dynamodbStreams: "dynamodb"
        default: rawValue
        }
    }

    /// The variable that overrides this service's endpoint, such as `AWS_ENDPOINT_URL_SQS`.
    public var endpointVariable: String {
        switch self {
        case .sqs: "AWS_ENDPOINT_URL_SQS"
        case .dynamodb: "AWS_ENDPOINT_URL_DYNAMODB"
        case .dynamodbStreams: "AWS_ENDPOINT_URL_DYNAMODB_STREAMS"
        case .secretsManager: "AWS_ENDPOINT_URL_SECRETS_MANAGER"
        case .iam: "AWS_ENDPOINT_URL_IAM"
        case .sts: "AWS_ENDPOINT_URL_STS"
        }
    }

    /// The name in error messages and logs, such as `DynamoDBStreams`.
    public var displayName: String {
        switch self {
        case .sqs: "SQS"
        case .dynamodb: "DynamoDB"
        case .dynamodbStreams: "DynamoDBStreams"
        case .secretsManager: "SecretsManager"
        case .iam: "IAM"
        case .sts: "STS"
        }
    }
}
