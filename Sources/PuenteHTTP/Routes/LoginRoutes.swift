import Foundation
import Hummingbird
import PuenteAccess
import PuenteCore

/// The login form, logging in (a session in a `Secure`, `HttpOnly`, `SameSite=Strict` cookie) and out.
enum LoginRoutes {
    static func add(
        to router: Router<PuenteContext>, access: AccessService, limiter: RateLimiter,
        configuration: PuenteServer.Configuration
    ) {
        router.get("/login") { request, _ -> Response in
            let q = request.uri.queryParameters
            let language = try q.language()
            return page(language: language, next: safeNext(q.get("next")), message: nil, status: .ok)
        }

        router.post("/login") { request, context -> Response in
            // Guessing is slowed per address before the body is even read.
            guard
                await limiter.allow(
                    "login:\(context.address ?? "local")",
                    limit: .init(count: Double(configuration.loginAttempts), window: configuration.loginAttemptWindow))
            else {
                let language: Language = request.uri.queryParameters.get("lang") == "en" ? .en : .es
                var response = page(
                    language: language, next: "/",
                    message: Bilingual(
                        "Demasiados intentos desde esta dirección; espere un minuto.",
                        "Too many attempts from this address; wait a minute."),
                    status: .tooManyRequests)
                response.headers[.retryAfter] = "60"
                return response
            }
            var request = request
            let form = try await FormBody(collecting: &request, upTo: context.maxUploadSize)
            let language = try Language(form: form["lang"])
            let next = safeNext(form["next"])
            let outcome = try await access.login(
                username: form["username"] ?? "", password: form["password"] ?? "",
                address: context.address)
            switch outcome {
            case .success(let session, _, _):
                var response = Response(status: .seeOther, headers: [.location: next])
                response.setCookie(
                    Cookie(
                        name: AccessMiddleware.sessionCookie, value: session,
                        maxAge: Int(access.sessionLifetime), path: "/", secure: configuration.secureCookies,
                        httpOnly: true, sameSite: .strict))
                return response
            case .refused:
                return page(
                    language: language, next: next,
                    message: Bilingual("Usuario o contraseña incorrectos.", "Wrong username or password."),
                    status: .unauthorized)
            case .locked:
                return page(
                    language: language, next: next,
                    message: Bilingual(
                        "La cuenta está bloqueada por intentos fallidos; vuelva a intentarlo en 15 minutos.",
                        "The account is locked after failed attempts; try again in 15 minutes."),
                    status: .unauthorized)
            }
        }

        router.post("/logout") { _, context -> Response in
            if let identity = context.identity { try await access.logout(identity, address: context.address) }
            var response = Response(status: .seeOther, headers: [.location: "/"])
            response.setCookie(
                Cookie(
                    name: AccessMiddleware.sessionCookie, value: "", maxAge: 0, path: "/",
                    secure: configuration.secureCookies, httpOnly: true, sameSite: .strict))
            return response
        }
    }

    /// Where to go after logging in: a path of this site only (no `//host`, no scheme).
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\"), next.count < 500 else {
            return "/"
        }
        return next
    }

    static func page(language: Language, next: String, message: Bilingual?, status: HTTPResponse.Status) -> Response {
        var state = DashboardState()
        state.language = language
        let other = language == .es ? "en" : "es"
        let html = """
            <!doctype html><html lang="\(language.rawValue)"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Puente — \(state.t("Entrar", "Log in"))</title>
            <link rel="icon" href="data:,"><link rel="stylesheet" href="/assets/dashboard.css"></head><body>
            <header><strong>Puente</strong><nav><a href="/">\(state.t("Resumen", "Overview"))</a></nav>\
            <a id="lang" href="/login?lang=\(other)&amp;next=\(URLText.encode(next))">\(other == "en" ? "English" : "Español")</a></header>
            <main><h1>\(state.t("Entrar", "Log in"))</h1>
            \(message.map { "<p class=\"error\" role=\"alert\">\(HTML.escape(state.t($0)))</p>" } ?? "")
            <form id="login" method="post" action="/login">
            <input type="hidden" name="next" value="\(HTML.escape(next))"><input type="hidden" name="lang" value="\(language.rawValue)">
            <p><label>\(state.t("Usuario", "Username"))<br><input name="username" autocomplete="username" required></label></p>
            <p><label>\(state.t("Contraseña", "Password"))<br><input name="password" type="password" autocomplete="current-password" required></label></p>
            <p><button type="submit">\(state.t("Entrar", "Log in"))</button></p></form></main></body></html>

            """
        return Responses.text(html, type: "text/html; charset=utf-8", status: status)
    }
}
