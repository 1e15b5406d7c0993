/// A replay pass told in words, for the command line and logs.
extension ReplaySummary {
    /// Changes the pass settled or left, whatever the outcome.
    public var changesHandled: Int { applied + superseded + failed + parked + deferred + conflict + unavailable }

    /// One line saying what the pass did: how many changes, in how many writes to search, and
    /// what became of them, each outcome said in words (outcomes that did not occur are left out):
    /// `14 changes, no write to search: 14 failed (tried again after a backoff)`.
    public var sentence: String {
        let handled = changesHandled
        guard handled > 0 || recovered > 0 else { return "nothing was due" }
        var parts: [String] = []
        func add(_ count: Int, _ words: String) {
            if count > 0 { parts.append("\(count) \(words)") }
        }
        add(applied, "applied")
        add(superseded, "superseded by newer state")
        add(failed, "failed (tried again after a backoff)")
        add(parked, "parked for an operator")
        add(deferred, "held back behind an earlier change of their document")
        add(conflict, "moved first by another process")
        add(unavailable, "left due: search or the table could not be reached")
        add(recovered, "interrupted \(recovered == 1 ? "write" : "writes") of an earlier pass recorded")
        let writeWords =
            switch writes {
            case 0: "no write to search"
            case 1: "1 write to search"
            default: "\(writes) writes to search"
            }
        return "\(handled) \(handled == 1 ? "change" : "changes"), \(writeWords): " + parts.joined(separator: ", ")
    }
}
