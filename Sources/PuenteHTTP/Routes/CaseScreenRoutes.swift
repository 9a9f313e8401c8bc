import Hummingbird
import PuenteAccess
import PuenteCore

/// The reintegration work screens (HTML): GET renders, POST acts and goes back to the page it came
/// from (post/redirect/get), or shows the page again with the refusal and the status it deserves.
enum CaseScreenRoutes {
    typealias Screen = ScreenPage.Screen

    static func add(to router: Router<PuenteContext>, screens: CaseScreens) {
        router.get("/cases") { request, context -> Response in
            let page = try page(request, context)
            return try await render(page, title: page.t(Screen.cases.title), current: .cases, request: request) {
                try await screens.caseList(
                    page, actor: CaseRoutes.actor(context),
                    scope: try request.uri.queryParameters.choice("scope", CaseScreens.Scope.self))
            }
        }
        router.get("/reception") { request, context -> Response in
            let page = try page(request, context)
            return try await render(page, title: page.t(Screen.reception.title), current: .reception, request: request)
            {
                screens.receptionForm(page, actor: CaseRoutes.actor(context))
            }
        }
        router.post("/reception") { request, context -> Response in
            var request = request
            let form = try await FormBody(collecting: &request, upTo: context.maxUploadSize)
            let page = try page(form, context)
            let actor = CaseRoutes.actor(context)
            do {
                let opened = try await screens.register(form, actor: actor)
                return redirect(page.link("/cases/\(opened.id)", [("done", CaseScreens.Done.opened.rawValue)]))
            } catch let error as PuenteError where shownOnPage(error) {
                // The form again with what was typed (it is the case worker's own screen), and why.
                return try await render(
                    page, title: page.t(Screen.reception.title), current: .reception, path: "/reception",
                    status: error.httpStatus, notice: .init(text: error.message, isError: true)
                ) { screens.receptionForm(page, actor: actor, values: form) }
            }
        }
        router.get("/followups") { request, context -> Response in
            let page = try page(request, context)
            return try await render(page, title: page.t(Screen.followUps.title), current: .followUps, request: request)
            {
                try await screens.followUpList(page, actor: CaseRoutes.actor(context))
            }
        }
        router.get("/cases/{id}") { request, context -> Response in
            let page = try page(request, context)
            return try await render(page, current: .cases, request: request) {
                try await screens.casePage(try CaseRoutes.id(context), page, actor: CaseRoutes.actor(context))
            }
        }
        router.post("/cases/{id}") { request, context -> Response in
            try await act(request, context, screen: "/cases", current: .cases, action: screens.act) {
                try await screens.casePage($0, $1, actor: $2)
            }
        }
        router.get("/partner") { request, context -> Response in
            let page = try page(request, context)
            return try await render(page, title: page.t(Screen.partner.title), current: .partner, request: request) {
                try await screens.inbox(page, actor: CaseRoutes.actor(context))
            }
        }
        router.get("/partner/{id}") { request, context -> Response in
            let page = try page(request, context)
            return try await render(page, current: .partner, request: request) {
                try await screens.referralPage(try CaseRoutes.id(context), page, actor: CaseRoutes.actor(context))
            }
        }
        router.post("/partner/{id}") { request, context -> Response in
            try await act(request, context, screen: "/partner", current: .partner, action: screens.partnerAct) {
                try await screens.referralPage($0, $1, actor: $2)
            }
        }
        // A referral from another node: the same page, the status going back to that node.
        router.get("/partner/incoming/{id}") { request, context -> Response in
            let page = try page(request, context)
            return try await render(page, current: .partner, request: request) {
                try await screens.incomingPage(try CaseRoutes.id(context), page, actor: CaseRoutes.actor(context))
            }
        }
        router.post("/partner/incoming/{id}") { request, context -> Response in
            try await act(
                request, context, screen: "/partner/incoming", current: .partner, action: screens.incomingAct
            ) {
                try await screens.incomingPage($0, $1, actor: $2)
            }
        }
    }

    /// A form posted on the screen of one case or referral (`screen/id`): done, back to it with a notice
    /// (post, redirect, get); refused, the screen again with why, under the status it deserves.
    static func act(
        _ request: Request, _ context: PuenteContext, screen: String, current: Screen,
        action: (Int64, FormBody, Actor) async throws -> CaseScreens.Done,
        content: (Int64, ScreenPage, Actor) async throws -> (String, String)
    ) async throws -> Response {
        var request = request
        let form = try await FormBody(collecting: &request, upTo: context.maxUploadSize)
        let page = try page(form, context)
        let id = try CaseRoutes.id(context)
        let actor = CaseRoutes.actor(context)
        do {
            let done = try await action(id, form, actor)
            return redirect(page.link("\(screen)/\(id)", [("done", done.rawValue)]))
        } catch let error as PuenteError where shownOnPage(error) {
            return try await render(
                page, current: current, path: "\(screen)/\(id)", status: error.httpStatus,
                notice: .init(text: error.message, isError: true)
            ) { try await content(id, page, actor) }
        }
    }

    // MARK: Rendering

    static func page(_ request: Request, _ context: PuenteContext) throws -> ScreenPage {
        ScreenPage(language: try request.uri.queryParameters.language(), identity: context.identity)
    }

    static func page(_ form: FormBody, _ context: PuenteContext) throws -> ScreenPage {
        ScreenPage(language: try Language(form: form["lang"]), identity: context.identity)
    }

    /// Refusals a person can act on are shown on the page; a failing store goes to the error middleware
    /// (logged with a reference).
    static func shownOnPage(_ error: PuenteError) -> Bool {
        ![.internalServerError, .serviceUnavailable].contains(error.httpStatus)
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    /// A screen with a fixed title.
    static func render(
        _ page: ScreenPage, title: String, current: Screen, request: Request, body: () async throws -> String
    ) async throws -> Response {
        try await render(page, current: current, path: path(of: request), notice: notice(request, page)) {
            (title, try await body())
        }
    }

    static func render(
        _ page: ScreenPage, title: String, current: Screen, path: String, status: HTTPResponse.Status,
        notice: ScreenPage.Notice, body: () async throws -> String
    ) async throws -> Response {
        try await render(page, current: current, path: path, status: status, notice: notice) {
            (title, try await body())
        }
    }

    /// A screen whose title comes with its content (a case, a referral).
    static func render(
        _ page: ScreenPage, current: Screen, request: Request, content: () async throws -> (String, String)
    ) async throws -> Response {
        try await render(
            page, current: current, path: path(of: request), notice: notice(request, page), content: content)
    }

    static func render(
        _ page: ScreenPage, current: Screen, path: String, status: HTTPResponse.Status = .ok,
        notice: ScreenPage.Notice?, content: () async throws -> (String, String)
    ) async throws -> Response {
        do {
            let (title, body) = try await content()
            return Responses.text(
                page.render(title: title, current: current, path: path, notice: notice, body: body),
                type: "text/html; charset=utf-8", status: status)
        } catch let error as PuenteError where shownOnPage(error) {
            // Not found, not this account's, a bad address: said on a page, in the page's frame.
            let html = page.render(
                title: page.t("No se pudo mostrar", "Cannot be shown"), current: current, path: path,
                notice: .init(text: error.message, isError: true), body: "")
            return Responses.text(html, type: "text/html; charset=utf-8", status: error.httpStatus)
        }
    }

    /// The page's own address without `done` (a language switch must not repeat the notice).
    static func path(of request: Request) -> String {
        let kept = request.uri.queryParameters.filter { $0.key != "done" && $0.key != "lang" }
            .map { "\($0.key)=\(URLText.encode(String($0.value)))" }
        return request.uri.path + (kept.isEmpty ? "" : "?" + kept.joined(separator: "&"))
    }

    static func notice(_ request: Request, _ page: ScreenPage) -> ScreenPage.Notice? {
        request.uri.queryParameters.get("done").flatMap(CaseScreens.Done.init(rawValue:)).map {
            .init(text: page.t($0.message), isError: false)
        }
    }
}
