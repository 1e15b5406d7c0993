/// Which failed batches an operator gives up on or reopens, who and why.
public struct BatchRequest: Sendable, Hashable {
    /// The batches, by id.
    public var ids: [Int64]
    /// Who asks; recorded on every action.
    public var actor: String
    /// Why; required.
    public var reason: String

    /// Makes a request.
    public init(ids: [Int64], actor: String, reason: String) {
        self.ids = ids
        self.actor = actor
        self.reason = reason
    }

    /// Checks every rule of the request for every front end: at least one batch, ids within
    /// ``OperatorInput/idRange``, and a reason.
    /// - Throws: ``RequestError`` naming the field.
    public func validate() throws(RequestError) {
        if ids.isEmpty { throw RequestError(.ids, "are required: name the batches (see `batches --status expired`)") }
        do {
            for id in ids { _ = try OperatorInput.id(id, field: "ids") }
        } catch {
            throw RequestError(.ids, error)
        }
        try RequestError.checkReason(reason, required: "to skip or reopen a batch: it is recorded with every batch")
    }
}
