import AuditLog

extension OperatorActions.Command {
    /// The statuses a change may be in for the command to act on it: the one rule every front
    /// end asks (which buttons a console shows) and the actions themselves apply.
    public var eligibleStatuses: Set<ChangeStatus> {
        switch self {
        case .retry: [.pending, .failed, .parked, .rolledBack, .skipped, .superseded]
        case .skip: [.pending, .failed, .parked, .expired]
        case .rollback: WritePlanner.rollbackStatuses
        case .resync: WritePlanner.resyncStatuses
        }
    }

    /// Whether the command acts on a change in `status`.
    /// - Parameter status: The change's status.
    /// - Returns: `true` when the command is allowed for it.
    public func applies(to status: ChangeStatus) -> Bool {
        eligibleStatuses.contains(status)
    }
}

extension OperatorActions.Command {
    /// The statuses a filter without statuses reaches: an operator's closing decision (skipped,
    /// rolled back) and what replay settled (applied, superseded) are reached only by naming the
    /// change's id or asking for its status explicitly, so a broad filter never undoes them.
    public var filterStatuses: Set<ChangeStatus> {
        #if DEBUG
            if EngineMutation.on(.filterReachesClosed) { return eligibleStatuses.union([.skipped, .rolledBack, .applied]) }
        #endif
        switch self {
        case .retry, .resync: return [.pending, .failed, .parked]
        case .skip, .rollback: return eligibleStatuses
        }
    }
}

/// The changes a filtered operator request matched but left out: their status is not one the
/// command reaches by a filter without statuses (``OperatorActions/Command/filterStatuses``).
public struct LeftOutChanges: Sendable, Hashable {
    /// How many were left out, per status.
    public var byStatus: [ChangeStatus: Int]

    /// Makes a count.
    public init(byStatus: [ChangeStatus: Int] = [:]) {
        self.byStatus = byStatus.filter { $0.value > 0 }
    }

    /// How many were left out in all.
    public var count: Int { byStatus.values.reduce(0, +) }

    /// One line for an operator, nil when nothing was left out: how many, in which statuses,
    /// and how to reach them.
    /// - Parameter command: The command that left them out.
    public func summary(for command: OperatorActions.Command) -> String? {
        guard count > 0 else { return nil }
        let statuses = byStatus.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.value) \($0.key.rawValue)" }
        let reached = command.filterStatuses.map(\.rawValue).sorted().joined(separator: ", ")
        return
            "left out \(count) change\(count == 1 ? "" : "s") the filter matched (\(statuses.joined(separator: ", "))): "
            + "a filter without a status reaches only \(reached) changes; name their ids or pass the status to act on them"
    }
}
