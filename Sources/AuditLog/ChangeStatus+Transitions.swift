extension ChangeStatus {
    /// The statuses a change in this status may move to (docs/design.md, "The audit model"):
    ///
    /// | from | to |
    /// | --- | --- |
    /// | pending | applied, failed, parked, superseded, skipped |
    /// | failed | applied, failed, parked, superseded, pending (operator retry), skipped |
    /// | parked | pending (retry), skipped, applied, superseded |
    /// | applied | rolled_back, applied (resync), pending (retry/resync request) |
    /// | rolled_back | pending (retry), applied |
    /// | expired | applied (resync), skipped, superseded |
    /// | skipped | pending (retry) |
    /// | superseded | pending (operator retry) |
    /// | filtered | nothing: terminal |
    public var allowedTransitions: Set<ChangeStatus> {
        switch self {
        case .pending: [.applied, .failed, .parked, .superseded, .skipped]
        case .failed: [.applied, .failed, .parked, .superseded, .pending, .skipped]
        case .parked: [.pending, .skipped, .applied, .superseded]
        case .applied: [.rolledBack, .applied, .pending]
        case .rolledBack: [.pending, .applied]
        case .expired: [.applied, .skipped, .superseded]
        case .skipped: [.pending]
        case .superseded: [.pending]
        case .filtered: []
        }
    }

    /// Whether the state machine allows moving from this status to `target`.
    public func canTransition(to target: ChangeStatus) -> Bool {
        allowedTransitions.contains(target)
    }
}
