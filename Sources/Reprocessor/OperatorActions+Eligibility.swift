import AuditLog

extension OperatorActions.Command {
    /// The statuses a change may be in for the command to act on it: the one rule every front
    /// end asks (which buttons a console shows) and the actions themselves apply.
    public var eligibleStatuses: Set<ChangeStatus> {
        switch self {
        case .retry: [.pending, .failed, .parked, .rolledBack, .skipped, .superseded]
        case .skip: [.pending, .failed, .parked, .expired]
        case .rollback: [.applied]
        case .resync: [.pending, .failed, .parked, .applied, .rolledBack]
        }
    }

    /// Whether the command acts on a change in `status`.
    /// - Parameter status: The change's status.
    /// - Returns: `true` when the command is allowed for it.
    public func applies(to status: ChangeStatus) -> Bool {
        eligibleStatuses.contains(status)
    }
}
