import AuditLog
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Mustache
import NIOCore
import Reprocessor
import StreamModel

/// The operator console at `/ui`: server-rendered pages over the same query façade
/// (``AuditQueries``) and operator actions (``OperatorActions``) as `/v1` and the command line.
///
/// It holds no rule of its own: it parses what the browser sent, asks `Reprocessor`, and renders
/// the answer. Login takes an operator token and gives a session cookie; every form carries the
/// session's CSRF token; a `read` session sees no action and its POSTs are refused.
struct OperatorConsole: Sendable {
    let auditLog: AuditLog
    /// What every action, and the live document of a change, goes through.
    let operations: Operations
    /// Reports the DLQ's depth; nil when the process has no queue.
    let ingestor: DLQIngestor?
    let tokens: OperatorTokens
    let logger: Logger
    let sessions = ConsoleSessions()
    let loginThrottle = LoginThrottle()
    /// The places for expensive work, shared with `/v1`: a preview holds one while it runs, a
    /// background action until it finishes.
    let expensive: ExpensiveRequests
    let jobs: ConsoleJobs
    /// The queue depths the overview read, for its chart (in memory only).
    let depthHistory = QueueDepthHistory()
    let library: MustacheLibrary

    /// Compiles the templates.
    /// - Throws: A template error: a programming error caught by every test that renders a page.
    init(
        auditLog: AuditLog, operations: Operations, ingestor: DLQIngestor?, tokens: OperatorTokens,
        expensive: ExpensiveRequests, logger: Logger
    ) throws {
        self.auditLog = auditLog
        self.operations = operations
        self.ingestor = ingestor
        self.tokens = tokens
        self.logger = logger
        self.expensive = expensive
        jobs = ConsoleJobs(operations: operations, expensive: expensive, logger: logger)
        var library = MustacheLibrary()
        for (name, source) in ConsoleTemplates.all { try library.register(source, named: name) }
        self.library = library
    }

    /// The query façade every page reads through.
    var queries: AuditQueries { AuditQueries(auditLog: auditLog) }

    /// Adds the console's routes of ``RouteTable`` to `routes`. ``RouteAccess`` has checked the
    /// session and its role before a handler runs.
    func register(on routes: RouteRegistrar) {
        routes.add(RouteTable.consoleStyleSheet) { request, _ in
            finish(Self.asset(ConsoleAssets.styleSheet, type: "text/css; charset=utf-8"), request)
        }
        routes.add(RouteTable.consoleScript) { request, _ in
            finish(Self.asset(ConsoleAssets.script, type: "text/javascript; charset=utf-8"), request)
        }
        routes.add(RouteTable.loginPage) { request, context in
            await guarded(request, context) { loginPage(request, problem: nil) }
        }
        routes.add(RouteTable.login) { request, context in
            await guarded(request, context) { try await login(request, from: context.clientAddress) }
        }
        post(routes, RouteTable.logout) { request, _, _, _ in logout(request) }
        page(routes, RouteTable.overviewPage) { request, _, session in try await overview(request, session) }
        page(routes, RouteTable.errorsPage) { request, _, session in try await errorGroups(request, session) }
        page(routes, RouteTable.changesPage) { request, _, session in try await changes(request, session) }
        page(routes, RouteTable.changePage) { request, context, session in try await change(request, context, session) }
        page(routes, RouteTable.historyPage) { request, _, session in try await history(request, session) }
        page(routes, RouteTable.auditPage) { request, _, session in try await audit(request, session) }
        page(routes, RouteTable.auditExportPage) { request, _, _ in try await exportAudit(request) }
        page(routes, RouteTable.quarantinedPage) { request, _, session in try await quarantined(request, session) }
        page(routes, RouteTable.searchPage) { request, _, session in try await search(request, session) }
        page(routes, RouteTable.jobPage) { request, context, session in try job(request, context, session) }
        page(routes, RouteTable.jobProgress) { request, context, _ in try jobProgress(request, context) }
        post(routes, RouteTable.preview) { request, _, session, form in try await preview(request, session, form) }
        post(routes, RouteTable.run) { request, _, session, form in try run(request, session, form) }
        post(routes, RouteTable.quarantinePreview) { _, _, session, form in try await previewQuarantined(session, form) }
        post(routes, RouteTable.quarantineRun) { _, _, session, form in try await runQuarantined(session, form) }
    }

    // MARK: route plumbing

    typealias PageHandler = @Sendable (Request, ServiceRequestContext, ConsoleSession) async throws -> Response
    typealias FormHandler = @Sendable (Request, ServiceRequestContext, ConsoleSession, ConsoleForm) async throws -> Response

    /// A page for logged-in operators, with the session ``RouteAccess`` found.
    func page(_ routes: RouteRegistrar, _ route: Route, _ handler: @escaping PageHandler) {
        routes.add(route) { request, context in
            await guarded(request, context) { try await handler(request, context, try Self.loggedIn(context)) }
        }
    }

    /// A form POST of a logged-in operator: refused (403) unless it carries the session's CSRF token.
    func post(_ routes: RouteRegistrar, _ route: Route, _ handler: @escaping FormHandler) {
        routes.add(route) { request, context in
            await guarded(request, context) {
                let session = try Self.loggedIn(context)
                let form = try await ConsoleForm.read(request)
                guard let sent = form.string("csrf"), ConsoleSessions.tokensMatch(sent, session.csrfToken) else {
                    throw ServiceError(
                        .forbidden, "the form's CSRF token is missing or does not match: reload the page and try again")
                }
                return try await handler(request, context, session, form)
            }
        }
    }

    /// The session ``RouteAccess`` found for a route that needs one.
    static func loggedIn(_ context: ServiceRequestContext) throws(ServiceError) -> ConsoleSession {
        guard let session = context.session else {
            throw ServiceError(.forbidden, "you are not logged in (or your session ended): log in again")
        }
        return session
    }

    /// A refusal of ``RouteAccess``, as a page.
    func refuse(_ error: ServiceError, _ request: Request, _ context: ServiceRequestContext) async -> Response {
        await guarded(request, context) { throw error }
    }

    /// Runs `body`, rendering a refusal or failure as a page with its status, and adds the
    /// console's security headers to every answer. A failure of the service itself is a page
    /// naming the request's id, which the log line saying what failed carries too.
    func guarded(_ request: Request, _ context: ServiceRequestContext, _ body: () async throws -> Response) async -> Response {
        var response: Response
        do {
            response = try await body()
        } catch let error as ServiceError {
            response = problem(error.description, status: error.code.status, request: request)
            if let seconds = error.retryAfter { response.headers[.retryAfter] = String(seconds) }
        } catch let error as RequestError {
            response = problem(error.message(naming: ConsoleText.fieldLabel), status: .badRequest, request: request)
        } catch let error as ReprocessorError where error.code == .invalidRequest {
            response = problem(error.description, status: .badRequest, request: request)
        } catch let error as ReprocessorError where error.code == .notFound {
            response = problem(error.description, status: .notFound, request: request)
        } catch let error as AuditLogError where error.code == .invalidCursor {
            response = problem("\(error.description): start again from the first page", status: .badRequest, request: request)
        } catch {
            logger.error(
                "console request \(context.id) failed: \(request.method) \(request.uri.path): \(error)",
                metadata: ["requestID": "\(context.id)"])
            response = problem(
                "the console could not answer (internal error, request id \(context.id)): the log says what failed",
                status: .internalServerError, request: request)
            response.headers[JSONErrorMiddleware.requestIDHeader] = context.id
        }
        return finish(response, request)
    }

    /// The live session the request's cookie names.
    func session(of request: Request) -> ConsoleSession? {
        guard let id = request.cookies[ConsoleSessions.cookieName]?.value else { return nil }
        return sessions.session(id: id)
    }

    /// Adds the security headers every console answer carries.
    func finish(_ response: Response, _ request: Request) -> Response {
        var response = response
        response.headers[.contentSecurityPolicy] =
            "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[Self.referrerPolicy] = "no-referrer"
        response.headers[Self.frameOptions] = "DENY"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }

    // The names are valid header tokens, so the initialiser cannot fail.
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let frameOptions = HTTPField.Name("X-Frame-Options")!
    static let forwardedProto = HTTPField.Name("X-Forwarded-Proto")!

    /// Whether the browser reached the service over TLS through a proxy that says so
    /// (`X-Forwarded-Proto: https`), so cookies get `Secure`.
    static func isBehindTLS(_ request: Request) -> Bool {
        request.headers[forwardedProto]?.lowercased() == "https"
    }

    /// A `Set-Cookie` value with the console's flags.
    static func cookie(_ name: String, _ value: String, path: String, maxAge: Int, request: Request) -> String {
        "\(name)=\(value); Path=\(path); Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (isBehindTLS(request) ? "; Secure" : "")
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    static func asset(_ text: String, type: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: type, .cacheControl: "max-age=300"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    // MARK: rendering

    /// The console's sections, in the navigation's order.
    static let sections: [(path: String, label: String)] = [
        ("/ui", "Overview"), ("/ui/errors", "Failures"), ("/ui/changes", "Changes"), ("/ui/history", "Artist history"),
        ("/ui/audit", "Audit log"), ("/ui/quarantined", "Quarantined"),
    ]

    /// Renders `template` inside the layout.
    func render(
        _ template: String, _ values: [String: Any], title: String, session: ConsoleSession?, section: String? = nil,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        var context = values
        context["title"] = title
        if let session {
            context["csrf"] = session.csrfToken
            context["mayOperate"] = session.mayOperate
            context["session"] =
                [
                    "name": session.name, "role": session.role.rawValue, "csrf": session.csrfToken,
                    "nav": Self.sections.map { ["path": $0.path, "label": $0.label, "current": $0.path == section] },
                ] as [String: Any]
        }
        let html =
            library.render(ConsoleText.withoutAbsentValues(context) ?? [:], withTemplate: template)
            ?? "template \(template) is missing"
        return Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// A page saying what went wrong.
    func problem(_ message: String, status: HTTPResponse.Status, request: Request) -> Response {
        let back = request.headers[.referer].flatMap { URL(string: $0)?.path }.flatMap { $0.hasPrefix("/ui") ? $0 : nil }
        return render(
            "problem", ["problem": message, "backLink": back ?? "/ui"], title: "Could not do that",
            session: session(of: request), status: status)
    }

    // MARK: login and logout

    func loginPage(_ request: Request, problem: String?, status: HTTPResponse.Status = .ok) -> Response {
        if problem == nil, session(of: request) != nil { return Self.redirect("/ui") }
        let loginToken = ConsoleSessions.randomToken()
        var response = render(
            "login", ["loginCsrf": loginToken, "problem": problem as Any], title: "Log in", session: nil, status: status)
        response.headers.append(
            HTTPField(
                name: .setCookie,
                value: Self.cookie(ConsoleSessions.loginCookieName, loginToken, path: "/ui/login", maxAge: 900, request: request))
        )
        return response
    }

    /// `POST /ui/login`: an operator token for a session. An address that failed too often lately
    /// is refused (429 with `Retry-After`) before its token is looked at (``LoginThrottle``).
    func login(_ request: Request, from address: String) async throws -> Response {
        let form = try await ConsoleForm.read(request)
        guard let expected = request.cookies[ConsoleSessions.loginCookieName]?.value, let sent = form.string("csrf"),
            ConsoleSessions.tokensMatch(sent, expected)
        else {
            throw ServiceError(.forbidden, "the login form's CSRF token is missing or does not match: reload the login page")
        }
        guard !tokens.isEmpty else {
            return loginPage(
                request,
                problem: "the console is off: no operator token is configured (OPERATOR_TOKENS or --operator-tokens-file)",
                status: .forbidden)
        }
        // Admitting counts the attempt as failed at once, so concurrent attempts cannot all pass the check.
        if let seconds = loginThrottle.admit(address) {
            logger.warning("console login refused: too many failed logins from \(address)")
            var page = loginPage(
                request,
                problem: "too many failed logins from your address: try again in \(seconds) s",
                status: .tooManyRequests)
            page.headers[.retryAfter] = String(seconds)
            return page
        }
        guard let token = form.string("token"), let (name, role) = tokens.operatorPresenting(token) else {
            return loginPage(request, problem: "that token matches no operator", status: .unauthorized)
        }
        loginThrottle.recordSuccess(address)
        let (id, _) = sessions.open(name: name, role: role)
        logger.notice("console login by \(name) (\(role.rawValue))")
        var response = Self.redirect("/ui")
        response.headers.append(
            HTTPField(
                name: .setCookie,
                value: Self.cookie(
                    ConsoleSessions.cookieName, id, path: "/ui", maxAge: Int(ConsoleSessions.lifetime), request: request)))
        response.headers.append(
            HTTPField(
                name: .setCookie,
                value: Self.cookie(ConsoleSessions.loginCookieName, "", path: "/ui/login", maxAge: 0, request: request)))
        return response
    }

    /// `POST /ui/logout`: ends the session here, so its cookie opens nothing afterwards.
    func logout(_ request: Request) -> Response {
        if let id = request.cookies[ConsoleSessions.cookieName]?.value { sessions.close(id: id) }
        var response = Self.redirect("/ui/login")
        response.headers.append(
            HTTPField(
                name: .setCookie, value: Self.cookie(ConsoleSessions.cookieName, "", path: "/ui", maxAge: 0, request: request)))
        return response
    }
}
