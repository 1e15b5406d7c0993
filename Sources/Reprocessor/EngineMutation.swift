#if DEBUG
    /// Deliberate defects of the write engine, for proving that the deterministic simulation
    /// (`Tests/SimulationTests`) catches each broken invariant. Gathered here, beside
    /// ``TestPause``, and compiled only in debug builds: a release build has none of them, and
    /// a debug build runs with none active unless a simulation test sets one.
    public enum EngineMutation: String, Sendable, CaseIterable {
        /// The replay planner ignores the newest applied sequence and search's sequence: an older
        /// change is written over a newer one (breaks "search never goes back in time").
        case ignoreFloors = "ignore-floors"
        /// Coalescing writes the oldest due change of a document and supersedes the newer ones
        /// (breaks "after a clean pass a document equals the table's item").
        case coalesceOldest = "coalesce-oldest"
        /// A 409 is taken as another writer's change without reading search for this write's
        /// stamp (breaks "every write to search has exactly one recorded action").
        case skipLandedCheck = "skip-landed-check"
        /// A change search already reflects is written again (breaks "no change applied twice").
        case ignoreIdempotence = "ignore-idempotence"
        /// With two or more due changes, the newest is superseded too, by nothing (breaks
        /// "nothing lost").
        case supersedeNewest = "supersede-newest"
        /// A filter without statuses reaches changes an operator closed (skipped, rolled back) or
        /// the engine settled (breaks "a closed decision is never reopened by a filter").
        case filterReachesClosed = "filter-reaches-closed"
        /// Defect the simulation found (seeds 56, 107): a round does not record the open intents
        /// whose writes search shows before it overwrites them.
        case skipShownWrites = "skip-shown-writes"
        /// Defect the simulation found (seed 174): rounds 2 and 3 decide on the changes as first
        /// read, even when another process moved them since.
        case decideOnStaleChanges = "decide-on-stale-changes"
        /// Past defect: a re-read of search after a 409 that fails is taken as a conflict and
        /// decided again, instead of an outage leaving the intent open.
        case rereadFailureAsConflict = "reread-failure-as-conflict"
        /// Past defect: every task of a process (a replay round, an operator request) claims
        /// documents as the process itself, so one task takes over the claims another holds.
        case stealOwnClaims = "steal-own-claims"
        /// The engine before migration 0019: on a SQLite store no task claims documents, so an
        /// operator's command can land between a replay round's decision and its write (seed 6270).
        case unclaimedOnSQLite = "unclaimed-on-sqlite"

        /// The mutations in effect for the current task and the tasks it starts (none: the engine
        /// as written). Task-local, so that a simulation test's mutation never reaches another
        /// test running in the same process. Several at once bring back a defect found before a
        /// later fix hid it (seed 174's needs claims undone too).
        @TaskLocal public static var current: Set<EngineMutation> = []

        /// Whether `mutation` is in effect.
        static func on(_ mutation: EngineMutation) -> Bool {
            current.contains(mutation)
        }
    }
#endif
