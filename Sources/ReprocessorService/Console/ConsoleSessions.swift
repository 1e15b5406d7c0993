import Foundation
import Synchronization

/// One logged-in operator of the console.
struct ConsoleSession: Sendable {
    /// The operator's name, recorded as the actor of every action they take.
    var name: String
    /// What their token allows.
    var role: OperatorTokens.Role
    /// The token every form of this session carries and every POST must send back.
    var csrfToken: String
    /// When the session ends whatever happens.
    var expiresAt: Date

    /// Whether the session may act (retry, skip, roll back, resync).
    var mayOperate: Bool { role == .operate }
}

/// The console's sessions, kept in this process only: a restart logs everyone out, and logging
/// out ends the session here, so a copied cookie is worth nothing afterwards.
final class ConsoleSessions: Sendable {
    /// How long a session lasts after login.
    static let lifetime: TimeInterval = 8 * 3600
    /// The cookie that carries the session id.
    static let cookieName = "dlq_console_session"
    /// The cookie that carries the login form's CSRF token before a session exists.
    static let loginCookieName = "dlq_console_login"
    /// Most live sessions kept; beyond it, opening one ends the one that would expire first, so
    /// logins repeated without end cannot grow the process.
    static let keptSessions = 1000

    private let sessions = Mutex<[String: ConsoleSession]>([:])

    /// A new session for `name`; expired sessions are dropped on the way, and the one that would
    /// expire first when ``keptSessions`` are live.
    /// - Returns: The session id (the cookie's value) and the session.
    func open(name: String, role: OperatorTokens.Role, now: Date = Date()) -> (id: String, session: ConsoleSession) {
        let id = Self.randomToken()
        let session = ConsoleSession(
            name: name, role: role, csrfToken: Self.randomToken(), expiresAt: now.addingTimeInterval(Self.lifetime))
        sessions.withLock { sessions in
            sessions = sessions.filter { $0.value.expiresAt > now }
            if sessions.count >= Self.keptSessions, let first = sessions.min(by: { $0.value.expiresAt < $1.value.expiresAt }) {
                sessions[first.key] = nil
            }
            sessions[id] = session
        }
        return (id, session)
    }

    /// The live session with id `id`, nil when unknown, ended or expired.
    func session(id: String, now: Date = Date()) -> ConsoleSession? {
        sessions.withLock { sessions in
            guard let session = sessions[id] else { return nil }
            guard session.expiresAt > now else {
                sessions[id] = nil
                return nil
            }
            return session
        }
    }

    /// Ends the session `id`.
    func close(id: String) {
        sessions.withLock { _ = $0.removeValue(forKey: id) }
    }

    /// 32 random bytes from the system's secure generator, as hex.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// Compares two tokens in time that depends only on their lengths.
    static func tokensMatch(_ left: String, _ right: String) -> Bool {
        OperatorTokens.constantTimeEquals(Array(left.utf8), Array(right.utf8))
    }
}
