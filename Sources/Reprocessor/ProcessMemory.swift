#if canImport(Glibc)
    import Glibc
#endif

/// Process-wide memory settings, applied once at the start of `main`, before any thread runs.
public enum ProcessMemory {
    /// Caps glibc's malloc arenas at 2, unless `MALLOC_ARENA_MAX` is set (the operator's choice wins).
    ///
    /// glibc gives each thread that meets a locked arena a new one, up to eight per core, and
    /// memory freed in one arena serves only that arena. This process's threads (NIO's event
    /// loops, the concurrency pool, the audit log's own thread) each touch every round's buffers,
    /// so with one arena each the same rounds hold more memory: about 6 MiB more peak RSS in the
    /// realistic replay benchmark, for no measurable speed. Two arenas keep the contention low.
    public static func capMallocArenas() {
        #if canImport(Glibc)
            guard getenv("MALLOC_ARENA_MAX") == nil else { return }
            // mallopt is not in Swift's Glibc module (malloc.h); look it up. RTLD_DEFAULT is NULL in glibc.
            guard let symbol = dlsym(nil, "mallopt") else { return }
            typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
            let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
            let arenaMax: Int32 = -8  // M_ARENA_MAX in malloc.h
            _ = mallopt(arenaMax, 2)
        #endif
    }
}
