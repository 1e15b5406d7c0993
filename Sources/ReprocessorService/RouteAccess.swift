import Foundation
import Hummingbird

/// The access check of every route, run after routing: it finds the route the router resolved
/// (``RouteTable/route(_:endpoint:)``, by the pattern Hummingbird reports as the endpoint path) and
/// lets the request on only when the caller holds the route's role, however the path was spelt.
///
/// - `/v1` routes need `Authorization: Bearer <token>`: 403 when no token is configured, 401 without
///   a known token, 403 when a `read` token calls an `operate` route. Expensive routes then take one
///   of ``ExpensiveRequests``' places (429 with `Retry-After: 1` when none is free).
/// - `/ui` routes that are not open need a live console session: without one a page is sent to the
///   login page (303) and a form is refused (403); a `read` session is refused an `operate` route (403).
/// - A path the table knows with another method is 405 with `Allow`, for everyone; a route the
///   table does not know is 404, for everyone.
struct RouteAccess: RouterMiddleware {
    typealias Context = ServiceRequestContext
    let tokens: OperatorTokens
    /// Shared with the console, whose previews and background actions hold places too.
    let expensive: ExpensiveRequests
    /// The console, whose sessions `/ui` routes are checked against and whose pages show refusals.
    let console: OperatorConsole?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response
    {
        guard let route = RouteTable.route(request.method, endpoint: context.endpointPath) else {
            let methods = RouteTable.methods(path: request.uri.path, console: console != nil)
            guard !methods.isEmpty else { throw HTTPError(.notFound) }
            var refusal = ServiceError(
                .methodNotAllowed,
                "\(request.method) is not an operation of this path; it takes \(methods.joined(separator: ", "))")
            refusal.allow = methods
            throw refusal
        }
        switch route.surface {
        case .service:
            return try await next(request, context)
        case .api:
            if let refusal = refusal(route, authorization: request.headers[.authorization]) {
                return try refusal.response(from: request, context: context)
            }
            return try await holdingPlace(route, request, context, next)
        case .console:
            guard route.role != .open else { return try await next(request, context) }
            guard let console else { throw HTTPError(.notFound) }
            guard let session = console.session(of: request) else {
                if request.method == .get { return console.finish(OperatorConsole.redirect("/ui/login"), request) }
                return await console.refuse(
                    ServiceError(.forbidden, "you are not logged in (or your session ended): log in again"), request, context)
            }
            guard route.role.isGranted(to: session.role) else {
                return await console.refuse(
                    ServiceError(.forbidden, "\(session.name) has a read token: acting on changes needs the operate role"),
                    request, context)
            }
            var context = context
            context.session = session
            return try await next(request, context)
        }
    }

    /// Why a `/v1` request for `route` is refused, or nil when its bearer token holds the route's role.
    func refusal(_ route: Route, authorization: String?) -> ServiceError? {
        guard route.role != .open else { return nil }
        guard !tokens.isEmpty else {
            return ServiceError(
                .forbidden, "the /v1 API is off: no operator token is configured (set OPERATOR_TOKENS or --operator-tokens-file)")
        }
        guard let authorization else { return ServiceError(.unauthorized, "send Authorization: Bearer <token>") }
        guard let (name, role) = tokens.operatorPresenting(authorization: authorization) else {
            return ServiceError(.unauthorized, "the bearer token matches no operator")
        }
        guard route.role.isGranted(to: role) else {
            return ServiceError(
                .forbidden, "\"\(name)\" has a read token; \(route.method) \(route.path) needs a token with the operate role")
        }
        return nil
    }

    /// Runs an expensive route while holding one of the places, until its body has been written.
    func holdingPlace(
        _ route: Route, _ request: Request, _ context: Context, _ next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard route.expensive else { return try await next(request, context) }
        guard let permit = expensive.take() else {
            throw ServiceError(
                .tooManyRequests,
                "busy: \(ExpensiveRequests.limit) expensive requests are already running; try again after 1 s",
                retryAfter: 1)
        }
        var response = try await next(request, context)
        // The permit is held until the body (which may stream the work's results) has been
        // written or dropped: the closure owns it, and releasing the closure gives it back.
        let body = response.body
        response.body = ResponseBody(contentLength: body.contentLength) { writer in
            try await body.write(writer)
            withExtendedLifetime(permit) {}
        }
        return response
    }
}

extension OperatorTokens {
    /// The operator an `Authorization` header's bearer token belongs to, with their role; nil for
    /// another scheme, no token, or a token that matches no operator.
    func operatorPresenting(authorization: String) -> (name: String, role: Role)? {
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return operatorPresenting(parts[1].trimmingCharacters(in: .whitespaces))
    }
}
